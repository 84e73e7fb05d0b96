//! Table `sales_days`: one product's sales on one platform day (Asia/Shanghai), for the
//! platform's statistics; (day, product_kind, product_id) is unique.

use crate::enums::ProductKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sales_days")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// (Unix time of payment + 8 hours) / 86,400.
    pub day: i64,
    pub product_kind: ProductKind,
    pub product_id: i64,
    pub seller_id: i64,
    /// Sales paid that day.
    pub sales: i64,
    /// Their list prices.
    pub gross_fen: i64,
    /// What discounts took off them.
    pub discount_fen: i64,
    /// What they brought, less those refunded since.
    pub kept_fen: i64,
}

impl ActiveModelBehavior for ActiveModel {}
