//! Table `order_discounts`: each discount an order was priced with, in the order they
//! were applied; the order's amount is its list price less their sum.

use crate::enums::DiscountKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_discounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    /// 0, 1... in the order applied.
    pub position: i32,
    pub kind: DiscountKind,
    /// What the buyer is shown (`限时折扣`, the coupon's name).
    pub label: String,
    /// Fen taken off, above 0.
    pub amount_fen: i64,
    /// The coupon used, for COUPON.
    pub coupon_id: Option<i64>,
    #[sea_orm(belongs_to, from = "order_id", to = "id")]
    pub order: BelongsTo<super::order::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
