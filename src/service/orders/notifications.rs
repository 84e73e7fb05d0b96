//! WeChat Pay's notifications applied to our orders: after the protocol's checks
//! (signature, decryption, merchant and app ids, in `payments::notification`), every
//! fact is checked against the order it names (amount, currency, payer; a refund's
//! order) before anything changes, and then, in one transaction, the event is recorded
//! once and the order and its entitlement move together.

use chrono::{DateTime, Utc};
use entity::{order, refund};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};

use super::{
    ConfirmedPayment, OrderRules, PaymentOutcome, Payments, apply_payment, payment_mismatch,
    record_event, refunds,
};
use crate::error::{AppError, AppResult};
use crate::payments::RefundState;
use crate::payments::notification::{self, Event, NotifyError, SignatureHeaders};
use crate::service::effects::{Effects, Event as Committed};

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
    effects: &Effects,
    payments: &Payments,
    headers: &SignatureHeaders,
    body: &[u8],
) -> Result<Option<i64>, NotificationFailure> {
    let provider = payments.provider.as_ref();
    let keys = provider.notification_keys();
    let now = Utc::now();
    let notice = notification::verify_and_decrypt(keys, headers, body, now)?;
    match notification::parse_event(keys, &notice)? {
        Event::PaymentSucceeded(transaction) => {
            let order = order_by_out_trade_no(db, &transaction.out_trade_no)
                .await?
                .ok_or(NotifyError::Mismatch("unknown out_trade_no"))?;
            let payment = ConfirmedPayment {
                transaction_id: transaction.transaction_id.clone(),
                amount_fen: transaction.amount.total,
                currency: transaction.amount.currency.clone().unwrap_or_default(),
                payer_openid: transaction
                    .payer
                    .as_ref()
                    .and_then(|p| p.openid.clone())
                    .unwrap_or_default(),
            };
            let buyer_openid = buyer_openid(db, &order).await?;
            if let Some(reason) = payment_mismatch(&order, &buyer_openid, &payment) {
                return Err(NotifyError::Mismatch(reason).into());
            }
            let reported = Reported {
                event_id: &notice.id,
                event_type: &notice.event_type,
                payload: &notice.resource,
            };
            let applied =
                apply_confirmed(db, &payments.rules, &order, &payment, reported, now).await?;
            match applied {
                None => Ok(None), // a duplicate: answered success, nothing changes
                Some(outcome) => {
                    announce(db, effects, &order, &outcome).await;
                    refunds::submit_started(db, effects, provider, &order, &outcome).await;
                    Ok(Some(order.buyer_id))
                }
            }
        }
        Event::Refund(resource) => {
            let found = refund::Entity::find()
                .filter(refund::Column::OutRefundNo.eq(resource.out_refund_no.as_str()))
                .one(db)
                .await
                .map_err(AppError::from)?
                .ok_or(NotifyError::Mismatch("unknown out_refund_no"))?;
            let order = super::reload(db, found.order_id).await?;
            if resource.out_trade_no != order.out_trade_no {
                return Err(NotifyError::Mismatch("refund names another order").into());
            }
            if resource.amount.refund != found.amount_fen {
                return Err(NotifyError::Mismatch("refund amount does not match").into());
            }
            let state =
                RefundState::parse(&resource.refund_status).ok_or(NotifyError::Malformed)?;
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
            refunds::apply_refund_state(&txn, &found, state, Some(&resource.refund_id), now)
                .await?;
            txn.commit().await.map_err(AppError::from)?;
            let refunded = Committed::OrderRefunded {
                order_id: order.id,
                buyer_id: order.buyer_id,
            };
            effects.publish(db, refunded).await;
            Ok(Some(order.buyer_id))
        }
        Event::Transfer(resource) => {
            let found = entity::payout::Entity::find()
                .filter(entity::payout::Column::OutBillNo.eq(resource.out_bill_no.as_str()))
                .one(db)
                .await
                .map_err(AppError::from)?
                .ok_or(NotifyError::Mismatch("unknown out_bill_no"))?;
            if resource.transfer_amount != found.amount_fen {
                return Err(NotifyError::Mismatch("transfer amount does not match").into());
            }
            let txn = crate::db::begin_write(db).await.map_err(AppError::from)?;
            if !record_event(
                &txn,
                &notice.id,
                &notice.event_type,
                None,
                &notice.resource,
                now,
            )
            .await?
            {
                return Ok(None);
            }
            let bill = crate::payments::TransferBill {
                out_bill_no: resource.out_bill_no.clone(),
                transfer_bill_no: resource.transfer_bill_no.clone(),
                state: resource.state.clone(),
                package_info: None,
                fail_reason: resource.fail_reason.clone(),
            };
            crate::service::ledger::payouts::apply_bill_in(&txn, &found.out_bill_no, &bill, now)
                .await?;
            txn.commit().await.map_err(AppError::from)?;
            Ok(None)
        }
        Event::Other => {
            // Recorded for the books and otherwise ignored.
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
    }
}

async fn order_by_out_trade_no(
    db: &impl ConnectionTrait,
    out_trade_no: &str,
) -> AppResult<Option<order::Model>> {
    Ok(order::Entity::find()
        .filter(order::Column::OutTradeNo.eq(out_trade_no))
        .one(db)
        .await?)
}

/// The openid the order's buyer pays with (an order with no such buyer matches no payer).
async fn buyer_openid(db: &impl ConnectionTrait, order: &order::Model) -> AppResult<String> {
    Ok(
        crate::service::identities::openid(db, order.buyer_id, order.pay_app)
            .await?
            .unwrap_or_default(),
    )
}

/// How the provider told us of a payment: the event recorded once per id.
struct Reported<'a> {
    event_id: &'a str,
    event_type: &'a str,
    payload: &'a str,
}

