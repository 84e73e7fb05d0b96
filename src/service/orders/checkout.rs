//! Checkout: creating an order, getting its payment parameters, cancelling it.
//!
//! One buyer's checkouts are serialised: the transaction that decides whether to create
//! an order locks the buyer's row first (PostgreSQL; on SQLite the IMMEDIATE write
//! transaction already admits one writer), then checks access and looks for an open
//! order with what it sees. A partial unique index (one PENDING order per buyer and
//! product) is the last line behind it, so a learner can never hold two payable
//! orders for one product, and a free product is never granted twice.

use chrono::{DateTime, Utc};
use entity::enums::{IdentityApp, OrderStatus, ProductKind};
use entity::{order, order_discount, user};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, SqlErr,
};

use super::{
    OrderRules, PRIVATE, Payments, Settled, payment_unavailable, product_error, reload, sellable,
    settle_pending,
};
use crate::auth::Actor;
use crate::auth::tokens::Audience;
use crate::error::{AppError, AppResult};
use crate::payments::{PaymentParams, PaymentProvider, PrepayRequest};
use crate::service::access;
use crate::service::coupons;
use crate::service::effects::{Effects, Event};
use crate::service::entitlements;
use crate::service::pricing::{self, CouponChoice};
use crate::service::validation::{Checks, FieldError, UserErrorCode};

/// An order and, while it waits for payment, the `wx.requestPayment` parameters.
#[derive(Debug, Clone)]
pub struct Checkout {
    /// The order.
    pub order: order::Model,
    /// Null for free products and orders no longer pending.
    pub payment: Option<PaymentParams>,
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

/// What the locked decision found.
enum Decision {
    /// Answer with this order (new, reused or found by its idempotency key).
    Order(order::Model),
    /// An expired order still pending blocks a new one: settle it with the provider
    /// first (outside the transaction), then decide again.
    SettleFirst(order::Model),
    /// The one-pending-order index caught a checkout the lock did not see (another
    /// server's, or a direct write): decide again, which finds it.
    Again,
}

/// The coupon a buyer asks an order to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CouponInput {
    /// A copy they hold (`UserCoupon`).
    Copy(i64),
    /// A coupon offered on the product page (`Coupon`, CLAIM): their copy of it, claimed
    /// now when they hold none.
    Offer(i64),
}

/// What a buyer asks for.
#[derive(Debug, Clone, Copy)]
pub struct OrderRequest<'a> {
    /// The kind of product.
    pub kind: ProductKind,
    /// Its id.
    pub product_id: i64,
    /// The coupon to use; None: the best of the buyer's.
    pub coupon: Option<CouponInput>,
    /// The client's key for retries.
    pub idempotency_key: &'a str,
    /// A promoter's share code the order is made through; None: the buyer's live
    /// referral for the product, if any.
    pub promoter_code: Option<&'a str>,
}

