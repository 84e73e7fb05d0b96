//! Orders: who may read them, and the rules every part of buying shares.
//!
//! Orders and entitlements are personal data: never readable anonymously. Admins signed
//! in to the console see every order; a creator sees what they sold; a signed-in user
//! sees their own orders and entitlements.
//!
//! Buying is split by job: [`checkout`] (creating, paying for and cancelling orders),
//! [`notifications`] (WeChat Pay's notifications applied to our orders), [`refunds`] and
//! [`reconcile`] (the background pass that asks the provider about what we have not
//! heard of). State changes are conditional updates (`... WHERE id = ? AND status =
//! 'PENDING'`, then one row must have changed) inside write transactions (IMMEDIATE on
//! SQLite). Unique constraints are the last line: a duplicate notification id, (buyer,
//! idempotency key), out_refund_no or a second pending order of one buyer for one
//! product becomes the idempotent answer, not an error.
//!
//! An order is closed here only once the provider has confirmed it cannot be paid any
//! more (closed, or never heard of); a payment that arrives for a closed order anyway is
//! completed, or refunded automatically when the product can no longer be had.

pub mod checkout;
pub mod listing;
pub mod notifications;
pub mod reconcile;
pub mod refunds;

pub use checkout::{Checkout, CouponInput, OrderRequest, cancel_order, create_order};
pub use listing::{OrderListFilter, OrderSort, list};
pub use notifications::{NotificationFailure, handle_notification};
pub use reconcile::{Reconciled, reconcile};
pub use refunds::refund_order;

use chrono::{DateTime, Duration, Utc};
use entity::enums::{OrderStatus, ProductKind, RefundStatus};
use entity::{community_group, course, livestream, order, payment_event, refund};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use std::collections::HashMap;

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::payments::{PaymentError, TradeState};
use crate::service::PRIVATE_PURCHASES as PRIVATE;
use crate::service::access::ProductRef;
use crate::service::effects::Effects;
use crate::service::entitlements;
use crate::service::validation::{FieldError, UserErrorCode};

/// Order and refund rules from configuration.
#[derive(Debug, Clone, Copy)]
pub struct OrderRules {
    /// How long an unpaid order stays open.
    pub timeout: Duration,
    /// How long after payment the selling creator may refund (and the sale's
    /// earnings stay pending).
    pub refund_window: Duration,
    /// The platform's fee in basis points, unless the creator has their own.
    pub platform_fee_bps: i64,
    /// The least available balance a payout run pays, in fen.
    pub payout_minimum_fen: i64,
}

impl OrderRules {
    /// The rules the payment settings describe.
    pub fn from_config(config: &crate::config::PaymentConfig) -> Self {
        OrderRules {
            timeout: Duration::minutes(config.order_timeout_minutes.max(1)),
            refund_window: Duration::days(config.refund_window_days.max(0)),
            platform_fee_bps: config.platform_fee_bps.clamp(0, 10_000),
            payout_minimum_fen: config.payout_minimum_fen.max(10),
        }
    }
}

/// Everything buying needs: the payment provider and the order rules.
#[derive(Clone)]
pub struct Payments {
    /// The payment provider.
    pub provider: crate::payments::Provider,
    /// Order timeout and refund window.
    pub rules: OrderRules,
}

impl Payments {
    /// The configured provider (see [`crate::payments::provider`]) and rules.
    pub async fn new(
        db: &impl ConnectionTrait,
        config: &crate::config::PaymentConfig,
        fallback_appid: &str,
        h5_appid: &str,
    ) -> Result<Self, PaymentError> {
        Ok(Payments {
            provider: crate::payments::provider(db, config, fallback_appid, h5_appid).await?,
            rules: OrderRules::from_config(config),
        })
    }
}

