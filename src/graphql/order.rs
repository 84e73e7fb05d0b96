//! Orders and entitlements: personal data, visible only to their owner and admins.

use async_graphql::{Context, ID, Object, Union};
use chrono::{DateTime, Utc};
use entity::enums::ProductKind;
use entity::{entitlement, order};

use crate::error::AppError;
use crate::graphql::context::ContextExt;
use crate::graphql::course::Course;
use crate::graphql::enums::OrderStatus;
use crate::graphql::group::CommunityGroup;
use crate::graphql::ids;
use crate::graphql::livestream::Livestream;
use crate::graphql::loaders::{CourseById, GroupById, LivestreamById, UserById};
use crate::graphql::money::Money;
use crate::graphql::pagination::{self, Conn};
use crate::graphql::user::User;
use crate::service::orders;

/// Something that can be bought.
#[derive(Union)]
pub enum Product {
    /// A course.
    Course(Course),
    /// A livestream ticket.
    Livestream(Livestream),
    /// A group membership.
    CommunityGroup(CommunityGroup),
}

/// Loads the product an order or entitlement points at.
async fn load_product(
    ctx: &Context<'_>,
    kind: ProductKind,
    id: i64,
) -> async_graphql::Result<Product> {
    let loader = ctx.loader()?;
    let product = match kind {
        ProductKind::Course => loader
            .load_one(CourseById(id))
            .await?
            .map(|c| Product::Course(Course(c))),
        ProductKind::Livestream => loader
            .load_one(LivestreamById(id))
            .await?
            .map(|l| Product::Livestream(Livestream(l))),
        ProductKind::Group => loader
            .load_one(GroupById(id))
            .await?
            .map(|g| Product::CommunityGroup(CommunityGroup(g))),
    };
    product.ok_or_else(|| AppError::NotFound("product").into())
}

/// One purchase of one product.
pub struct Order(pub order::Model);

/// One purchase of one product.
#[Object]
impl Order {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode("Order", self.0.id)
    }
    /// Our order number, as sent to WeChat Pay.
    async fn out_trade_no(&self) -> &str {
        &self.0.out_trade_no
    }
    /// Lifecycle state.
    async fn status(&self) -> OrderStatus {
        self.0.status.into()
    }
    /// Amount charged.
    async fn amount(&self) -> Money {
        Money::cny(self.0.amount_fen)
    }
    /// What was bought.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Product> {
        load_product(ctx, self.0.product_kind, self.0.product_id).await
    }
    /// Who bought it.
    async fn buyer(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        ctx.loader()?
            .load_one(UserById(self.0.buyer_id))
            .await?
            .map(User)
            .ok_or_else(|| AppError::NotFound("user").into())
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the payment was confirmed.
    async fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.0.paid_at
    }
    /// When the refund completed.
    async fn refunded_at(&self) -> Option<DateTime<Utc>> {
        self.0.refunded_at
    }
}

/// Access to a product.
pub struct Entitlement(pub entitlement::Model);

/// Access to a product.
#[Object]
impl Entitlement {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode("Entitlement", self.0.id)
    }
    /// What it opens.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Product> {
        load_product(ctx, self.0.product_kind, self.0.product_id).await
    }
    /// When access was granted.
    async fn granted_at(&self) -> DateTime<Utc> {
        self.0.granted_at
    }
    /// When access ends; null means for ever.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
}

/// Order queries.
#[derive(Default)]
pub struct OrderQuery;

/// Order queries.
#[Object]
impl OrderQuery {
    /// Orders, newest first: all for admins, a learner's own otherwise. Never anonymous.
    #[graphql(complexity = "pagination::cost(first, None, child_complexity)")]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Conn<Order>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, None, None)?;
        let rows = orders::list(db, ctx.actor()?, None, &page).await?;
        Ok(pagination::connection(db, rows, Order))
    }
}
