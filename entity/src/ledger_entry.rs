//! Table `ledger_entries`: one line of a journal; a journal's lines sum to zero, and a
//! line is never changed or deleted.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub journal_id: i64,
    pub account_id: i64,
    /// Signed fen: positive debits, negative credits.
    pub amount_fen: i64,
    /// From when an earning may be paid out (the end of the refund window for a sale).
    pub available_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
