//! Table `ledger_journals`: one money event (a sale, a refund, a payout), recorded once
//! per reference; never changed.

use crate::enums::LedgerJournalKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_journals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: LedgerJournalKind,
    /// What it records, unique per kind: `order:12`, `refund:7`, `payout:3`.
    pub reference: String,
    pub order_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
