//! Orders and entitlements: personal data, visible only to their owner and admins.

use async_graphql::{Context, ID, Object, Union};
use chrono::{DateTime, Utc};
use entity::enums::ProductKind;

use crate::error::AppError;
use crate::graphql::context::ContextExt;
use crate::graphql::enums::OrderStatus;
use crate::graphql::ids;
use crate::graphql::ids::type_name;
use crate::graphql::loaders::{GroupById, LivestreamById, UserById};
use crate::graphql::money::Money;
use crate::graphql::objects::{CommunityGroup, Course, Entitlement, Livestream, Order, User};
use crate::graphql::pagination::{self, Conn};
use crate::graphql::prefetch;
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
    /// A bundle of courses.
    Bundle(crate::graphql::bundle::Bundle),
    /// A period of a membership plan.
    MembershipPlan(crate::graphql::membership::MembershipPlan),
    /// A paid question to a group's creator.
    PaidQuestion(crate::graphql::question::PaidQuestion),
}

/// Loads the product an order or entitlement points at; null when the viewer may not
/// see it (a course suspended or archived since, once access has ended).
pub(crate) async fn load_product(
    ctx: &Context<'_>,
    kind: ProductKind,
    id: i64,
) -> async_graphql::Result<Option<Product>> {
    let loader = ctx.loader()?;
    Ok(match kind {
        ProductKind::Course => Course::load_visible(ctx, id).await?.map(Product::Course),
        ProductKind::Livestream => loader
            .load_one(LivestreamById(id))
            .await?
            .map(|l| Product::Livestream(Livestream(l))),
        ProductKind::Group => loader
            .load_one(GroupById(id))
            .await?
            .map(|g| Product::CommunityGroup(CommunityGroup(g))),
        ProductKind::Bundle => crate::graphql::bundle::Bundle::load_visible(ctx, id)
            .await?
            .map(Product::Bundle),
        ProductKind::Membership => {
            crate::graphql::membership::MembershipPlan::load_visible(ctx, id)
                .await?
                .map(Product::MembershipPlan)
        }
        ProductKind::Question => crate::graphql::question::PaidQuestion::load_visible(ctx, id)
            .await?
            .map(Product::PaidQuestion),
    })
}