/// In one transaction: records the event (once) and applies the payment. None when
/// the event was seen before.
async fn apply_confirmed(
    db: &DatabaseConnection,
    rules: &OrderRules,
    order: &order::Model,
    payment: &ConfirmedPayment,
    reported: Reported<'_>,
    now: DateTime<Utc>,
) -> AppResult<Option<PaymentOutcome>> {
    let Reported {
        event_id,
        event_type,
        payload,
    } = reported;
    let txn = crate::db::begin_write(db).await?;
    // Lock the order before anything references it: two deliveries of one payment
    // racing otherwise both take the order's key lock (the event's foreign key) and
    // then deadlock on the status update (PostgreSQL). Re-read inside the
    // transaction: the status decides what happens.
    let current = order::Entity::find_by_id(order.id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("order"))?;
    if !record_event(&txn, event_id, event_type, Some(order.id), payload, now).await? {
        return Ok(None);
    }
    let outcome = apply_payment(&txn, rules, &current, &payment.transaction_id, now).await?;
    txn.commit().await?;
    Ok(Some(outcome))
}

/// Applies a payment the provider reported when asked (reconciliation, a failed
/// close), after the same checks as a notification, and submits an automatic refund
/// it started. None when the payment does not belong to the order (logged).
pub(crate) async fn complete_confirmed(
    db: &DatabaseConnection,
    effects: &Effects,
    payments: &Payments,
    order: &order::Model,
    payment: &ConfirmedPayment,
    now: DateTime<Utc>,
) -> AppResult<Option<PaymentOutcome>> {
    let provider = payments.provider.as_ref();
    let buyer_openid = buyer_openid(db, order).await?;
    if let Some(reason) = payment_mismatch(order, &buyer_openid, payment) {
        tracing::error!(out_trade_no = %order.out_trade_no, reason, "provider reports a payment that does not match the order");
        return Ok(None);
    }
    let event_id = format!("query:{}", payment.transaction_id);
    let reported = Reported {
        event_id: &event_id,
        event_type: "RECONCILED.SUCCESS",
        payload: "{}",
    };
    let outcome = apply_confirmed(db, &payments.rules, order, payment, reported, now)
        .await?
        .unwrap_or(PaymentOutcome::Unchanged);
    announce(db, effects, order, &outcome).await;
    refunds::submit_started(db, effects, provider, order, &outcome).await;
    Ok(Some(outcome))
}

/// Publishes a completed payment.
async fn announce(
    db: &DatabaseConnection,
    effects: &Effects,
    order: &order::Model,
    outcome: &PaymentOutcome,
) {
    if *outcome == PaymentOutcome::Completed {
        let paid = Committed::OrderPaid {
            order_id: order.id,
            buyer_id: order.buyer_id,
        };
        effects.publish(db, paid).await;
    }
}
