//! Table `group_replies`: a reply to a group post, shown flat in time order; it may
//! answer another reply of the same post.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "group_replies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub post_id: i64,
    pub author_id: i64,
    /// The reply it answers, of the same post.
    pub reply_to_id: Option<i64>,
    pub body: String,
    pub created_at: DateTimeUtc,
    /// Removed (soft delete): hidden, kept with its reason.
    pub deleted_at: Option<DateTimeUtc>,
    /// Who removed it: the author, the group's owner or an admin.
    pub deleted_by_id: Option<i64>,
    /// Why a moderator removed it.
    pub delete_reason: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
