//! The view counter: product views (`recordView`), live-room attendance and
//! recommendation impressions (`recordRecommendationImpressions`), kept in memory and
//! written in batches, so a burst of views costs a few statements.
//!
//! A view counts once per viewer (a user, else a device), product and platform day
//! (Asia/Shanghai); attendance once per user and livestream; an impression once per
//! learner, course and day. Both are deduplicated in
//! memory and again by the tables' unique indexes (`ON CONFLICT DO NOTHING`), so
//! replicas and restarts never count twice. The buffer is written every flush interval
//! (`ZHIKU_VIEW_FLUSH_MS`) and when the server stops; a crash loses at most the views
//! of the last interval. It holds at most [`MAX_PENDING`] entries: past that, views are
//! dropped (and counted in the log) until the next flush, so memory stays bounded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use entity::enums::ProductKind;
use entity::{livestream_attendance, product_view, recommendation_impression};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};

use crate::error::AppResult;
use crate::service::access::ProductRef;

/// Most entries held between two flushes.
pub const MAX_PENDING: usize = 100_000;

/// Rows per INSERT statement.
const BATCH: usize = 500;

/// Who viewed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Viewer {
    /// A signed-in user.
    User(i64),
    /// An anonymous device, by the id the client keeps.
    Device(String),
}

impl Viewer {
    fn key(&self) -> String {
        match self {
            Viewer::User(id) => format!("u{id}"),
            Viewer::Device(id) => format!("d{id}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ViewKey {
    kind: ProductKind,
    product_id: i64,
    seller_id: i64,
    viewer_key: String,
    day: String,
}

#[derive(Debug, Default)]
struct Pending {
    /// Each view with its first time that day.
    views: HashMap<ViewKey, DateTime<Utc>>,
    /// Each (livestream, user) with its first time.
    attendances: HashMap<(i64, i64), DateTime<Utc>>,
    /// Each (user, course, day) shown with its first time.
    impressions: HashMap<(i64, i64, String), DateTime<Utc>>,
    dropped: u64,
}

impl Pending {
    fn len(&self) -> usize {
        self.views.len() + self.attendances.len() + self.impressions.len()
    }
}

/// What a flush wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flushed {
    /// Views handed to the database (some may have been there already).
    pub views: usize,
    /// Attendances handed to the database.
    pub attendances: usize,
    /// Impressions handed to the database.
    pub impressions: usize,
}

/// The buffer of views and attendances; clones share it.
#[derive(Clone, Debug, Default)]
pub struct ViewCounter {
    pending: Arc<Mutex<Pending>>,
}

/// The platform day of an instant, `YYYY-MM-DD` in Asia/Shanghai.
pub fn platform_day(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d")
        .to_string()
}

impl ViewCounter {
    /// An empty counter.
    pub fn new() -> Self {
        Self::default()
    }

    fn with_pending<T>(&self, f: impl FnOnce(&mut Pending) -> T) -> T {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut pending)
    }

    /// Counts a view of `product` by `viewer` at `at` (once a day per viewer).
    pub fn record_view(&self, product: &ProductRef, viewer: &Viewer, at: DateTime<Utc>) {
        let key = ViewKey {
            kind: product.kind,
            product_id: product.id,
            seller_id: product.creator_id,
            viewer_key: viewer.key(),
            day: platform_day(at),
        };
        self.with_pending(|pending| {
            if pending.len() >= MAX_PENDING && !pending.views.contains_key(&key) {
                pending.dropped += 1;
                return;
            }
            pending.views.entry(key).or_insert(at);
        });
    }

    /// Counts `user_id` entering the live room of `livestream_id` at `at` (once).
    pub fn record_attendance(&self, livestream_id: i64, user_id: i64, at: DateTime<Utc>) {
        self.with_pending(|pending| {
            let key = (livestream_id, user_id);
            if pending.len() >= MAX_PENDING && !pending.attendances.contains_key(&key) {
                pending.dropped += 1;
                return;
            }
            pending.attendances.entry(key).or_insert(at);
        });
    }

    /// Counts recommended `course_ids` shown to `user_id` at `at` (once a day each).
    pub fn record_impressions(&self, user_id: i64, course_ids: &[i64], at: DateTime<Utc>) {
        let day = platform_day(at);
        self.with_pending(|pending| {
            for &course_id in course_ids {
                let key = (user_id, course_id, day.clone());
                if pending.len() >= MAX_PENDING && !pending.impressions.contains_key(&key) {
                    pending.dropped += 1;
                    continue;
                }
                pending.impressions.entry(key).or_insert(at);
            }
        });
    }

    /// Writes what is buffered. On failure the entries go back into the buffer for the
    /// next flush (still bounded).
    pub async fn flush(&self, db: &DatabaseConnection) -> AppResult<Flushed> {
        let taken = self.with_pending(std::mem::take);
        if taken.dropped > 0 {
            tracing::warn!(
                dropped = taken.dropped,
                "views dropped: the buffer was full between two flushes"
            );
        }
        let flushed = Flushed {
            views: taken.views.len(),
            attendances: taken.attendances.len(),
            impressions: taken.impressions.len(),
        };
        match write(db, &taken).await {
            Ok(()) => Ok(flushed),
            Err(error) => {
                self.with_pending(|pending| {
                    for (key, at) in taken.views {
                        if pending.len() < MAX_PENDING {
                            pending.views.entry(key).or_insert(at);
                        }
                    }
                    for (key, at) in taken.attendances {
                        if pending.len() < MAX_PENDING {
                            pending.attendances.entry(key).or_insert(at);
                        }
                    }
                    for (key, at) in taken.impressions {
                        if pending.len() < MAX_PENDING {
                            pending.impressions.entry(key).or_insert(at);
                        }
                    }
                });
                Err(error)
            }
        }
    }

    /// Flushes every `interval`, for ever (the server's background task).
    pub async fn flush_forever(self, db: DatabaseConnection, interval: std::time::Duration) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(error) = self.flush(&db).await {
                tracing::error!(?error, "writing views failed; kept for the next flush");
            }
        }
    }
}

