//! Profit sharing (分账) for creators with a WeChat Pay merchant id of their own: their
//! orders' funds are frozen at prepay (`settle_info.profit_sharing`), and once an
//! order's refund window is over the payout run sends the creator's share of that
//! payment to their merchant (`/v3/profitsharing/orders`, the rest unfrozen to us).
//!
//! As with transfers, the `profit_shares` row (one per order, a unique index) and the
//! `PAYOUT` journal are written before the request, under a number derived from the
//! order, so a run that dies midway is asked about, never shared twice; a sharing that
//! closes returns the amount (`PAYOUT_RETURN`), and the transfer step then pays it.

use chrono::{DateTime, Utc};
use entity::enums::{LedgerAccountKind, LedgerJournalKind, OrderStatus};
use entity::{creator, ledger_entry, ledger_journal, order, profit_share};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, QueryTrait, SqlErr,
};

use super::balances::{available_balance, sum_of};
use super::payouts::PayoutRun;
use super::{account, lock_account, post_payout, sale_reference};
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::payments::{PaymentError, PaymentProvider, ProfitShareRequest, ProfitShareState};
use crate::service::effects::{Effects, Event};
use crate::service::orders::Payments;
use crate::service::validation::{FieldError, UserErrorCode};

const REQUESTED: &str = "REQUESTED";
const PROCESSING: &str = "PROCESSING";
const FINISHED: &str = "FINISHED";
const CLOSED: &str = "CLOSED";

/// Sets the WeChat Pay merchant a creator's earnings are shared to (admins): adds it
/// as a receiver at WeChat Pay (its registered name, encrypted), then keeps the id.
/// Their orders from now on are paid by profit sharing; None goes back to transfers.
pub async fn set_creator_merchant(
    db: &DatabaseConnection,
    effects: &Effects,
    provider: &dyn PaymentProvider,
    actor: &Actor,
    creator_id: i64,
    merchant: Option<(String, String)>,
) -> AppResult<creator::Model> {
    if !actor.is_admin() {
        return Err(AppError::Forbidden("only admins set a creator's merchant"));
    }
    let Some(row) = creator::Entity::find_by_id(creator_id).one(db).await? else {
        return Err(FieldError::new("creator", UserErrorCode::NotFound, "no such creator").into());
    };
    if let Some((mchid, name)) = &merchant {
        if !(8..=10).contains(&mchid.len()) || !mchid.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(
                "mchid",
                UserErrorCode::Invalid,
                "a WeChat Pay merchant id is 8 to 10 digits",
            )
            .into());
        }
        if name.trim().is_empty() || name.chars().count() > 64 {
            return Err(FieldError::new(
                "name",
                UserErrorCode::Invalid,
                "the merchant's registered name, 1 to 64 characters",
            )
            .into());
        }
        provider
            .add_receiver(mchid, name.trim())
            .await
            .map_err(|error| match error {
                PaymentError::Refused { message, .. } => {
                    AppError::from(FieldError::new("mchid", UserErrorCode::Invalid, &message))
                }
                other => AppError::from(FieldError::new(
                    "mchid",
                    UserErrorCode::PaymentUnavailable,
                    format!("WeChat Pay did not add the receiver: {other}"),
                )),
            })?;
    }
    let mut change = row.into_active_model();
    change.wechat_mchid = Set(merchant.map(|(mchid, _)| mchid));
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

/// Resumes open sharings and shares every order whose refund window is over (a step
/// of the payout run), counting into `run`.
pub async fn share_due(
    db: &DatabaseConnection,
    payments: &Payments,
    run: &mut PayoutRun,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let provider = payments.provider.as_ref();
    let open = profit_share::Entity::find()
        .filter(profit_share::Column::State.is_in([REQUESTED, PROCESSING]))
        .order_by_asc(profit_share::Column::Id)
        .all(db)
        .await?;
    for share in open {
        run.resumed += 1;
        let answer = match provider
            .query_profit_share(&share.out_order_no, &share.transaction_id)
            .await
        {
            Ok(Some(state)) => Ok(state),
            // The request never reached WeChat Pay: send it, under the same number.
            Ok(None) if share.state == REQUESTED => send(provider, &share).await,
            Ok(None) => continue,
            Err(error) => Err(error),
        };
        settle(db, &share, answer, run, now).await?;
    }
    let due = order::Entity::find()
        .filter(order::Column::ProfitSharing.eq(true))
        .filter(order::Column::Status.eq(OrderStatus::Paid))
        .filter(order::Column::PaidAt.lte(now - payments.rules.refund_window))
        .filter(
            order::Column::Id.not_in_subquery(
                profit_share::Entity::find()
                    .select_only()
                    .column(profit_share::Column::OrderId)
                    .into_query(),
            ),
        )
        .order_by_asc(order::Column::Id)
        .all(db)
        .await?;
    for paid in due {
        let Some(share) = write_share(db, &paid, now).await? else {
            continue;
        };
        run.started += 1;
        let answer = send(provider, &share).await;
        settle(db, &share, answer, run, now).await?;
    }
    Ok(())
}

