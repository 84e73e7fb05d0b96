//! Livestreams: the schedule, filtered by status, creator and time window.

use chrono::{DateTime, Utc};
use entity::enums::LivestreamStatus;
use entity::livestream;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::error::AppResult;
use crate::service::Direction;
use crate::service::page::{self, Counted, Page, PageRequest, SortKey, SortValue};

/// Whether a livestream's ticket can be bought now: scheduled or live, or ended with a
/// replay (which is what an ended livestream still sells).
pub fn is_on_sale(row: &livestream::Model) -> bool {
    match row.status {
        LivestreamStatus::Scheduled | LivestreamStatus::Live => true,
        LivestreamStatus::Ended => row.replay_url.is_some(),
        LivestreamStatus::Cancelled => false,
    }
}

/// Filters of the livestream list.
#[derive(Debug, Clone, Default)]
pub struct LivestreamFilter {
    /// Only these statuses (any of them).
    pub statuses: Option<Vec<LivestreamStatus>>,
    /// Only this creator's livestreams.
    pub creator_id: Option<i64>,
    /// Scheduled to start at or after this time.
    pub starts_after: Option<DateTime<Utc>>,
    /// Scheduled to start before this time.
    pub starts_before: Option<DateTime<Utc>>,
}

/// Orderings of the livestream list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LivestreamSort {
    /// By scheduled start.
    #[default]
    ScheduledStart,
    /// By peak audience.
    PeakViewers,
}

/// One page of livestreams.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: LivestreamFilter,
    sort: LivestreamSort,
    direction: Direction,
    page: &PageRequest,
) -> AppResult<(Page<livestream::Model>, Counted<livestream::Entity>)> {
    let mut query = livestream::Entity::find();
    if let Some(statuses) = filter.statuses.filter(|s| !s.is_empty()) {
        query = query.filter(livestream::Column::Status.is_in(statuses));
    }
    if let Some(creator_id) = filter.creator_id {
        query = query.filter(livestream::Column::CreatorId.eq(creator_id));
    }
    if let Some(after) = filter.starts_after {
        query = query.filter(livestream::Column::ScheduledStart.gte(after));
    }
    if let Some(before) = filter.starts_before {
        query = query.filter(livestream::Column::ScheduledStart.lt(before));
    }
    let key: (_, fn(&livestream::Model) -> SortValue) = match sort {
        LivestreamSort::ScheduledStart => (Expr::col(livestream::Column::ScheduledStart), |l| {
            SortValue::Time(l.scheduled_start)
        }),
        LivestreamSort::PeakViewers => (Expr::col(livestream::Column::PeakViewers), |l| {
            SortValue::Int(l.peak_viewers.into())
        }),
    };
    let sort = SortKey {
        key: Some(key),
        id: livestream::Column::Id,
        descending: direction.descending(),
    };
    page::fetch(db, query, &sort, page, |l| l.id).await
}

/// Livestreams by id in one query.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, livestream::Model>> {
    Ok(livestream::Entity::find()
        .filter(livestream::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect())
}

// ---------------------------------------------------------------------------------
// Writes: scheduling and the live lifecycle.
// ---------------------------------------------------------------------------------

use entity::enums::LivestreamStatus as Status;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, IntoActiveModel};

use crate::auth::Actor;
use crate::error::AppError;
use crate::realtime::Hub;
use crate::realtime::log::{self as live_log, Entry};
use crate::service::validation::{Checks, FieldError, UserErrorCode};
use crate::service::{owned_for_change, require_creator};

/// A livestream to schedule (fields as in `ScheduleLivestreamInput`).
#[derive(Debug, Clone)]
pub struct NewLivestream {
    /// Title, 1..=128 characters.
    pub title: String,
    /// Optional description, up to 5,000 characters.
    pub description: Option<String>,
    /// When it starts; must be in the future.
    pub scheduled_start: DateTime<Utc>,
    /// Ticket price in fen.
    pub price_fen: i64,
    /// Stream address (paid content), optional until it goes live.
    pub play_url: Option<String>,
}

/// Changes to a livestream; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct LivestreamChanges {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New start (only while scheduled; in the future).
    pub scheduled_start: Option<DateTime<Utc>>,
    /// New price (only while scheduled).
    pub price_fen: Option<i64>,
    /// New stream address.
    pub play_url: Option<String>,
}

fn invalid_state(message: impl Into<String>) -> AppError {
    FieldError::new("livestream", UserErrorCode::InvalidState, message).into()
}

