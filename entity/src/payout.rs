//! Table `payouts`: money paid out to a creator or promoter by a WeChat Pay merchant
//! transfer (`out_bill_no` is the idempotency key there).

use crate::enums::{LedgerAccountKind, PayoutState};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payouts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// CREATOR or PROMOTER: whose ledger account the money left.
    pub payee_kind: LedgerAccountKind,
    /// The creator id or the promoter's user id.
    pub payee_id: i64,
    /// The user the money goes to.
    pub user_id: i64,
    pub amount_fen: i64,
    #[sea_orm(unique)]
    pub out_bill_no: String,
    pub state: PayoutState,
    /// WeChat Pay's bill number, once it answered.
    pub transfer_bill_no: Option<String>,
    /// What the mini-program passes to `wx.requestMerchantTransfer`.
    pub package_info: Option<String>,
    pub fail_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
