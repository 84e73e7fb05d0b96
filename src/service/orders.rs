//! Orders and entitlements are personal data: never readable anonymously.
//!
//! Admins see every order; a signed-in user sees their own orders and entitlements.
//! (Creators' view of what they sold arrives with the orders work.)

use entity::{entitlement, order};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::page::{self, Counted, Page, PageRequest, SortKey};

const PRIVATE: AppError =
    AppError::Forbidden("orders and entitlements are visible only to their owner and admins");

/// One page of orders visible to the actor, newest first: one buyer's (themself, or
/// anyone's for admins); without a buyer, every order for admins, what they sold for
/// creators, their own for learners. Never anonymous.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    buyer_id: Option<i64>,
    status: Option<entity::enums::OrderStatus>,
    page: &PageRequest,
) -> AppResult<(Page<order::Model>, Counted<order::Entity>)> {
    let user_id = actor.user_id().ok_or(PRIVATE)?;
    let mut query = order::Entity::find();
    match buyer_id {
        Some(buyer) if actor.is_admin() || buyer == user_id => {
            query = query.filter(order::Column::BuyerId.eq(buyer));
        }
        Some(_) => return Err(PRIVATE),
        None if actor.is_admin() => {}
        None => match actor.creator_id() {
            Some(creator_id) => query = query.filter(sold_by(creator_id)),
            None => query = query.filter(order::Column::BuyerId.eq(user_id)),
        },
    }
    if let Some(status) = status {
        query = query.filter(order::Column::Status.eq(status));
    }
    let sort = SortKey {
        key: None,
        id: order::Column::Id,
        descending: true,
    };
    page::fetch(db, query, &sort, page, |o| o.id).await
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
    if actor.is_admin() || actor.user_id() == Some(row.buyer_id) {
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

/// A user's entitlements, if the actor is that user or an admin.
pub async fn entitlements_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    user_id: i64,
    page: &PageRequest,
) -> AppResult<(Page<entitlement::Model>, Counted<entitlement::Entity>)> {
    if !(actor.is_admin() || actor.user_id() == Some(user_id)) {
        return Err(PRIVATE);
    }
    let query = entitlement::Entity::find()
        .filter(entitlement::Column::UserId.eq(user_id))
        .filter(entitlement::Column::RevokedAt.is_null());
    let sort = SortKey {
        key: None,
        id: entitlement::Column::Id,
        descending: true,
    };
    page::fetch(db, query, &sort, page, |e| e.id).await
}

/// One entitlement, if the actor owns it or is an admin.
pub async fn entitlement(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> AppResult<entitlement::Model> {
    if actor.user_id().is_none() {
        return Err(PRIVATE);
    }
    let row = entitlement::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("entitlement"))?;
    if actor.is_admin() || actor.user_id() == Some(row.user_id) {
        Ok(row)
    } else {
        Err(PRIVATE)
    }
}

// ---------------------------------------------------------------------------------
// Buying: orders, payment notifications, refunds, reconciliation.
//
// State changes are conditional updates (`... WHERE id = ? AND status = 'PENDING'`,
// then one row must have changed) inside write transactions (IMMEDIATE on SQLite).
// Unique constraints are the last line: a duplicate notification id, (buyer,
// idempotency key) or out_refund_no becomes the idempotent answer, not an error.
// ---------------------------------------------------------------------------------

use chrono::{DateTime, Duration, Utc};
use entity::enums::{LivestreamStatus, OrderStatus, ProductKind, RefundStatus};
use entity::{community_group, course, livestream, payment_event, refund, user};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, Condition, DatabaseConnection, QueryOrder, QuerySelect,
};
use sha2::{Digest, Sha256};

use crate::payments::notification::{
    self, NotifyError, RefundResource, SignatureHeaders, Transaction,
};
use crate::payments::{
    PaymentError, PaymentParams, PaymentProvider, PrepayRequest, RefundRequest, RefundState,
    TradeState,
};
use crate::service::access::{self, ProductRef};
use crate::service::entitlements;
use crate::service::validation::{Checks, FieldError, UserErrorCode};