/// Counts a view of a product by the actor, or by the anonymous `device_id`: true when
/// counted, false for a product not on sale (a draft, an ended livestream). An unknown
/// product or a missing or malformed device id is refused, with nothing counted.
pub async fn record_view(
    db: &impl sea_orm::ConnectionTrait,
    counter: &ViewCounter,
    actor: &crate::auth::Actor,
    kind: ProductKind,
    product_id: i64,
    device_id: Option<&str>,
) -> AppResult<bool> {
    use crate::service::validation::{FieldError, UserErrorCode};
    let viewer = match (actor.user_id(), device_id.map(str::trim)) {
        (Some(user_id), _) => Viewer::User(user_id),
        (None, Some(device))
            if (1..=64).contains(&device.len())
                && device
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            Viewer::Device(device.to_owned())
        }
        (None, Some(_)) => {
            return Err(FieldError::new(
                "deviceId",
                UserErrorCode::Invalid,
                "a device id is 1 to 64 letters, digits, '-' or '_'",
            )
            .into());
        }
        (None, None) => {
            return Err(FieldError::new(
                "deviceId",
                UserErrorCode::Required,
                "an anonymous view needs the device id the client keeps",
            )
            .into());
        }
    };
    let Some((product, on_sale)) =
        crate::service::orders::product_on_sale(db, kind, product_id).await?
    else {
        return Err(FieldError::new("product", UserErrorCode::NotFound, "no such product").into());
    };
    if !on_sale {
        return Ok(false);
    }
    counter.record_view(&product, &viewer, Utc::now());
    Ok(true)
}

/// Most courses in one `recordRecommendationImpressions` (a feed page or two).
pub const MAX_IMPRESSIONS: usize = 100;

