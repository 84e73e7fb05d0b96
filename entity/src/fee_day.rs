//! Table `fee_days`: the platform's fees booked on one platform day (Asia/Shanghai) on
//! one creator's sales, net of those refunds gave back; (day, seller_id) is unique.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fee_days")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// (Unix time of booking + 8 hours) / 86,400.
    pub day: i64,
    pub seller_id: i64,
    pub fee_fen: i64,
}

impl ActiveModelBehavior for ActiveModel {}
