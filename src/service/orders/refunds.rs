//! Refunds: requested by admins and selling creators, or started automatically for a
//! payment that arrived after its order was closed. A refund row (PROCESSING) is
//! written before the provider is called, with an `out_refund_no` that names the same
//! refund at WeChat Pay on every retry; its final state comes from the provider's
//! answer, its notification or a query during reconciliation.

use chrono::{DateTime, Utc};
use entity::enums::{OrderStatus, RefundStatus};
use entity::{order, refund};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use sha2::{Digest, Sha256};

use super::{PaymentOutcome, Payments, payment_unavailable, reload, sellable};
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::payments::{PaymentError, PaymentProvider, RefundRequest, RefundResult, RefundState};
use crate::service::effects::{Effects, Event};
use crate::service::entitlements;
use crate::service::validation::{Checks, FieldError, UserErrorCode};

/// The reason written on automatic refunds (shown to the buyer by WeChat Pay).
pub const AUTOMATIC_REASON: &str = "订单已关闭，款项原路退回";

/// The reason written on refunds of paid questions not answered in time.
pub const UNANSWERED_REASON: &str = "提问未在约定时间内回答，款项原路退回";

/// Our refund number for an order and idempotency key: the same key always names the
/// same refund at WeChat Pay.
pub(crate) fn out_refund_no(order_id: i64, key: &str) -> String {
    let digest = hex::encode(Sha256::digest(format!("{order_id}:{key}").as_bytes()));
    format!("RF{}", &digest[..30])
}

/// Moves a refund to a final state, in the caller's transaction. SUCCESS (from
/// PROCESSING, or from ABNORMAL once the money found its way back) marks the order
/// refunded and revokes access; ABNORMAL and CLOSED return a refunding order to PAID.
pub(crate) async fn apply_refund_state(
    db: &impl ConnectionTrait,
    found: &refund::Model,
    state: RefundState,
    refund_id: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (status, from) = match state {
        RefundState::Processing => return Ok(()),
        RefundState::Success => (
            RefundStatus::Success,
            vec![RefundStatus::Processing, RefundStatus::Abnormal],
        ),
        RefundState::Abnormal => (RefundStatus::Abnormal, vec![RefundStatus::Processing]),
        RefundState::Closed => (RefundStatus::Closed, vec![RefundStatus::Processing]),
    };
    let mut update = refund::Entity::update_many()
        .col_expr(refund::Column::Status, Expr::value(status))
        .filter(refund::Column::Id.eq(found.id))
        .filter(refund::Column::Status.is_in(from));
    if let Some(refund_id) = refund_id {
        update = update.col_expr(refund::Column::RefundId, Expr::value(refund_id.to_owned()));
    }
    if status == RefundStatus::Success {
        update = update.col_expr(refund::Column::SucceededAt, Expr::value(now));
    }
    if update.exec(db).await?.rows_affected != 1 {
        return Ok(());
    }
    let mut order_update = order::Entity::update_many()
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(found.order_id));
    order_update = if status == RefundStatus::Success {
        order_update
            .col_expr(order::Column::Status, Expr::value(OrderStatus::Refunded))
            .col_expr(order::Column::RefundedAt, Expr::value(now))
            .filter(order::Column::Status.is_in([OrderStatus::Refunding, OrderStatus::Paid]))
    } else {
        order_update
            .col_expr(order::Column::Status, Expr::value(OrderStatus::Paid))
            .filter(order::Column::Status.eq(OrderStatus::Refunding))
    };
    let moved = order_update.exec(db).await?;
    if moved.rows_affected == 1 && status == RefundStatus::Success {
        let refunded = reload(db, found.order_id).await?;
        entitlements::revoke(db, &refunded, now).await?;
        crate::service::ledger::record_refund(db, &refunded, found, now).await?;
        crate::service::analytics::rollup::take_back(db, &refunded).await?;
        let title = sellable(db, refunded.product_kind, refunded.product_id)
            .await?
            .map(|s| s.title)
            .unwrap_or_default();
        crate::service::messages::compose::refund_done(db, &refunded, found, title, now).await?;
    }
    Ok(())
}

