//! Live rooms: the `livestreamEvents` subscription, the chat and its moderation, and
//! the types they return. The rules are in `service::live_rooms` and
//! `service::live_chat`; the fan-out in `realtime`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{Context, ID, InputObject, Interface, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use entity::{livestream_message, user};
use futures_util::{Stream, StreamExt};

use crate::error::AppError;
use crate::graphql::context::ContextExt;
use crate::graphql::enums::LivestreamStatus;
use crate::graphql::ids::{self, type_name};
use crate::graphql::live_render::RenderedEvent;
use crate::graphql::loaders::UserById;
use crate::graphql::objects::{Livestream, User};
use crate::graphql::payload::{input_id, payload};
use crate::realtime::{ChatLine, RoomEvent, RoomEventKind};
use crate::service::live_chat::{self, NewMessage};

/// A chat message in a live room.
pub struct LivestreamMessage {
    /// The row.
    pub message: Arc<livestream_message::Model>,
    /// Its author when already read (events carry it); otherwise loaded.
    pub author: Option<Arc<user::Model>>,
}

impl LivestreamMessage {
    /// A message whose author is loaded when asked for.
    pub fn new(message: livestream_message::Model) -> Self {
        LivestreamMessage {
            message: Arc::new(message),
            author: None,
        }
    }
}

impl From<&ChatLine> for LivestreamMessage {
    fn from(line: &ChatLine) -> Self {
        LivestreamMessage {
            message: Arc::clone(&line.message),
            author: Some(Arc::clone(&line.author)),
        }
    }
}

/// A chat message in a live room.
#[Object]
impl LivestreamMessage {
    /// Global ID.
    async fn id(&self) -> ID {
        ids::encode(type_name::LIVESTREAM_MESSAGE, self.message.id)
    }
    /// The text; null once a moderator deleted it.
    async fn body(&self) -> Option<&str> {
        self.message
            .deleted_at
            .is_none()
            .then_some(self.message.body.as_str())
    }
    /// Whether a moderator deleted it.
    async fn deleted(&self) -> bool {
        self.message.deleted_at.is_some()
    }
    /// The sender's id for it (`clientMessageId`), so a client can match its own sends.
    async fn client_message_id(&self) -> &str {
        &self.message.client_message_id
    }
    /// Who sent it.
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        if let Some(author) = &self.author {
            return Ok(User(author.as_ref().clone()));
        }
        ctx.loader()?
            .load_one(UserById(self.message.user_id))
            .await?
            .map(User)
            .ok_or_else(|| AppError::NotFound("user").into())
    }
    /// When it was sent.
    async fn created_at(&self) -> DateTime<Utc> {
        self.message.created_at
    }
}

/// What a live-room event reports.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LivestreamEventKind {
    /// The livestream's status changed.
    StatusChanged,
    /// A chat message was posted.
    MessagePosted,
    /// A moderator deleted a message.
    MessageDeleted,
    /// A message was pinned, or the pin removed.
    MessagePinned,
    /// A viewer was muted.
    ViewerMuted,
    /// The number of viewers changed (not replayed).
    ViewerCount,
    /// This subscriber fell behind; the events it missed follow.
    Resync,
}

/// Fields every live-room event has.
pub struct EventHeader(Arc<RoomEvent>);

impl EventHeader {
    fn kind(&self) -> LivestreamEventKind {
        match self.0.kind {
            RoomEventKind::StatusChanged(_) => LivestreamEventKind::StatusChanged,
            RoomEventKind::MessagePosted(_) => LivestreamEventKind::MessagePosted,
            RoomEventKind::MessageDeleted { .. } => LivestreamEventKind::MessageDeleted,
            RoomEventKind::MessagePinned(_) => LivestreamEventKind::MessagePinned,
            RoomEventKind::ViewerMuted(_) => LivestreamEventKind::ViewerMuted,
            RoomEventKind::ViewerCount(_) => LivestreamEventKind::ViewerCount,
            RoomEventKind::Resync => LivestreamEventKind::Resync,
        }
    }
}

