//! Livestreams: the `Livestream` object and the schedule list.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::enums::LivestreamStatus as StoredStatus;

use crate::error::AppError;
use crate::graphql::access;
use crate::graphql::context::ContextExt;
use crate::graphql::enums::LivestreamStatus;
use crate::graphql::ids;
use crate::graphql::ids::type_name;
use crate::graphql::live::{LivePlayback, LivestreamMessage};
use crate::graphql::loaders::CreatorById;
use crate::graphql::money::Money;
use crate::graphql::objects::{Creator, Livestream};
use crate::graphql::ordering::LivestreamOrder;
use crate::graphql::pagination::{self, Conn};
use crate::service::access::ProductRef;
use crate::service::{live_rooms, livestreams};

/// A live class with a ticket price and, once ended, an optional replay.
#[Object]
impl Livestream {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(type_name::LIVESTREAM, self.0.id)
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// What it is about.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Lifecycle state.
    async fn status(&self) -> LivestreamStatus {
        self.0.status.into()
    }
    /// When it is planned to start.
    async fn scheduled_start(&self) -> DateTime<Utc> {
        self.0.scheduled_start
    }
    /// When it went live.
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }
    /// When it ended.
    async fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.0.ended_at
    }
    /// Ticket price.
    async fn price(&self) -> Money {
        Money::cny(self.0.price_fen)
    }
    /// Its limited-time price, current or upcoming (null when none, or once it ended).
    async fn sale(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::graphql::pricing::Sale>> {
        crate::graphql::pricing::sale_of(ctx, &ProductRef::livestream(&self.0)).await
    }
    /// Coupons offered on this product's page, to claim (`claimCoupon`).
    async fn claimable_coupons(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::graphql::coupon::Coupon>> {
        crate::graphql::coupon::claimable(ctx, &ProductRef::livestream(&self.0)).await
    }
    /// What the viewer pays for the ticket now, and why (what `createOrder` charges).
    async fn viewer_price(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<crate::graphql::pricing::ViewerPrice> {
        crate::graphql::pricing::viewer_price(ctx, &ProductRef::livestream(&self.0)).await
    }
    /// Largest audience seen at once.
    async fn peak_viewers(&self) -> i32 {
        self.0.peak_viewers
    }
    /// True when the viewer has no ticket (play and replay URLs are then null).
    async fn locked(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(!access::can_open(ctx, &ProductRef::livestream(&self.0)).await?)
    }
    /// Stream address while live; null when locked or not live.
    async fn play_url(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        let open = access::can_open(ctx, &ProductRef::livestream(&self.0)).await?;
        Ok((open && self.0.status == StoredStatus::Live)
            .then_some(self.0.play_url.as_deref())
            .flatten())
    }
    /// Recording once ended; null when locked or none.
    async fn replay_url(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        let open = access::can_open(ctx, &ProductRef::livestream(&self.0)).await?;
        Ok((open && self.0.status == StoredStatus::Ended)
            .then_some(self.0.replay_url.as_deref())
            .flatten())
    }
    /// The RTMP address to push the video to, signed and expiring (the creator who owns
    /// it and admins, until it ends; null for everyone else).
    async fn push_url(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let signer = &ctx.live()?.signer;
        Ok(live_rooms::push_url(signer, ctx.actor()?, &self.0)?.map(|push| push.url))
    }
    /// Signed, expiring play addresses for an entitled viewer (RTMP and FLV for the
    /// mini-program, HLS and WebRTC for H5), or the replay once ended; null for anonymous
    /// and unentitled viewers.
    async fn playback(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<LivePlayback>> {
        let signer = &ctx.live()?.signer;
        Ok(
            live_rooms::playback(ctx.db()?, signer, ctx.actor()?, &self.0)
                .await?
                .map(LivePlayback::from),
        )
    }
    /// Distinct users in the live room now, across all servers.
    async fn viewer_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(live_rooms::viewer_count(ctx.db()?, self.0.id).await?)
    }
    /// The number of the room's last logged event: subscribe with it as
    /// `afterSequence` to get everything after this read.
    async fn last_event_sequence(&self) -> i64 {
        self.0.last_event_sequence
    }
    /// The pinned chat message, for those who may enter the room.
    async fn pinned_message(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<LivestreamMessage>> {
        let Some(id) = self.0.pinned_message_id else {
            return Ok(None);
        };
        let db = ctx.db()?;
        if !live_rooms::may_enter(db, ctx.actor()?, &self.0).await? {
            return Ok(None);
        }
        Ok(live_rooms::message(db, id)
            .await?
            .map(LivestreamMessage::new))
    }
    /// The room's chat, oldest first (deleted messages left out); for those who may
    /// enter the room.
    #[graphql(complexity = "pagination::cost(first, last, child_complexity)")]
    async fn messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<LivestreamMessage>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, last, before)?;
        let rows = live_rooms::messages(db, ctx.actor()?, &self.0, &page).await?;
        Ok(pagination::connection(db, rows, LivestreamMessage::new))
    }
    /// Who hosts it.
    async fn creator(&self, ctx: &Context<'_>) -> async_graphql::Result<Creator> {
        ctx.loader()?
            .load_one(CreatorById(self.0.creator_id))
            .await?
            .map(Creator)
            .ok_or_else(|| AppError::NotFound("creator").into())
    }
}

/// Filters of the livestream list.
#[derive(InputObject, Default)]
pub struct LivestreamFilter {
    /// Any of these statuses.
    pub status: Option<Vec<LivestreamStatus>>,
    /// Only this creator's livestreams.
    pub creator: Option<ID>,
    /// Scheduled to start at or after this time.
    pub starts_after: Option<DateTime<Utc>>,
    /// Scheduled to start before this time.
    pub starts_before: Option<DateTime<Utc>>,
}

/// Livestream queries.
#[derive(Default)]
pub struct LivestreamQuery;

/// Livestream queries.
#[Object]
impl LivestreamQuery {
    /// The livestream schedule, soonest first unless ordered otherwise.
    #[graphql(complexity = "pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn livestreams(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<LivestreamFilter>,
        order_by: Option<LivestreamOrder>,
    ) -> async_graphql::Result<Conn<Livestream>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let filter = livestreams::LivestreamFilter {
            statuses: filter
                .status
                .map(|s| s.into_iter().map(Into::into).collect()),
            creator_id: filter
                .creator
                .as_ref()
                .map(|id| ids::decode(id, type_name::CREATOR))
                .transpose()?,
            starts_after: filter.starts_after,
            starts_before: filter.starts_before,
        };
        let order = order_by.unwrap_or_default();
        let rows = livestreams::list(
            db,
            filter,
            order.field.into(),
            order.direction.into(),
            &page,
        )
        .await?;
        Ok(pagination::connection(db, rows, Livestream))
    }
}

