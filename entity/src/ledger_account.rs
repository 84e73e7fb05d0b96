//! Table `ledger_accounts`: one per platform account and per creator or promoter owed
//! money; its balance is the sum of its entries.

use crate::enums::LedgerAccountKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: LedgerAccountKind,
    /// The creator (CREATOR) or user (PROMOTER) owed; 0 for the platform's accounts.
    pub owner_id: i64,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
