//! The object types' identities: one wrapper per kind of row the API shows.
//!
//! Each type's fields are resolved beside its domain (`#[Object] impl Course` is in
//! `course`, `impl Creator` in `creator`, ...); the types themselves live here, with the
//! two ways of reaching courses that several domains share. So a domain that returns
//! another's type (a course's creator, a creator's courses, an order's product) names it
//! from this file and never imports the other domain: the graph of types is cyclic
//! (a course has a creator, who has courses), the files are not.

use async_graphql::Context;
use entity::{
    community_group, course, creator, entitlement, group_post, lesson, livestream, order, rating,
    user,
};

use crate::graphql::context::ContextExt;
use crate::graphql::loaders::CourseById;
use crate::graphql::ordering::CourseOrder;
use crate::graphql::pagination::{self, Conn, CountFuture};
use crate::graphql::prefetch;
use crate::service::access::ProductRef;
use crate::service::courses;
use crate::service::page::Counted;
use crate::service::read_cache::CoursePageKey;

/// A course: an ordered set of lessons sold as one product. Shared, because
/// recommendations hand out rows from their cache.
pub struct Course(pub std::sync::Arc<course::Model>);

impl From<course::Model> for Course {
    fn from(row: course::Model) -> Self {
        Course(std::sync::Arc::new(row))
    }
}

impl Course {
    /// The course with this id, when the actor may see it: the one visibility rule
    /// ([`courses::visible`]) for every path that reaches a course by id (nodes, ratings,
    /// orders, entitlements), so a suspended or archived course never leaks through one.
    pub async fn load_visible(ctx: &Context<'_>, id: i64) -> async_graphql::Result<Option<Course>> {
        let Some(row) = ctx.loader()?.load_one(CourseById(id)).await? else {
            return Ok(None);
        };
        Ok(courses::visible(ctx.db()?, ctx.actor()?, &row)
            .await?
            .then(|| Course::from(row)))
    }

    /// One page of courses as a connection, with the page's children primed: the one
    /// way every course list (the catalogue, a creator's courses) is answered.
    pub async fn page(
        ctx: &Context<'_>,
        page: &crate::service::page::PageRequest,
        filter: courses::CourseFilter,
        order: CourseOrder,
    ) -> async_graphql::Result<Conn<Course>> {
        let db = ctx.db()?;
        let cache = ctx.read_cache()?;
        let listed = courses::listed(ctx.actor()?, &filter)?;
        let count: CountFuture = {
            let (cache, db, filter) = (cache.clone(), db.clone(), filter.clone());
            let counted = Counted::new(listed.clone());
            Box::pin(async move { cache.course_count(filter, counted.count(&db)).await })
        };
        let (sort, direction) = (order.field.into(), order.direction.into());
        let key = CoursePageKey {
            filter,
            sort,
            direction,
            page: page.clone(),
        };
        let rows = cache
            .course_page(key, courses::fetch_page(db, listed, sort, direction, page))
            .await?;
        let page_rows: Vec<&course::Model> = rows.items.iter().map(|(_, c)| &**c).collect();
        prefetch::courses(ctx, &page_rows).await?;
        Ok(pagination::connection_counted_by(rows, count, |row| {
            Some(Course(row))
        }))
    }
}

/// One part of a course.
pub struct Lesson {
    /// The lesson row.
    pub lesson: std::sync::Arc<lesson::Model>,
    /// Its course, which decides whether the content is locked.
    pub course: ProductRef,
}

/// The public selling profile of a user.
pub struct Creator(pub creator::Model);

/// A live class with a ticket price and, once ended, an optional replay.
pub struct Livestream(pub livestream::Model);

/// A free or paid community group run by a creator.
pub struct CommunityGroup(pub community_group::Model);

/// A post in a group.
pub struct GroupPost {
    /// The post row.
    pub post: group_post::Model,
    /// Its group, which decides whether the body is locked.
    pub group: ProductRef,
}

/// A buyer's stars and review of a course. Only buyers can rate, so every rating is a
/// verified purchase.
pub struct Rating(pub rating::Model);

/// A person on the platform. Only public profile fields are exposed; WeChat
/// identifiers never are.
pub struct User(pub user::Model);

/// One purchase of one product.
pub struct Order(pub order::Model);

/// Access to a product.
pub struct Entitlement(pub entitlement::Model);
