//! Table `livestream_events`: a live room's event log, numbered 1, 2, 3… per
//! livestream ((livestream_id, sequence) is unique); what a reconnecting client replays.

use crate::enums::{LiveEventKind, LivestreamStatus};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "livestream_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub livestream_id: i64,
    pub sequence: i64,
    pub kind: LiveEventKind,
    /// STATUS_CHANGED: the new status.
    pub status: Option<LivestreamStatus>,
    /// MESSAGE_*: the message (none for an unpin).
    pub message_id: Option<i64>,
    /// VIEWER_MUTED: the muted viewer.
    pub user_id: Option<i64>,
    pub created_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "livestream_id", to = "id")]
    pub livestream: BelongsTo<super::livestream::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
