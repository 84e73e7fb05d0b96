//! Live rooms as the API offers them: who may watch and talk, the signed stream
//! addresses, the viewer count and the chat history. The real-time machinery is in
//! `crate::realtime`; the chat's writes are in [`super::live_chat`].
//!
//! Who may enter a room: any signed-in user for a free livestream; for a paid one, the
//! ticket holders, the creator who owns it and admins. Anonymous users never.

use std::sync::Arc;

use chrono::Utc;
use entity::enums::LivestreamStatus;
use entity::{livestream, livestream_message};
use futures_util::Stream;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::live::signing::{PlayUrls, PushUrl, StreamSigner};
use crate::realtime::{self, Hub, RoomEvent};
use crate::service::access::{self, ProductRef};
use crate::service::live_chat::ChatRateLimiter;
use crate::service::page::{self, Counted, Page, PageRequest, SortKey};

/// What live rooms need, shared by every request: the hub, the URL signer, the chat
/// rate limiter. Cheap to clone.
#[derive(Clone, Debug)]
pub struct LiveRooms {
    /// This replica's rooms.
    pub hub: Hub,
    /// Signs push and play addresses.
    pub signer: Arc<StreamSigner>,
    /// Chat sends per user.
    pub limiter: ChatRateLimiter,
}

/// Ends a viewer's room subscriptions when their ticket is refunded (on every replica):
/// a refunded viewer stops receiving the room at once, not at their next reconnect.
pub struct RefundedTickets(pub Hub);

#[async_trait::async_trait]
impl crate::service::effects::Subscriber for RefundedTickets {
    async fn handle(&self, db: &DatabaseConnection, event: &crate::service::effects::Event) {
        let crate::service::effects::Event::OrderRefunded { order_id, buyer_id } = *event else {
            return;
        };
        match entity::order::Entity::find_by_id(order_id).one(db).await {
            Ok(Some(order))
                if order.product_kind == entity::enums::ProductKind::Livestream
                    && order.status == entity::enums::OrderStatus::Refunded =>
            {
                self.0.revoke(order.product_id, buyer_id).await;
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, order_id, "reading a refunded order failed"),
        }
    }
}

/// A viewer's playback: signed live addresses while live, the replay once ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playback {
    /// The live addresses (while SCHEDULED or LIVE: a player may connect early).
    pub live: Option<PlayUrls>,
    /// The recording, once ENDED.
    pub replay: Option<String>,
}

/// Whether the actor may enter the room (watch, read the chat, subscribe).
pub async fn may_enter(
    db: &impl ConnectionTrait,
    actor: &Actor,
    row: &livestream::Model,
) -> AppResult<bool> {
    if actor.user_id().is_none() {
        return Ok(false);
    }
    access::can_open(db, actor, &ProductRef::livestream(row)).await
}

/// Refuses actors who may not enter: UNAUTHENTICATED for anonymous, FORBIDDEN otherwise.
pub async fn require_entry(
    db: &impl ConnectionTrait,
    actor: &Actor,
    row: &livestream::Model,
) -> AppResult<()> {
    actor.require_user()?;
    if may_enter(db, actor, row).await? {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "buy a ticket to enter this livestream's room",
        ))
    }
}

/// The livestream, or NOT_FOUND.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> AppResult<livestream::Model> {
    livestream::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("livestream"))
}

fn stream_name(row: &livestream::Model) -> AppResult<&str> {
    row.stream_name
        .as_deref()
        .ok_or_else(|| AppError::internal(MissingStreamName(row.id)))
}

#[derive(Debug, thiserror::Error)]
#[error("livestream {0} has no stream name")]
struct MissingStreamName(i64);

/// The creator's push address: for the owner and admins only, until it ends.
pub fn push_url(
    signer: &StreamSigner,
    actor: &Actor,
    row: &livestream::Model,
) -> AppResult<Option<PushUrl>> {
    let owner = actor.creator_id() == Some(row.creator_id) || actor.is_admin();
    if !owner
        || matches!(
            row.status,
            LivestreamStatus::Ended | LivestreamStatus::Cancelled
        )
    {
        return Ok(None);
    }
    Ok(Some(signer.push_url(stream_name(row)?, Utc::now())))
}

/// A viewer's playback, or None when they may not enter.
pub async fn playback(
    db: &impl ConnectionTrait,
    signer: &StreamSigner,
    actor: &Actor,
    row: &livestream::Model,
) -> AppResult<Option<Playback>> {
    if !may_enter(db, actor, row).await? {
        return Ok(None);
    }
    Ok(Some(match row.status {
        LivestreamStatus::Scheduled | LivestreamStatus::Live => Playback {
            live: Some(signer.play_urls(stream_name(row)?, Utc::now())),
            replay: None,
        },
        LivestreamStatus::Ended => Playback {
            live: None,
            replay: row.replay_url.clone(),
        },
        LivestreamStatus::Cancelled => Playback {
            live: None,
            replay: None,
        },
    }))
}

/// Distinct users in the room now, across replicas.
pub async fn viewer_count(db: &impl ConnectionTrait, livestream_id: i64) -> AppResult<i64> {
    Ok(realtime::presence::total(db, livestream_id).await?)
}

/// The room's events for one subscriber (see [`realtime::follow`]): the log after
/// `after_sequence` when given, then live events. Refused like [`require_entry`].
pub async fn watch(
    db: &DatabaseConnection,
    rooms: &LiveRooms,
    actor: &Actor,
    livestream_id: i64,
    after_sequence: Option<i64>,
) -> AppResult<impl Stream<Item = Arc<RoomEvent>> + Send + 'static + use<>> {
    let row = find(db, livestream_id).await?;
    require_entry(db, actor, &row).await?;
    let user_id = actor.require_user()?;
    if after_sequence.is_some_and(|after| after < 0) {
        return Err(AppError::BadUserInput(
            "afterSequence must not be negative".into(),
        ));
    }
    let membership = rooms.hub.join(row.id, user_id, row.last_event_sequence);
    let over = matches!(
        row.status,
        LivestreamStatus::Ended | LivestreamStatus::Cancelled
    );
    Ok(realtime::follow(
        membership,
        after_sequence,
        row.last_event_sequence,
        over,
    ))
}

/// One page of the room's chat, oldest first, deleted messages left out; for those who
/// may enter.
pub async fn messages(
    db: &impl ConnectionTrait,
    actor: &Actor,
    row: &livestream::Model,
    page: &PageRequest,
) -> AppResult<(
    Page<livestream_message::Model>,
    Counted<livestream_message::Entity>,
)> {
    require_entry(db, actor, row).await?;
    let query = livestream_message::Entity::find()
        .filter(livestream_message::Column::LivestreamId.eq(row.id))
        .filter(livestream_message::Column::DeletedAt.is_null());
    let sort = SortKey {
        key: None,
        id: livestream_message::Column::Id,
        descending: false,
    };
    page::fetch(db, query, &sort, page, |m| m.id).await
}

/// One message by id (deleted or not).
pub async fn message(
    db: &impl ConnectionTrait,
    id: i64,
) -> AppResult<Option<livestream_message::Model>> {
    Ok(livestream_message::Entity::find_by_id(id).one(db).await?)
}
