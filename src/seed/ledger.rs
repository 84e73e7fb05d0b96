//! The demo's ledger: every seeded paid order's sale journal, split as a live payment
//! splits it (`service::ledger`), written in bulk so seeding stays a few seconds.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::enums::{LedgerAccountKind, LedgerJournalKind, ProductKind};
use entity::{ledger_account, ledger_entry, ledger_journal};

use super::plan::DemoPlan;
use crate::service::ledger::split;
use crate::service::orders::OrderRules;

/// The ledger rows of a demo plan.
pub(super) struct LedgerRows {
    pub(super) accounts: Vec<ledger_account::Model>,
    pub(super) journals: Vec<ledger_journal::Model>,
    pub(super) entries: Vec<ledger_entry::Model>,
}

/// One sale journal per paid order with money, at the default fee; the creator's
/// share is pending until the refund window after payment ends, as live.
pub(super) fn ledger_rows(plan: &DemoPlan, rules: &OrderRules, now: DateTime<Utc>) -> LedgerRows {
    let mut seller: HashMap<(ProductKind, i64), i64> = HashMap::new();
    seller.extend(
        plan.courses
            .iter()
            .map(|c| ((ProductKind::Course, c.id), c.creator_id)),
    );
    seller.extend(
        plan.livestreams
            .iter()
            .map(|l| ((ProductKind::Livestream, l.id), l.creator_id)),
    );
    seller.extend(
        plan.groups
            .iter()
            .map(|g| ((ProductKind::Group, g.id), g.creator_id)),
    );
    seller.extend(
        plan.bundles
            .iter()
            .map(|b| ((ProductKind::Bundle, b.id), b.creator_id)),
    );
    seller.extend(
        plan.plans
            .iter()
            .map(|p| ((ProductKind::Membership, p.id), p.creator_id)),
    );
    let group_creator: HashMap<i64, i64> =
        plan.groups.iter().map(|g| (g.id, g.creator_id)).collect();
    seller.extend(plan.questions.iter().filter_map(|q| {
        group_creator
            .get(&q.group_id)
            .map(|creator| ((ProductKind::Question, q.id), *creator))
    }));
    let account = |id: i64, kind: LedgerAccountKind, owner_id: i64| ledger_account::Model {
        id,
        kind,
        owner_id,
        created_at: now,
    };
    let mut accounts = vec![
        account(1, LedgerAccountKind::PlatformCash, 0),
        account(2, LedgerAccountKind::PlatformFees, 0),
    ];
    let mut creator_account: HashMap<i64, i64> = HashMap::new();
    for creator in &plan.creators {
        let id = accounts.len() as i64 + 1;
        accounts.push(account(id, LedgerAccountKind::Creator, creator.id));
        creator_account.insert(creator.id, id);
    }
    let (mut journals, mut entries) = (Vec::new(), Vec::new());
    for order in &plan.orders {
        let (Some(paid_at), Some(creator_id)) = (
            order.paid_at,
            seller.get(&(order.product_kind, order.product_id)),
        ) else {
            continue;
        };
        let Some(&creator_account) = creator_account.get(creator_id) else {
            continue;
        };
        if order.amount_fen <= 0 {
            continue;
        }
        let journal_id = journals.len() as i64 + 1;
        journals.push(ledger_journal::Model {
            id: journal_id,
            kind: LedgerJournalKind::Sale,
            reference: format!("order:{}", order.id),
            order_id: Some(order.id),
            created_at: paid_at,
        });
        let parts = split::split(order.amount_fen, rules.platform_fee_bps, &[]);
        let lines = [
            (1, order.amount_fen, paid_at),
            (2, -parts.fee_fen, paid_at),
            (
                creator_account,
                -parts.creator_fen,
                paid_at + rules.refund_window,
            ),
        ];
        for (account_id, amount_fen, available_at) in lines {
            if amount_fen == 0 {
                continue;
            }
            entries.push(ledger_entry::Model {
                id: entries.len() as i64 + 1,
                journal_id,
                account_id,
                amount_fen,
                available_at,
                created_at: paid_at,
            });
        }
    }
    LedgerRows {
        accounts,
        journals,
        entries,
    }
}
