//! The Relay `Node` interface and `node(id:)` / `nodes(ids:)`.

use async_graphql::{Context, ID, Interface, Object};

use crate::graphql::context::ContextExt;
use crate::graphql::ids::type_name;
use crate::graphql::loaders::{CreatorById, GroupById, LivestreamById, UserById};
use crate::graphql::objects::{
    CommunityGroup, Course, Creator, Entitlement, GroupPost, Lesson, Livestream, Order, Rating,
    User,
};
use crate::graphql::{ids, prefetch};
use crate::service::access::ProductRef;
use crate::service::{entitlements, lessons, orders, ratings};

/// An object with a global ID.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Global ID."))]
pub enum Node {
    /// A user.
    User(User),
    /// A creator profile.
    Creator(Creator),
    /// A course.
    Course(Course),
    /// A lesson.
    Lesson(Lesson),
    /// A livestream.
    Livestream(Livestream),
    /// A community group.
    CommunityGroup(CommunityGroup),
    /// A group post.
    GroupPost(GroupPost),
    /// An order.
    Order(Order),
    /// An entitlement.
    Entitlement(Entitlement),
    /// A rating.
    Rating(Rating),
    /// A bundle of courses.
    Bundle(crate::graphql::bundle::Bundle),
    /// A membership plan.
    MembershipPlan(crate::graphql::membership::MembershipPlan),
    /// A coupon.
    Coupon(crate::graphql::coupon::Coupon),
    /// A learner's copy of a coupon.
    UserCoupon(crate::graphql::coupon::UserCoupon),
    /// A message in the outbox (admins only).
    Notification(crate::graphql::notification::Notification),
    /// A paid question (its asker, the group's creator, admins; readers once public).
    PaidQuestion(crate::graphql::question::PaidQuestion),
}

/// Finds any object by its global ID; `None` when it does not exist or is hidden from
/// the actor. Orders and entitlements are personal data: for anyone but their owner
/// (and admins on the console, and an order's seller) they answer FORBIDDEN instead.
async fn find(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Option<Node>> {
    let db = ctx.db()?;
    let actor = ctx.actor()?;
    let loader = ctx.loader()?;
    let (kind, key) = ids::decode_any(id)?;
    Ok(match kind.as_str() {
        // Loaders batch the lookups of `nodes(ids:)`, which resolves its ids concurrently.
        type_name::USER => loader
            .load_one(UserById(key))
            .await?
            .map(|u| Node::User(User(u))),
        type_name::CREATOR => loader
            .load_one(CreatorById(key))
            .await?
            .map(|c| Node::Creator(Creator(c))),
        type_name::COURSE => Course::load_visible(ctx, key).await?.map(Node::Course),
        type_name::LESSON => lessons::lesson(db, actor, key)
            .await?
            .map(|(lesson, course)| {
                Node::Lesson(Lesson {
                    lesson: lesson.into(),
                    course: ProductRef::course(&course),
                })
            }),
        type_name::LIVESTREAM => loader
            .load_one(LivestreamById(key))
            .await?
            .map(|l| Node::Livestream(Livestream(l))),
        type_name::COMMUNITY_GROUP => loader
            .load_one(GroupById(key))
            .await?
            .map(|g| Node::CommunityGroup(CommunityGroup(g))),
        type_name::GROUP_POST => {
            crate::service::community::posts::get(db, key)
                .await?
                .map(|(post, group)| {
                    Node::GroupPost(GroupPost {
                        post,
                        group: ProductRef::group(&group),
                    })
                })
        }
        type_name::ORDER => Some(Node::Order(Order(orders::get(db, actor, key).await?))),
        type_name::ENTITLEMENT => Some(Node::Entitlement(Entitlement(
            entitlements::entitlement(db, actor, key).await?,
        ))),
        type_name::RATING => ratings::get(db, key)
            .await?
            .map(|r| Node::Rating(Rating(r))),
        type_name::BUNDLE => crate::graphql::bundle::Bundle::load_visible(ctx, key)
            .await?
            .map(Node::Bundle),
        type_name::MEMBERSHIP_PLAN => {
            crate::graphql::membership::MembershipPlan::load_visible(ctx, key)
                .await?
                .map(Node::MembershipPlan)
        }
        type_name::COUPON => crate::service::coupons::visible(db, actor, key)
            .await?
            .map(|c| Node::Coupon(crate::graphql::coupon::Coupon(c))),
        type_name::USER_COUPON => crate::service::coupons::copy(db, actor, key)
            .await?
            .map(|(copy, offer)| Node::UserCoupon(crate::graphql::coupon::UserCoupon(copy, offer))),
        type_name::PAID_QUESTION => crate::graphql::question::PaidQuestion::load_visible(ctx, key)
            .await?
            .map(Node::PaidQuestion),
        type_name::NOTIFICATION => crate::service::messages::admin::get(db, actor, key)
            .await?
            .map(|m| Node::Notification(crate::graphql::notification::Notification(m))),
        _ => None,
    })
}

/// Node queries.
#[derive(Default)]
pub struct NodeQuery;

/// Node queries: any object by global ID.
#[Object]
impl NodeQuery {
    /// Any object by its global ID; null when it does not exist or is not visible
    /// (orders and entitlements of others answer FORBIDDEN).
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        // A course page (the most asked-for node) loads its row and children at once
        // rather than one batching window after another.
        if let Ok((kind, key)) = ids::decode_any(&id)
            && kind == type_name::COURSE
        {
            prefetch::course_node(ctx, key).await?;
        }
        find(ctx, &id).await
    }

    /// Several objects by global ID, in the order asked (at most 100).
    #[graphql(complexity = "ids.len().max(1) * child_complexity")]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > crate::service::page::MAX_PAGE_SIZE as usize {
            return Err(crate::error::AppError::BadUserInput(format!(
                "at most {} ids at once",
                crate::service::page::MAX_PAGE_SIZE
            ))
            .into());
        }
        futures_util::future::try_join_all(ids.iter().map(|id| find(ctx, id))).await
    }
}