/// One purchase of one product.
#[Object]
impl Order {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(type_name::ORDER, self.0.id)
    }
    /// Our order number, as sent to WeChat Pay.
    async fn out_trade_no(&self) -> &str {
        &self.0.out_trade_no
    }
    /// Lifecycle state.
    async fn status(&self) -> OrderStatus {
        self.0.status.into()
    }
    /// Amount charged: the list price less the discounts, fixed when the order was made.
    async fn amount(&self) -> Money {
        Money::cny(self.0.amount_fen)
    }
    /// The product's list price when the order was made.
    async fn list_price(&self) -> Money {
        Money::cny(self.0.list_price_fen)
    }
    /// The discounts the order was priced with, in the order applied.
    async fn discounts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::graphql::pricing::Discount>> {
        let rows = ctx
            .loader()?
            .load_one(crate::graphql::loaders::DiscountsOfOrder(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .map(|d| crate::graphql::pricing::Discount {
                kind: d.kind.into(),
                label: d.label,
                amount: Money::cny(d.amount_fen),
            })
            .collect())
    }
    /// What was bought; null when the viewer may no longer see it.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
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
    /// Its refunds, oldest first (at most one succeeds: refunds are in full).
    async fn refunds(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::graphql::order_events::Refund>> {
        crate::graphql::order_events::refunds(ctx, self.0.id).await
    }
    /// The payment notifications received about it, in order. Only admins on the
    /// console see them (empty for everyone else).
    async fn payment_events(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::graphql::order_events::PaymentEvent>> {
        crate::graphql::order_events::payment_events(ctx, self.0.id).await
    }
}

/// Access to a product.
#[Object]
impl Entitlement {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(type_name::ENTITLEMENT, self.0.id)
    }
    /// What it opens; null when the viewer may no longer see it.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
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

/// Filters of the order list; every one given must hold.
#[derive(async_graphql::InputObject, Default)]
pub struct OrderFilter {
    /// In this status.
    pub status: Option<OrderStatus>,
    /// Made at or after this instant.
    pub created_from: Option<DateTime<Utc>>,
    /// Made before this instant.
    pub created_before: Option<DateTime<Utc>>,
    /// Amount charged at least this many fen.
    pub min_amount_fen: Option<i64>,
    /// Amount charged at most this many fen.
    pub max_amount_fen: Option<i64>,
    /// Of this kind of product.
    pub product_kind: Option<crate::graphql::enums::ProductKind>,
    /// Sold by this creator.
    pub creator: Option<ID>,
    /// Bought by this user (others than oneself: admins only).
    pub buyer: Option<ID>,
    /// Priced with this coupon.
    pub coupon: Option<ID>,
}

impl OrderFilter {
    /// The service filter, with IDs decoded.
    pub fn into_service(self) -> crate::error::AppResult<orders::OrderListFilter> {
        let decode =
            |id: &Option<ID>, kind: &str| id.as_ref().map(|id| ids::decode(id, kind)).transpose();
        Ok(orders::OrderListFilter {
            status: self.status.map(Into::into),
            created_from: self.created_from,
            created_before: self.created_before,
            min_amount_fen: self.min_amount_fen,
            max_amount_fen: self.max_amount_fen,
            product_kind: self.product_kind.map(Into::into),
            seller_id: decode(&self.creator, type_name::CREATOR)?,
            buyer_id: decode(&self.buyer, type_name::USER)?,
            coupon_id: decode(&self.coupon, type_name::COUPON)?,
        })
    }
}

/// What the order list is ordered by.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderOrderField {
    /// Creation order.
    #[default]
    Newest,
    /// Amount charged.
    Amount,
}

/// Ordering of the order list.
#[derive(async_graphql::InputObject, Default)]
pub struct OrderOrder {
    /// Key to order by.
    #[graphql(default)]
    pub field: OrderOrderField,
    /// Direction (default DESC).
    #[graphql(default)]
    pub direction: crate::graphql::enums::OrderDirection,
}

impl OrderOrder {
    /// The service ordering and whether it runs largest first.
    pub fn into_service(self) -> (orders::OrderSort, bool) {
        let sort = match self.field {
            OrderOrderField::Newest => orders::OrderSort::Newest,
            OrderOrderField::Amount => orders::OrderSort::Amount,
        };
        (
            sort,
            self.direction == crate::graphql::enums::OrderDirection::Desc,
        )
    }
}

/// Order queries.
#[derive(Default)]
pub struct OrderQuery;

/// Order queries: personal, never anonymous.
#[Object]
impl OrderQuery {
    /// Orders, newest first unless ordered otherwise: every order for admins on the
    /// console, what they sold for creators, their own for learners; narrowed by
    /// `filter`. Never anonymous.
    #[graphql(complexity = "pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<OrderFilter>,
        order_by: Option<OrderOrder>,
    ) -> async_graphql::Result<Conn<Order>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default().into_service()?;
        let (sort, descending) = order_by.unwrap_or_default().into_service();
        let rows = orders::list(db, ctx.actor()?, &filter, sort, descending, &page).await?;
        let page_rows: Vec<_> = rows.0.items.iter().map(|(_, o)| o).collect();
        prefetch::order_products(ctx, &page_rows).await?;
        Ok(pagination::connection(db, rows, Order))
    }

    /// One order: its buyer, its seller or an admin.
    async fn order(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Order> {
        let key = ids::decode(&id, type_name::ORDER)?;
        Ok(Order(orders::get(ctx.db()?, ctx.actor()?, key).await?))
    }
}

// ---------------------------------------------------------------------------------
// Mutations.
// ---------------------------------------------------------------------------------

use crate::graphql::payload::{UserError, input_id, payload, split};
use crate::service::orders::{Checkout, Payments};

/// The signed payment parameters: what the mini-program passes to `wx.requestPayment`
/// (all but `appId`), or an H5 page to `WeixinJSBridge.invoke('getBrandWCPayRequest', …)`
/// (all of them).
#[derive(async_graphql::SimpleObject)]
pub struct PaymentParams {
    /// The app the payment is made in (the official account's for H5 orders).
    pub app_id: String,
    /// Seconds since the epoch.
    pub time_stamp: String,
    /// Random string.
    pub nonce_str: String,
    /// `prepay_id=...`.
    pub package: String,
    /// `RSA`.
    pub sign_type: String,
    /// Signature of `appId\ntimeStamp\nnonceStr\npackage\n`.
    pub pay_sign: String,
}

/// Result of `createOrder`.
#[derive(async_graphql::SimpleObject)]
pub struct CreateOrderPayload {
    /// The order; null when the input was refused.
    pub order: Option<Order>,
    /// What to pass to `wx.requestPayment` (mini-program) or `getBrandWCPayRequest`
    /// (H5); null for free products and settled orders.
    pub payment: Option<PaymentParams>,
    /// Each refused input field; empty on success.
    pub user_errors: Vec<UserError>,
}

payload!(
    /// Result of `cancelOrder`.
    CancelOrderPayload, order: Order
);
payload!(
    /// Result of `refundOrder`.
    RefundOrderPayload, order: Order
);

/// Input of `createOrder`.
#[derive(async_graphql::InputObject)]
pub struct CreateOrderInput {
    /// The course, livestream or group to buy.
    pub product: ID,
    /// A key the client makes per purchase intent; retries with it return the same order.
    pub idempotency_key: String,
    /// The coupon to use, one of `viewer.coupons` (UserCoupon) or a Coupon offered on
    /// the product page (claimed now if the viewer holds none). Without it, the best
    /// coupon the viewer holds is used, as `viewerPrice` shows.
    pub coupon: Option<ID>,
    /// A promoter's share code (分销) the order is made through. Without it, the
    /// promoter whose link the viewer opened for this product in the last 7 days.
    pub promoter_code: Option<String>,
}