/// Order and refund rules from configuration.
#[derive(Debug, Clone, Copy)]
pub struct OrderRules {
    /// How long an unpaid order stays open.
    pub timeout: Duration,
    /// How long after payment the selling creator may refund.
    pub refund_window: Duration,
}

impl Default for OrderRules {
    fn default() -> Self {
        OrderRules {
            timeout: Duration::minutes(30),
            refund_window: Duration::days(7),
        }
    }
}

/// An order and, while it waits for payment, the `wx.requestPayment` parameters.
#[derive(Debug, Clone)]
pub struct Checkout {
    /// The order.
    pub order: order::Model,
    /// Null for free products and orders no longer pending.
    pub payment: Option<PaymentParams>,
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
                    // An ended livestream still sells its replay.
                    on_sale: match l.status {
                        LivestreamStatus::Scheduled | LivestreamStatus::Live => true,
                        LivestreamStatus::Ended => l.replay_url.is_some(),
                        LivestreamStatus::Cancelled => false,
                    },
                    title: l.title,
                })
        }
        ProductKind::Group => community_group::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|g| Sellable {
                product: ProductRef::group(&g),
                on_sale: true,
                title: g.name,
            }),
    })
}

fn product_error(code: UserErrorCode, message: &str) -> AppError {
    FieldError::new("product", code, message).into()
}

/// A new order number: `ZK`, the UTC time to the second, 10 random characters
/// (26 characters of [0-9A-Za-z], within WeChat Pay's 6..32).
fn new_out_trade_no(now: DateTime<Utc>) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut bytes = [0u8; 10];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let suffix: String = bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    format!("ZK{}{suffix}", now.format("%Y%m%d%H%M%S"))
}

