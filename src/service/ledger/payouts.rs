//! Payouts: available balances paid to creators and promoters by WeChat Pay merchant
//! transfer to their WeChat balance (scene 1005, 佣金报酬).
//!
//! A payout is written before it is requested, in one transaction: the `payouts` row
//! with its `out_bill_no` (WeChat Pay's idempotency key) and the `PAYOUT` journal that
//! takes the amount out of the payee's account. Only then is the transfer sent. So a
//! run that dies between the two leaves a REQUESTED payout, which the next run asks
//! WeChat Pay about by number (and sends again under the same number if the request
//! never arrived): nobody is paid twice. At most one payout per payee is open (a
//! partial unique index), so two runs at once pay a payee once. A transfer that ends
//! in FAIL or CANCELLED writes a `PAYOUT_RETURN` journal: the amount is available again.

use chrono::{DateTime, Utc};
use entity::enums::{IdentityApp, LedgerAccountKind, LedgerJournalKind, PayoutState};
use entity::{creator, ledger_account, ledger_entry, payout};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, JoinType, QueryFilter, QueryOrder,
    QuerySelect, SqlErr,
};

use super::balances::{available_balance, entry_account};
use super::{account, lock_account, post_payout};
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::payments::{PaymentError, PaymentProvider, TransferBill, TransferRequest};
use crate::service::orders::Payments;

/// What a payout run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PayoutRun {
    /// Payouts written and requested in this run.
    pub started: u64,
    /// Open payouts of earlier runs asked about (or sent again).
    pub resumed: u64,
    /// Payouts that reached SUCCESS in this run.
    pub succeeded: u64,
    /// Payouts that failed or were cancelled in this run (their amounts owed again).
    pub failed: u64,
    /// Payees with a balance to pay but no WeChat identity to pay it to.
    pub skipped: u64,
}

