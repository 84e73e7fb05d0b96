//! Table `refunds`: refunds of paid orders; out_refund_no is the idempotency key sent to WeChat Pay.

use crate::enums::RefundStatus;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refunds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    #[sea_orm(unique)]
    pub out_refund_no: String,
    /// WeChat Pay's refund id once accepted.
    pub refund_id: Option<String>,
    pub amount_fen: i64,
    pub reason: Option<String>,
    pub status: RefundStatus,
    pub requested_by: i64,
    pub created_at: DateTimeUtc,
    pub succeeded_at: Option<DateTimeUtc>,
    #[sea_orm(belongs_to, from = "order_id", to = "id")]
    pub order: BelongsTo<super::order::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
