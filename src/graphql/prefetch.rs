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

/// The selections of a connection's items (`edges.node` and `nodes`).
fn item_selections<'a>(ctx: &'a Context<'_>) -> Vec<Lookahead<'a>> {
    let look = ctx.look_ahead();
    vec![look.field("edges").field("node"), look.field("nodes")]
}

fn wants(selections: &[Lookahead<'_>], field: &str) -> bool {
    selections.iter().any(|s| s.field(field).exists())
}

fn children<'a>(selections: &[Lookahead<'a>], field: &str) -> Vec<Lookahead<'a>> {
    selections.iter().map(|s| s.field(field)).collect()
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
        if wants(&selections, "creator") {
            let found = loader
                .load_many(courses.iter().map(|c| CreatorById(c.creator_id)))
                .await?;
            let rows: Vec<&creator::Model> = found.values().collect();
            creator_children(ctx, &children(&selections, "creator"), &rows).await?;
        }
        Ok::<_, async_graphql::Error>(())
    };
    let lessons = async {
        if wants(&selections, "lessons") {
            loader.load_many(course_ids().map(LessonsOfCourse)).await?;
        }
        Ok::<_, AppError>(())
    };
    let summaries = async {
        if wants(&selections, "ratingSummary") {
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
        if wants(selections, "user") {
            loader
                .load_many(creators.iter().map(|c| UserById(c.user_id)))
                .await?;
        }
        Ok::<_, AppError>(())
    };
    let followers = async {
        if wants(selections, "followerCount") {
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
