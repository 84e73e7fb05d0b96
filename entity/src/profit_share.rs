//! Table `profit_shares`: one WeChat Pay profit-sharing order per paid order of a
//! creator with a merchant id, sending the creator's share to that merchant.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "profit_shares")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub order_id: i64,
    pub creator_id: i64,
    /// The receiving merchant; None when the funds were only unfrozen to the platform
    /// (the creator left profit sharing, or their share was netted against a debt).
    pub mchid: Option<String>,
    /// The payment's WeChat Pay transaction id.
    pub transaction_id: String,
    /// Our number for the profit-sharing order (the idempotency key at WeChat Pay).
    #[sea_orm(unique)]
    pub out_order_no: String,
    /// The share sent to the merchant (0 for an unfreeze).
    pub amount_fen: i64,
    /// REQUESTED (written, maybe not sent), PROCESSING, FINISHED or CLOSED (failed).
    pub state: String,
    pub fail_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