// ---------------------------------------------------------------------------------
// Mutations.
// ---------------------------------------------------------------------------------

use crate::graphql::payload::{input_id, payload};
use crate::service::livestreams::{LivestreamChanges, NewLivestream};

payload!(
    /// Result of a livestream mutation.
    LivestreamPayload, livestream: Livestream
);

/// Input of `scheduleLivestream`.
#[derive(InputObject)]
pub struct ScheduleLivestreamInput {
    /// Title, 1 to 128 characters.
    pub title: String,
    /// Description, up to 5,000 characters.
    pub description: Option<String>,
    /// Start time, in the future.
    pub scheduled_start: DateTime<Utc>,
    /// Ticket price in fen, 0 (free) to 10,000,000.
    pub price_fen: i64,
    /// Stream address (shown to ticket holders while live).
    pub play_url: Option<String>,
}

/// Input of `updateLivestream`; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateLivestreamInput {
    /// The livestream.
    pub livestream: ID,
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New start time (only while scheduled).
    pub scheduled_start: Option<DateTime<Utc>>,
    /// New price in fen (only while scheduled).
    pub price_fen: Option<i64>,
    /// New stream address.
    pub play_url: Option<String>,
}

/// Input naming one livestream.
#[derive(InputObject)]
pub struct LivestreamRefInput {
    /// The livestream.
    pub livestream: ID,
}

