//! What happened to an order after it was made: its refunds, and (for admins) the
//! payment notifications received about it.

use async_graphql::{Context, SimpleObject};
use chrono::{DateTime, Utc};

use crate::graphql::context::ContextExt;
use crate::graphql::enums::RefundStatus;
use crate::graphql::loaders::{PaymentEventsOfOrder, RefundsOfOrder};
use crate::graphql::money::Money;

/// A refund of an order at the payment provider.
#[derive(SimpleObject)]
pub struct Refund {
    /// Our refund number, as sent to WeChat Pay.
    pub out_refund_no: String,
    /// How much goes back to the buyer.
    pub amount: Money,
    /// Why, as the buyer is shown it.
    pub reason: Option<String>,
    /// Where it is at the provider.
    pub status: RefundStatus,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When the money reached the buyer.
    pub succeeded_at: Option<DateTime<Utc>>,
}

/// A payment notification received about an order (its type and time; the payload
/// stays on the server).
#[derive(SimpleObject)]
pub struct PaymentEvent {
    /// WeChat Pay's event type, e.g. `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`.
    pub event_type: String,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
}

/// The refunds of the order `order_id`, oldest first.
pub(crate) async fn refunds(
    ctx: &Context<'_>,
    order_id: i64,
) -> async_graphql::Result<Vec<Refund>> {
    let rows = ctx
        .loader()?
        .load_one(RefundsOfOrder(order_id))
        .await?
        .unwrap_or_default();
    Ok(rows
        .into_iter()
        .map(|row| Refund {
            out_refund_no: row.out_refund_no,
            amount: Money::cny(row.amount_fen),
            reason: row.reason,
            status: row.status.into(),
            created_at: row.created_at,
            succeeded_at: row.succeeded_at,
        })
        .collect())
}

/// The payment notifications about the order `order_id` for an admin on the console;
/// empty for everyone else.
pub(crate) async fn payment_events(
    ctx: &Context<'_>,
    order_id: i64,
) -> async_graphql::Result<Vec<PaymentEvent>> {
    if !ctx.actor()?.is_console_admin() {
        return Ok(Vec::new());
    }
    let rows = ctx
        .loader()?
        .load_one(PaymentEventsOfOrder(order_id))
        .await?
        .unwrap_or_default();
    Ok(rows
        .into_iter()
        .map(|row| PaymentEvent {
            event_type: row.event_type,
            received_at: row.received_at,
        })
        .collect())
}
