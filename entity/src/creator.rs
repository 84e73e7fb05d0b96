//! Table `creators`: the public selling profile of a user (at most one per user).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "creators")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub user_id: i64,
    pub display_name: String,
    pub bio: Option<String>,
    pub created_at: DateTimeUtc,
    /// The platform's fee on this creator's sales in basis points, when it differs
    /// from the configured default.
    pub fee_bps: Option<i32>,
    /// Their own WeChat Pay merchant id, when their earnings go by profit sharing (分账).
    pub wechat_mchid: Option<String>,
    #[sea_orm(belongs_to, from = "user_id", to = "id")]
    pub user: BelongsTo<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