/// Input of `endLivestream`.
#[derive(InputObject)]
pub struct EndLivestreamInput {
    /// The livestream.
    pub livestream: ID,
    /// Address of the recording, for ticket holders.
    pub replay_url: Option<String>,
}

/// Livestream mutations.
#[derive(Default)]
pub struct LivestreamMutation;

/// Livestream mutations: scheduling and the live lifecycle (SCHEDULED → LIVE → ENDED,
/// or SCHEDULED → CANCELLED).
#[Object]
impl LivestreamMutation {
    /// Schedules a livestream of the viewer's creator profile.
    async fn schedule_livestream(
        &self,
        ctx: &Context<'_>,
        input: ScheduleLivestreamInput,
    ) -> async_graphql::Result<LivestreamPayload> {
        let new = NewLivestream {
            title: input.title,
            description: input.description,
            scheduled_start: input.scheduled_start,
            price_fen: input.price_fen,
            play_url: input.play_url,
        };
        let result = livestreams::schedule(ctx.db()?, ctx.actor()?, new)
            .await
            .map(Livestream);
        LivestreamPayload::from_result(result)
    }

    /// Changes a livestream.
    async fn update_livestream(
        &self,
        ctx: &Context<'_>,
        input: UpdateLivestreamInput,
    ) -> async_graphql::Result<LivestreamPayload> {
        let result = async {
            let id = input_id(&input.livestream, type_name::LIVESTREAM, "livestream")?;
            let changes = LivestreamChanges {
                title: input.title,
                description: input.description,
                scheduled_start: input.scheduled_start,
                price_fen: input.price_fen,
                play_url: input.play_url,
            };
            livestreams::update(ctx.db()?, ctx.actor()?, id, changes)
                .await
                .map(Livestream)
        }
        .await;
        LivestreamPayload::from_result(result)
    }

    /// Goes live (SCHEDULED → LIVE).
    async fn start_livestream(
        &self,
        ctx: &Context<'_>,
        input: LivestreamRefInput,
    ) -> async_graphql::Result<LivestreamPayload> {
        let result = async {
            let id = input_id(&input.livestream, type_name::LIVESTREAM, "livestream")?;
            livestreams::start(ctx.db()?, &ctx.live()?.hub, ctx.actor()?, id)
                .await
                .map(Livestream)
        }
        .await;
        LivestreamPayload::from_result(result)
    }

    /// Ends a live stream (LIVE → ENDED), optionally with a replay.
    async fn end_livestream(
        &self,
        ctx: &Context<'_>,
        input: EndLivestreamInput,
    ) -> async_graphql::Result<LivestreamPayload> {
        let result = async {
            let id = input_id(&input.livestream, type_name::LIVESTREAM, "livestream")?;
            livestreams::end(
                ctx.db()?,
                &ctx.live()?.hub,
                ctx.actor()?,
                id,
                input.replay_url,
            )
            .await
            .map(Livestream)
        }
        .await;
        LivestreamPayload::from_result(result)
    }

    /// Calls off a scheduled livestream (SCHEDULED → CANCELLED).
    async fn cancel_livestream(
        &self,
        ctx: &Context<'_>,
        input: LivestreamRefInput,
    ) -> async_graphql::Result<LivestreamPayload> {
        let result = async {
            let id = input_id(&input.livestream, type_name::LIVESTREAM, "livestream")?;
            livestreams::cancel(ctx.db()?, &ctx.live()?.hub, ctx.actor()?, id)
                .await
                .map(Livestream)
        }
        .await;
        LivestreamPayload::from_result(result)
    }
}