/// Buys a product: the price comes from the pricing rules (with the best of the buyer's
/// coupons, or the one given); the same idempotency key from the same buyer gives back
/// the same order; an unpaid order for the same product at the same price is reused; a
/// 0-fen order is granted at once.
pub async fn create_order(
    db: &DatabaseConnection,
    effects: &Effects,
    payments: &Payments,
    actor: &Actor,
    request: OrderRequest<'_>,
) -> AppResult<Checkout> {
    let OrderRequest {
        kind,
        product_id,
        coupon,
        idempotency_key,
        promoter_code,
    } = request;
    let buyer_id = actor.require_user()?;
    let pay_app = pay_app(actor);
    let (provider, rules) = (payments.provider.as_ref(), payments.rules);
    // Before anything is written: an app that takes no payments gets no order.
    appid_for(provider, pay_app)?;
    let mut checks = Checks::new();
    let key = checks.text("idempotencyKey", idempotency_key, 64);
    checks.finish()?;

    if let Some(existing) = by_idempotency_key(db, buyer_id, &key).await? {
        check_same_product(&existing, kind, product_id)?;
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
    if let ProductKind::Bundle = kind
        && let Some(bundle) = crate::service::bundles::find(db, product_id).await?
        && crate::service::bundles::adds_nothing(db, buyer_id, &bundle, Utc::now()).await?
    {
        return Err(product_error(
            UserErrorCode::AlreadyOwned,
            "you already have every course of this bundle",
        ));
    }
    if kind == ProductKind::Question {
        crate::service::community::questions::require_asker(db, product_id, buyer_id).await?;
    }
    if actor.creator_id() == Some(item.product.creator_id) {
        return Err(product_error(
            UserErrorCode::NotForSale,
            "you cannot buy your own product",
        ));
    }
    let promoter_id = crate::service::promotions::for_order(
        db,
        buyer_id,
        &item.product,
        promoter_code,
        Utc::now(),
    )
    .await?;
    // A seller paid by profit sharing has the payment's funds frozen for it at prepay.
    let profit_sharing = entity::creator::Entity::find_by_id(item.product.creator_id)
        .one(db)
        .await?
        .is_some_and(|seller| seller.wechat_mchid.is_some());
    let choice = match coupon {
        None => CouponChoice::Best,
        Some(CouponInput::Copy(id)) => CouponChoice::Copy(id),
        Some(CouponInput::Offer(coupon_id)) => {
            CouponChoice::Copy(coupons::copy_for_order(db, actor, coupon_id).await?)
        }
    };
    // Twice at most: a stale pending order is settled between the two.
    for _ in 0..2 {
        let now = Utc::now();
        let quote = pricing::quote(db, &item.product, Some(buyer_id), choice, now).await?;
        let decided = decide(
            db,
            rules,
            Purchase {
                buyer_id,
                pay_app,
                kind,
                product_id,
                quote,
                coupon_named: coupon.is_some(),
                promoter_id,
                profit_sharing,
                seller_id: item.product.creator_id,
            },
            &key,
            now,
        )
        .await;
        match decided {
            Ok(Decision::Order(order)) => {
                if order.status == OrderStatus::Paid {
                    // A free product, granted at once.
                    let paid = Event::OrderPaid {
                        order_id: order.id,
                        buyer_id: order.buyer_id,
                    };
                    effects.publish(db, paid).await;
                }
                return checkout(db, provider, order).await;
            }
            Ok(Decision::SettleFirst(stale)) => {
                if settle_pending(db, effects, payments, &stale, now).await? != Settled::Closed {
                    let now_state = reload(db, stale.id).await?;
                    if now_state.status == OrderStatus::Paid {
                        return Err(product_error(
                            UserErrorCode::AlreadyOwned,
                            "you already have access",
                        ));
                    }
                    return Err(product_error(
                        UserErrorCode::PaymentUnavailable,
                        "an earlier payment of this product is still open; retry shortly",
                    ));
                }
            }
            Ok(Decision::Again) => {}
            Err(error) => return Err(error),
        }
    }
    Err(product_error(
        UserErrorCode::PaymentUnavailable,
        "payment is unavailable right now; retry with the same idempotency key",
    ))
}

fn check_same_product(existing: &order::Model, kind: ProductKind, id: i64) -> AppResult<()> {
    if (existing.product_kind, existing.product_id) != (kind, id) {
        return Err(FieldError::new(
            "idempotencyKey",
            UserErrorCode::Invalid,
            "this idempotency key was used for another product",
        )
        .into());
    }
    Ok(())
}

/// The app a buyer pays in: H5 pages pay in the official account, everything else in
/// the mini-program.
fn pay_app(actor: &Actor) -> IdentityApp {
    match actor.audience() {
        Some(Audience::H5) => IdentityApp::OfficialAccount,
        _ => IdentityApp::MiniProgram,
    }
}

/// The app id payments in `app` are made in; refused when that app takes none.
fn appid_for(provider: &dyn PaymentProvider, app: IdentityApp) -> AppResult<String> {
    provider
        .notification_keys()
        .appid_for(app)
        .map(str::to_owned)
        .ok_or_else(|| {
            product_error(
                UserErrorCode::PaymentUnavailable,
                "payments on H5 pages are not configured (ZHIKU_OA_APPID)",
            )
        })
}

/// What is being bought, by whom, where.
struct Purchase {
    buyer_id: i64,
    pay_app: IdentityApp,
    kind: ProductKind,
    product_id: i64,
    /// The price, as the pricing rules give it now.
    quote: pricing::Quote,
    /// Whether the buyer named the coupon (else the best one was picked for them).
    coupon_named: bool,
    /// The promoter the order is made through.
    promoter_id: Option<i64>,
    /// Whether the payment is held for profit sharing (the seller has a merchant id).
    profit_sharing: bool,
    /// The creator selling the product.
    seller_id: i64,
}

/// The locked part of checkout: with the buyer's row locked, answer a retried key,
/// refuse what the buyer already holds, reuse an open order of the same app and price,
/// or create one with its price breakdown (granting a 0-fen order at once). An open
/// order of the other app, or priced differently (a sale began or ended since), is
/// settled first: its prepay is bound to that app and amount.
async fn decide(
    db: &DatabaseConnection,
    rules: OrderRules,
    purchase: Purchase,
    key: &str,
    now: DateTime<Utc>,
) -> AppResult<Decision> {
    let Purchase {
        buyer_id,
        pay_app,
        kind,
        product_id,
        quote,
        coupon_named,
        promoter_id,
        profit_sharing,
        seller_id,
    } = purchase;
    let txn = crate::db::begin_write(db).await?;
    user::Entity::find_by_id(buyer_id)
        .select_only()
        .column(user::Column::Id)
        .lock_exclusive()
        .into_tuple::<i64>()
        .one(&txn)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if let Some(existing) = by_idempotency_key(&txn, buyer_id, key).await? {
        check_same_product(&existing, kind, product_id)?;
        return Ok(Decision::Order(existing));
    }
    // A membership is renewed, not refused, while it runs.
    let owned = kind != ProductKind::Membership
        && !access::entitled(&txn, buyer_id, kind, &[product_id], now)
            .await?
            .is_empty();
    if owned {
        return Err(product_error(
            UserErrorCode::AlreadyOwned,
            "you already have access",
        ));
    }
    let pending = order::Entity::find()
        .filter(order::Column::BuyerId.eq(buyer_id))
        .filter(order::Column::ProductKind.eq(kind))
        .filter(order::Column::ProductId.eq(product_id))
        .filter(order::Column::Status.eq(OrderStatus::Pending))
        .one(&txn)
        .await?;
    match pending {
        Some(open)
            if open.expires_at > now
                && open.pay_app == pay_app
                && open.amount_fen == quote.amount_fen =>
        {
            return Ok(Decision::Order(open));
        }
        Some(stale) => return Ok(Decision::SettleFirst(stale)),
        None => {}
    }
    let free = quote.amount_fen == 0;
    let inserted = order::Entity::insert(order::ActiveModel {
        out_trade_no: Set(new_out_trade_no(now)),
        buyer_id: Set(buyer_id),
        product_kind: Set(kind),
        product_id: Set(product_id),
        amount_fen: Set(quote.amount_fen),
        list_price_fen: Set(quote.list_fen),
        currency: Set("CNY".to_owned()),
        status: Set(if free {
            OrderStatus::Paid
        } else {
            OrderStatus::Pending
        }),
        idempotency_key: Set(key.to_owned()),
        transaction_id: Set(None),
        prepay_id: Set(None),
        pay_app: Set(pay_app),
        created_at: Set(now),
        expires_at: Set(now + rules.timeout),
        paid_at: Set(free.then_some(now)),
        refunded_at: Set(None),
        closed_at: Set(None),
        updated_at: Set(now),
        promoter_id: Set(promoter_id),
        profit_sharing: Set(profit_sharing && !free),
        seller_id: Set(seller_id),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([order::Column::BuyerId, order::Column::IdempotencyKey])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await;
    let inserted = match inserted {
        Ok(inserted) => inserted,
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Ok(Decision::Again);
        }
        Err(error) => return Err(error.into()),
    };
    let created = by_idempotency_key(&txn, buyer_id, key)
        .await?
        .ok_or(AppError::NotFound("order"))?;
    if inserted == 1 {
        record_discounts(&txn, created.id, &quote).await?;
        for copy in quote.discounts.iter().filter_map(|d| d.coupon_id) {
            if let Err(taken) = coupons::apply::reserve(&txn, copy, created.id).await {
                // A concurrent order took the coupon picked for this one: price again
                // with what is left (a coupon the buyer named is refused instead).
                if coupon_named {
                    return Err(taken);
                }
                return Ok(Decision::Again);
            }
        }
        if free {
            entitlements::grant(&txn, &created, now).await?;
        }
    }
    txn.commit().await?;
    Ok(Decision::Order(created))
}

/// Writes the discounts an order was priced with, in the order applied.
async fn record_discounts(
    txn: &impl ConnectionTrait,
    order_id: i64,
    quote: &pricing::Quote,
) -> AppResult<()> {
    if quote.discounts.is_empty() {
        return Ok(());
    }
    let rows = quote
        .discounts
        .iter()
        .enumerate()
        .map(|(position, discount)| order_discount::ActiveModel {
            order_id: Set(order_id),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            kind: Set(discount.kind),
            label: Set(discount.label.clone()),
            amount_fen: Set(discount.amount_fen),
            coupon_id: Set(discount.coupon_id),
            ..Default::default()
        });
    order_discount::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    Ok(())
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
    let appid = appid_for(provider, order.pay_app)?;
    let prepay_id = match &order.prepay_id {
        Some(prepay_id) => prepay_id.clone(),
        None => {
            let payer_openid =
                crate::service::identities::openid(db, order.buyer_id, order.pay_app)
                    .await?
                    .ok_or(AppError::Forbidden(
                        "sign in from the app this order is paid in",
                    ))?;
            let title = sellable(db, order.product_kind, order.product_id)
                .await?
                .map(|s| s.title)
                .unwrap_or_default();
            let request = PrepayRequest {
                out_trade_no: order.out_trade_no.clone(),
                description: format!("知库 - {title}"),
                amount_fen: order.amount_fen,
                appid: appid.clone(),
                payer_openid,
                time_expire: order.expires_at,
                profit_sharing: order.profit_sharing,
            };
            let prepay_id = provider
                .prepay(&request)
                .await
                .map_err(|e| payment_unavailable(e, "product"))?;
            order::Entity::update_many()
                .col_expr(order::Column::PrepayId, Expr::value(prepay_id.clone()))
                .filter(order::Column::Id.eq(order.id))
                .filter(order::Column::PrepayId.is_null())
                .exec(db)
                .await?;
            prepay_id
        }
    };
    // Concurrent checkouts of one order may each have prepaid; the first stored id is
    // the one every caller signs (WeChat Pay answers a repeated prepay with it anyway).
    let order = reload(db, order.id).await?;
    let prepay_id = order.prepay_id.clone().unwrap_or(prepay_id);
    let payment = provider
        .payment_params(&appid, &prepay_id)
        .map_err(|e| payment_unavailable(e, "product"))?;
    Ok(Checkout {
        order,
        payment: Some(payment),
    })
}

/// Cancels the buyer's own unpaid order (admins on the console: anyone's). The order
/// is closed at the provider first; if the provider cannot close it because it was
/// paid meanwhile, the payment is applied and the cancellation refused.
pub async fn cancel_order(
    db: &DatabaseConnection,
    effects: &Effects,
    payments: &Payments,
    actor: &Actor,
    order_id: i64,
) -> AppResult<order::Model> {
    let buyer_id = actor.require_user()?;
    let row = order::Entity::find_by_id(order_id)
        .one(db)
        .await?
        .ok_or_else(|| crate::service::not_found("order"))?;
    if row.buyer_id != buyer_id && !actor.is_console_admin() {
        return Err(PRIVATE);
    }
    let not_pending = || {
        FieldError::new(
            "order",
            UserErrorCode::InvalidState,
            "only a pending order can be cancelled",
        )
        .into()
    };
    if row.status != OrderStatus::Pending {
        return Err(not_pending());
    }
    match settle_pending(db, effects, payments, &row, Utc::now()).await? {
        Settled::Closed => reload(db, row.id).await,
        Settled::Paid => Err(FieldError::new(
            "order",
            UserErrorCode::InvalidState,
            "this order has been paid and cannot be cancelled",
        )
        .into()),
        Settled::StillOpen => Err(FieldError::new(
            "order",
            UserErrorCode::InvalidState,
            "a payment of this order is under way; try again shortly",
        )
        .into()),
        Settled::Unavailable => Err(FieldError::new(
            "order",
            UserErrorCode::PaymentUnavailable,
            "the payment provider could not close the order right now; try again shortly",
        )
        .into()),
    }
}