/// Sends a written sharing: the share to the merchant, or, when there is nothing to
/// share, the payment's funds unfrozen to us.
async fn send(
    provider: &dyn PaymentProvider,
    share: &profit_share::Model,
) -> Result<ProfitShareState, PaymentError> {
    match &share.mchid {
        Some(mchid) if share.amount_fen > 0 => {
            provider
                .share_profit(&ProfitShareRequest {
                    transaction_id: share.transaction_id.clone(),
                    out_order_no: share.out_order_no.clone(),
                    mchid: mchid.clone(),
                    amount_fen: share.amount_fen,
                })
                .await
        }
        _ => {
            provider
                .unfreeze(&share.transaction_id, &share.out_order_no)
                .await
        }
    }
}

/// Writes the sharing of a paid order and its `PAYOUT` journal in one transaction,
/// with the creator's account locked: the creator's share of the order's sale, but no
/// more than their available balance, so a debt left by a refund after an earlier
/// share is netted here. When nothing is left to share, or the creator has left
/// profit sharing, the row asks for the funds to be unfrozen to us instead (the
/// balance then goes by transfer). None when the order has no sale or another run
/// wrote its sharing.
async fn write_share(
    db: &DatabaseConnection,
    paid: &order::Model,
    now: DateTime<Utc>,
) -> AppResult<Option<profit_share::Model>> {
    let (Some(seller_id), Some(transaction_id)) = (
        crate::service::orders::seller_of(db, paid).await?,
        paid.transaction_id.clone(),
    ) else {
        return Ok(None);
    };
    let Some(sale) = ledger_journal::Entity::find()
        .filter(ledger_journal::Column::Kind.eq(LedgerJournalKind::Sale))
        .filter(ledger_journal::Column::Reference.eq(sale_reference(paid.id)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let mchid = creator::Entity::find_by_id(seller_id)
        .one(db)
        .await?
        .and_then(|c| c.wechat_mchid);
    let txn = crate::db::begin_write(db).await?;
    let payee = account(&txn, LedgerAccountKind::Creator, seller_id, now).await?;
    lock_account(&txn, payee).await?;
    let order_share = -sum_of(
        &txn,
        ledger_entry::Entity::find()
            .filter(ledger_entry::Column::JournalId.eq(sale.id))
            .filter(ledger_entry::Column::AccountId.eq(payee)),
    )
    .await?;
    let available = available_balance(&txn, payee, now).await?;
    let (mchid, amount_fen) = match mchid {
        Some(mchid) if order_share.min(available) > 0 => (Some(mchid), order_share.min(available)),
        _ => (None, 0),
    };
    let out_order_no = format!("ZKS{}", paid.id);
    let inserted = profit_share::ActiveModel {
        order_id: Set(paid.id),
        creator_id: Set(seller_id),
        mchid: Set(mchid),
        transaction_id: Set(transaction_id),
        out_order_no: Set(out_order_no.clone()),
        amount_fen: Set(amount_fen),
        state: Set(REQUESTED.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let written = match inserted {
        Ok(written) => written,
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Ok(None);
        }
        Err(error) => return Err(error.into()),
    };
    if amount_fen > 0 {
        post_payout(
            &txn,
            LedgerJournalKind::Payout,
            format!("share:{out_order_no}"),
            Some(paid.id),
            payee,
            amount_fen,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Some(written))
}

/// Applies WeChat Pay's answer to a sharing, once: FINISHED and CLOSED are final, and
/// CLOSED (or a refused request) returns the amount. No answer changes nothing.
async fn settle(
    db: &DatabaseConnection,
    share: &profit_share::Model,
    answer: Result<ProfitShareState, PaymentError>,
    run: &mut PayoutRun,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (state, reason) = match answer {
        Ok(ProfitShareState::Processing) => (PROCESSING, None),
        Ok(ProfitShareState::Finished) => (FINISHED, None),
        Ok(ProfitShareState::Closed(reason)) => (CLOSED, Some(reason)),
        Err(PaymentError::Refused { code, .. }) => (CLOSED, Some(code)),
        Err(error) => {
            tracing::warn!(out_order_no = %share.out_order_no, %error, "sharing unanswered; the next run asks again");
            return Ok(());
        }
    };
    let txn = crate::db::begin_write(db).await?;
    let Some(current) = profit_share::Entity::find_by_id(share.id)
        .lock_exclusive()
        .one(&txn)
        .await?
    else {
        return Err(AppError::NotFound("profit share"));
    };
    if current.state == FINISHED || current.state == CLOSED || current.state == state {
        return Ok(());
    }
    let mut change = current.clone().into_active_model();
    change.state = Set(state.to_owned());
    change.fail_reason = Set(reason);
    change.updated_at = Set(now);
    change.update(&txn).await?;
    if state == CLOSED && current.amount_fen > 0 {
        let payee = account(&txn, LedgerAccountKind::Creator, current.creator_id, now).await?;
        post_payout(
            &txn,
            LedgerJournalKind::PayoutReturn,
            format!("share-return:{}", current.out_order_no),
            Some(current.order_id),
            payee,
            current.amount_fen,
            now,
        )
        .await?;
        run.failed += 1;
    } else if state == FINISHED && current.amount_fen > 0 {
        run.succeeded += 1;
    }
    txn.commit().await?;
    Ok(())
}
