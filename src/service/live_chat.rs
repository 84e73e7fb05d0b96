//! A live room's chat and its moderation: sending (entitled viewers, while live,
//! idempotent per `clientMessageId`, rate limited, refused to the muted), deleting,
//! pinning and muting (the creator who owns the livestream and admins).
//!
//! Every change and its event in the room's log are one transaction; subscribers hear
//! of it after commit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::Utc;
use entity::enums::LivestreamStatus;
use entity::{livestream, livestream_message, livestream_mute, user};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QuerySelect,
};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::realtime::log::{self, Entry};
use crate::service::live_rooms::{self, LiveRooms};
use crate::service::validation::{Checks, FieldError, UserErrorCode};
use crate::service::{not_found, require_owner};

/// Longest chat message, in characters after trimming.
pub const MAX_MESSAGE_CHARS: usize = 500;
/// Longest `clientMessageId`.
pub const MAX_CLIENT_MESSAGE_ID: usize = 64;
/// Messages a user may send at once before the rate applies.
pub const CHAT_BURST: f64 = 5.0;
/// Messages per second a user may send in the long run.
pub const CHAT_PER_SECOND: f64 = 1.0;

/// A token bucket per user (1 per second, bursts of 5), kept in this replica's memory:
/// a chat limit needs no shared state to do its job, and a user spread over replicas
/// gets at most the burst per replica.
#[derive(Clone, Debug, Default)]
pub struct ChatRateLimiter {
    buckets: Arc<Mutex<HashMap<i64, (f64, Instant)>>>,
}

impl ChatRateLimiter {
    /// Takes a token for `user_id` at `now`; false when the bucket is empty.
    pub fn try_take(&self, user_id: i64, now: Instant) -> bool {
        let mut buckets = match self.buckets.lock() {
            Ok(buckets) => buckets,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() > 100_000 {
            // Full buckets carry no information: forget them.
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * CHAT_PER_SECOND < CHAT_BURST
            });
        }
        let (tokens, at) = buckets.entry(user_id).or_insert((CHAT_BURST, now));
        let refilled =
            (*tokens + now.duration_since(*at).as_secs_f64() * CHAT_PER_SECOND).min(CHAT_BURST);
        *at = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            true
        } else {
            *tokens = refilled;
            false
        }
    }
}

/// A chat message to send.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// The livestream.
    pub livestream_id: i64,
    /// The text, 1..=500 characters after trimming.
    pub body: String,
    /// The client's id for this message: a retry with the same id is the same message.
    pub client_message_id: String,
}

/// A message with its author.
pub type MessageWithAuthor = (livestream_message::Model, user::Model);

fn refused(field: &str, code: UserErrorCode, message: &str) -> AppError {
    FieldError::new(field, code, message).into()
}

