//! Table `referrals`: the promoter whose link a learner first opened for a product,
//! credited for an order made before `expires_at` (7 days after opening).

use crate::enums::ProductKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referrals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub promoter_id: i64,
    pub product_kind: ProductKind,
    pub product_id: i64,
    pub opened_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