/// Refunds a paid order in full: admins on the console at any time, the selling
/// creator within the refund window. The same idempotency key gives the same refund.
/// A refund the provider refuses is closed and the order is PAID again (a
/// REFUND_REFUSED user error says so).
pub async fn refund_order(
    db: &DatabaseConnection,
    effects: &Effects,
    payments: &Payments,
    actor: &Actor,
    order_id: i64,
    reason: Option<&str>,
    idempotency_key: &str,
) -> AppResult<order::Model> {
    let user_id = actor.require_user()?;
    let (provider, rules) = (payments.provider.as_ref(), payments.rules);
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
        None => start(db, &row, &number, reason.clone(), user_id, now).await?,
    };
    match submit(db, effects, provider, &row, &pending).await {
        Ok(()) => reload(db, row.id).await,
        Err(PaymentError::Refused { code, .. }) => Err(FieldError::new(
            "order",
            UserErrorCode::RefundRefused,
            format!("the payment provider refused the refund ({code}); the order stays paid; retry later with a new idempotency key"),
        )
        .into()),
        // A failed call leaves the refund PROCESSING: a retry with the same key (or
        // reconciliation) asks again with the same out_refund_no, which WeChat Pay
        // treats as the same refund.
        Err(error) => Err(payment_unavailable(error, "order")),
    }
}

