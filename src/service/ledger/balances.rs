//! What the ledger says: a creator's or promoter's earnings, an account's entries, the
//! platform's position, and the check that everything sums to zero.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::enums::{LedgerAccountKind, LedgerJournalKind};
use entity::{ledger_account, ledger_entry, ledger_journal, order};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, QueryTrait,
    RelationDef, Select,
};

use super::find_account;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::page::{self, Counted, Page, PageRequest, SortKey};

/// SUM of BIGINT is NUMERIC on PostgreSQL and NULL over no rows: cast back, 0 for none.
const SUM_AMOUNT: &str = "CAST(COALESCE(SUM(ledger_entries.amount_fen), 0) AS BIGINT)";

/// Money owed to a creator or promoter, in fen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Earnings {
    /// Earned but still inside the refund window.
    pub pending_fen: i64,
    /// Payable now (negative after a refund of money already paid out, netted against
    /// later earnings).
    pub available_fen: i64,
    /// Paid out so far (net of payouts that failed and came back).
    pub paid_out_fen: i64,
}

/// The platform's position, in fen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlatformPosition {
    /// Held in the merchant account.
    pub cash_fen: i64,
    /// Earned from fees, net of refunds.
    pub fees_fen: i64,
    /// Owed to creators and promoters, pending and available.
    pub owed_fen: i64,
}

/// Entries to their journal (for joins across the ledger's modules).
pub(super) fn entry_journal() -> RelationDef {
    ledger_entry::Entity::belongs_to(ledger_journal::Entity)
        .from(ledger_entry::Column::JournalId)
        .to(ledger_journal::Column::Id)
        .into()
}

/// Entries to their account.
pub(super) fn entry_account() -> RelationDef {
    ledger_entry::Entity::belongs_to(ledger_account::Entity)
        .from(ledger_entry::Column::AccountId)
        .to(ledger_account::Column::Id)
        .into()
}

/// The sum of the entries `query` selects (debits positive, credits negative).
pub(super) async fn sum_of(
    db: &impl ConnectionTrait,
    query: Select<ledger_entry::Entity>,
) -> AppResult<i64> {
    Ok(query
        .select_only()
        .expr(Expr::cust(SUM_AMOUNT))
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or(0))
}

/// What an account holds that is available at `now` (credits, what is owed, positive).
pub(super) async fn available_balance(
    db: &impl ConnectionTrait,
    account_id: i64,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    Ok(-sum_of(
        db,
        ledger_entry::Entity::find()
            .filter(ledger_entry::Column::AccountId.eq(account_id))
            .filter(ledger_entry::Column::AvailableAt.lte(now)),
    )
    .await?)
}

/// The earnings of the account of `kind` owed to `owner_id` at `now`.
pub async fn earnings(
    db: &impl ConnectionTrait,
    kind: LedgerAccountKind,
    owner_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Earnings> {
    let Some(account_id) = find_account(db, kind, owner_id).await? else {
        return Ok(Earnings::default());
    };
    let of_account =
        || ledger_entry::Entity::find().filter(ledger_entry::Column::AccountId.eq(account_id));
    // Credits are what is owed: negate the sums.
    let owed = -sum_of(db, of_account()).await?;
    let pending = -sum_of(
        db,
        of_account().filter(ledger_entry::Column::AvailableAt.gt(now)),
    )
    .await?;
    let paid_out = sum_of(
        db,
        of_account()
            .join(JoinType::InnerJoin, entry_journal())
            .filter(
                ledger_journal::Column::Kind
                    .is_in([LedgerJournalKind::Payout, LedgerJournalKind::PayoutReturn]),
            ),
    )
    .await?;
    Ok(Earnings {
        pending_fen: pending,
        available_fen: owed - pending,
        paid_out_fen: paid_out,
    })
}

/// A creator's earnings, for the creator themselves and admins.
pub async fn creator_earnings(
    db: &impl ConnectionTrait,
    actor: &Actor,
    creator_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Earnings> {
    require_creator_or_admin(actor, creator_id)?;
    earnings(db, LedgerAccountKind::Creator, creator_id, now).await
}

/// The creator themself or an admin: who sees a creator's money and fee rate.
pub fn require_creator_or_admin(actor: &Actor, creator_id: i64) -> AppResult<()> {
    if actor.is_admin() || actor.creator_id() == Some(creator_id) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only the creator and admins see a creator's earnings and fee",
        ))
    }
}

/// One line of an account's history, with the journal it belongs to.
#[derive(Debug, Clone)]
pub struct Statement {
    /// The entry.
    pub entry: ledger_entry::Model,
    /// What it records.
    pub kind: LedgerJournalKind,
    /// The order it concerns, if any.
    pub order_id: Option<i64>,
}

/// A page of a creator's ledger entries, newest first (the creator and admins), and
/// the query to count them all.
pub async fn creator_entries(
    db: &impl ConnectionTrait,
    actor: &Actor,
    creator_id: i64,
    request: &PageRequest,
) -> AppResult<(Page<Statement>, Counted<ledger_entry::Entity>)> {
    require_creator_or_admin(actor, creator_id)?;
    entries(db, LedgerAccountKind::Creator, creator_id, request).await
}

