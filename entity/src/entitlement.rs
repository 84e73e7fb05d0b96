//! Table `entitlements`: access to a product; (user_id, product_kind, product_id) is unique.

use crate::enums::ProductKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "entitlements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub product_kind: ProductKind,
    pub product_id: i64,
    /// The order that paid for it; None for free products and admin grants.
    pub order_id: Option<i64>,
    pub granted_at: DateTimeUtc,
    /// End of access (group memberships); None means for ever.
    pub expires_at: Option<DateTimeUtc>,
    /// Set when a refund takes the access back.
    pub revoked_at: Option<DateTimeUtc>,
    #[sea_orm(belongs_to, from = "user_id", to = "id")]
    pub user: BelongsTo<super::user::Entity>,
    #[sea_orm(belongs_to, from = "order_id", to = "id")]
    pub order: HasOne<super::order::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