/// Declares one event type: the common fields plus `$extra`.
macro_rules! event_type {
    ($(#[$doc:meta])* $name:ident { $($extra:tt)* }) => {
        $(#[$doc])*
        pub struct $name(EventHeader);

        $(#[$doc])*
        #[Object]
        impl $name {
            /// The event's number in the room's log (1, 2, 3…). Viewer counts and resyncs
            /// carry the number of the last logged event before them. Reconnect with
            /// `afterSequence` set to the last number seen to get what was missed.
            async fn sequence(&self) -> i64 {
                self.0 .0.sequence
            }
            /// What the event reports.
            async fn kind(&self) -> LivestreamEventKind {
                self.0.kind()
            }
            /// The livestream's global ID.
            async fn livestream_id(&self) -> ID {
                ids::encode(type_name::LIVESTREAM, self.0 .0.livestream_id)
            }
            /// When it happened.
            async fn occurred_at(&self) -> DateTime<Utc> {
                self.0 .0.occurred_at
            }
            $($extra)*
        }
    };
}

event_type!(
    /// The livestream's status changed (LIVE, ENDED, CANCELLED).
    LivestreamStatusChanged {
        /// The new status.
        async fn status(&self) -> Option<LivestreamStatus> {
            match self.0 .0.kind {
                RoomEventKind::StatusChanged(status) => Some(status.into()),
                _ => None,
            }
        }
    }
);

event_type!(
    /// A chat message was posted.
    LivestreamMessagePosted {
        /// The message.
        async fn message(&self) -> Option<LivestreamMessage> {
            match &self.0 .0.kind {
                RoomEventKind::MessagePosted(line) => Some(line.into()),
                _ => None,
            }
        }
    }
);

event_type!(
    /// A moderator deleted a message: clients remove it.
    LivestreamMessageDeleted {
        /// The deleted message's global ID.
        async fn message_id(&self) -> Option<ID> {
            match self.0 .0.kind {
                RoomEventKind::MessageDeleted { message_id } => {
                    Some(ids::encode(type_name::LIVESTREAM_MESSAGE, message_id))
                }
                _ => None,
            }
        }
    }
);

event_type!(
    /// A message was pinned; null when the pin was removed.
    LivestreamMessagePinned {
        /// The pinned message; null: no message is pinned now.
        async fn message(&self) -> Option<LivestreamMessage> {
            match &self.0 .0.kind {
                RoomEventKind::MessagePinned(Some(line)) => Some(line.into()),
                _ => None,
            }
        }
    }
);

event_type!(
    /// A viewer was muted: their messages are refused from now on.
    LivestreamViewerMuted {
        /// The muted viewer.
        async fn user(&self) -> Option<User> {
            match &self.0 .0.kind {
                RoomEventKind::ViewerMuted(user) => Some(User(user.as_ref().clone())),
                _ => None,
            }
        }
    }
);

event_type!(
    /// The number of distinct viewers across all servers changed.
    LivestreamViewerCount {
        /// Distinct users in the room now.
        async fn viewer_count(&self) -> i64 {
            match self.0 .0.kind {
                RoomEventKind::ViewerCount(count) => count,
                _ => 0,
            }
        }
    }
);

event_type!(
    /// This subscriber fell behind: the events it missed follow at once, from the log.
    /// Clients may also refetch the room's state (viewer count, pinned message).
    LivestreamResync {}
);

/// Something that happened in a live room.
#[derive(Interface)]
#[graphql(
    field(
        name = "sequence",
        ty = "i64",
        desc = "The event's number in the room's log."
    ),
    field(
        name = "kind",
        ty = "LivestreamEventKind",
        desc = "What the event reports."
    ),
    field(
        name = "livestream_id",
        ty = "ID",
        desc = "The livestream's global ID."
    ),
    field(name = "occurred_at", ty = "DateTime<Utc>", desc = "When it happened.")
)]
pub enum LivestreamEvent {
    /// A status change.
    StatusChanged(LivestreamStatusChanged),
    /// A new message.
    MessagePosted(LivestreamMessagePosted),
    /// A deleted message.
    MessageDeleted(LivestreamMessageDeleted),
    /// A pin.
    MessagePinned(LivestreamMessagePinned),
    /// A muted viewer.
    ViewerMuted(LivestreamViewerMuted),
    /// A new viewer count.
    ViewerCount(LivestreamViewerCount),
    /// A resync.
    Resync(LivestreamResync),
}

impl From<Arc<RoomEvent>> for LivestreamEvent {
    fn from(event: Arc<RoomEvent>) -> Self {
        let header = EventHeader(event);
        match header.kind() {
            LivestreamEventKind::StatusChanged => {
                LivestreamEvent::StatusChanged(LivestreamStatusChanged(header))
            }
            LivestreamEventKind::MessagePosted => {
                LivestreamEvent::MessagePosted(LivestreamMessagePosted(header))
            }
            LivestreamEventKind::MessageDeleted => {
                LivestreamEvent::MessageDeleted(LivestreamMessageDeleted(header))
            }
            LivestreamEventKind::MessagePinned => {
                LivestreamEvent::MessagePinned(LivestreamMessagePinned(header))
            }
            LivestreamEventKind::ViewerMuted => {
                LivestreamEvent::ViewerMuted(LivestreamViewerMuted(header))
            }
            LivestreamEventKind::ViewerCount => {
                LivestreamEvent::ViewerCount(LivestreamViewerCount(header))
            }
            LivestreamEventKind::Resync => LivestreamEvent::Resync(LivestreamResync(header)),
        }
    }
}

/// How many subscriptions one WebSocket runs, against its cap (put in the socket's data
/// by the WebSocket handler).
#[derive(Debug, Clone)]
pub struct SubscriptionSlots {
    used: Arc<AtomicUsize>,
    max: usize,
}

impl SubscriptionSlots {
    /// Slots of a new socket.
    pub fn new(max: usize) -> Self {
        SubscriptionSlots {
            used: Arc::default(),
            max,
        }
    }

    fn take(&self) -> Option<SlotGuard> {
        let taken = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                (used < self.max).then_some(used + 1)
            })
            .is_ok();
        taken.then(|| SlotGuard(Arc::clone(&self.used)))
    }
}

