//! Live rooms in real time: what happens in a room reaches every subscriber, on every
//! replica, in order, with no gap and no duplicate.
//!
//! - Writers log each event in their own transaction ([`log::append`]), numbered per
//!   livestream. The log is the truth; everything below only tells subscribers to read it.
//! - Each replica keeps one [`Room`] per livestream that has subscribers here. A room
//!   reads the log once per new event and fans it out through a bounded
//!   `tokio::sync::broadcast` channel: one copy of each event, however many subscribers.
//! - Replicas learn of new events through PostgreSQL LISTEN/NOTIFY ([`postgres`]; the
//!   payload carries ids only) and, on SQLite or for the replica that wrote, through
//!   [`Hub::announce`] after commit. A room ignores numbers it has delivered already, so
//!   hearing twice is harmless; a listener that reconnects makes every room reread the log.
//! - A subscriber ([`follow`]) first replays the log after the sequence it saw last,
//!   then the live events, skipping numbers it has sent. One that falls more than the
//!   channel's capacity behind gets a `Resync` and the missed events from the log, so a
//!   slow socket never holds the others up and never holds more than the channel.
//! - Presence ([`presence`]): each replica counts the distinct users subscribed to each
//!   room, writes its count with a heartbeat, and sums the fresh counts of all replicas.

pub mod log;
pub mod postgres;
pub mod presence;

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use entity::enums::LivestreamStatus;
use entity::{livestream_message, user};
use futures_util::Stream;
use sea_orm::DatabaseConnection;
use tokio::sync::broadcast;

/// The PostgreSQL NOTIFY channel of live rooms.
pub const NOTIFY_CHANNEL: &str = "zhiku_live";

/// Events one room's channel holds for subscribers that are behind; one further behind
/// is resynchronised from the log.
pub const ROOM_CHANNEL_CAPACITY: usize = 256;
/// Revocations a room keeps for a slow subscriber (one that misses some ends anyway:
/// a lagging receiver is treated as revoked and re-checked by resubscribing).
const REVOCATION_CAPACITY: usize = 64;

/// Events read from the log at once.
const LOG_BATCH: u64 = 200;

/// A chat message with its author, as subscribers receive it.
#[derive(Debug, Clone)]
pub struct ChatLine {
    /// The message.
    pub message: Arc<livestream_message::Model>,
    /// Who wrote it.
    pub author: Arc<user::Model>,
}

/// What happened.
#[derive(Debug, Clone)]
pub enum RoomEventKind {
    /// The livestream moved to this status.
    StatusChanged(LivestreamStatus),
    /// A chat message was posted.
    MessagePosted(ChatLine),
    /// A moderator deleted a message.
    MessageDeleted {
        /// The deleted message.
        message_id: i64,
    },
    /// A message was pinned, or the pin removed (`None`).
    MessagePinned(Option<ChatLine>),
    /// A viewer may no longer chat.
    ViewerMuted(Arc<user::Model>),
    /// The number of distinct viewers across replicas changed (not logged).
    ViewerCount(i64),
    /// The subscriber fell behind; the events it missed follow, from the log (not logged).
    Resync,
}

/// One event of a room.
#[derive(Debug)]
pub struct RoomEvent {
    /// The livestream.
    pub livestream_id: i64,
    /// Its number in the room's log; for unlogged events (viewer counts, resyncs), the
    /// number of the last logged event before it.
    pub sequence: i64,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// What happened.
    pub kind: RoomEventKind,
    /// What the API layer made of it for subscribers on this replica.
    pub renders: Renders,
}

/// Shapes one event is rendered in at most; more are rendered per subscriber.
const MAX_RENDERS: usize = 8;

/// An event as the API layer rendered it, per query shape: the first subscriber asking
/// for a shape renders the event and every other subscriber here with that shape reuses
/// it, so an event costs one rendering per shape rather than one per subscriber. The
/// renderings are opaque here (the realtime layer knows nothing of GraphQL) and live as
/// long as the event: until every subscriber has read it.
#[derive(Default)]
pub struct Renders(Mutex<Vec<(Arc<str>, Rendering)>>);

/// One rendering of an event, of a type only the API layer knows.
pub type Rendering = Arc<dyn Any + Send + Sync>;

impl Renders {
    /// The rendering for `shape`, when one was made.
    pub fn get(&self, shape: &str) -> Option<Rendering> {
        let renders = self.0.lock().ok()?;
        renders
            .iter()
            .find(|(key, _)| key.as_ref() == shape)
            .map(|(_, rendered)| Arc::clone(rendered))
    }