/// The discounts of some orders, by order, each in the order applied (orders the
/// caller may see; the caller checked).
pub async fn discounts_of(
    db: &impl ConnectionTrait,
    order_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<entity::order_discount::Model>>> {
    use entity::order_discount;
    let rows = order_discount::Entity::find()
        .filter(order_discount::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(order_discount::Column::OrderId)
        .order_by_asc(order_discount::Column::Position)
        .all(db)
        .await?;
    Ok(group_by(rows, |row| row.order_id))
}

/// The refunds of some orders, by order, oldest first (orders the caller may see).
pub async fn refunds_of(
    db: &impl ConnectionTrait,
    order_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<entity::refund::Model>>> {
    let rows = refund::Entity::find()
        .filter(refund::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(refund::Column::Id)
        .all(db)
        .await?;
    Ok(group_by(rows, |row| row.order_id))
}

/// The payment notifications about some orders, by order, in the order received
/// (for admins; the caller checked).
pub async fn payment_events_of(
    db: &impl ConnectionTrait,
    order_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<entity::payment_event::Model>>> {
    let rows = payment_event::Entity::find()
        .filter(payment_event::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(payment_event::Column::Id)
        .all(db)
        .await?;
    Ok(group_by(rows, |row| row.order_id.unwrap_or_default()))
}

/// Rows grouped by the order they belong to, each group in the rows' order.
fn group_by<T>(rows: Vec<T>, order_of: impl Fn(&T) -> i64) -> HashMap<i64, Vec<T>> {
    let mut grouped: HashMap<i64, Vec<T>> = HashMap::new();
    for row in rows {
        grouped.entry(order_of(&row)).or_default().push(row);
    }
    grouped
}

/// One order, if the actor may see it.
pub async fn get(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> AppResult<order::Model> {
    if actor.user_id().is_none() {
        return Err(PRIVATE);
    }
    let row = order::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("order"))?;
    if actor.is_console_admin() || actor.user_id() == Some(row.buyer_id) {
        return Ok(row);
    }
    let seller = sellable(db, row.product_kind, row.product_id)
        .await?
        .map(|s| s.product.creator_id);
    if seller.is_some() && actor.creator_id() == seller {
        Ok(row)
    } else {
        Err(PRIVATE)
    }
}

/// The creator who sells an order's product (None when the product is gone).
pub(crate) async fn seller_of(
    db: &impl ConnectionTrait,
    sold: &order::Model,
) -> AppResult<Option<i64>> {
    Ok(sellable(db, sold.product_kind, sold.product_id)
        .await?
        .map(|item| item.product.creator_id))
}

/// A product and whether it is on sale now; None when there is no such product.
pub async fn product_on_sale(
    db: &impl ConnectionTrait,
    kind: ProductKind,
    id: i64,
) -> AppResult<Option<(ProductRef, bool)>> {
    Ok(sellable(db, kind, id)
        .await?
        .map(|item| (item.product, item.on_sale)))
}

/// A product as an order sees it.
struct Sellable {
    product: ProductRef,
    title: String,
    on_sale: bool,
}

async fn sellable(
    db: &impl ConnectionTrait,
    kind: ProductKind,
    id: i64,
) -> AppResult<Option<Sellable>> {
    Ok(match kind {
        ProductKind::Course => course::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|c| Sellable {
                product: ProductRef::course(&c),
                on_sale: crate::service::courses::is_on_sale(&c),
                title: c.title,
            }),
        ProductKind::Livestream => {
            livestream::Entity::find_by_id(id)
                .one(db)
                .await?
                .map(|l| Sellable {
                    product: ProductRef::livestream(&l),
                    on_sale: crate::service::livestreams::is_on_sale(&l),
                    title: l.title,
                })
        }
        ProductKind::Group => community_group::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|g| Sellable {
                product: ProductRef::group(&g),
                on_sale: crate::service::groups::is_on_sale(&g),
                title: g.name,
            }),
        ProductKind::Bundle => crate::service::bundles::find(db, id)
            .await?
            .map(|b| Sellable {
                product: ProductRef::bundle(&b),
                on_sale: crate::service::bundles::is_on_sale(&b),
                title: b.title,
            }),
        ProductKind::Membership => {
            crate::service::memberships::find(db, id)
                .await?
                .map(|p| Sellable {
                    product: ProductRef::membership(&p),
                    on_sale: crate::service::memberships::is_on_sale(&p),
                    title: p.name,
                })
        }
        ProductKind::Question => crate::service::community::questions::get(db, id)
            .await?
            .map(|(question, group)| Sellable {
                product: crate::service::community::questions::product(&question, &group),
                on_sale: question.status == entity::enums::QuestionStatus::AwaitingPayment,
                title: crate::service::community::questions::title(&question),
            }),
    })
}

fn product_error(code: UserErrorCode, message: &str) -> AppError {
    FieldError::new("product", code, message).into()
}

/// The user error of a provider call that failed, on the input field it concerns.
fn payment_unavailable(error: PaymentError, field: &str) -> AppError {
    tracing::warn!(%error, "payment provider call failed");
    FieldError::new(
        field,
        UserErrorCode::PaymentUnavailable,
        "payment is unavailable right now; retry with the same idempotency key",
    )
    .into()
}

async fn reload(db: &impl ConnectionTrait, id: i64) -> AppResult<order::Model> {
    order::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("order"))
}

/// Closes a pending order here, in the caller's transaction or alone; false when it
/// was no longer pending.
async fn close_if_pending(
    db: &sea_orm::DatabaseConnection,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let txn = crate::db::begin_write(db).await?;
    let closed = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(OrderStatus::Closed))
        .col_expr(order::Column::ClosedAt, Expr::value(now))
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(id))
        .filter(order::Column::Status.eq(OrderStatus::Pending))
        .exec(&txn)
        .await?;
    // Its coupon is the learner's again.
    crate::service::coupons::apply::release(&txn, id).await?;
    txn.commit().await?;
    Ok(closed.rows_affected == 1)
}

/// Records a provider event once; false when this notification id was seen before.
async fn record_event(
    db: &impl ConnectionTrait,
    notification_id: &str,
    event_type: &str,
    order_id: Option<i64>,
    payload: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let inserted = payment_event::Entity::insert(payment_event::ActiveModel {
        notification_id: Set(notification_id.to_owned()),
        event_type: Set(event_type.to_owned()),
        order_id: Set(order_id),
        payload: Set(payload.to_owned()),
        received_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(payment_event::Column::NotificationId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted == 1)
}

/// A payment the provider confirmed (by notification or by query), before it is
/// checked against the order.
pub use crate::payments::PaidTrade as ConfirmedPayment;

/// Why a confirmed payment does not belong to the order it names.
pub(crate) fn payment_mismatch(
    order: &order::Model,
    buyer_openid: &str,
    payment: &ConfirmedPayment,
) -> Option<&'static str> {
    if payment.amount_fen != order.amount_fen {
        Some("amount does not match the order")
    } else if payment.currency != order.currency {
        Some("currency does not match the order")
    } else if payment.payer_openid.is_empty() || payment.payer_openid != buyer_openid {
        Some("payer does not match the order's buyer")
    } else {
        None
    }
}

/// What applying a confirmed payment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// The order is paid now and its entitlement granted.
    Completed,
    /// The order had been closed and its product can no longer be had: a refund was
    /// started (submit it to the provider after commit).
    RefundStarted(refund::Model),
    /// Already applied (a duplicate or late confirmation): nothing changed.
    Unchanged,
}

/// Applies a confirmed payment to its order, in the caller's transaction. A pending
/// order is completed. A closed one (cancelled or expired here while the learner was
/// paying) is completed too when the product is still on sale to the buyer; otherwise
/// the money goes back: the order moves to REFUNDING with an automatic refund.
/// "Payment succeeded" for the buyer, in the outbox with the payment's transaction.
async fn tell_buyer_paid(
    db: &impl ConnectionTrait,
    order: &order::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let title = sellable(db, order.product_kind, order.product_id)
        .await?
        .map(|s| s.title)
        .unwrap_or_default();
    crate::service::messages::compose::payment_succeeded(db, order, title, now).await
}

/// Spends the coupon a paid order was priced with.
async fn spend_coupon(
    db: &impl ConnectionTrait,
    order: &order::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use entity::order_discount;
    use sea_orm::QuerySelect;
    let priced_with: Option<Option<i64>> = order_discount::Entity::find()
        .select_only()
        .column(order_discount::Column::CouponId)
        .filter(order_discount::Column::OrderId.eq(order.id))
        .filter(order_discount::Column::Kind.eq(entity::enums::DiscountKind::Coupon))
        .into_tuple()
        .one(db)
        .await?;
    let Some(copy) = priced_with.flatten() else {
        return Ok(());
    };
    crate::service::coupons::apply::spend(db, order.id, Some(copy), now).await
}

async fn apply_payment(
    db: &impl ConnectionTrait,
    rules: &OrderRules,
    order: &order::Model,
    transaction_id: &str,
    now: DateTime<Utc>,
) -> AppResult<PaymentOutcome> {
    if !matches!(order.status, OrderStatus::Pending | OrderStatus::Closed) {
        return Ok(PaymentOutcome::Unchanged);
    }
    let grantable =
        order.status == OrderStatus::Pending || still_sellable_to_buyer(db, order, now).await?;
    let to = if grantable {
        OrderStatus::Paid
    } else {
        OrderStatus::Refunding
    };
    let moved = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(to))
        .col_expr(
            order::Column::TransactionId,
            Expr::value(transaction_id.to_owned()),
        )
        .col_expr(order::Column::PaidAt, Expr::value(now))
        .col_expr(
            order::Column::ClosedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(order.id))
        .filter(order::Column::Status.eq(order.status))
        .exec(db)
        .await?;
    if moved.rows_affected != 1 {
        return Ok(PaymentOutcome::Unchanged);
    }
    // The money arrived either way: its split is recorded, and an automatic refund
    // below reverses it when it succeeds.
    if let Some(item) = sellable(db, order.product_kind, order.product_id).await? {
        let paid = order::Model {
            paid_at: Some(now),
            ..order.clone()
        };
        crate::service::ledger::record_sale(db, &paid, item.product.creator_id, rules, now).await?;
    }
    // A sale either way (a late payment is refunded, and stays a refunded sale).
    crate::service::analytics::rollup::add_sale(
        db,
        &order::Model {
            paid_at: Some(now),
            ..order.clone()
        },
    )
    .await?;
    if grantable {
        entitlements::grant(db, order, now).await?;
        spend_coupon(db, order, now).await?;
        tell_buyer_paid(db, order, now).await?;
        return Ok(PaymentOutcome::Completed);
    }
    tracing::warn!(out_trade_no = %order.out_trade_no,
        "payment for a closed order whose product can no longer be had: refunding it");
    let started = refund::ActiveModel {
        order_id: Set(order.id),
        out_refund_no: Set(refunds::out_refund_no(order.id, "automatic")),
        refund_id: Set(None),
        amount_fen: Set(order.amount_fen),
        reason: Set(Some(refunds::AUTOMATIC_REASON.to_owned())),
        status: Set(RefundStatus::Processing),
        requested_by: Set(order.buyer_id),
        created_at: Set(now),
        succeeded_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(PaymentOutcome::RefundStarted(started))
}

/// Whether a closed order's product may still be granted to its buyer: on sale, not
/// their own, and not already held (through another order).
async fn still_sellable_to_buyer(
    db: &impl ConnectionTrait,
    order: &order::Model,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let Some(item) = sellable(db, order.product_kind, order.product_id).await? else {
        return Ok(false);
    };
    let owned = !crate::service::access::entitled(
        db,
        order.buyer_id,
        order.product_kind,
        &[order.product_id],
        now,
    )
    .await?
    .is_empty();
    Ok(item.on_sale && !owned)
}

/// How settling a pending order with the provider ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Closed at the provider (or never known there) and here.
    Closed,
    /// It turned out paid: completed (or refunded automatically).
    Paid,
    /// Still open at the provider (the learner is paying): left pending.
    StillOpen,
    /// The provider could not be asked: left pending.
    Unavailable,
}

