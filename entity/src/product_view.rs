//! Table `product_views`: a viewer's view of a product on one platform day (Asia/Shanghai);
//! (product_kind, product_id, viewer_key, day) is unique, so a view counts once a day.

use crate::enums::ProductKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product_views")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub product_kind: ProductKind,
    pub product_id: i64,
    /// The creator selling the product.
    pub seller_id: i64,
    /// `u<user id>` for a signed-in viewer, `d<device id>` for an anonymous one.
    pub viewer_key: String,
    /// The platform day of the view, `YYYY-MM-DD` in Asia/Shanghai.
    pub day: String,
    /// The first view of that day.
    pub viewed_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
