//! A live room's event log, `livestream_events`: numbered 1, 2, 3… per livestream.
//!
//! [`append`] runs inside the writer's transaction, so an event exists exactly when the
//! change it reports does; the number comes from bumping
//! `livestreams.last_event_sequence`, which takes the row's lock on PostgreSQL (and
//! SQLite has one writer), so two writers never get the same number, and the unique
//! `(livestream_id, sequence)` index would refuse them if they did. On PostgreSQL the
//! same transaction sends the NOTIFY that tells every replica, delivered on commit.
//! [`events_after`] reads the log back with the rows the events name, ready to send.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::enums::{LiveEventKind, LivestreamStatus};
use entity::{livestream, livestream_event, livestream_message, user};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};

use super::{ChatLine, NOTIFY_CHANNEL, RoomEvent, RoomEventKind};

/// What a writer logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// The livestream moved to this status.
    StatusChanged(LivestreamStatus),
    /// This message was posted.
    MessagePosted(i64),
    /// This message was deleted.
    MessageDeleted(i64),
    /// This message was pinned; `None` removes the pin.
    MessagePinned(Option<i64>),
    /// This viewer was muted.
    ViewerMuted(i64),
}

/// Logs one event of a room inside the caller's transaction and returns its sequence.
pub async fn append(
    txn: &impl ConnectionTrait,
    livestream_id: i64,
    entry: Entry,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    livestream::Entity::update_many()
        .col_expr(
            livestream::Column::LastEventSequence,
            Expr::col(livestream::Column::LastEventSequence).add(1),
        )
        .filter(livestream::Column::Id.eq(livestream_id))
        .exec(txn)
        .await?;
    let sequence: i64 = livestream::Entity::find_by_id(livestream_id)
        .select_only()
        .column(livestream::Column::LastEventSequence)
        .into_tuple()
        .one(txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("livestream".into()))?;
    let (kind, status, message_id, user_id) = match entry {
        Entry::StatusChanged(status) => (LiveEventKind::StatusChanged, Some(status), None, None),
        Entry::MessagePosted(id) => (LiveEventKind::MessagePosted, None, Some(id), None),
        Entry::MessageDeleted(id) => (LiveEventKind::MessageDeleted, None, Some(id), None),
        Entry::MessagePinned(id) => (LiveEventKind::MessagePinned, None, id, None),
        Entry::ViewerMuted(id) => (LiveEventKind::ViewerMuted, None, None, Some(id)),
    };
    livestream_event::ActiveModel {
        livestream_id: Set(livestream_id),
        sequence: Set(sequence),
        kind: Set(kind),
        status: Set(status),
        message_id: Set(message_id),
        user_id: Set(user_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        notify(
            txn,
            &super::Notice::Event {
                livestream_id,
                sequence,
            },
        )
        .await?;
    }
    Ok(sequence)
}

/// Sends a notice to every replica (PostgreSQL; inside a transaction it leaves on commit).
pub(crate) async fn notify(db: &impl ConnectionTrait, notice: &super::Notice) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [NOTIFY_CHANNEL.into(), notice.to_payload().into()],
    ))
    .await
    .map(|_| ())
}

/// Up to `limit` logged events of a room after `after`, in order, with the messages
/// and users they name (three statements, whatever the count).
pub async fn events_after(
    db: &impl ConnectionTrait,
    livestream_id: i64,
    after: i64,
    limit: u64,
) -> Result<Vec<RoomEvent>, DbErr> {
    let rows = livestream_event::Entity::find()
        .filter(livestream_event::Column::LivestreamId.eq(livestream_id))
        .filter(livestream_event::Column::Sequence.gt(after))
        .order_by_asc(livestream_event::Column::Sequence)
        .limit(limit)
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let message_ids: Vec<i64> = rows.iter().filter_map(|r| r.message_id).collect();
    let messages: HashMap<i64, livestream_message::Model> = if message_ids.is_empty() {
        HashMap::new()
    } else {
        livestream_message::Entity::find()
            .filter(livestream_message::Column::Id.is_in(message_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect()
    };
    let user_ids: Vec<i64> = messages
        .values()
        .map(|m| m.user_id)
        .chain(rows.iter().filter_map(|r| r.user_id))
        .collect();
    let users: HashMap<i64, user::Model> = if user_ids.is_empty() {
        HashMap::new()
    } else {
        user::Entity::find()
            .filter(user::Column::Id.is_in(user_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect()
    };
    let line = |id: Option<i64>| -> Option<ChatLine> {
        let message = messages.get(&id?)?.clone();
        let author = users.get(&message.user_id)?.clone();
        Some(ChatLine {
            message: Arc::new(message),
            author: Arc::new(author),
        })
    };
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let kind = match row.kind {
                LiveEventKind::StatusChanged => RoomEventKind::StatusChanged(row.status?),
                LiveEventKind::MessagePosted => RoomEventKind::MessagePosted(line(row.message_id)?),
                LiveEventKind::MessageDeleted => RoomEventKind::MessageDeleted {
                    message_id: row.message_id?,
                },
                LiveEventKind::MessagePinned => RoomEventKind::MessagePinned(line(row.message_id)),
                LiveEventKind::ViewerMuted => {
                    RoomEventKind::ViewerMuted(Arc::new(users.get(&row.user_id?)?.clone()))
                }
            };
            Some(RoomEvent {
                livestream_id,
                sequence: row.sequence,
                occurred_at: row.created_at,
                kind,
                renders: super::Renders::default(),
            })
        })
        .collect())
}