/// Closes a pending order the way that cannot lose a payment: an order the provider
/// never saw (no prepay id, so no learner could pay it) closes here at once; otherwise
/// the provider closes it first, and when that fails (WeChat refuses to close a paid
/// order) its answer to a query decides: NOTPAY, CLOSED or unknown close here, SUCCESS
/// completes the order.
async fn settle_pending(
    db: &sea_orm::DatabaseConnection,
    effects: &Effects,
    payments: &Payments,
    order: &order::Model,
    now: DateTime<Utc>,
) -> AppResult<Settled> {
    let provider = payments.provider.as_ref();
    if order.prepay_id.is_some()
        && let Err(error) = provider.close(&order.out_trade_no).await
    {
        tracing::info!(%error, out_trade_no = %order.out_trade_no,
            "closing at the provider failed; asking about the order");
        match provider.query(&order.out_trade_no).await {
            Ok(TradeState::NotPay | TradeState::Closed | TradeState::NotFound) => {}
            Ok(TradeState::Success(payment)) => {
                return Ok(
                    match notifications::complete_confirmed(
                        db, effects, payments, order, &payment, now,
                    )
                    .await?
                    {
                        Some(_) => Settled::Paid,
                        None => Settled::Unavailable,
                    },
                );
            }
            Ok(TradeState::Other(state)) => {
                tracing::info!(%state, out_trade_no = %order.out_trade_no, "order still open at the provider");
                return Ok(Settled::StillOpen);
            }
            Err(error) => {
                tracing::warn!(%error, out_trade_no = %order.out_trade_no, "order query failed");
                return Ok(Settled::Unavailable);
            }
        }
    }
    close_if_pending(db, order.id, now).await?;
    Ok(Settled::Closed)
}
