//! Table `livestream_mutes`: viewers who may not chat in a live room; (livestream_id,
//! user_id) is unique.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "livestream_mutes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub livestream_id: i64,
    pub user_id: i64,
    pub muted_by: i64,
    pub created_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "livestream_id", to = "id")]
    pub livestream: BelongsTo<super::livestream::Entity>,
    #[sea_orm(belongs_to, from = "user_id", to = "id")]
    pub user: BelongsTo<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