/// Schedules a livestream of the actor's creator profile.
pub async fn schedule(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewLivestream,
) -> AppResult<livestream::Model> {
    let creator_id = require_creator(actor)?;
    let now = Utc::now();
    let mut checks = Checks::new();
    let title = checks.text("title", &input.title, 128);
    let description = checks.optional_text("description", input.description.as_deref(), 5_000);
    let scheduled_start = checks.future("scheduledStart", input.scheduled_start, now);
    let price_fen = checks.price("priceFen", input.price_fen);
    let play_url = checks.optional_url("playUrl", input.play_url.as_deref());
    checks.finish()?;
    let txn = crate::db::begin_write(db).await?;
    let row = livestream::ActiveModel {
        creator_id: Set(creator_id),
        title: Set(title),
        description: Set(description),
        status: Set(Status::Scheduled),
        scheduled_start: Set(scheduled_start),
        started_at: Set(None),
        ended_at: Set(None),
        price_fen: Set(price_fen),
        play_url: Set(play_url),
        replay_url: Set(None),
        peak_viewers: Set(0),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let id = row.id;
    let mut named = row.into_active_model();
    named.stream_name = Set(Some(stream_name(id, rand::random())));
    let row = named.update(&txn).await?;
    txn.commit().await?;
    Ok(row)
}

/// The stream's name on the CDN: `zk<id>_<16 random hex digits>`: readable in the
/// CDN's console, and not to be guessed from the id (so nobody plays or pushes a
/// stream from its number).
pub fn stream_name(id: i64, random: u64) -> String {
    format!("zk{id}_{random:016x}")
}

async fn for_change(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> AppResult<livestream::Model> {
    owned_for_change::<livestream::Entity>(txn, actor, id, "livestream", |l| l.creator_id).await
}

/// Updates a livestream: title, description and play URL until it ends; start time
/// and price only while it is scheduled.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    changes: LivestreamChanges,
) -> AppResult<livestream::Model> {
    let txn = crate::db::begin_write(db).await?;
    let row = for_change(&txn, actor, id).await?;
    if matches!(row.status, Status::Ended | Status::Cancelled) {
        return Err(invalid_state(
            "an ended or cancelled livestream cannot change",
        ));
    }
    let scheduled = row.status == Status::Scheduled;
    let mut checks = Checks::new();
    let mut model = row.into_active_model();
    if let Some(title) = changes.title {
        model.title = Set(checks.text("title", &title, 128));
    }
    if let Some(description) = changes.description {
        model.description = Set(checks.optional_text("description", Some(&description), 5_000));
    }
    if let Some(play_url) = changes.play_url {
        model.play_url = Set(checks.optional_url("playUrl", Some(&play_url)));
    }
    if let Some(start) = changes.scheduled_start {
        if !scheduled {
            checks.fail(
                "scheduledStart",
                UserErrorCode::InvalidState,
                "the livestream has started",
            );
        }
        model.scheduled_start = Set(checks.future("scheduledStart", start, Utc::now()));
    }
    if let Some(price_fen) = changes.price_fen {
        if !scheduled {
            checks.fail(
                "priceFen",
                UserErrorCode::InvalidState,
                "the livestream has started",
            );
        }
        model.price_fen = Set(checks.price("priceFen", price_fen));
    }
    checks.finish()?;
    let updated = model.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Moves a livestream from one status to the next, if it is in `from`, and logs the
/// change in its room.
async fn transition(
    db: &DatabaseConnection,
    hub: &Hub,
    actor: &Actor,
    id: i64,
    from: Status,
    apply: impl FnOnce(&mut livestream::ActiveModel, DateTime<Utc>),
) -> AppResult<livestream::Model> {
    let txn = crate::db::begin_write(db).await?;
    let row = for_change(&txn, actor, id).await?;
    if row.status != from {
        return Err(invalid_state(format!(
            "the livestream is {:?}, not {from:?}",
            row.status
        )));
    }
    let mut model = row.into_active_model();
    let now = Utc::now();
    apply(&mut model, now);
    let updated = model.update(&txn).await?;
    if updated.status == Status::Live {
        crate::service::messages::compose::livestream(
            &txn,
            entity::enums::MessageKind::LivestreamLive,
            &updated,
            now,
        )
        .await?;
    }
    let sequence = live_log::append(&txn, id, Entry::StatusChanged(updated.status), now).await?;
    txn.commit().await?;
    hub.announce(id, sequence);
    Ok(updated)
}

/// SCHEDULED → LIVE.
pub async fn start(
    db: &DatabaseConnection,
    hub: &Hub,
    actor: &Actor,
    id: i64,
) -> AppResult<livestream::Model> {
    transition(db, hub, actor, id, Status::Scheduled, |model, now| {
        model.status = Set(Status::Live);
        model.started_at = Set(Some(now));
    })
    .await
}

/// LIVE → ENDED, with the recording's address when there is one.
pub async fn end(
    db: &DatabaseConnection,
    hub: &Hub,
    actor: &Actor,
    id: i64,
    replay_url: Option<String>,
) -> AppResult<livestream::Model> {
    let mut checks = Checks::new();
    let replay_url = checks.optional_url("replayUrl", replay_url.as_deref());
    checks.finish()?;
    transition(db, hub, actor, id, Status::Live, |model, now| {
        model.status = Set(Status::Ended);
        model.ended_at = Set(Some(now));
        model.replay_url = Set(replay_url);
    })
    .await
}

/// SCHEDULED → CANCELLED.
pub async fn cancel(
    db: &DatabaseConnection,
    hub: &Hub,
    actor: &Actor,
    id: i64,
) -> AppResult<livestream::Model> {
    transition(db, hub, actor, id, Status::Scheduled, |model, _| {
        model.status = Set(Status::Cancelled);
    })
    .await
}