/// Buys a product: the price comes from the database; the same idempotency key from the
/// same buyer gives back the same order; an unpaid order for the same product is reused;
/// a free product is granted at once.
pub async fn create_order(
    db: &DatabaseConnection,
    provider: &dyn PaymentProvider,
    rules: OrderRules,
    actor: &Actor,
    kind: ProductKind,
    product_id: i64,
    idempotency_key: &str,
) -> AppResult<Checkout> {
    let buyer_id = actor.require_user()?;
    let mut checks = Checks::new();
    let key = checks.text("idempotencyKey", idempotency_key, 64);
    checks.finish()?;
    let now = Utc::now();

    if let Some(existing) = by_idempotency_key(db, buyer_id, &key).await? {
        if (existing.product_kind, existing.product_id) != (kind, product_id) {
            return Err(FieldError::new(
                "idempotencyKey",
                UserErrorCode::Invalid,
                "this idempotency key was used for another product",
            )
            .into());
        }
        return checkout(db, provider, existing).await;
    }

    let item = sellable(db, kind, product_id)
        .await?
        .ok_or_else(|| product_error(UserErrorCode::NotFound, "no such product"))?;
    if !item.on_sale {
        return Err(product_error(
            UserErrorCode::NotForSale,
            "this product is not on sale",
        ));
    }
    if actor.creator_id() == Some(item.product.creator_id) {
        return Err(product_error(
            UserErrorCode::NotForSale,
            "you cannot buy your own product",
        ));
    }
    let owned_now = !access::entitled(db, buyer_id, kind, &[product_id], now)
        .await?
        .is_empty();
    if owned_now {
        return Err(product_error(
            UserErrorCode::AlreadyOwned,
            "you already have access",
        ));
    }

    let txn = crate::db::begin_write(db).await?;
    let pending = order::Entity::find()
        .filter(order::Column::BuyerId.eq(buyer_id))
        .filter(order::Column::ProductKind.eq(kind))
        .filter(order::Column::ProductId.eq(product_id))
        .filter(order::Column::Status.eq(OrderStatus::Pending))
        .filter(order::Column::ExpiresAt.gt(now))
        .one(&txn)
        .await?;
    if let Some(pending) = pending {
        txn.commit().await?;
        return checkout(db, provider, pending).await;
    }
    let free = item.product.price_fen == 0;
    let inserted = order::Entity::insert(order::ActiveModel {
        out_trade_no: Set(new_out_trade_no(now)),
        buyer_id: Set(buyer_id),
        product_kind: Set(kind),
        product_id: Set(product_id),
        amount_fen: Set(item.product.price_fen),
        currency: Set("CNY".to_owned()),
        status: Set(if free {
            OrderStatus::Paid
        } else {
            OrderStatus::Pending
        }),
        idempotency_key: Set(key.clone()),
        transaction_id: Set(None),
        prepay_id: Set(None),
        created_at: Set(now),
        expires_at: Set(now + rules.timeout),
        paid_at: Set(free.then_some(now)),
        refunded_at: Set(None),
        closed_at: Set(None),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([order::Column::BuyerId, order::Column::IdempotencyKey])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let created = by_idempotency_key(&txn, buyer_id, &key)
        .await?
        .ok_or(AppError::NotFound("order"))?;
    if inserted == 1 && free {
        entitlements::grant(&txn, &created, now).await?;
    }
    txn.commit().await?;
    checkout(db, provider, created).await
}

async fn by_idempotency_key(
    db: &impl ConnectionTrait,
    buyer_id: i64,
    key: &str,
) -> AppResult<Option<order::Model>> {
    Ok(order::Entity::find()
        .filter(order::Column::BuyerId.eq(buyer_id))
        .filter(order::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

fn payment_unavailable(error: PaymentError) -> AppError {
    tracing::warn!(%error, "payment provider call failed");
    product_error(
        UserErrorCode::PaymentUnavailable,
        "payment is unavailable right now; retry with the same idempotency key",
    )
}

/// The payment parameters of a pending order, prepaying it first when needed (WeChat
/// Pay answers a repeated prepay of the same order with the same prepay id).
async fn checkout(
    db: &DatabaseConnection,
    provider: &dyn PaymentProvider,
    order: order::Model,
) -> AppResult<Checkout> {
    if order.status != OrderStatus::Pending {
        return Ok(Checkout {
            order,
            payment: None,
        });
    }
    let prepay_id = match &order.prepay_id {
        Some(prepay_id) => prepay_id.clone(),
        None => {
            let buyer = user::Entity::find_by_id(order.buyer_id)
                .one(db)
                .await?
                .ok_or(AppError::NotFound("user"))?;
            let title = sellable(db, order.product_kind, order.product_id)
                .await?
                .map(|s| s.title)
                .unwrap_or_default();
            let request = PrepayRequest {
                out_trade_no: order.out_trade_no.clone(),
                description: format!("知库 - {title}"),
                amount_fen: order.amount_fen,
                payer_openid: buyer.openid,
                time_expire: order.expires_at,
            };
            let prepay_id = provider
                .prepay(&request)
                .await
                .map_err(payment_unavailable)?;
            order::Entity::update_many()
                .col_expr(order::Column::PrepayId, Expr::value(prepay_id.clone()))
                .filter(order::Column::Id.eq(order.id))
                .filter(order::Column::PrepayId.is_null())
                .exec(db)
                .await?;
            prepay_id
        }
    };
    let payment = provider
        .payment_params(&prepay_id)
        .map_err(payment_unavailable)?;
    let order = order::Entity::find_by_id(order.id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("order"))?;
    Ok(Checkout {
        order,
        payment: Some(payment),
    })
}

/// Cancels the buyer's own unpaid order.
pub async fn cancel_order(
    db: &DatabaseConnection,
    provider: &dyn PaymentProvider,
    actor: &Actor,
    order_id: i64,
) -> AppResult<order::Model> {
    let buyer_id = actor.require_user()?;
    let row = order::Entity::find_by_id(order_id)
        .one(db)
        .await?
        .ok_or_else(|| crate::service::not_found("order"))?;
    if row.buyer_id != buyer_id && !actor.is_admin() {
        return Err(PRIVATE);
    }
    let now = Utc::now();
    let closed = close_if_pending(db, row.id, now).await?;
    if !closed {
        return Err(FieldError::new(
            "order",
            UserErrorCode::InvalidState,
            "only a pending order can be cancelled",
        )
        .into());
    }
    if let Err(error) = provider.close(&row.out_trade_no).await {
        // The order expires at the provider anyway (time_expire); reconciliation checks.
        tracing::warn!(%error, out_trade_no = %row.out_trade_no, "closing at the provider failed");
    }
    reload(db, row.id).await
}

async fn reload(db: &impl ConnectionTrait, id: i64) -> AppResult<order::Model> {
    order::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("order"))
}

async fn close_if_pending(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let closed = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(OrderStatus::Closed))
        .col_expr(order::Column::ClosedAt, Expr::value(now))
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(id))
        .filter(order::Column::Status.eq(OrderStatus::Pending))
        .exec(db)
        .await?;
    Ok(closed.rows_affected == 1)
}

/// Marks a pending order paid and grants its entitlement, in the caller's transaction.
/// Returns false (changing nothing) when the order was not pending: a duplicate or late
/// confirmation.
async fn mark_paid(
    db: &impl ConnectionTrait,
    order: &order::Model,
    transaction_id: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let paid = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(OrderStatus::Paid))
        .col_expr(
            order::Column::TransactionId,
            Expr::value(transaction_id.to_owned()),
        )
        .col_expr(order::Column::PaidAt, Expr::value(now))
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(order.id))
        .filter(order::Column::Status.eq(OrderStatus::Pending))
        .exec(db)
        .await?;
    if paid.rows_affected != 1 {
        return Ok(false);
    }
    entitlements::grant(db, order, now).await?;
    Ok(true)
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

/// Why a notification was not applied: refused (4xx, nothing changed) or failed here (5xx,
/// WeChat Pay retries).
#[derive(Debug, thiserror::Error)]
pub enum NotificationFailure {
    /// The notification is not genuine or not about one of our orders as it stands.
    #[error(transparent)]
    Refused(#[from] NotifyError),
    /// Our side failed; the provider will retry.
    #[error("internal error")]
    Internal(#[from] AppError),
}

/// Handles a WeChat Pay notification: verify, decrypt, check against the order, and in
/// one transaction record the event, mark the order and grant or revoke access.
/// Answers the buyer whose access may have changed (None for duplicates and other events).
pub async fn handle_notification(
    db: &DatabaseConnection,
    provider: &dyn PaymentProvider,
    headers: &SignatureHeaders,
    body: &[u8],
) -> Result<Option<i64>, NotificationFailure> {
    let keys = provider.notification_keys();
    let now = Utc::now();
    let notice = notification::verify_and_decrypt(keys, headers, body, now)?;
    if notice.event_type.starts_with("TRANSACTION.") {
        let transaction: Transaction =
            serde_json::from_str(&notice.resource).map_err(|_| NotifyError::Malformed)?;
        if transaction.mchid != keys.mchid {
            return Err(NotifyError::Mismatch("merchant id does not match").into());
        }
        if transaction.appid != keys.appid {
            return Err(NotifyError::Mismatch("app id does not match").into());
        }
        let order = order::Entity::find()
            .filter(order::Column::OutTradeNo.eq(transaction.out_trade_no.as_str()))
            .one(db)
            .await
            .map_err(AppError::from)?
            .ok_or(NotifyError::Mismatch("unknown out_trade_no"))?;
        if transaction.amount.total != order.amount_fen {
            return Err(NotifyError::Mismatch("amount does not match the order").into());
        }
        let txn = crate::db::begin_write(db).await.map_err(AppError::from)?;
        if !record_event(
            &txn,
            &notice.id,
            &notice.event_type,
            Some(order.id),
            &notice.resource,
            now,
        )
        .await?
        {
            return Ok(None); // a duplicate: answered success, nothing changes
        }
        if notice.event_type == "TRANSACTION.SUCCESS" && transaction.trade_state == "SUCCESS" {
            let changed = mark_paid(&txn, &order, &transaction.transaction_id, now).await?;
            if !changed && order.status != OrderStatus::Paid {
                tracing::warn!(out_trade_no = %order.out_trade_no, status = ?order.status,
                    "payment confirmed for an order that is no longer pending; refund it by hand");
            }
        }
        txn.commit().await.map_err(AppError::from)?;
        return Ok(Some(order.buyer_id));
    }
    if notice.event_type.starts_with("REFUND.") {
        let resource: RefundResource =
            serde_json::from_str(&notice.resource).map_err(|_| NotifyError::Malformed)?;
        if resource.mchid != keys.mchid {
            return Err(NotifyError::Mismatch("merchant id does not match").into());
        }
        let found = refund::Entity::find()
            .filter(refund::Column::OutRefundNo.eq(resource.out_refund_no.as_str()))
            .one(db)
            .await
            .map_err(AppError::from)?
            .ok_or(NotifyError::Mismatch("unknown out_refund_no"))?;
        if resource.amount.refund != found.amount_fen {
            return Err(NotifyError::Mismatch("refund amount does not match").into());
        }
        let state = RefundState::parse(&resource.refund_status).ok_or(NotifyError::Malformed)?;
        let txn = crate::db::begin_write(db).await.map_err(AppError::from)?;
        if !record_event(
            &txn,
            &notice.id,
            &notice.event_type,
            Some(found.order_id),
            &notice.resource,
            now,
        )
        .await?
        {
            return Ok(None);
        }
        apply_refund_state(&txn, &found, state, Some(&resource.refund_id), now).await?;
        txn.commit().await.map_err(AppError::from)?;
        return Ok(Some(reload(db, found.order_id).await?.buyer_id));
    }
    // Other events are recorded for the books and otherwise ignored.
    record_event(
        db,
        &notice.id,
        &notice.event_type,
        None,
        &notice.resource,
        now,
    )
    .await?;
    Ok(None)
}

/// Moves a processing refund to its final state, in the caller's transaction; success
/// marks the order refunded and revokes access, failure returns the order to PAID.
async fn apply_refund_state(
    db: &impl ConnectionTrait,
    found: &refund::Model,
    state: RefundState,
    refund_id: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let status = match state {
        RefundState::Processing => return Ok(()),
        RefundState::Success => RefundStatus::Success,
        RefundState::Abnormal => RefundStatus::Abnormal,
        RefundState::Closed => RefundStatus::Closed,
    };
    let mut update = refund::Entity::update_many()
        .col_expr(refund::Column::Status, Expr::value(status))
        .filter(refund::Column::Id.eq(found.id))
        .filter(refund::Column::Status.eq(RefundStatus::Processing));
    if let Some(refund_id) = refund_id {
        update = update.col_expr(refund::Column::RefundId, Expr::value(refund_id.to_owned()));
    }
    if status == RefundStatus::Success {
        update = update.col_expr(refund::Column::SucceededAt, Expr::value(now));
    }
    if update.exec(db).await?.rows_affected != 1 {
        return Ok(());
    }
    let (to, stamp) = if status == RefundStatus::Success {
        (OrderStatus::Refunded, Some(now))
    } else {
        (OrderStatus::Paid, None)
    };
    let mut order_update = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(to))
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(found.order_id))
        .filter(order::Column::Status.eq(OrderStatus::Refunding));
    if let Some(stamp) = stamp {
        order_update = order_update.col_expr(order::Column::RefundedAt, Expr::value(stamp));
    }
    let moved = order_update.exec(db).await?;
    if moved.rows_affected == 1 && status == RefundStatus::Success {
        let refunded = reload(db, found.order_id).await?;
        entitlements::revoke(db, &refunded, now).await?;
    }
    Ok(())
}

/// Our refund number for an order and idempotency key: the same key always names the
/// same refund at WeChat Pay.
fn out_refund_no(order_id: i64, key: &str) -> String {
    let digest = hex::encode(Sha256::digest(format!("{order_id}:{key}").as_bytes()));
    format!("RF{}", &digest[..30])
}

/// Refunds a paid order in full: admins on the console at any time, the selling
/// creator within the refund window. The same idempotency key gives the same refund.
pub async fn refund_order(
    db: &DatabaseConnection,
    provider: &dyn PaymentProvider,
    rules: OrderRules,
    actor: &Actor,
    order_id: i64,
    reason: Option<&str>,
    idempotency_key: &str,
) -> AppResult<order::Model> {
    let user_id = actor.require_user()?;
    let mut checks = Checks::new();
    let key = checks.text("idempotencyKey", idempotency_key, 64);
    let reason = checks.optional_text("reason", reason, 80);
    checks.finish()?;
    let row = order::Entity::find_by_id(order_id)
        .one(db)
        .await?
        .ok_or_else(|| crate::service::not_found("order"))?;
    let now = Utc::now();
    if actor.is_admin() {
        actor.require_console_admin()?;
    } else {
        let seller = sellable(db, row.product_kind, row.product_id)
            .await?
            .map(|s| s.product.creator_id);
        if seller.is_none() || actor.creator_id() != seller {
            return Err(AppError::Forbidden(
                "only admins and the selling creator may refund",
            ));
        }
        let paid_at = row.paid_at.unwrap_or(now);
        if now - paid_at > rules.refund_window {
            return Err(FieldError::new(
                "order",
                UserErrorCode::InvalidState,
                "the refund window has passed; ask an admin",
            )
            .into());
        }
    }
    let number = out_refund_no(row.id, &key);
    let existing = refund::Entity::find()
        .filter(refund::Column::OutRefundNo.eq(number.as_str()))
        .one(db)
        .await?;
    let pending = match existing {
        Some(found) if found.status != RefundStatus::Processing || found.refund_id.is_some() => {
            return reload(db, row.id).await;
        }
        Some(found) => found,
        None => {
            if row.status != OrderStatus::Paid || row.amount_fen == 0 {
                return Err(FieldError::new(
                    "order",
                    UserErrorCode::InvalidState,
                    "only a paid, charged order can be refunded",
                )
                .into());
            }
            let txn = crate::db::begin_write(db).await?;
            let moved = order::Entity::update_many()
                .col_expr(order::Column::Status, Expr::value(OrderStatus::Refunding))
                .col_expr(order::Column::UpdatedAt, Expr::value(now))
                .filter(order::Column::Id.eq(row.id))
                .filter(order::Column::Status.eq(OrderStatus::Paid))
                .exec(&txn)
                .await?;
            if moved.rows_affected != 1 {
                return Err(FieldError::new(
                    "order",
                    UserErrorCode::InvalidState,
                    "a refund is already in progress",
                )
                .into());
            }
            let created = refund::ActiveModel {
                order_id: Set(row.id),
                out_refund_no: Set(number.clone()),
                refund_id: Set(None),
                amount_fen: Set(row.amount_fen),
                reason: Set(reason.clone()),
                status: Set(RefundStatus::Processing),
                requested_by: Set(user_id),
                created_at: Set(now),
                succeeded_at: Set(None),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            txn.commit().await?;
            created
        }
    };
    let request = RefundRequest {
        out_trade_no: row.out_trade_no.clone(),
        out_refund_no: pending.out_refund_no.clone(),
        reason,
        refund_fen: pending.amount_fen,
        total_fen: row.amount_fen,
    };
    // A failed call leaves the refund PROCESSING: a retry with the same key asks again
    // with the same out_refund_no, which WeChat Pay treats as the same refund.
    let result = provider
        .refund(&request)
        .await
        .map_err(payment_unavailable)?;
    let txn = crate::db::begin_write(db).await?;
    refund::Entity::update_many()
        .col_expr(
            refund::Column::RefundId,
            Expr::value(result.refund_id.clone()),
        )
        .filter(refund::Column::Id.eq(pending.id))
        .exec(&txn)
        .await?;
    apply_refund_state(
        &txn,
        &pending,
        result.state,
        Some(&result.refund_id),
        Utc::now(),
    )
    .await?;
    txn.commit().await?;
    reload(db, row.id).await
}

/// What one reconciliation pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    /// Orders found paid at the provider and completed here.
    pub completed: usize,
    /// Expired unpaid orders closed.
    pub closed: usize,
}

/// Asks the provider about pending orders older than `after`: paid ones are completed
/// (so a lost notification loses neither money nor access), expired unpaid ones closed.
pub async fn reconcile(
    db: &DatabaseConnection,
    provider: &dyn PaymentProvider,
    after: Duration,
    now: DateTime<Utc>,
) -> AppResult<Reconciled> {
    let mut done = Reconciled::default();
    let stale = order::Entity::find()
        .filter(order::Column::Status.eq(OrderStatus::Pending))
        .filter(order::Column::CreatedAt.lt(now - after))
        .order_by_asc(order::Column::Id)
        .limit(500)
        .all(db)
        .await?;
    for pending in stale {
        match provider.query(&pending.out_trade_no).await {
            Ok(TradeState::Success {
                transaction_id,
                amount_fen,
            }) if amount_fen == pending.amount_fen => {
                let txn = crate::db::begin_write(db).await?;
                let event_id = format!("query:{transaction_id}");
                record_event(
                    &txn,
                    &event_id,
                    "RECONCILED.SUCCESS",
                    Some(pending.id),
                    "{}",
                    now,
                )
                .await?;
                if mark_paid(&txn, &pending, &transaction_id, now).await? {
                    done.completed += 1;
                }
                txn.commit().await?;
            }
            Ok(TradeState::Success { .. }) => {
                tracing::error!(out_trade_no = %pending.out_trade_no, "provider reports a different amount");
            }
            Ok(TradeState::NotPay | TradeState::Closed) if pending.expires_at <= now => {
                if let Err(error) = provider.close(&pending.out_trade_no).await {
                    tracing::warn!(%error, "closing an expired order at the provider failed");
                }
                if close_if_pending(db, pending.id, now).await? {
                    done.closed += 1;
                }
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, out_trade_no = %pending.out_trade_no, "order query failed")
            }
        }
    }
    Ok(done)
}

/// Orders sold by a creator: a condition over the three product tables.
pub fn sold_by(creator_id: i64) -> Condition {
    let of = |kind: ProductKind, subquery: sea_orm::sea_query::SelectStatement| {
        Condition::all()
            .add(order::Column::ProductKind.eq(kind))
            .add(order::Column::ProductId.in_subquery(subquery))
    };
    Condition::any()
        .add(of(
            ProductKind::Course,
            Query::select()
                .column(course::Column::Id)
                .from(course::Entity)
                .and_where(course::Column::CreatorId.eq(creator_id))
                .to_owned(),
        ))
        .add(of(
            ProductKind::Livestream,
            Query::select()
                .column(livestream::Column::Id)
                .from(livestream::Entity)
                .and_where(livestream::Column::CreatorId.eq(creator_id))
                .to_owned(),
        ))
        .add(of(
            ProductKind::Group,
            Query::select()
                .column(community_group::Column::Id)
                .from(community_group::Entity)
                .and_where(community_group::Column::CreatorId.eq(creator_id))
                .to_owned(),
        ))
}
