//! Table `group_posts`: posts inside a group; members-only content in paid groups.

use crate::enums::PostKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "group_posts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub group_id: i64,
    pub author_id: i64,
    pub body: String,
    pub pinned: bool,
    pub created_at: DateTimeUtc,
    /// How many users like it (kept with `post_likes`).
    pub like_count: i64,
    /// How many replies it has (kept with `group_replies`).
    pub reply_count: i64,
    /// Talk, question, task or announcement.
    pub kind: PostKind,
    #[sea_orm(belongs_to, from = "group_id", to = "id")]
    pub group: BelongsTo<super::community_group::Entity>,
    #[sea_orm(belongs_to, from = "author_id", to = "id")]
    pub author: BelongsTo<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