/// Runs payouts (admins): first resumes the open payouts of earlier runs, then pays
/// every creator and promoter whose available balance reaches the configured minimum.
pub async fn run_payouts_as(
    db: &DatabaseConnection,
    payments: &Payments,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<PayoutRun> {
    if !actor.is_admin() {
        return Err(AppError::Forbidden("only admins run payouts"));
    }
    run_payouts(db, payments, now).await
}

/// Runs payouts (the scheduled job and [`run_payouts_as`]).
pub async fn run_payouts(
    db: &DatabaseConnection,
    payments: &Payments,
    now: DateTime<Utc>,
) -> AppResult<PayoutRun> {
    let provider = payments.provider.as_ref();
    let mut run = PayoutRun::default();
    let open = payout::Entity::find()
        .filter(payout::Column::State.is_in([
            PayoutState::Requested,
            PayoutState::Accepted,
            PayoutState::WaitUserConfirm,
        ]))
        .order_by_asc(payout::Column::Id)
        .all(db)
        .await?;
    for pending in open {
        run.resumed += 1;
        let answer = match provider.query_transfer(&pending.out_bill_no).await {
            Ok(Some(bill)) => Ok(bill),
            // The request never reached WeChat Pay: send it, under the same number.
            Ok(None) if pending.state == PayoutState::Requested => {
                request(db, provider, &pending).await
            }
            Ok(None) => continue,
            Err(error) => Err(error),
        };
        tally(&mut run, settle(db, &pending, answer, now).await?);
    }
    // Creators with a merchant of their own are paid order by order first; what
    // remains available (a sharing that closed included) goes by transfer below.
    super::sharing::share_due(db, payments, &mut run, now).await?;
    let minimum_fen = payments.rules.payout_minimum_fen;
    for (kind, owner_id) in payable(db, minimum_fen, now).await? {
        let Some(written) = write_payout(db, kind, owner_id, minimum_fen, now).await? else {
            run.skipped += 1;
            continue;
        };
        run.started += 1;
        let answer = request(db, provider, &written).await;
        tally(&mut run, settle(db, &written, answer, now).await?);
    }
    Ok(run)
}

fn tally(run: &mut PayoutRun, state: Option<PayoutState>) {
    match state {
        Some(PayoutState::Success) => run.succeeded += 1,
        Some(PayoutState::Fail | PayoutState::Cancelled) => run.failed += 1,
        _ => {}
    }
}

/// Creator and promoter accounts whose available balance (entries available by now,
/// negated: credits are owed) is at least `minimum_fen`, computed in the database.
async fn payable(
    db: &impl ConnectionTrait,
    minimum_fen: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<(LedgerAccountKind, i64)>> {
    Ok(ledger_entry::Entity::find()
        .select_only()
        .column(ledger_account::Column::Kind)
        .column(ledger_account::Column::OwnerId)
        .join(JoinType::InnerJoin, entry_account())
        .filter(
            ledger_account::Column::Kind
                .is_in([LedgerAccountKind::Creator, LedgerAccountKind::Promoter]),
        )
        .filter(ledger_entry::Column::AvailableAt.lte(now))
        .group_by(ledger_account::Column::Kind)
        .group_by(ledger_account::Column::OwnerId)
        .having(Expr::cust(format!(
            "-SUM(ledger_entries.amount_fen) >= {minimum_fen}"
        )))
        .order_by_asc(ledger_account::Column::OwnerId)
        .into_tuple()
        .all(db)
        .await?)
}

/// The user a payee's money goes to.
async fn payee_user(
    db: &impl ConnectionTrait,
    kind: LedgerAccountKind,
    owner_id: i64,
) -> AppResult<Option<i64>> {
    Ok(match kind {
        LedgerAccountKind::Creator => creator::Entity::find_by_id(owner_id)
            .one(db)
            .await?
            .map(|c| c.user_id),
        LedgerAccountKind::Promoter => Some(owner_id),
        LedgerAccountKind::PlatformCash | LedgerAccountKind::PlatformFees => None,
    })
}

/// A new bill number: `ZKP`, the time and random digits (letters and digits only, as
/// WeChat Pay asks).
fn new_out_bill_no(now: DateTime<Utc>) -> String {
    let random = rand::random::<u32>() % 100_000_000;
    format!("ZKP{}{random:08}", now.format("%Y%m%d%H%M%S"))
}

/// Writes a payout of the payee's available balance and its `PAYOUT` journal in one
/// transaction. None when there is nothing to pay after all (another run's payout is
/// open, or took the balance below `minimum_fen`), or no WeChat identity to pay it to.
async fn write_payout(
    db: &DatabaseConnection,
    kind: LedgerAccountKind,
    owner_id: i64,
    minimum_fen: i64,
    now: DateTime<Utc>,
) -> AppResult<Option<payout::Model>> {
    let Some(user_id) = payee_user(db, kind, owner_id).await? else {
        return Ok(None);
    };
    if crate::service::identities::openid(db, user_id, IdentityApp::MiniProgram)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    let txn = crate::db::begin_write(db).await?;
    let payee = account(&txn, kind, owner_id, now).await?;
    // Locked and re-read inside the transaction: a concurrent run may have paid it
    // already, or be sharing one of its orders.
    lock_account(&txn, payee).await?;
    let available_fen = available_balance(&txn, payee, now).await?;
    if available_fen < minimum_fen {
        return Ok(None);
    }
    let out_bill_no = new_out_bill_no(now);
    let inserted = payout::ActiveModel {
        payee_kind: Set(kind),
        payee_id: Set(owner_id),
        user_id: Set(user_id),
        amount_fen: Set(available_fen),
        out_bill_no: Set(out_bill_no.clone()),
        state: Set(PayoutState::Requested),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let written = match inserted {
        Ok(written) => written,
        // Another run's payout for this payee is open: it pays them.
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Ok(None);
        }
        Err(error) => return Err(error.into()),
    };
    post_payout(
        &txn,
        LedgerJournalKind::Payout,
        format!("payout:{out_bill_no}"),
        None,
        payee,
        available_fen,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Some(written))
}

/// Sends a written payout's transfer request.
async fn request(
    db: &impl ConnectionTrait,
    provider: &dyn PaymentProvider,
    written: &payout::Model,
) -> Result<TransferBill, PaymentError> {
    let openid = crate::service::identities::openid(db, written.user_id, IdentityApp::MiniProgram)
        .await
        .map_err(|e| PaymentError::Config(e.to_string()))?
        .unwrap_or_default();
    let remark = match written.payee_kind {
        LedgerAccountKind::Promoter => "知库推广佣金",
        _ => "知库创作者收入",
    };
    provider
        .transfer(&TransferRequest {
            out_bill_no: written.out_bill_no.clone(),
            appid: provider.notification_keys().appid.clone(),
            openid,
            amount_fen: written.amount_fen,
            remark: remark.to_owned(),
        })
        .await
}

/// Applies WeChat Pay's answer to a payout: its state and bill, or, when it refused
/// the request, FAIL. An answer that did not come (unreachable, unverified) changes
/// nothing: the payout stays open for the next run. Returns the state reached.
async fn settle(
    db: &DatabaseConnection,
    written: &payout::Model,
    answer: Result<TransferBill, PaymentError>,
    now: DateTime<Utc>,
) -> AppResult<Option<PayoutState>> {
    match answer {
        Ok(bill) => apply_bill(db, &written.out_bill_no, &bill, now).await,
        Err(PaymentError::Refused { code, message }) => {
            tracing::warn!(out_bill_no = %written.out_bill_no, %code, %message, "transfer refused");
            let bill = TransferBill {
                out_bill_no: written.out_bill_no.clone(),
                transfer_bill_no: String::new(),
                state: "FAIL".into(),
                package_info: None,
                fail_reason: Some(code),
            };
            apply_bill(db, &written.out_bill_no, &bill, now).await
        }
        Err(error) => {
            tracing::warn!(out_bill_no = %written.out_bill_no, %error, "transfer unanswered; the next run asks again");
            Ok(None)
        }
    }
}

/// Moves a payout to the state WeChat Pay reports (from an answer or a query), in a
/// transaction of its own; see [`apply_bill_in`].
pub async fn apply_bill(
    db: &DatabaseConnection,
    out_bill_no: &str,
    bill: &TransferBill,
    now: DateTime<Utc>,
) -> AppResult<Option<PayoutState>> {
    let txn = crate::db::begin_write(db).await?;
    let applied = apply_bill_in(&txn, out_bill_no, bill, now).await?;
    txn.commit().await?;
    Ok(applied)
}

/// Moves a payout to the state WeChat Pay reports (an answer, a query or the
/// `MCHTRANSFER.BILL.FINISHED` notification) in the caller's transaction, once: a
/// final payout stays as it is. A failed or cancelled one returns its amount in a
/// `PAYOUT_RETURN` journal. None when nothing changed.
pub async fn apply_bill_in(
    txn: &DatabaseTransaction,
    out_bill_no: &str,
    bill: &TransferBill,
    now: DateTime<Utc>,
) -> AppResult<Option<PayoutState>> {
    let Some(state) = PayoutState::parse(&bill.state) else {
        return Ok(None);
    };
    let Some(current) = payout::Entity::find()
        .filter(payout::Column::OutBillNo.eq(out_bill_no))
        .lock_exclusive()
        .one(txn)
        .await?
    else {
        return Err(AppError::NotFound("payout"));
    };
    if current.state.is_final() || current.state == state {
        return Ok(None);
    }
    let (kind, owner_id, amount_fen) = (current.payee_kind, current.payee_id, current.amount_fen);
    let mut change = current.into_active_model();
    change.state = Set(state);
    if !bill.transfer_bill_no.is_empty() {
        change.transfer_bill_no = Set(Some(bill.transfer_bill_no.clone()));
    }
    if bill.package_info.is_some() {
        change.package_info = Set(bill.package_info.clone());
    }
    change.fail_reason = Set(bill.fail_reason.clone());
    change.updated_at = Set(now);
    change.update(txn).await?;
    if matches!(state, PayoutState::Fail | PayoutState::Cancelled) {
        let payee = account(txn, kind, owner_id, now).await?;
        post_payout(
            txn,
            LedgerJournalKind::PayoutReturn,
            format!("payout-return:{out_bill_no}"),
            None,
            payee,
            amount_fen,
            now,
        )
        .await?;
    }
    Ok(Some(state))
}

/// A user's payouts, newest first (the user themself and admins): what the
/// mini-program shows, with the `package_info` of one waiting for confirmation.
pub async fn payouts_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    user_id: i64,
    limit: u64,
) -> AppResult<Vec<payout::Model>> {
    if actor.user_id() != Some(user_id) && !actor.is_admin() {
        return Err(AppError::Forbidden("only the payee and admins see payouts"));
    }
    Ok(payout::Entity::find()
        .filter(payout::Column::UserId.eq(user_id))
        .order_by_desc(payout::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}