/// Input of `cancelOrder`.
#[derive(async_graphql::InputObject)]
pub struct CancelOrderInput {
    /// The pending order.
    pub order: ID,
}

/// Input of `refundOrder`.
#[derive(async_graphql::InputObject)]
pub struct RefundOrderInput {
    /// The paid order (refunded in full).
    pub order: ID,
    /// Why, shown to the buyer (up to 80 characters).
    pub reason: Option<String>,
    /// Retries with the same key are the same refund.
    pub idempotency_key: String,
}

fn payments<'a>(ctx: &'a Context<'_>) -> crate::error::AppResult<&'a Payments> {
    ctx.data::<Payments>()
        .map_err(|_| AppError::internal(std::io::Error::other("payments missing")))
}

/// The product a global ID names.
pub(crate) fn product_of(id: &ID) -> crate::error::AppResult<(ProductKind, i64)> {
    let (type_name, key) = ids::decode_any(id).map_err(|error| {
        crate::service::validation::FieldError::new(
            "product",
            crate::service::validation::UserErrorCode::Invalid,
            error.to_string(),
        )
    })?;
    let kind = match type_name.as_str() {
        type_name::COURSE => ProductKind::Course,
        type_name::LIVESTREAM => ProductKind::Livestream,
        type_name::COMMUNITY_GROUP => ProductKind::Group,
        type_name::BUNDLE => ProductKind::Bundle,
        type_name::MEMBERSHIP_PLAN => ProductKind::Membership,
        type_name::PAID_QUESTION => ProductKind::Question,
        _ => {
            return Err(crate::service::validation::FieldError::new(
                "product",
                crate::service::validation::UserErrorCode::Invalid,
                "a product is a Course, a Livestream, a CommunityGroup, a Bundle, a MembershipPlan or a PaidQuestion",
            )
            .into());
        }
    };
    Ok((kind, key))
}

/// Order mutations.
#[derive(Default)]
pub struct OrderMutation;

/// Order mutations: buying, cancelling, refunding.
#[Object]
impl OrderMutation {
    /// Buys a product at the price `viewerPrice` shows (the list price, a sale, the best
    /// or the given coupon); retries with the same idempotency key return the same
    /// order; a 0-fen order is granted at once.
    async fn create_order(
        &self,
        ctx: &Context<'_>,
        input: CreateOrderInput,
    ) -> async_graphql::Result<CreateOrderPayload> {
        let result = async {
            let (kind, product_id) = product_of(&input.product)?;
            let coupon = input
                .coupon
                .as_ref()
                .map(crate::graphql::coupon::coupon_input)
                .transpose()?;
            let request = orders::OrderRequest {
                kind,
                product_id,
                coupon,
                idempotency_key: &input.idempotency_key,
                promoter_code: input.promoter_code.as_deref(),
            };
            orders::create_order(
                ctx.db()?,
                ctx.effects()?,
                payments(ctx)?,
                ctx.actor()?,
                request,
            )
            .await
        }
        .await;
        let (checkout, user_errors) = split(result)?;
        Ok(match checkout {
            Some(Checkout { order, payment }) => CreateOrderPayload {
                order: Some(Order(order)),
                payment: payment.map(|p| PaymentParams {
                    app_id: p.app_id,
                    time_stamp: p.time_stamp,
                    nonce_str: p.nonce_str,
                    package: p.package,
                    sign_type: p.sign_type,
                    pay_sign: p.pay_sign,
                }),
                user_errors,
            },
            None => CreateOrderPayload {
                order: None,
                payment: None,
                user_errors,
            },
        })
    }

    /// Cancels the viewer's pending order.
    async fn cancel_order(
        &self,
        ctx: &Context<'_>,
        input: CancelOrderInput,
    ) -> async_graphql::Result<CancelOrderPayload> {
        let result = async {
            let id = input_id(&input.order, type_name::ORDER, "order")?;
            orders::cancel_order(ctx.db()?, ctx.effects()?, payments(ctx)?, ctx.actor()?, id)
                .await
                .map(Order)
        }
        .await;
        CancelOrderPayload::from_result(result)
    }

    /// Refunds a paid order in full (admins on the console; the selling creator within
    /// the refund window). Access is revoked when the refund succeeds.
    async fn refund_order(
        &self,
        ctx: &Context<'_>,
        input: RefundOrderInput,
    ) -> async_graphql::Result<RefundOrderPayload> {
        let result = async {
            let id = input_id(&input.order, type_name::ORDER, "order")?;
            orders::refund_order(
                ctx.db()?,
                ctx.effects()?,
                payments(ctx)?,
                ctx.actor()?,
                id,
                input.reason.as_deref(),
                &input.idempotency_key,
            )
            .await
        }
        .await;
        RefundOrderPayload::from_result(result.map(Order))
    }
}