async fn with_author(
    db: &DatabaseConnection,
    message: livestream_message::Model,
) -> AppResult<MessageWithAuthor> {
    let author = user::Entity::find_by_id(message.user_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    Ok((message, author))
}

async fn existing(
    db: &impl sea_orm::ConnectionTrait,
    livestream_id: i64,
    user_id: i64,
    client_message_id: &str,
) -> AppResult<Option<livestream_message::Model>> {
    Ok(livestream_message::Entity::find()
        .filter(livestream_message::Column::LivestreamId.eq(livestream_id))
        .filter(livestream_message::Column::UserId.eq(user_id))
        .filter(livestream_message::Column::ClientMessageId.eq(client_message_id))
        .one(db)
        .await?)
}

/// Sends a chat message; a retry with the same `clientMessageId` returns the first.
pub async fn send(
    db: &DatabaseConnection,
    rooms: &LiveRooms,
    actor: &Actor,
    input: NewMessage,
) -> AppResult<MessageWithAuthor> {
    let user_id = actor.require_user()?;
    let mut checks = Checks::new();
    let body = checks.text("body", &input.body, MAX_MESSAGE_CHARS);
    let client_message_id = checks.text(
        "clientMessageId",
        &input.client_message_id,
        MAX_CLIENT_MESSAGE_ID,
    );
    checks.finish()?;
    let row = live_rooms::find(db, input.livestream_id).await?;
    live_rooms::require_entry(db, actor, &row).await?;
    if let Some(first) = existing(db, row.id, user_id, &client_message_id).await? {
        return with_author(db, first).await;
    }
    if row.status != LivestreamStatus::Live {
        return Err(refused(
            "livestream",
            UserErrorCode::InvalidState,
            "chat is open while the livestream is live",
        ));
    }
    if !rooms.limiter.try_take(user_id, Instant::now()) {
        return Err(refused(
            "body",
            UserErrorCode::TooFast,
            "you are sending messages too fast; wait a second",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let muted = livestream_mute::Entity::find()
        .filter(livestream_mute::Column::LivestreamId.eq(row.id))
        .filter(livestream_mute::Column::UserId.eq(user_id))
        .one(&txn)
        .await?
        .is_some();
    if muted {
        return Err(refused(
            "livestream",
            UserErrorCode::Muted,
            "a moderator muted you in this livestream",
        ));
    }
    let now = Utc::now();
    let inserted = livestream_message::ActiveModel {
        livestream_id: Set(row.id),
        user_id: Set(user_id),
        body: Set(body),
        client_message_id: Set(client_message_id.clone()),
        created_at: Set(now),
        deleted_at: Set(None),
        deleted_by: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let message = match inserted {
        Ok(message) => message,
        Err(error) => {
            // The same retry racing this one inserted first: answer with its message.
            drop(txn);
            return match existing(db, row.id, user_id, &client_message_id).await? {
                Some(first) => with_author(db, first).await,
                None => Err(error.into()),
            };
        }
    };
    let sequence = log::append(&txn, row.id, Entry::MessagePosted(message.id), now).await?;
    txn.commit().await?;
    rooms.hub.announce(row.id, sequence);
    with_author(db, message).await
}

/// The livestream, locked for the change, when the actor moderates it (its creator or
/// an admin).
async fn moderated(
    txn: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    livestream_id: i64,
) -> AppResult<livestream::Model> {
    let row = livestream::Entity::find_by_id(livestream_id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| not_found("livestream"))?;
    require_owner(actor, row.creator_id)?;
    Ok(row)
}

/// The livestream (locked for the change) and its message, for a moderator.
async fn moderated_message(
    txn: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    livestream_id: i64,
    message_id: i64,
) -> AppResult<(livestream::Model, livestream_message::Model)> {
    let row = moderated(txn, actor, livestream_id).await?;
    let message = livestream_message::Entity::find_by_id(message_id)
        .one(txn)
        .await?
        .filter(|m| m.livestream_id == row.id)
        .ok_or_else(|| not_found("message"))?;
    Ok((row, message))
}

/// Deletes a message (kept, never shown again); a pinned message is unpinned.
pub async fn delete(
    db: &DatabaseConnection,
    rooms: &LiveRooms,
    actor: &Actor,
    livestream_id: i64,
    message_id: i64,
) -> AppResult<livestream::Model> {
    let txn = crate::db::begin_write(db).await?;
    let (row, message) = moderated_message(&txn, actor, livestream_id, message_id).await?;
    if message.deleted_at.is_some() {
        return Ok(row);
    }
    let now = Utc::now();
    let mut change = message.into_active_model();
    change.deleted_at = Set(Some(now));
    change.deleted_by = Set(actor.user_id());
    change.update(&txn).await?;
    let mut last = log::append(&txn, row.id, Entry::MessageDeleted(message_id), now).await?;
    let mut row = row;
    if row.pinned_message_id == Some(message_id) {
        let mut unpin = row.into_active_model();
        unpin.pinned_message_id = Set(None);
        row = unpin.update(&txn).await?;
        last = log::append(&txn, row.id, Entry::MessagePinned(None), now).await?;
    }
    txn.commit().await?;
    rooms.hub.announce(row.id, last);
    live_rooms::find(db, row.id).await
}

/// Pins a message of the room (`None`: removes the pin).
pub async fn pin(
    db: &DatabaseConnection,
    rooms: &LiveRooms,
    actor: &Actor,
    livestream_id: i64,
    message_id: Option<i64>,
) -> AppResult<livestream::Model> {
    let txn = crate::db::begin_write(db).await?;
    let row = match message_id {
        Some(message_id) => {
            let (row, message) = moderated_message(&txn, actor, livestream_id, message_id).await?;
            if message.deleted_at.is_some() {
                return Err(refused(
                    "message",
                    UserErrorCode::InvalidState,
                    "a deleted message cannot be pinned",
                ));
            }
            row
        }
        None => moderated(&txn, actor, livestream_id).await?,
    };
    if row.pinned_message_id == message_id {
        return Ok(row);
    }
    let mut change = row.into_active_model();
    change.pinned_message_id = Set(message_id);
    change.update(&txn).await?;
    let sequence = log::append(
        &txn,
        livestream_id,
        Entry::MessagePinned(message_id),
        Utc::now(),
    )
    .await?;
    txn.commit().await?;
    rooms.hub.announce(livestream_id, sequence);
    live_rooms::find(db, livestream_id).await
}

/// Mutes (or, with `muted: false`, unmutes) a viewer in the room. The owner cannot be
/// muted in their own room.
pub async fn set_muted(
    db: &DatabaseConnection,
    rooms: &LiveRooms,
    actor: &Actor,
    livestream_id: i64,
    user_id: i64,
    muted: bool,
) -> AppResult<user::Model> {
    let txn = crate::db::begin_write(db).await?;
    let row = moderated(&txn, actor, livestream_id).await?;
    let target = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or_else(|| not_found("user"))?;
    let owner_user: Option<i64> = entity::creator::Entity::find_by_id(row.creator_id)
        .select_only()
        .column(entity::creator::Column::UserId)
        .into_tuple()
        .one(&txn)
        .await?;
    if owner_user == Some(user_id) {
        return Err(refused(
            "user",
            UserErrorCode::Invalid,
            "the livestream's own creator cannot be muted",
        ));
    }
    let now = Utc::now();
    let mut announce = None;
    if muted {
        let inserted = livestream_mute::Entity::insert(livestream_mute::ActiveModel {
            livestream_id: Set(row.id),
            user_id: Set(user_id),
            muted_by: Set(actor.require_user()?),
            created_at: Set(now),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([
                livestream_mute::Column::LivestreamId,
                livestream_mute::Column::UserId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        if inserted > 0 {
            announce = Some(log::append(&txn, row.id, Entry::ViewerMuted(user_id), now).await?);
        }
    } else {
        livestream_mute::Entity::delete_many()
            .filter(livestream_mute::Column::LivestreamId.eq(row.id))
            .filter(livestream_mute::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    if let Some(sequence) = announce {
        rooms.hub.announce(row.id, sequence);
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_bucket_allows_a_burst_of_five_then_one_a_second() {
        let limiter = ChatRateLimiter::default();
        let start = Instant::now();
        for n in 0..5 {
            assert!(limiter.try_take(1, start), "message {n} of the burst");
        }
        assert!(!limiter.try_take(1, start), "the sixth at once");
        assert!(
            limiter.try_take(2, start),
            "another user has a bucket of their own"
        );
        assert!(!limiter.try_take(1, start + Duration::from_millis(500)));
        assert!(limiter.try_take(1, start + Duration::from_millis(1_600)));
        assert!(!limiter.try_take(1, start + Duration::from_millis(1_700)));
    }
}