    /// Keeps a rendering for `shape` (the first one kept wins; at most [`MAX_RENDERS`]).
    pub fn put(&self, shape: Arc<str>, rendered: Rendering) {
        if let Ok(mut renders) = self.0.lock()
            && renders.len() < MAX_RENDERS
            && !renders.iter().any(|(key, _)| *key == shape)
        {
            renders.push((shape, rendered));
        }
    }
}

impl std::fmt::Debug for Renders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shapes = self.0.lock().map(|r| r.len()).unwrap_or(0);
        f.debug_struct("Renders").field("shapes", &shapes).finish()
    }
}

impl RoomEvent {
    /// Whether the event is in the log (and so numbered by itself).
    pub fn is_logged(&self) -> bool {
        !matches!(
            self.kind,
            RoomEventKind::ViewerCount(_) | RoomEventKind::Resync
        )
    }

    /// Whether nothing follows it: the livestream ended or was cancelled.
    pub fn is_final(&self) -> bool {
        matches!(
            self.kind,
            RoomEventKind::StatusChanged(LivestreamStatus::Ended | LivestreamStatus::Cancelled)
        )
    }
}

/// A notice between replicas (the NOTIFY payload: ids only, far below 8,000 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Event `sequence` of the room was logged.
    Event {
        /// The livestream.
        livestream_id: i64,
        /// The event's number.
        sequence: i64,
    },
    /// A replica's viewer count of the room changed.
    Presence {
        /// The livestream.
        livestream_id: i64,
    },
    /// The user may no longer enter the room (their ticket was refunded): their
    /// subscriptions end on every replica.
    Revoked {
        /// The livestream.
        livestream_id: i64,
        /// The user.
        user_id: i64,
    },
}

impl Notice {
    /// `e:<livestream>:<sequence>` or `p:<livestream>`.
    pub fn to_payload(&self) -> String {
        match self {
            Notice::Event {
                livestream_id,
                sequence,
            } => format!("e:{livestream_id}:{sequence}"),
            Notice::Presence { livestream_id } => format!("p:{livestream_id}"),
            Notice::Revoked {
                livestream_id,
                user_id,
            } => format!("r:{livestream_id}:{user_id}"),
        }
    }

    /// Reads a payload; None for anything else.
    pub fn parse(payload: &str) -> Option<Notice> {
        let mut parts = payload.split(':');
        let notice = match (parts.next()?, parts.next()?.parse().ok()?, parts.next()) {
            ("e", livestream_id, Some(sequence)) => Notice::Event {
                livestream_id,
                sequence: sequence.parse().ok()?,
            },
            ("p", livestream_id, None) => Notice::Presence { livestream_id },
            ("r", livestream_id, Some(user_id)) => Notice::Revoked {
                livestream_id,
                user_id: user_id.parse().ok()?,
            },
            _ => return None,
        };
        parts.next().is_none().then_some(notice)
    }
}

/// One livestream's room on this replica.
#[derive(Debug)]
pub struct Room {
    livestream_id: i64,
    events: broadcast::Sender<Arc<RoomEvent>>,
    /// Users whose entry was revoked: their subscriptions here end.
    revoked: broadcast::Sender<i64>,
    /// The last logged event fanned out; the lock makes one reader of the log at a time.
    delivered: tokio::sync::Mutex<i64>,
    /// Subscriptions per user here (a user with two tabs counts once).
    viewers: Mutex<HashMap<i64, usize>>,
    /// Local count changed since it was last written.
    dirty: AtomicBool,
    /// The last total across replicas told to subscribers.
    total: AtomicI64,
}

impl Room {
    /// Distinct users subscribed here.
    fn local_viewers(&self) -> i64 {
        self.viewers.lock().map(|v| v.len() as i64).unwrap_or(0)
    }
}

/// The rooms of this replica; cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<HubInner>,
}

struct HubInner {
    db: DatabaseConnection,
    instance_id: String,
    rooms: Mutex<HashMap<i64, Arc<Room>>>,
    presence_changed: tokio::sync::Notify,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("instance_id", &self.inner.instance_id)
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// A hub over the database, named by a fresh instance id (its presence rows).
    pub fn new(db: DatabaseConnection) -> Self {
        Hub {
            inner: Arc::new(HubInner {
                db,
                instance_id: uuid::Uuid::new_v4().to_string(),
                rooms: Mutex::new(HashMap::new()),
                presence_changed: tokio::sync::Notify::new(),
            }),
        }
    }

