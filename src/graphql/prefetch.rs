//! Loading a page's children before its items resolve.
//!
//! DataLoaders batch the keys asked for within a short window. A large page whose items
//! resolve slowly can spill past that window and split one batch into two, so list
//! resolvers prime the request's (caching) loader with every child the selection asks
//! for: a page then costs a fixed number of statements, whatever its size.

use async_graphql::{Context, Lookahead};
use entity::{course, creator};

use crate::error::AppError;
use crate::graphql::context::ContextExt;
use crate::graphql::loaders::{
    CreatorById, FollowersOfCreator, LessonsOfCourse, RatingSummaryOfCourse, UserById,
};

/// The fields whose children are primed, as the resolvers name them: (type, field).
/// A test checks each is a field of that type in the schema, so renaming a field
/// fails the build's tests instead of silently bringing N+1 back.
pub mod field {
    /// `Course.creator`.
    pub const COURSE_CREATOR: (&str, &str) = ("Course", "creator");
    /// `Course.lessons`.
    pub const COURSE_LESSONS: (&str, &str) = ("Course", "lessons");
    /// `Course.ratingSummary`.
    pub const COURSE_RATING_SUMMARY: (&str, &str) = ("Course", "ratingSummary");
    /// `Creator.user`.
    pub const CREATOR_USER: (&str, &str) = ("Creator", "user");
    /// `Creator.followerCount`.
    pub const CREATOR_FOLLOWER_COUNT: (&str, &str) = ("Creator", "followerCount");
    /// `XConnection.edges`, `Edge.node`, `XConnection.nodes`.
    pub const EDGES: &str = "edges";
    /// The item of an edge.
    pub const NODE: &str = "node";
    /// The items of a page without cursors.
    pub const NODES: &str = "nodes";
    /// Every primed field.
    pub const ALL: [(&str, &str); 5] = [
        COURSE_CREATOR,
        COURSE_LESSONS,
        COURSE_RATING_SUMMARY,
        CREATOR_USER,
        CREATOR_FOLLOWER_COUNT,
    ];
}

/// The selections of a connection's items (`edges.node` and `nodes`).
fn item_selections<'a>(ctx: &'a Context<'_>) -> Vec<Lookahead<'a>> {
    let look = ctx.look_ahead();
    vec![
        look.field(field::EDGES).field(field::NODE),
        look.field(field::NODES),
    ]
}

fn wants(selections: &[Lookahead<'_>], (_, name): (&str, &str)) -> bool {
    selections.iter().any(|s| s.field(name).exists())
}

fn children<'a>(selections: &[Lookahead<'a>], (_, name): (&str, &str)) -> Vec<Lookahead<'a>> {
    selections.iter().map(|s| s.field(name)).collect()
}

/// Primes the loader for the courses of a connection page.
pub async fn courses(ctx: &Context<'_>, courses: &[&course::Model]) -> async_graphql::Result<()> {
    if courses.is_empty() {
        return Ok(());
    }
    let selections = item_selections(ctx);
    let loader = ctx.loader()?;
    let course_ids = || courses.iter().map(|c| c.id);
    let creators = async {
        if wants(&selections, field::COURSE_CREATOR) {
            let found = loader
                .load_many(courses.iter().map(|c| CreatorById(c.creator_id)))
                .await?;
            let rows: Vec<&creator::Model> = found.values().collect();
            creator_children(ctx, &children(&selections, field::COURSE_CREATOR), &rows).await?;
        }
        Ok::<_, async_graphql::Error>(())
    };
    let lessons = async {
        if wants(&selections, field::COURSE_LESSONS) {
            loader.load_many(course_ids().map(LessonsOfCourse)).await?;
        }
        Ok::<_, AppError>(())
    };
    let summaries = async {
        if wants(&selections, field::COURSE_RATING_SUMMARY) {
            loader
                .load_many(course_ids().map(RatingSummaryOfCourse))
                .await?;
        }
        Ok::<_, AppError>(())
    };
    let (creators, lessons, summaries) = tokio::join!(creators, lessons, summaries);
    creators?;
    lessons?;
    summaries?;
    Ok(())
}

/// Primes the loader for the creators of a connection page.
pub async fn creators(
    ctx: &Context<'_>,
    creators: &[&creator::Model],
) -> async_graphql::Result<()> {
    creator_children(ctx, &item_selections(ctx), creators).await
}

/// Primes what a selection of creators asks for: their users and follower counts.
async fn creator_children(
    ctx: &Context<'_>,
    selections: &[Lookahead<'_>],
    creators: &[&creator::Model],
) -> async_graphql::Result<()> {
    if creators.is_empty() {
        return Ok(());
    }
    let loader = ctx.loader()?;
    let users = async {
        if wants(selections, field::CREATOR_USER) {
            loader
                .load_many(creators.iter().map(|c| UserById(c.user_id)))
                .await?;
        }
        Ok::<_, AppError>(())
    };
    let followers = async {
        if wants(selections, field::CREATOR_FOLLOWER_COUNT) {
            loader
                .load_many(creators.iter().map(|c| FollowersOfCreator(c.id)))
                .await?;
        }
        Ok::<_, AppError>(())
    };
    let (users, followers) = tokio::join!(users, followers);
    users?;
    followers?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn every_primed_field_is_a_field_of_its_type() {
        let sdl = crate::graphql::sdl();
        for (type_name, name) in field::ALL {
            let start = sdl
                .find(&format!("type {type_name} "))
                .unwrap_or_else(|| panic!("no type {type_name}"));
            let body = &sdl[start..start + sdl[start..].find("\n}").unwrap_or(0)];
            assert!(
                body.contains(&format!("\t{name}:")) || body.contains(&format!("\t{name}(")),
                "{type_name}.{name} is primed but is not a field"
            );
        }
    }
}