/// A subscription's slot, given back when its stream is dropped.
struct SlotGuard(Arc<AtomicUsize>);

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Live subscriptions.
#[derive(Default)]
pub struct LiveSubscription;

/// Live subscriptions (over WebSocket at `/graphql`, graphql-transport-ws).
#[Subscription]
impl LiveSubscription {
    /// What happens in a livestream's room: status changes, chat, pins, mutes, viewer
    /// counts. With `afterSequence`, the logged events after it come first, then the
    /// live ones, with no gap and no duplicate. Free livestreams are open to any
    /// signed-in user, paid ones to ticket holders, the creator and admins. Ends after
    /// the livestream ends.
    async fn livestream_events(
        &self,
        ctx: &Context<'_>,
        livestream: ID,
        after_sequence: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = RenderedEvent> + use<>> {
        let id = ids::decode(&livestream, type_name::LIVESTREAM)?;
        let slot = match ctx.data_opt::<SubscriptionSlots>() {
            Some(slots) => Some(slots.take().ok_or(AppError::BadUserInput(
                "too many subscriptions on this connection".into(),
            ))?),
            None => None,
        };
        let actor = ctx.actor()?;
        let events =
            crate::service::live_rooms::watch(ctx.db()?, ctx.live()?, actor, id, after_sequence)
                .await?;
        // Entering the room counts as attendance (for the dashboard's live funnel).
        if let (Some(user_id), Ok(views)) = (
            actor.user_id(),
            ctx.data::<crate::service::views::ViewCounter>(),
        ) {
            views.record_attendance(id, user_id, chrono::Utc::now());
        }
        Ok(events.map(move |event| {
            let _held = &slot;
            RenderedEvent(event)
        }))
    }
}

/// Input of `sendLivestreamMessage`.
#[derive(InputObject)]
pub struct SendLivestreamMessageInput {
    /// The livestream (LIVE).
    pub livestream: ID,
    /// The text, 1 to 500 characters after trimming.
    pub body: String,
    /// The client's id for this message (1 to 64 characters): a retry with the same id
    /// returns the first message instead of sending it again.
    pub client_message_id: String,
}

/// Input naming a message of a livestream.
#[derive(InputObject)]
pub struct LivestreamMessageInput {
    /// The livestream.
    pub livestream: ID,
    /// The message.
    pub message: ID,
}

/// Input of `pinLivestreamMessage`.
#[derive(InputObject)]
pub struct PinLivestreamMessageInput {
    /// The livestream.
    pub livestream: ID,
    /// The message to pin; null removes the pin.
    pub message: Option<ID>,
}

/// Input of `muteViewer`.
#[derive(InputObject)]
pub struct MuteViewerInput {
    /// The livestream.
    pub livestream: ID,
    /// The viewer.
    pub user: ID,
    /// True mutes (default), false lets them talk again.
    #[graphql(default = true)]
    pub muted: bool,
}

payload!(
    /// Result of `sendLivestreamMessage`.
    SendLivestreamMessagePayload, message: LivestreamMessage
);

payload!(
    /// Result of a moderation of a livestream's chat.
    ModerateLivestreamPayload, livestream: Livestream
);

payload!(
    /// Result of `muteViewer`.
    MuteViewerPayload, user: User
);

/// Chat and moderation mutations.
#[derive(Default)]
pub struct LiveMutation;

/// Chat and moderation mutations.
#[Object]
impl LiveMutation {
    /// Sends a chat message to a live room (entitled viewers, while LIVE; at most 5 at
    /// once and 1 a second on average; refused to muted viewers).
    async fn send_livestream_message(
        &self,
        ctx: &Context<'_>,
        input: SendLivestreamMessageInput,
    ) -> async_graphql::Result<SendLivestreamMessagePayload> {
        let result = async {
            let livestream_id = input_id(&input.livestream, type_name::LIVESTREAM, "livestream")?;
            let new = NewMessage {
                livestream_id,
                body: input.body,
                client_message_id: input.client_message_id,
            };
            let (message, author) =
                live_chat::send(ctx.db()?, ctx.live()?, ctx.actor()?, new).await?;
            Ok(LivestreamMessage {
                message: Arc::new(message),
                author: Some(Arc::new(author)),
            })
        }
        .await;
        SendLivestreamMessagePayload::from_result(result)
    }

