//! Table `product_sales`: a product's limited-time price (限时折扣), active from
//! `starts_at` (inclusive) until `ends_at` (exclusive); one per product.

use crate::enums::ProductKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product_sales")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub product_kind: ProductKind,
    pub product_id: i64,
    /// The sale price in fen, below the list price.
    pub price_fen: i64,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
