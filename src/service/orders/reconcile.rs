//! Reconciliation: the background pass that asks the provider about what we have not
//! heard of, so a lost notification loses neither money nor access. It walks every
//! pending order older than a few minutes and every refund still processing, in pages
//! by id (a cursor, so orders that stay pending never crowd newer ones out).

use chrono::{DateTime, Duration, Utc};
use entity::enums::{OrderStatus, RefundStatus};
use entity::{order, refund};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{
    PaymentOutcome, Payments, Settled, close_if_pending, notifications, refunds, settle_pending,
};
use crate::error::AppResult;
use crate::payments::TradeState;
use crate::service::effects::Effects;

/// Rows read per page.
const PAGE: u64 = 200;

/// What one reconciliation pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    /// Orders found paid at the provider and completed here.
    pub completed: usize,
    /// Expired unpaid orders closed.
    pub closed: usize,
    /// Payments found for closed orders whose product could no longer be had, refunded.
    pub refunded: usize,
    /// Refunds that reached a final state.
    pub refunds_settled: usize,
}

impl Reconciled {
    /// Whether the pass changed anything.
    pub fn changed_anything(&self) -> bool {
        self.completed + self.closed + self.refunded + self.refunds_settled > 0
    }
}

/// Asks the provider about pending orders and processing refunds older than `after`:
/// paid orders are completed, expired unpaid ones closed (at the provider first),
/// refunds brought to the state the provider reports (a refund it never received is
/// sent again).
pub async fn reconcile(
    db: &DatabaseConnection,
    effects: &Effects,
    payments: &Payments,
    after: Duration,
    now: DateTime<Utc>,
) -> AppResult<Reconciled> {
    let mut done = Reconciled::default();
    let mut cursor = 0;
    loop {
        let page = order::Entity::find()
            .filter(order::Column::Status.eq(OrderStatus::Pending))
            .filter(order::Column::CreatedAt.lt(now - after))
            .filter(order::Column::Id.gt(cursor))
            .order_by_asc(order::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = page.last() else { break };
        cursor = last.id;
        for pending in &page {
            reconcile_order(db, effects, payments, pending, now, &mut done).await?;
        }
    }
    let mut cursor = 0;
    loop {
        let page = refund::Entity::find()
            .filter(refund::Column::Status.eq(RefundStatus::Processing))
            .filter(refund::Column::CreatedAt.lt(now - after))
            .filter(refund::Column::Id.gt(cursor))
            .order_by_asc(refund::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = page.last() else { break };
        cursor = last.id;
        for pending in &page {
            if refunds::reconcile_refund(db, effects, payments.provider.as_ref(), pending).await? {
                done.refunds_settled += 1;
            }
        }
    }
    Ok(done)
}

async fn reconcile_order(
    db: &DatabaseConnection,
    effects: &Effects,
    payments: &Payments,
    pending: &order::Model,
    now: DateTime<Utc>,
    done: &mut Reconciled,
) -> AppResult<()> {
    let expired = pending.expires_at <= now;
    if pending.prepay_id.is_none() {
        // No prepay id was ever stored, so no learner holds payment parameters for it:
        // nothing to ask the provider, and once expired it closes here.
        if expired && close_if_pending(db, pending.id, now).await? {
            done.closed += 1;
        }
        return Ok(());
    }
    match payments.provider.query(&pending.out_trade_no).await {
        Ok(TradeState::Success(payment)) => {
            match notifications::complete_confirmed(db, effects, payments, pending, &payment, now)
                .await?
            {
                Some(PaymentOutcome::Completed) => done.completed += 1,
                Some(PaymentOutcome::RefundStarted(_)) => done.refunded += 1,
                Some(PaymentOutcome::Unchanged) | None => {}
            }
        }
        Ok(TradeState::NotPay | TradeState::Closed | TradeState::NotFound) if expired => {
            if settle_pending(db, effects, payments, pending, now).await? == Settled::Closed {
                done.closed += 1;
            }
        }
        Ok(_) => {}
        Err(error) => {
            tracing::warn!(%error, out_trade_no = %pending.out_trade_no, "order query failed");
        }
    }
    Ok(())
}