/// A page of a user's promoter ledger entries (commissions, their reversals and
/// payouts), newest first, for the user themself and admins.
pub async fn promoter_entries(
    db: &impl ConnectionTrait,
    actor: &Actor,
    user_id: i64,
    request: &PageRequest,
) -> AppResult<(Page<Statement>, Counted<ledger_entry::Entity>)> {
    if actor.user_id() != Some(user_id) && !actor.is_admin() {
        return Err(AppError::Forbidden("a promoter's earnings are their own"));
    }
    entries(db, LedgerAccountKind::Promoter, user_id, request).await
}

/// A page of the entries of the account of `kind` owed to `owner_id`, newest first.
async fn entries(
    db: &impl ConnectionTrait,
    kind: LedgerAccountKind,
    owner_id: i64,
    request: &PageRequest,
) -> AppResult<(Page<Statement>, Counted<ledger_entry::Entity>)> {
    // No account yet: id 0 matches no entry, so the page is empty.
    let account_id = find_account(db, kind, owner_id).await?.unwrap_or(0);
    let sort = SortKey {
        key: None,
        id: ledger_entry::Column::Id,
        descending: true,
    };
    let query = ledger_entry::Entity::find().filter(ledger_entry::Column::AccountId.eq(account_id));
    let (entries, counted) = page::fetch(db, query, &sort, request, |e| e.id).await?;
    let journal_ids: Vec<i64> = entries.items.iter().map(|(_, e)| e.journal_id).collect();
    let journals: HashMap<i64, ledger_journal::Model> = if journal_ids.is_empty() {
        HashMap::new()
    } else {
        ledger_journal::Entity::find()
            .filter(ledger_journal::Column::Id.is_in(journal_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|j| (j.id, j))
            .collect()
    };
    let items = entries
        .items
        .into_iter()
        .filter_map(|(cursor, entry)| {
            let journal = journals.get(&entry.journal_id)?;
            Some((
                cursor,
                Statement {
                    kind: journal.kind,
                    order_id: journal.order_id,
                    entry,
                },
            ))
        })
        .collect();
    let page = Page {
        items,
        has_next_page: entries.has_next_page,
        has_previous_page: entries.has_previous_page,
    };
    Ok((page, counted))
}

/// The platform's cash, fee revenue and what it owes (admins).
pub async fn platform_position(
    db: &impl ConnectionTrait,
    actor: &Actor,
) -> AppResult<PlatformPosition> {
    if !actor.is_admin() {
        return Err(AppError::Forbidden("only admins see the platform's ledger"));
    }
    let of_kinds = |kinds: Vec<LedgerAccountKind>| {
        ledger_entry::Entity::find()
            .join(JoinType::InnerJoin, entry_account())
            .filter(ledger_account::Column::Kind.is_in(kinds))
    };
    Ok(PlatformPosition {
        cash_fen: sum_of(db, of_kinds(vec![LedgerAccountKind::PlatformCash])).await?,
        fees_fen: -sum_of(db, of_kinds(vec![LedgerAccountKind::PlatformFees])).await?,
        owed_fen: -sum_of(
            db,
            of_kinds(vec![
                LedgerAccountKind::Creator,
                LedgerAccountKind::Promoter,
            ]),
        )
        .await?,
    })
}

/// What [`check`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Journals written.
    pub journals: u64,
    /// The sum of every entry (0 when the ledger balances).
    pub total_fen: i64,
    /// Journals whose entries do not sum to zero.
    pub unbalanced_journals: Vec<i64>,
    /// Paid orders with money that have no sale journal.
    pub unrecorded_orders: Vec<i64>,
}

impl CheckReport {
    /// Whether the ledger balances and records every paid order.
    pub fn is_clean(&self) -> bool {
        self.total_fen == 0
            && self.unbalanced_journals.is_empty()
            && self.unrecorded_orders.is_empty()
    }
}

/// Checks the ledger on a live database: everything sums to zero, journal by journal,
/// and every paid order (paid, refunding or refunded, with money) has its sale.
pub async fn check(db: &impl ConnectionTrait) -> AppResult<CheckReport> {
    use sea_orm::PaginatorTrait;
    let journals = ledger_journal::Entity::find().count(db).await?;
    let total_fen = sum_of(db, ledger_entry::Entity::find()).await?;
    let unbalanced_journals: Vec<i64> = ledger_entry::Entity::find()
        .select_only()
        .column(ledger_entry::Column::JournalId)
        .group_by(ledger_entry::Column::JournalId)
        .having(Expr::cust("SUM(ledger_entries.amount_fen) <> 0"))
        .limit(100)
        .into_tuple()
        .all(db)
        .await?;
    let recorded = ledger_journal::Entity::find()
        .select_only()
        .column(ledger_journal::Column::OrderId)
        .filter(ledger_journal::Column::Kind.eq(LedgerJournalKind::Sale))
        .into_query();
    let unrecorded_orders: Vec<i64> = order::Entity::find()
        .select_only()
        .column(order::Column::Id)
        .filter(order::Column::AmountFen.gt(0))
        .filter(order::Column::PaidAt.is_not_null())
        .filter(order::Column::Status.is_in([
            entity::enums::OrderStatus::Paid,
            entity::enums::OrderStatus::Refunding,
            entity::enums::OrderStatus::Refunded,
        ]))
        .filter(order::Column::Id.not_in_subquery(recorded))
        .limit(100)
        .into_tuple()
        .all(db)
        .await?;
    Ok(CheckReport {
        journals,
        total_fen,
        unbalanced_journals,
        unrecorded_orders,
    })
}
