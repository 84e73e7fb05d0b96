//! The money ledger: what the platform holds, earns and owes, in double entry.
//!
//! Every payment lands in the platform's merchant account, so each money event is a
//! journal of entries that sum to zero (positive debits, negative credits):
//! - a **sale** debits `PLATFORM_CASH` with the amount paid and credits the platform's
//!   fee to `PLATFORM_FEES`, each promoter's commission to their `PROMOTER` account and
//!   the rest to the creator's `CREATOR` account ([`split`]);
//! - a **refund** reverses its sale's entries in a journal of its own (the money leaves
//!   the merchant account, and the fee, commissions and creator's share are taken back;
//!   a creator already paid goes negative and is netted against later sales).
//!
//! An earning is pending until its `available_at` (the end of the refund window) and
//! available after. Journals are written in the transaction of the change they record,
//! once per reference (a unique index), and entries are never updated or deleted
//! (triggers refuse it): corrections are new journals. [`balances::check`] proves the
//! whole ledger sums to zero (`zhiku ledger check`).

pub mod balances;
pub mod payouts;
pub mod sharing;
pub mod split;
pub mod statement;

use chrono::{DateTime, Utc};
use entity::enums::{LedgerAccountKind, LedgerJournalKind};
use entity::{creator, ledger_account, ledger_entry, ledger_journal, order, refund};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect,
};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::effects::{Effects, Event};
use crate::service::orders::OrderRules;
use crate::service::promotions;
use crate::service::validation::{FieldError, UserErrorCode};

/// The owner id of the platform's own accounts.
const PLATFORM: i64 = 0;