    /// Deletes a message from a live room (the creator who owns it, admins).
    async fn delete_livestream_message(
        &self,
        ctx: &Context<'_>,
        input: LivestreamMessageInput,
    ) -> async_graphql::Result<ModerateLivestreamPayload> {
        let result = async {
            let livestream_id = input_id(&input.livestream, type_name::LIVESTREAM, "livestream")?;
            let message_id = input_id(&input.message, type_name::LIVESTREAM_MESSAGE, "message")?;
            live_chat::delete(
                ctx.db()?,
                ctx.live()?,
                ctx.actor()?,
                livestream_id,
                message_id,
            )
            .await
            .map(Livestream)
        }
        .await;
        ModerateLivestreamPayload::from_result(result)
    }

    /// Pins a message in a live room, or removes the pin (the creator who owns it, admins).
    async fn pin_livestream_message(
        &self,
        ctx: &Context<'_>,
        input: PinLivestreamMessageInput,
    ) -> async_graphql::Result<ModerateLivestreamPayload> {
        let result = async {
            let livestream_id = input_id(&input.livestream, type_name::LIVESTREAM, "livestream")?;
            let message_id = input
                .message
                .as_ref()
                .map(|id| input_id(id, type_name::LIVESTREAM_MESSAGE, "message"))
                .transpose()?;
            live_chat::pin(
                ctx.db()?,
                ctx.live()?,
                ctx.actor()?,
                livestream_id,
                message_id,
            )
            .await
            .map(Livestream)
        }
        .await;
        ModerateLivestreamPayload::from_result(result)
    }

    /// Mutes a viewer in a live room, or unmutes them (the creator who owns it, admins).
    async fn mute_viewer(
        &self,
        ctx: &Context<'_>,
        input: MuteViewerInput,
    ) -> async_graphql::Result<MuteViewerPayload> {
        let result = async {
            let livestream_id = input_id(&input.livestream, type_name::LIVESTREAM, "livestream")?;
            let user_id = input_id(&input.user, type_name::USER, "user")?;
            live_chat::set_muted(
                ctx.db()?,
                ctx.live()?,
                ctx.actor()?,
                livestream_id,
                user_id,
                input.muted,
            )
            .await
            .map(User)
        }
        .await;
        MuteViewerPayload::from_result(result)
    }
}

/// A viewer's playback addresses, signed and expiring.
#[derive(SimpleObject)]
pub struct LivePlayback {
    /// RTMP, for the mini-program `live-player` (null unless scheduled or live).
    pub rtmp: Option<String>,
    /// HTTP-FLV, for the mini-program `live-player`.
    pub flv: Option<String>,
    /// HLS (`.m3u8`), for H5 pages.
    pub hls: Option<String>,
    /// WebRTC (`webrtc://`), for low-latency H5 playback.
    pub webrtc: Option<String>,
    /// When the live addresses stop being accepted: fetch them again after.
    pub expires_at: Option<DateTime<Utc>>,
    /// The recording, once ended.
    pub replay: Option<String>,
}

impl From<crate::service::live_rooms::Playback> for LivePlayback {
    fn from(playback: crate::service::live_rooms::Playback) -> Self {
        let live = playback.live;
        LivePlayback {
            rtmp: live.as_ref().map(|l| l.rtmp.clone()),
            flv: live.as_ref().map(|l| l.flv.clone()),
            hls: live.as_ref().map(|l| l.hls.clone()),
            webrtc: live.as_ref().map(|l| l.webrtc.clone()),
            expires_at: live.as_ref().map(|l| l.expires_at),
            replay: playback.replay,
        }
    }
}
