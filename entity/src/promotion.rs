//! Table `promotions`: a creator's offer to pay promoters of one product (分销) a
//! commission, with an optional second level for whoever recruited the promoter.

use crate::enums::ProductKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "promotions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub product_kind: ProductKind,
    pub product_id: i64,
    /// The promoter's commission in basis points of the amount paid.
    pub rate_bps: i32,
    /// The recruiting promoter's commission in basis points (0: none).
    pub second_level_bps: i32,
    pub enabled: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
