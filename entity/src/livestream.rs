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
    /// The stream's name on the push and play domains: `zk<id>_<random hex>`, so it
    /// cannot be guessed from the id.
    pub stream_name: Option<String>,
    /// Sequence number of the room's latest logged event (0: none yet).
    pub last_event_sequence: i64,
    /// The chat message pinned in the room.
    pub pinned_message_id: Option<i64>,
    #[sea_orm(belongs_to, from = "creator_id", to = "id")]
    pub creator: BelongsTo<super::creator::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
