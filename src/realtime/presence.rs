//! Who is watching: each replica counts the distinct users subscribed to each room
//! (`Room::viewers`), writes its count to `live_presence` with a heartbeat, and sums
//! the counts whose heartbeat is fresh. A replica that dies stops refreshing its rows,
//! so its viewers drop out of every sum within [`WINDOW`] plus a [`HEARTBEAT`].
//!
//! Counts are written when they change, at most once per [`FLUSH`] per room (a burst of
//! ten thousand joins is a few writes), and every replica recomputes the sum when told
//! (`Notice::Presence` over NOTIFY on PostgreSQL, directly on SQLite) and at every
//! heartbeat. A new total is told to the room's subscribers and raises
//! `livestreams.peak_viewers` in the database when it is a new peak.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;
use entity::{live_presence, livestream};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait,
    QueryFilter, QuerySelect,
};

use super::{Hub, Notice, Room};

/// How often changed counts are written.
pub const FLUSH: Duration = Duration::from_millis(250);
/// How often a replica refreshes its rows and recomputes every total.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// How old a heartbeat may be and still count.
pub const WINDOW: Duration = Duration::from_secs(20);

/// Viewers of a livestream across replicas now.
pub async fn total(db: &impl ConnectionTrait, livestream_id: i64) -> Result<i64, DbErr> {
    let fresh_after = Utc::now() - chrono::Duration::from_std(WINDOW).unwrap_or_default();
    let sum: Option<i64> = live_presence::Entity::find()
        .select_only()
        // SUM of BIGINT is NUMERIC on PostgreSQL: cast back.
        .expr(Expr::cust("CAST(SUM(viewers) AS BIGINT)"))
        .filter(live_presence::Column::LivestreamId.eq(livestream_id))
        .filter(live_presence::Column::HeartbeatAt.gt(fresh_after))
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    Ok(sum.unwrap_or(0))
}

impl Hub {
    /// Writes this replica's count of one room (deleting the row at zero).
    async fn write_count(&self, room: &Room) -> Result<(), DbErr> {
        let viewers = room.local_viewers();
        let db = self.db();
        if viewers == 0 {
            live_presence::Entity::delete_many()
                .filter(live_presence::Column::InstanceId.eq(self.instance_id()))
                .filter(live_presence::Column::LivestreamId.eq(room.livestream_id))
                .exec(db)
                .await?;
        } else {
            live_presence::Entity::insert(live_presence::ActiveModel {
                instance_id: Set(self.instance_id().to_owned()),
                livestream_id: Set(room.livestream_id),
                viewers: Set(viewers),
                heartbeat_at: Set(Utc::now()),
            })
            .on_conflict(
                OnConflict::columns([
                    live_presence::Column::InstanceId,
                    live_presence::Column::LivestreamId,
                ])
                .update_columns([
                    live_presence::Column::Viewers,
                    live_presence::Column::HeartbeatAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        }
        if db.get_database_backend() == DatabaseBackend::Postgres {
            super::log::notify(
                db,
                &Notice::Presence {
                    livestream_id: room.livestream_id,
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Sums the room's fresh counts; tells subscribers and records a new peak.
    async fn recount(&self, room: &Room) -> Result<(), DbErr> {
        let total = total(self.db(), room.livestream_id).await?;
        if total != room.total.load(Ordering::Acquire) {
            livestream::Entity::update_many()
                .col_expr(livestream::Column::PeakViewers, Expr::value(total))
                .filter(livestream::Column::Id.eq(room.livestream_id))
                .filter(livestream::Column::PeakViewers.lt(total))
                .exec(self.db())
                .await?;
            let sequence = *room.delivered.lock().await;
            self.tell_total(room, total, sequence);
        }
        Ok(())
    }

    /// A replica told us its count of a room changed.
    pub async fn presence_notice(&self, livestream_id: i64) {
        if let Some(room) = self.room(livestream_id)
            && let Err(error) = self.recount(&room).await
        {
            tracing::error!(?error, "recounting viewers failed");
        }
    }

    /// One pass: write the changed counts, recount those rooms (on SQLite; PostgreSQL
    /// replicas recount on the notice), and drop rooms nobody is in.
    async fn flush(&self) -> Result<(), DbErr> {
        let postgres = self.db().get_database_backend() == DatabaseBackend::Postgres;
        for room in self.rooms() {
            if room.dirty.swap(false, Ordering::AcqRel) {
                self.write_count(&room).await?;
                if !postgres {
                    self.recount(&room).await?;
                }
            }
        }
        let mut rooms = match self.inner.rooms.lock() {
            Ok(rooms) => rooms,
            Err(poisoned) => poisoned.into_inner(),
        };
        rooms.retain(|_, room| {
            room.events.receiver_count() > 0
                || room.dirty.load(Ordering::Acquire)
                || Arc::strong_count(room) > 1
        });
        Ok(())
    }

    /// The heartbeat: refresh this replica's rows, forget stale ones, recount all rooms.
    async fn heartbeat(&self) -> Result<(), DbErr> {
        let rooms = self.rooms();
        if rooms.is_empty() {
            // Nothing of ours to refresh; stale rows of others are ignored by every sum
            // and swept by the next replica that has viewers.
            return Ok(());
        }
        let now = Utc::now();
        live_presence::Entity::update_many()
            .col_expr(live_presence::Column::HeartbeatAt, Expr::value(now))
            .filter(live_presence::Column::InstanceId.eq(self.instance_id()))
            .exec(self.db())
            .await?;
        let stale = now - chrono::Duration::from_std(WINDOW * 3).unwrap_or_default();
        live_presence::Entity::delete_many()
            .filter(live_presence::Column::HeartbeatAt.lt(stale))
            .exec(self.db())
            .await?;
        for room in rooms {
            self.recount(&room).await?;
            // A safety net under lost notices: anything logged and not delivered goes out.
            self.catch_up(&room, None).await;
        }
        Ok(())
    }

    /// Keeps presence up to date until the process stops.
    pub async fn run_presence(self) {
        let mut heartbeat =
            tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
        loop {
            tokio::select! {
                _ = heartbeat.tick() => {
                    if let Err(error) = self.heartbeat().await {
                        tracing::error!(?error, "presence heartbeat failed");
                    }
                }
                _ = self.inner.presence_changed.notified() => {
                    // Let a burst of joins and leaves settle into one write.
                    tokio::time::sleep(FLUSH).await;
                    if let Err(error) = self.flush().await {
                        tracing::error!(?error, "writing presence failed");
                    }
                }
            }
        }
    }

    /// Removes this replica's presence rows (at shutdown).
    pub async fn withdraw(&self) {
        let removed = live_presence::Entity::delete_many()
            .filter(live_presence::Column::InstanceId.eq(self.instance_id()))
            .exec(self.db())
            .await;
        if let Err(error) = removed {
            tracing::warn!(?error, "withdrawing presence failed");
        }
    }
}
