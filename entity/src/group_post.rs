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
    /// Image URLs, a JSON array of strings (at most nine).
    pub images: String,
    /// Hashtags without `#`, a JSON array of strings (at most five; `post_hashtags`
    /// holds them too, to list by tag).
    pub hashtags: String,
    /// Marked as digest (精华) by the group's owner.
    pub digest: bool,
    /// Last edited by its author (within 24 hours of posting).
    pub edited_at: Option<DateTimeUtc>,
    /// Removed (soft delete): hidden from everyone, kept with its reason.
    pub deleted_at: Option<DateTimeUtc>,
    /// Who removed it: the author, the group's owner or an admin.
    pub deleted_by_id: Option<i64>,
    /// Why a moderator removed it.
    pub delete_reason: Option<String>,
    /// A check-in challenge's first local day (TASK posts).
    pub task_starts_on: Option<Date>,
    /// A check-in challenge's last local day.
    pub task_ends_on: Option<Date>,
    #[sea_orm(belongs_to, from = "group_id", to = "id")]
    pub group: BelongsTo<super::community_group::Entity>,
    #[sea_orm(belongs_to, from = "author_id", to = "id")]
    pub author: BelongsTo<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
