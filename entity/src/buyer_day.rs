//! Table `buyer_days`: a buyer who bought on a platform day (Asia/Shanghai);
//! (day, buyer_id) is unique.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "buyer_days")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// (Unix time of payment + 8 hours) / 86,400.
    pub day: i64,
    pub buyer_id: i64,
}

impl ActiveModelBehavior for ActiveModel {}
