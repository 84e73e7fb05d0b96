//! Payouts on the API: the admins' payout run, a payee's payouts (with what the
//! mini-program needs to confirm a transfer), and a creator's monthly statement.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::graphql::context::ContextExt;
use crate::graphql::ids::type_name;
use crate::graphql::money::Money;
use crate::graphql::objects::Creator;
use crate::graphql::payload::{input_id, payload};
use crate::service::ledger::payouts::{self, PayoutRun as PayoutRunRow};
use crate::service::ledger::sharing;
use crate::service::ledger::statement::{self, MonthStatement};
use crate::service::orders::Payments;

/// Where a payout stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::PayoutState")]
pub enum PayoutState {
    /// Written; the transfer request may not have reached WeChat Pay yet.
    Requested,
    /// WeChat Pay is processing the transfer.
    Accepted,
    /// The payee has to confirm receipt in WeChat (`wx.requestMerchantTransfer`).
    WaitUserConfirm,
    /// In the payee's WeChat balance.
    Success,
    /// Failed; the amount is available again.
    Fail,
    /// Cancelled; the amount is available again.
    Cancelled,
}

/// Money paid out to a creator or promoter by WeChat Pay merchant transfer.
pub struct Payout(pub entity::payout::Model);

/// Money paid out by WeChat Pay merchant transfer.
#[Object]
impl Payout {
    /// Our bill number (`out_bill_no` at WeChat Pay).
    async fn out_bill_no(&self) -> &str {
        &self.0.out_bill_no
    }
    /// How much.
    async fn amount(&self) -> Money {
        Money::cny(self.0.amount_fen)
    }
    /// Where it stands.
    async fn state(&self) -> PayoutState {
        self.0.state.into()
    }
    /// Whether it pays creator earnings (else promoter commissions).
    async fn for_creator_earnings(&self) -> bool {
        self.0.payee_kind == entity::enums::LedgerAccountKind::Creator
    }
    /// While WAIT_USER_CONFIRM: the `package` the mini-program passes to
    /// `wx.requestMerchantTransfer` so the payee can confirm.
    async fn package_info(&self) -> Option<&str> {
        match self.0.state {
            entity::enums::PayoutState::WaitUserConfirm => self.0.package_info.as_deref(),
            _ => None,
        }
    }
    /// Why it failed, in WeChat Pay's words.
    async fn fail_reason(&self) -> Option<&str> {
        self.0.fail_reason.as_deref()
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When its state last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// What a payout run did.
#[derive(SimpleObject)]
pub struct PayoutRun {
    /// Payouts written and requested.
    pub started: u64,
    /// Open payouts of earlier runs asked about (or sent again).
    pub resumed: u64,
    /// Payouts that reached SUCCESS.
    pub succeeded: u64,
    /// Payouts that failed or were cancelled (their amounts available again).
    pub failed: u64,
    /// Payees with a balance but no WeChat identity to pay it to.
    pub skipped: u64,
}

impl From<PayoutRunRow> for PayoutRun {
    fn from(run: PayoutRunRow) -> Self {
        PayoutRun {
            started: run.started,
            resumed: run.resumed,
            succeeded: run.succeeded,
            failed: run.failed,
            skipped: run.skipped,
        }
    }
}

/// A creator's month (Asia/Shanghai), reconciling to the ledger:
/// closing = opening + sales - fees - commissions - refunds - payouts.
#[derive(SimpleObject)]
pub struct CreatorStatement {
    /// The month's first instant.
    pub starts_at: DateTime<Utc>,
    /// The next month's first instant.
    pub ends_at: DateTime<Utc>,
    /// Owed to the creator when the month began.
    pub opening_balance: Money,
    /// Paid by buyers for the creator's products.
    pub sales: Money,
    /// The platform's fees on those sales.
    pub fees: Money,
    /// Promoters' commissions on those sales.
    pub commissions: Money,
    /// The creator's share taken back by refunds.
    pub refunds: Money,
    /// Paid out, net of payouts that failed and came back.
    pub payouts: Money,
    /// Owed to the creator when the month ended.
    pub closing_balance: Money,
}

impl From<MonthStatement> for CreatorStatement {
    fn from(s: MonthStatement) -> Self {
        CreatorStatement {
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            opening_balance: Money::cny(s.opening_fen),
            sales: Money::cny(s.sales_fen),
            fees: Money::cny(s.fees_fen),
            commissions: Money::cny(s.commissions_fen),
            refunds: Money::cny(s.refunds_fen),
            payouts: Money::cny(s.payouts_fen),
            closing_balance: Money::cny(s.closing_fen),
        }
    }
}

/// A creator's statement for a month (the creator and admins).
pub async fn statement_of(
    ctx: &Context<'_>,
    creator: &Creator,
    month: &str,
) -> async_graphql::Result<CreatorStatement> {
    let found = statement::creator_statement(ctx.db()?, ctx.actor()?, creator.0.id, month).await?;
    Ok(found.into())
}

/// A user's payouts, newest first (the user themself and admins).
pub async fn payouts_of(
    ctx: &Context<'_>,
    user_id: i64,
    first: i32,
) -> async_graphql::Result<Vec<Payout>> {
    let limit = u64::try_from(first.clamp(1, 100)).unwrap_or(20);
    let rows = payouts::payouts_of(ctx.db()?, ctx.actor()?, user_id, limit).await?;
    Ok(rows.into_iter().map(Payout).collect())
}

payload!(
    /// Result of `runPayouts`.
    RunPayoutsPayload, run: PayoutRun
);

/// Input of `setCreatorMerchant`.
#[derive(InputObject)]
pub struct SetCreatorMerchantInput {
    /// The creator.
    pub creator: ID,
    /// Their WeChat Pay merchant id (8 to 10 digits); null goes back to transfers.
    pub mchid: Option<String>,
    /// The merchant's registered name (WeChat Pay checks it; sent encrypted).
    pub name: Option<String>,
}

payload!(
    /// Result of `setCreatorMerchant`.
    SetCreatorMerchantPayload, creator: Creator
);

/// Payout mutations.
#[derive(Default)]
pub struct PayoutMutation;

/// Payout mutations.
#[Object]
impl PayoutMutation {
    /// Pays every creator and promoter whose available balance reaches the minimum,
    /// by WeChat Pay transfer to their WeChat balance, after asking about the open
    /// payouts of earlier runs (admins). Running it twice, or at once, pays nobody
    /// twice.
    async fn run_payouts(&self, ctx: &Context<'_>) -> async_graphql::Result<RunPayoutsPayload> {
        let result = async {
            let payments = ctx.data::<Payments>().map_err(|_| {
                crate::error::AppError::internal(std::io::Error::other("payments missing"))
            })?;
            payouts::run_payouts_as(ctx.db()?, payments, ctx.actor()?, Utc::now())
                .await
                .map(PayoutRun::from)
        }
        .await;
        RunPayoutsPayload::from_result(result)
    }

    /// Pays a creator by profit sharing (分账) to their own WeChat Pay merchant from now
    /// on (admins). The merchant is added as a receiver at WeChat Pay, their new orders'
    /// funds are held for sharing, and each order's share goes to the merchant once its
    /// refund window is over. A null `mchid` goes back to transfers.
    async fn set_creator_merchant(
        &self,
        ctx: &Context<'_>,
        input: SetCreatorMerchantInput,
    ) -> async_graphql::Result<SetCreatorMerchantPayload> {
        let result = async {
            let id = input_id(&input.creator, type_name::CREATOR, "creator")?;
            let payments = ctx.data::<Payments>().map_err(|_| {
                crate::error::AppError::internal(std::io::Error::other("payments missing"))
            })?;
            let merchant = input
                .mchid
                .map(|mchid| (mchid, input.name.unwrap_or_default()));
            sharing::set_creator_merchant(
                ctx.db()?,
                ctx.effects()?,
                payments.provider.as_ref(),
                ctx.actor()?,
                id,
                merchant,
            )
            .await
            .map(Creator)
        }
        .await;
        SetCreatorMerchantPayload::from_result(result)
    }
}
