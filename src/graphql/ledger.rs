//! The money ledger on the API: a creator's earnings and entries, the platform's
//! position, and the admin's fee setting.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::graphql::context::ContextExt;
use crate::graphql::ids::{self, type_name};
use crate::graphql::money::Money;
use crate::graphql::objects::Creator;
use crate::graphql::pagination::{self, Conn};
use crate::graphql::payload::{input_id, payload};
use crate::service::ledger::balances::{self, Earnings as EarningsRow, Statement};

/// Money owed to a creator or promoter.
#[derive(SimpleObject)]
pub struct Earnings {
    /// Earned, still inside the refund window.
    pub pending: Money,
    /// Payable now; negative when a refund took back money already paid out (netted
    /// against later earnings).
    pub available: Money,
    /// Paid out so far.
    pub paid_out: Money,
}

impl From<EarningsRow> for Earnings {
    fn from(row: EarningsRow) -> Self {
        Earnings {
            pending: Money::cny(row.pending_fen),
            available: Money::cny(row.available_fen),
            paid_out: Money::cny(row.paid_out_fen),
        }
    }
}

/// What a ledger entry records.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::LedgerJournalKind")]
pub enum LedgerEntryKind {
    /// A sale's share.
    Sale,
    /// A refund taking a sale's share back.
    Refund,
    /// A payout.
    Payout,
    /// A failed payout, owed again.
    PayoutReturn,
}

/// One line of an account's history, seen from the account holder: positive amounts
/// are owed to them, negative ones taken back or paid out.
pub struct LedgerEntry(pub Statement);

/// One line of an account's history.
#[Object]
impl LedgerEntry {
    /// What it records.
    async fn kind(&self) -> LedgerEntryKind {
        self.0.kind.into()
    }
    /// The amount, as the holder sees it (positive: owed to them).
    async fn amount(&self) -> Money {
        Money::cny(-self.0.entry.amount_fen)
    }
    /// When it was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.entry.created_at
    }
    /// From when it can be paid out (a sale's share: the end of the refund window).
    async fn available_at(&self) -> DateTime<Utc> {
        self.0.entry.available_at
    }
    /// The order it concerns, if any.
    async fn order_id(&self) -> Option<ID> {
        self.0.order_id.map(|id| ids::encode(type_name::ORDER, id))
    }
}

/// A creator's earnings (the creator and admins).
pub async fn earnings_of(ctx: &Context<'_>, creator: &Creator) -> async_graphql::Result<Earnings> {
    let earnings =
        balances::creator_earnings(ctx.db()?, ctx.actor()?, creator.0.id, Utc::now()).await?;
    Ok(earnings.into())
}

/// A page of a creator's ledger entries, newest first (the creator and admins).
pub async fn entries_of(
    ctx: &Context<'_>,
    creator: &Creator,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<Conn<LedgerEntry>> {
    let db = ctx.db()?;
    let page = pagination::page_request(first, after, None, None)?;
    let rows = balances::creator_entries(db, ctx.actor()?, creator.0.id, &page).await?;
    Ok(pagination::connection(db, rows, LedgerEntry))
}

/// A page of a user's promoter ledger entries, newest first (the user and admins).
pub async fn promoter_entries_of(
    ctx: &Context<'_>,
    user_id: i64,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<Conn<LedgerEntry>> {
    let db = ctx.db()?;
    let page = pagination::page_request(first, after, None, None)?;
    let rows = balances::promoter_entries(db, ctx.actor()?, user_id, &page).await?;
    Ok(pagination::connection(db, rows, LedgerEntry))
}

/// The platform's money (admins).
#[derive(SimpleObject)]
pub struct PlatformLedger {
    /// Held in the merchant account.
    pub cash: Money,
    /// Earned from fees, net of refunds.
    pub fees: Money,
    /// Owed to creators and promoters, pending and available.
    pub owed: Money,
}

/// Ledger queries.
#[derive(Default)]
pub struct LedgerQuery;

/// Ledger queries.
#[Object]
impl LedgerQuery {
    /// The platform's cash, fee revenue and what it owes (admins).
    async fn platform_ledger(&self, ctx: &Context<'_>) -> async_graphql::Result<PlatformLedger> {
        let position = balances::platform_position(ctx.db()?, ctx.actor()?).await?;
        Ok(PlatformLedger {
            cash: Money::cny(position.cash_fen),
            fees: Money::cny(position.fees_fen),
            owed: Money::cny(position.owed_fen),
        })
    }
}

/// Input of `setCreatorFee`.
#[derive(InputObject)]
pub struct SetCreatorFeeInput {
    /// The creator.
    pub creator: ID,
    /// The platform's fee on their sales from now on, in basis points (0..=10000);
    /// null returns them to the configured default.
    pub basis_points: Option<i32>,
}

payload!(
    /// Result of `setCreatorFee`.
    SetCreatorFeePayload, creator: Creator
);

/// Ledger mutations.
#[derive(Default)]
pub struct LedgerMutation;

/// Ledger mutations.
#[Object]
impl LedgerMutation {
    /// Sets a creator's own platform fee (admins). Sales already made keep their split.
    async fn set_creator_fee(
        &self,
        ctx: &Context<'_>,
        input: SetCreatorFeeInput,
    ) -> async_graphql::Result<SetCreatorFeePayload> {
        let result = async {
            let id = input_id(&input.creator, type_name::CREATOR, "creator")?;
            crate::service::ledger::set_creator_fee(
                ctx.db()?,
                ctx.effects()?,
                ctx.actor()?,
                id,
                input.basis_points,
            )
            .await
            .map(Creator)
        }
        .await;
        SetCreatorFeePayload::from_result(result)
    }
}
