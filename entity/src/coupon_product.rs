//! Table `coupon_products`: the products a PRODUCTS-scope coupon applies to.

use crate::enums::ProductKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "coupon_products")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub coupon_id: i64,
    pub product_kind: ProductKind,
    pub product_id: i64,
    #[sea_orm(belongs_to, from = "coupon_id", to = "id")]
    pub coupon: BelongsTo<super::coupon::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
