//! A creator's monthly statement, computed from the ledger in the database: what they
//! were owed at the start of the month, what moved during it, and what they were owed
//! at its end. The figures reconcile to the fen:
//! `closing = opening + sales - fees - commissions - refunds - payouts`.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Asia::Shanghai;
use entity::enums::{LedgerAccountKind, LedgerJournalKind};
use entity::{ledger_account, ledger_entry, ledger_journal};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, QueryTrait,
};

use super::balances::{entry_account, entry_journal, require_creator_or_admin};
use super::find_account;
use crate::auth::Actor;
use crate::error::AppResult;
use crate::service::validation::{FieldError, UserErrorCode};

/// A creator's month, in fen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MonthStatement {
    /// The month's first instant (Asia/Shanghai midnight).
    pub starts_at: DateTime<Utc>,
    /// The next month's first instant.
    pub ends_at: DateTime<Utc>,
    /// Owed to the creator when the month began (pending and available).
    pub opening_fen: i64,
    /// Paid by buyers for the creator's products.
    pub sales_fen: i64,
    /// The platform's fees on those sales.
    pub fees_fen: i64,
    /// Promoters' commissions on those sales.
    pub commissions_fen: i64,
    /// The creator's share taken back by refunds.
    pub refunds_fen: i64,
    /// Paid out to the creator, net of payouts that failed and came back.
    pub payouts_fen: i64,
    /// Owed to the creator when the month ended.
    pub closing_fen: i64,
}

/// The instants a month (`YYYY-MM`) begins and ends in Asia/Shanghai.
pub fn month_bounds(month: &str) -> AppResult<(DateTime<Utc>, DateTime<Utc>)> {
    let invalid = || {
        FieldError::new(
            "month",
            UserErrorCode::Invalid,
            "a month is written YYYY-MM, e.g. 2026-11",
        )
    };
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .ok()
        .filter(|_| month.len() == 7)
        .ok_or_else(invalid)?;
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    }
    .ok_or_else(invalid)?;
    let at = |day: NaiveDate| crate::service::analytics::buckets::start_of_day(Shanghai, day);
    Ok((at(first), at(next)))
}

const SUM: &str = "CAST(COALESCE(SUM(ledger_entries.amount_fen), 0) AS BIGINT)";

/// What the creator's account was owed before `at`.
async fn owed_before(
    db: &impl ConnectionTrait,
    account_id: i64,
    at: DateTime<Utc>,
) -> AppResult<i64> {
    let credits: Option<i64> = ledger_entry::Entity::find()
        .select_only()
        .expr(Expr::cust(SUM))
        .filter(ledger_entry::Column::AccountId.eq(account_id))
        .filter(ledger_entry::Column::CreatedAt.lt(at))
        .into_tuple()
        .one(db)
        .await?;
    Ok(-credits.unwrap_or(0))
}

/// A creator's statement for `month` (`YYYY-MM`, Asia/Shanghai), for the creator
/// themself and admins: one GROUP BY over the month's journals that touch their
/// account, by journal kind and account kind.
pub async fn creator_statement(
    db: &impl ConnectionTrait,
    actor: &Actor,
    creator_id: i64,
    month: &str,
) -> AppResult<MonthStatement> {
    require_creator_or_admin(actor, creator_id)?;
    let (starts_at, ends_at) = month_bounds(month)?;
    let mut statement = MonthStatement {
        starts_at,
        ends_at,
        ..MonthStatement::default()
    };
    let Some(account_id) = find_account(db, LedgerAccountKind::Creator, creator_id).await? else {
        return Ok(statement);
    };
    let touching = ledger_entry::Entity::find()
        .select_only()
        .column(ledger_entry::Column::JournalId)
        .filter(ledger_entry::Column::AccountId.eq(account_id))
        .filter(ledger_entry::Column::CreatedAt.gte(starts_at))
        .filter(ledger_entry::Column::CreatedAt.lt(ends_at))
        .into_query();
    let sums: Vec<(LedgerJournalKind, LedgerAccountKind, i64)> = ledger_entry::Entity::find()
        .select_only()
        .column_as(ledger_journal::Column::Kind, "journal_kind")
        .column_as(ledger_account::Column::Kind, "account_kind")
        .expr_as(Expr::cust(SUM), "total")
        .join(JoinType::InnerJoin, entry_journal())
        .join(JoinType::InnerJoin, entry_account())
        .filter(ledger_entry::Column::JournalId.in_subquery(touching))
        // Only this creator's own CREATOR account counts (a journal names one seller).
        .filter(
            ledger_account::Column::Kind
                .ne(LedgerAccountKind::Creator)
                .or(ledger_entry::Column::AccountId.eq(account_id)),
        )
        .group_by(ledger_journal::Column::Kind)
        .group_by(ledger_account::Column::Kind)
        .into_tuple()
        .all(db)
        .await?;
    for (journal, account, total) in sums {
        match (journal, account) {
            (LedgerJournalKind::Sale, LedgerAccountKind::PlatformCash) => {
                statement.sales_fen += total;
            }
            (LedgerJournalKind::Sale, LedgerAccountKind::PlatformFees) => {
                statement.fees_fen -= total;
            }
            (LedgerJournalKind::Sale, LedgerAccountKind::Promoter) => {
                statement.commissions_fen -= total;
            }
            (LedgerJournalKind::Refund, LedgerAccountKind::Creator) => {
                statement.refunds_fen += total;
            }
            (
                LedgerJournalKind::Payout | LedgerJournalKind::PayoutReturn,
                LedgerAccountKind::Creator,
            ) => statement.payouts_fen += total,
            _ => {}
        }
    }
    statement.opening_fen = owed_before(db, account_id, starts_at).await?;
    statement.closing_fen = owed_before(db, account_id, ends_at).await?;
    Ok(statement)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_begin_at_midnight_in_shanghai() {
        let (start, end) = month_bounds("2026-12").expect("valid");
        assert_eq!(start.to_rfc3339(), "2026-11-30T16:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2026-12-31T16:00:00+00:00");
        let (start, _) = month_bounds("2027-01").expect("valid");
        assert_eq!(start.to_rfc3339(), "2026-12-31T16:00:00+00:00");
        for bad in ["2026-13", "2026-1", "26-11", "2026-11-01", ""] {
            assert!(month_bounds(bad).is_err(), "{bad}");
        }
    }
}