    /// This replica's id in `live_presence`.
    pub fn instance_id(&self) -> &str {
        &self.inner.instance_id
    }

    fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    fn room(&self, livestream_id: i64) -> Option<Arc<Room>> {
        self.inner
            .rooms
            .lock()
            .ok()
            .and_then(|rooms| rooms.get(&livestream_id).cloned())
    }

    fn rooms(&self) -> Vec<Arc<Room>> {
        self.inner
            .rooms
            .lock()
            .map(|rooms| rooms.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Joins a room as `user_id`: the receiver of its live events and the presence
    /// this subscription holds until dropped. `logged_up_to` is the room's last
    /// sequence as the caller read it (where a new room starts).
    pub fn join(&self, livestream_id: i64, user_id: i64, logged_up_to: i64) -> Membership {
        let room = {
            let mut rooms = match self.inner.rooms.lock() {
                Ok(rooms) => rooms,
                Err(poisoned) => poisoned.into_inner(),
            };
            Arc::clone(rooms.entry(livestream_id).or_insert_with(|| {
                Arc::new(Room {
                    livestream_id,
                    events: broadcast::channel(ROOM_CHANNEL_CAPACITY).0,
                    revoked: broadcast::channel(REVOCATION_CAPACITY).0,
                    delivered: tokio::sync::Mutex::new(logged_up_to),
                    viewers: Mutex::new(HashMap::new()),
                    dirty: AtomicBool::new(false),
                    total: AtomicI64::new(-1),
                })
            }))
        };
        let receiver = room.events.subscribe();
        let revocations = room.revoked.subscribe();
        if let Ok(mut viewers) = room.viewers.lock() {
            let count = viewers.entry(user_id).or_insert(0);
            *count += 1;
            if *count == 1 {
                room.dirty.store(true, Ordering::Release);
                self.inner.presence_changed.notify_one();
            }
        }
        Membership {
            hub: self.clone(),
            room,
            user_id,
            receiver,
            revocations,
        }
    }

    /// Ends `user_id`'s subscriptions to the room on this replica.
    pub fn revoke_here(&self, livestream_id: i64, user_id: i64) {
        if let Some(room) = self.room(livestream_id) {
            // No receiver means no subscription here: nothing to end.
            let _ = room.revoked.send(user_id);
        }
    }

    /// Ends `user_id`'s subscriptions to the room on every replica (here at once, the
    /// others through NOTIFY on PostgreSQL).
    pub async fn revoke(&self, livestream_id: i64, user_id: i64) {
        self.revoke_here(livestream_id, user_id);
        if self.db().get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            let notice = Notice::Revoked {
                livestream_id,
                user_id,
            };
            if let Err(error) = log::notify(self.db(), &notice).await {
                tracing::warn!(%error, "telling the other replicas of a revoked entry failed");
            }
        }
    }

    /// Tells the room that events up to `sequence` are logged: it reads and fans out
    /// what it has not delivered yet (in the background; nothing to do without
    /// subscribers here).
    pub fn announce(&self, livestream_id: i64, sequence: i64) {
        let Some(room) = self.room(livestream_id) else {
            return;
        };
        let hub = self.clone();
        tokio::spawn(async move { hub.catch_up(&room, Some(sequence)).await });
    }

    /// Reads the room's log after what it delivered and fans it out; with `up_to`, does
    /// nothing when that is delivered already.
    async fn catch_up(&self, room: &Room, up_to: Option<i64>) {
        let mut delivered = room.delivered.lock().await;
        if up_to.is_some_and(|up_to| up_to <= *delivered) {
            return;
        }
        loop {
            let events =
                match log::events_after(self.db(), room.livestream_id, *delivered, LOG_BATCH).await
                {
                    Ok(events) => events,
                    Err(error) => {
                        tracing::error!(
                            ?error,
                            livestream = room.livestream_id,
                            "reading the live log failed"
                        );
                        return;
                    }
                };
            let full = events.len() as u64 == LOG_BATCH;
            for event in events {
                *delivered = event.sequence;
                // No receiver is not an error: the last subscriber may just have left.
                let _ = room.events.send(Arc::new(event));
            }
            if !full {
                return;
            }
        }
    }

    /// Every room rereads its log (after the listener reconnected: notices may be lost).
    pub async fn resync_all(&self) {
        for room in self.rooms() {
            self.catch_up(&room, None).await;
        }
    }

    /// Tells the room's subscribers a new total, when it changed.
    fn tell_total(&self, room: &Room, total: i64, sequence: i64) {
        if room.total.swap(total, Ordering::AcqRel) != total {
            let _ = room.events.send(Arc::new(RoomEvent {
                livestream_id: room.livestream_id,
                sequence,
                occurred_at: Utc::now(),
                kind: RoomEventKind::ViewerCount(total),
                renders: Renders::default(),
            }));
        }
    }

    fn leave(&self, room: &Arc<Room>, user_id: i64) {
        if let Ok(mut viewers) = room.viewers.lock()
            && let Some(count) = viewers.get_mut(&user_id)
        {
            *count -= 1;
            if *count == 0 {
                viewers.remove(&user_id);
                room.dirty.store(true, Ordering::Release);
                self.inner.presence_changed.notify_one();
            }
        }
    }
}

/// A subscription's place in a room; leaving is dropping it.
pub struct Membership {
    hub: Hub,
    room: Arc<Room>,
    user_id: i64,
    receiver: broadcast::Receiver<Arc<RoomEvent>>,
    revocations: broadcast::Receiver<i64>,
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.hub.leave(&self.room, self.user_id);
    }
}

