//! Table `livestream_messages`: a live room's chat; (livestream_id, user_id,
//! client_message_id) is unique, so a retried send is the same message.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "livestream_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub livestream_id: i64,
    pub user_id: i64,
    pub body: String,
    pub client_message_id: String,
    pub created_at: DateTimeUtc,
    /// Set when a moderator deleted it (kept for the record, never shown).
    pub deleted_at: Option<DateTimeUtc>,
    pub deleted_by: Option<i64>,
    #[sea_orm(belongs_to, from = "livestream_id", to = "id")]
    pub livestream: BelongsTo<super::livestream::Entity>,
    #[sea_orm(belongs_to, from = "user_id", to = "id")]
    pub user: BelongsTo<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
