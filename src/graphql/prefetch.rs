//! Loading a page's children before its items resolve.
//!
//! DataLoaders batch the keys asked for within a short window. A large page whose items
//! resolve slowly can spill past that window and split one batch into two, so list
//! resolvers prime the request's (caching) loader with every child the selection asks
//! for: a page then costs a fixed number of statements, whatever its size.
//!
//! Priming calls the loader directly and feeds the cache ([`prime`]) rather than going
//! through `load_many`: every key is known here, and the DataLoader would otherwise wait
//! out its batching window (1 ms, on a timer thread) before running the statement, which
//! was most of a short list's latency.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, Lookahead};
use entity::enums::ProductKind;
use entity::{course, creator, order};

use crate::error::AppError;
use crate::graphql::context::ContextExt;
use crate::graphql::loaders::{
    CourseById, CreatorById, DbLoader, FollowersOfCreator, GroupById, LessonsOfCourse,
    LivestreamById, RatingSummaryOfCourse, RequestLoader, UserById,
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
    /// `RatingSummary.distribution`.
    pub const RATING_SUMMARY_DISTRIBUTION: (&str, &str) = ("RatingSummary", "distribution");
    /// `Creator.user`.
    pub const CREATOR_USER: (&str, &str) = ("Creator", "user");
    /// `Creator.followerCount`.
    pub const CREATOR_FOLLOWER_COUNT: (&str, &str) = ("Creator", "followerCount");
    /// `Order.product`.
    pub const ORDER_PRODUCT: (&str, &str) = ("Order", "product");
    /// `XConnection.edges`, `Edge.node`, `XConnection.nodes`.
    pub const EDGES: &str = "edges";
    /// The item of an edge.
    pub const NODE: &str = "node";
    /// The items of a page without cursors.
    pub const NODES: &str = "nodes";
    /// Every primed field.
    pub const ALL: [(&str, &str); 7] = [
        COURSE_CREATOR,
        COURSE_LESSONS,
        COURSE_RATING_SUMMARY,
        RATING_SUMMARY_DISTRIBUTION,
        CREATOR_USER,
        CREATOR_FOLLOWER_COUNT,
        ORDER_PRODUCT,
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

/// Loads `keys` (each once) in one statement, straight from the loader, and answers the
/// rows without caching them; [`prime`] caches them too.
pub async fn fetch<K>(
    loader: &RequestLoader,
    keys: impl IntoIterator<Item = K>,
) -> Result<HashMap<K, <DbLoader as Loader<K>>::Value>, AppError>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    DbLoader: Loader<K, Error = AppError>,
{
    let keys: Vec<K> = keys
        .into_iter()
        .collect::<HashSet<K>>()
        .into_iter()
        .collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    loader.loader().load(&keys).await
}

/// Loads `keys` in one statement and puts the rows in the request's loader cache, where
/// the items' resolvers find them.
pub async fn prime<K>(
    loader: &RequestLoader,
    keys: impl IntoIterator<Item = K>,
) -> Result<(), AppError>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    DbLoader: Loader<K, Error = AppError>,
{
    let found = fetch(loader, keys).await?;
    loader.feed_many(found).await;
    Ok(())
}

/// Primes the loader for the courses of a connection page.
pub async fn courses(ctx: &Context<'_>, courses: &[&course::Model]) -> async_graphql::Result<()> {
    course_children(ctx, &item_selections(ctx), courses).await
}

/// Loads the course that `node(id:)` asks for, with what its selection asks for: one
/// statement per child, none of them waiting for a batch.
pub async fn course_node(ctx: &Context<'_>, id: i64) -> async_graphql::Result<()> {
    let loader = ctx.loader()?;
    let found = fetch(loader, [CourseById(id)]).await?;
    let rows: Vec<&course::Model> = found.values().collect();
    course_children(ctx, &[ctx.look_ahead()], &rows).await?;
    loader.feed_many(found).await;
    Ok(())
}

/// Primes the products of a page of orders.
pub async fn order_products(
    ctx: &Context<'_>,
    orders: &[&order::Model],
) -> async_graphql::Result<()> {
    if orders.is_empty() || !wants(&item_selections(ctx), field::ORDER_PRODUCT) {
        return Ok(());
    }
    let loader = ctx.loader()?;
    let of = |kind: ProductKind| {
        orders
            .iter()
            .filter(move |o| o.product_kind == kind)
            .map(|o| o.product_id)
    };
    let (courses, livestreams, groups) = tokio::join!(
        prime(loader, of(ProductKind::Course).map(CourseById)),
        prime(loader, of(ProductKind::Livestream).map(LivestreamById)),
        prime(loader, of(ProductKind::Group).map(GroupById)),
    );
    courses?;
    livestreams?;
    groups?;
    Ok(())
}

/// Primes what a selection of courses asks for: creators, lessons, rating summaries.
async fn course_children(
    ctx: &Context<'_>,
    selections: &[Lookahead<'_>],
    courses: &[&course::Model],
) -> async_graphql::Result<()> {
    if courses.is_empty() {
        return Ok(());
    }
    let loader = ctx.loader()?;
    let course_ids = || courses.iter().map(|c| c.id);
    let creators = async {
        if wants(selections, field::COURSE_CREATOR) {
            let found = fetch(loader, courses.iter().map(|c| CreatorById(c.creator_id))).await?;
            let rows: Vec<&creator::Model> = found.values().collect();
            creator_children(ctx, &children(selections, field::COURSE_CREATOR), &rows).await?;
            loader.feed_many(found).await;
        }
        Ok::<_, async_graphql::Error>(())
    };
    let lessons = async {
        if wants(selections, field::COURSE_LESSONS) {
            prime(loader, course_ids().map(LessonsOfCourse)).await?;
        }
        Ok::<_, AppError>(())
    };
    let summaries = async {
        // Count and average come from the course row; only the distribution is read.
        let summaries = children(selections, field::COURSE_RATING_SUMMARY);
        if wants(&summaries, field::RATING_SUMMARY_DISTRIBUTION) {
            prime(loader, course_ids().map(RatingSummaryOfCourse)).await?;
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
            prime(loader, creators.iter().map(|c| UserById(c.user_id))).await?;
        }
        Ok::<_, AppError>(())
    };
    let followers = async {
        if wants(selections, field::CREATOR_FOLLOWER_COUNT) {
            prime(loader, creators.iter().map(|c| FollowersOfCreator(c.id))).await?;
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
