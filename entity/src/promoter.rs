//! Table `promoters`: a user promoting one product, with their share code and the
//! promoter who recruited them (the second level).

use crate::enums::ProductKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "promoters")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub product_kind: ProductKind,
    pub product_id: i64,
    /// The share code (`promoterCode`), unique.
    pub code: String,
    pub recruited_by_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