/// The id of the account of `kind` owed to `owner_id`, opened on first use (two
/// concurrent first uses agree on one account).
pub(crate) async fn account(
    db: &impl ConnectionTrait,
    kind: LedgerAccountKind,
    owner_id: i64,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    if let Some(id) = find_account(db, kind, owner_id).await? {
        return Ok(id);
    }
    ledger_account::Entity::insert(ledger_account::ActiveModel {
        kind: Set(kind),
        owner_id: Set(owner_id),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            ledger_account::Column::Kind,
            ledger_account::Column::OwnerId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    find_account(db, kind, owner_id)
        .await?
        .ok_or(AppError::NotFound("ledger account"))
}

/// The id of the account of `kind` owed to `owner_id`, if it was ever opened.
pub(crate) async fn find_account(
    db: &impl ConnectionTrait,
    kind: LedgerAccountKind,
    owner_id: i64,
) -> AppResult<Option<i64>> {
    Ok(ledger_account::Entity::find()
        .filter(ledger_account::Column::Kind.eq(kind))
        .filter(ledger_account::Column::OwnerId.eq(owner_id))
        .one(db)
        .await?
        .map(|a| a.id))
}

/// Locks an account's row for the rest of the transaction, so writers that read its
/// balance and then pay out of it (transfers, profit sharing) take turns. SQLite's
/// IMMEDIATE write transactions take turns already.
pub(crate) async fn lock_account(txn: &DatabaseTransaction, account_id: i64) -> AppResult<()> {
    ledger_account::Entity::find_by_id(account_id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(AppError::NotFound("ledger account"))?;
    Ok(())
}

/// Money leaving the platform for a payee (`PAYOUT`: out of the payee's balance into
/// the transfer or sharing) or coming back when that failed (`PAYOUT_RETURN`), as one
/// two-line journal against the platform's cash, written once per `reference`.
pub(crate) async fn post_payout(
    txn: &DatabaseTransaction,
    kind: LedgerJournalKind,
    reference: String,
    order_id: Option<i64>,
    payee: i64,
    amount_fen: i64,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    // A payout debits what the platform owed the payee; a return credits it again.
    let owed_change = if kind == LedgerJournalKind::PayoutReturn {
        -amount_fen
    } else {
        amount_fen
    };
    let cash = account(txn, LedgerAccountKind::PlatformCash, PLATFORM, now).await?;
    // Money paid out (or back) moves the available balance for every reader at once.
    // Dated `now`, a run that began a moment earlier and reads the balance after this
    // commit (it waited for the account's lock) would not count it yet, and would pay
    // the same money again; dated at the epoch, every cut-off counts it.
    let at_once = DateTime::<Utc>::UNIX_EPOCH;
    let lines = [
        Line {
            account_id: payee,
            amount_fen: owed_change,
            available_at: at_once,
        },
        Line {
            account_id: cash,
            amount_fen: -owed_change,
            available_at: at_once,
        },
    ];
    post(txn, kind, reference, order_id, &lines, now).await
}

/// One line of a journal about to be written.
#[derive(Debug, Clone, Copy)]
struct Line {
    account_id: i64,
    amount_fen: i64,
    available_at: DateTime<Utc>,
}

/// Writes a journal of `lines` for `reference`, once: false when one was written
/// before (the caller's retry or a concurrent writer). Lines of zero are left out; an
/// unbalanced journal is refused before anything is written.
async fn post(
    db: &impl ConnectionTrait,
    kind: LedgerJournalKind,
    reference: String,
    order_id: Option<i64>,
    lines: &[Line],
    now: DateTime<Utc>,
) -> AppResult<bool> {
    if lines.iter().map(|l| l.amount_fen).sum::<i64>() != 0 {
        return Err(AppError::internal(std::io::Error::other(format!(
            "unbalanced ledger journal {reference}"
        ))));
    }
    let inserted = ledger_journal::Entity::insert(ledger_journal::ActiveModel {
        kind: Set(kind),
        reference: Set(reference.clone()),
        order_id: Set(order_id),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            ledger_journal::Column::Kind,
            ledger_journal::Column::Reference,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    if inserted == 0 {
        return Ok(false);
    }
    let journal = ledger_journal::Entity::find()
        .filter(ledger_journal::Column::Kind.eq(kind))
        .filter(ledger_journal::Column::Reference.eq(reference))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("ledger journal"))?;
    let rows: Vec<_> = lines
        .iter()
        .filter(|l| l.amount_fen != 0)
        .map(|l| ledger_entry::ActiveModel {
            journal_id: Set(journal.id),
            account_id: Set(l.account_id),
            amount_fen: Set(l.amount_fen),
            available_at: Set(l.available_at),
            created_at: Set(now),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() {
        ledger_entry::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(true)
}

fn sale_reference(order_id: i64) -> String {
    format!("order:{order_id}")
}

/// Records a paid order's split in the payment's transaction: the amount paid into the
/// merchant account, the platform's fee (the creator's own rate, else the configured
/// one), the commissions of the promoters it was made through, and the creator's
/// share, the last two pending until the refund window ends. A free order
/// moves no money and records nothing; recording twice records once.
pub async fn record_sale(
    db: &impl ConnectionTrait,
    paid: &order::Model,
    seller_creator_id: i64,
    rules: &OrderRules,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if paid.amount_fen <= 0 {
        return Ok(());
    }
    let fee_bps = creator::Entity::find_by_id(seller_creator_id)
        .one(db)
        .await?
        .and_then(|c| c.fee_bps)
        .map_or(rules.platform_fee_bps, i64::from);
    // Nobody earns a commission on their own purchase (a recruiter buying through
    // the promoter they recruited included).
    let mut owed =
        promotions::commissions(db, paid.promoter_id, paid.product_kind, paid.product_id).await?;
    owed.retain(|c| c.promoter_id != paid.buyer_id);
    let parts = split::split(paid.amount_fen, fee_bps, &owed);
    let paid_at = paid.paid_at.unwrap_or(now);
    let available_at = paid_at + rules.refund_window;
    let cash = account(db, LedgerAccountKind::PlatformCash, PLATFORM, now).await?;
    let fees = account(db, LedgerAccountKind::PlatformFees, PLATFORM, now).await?;
    let seller = account(db, LedgerAccountKind::Creator, seller_creator_id, now).await?;
    let mut lines = vec![
        Line {
            account_id: cash,
            amount_fen: paid.amount_fen,
            available_at: paid_at,
        },
        Line {
            account_id: fees,
            amount_fen: -parts.fee_fen,
            available_at: paid_at,
        },
        Line {
            account_id: seller,
            amount_fen: -parts.creator_fen,
            available_at,
        },
    ];
    for (promoter_user_id, commission_fen) in parts.commissions {
        lines.push(Line {
            account_id: account(db, LedgerAccountKind::Promoter, promoter_user_id, now).await?,
            amount_fen: -commission_fen,
            available_at,
        });
    }
    post(
        db,
        LedgerJournalKind::Sale,
        sale_reference(paid.id),
        Some(paid.id),
        &lines,
        now,
    )
    .await?;
    // The day's fee total for statistics, booked with the journal.
    crate::service::analytics::rollup::add_fee(db, paid.seller_id, parts.fee_fen, now).await?;
    Ok(())
}

/// Reverses the sale of a refunded order in the refund's transaction: every entry of
/// the sale, negated. An earning still pending is taken back from pending; one already
/// available (or paid out) from the available balance, now. An order whose sale was
/// never recorded (paid before the ledger existed) reverses nothing.
pub async fn record_refund(
    db: &impl ConnectionTrait,
    refunded: &order::Model,
    done: &refund::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(sale) = ledger_journal::Entity::find()
        .filter(ledger_journal::Column::Kind.eq(LedgerJournalKind::Sale))
        .filter(ledger_journal::Column::Reference.eq(sale_reference(refunded.id)))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let lines: Vec<Line> = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::JournalId.eq(sale.id))
        .all(db)
        .await?
        .into_iter()
        .map(|entry| Line {
            account_id: entry.account_id,
            amount_fen: -entry.amount_fen,
            available_at: entry.available_at.max(now),
        })
        .collect();
    post(
        db,
        LedgerJournalKind::Refund,
        format!("refund:{}", done.id),
        Some(refunded.id),
        &lines,
        now,
    )
    .await?;
    // What the refund gave back of the platform's fee (credits are negative).
    let fees = account(db, LedgerAccountKind::PlatformFees, PLATFORM, now).await?;
    let fee_back: i64 = lines
        .iter()
        .filter(|line| line.account_id == fees)
        .map(|line| line.amount_fen)
        .sum();
    crate::service::analytics::rollup::add_fee(db, refunded.seller_id, -fee_back, now).await?;
    Ok(())
}

/// Sets a creator's own fee rate in basis points, or returns them to the configured
/// default with None (admins). Sales already recorded keep their split.
pub async fn set_creator_fee(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    creator_id: i64,
    basis_points: Option<i32>,
) -> AppResult<creator::Model> {
    if !actor.is_admin() {
        return Err(AppError::Forbidden("only admins set a creator's fee"));
    }
    if let Some(bps) = basis_points
        && !(0..=10_000).contains(&bps)
    {
        return Err(FieldError::new(
            "basisPoints",
            UserErrorCode::OutOfRange,
            "a fee is 0 to 10000 basis points (0 % to 100 %)",
        )
        .into());
    }
    let Some(row) = creator::Entity::find_by_id(creator_id).one(db).await? else {
        return Err(FieldError::new("creator", UserErrorCode::NotFound, "no such creator").into());
    };
    let mut change = row.into_active_model();
    change.fee_bps = Set(basis_points);
    let saved = change.update(db).await?;
    effects
        .publish(
            db,
            Event::UserChanged {
                user_id: saved.user_id,
            },
        )
        .await;
    Ok(saved)
}
