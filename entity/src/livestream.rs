//! Table `livestreams`: live classes with a paid ticket and an optional replay.

use crate::enums::LivestreamStatus;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "livestreams")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub creator_id: i64,
    pub title: String,
    pub description: Option<String>,
    pub status: LivestreamStatus,
    pub scheduled_start: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
    /// Ticket price in fen; 0 means free.
    pub price_fen: i64,
    /// Paid content: the live stream address.
    pub play_url: Option<String>,
    /// Paid content: the recording, once ended.
    pub replay_url: Option<String>,
    pub peak_viewers: i32,
    pub created_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "creator_id", to = "id")]
    pub creator: BelongsTo<super::creator::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
