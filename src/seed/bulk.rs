//! `zhiku seed --orders N`: N more paid orders on top of the demo data, for measuring
//! the dashboards and the export at scale. Each is a sale of a published course to a
//! demo learner, paid at a random time in the 365 days before now, with its sale
//! journal in the ledger (split at the configured default fee, as the payment flow
//! records it), so `zhiku ledger check` stays clean. Written with explicit ids in
//! multi-row inserts, one transaction per 10,000 orders.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use entity::enums::{
    CourseStatus, IdentityApp, LedgerAccountKind, LedgerJournalKind, OrderStatus, ProductKind, Role,
};
use entity::{course, ledger_account, ledger_entry, ledger_journal, order, user};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Statement};
use sea_orm::{ConnectionTrait, QueryOrder};

use super::insert_all;
use crate::error::{AppError, AppResult};
use crate::service::ledger::split;
use crate::service::orders::OrderRules;

/// Orders written per transaction.
const BATCH: usize = 10_000;

/// The largest id in `table` (0 when empty).
async fn max_id(db: &impl ConnectionTrait, table: &str) -> AppResult<i64> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM {table}"),
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get_by_index::<i64>(0)?,
        None => 0,
    })
}

/// Appends `count` paid orders (see the module's comment); answers how many.
pub async fn orders(db: &DatabaseConnection, count: usize) -> AppResult<usize> {
    let learners: Vec<i64> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Role.eq(Role::Learner))
        .order_by_asc(user::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let courses: Vec<(i64, i64, i64)> = course::Entity::find()
        .select_only()
        .columns([
            course::Column::Id,
            course::Column::CreatorId,
            course::Column::PriceFen,
        ])
        .filter(course::Column::Status.eq(CourseStatus::Published))
        .filter(course::Column::PriceFen.gt(0))
        .order_by_asc(course::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    if learners.is_empty() || courses.is_empty() {
        return Err(AppError::BadUserInput(
            "seed the demo data first (zhiku seed --demo)".into(),
        ));
    }
    let accounts = ledger_account::Entity::find().all(db).await?;
    let find = |kind: LedgerAccountKind, owner: i64| {
        accounts
            .iter()
            .find(|a| a.kind == kind && a.owner_id == owner)
            .map(|a| a.id)
    };
    let (Some(cash), Some(fees)) = (
        find(LedgerAccountKind::PlatformCash, 0),
        find(LedgerAccountKind::PlatformFees, 0),
    ) else {
        return Err(AppError::BadUserInput(
            "seed the demo data first (zhiku seed --demo)".into(),
        ));
    };
    let creator_accounts: HashMap<i64, i64> = accounts
        .iter()
        .filter(|a| a.kind == LedgerAccountKind::Creator)
        .map(|a| (a.owner_id, a.id))
        .collect();
    let rules = OrderRules::from_config(&crate::config::PaymentConfig::default());
    let now = Utc::now();
    let mut rng = ChaCha8Rng::seed_from_u64(super::DEMO_SEED + 1);
    let (mut order_id, mut journal_id, mut entry_id) = (
        max_id(db, "orders").await?,
        max_id(db, "ledger_journals").await?,
        max_id(db, "ledger_entries").await?,
    );
    let mut written = 0;
    while written < count {
        let size = BATCH.min(count - written);
        let (mut orders, mut journals, mut entries) = (
            Vec::with_capacity(size),
            Vec::with_capacity(size),
            Vec::with_capacity(size * 3),
        );
        for _ in 0..size {
            order_id += 1;
            // Squaring a uniform draw favours the first courses: a long tail.
            let pick = rng.random::<f64>().powi(2);
            let (course_id, creator_id, price) =
                courses[((pick * courses.len() as f64) as usize).min(courses.len() - 1)];
            let buyer = learners[rng.random_range(0..learners.len())];
            let paid_at = now - Duration::seconds(rng.random_range(60..365 * 86_400));
            let created = paid_at - Duration::seconds(rng.random_range(10..300));
            orders.push(order::Model {
                id: order_id,
                out_trade_no: format!("ZKB{order_id:012}"),
                buyer_id: buyer,
                product_kind: ProductKind::Course,
                product_id: course_id,
                amount_fen: price,
                list_price_fen: price,
                currency: "CNY".into(),
                status: OrderStatus::Paid,
                idempotency_key: format!("bulk-{order_id}"),
                transaction_id: Some(format!("43{order_id:016}")),
                prepay_id: None,
                pay_app: IdentityApp::MiniProgram,
                created_at: created,
                expires_at: created + rules.timeout,
                paid_at: Some(paid_at),
                refunded_at: None,
                closed_at: None,
                updated_at: paid_at,
                promoter_id: None,
                profit_sharing: false,
                seller_id: creator_id,
            });
            let Some(&creator_account) = creator_accounts.get(&creator_id) else {
                continue;
            };
            journal_id += 1;
            journals.push(ledger_journal::Model {
                id: journal_id,
                kind: LedgerJournalKind::Sale,
                reference: format!("order:{order_id}"),
                order_id: Some(order_id),
                created_at: paid_at,
            });
            let parts = split::split(price, rules.platform_fee_bps, &[]);
            for (account_id, amount_fen, available_at) in [
                (cash, price, paid_at),
                (fees, -parts.fee_fen, paid_at),
                (
                    creator_account,
                    -parts.creator_fen,
                    paid_at + rules.refund_window,
                ),
            ] {
                if amount_fen != 0 {
                    entry_id += 1;
                    entries.push(ledger_entry::Model {
                        id: entry_id,
                        journal_id,
                        account_id,
                        amount_fen,
                        available_at,
                        created_at: paid_at,
                    });
                }
            }
        }
        let txn = crate::db::begin_write(db).await?;
        insert_all(&txn, orders).await?;
        insert_all(&txn, journals).await?;
        insert_all(&txn, entries).await?;
        txn.commit().await?;
        written += size;
    }
    super::reset_sequences(db, &["orders", "ledger_journals", "ledger_entries"]).await?;
    // The platform's daily totals, from every order now there.
    let txn = crate::db::begin_write(db).await?;
    crate::service::analytics::rollup::rebuild(&txn).await?;
    txn.commit().await?;
    super::refresh_statistics(db).await?;
    Ok(written)
}