/// What a subscriber is between events.
struct Follower {
    membership: Membership,
    /// Logged events to send before the live ones.
    queue: VecDeque<Arc<RoomEvent>>,
    /// Replay the log after this sequence before going on.
    replay_after: Option<i64>,
    /// The last logged sequence sent.
    last: i64,
    /// The livestream was over when the subscription began: end after the replay.
    over: bool,
    finished: bool,
}

/// The events of a room for one subscriber: the log after `after` (when given), then
/// the live events, in order with no duplicate; `Resync` and a replay when it falls
/// behind. Ends after the livestream ends or is cancelled, or after the replay when it
/// was `over` already.
pub fn follow(
    membership: Membership,
    after: Option<i64>,
    joined_at_sequence: i64,
    over: bool,
) -> impl Stream<Item = Arc<RoomEvent>> + Send + 'static {
    let state = Follower {
        membership,
        queue: VecDeque::new(),
        replay_after: after,
        last: after.unwrap_or(joined_at_sequence),
        over,
        finished: false,
    };
    futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if state.finished {
                return None;
            }
            if let Some(event) = state.queue.pop_front() {
                if event.is_logged() {
                    if event.sequence <= state.last {
                        continue;
                    }
                    state.last = state.last.max(event.sequence);
                }
                state.finished = event.is_final();
                return Some((event, state));
            }
            if let Some(after) = state.replay_after.take() {
                let room = &state.membership.room;
                match log::events_after(
                    state.membership.hub.db(),
                    room.livestream_id,
                    after,
                    LOG_BATCH,
                )
                .await
                {
                    Ok(events) => {
                        if events.len() as u64 == LOG_BATCH {
                            state.replay_after = events.last().map(|e| e.sequence);
                        }
                        state.queue.extend(events.into_iter().map(Arc::new));
                    }
                    Err(error) => {
                        tracing::error!(?error, "replaying the live log failed");
                        return None;
                    }
                }
                continue;
            }
            if state.over {
                return None;
            }
            let received = tokio::select! {
                received = state.membership.receiver.recv() => received,
                revoked = state.membership.revocations.recv() => match revoked {
                    Ok(user_id) if user_id != state.membership.user_id => continue,
                    // Theirs, or missed ones (lagged): the subscription ends; a client
                    // that may still enter subscribes again.
                    _ => return None,
                },
            };
            match received {
                Ok(event) => {
                    if event.is_logged() && event.sequence <= state.last {
                        continue;
                    }
                    state.queue.push_back(event);
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let room = &state.membership.room;
                    state.queue.push_back(Arc::new(RoomEvent {
                        livestream_id: room.livestream_id,
                        sequence: state.last,
                        occurred_at: Utc::now(),
                        kind: RoomEventKind::Resync,
                        renders: Renders::default(),
                    }));
                    state.replay_after = Some(state.last);
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_round_trip_and_refuse_anything_else() {
        for notice in [
            Notice::Event {
                livestream_id: 7,
                sequence: 42,
            },
            Notice::Presence { livestream_id: 7 },
            Notice::Revoked {
                livestream_id: 7,
                user_id: 3,
            },
        ] {
            assert_eq!(Notice::parse(&notice.to_payload()), Some(notice));
        }
        for bad in [
            "", "e:7", "e:x:1", "p:7:1", "q:7", "e:7:1:2", "r:7", "r:7:x",
        ] {
            assert_eq!(Notice::parse(bad), None, "{bad}");
        }
    }
}