/// Counts recommended courses shown to the signed-in actor; unknown ids are left out.
/// Answers how many were counted.
pub async fn record_impressions(
    db: &impl sea_orm::ConnectionTrait,
    counter: &ViewCounter,
    actor: &crate::auth::Actor,
    course_ids: &[i64],
) -> AppResult<usize> {
    use crate::service::validation::{FieldError, UserErrorCode};
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
    let user_id = actor.require_user()?;
    if course_ids.is_empty() || course_ids.len() > MAX_IMPRESSIONS {
        return Err(FieldError::new(
            "courses",
            UserErrorCode::OutOfRange,
            format!("1 to {MAX_IMPRESSIONS} courses"),
        )
        .into());
    }
    let known: Vec<i64> = entity::course::Entity::find()
        .select_only()
        .column(entity::course::Column::Id)
        .filter(entity::course::Column::Id.is_in(course_ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    counter.record_impressions(user_id, &known, Utc::now());
    Ok(known.len())
}

/// Inserts the entries in batches, skipping those the database holds already.
async fn write(db: &DatabaseConnection, pending: &Pending) -> AppResult<()> {
    let views: Vec<product_view::ActiveModel> = pending
        .views
        .iter()
        .map(|(key, at)| product_view::ActiveModel {
            product_kind: Set(key.kind),
            product_id: Set(key.product_id),
            seller_id: Set(key.seller_id),
            viewer_key: Set(key.viewer_key.clone()),
            day: Set(key.day.clone()),
            viewed_at: Set(*at),
            ..Default::default()
        })
        .collect();
    for chunk in views.chunks(BATCH) {
        product_view::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([
                    product_view::Column::ProductKind,
                    product_view::Column::ProductId,
                    product_view::Column::ViewerKey,
                    product_view::Column::Day,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    let attendances: Vec<livestream_attendance::ActiveModel> = pending
        .attendances
        .iter()
        .map(
            |((livestream_id, user_id), at)| livestream_attendance::ActiveModel {
                livestream_id: Set(*livestream_id),
                user_id: Set(*user_id),
                first_seen_at: Set(*at),
                ..Default::default()
            },
        )
        .collect();
    for chunk in attendances.chunks(BATCH) {
        livestream_attendance::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([
                    livestream_attendance::Column::LivestreamId,
                    livestream_attendance::Column::UserId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    let impressions: Vec<recommendation_impression::ActiveModel> = pending
        .impressions
        .iter()
        .map(
            |((user_id, course_id, day), at)| recommendation_impression::ActiveModel {
                user_id: Set(*user_id),
                course_id: Set(*course_id),
                day: Set(day.clone()),
                shown_at: Set(*at),
                ..Default::default()
            },
        )
        .collect();
    for chunk in impressions.chunks(BATCH) {
        recommendation_impression::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([
                    recommendation_impression::Column::UserId,
                    recommendation_impression::Column::CourseId,
                    recommendation_impression::Column::Day,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_counts_once_per_viewer_product_and_shanghai_day() {
        let counter = ViewCounter::new();
        let course = ProductRef {
            kind: ProductKind::Course,
            id: 7,
            creator_id: 1,
            price_fen: 100,
        };
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .expect("time")
                .with_timezone(&Utc)
        };
        let me = Viewer::User(3);
        counter.record_view(&course, &me, at("2026-12-01T10:00:00Z"));
        counter.record_view(&course, &me, at("2026-12-01T15:59:59Z"));
        // 16:00 UTC is midnight in Shanghai: a new day.
        counter.record_view(&course, &me, at("2026-12-01T16:00:00Z"));
        counter.record_view(
            &course,
            &Viewer::Device("abc".into()),
            at("2026-12-01T10:00:00Z"),
        );
        counter.record_attendance(5, 3, at("2026-12-01T10:00:00Z"));
        counter.record_attendance(5, 3, at("2026-12-01T11:00:00Z"));
        counter.with_pending(|p| {
            assert_eq!(p.views.len(), 3);
            assert_eq!(p.attendances.len(), 1);
            let first = ViewKey {
                kind: ProductKind::Course,
                product_id: 7,
                seller_id: 1,
                viewer_key: "u3".into(),
                day: "2026-12-01".into(),
            };
            assert_eq!(p.views[&first], at("2026-12-01T10:00:00Z"));
        });
        assert_eq!(platform_day(at("2026-12-01T16:00:00Z")), "2026-12-02");
    }
}