/// Moves a paid order to REFUNDING and writes its refund, in one transaction.
async fn start(
    db: &DatabaseConnection,
    row: &order::Model,
    number: &str,
    reason: Option<String>,
    requested_by: i64,
    now: DateTime<Utc>,
) -> AppResult<refund::Model> {
    let txn = crate::db::begin_write(db).await?;
    let created = start_in(&txn, row, number, reason, requested_by, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// Moves a paid order to REFUNDING and writes its refund, in the caller's transaction.
async fn start_in(
    txn: &impl ConnectionTrait,
    row: &order::Model,
    number: &str,
    reason: Option<String>,
    requested_by: i64,
    now: DateTime<Utc>,
) -> AppResult<refund::Model> {
    if row.status != OrderStatus::Paid || row.amount_fen == 0 {
        return Err(FieldError::new(
            "order",
            UserErrorCode::InvalidState,
            "only a paid, charged order can be refunded",
        )
        .into());
    }
    let moved = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(OrderStatus::Refunding))
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(row.id))
        .filter(order::Column::Status.eq(OrderStatus::Paid))
        .exec(txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(FieldError::new(
            "order",
            UserErrorCode::InvalidState,
            "a refund is already in progress",
        )
        .into());
    }
    Ok(refund::ActiveModel {
        order_id: Set(row.id),
        out_refund_no: Set(number.to_owned()),
        refund_id: Set(None),
        amount_fen: Set(row.amount_fen),
        reason: Set(reason),
        status: Set(RefundStatus::Processing),
        requested_by: Set(requested_by),
        created_at: Set(now),
        succeeded_at: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// Refunds the order of a paid question not answered by its due time: claims the
/// question (OPEN to EXPIRED) and starts the refund in one transaction, then sends it
/// (a failed send stays PROCESSING; reconciliation sends it again, and never gives up:
/// the money is the asker's). False when the question was answered, or its order is no
/// longer PAID, meanwhile (nothing is changed then).
pub(crate) async fn refund_unanswered(
    db: &DatabaseConnection,
    effects: &Effects,
    payments: &Payments,
    question: &entity::paid_question::Model,
    order_id: i64,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    use entity::enums::QuestionStatus;
    use entity::paid_question;
    let row = reload(db, order_id).await?;
    if row.status != OrderStatus::Paid {
        return Ok(false);
    }
    let number = out_refund_no(row.id, "unanswered-question");
    let txn = crate::db::begin_write(db).await?;
    let claimed = paid_question::Entity::update_many()
        .col_expr(
            paid_question::Column::Status,
            Expr::value(QuestionStatus::Expired),
        )
        .filter(paid_question::Column::Id.eq(question.id))
        .filter(paid_question::Column::Status.eq(QuestionStatus::Open))
        .filter(paid_question::Column::AnswerDueAt.lte(now))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(false);
    }
    let reason = Some(UNANSWERED_REASON.to_owned());
    let Ok(pending) = start_in(&txn, &row, &number, reason, row.buyer_id, now).await else {
        // Refunded or refunding by hand since it was read: leave it to that refund.
        return Ok(false);
    };
    txn.commit().await?;
    if let Err(error) = submit(db, effects, payments.provider.as_ref(), &row, &pending).await {
        tracing::warn!(%error, out_refund_no = %pending.out_refund_no, "question refund not accepted yet; reconciliation retries");
    }
    Ok(true)
}

/// Sends a PROCESSING refund to the provider and applies its answer. A refusal of a
/// requested refund closes it and returns the order to PAID in one transaction; an
/// automatic refund is never given up (the money is the buyer's): it stays PROCESSING
/// and reconciliation sends it again.
async fn submit(
    db: &DatabaseConnection,
    effects: &Effects,
    provider: &dyn PaymentProvider,
    row: &order::Model,
    pending: &refund::Model,
) -> Result<(), PaymentError> {
    let request = RefundRequest {
        out_trade_no: row.out_trade_no.clone(),
        out_refund_no: pending.out_refund_no.clone(),
        reason: pending.reason.clone(),
        refund_fen: pending.amount_fen,
        total_fen: row.amount_fen,
    };
    let answer = provider.refund(&request).await;
    let automatic = matches!(
        pending.reason.as_deref(),
        Some(AUTOMATIC_REASON | UNANSWERED_REASON)
    );
    let applied = match &answer {
        Ok(result) => record_answer(db, effects, row, pending, result).await,
        Err(PaymentError::Refused { code, message }) if !automatic => {
            tracing::warn!(%code, %message, out_refund_no = %pending.out_refund_no, "refund refused by the provider");
            close_refused(db, pending).await
        }
        Err(_) => Ok(()),
    };
    if let Err(error) = applied {
        // The provider's answer could not be written; reconciliation asks again.
        tracing::error!(?error, out_refund_no = %pending.out_refund_no, "recording a refund answer failed");
        return Err(PaymentError::Unavailable(
            "refund answer not recorded".into(),
        ));
    }
    answer.map(|_| ())
}

/// Writes the provider's answer about a refund and, once final, publishes it.
async fn record_answer(
    db: &DatabaseConnection,
    effects: &Effects,
    row: &order::Model,
    pending: &refund::Model,
    result: &RefundResult,
) -> AppResult<()> {
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
        pending,
        result.state,
        Some(&result.refund_id),
        Utc::now(),
    )
    .await?;
    txn.commit().await?;
    if result.state != RefundState::Processing {
        let refunded = Event::OrderRefunded {
            order_id: row.id,
            buyer_id: row.buyer_id,
        };
        effects.publish(db, refunded).await;
    }
    Ok(())
}

/// A refused refund: CLOSED, and its order PAID again, together.
async fn close_refused(db: &DatabaseConnection, pending: &refund::Model) -> AppResult<()> {
    let txn = crate::db::begin_write(db).await?;
    apply_refund_state(&txn, pending, RefundState::Closed, None, Utc::now()).await?;
    txn.commit().await?;
    Ok(())
}

/// After a payment was applied: submits the automatic refund it started, if any. A
/// failure is logged; reconciliation sends it again.
pub(crate) async fn submit_started(
    db: &DatabaseConnection,
    effects: &Effects,
    provider: &dyn PaymentProvider,
    order: &order::Model,
    outcome: &PaymentOutcome,
) {
    if let PaymentOutcome::RefundStarted(started) = outcome
        && let Err(error) = submit(db, effects, provider, order, started).await
    {
        tracing::warn!(%error, out_refund_no = %started.out_refund_no, "automatic refund not accepted yet; reconciliation retries");
    }
}

/// Reconciliation of one PROCESSING refund: asks the provider about it and applies
/// the answer; one it never received (the request was lost) is sent again.
/// True when the refund reached a final state.
pub(crate) async fn reconcile_refund(
    db: &DatabaseConnection,
    effects: &Effects,
    provider: &dyn PaymentProvider,
    pending: &refund::Model,
) -> AppResult<bool> {
    let row = reload(db, pending.order_id).await?;
    match provider.query_refund(&pending.out_refund_no).await {
        Ok(Some(result)) => record_answer(db, effects, &row, pending, &result).await?,
        Ok(None) => {
            if let Err(error) = submit(db, effects, provider, &row, pending).await {
                tracing::warn!(%error, out_refund_no = %pending.out_refund_no, "refund resubmission failed");
            }
        }
        Err(error) => {
            tracing::warn!(%error, out_refund_no = %pending.out_refund_no, "refund query failed");
        }
    }
    let now = refund::Entity::find_by_id(pending.id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("refund"))?;
    Ok(now.status != RefundStatus::Processing)
}
