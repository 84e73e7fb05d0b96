//! Personalised course recommendations: feeds the engine (`crate::recommend`) the
//! platform's interactions, keeps the served model current, and turns its item keys
//! back into courses a viewer may see and buy.
//!
//! Interactions: course purchases, group memberships and paid group access, livestream
//! tickets (attendance), and ratings. Courses, groups and livestreams share one item
//! space, so joining a group says something about the courses its members buy; only
//! courses are ever recommended.
//!
//! Freshness: a full rebuild runs at startup, on a schedule and on `rebuildRecommendations`,
//! off the async runtime, and is swapped in atomically. Between rebuilds every write that
//! changes a user's interactions publishes an event (`service::effects`); this model,
//! a subscriber, answers with [`Recommendations::refresh_user`], which re-reads that
//! user's interactions and replaces their history in memory.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::Utc;
use entity::enums::{CourseStatus, ProductKind};
use entity::{course, entitlement, group_membership, rating};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::recommend::{
    Change, EngineConfig, Explanations, Interaction, ItemKey, LiveRecommender, Model, ModelStats,
    Recommendation, Signal,
};
use crate::service::courses;
use crate::service::effects::{Event, Subscriber};

/// Most recommendations one request may ask for.
pub const MAX_RECOMMENDATIONS: usize = 50;

/// A requested list size: 0 to `max`, else BAD_USER_INPUT naming `first`.
pub fn page_size(first: i32, max: usize) -> AppResult<usize> {
    usize::try_from(first)
        .ok()
        .filter(|&n| n <= max)
        .ok_or_else(|| AppError::BadUserInput(format!("first: must be between 0 and {max}")))
}

/// Extra candidates asked of the engine, in case some were unpublished since the build.
const SPARE_CANDIDATES: usize = 5;

/// What an engine item key stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    /// A course.
    Course(i64),
    /// A community group.
    Group(i64),
    /// A livestream.
    Livestream(i64),
}

impl Item {
    /// The engine key: the id times four plus a kind tag.
    pub fn key(self) -> ItemKey {
        match self {
            Item::Course(id) => id * 4,
            Item::Group(id) => id * 4 + 1,
            Item::Livestream(id) => id * 4 + 2,
        }
    }

    /// The item an engine key stands for.
    pub fn from_key(key: ItemKey) -> Option<Item> {
        match key.rem_euclid(4) {
            0 => Some(Item::Course(key.div_euclid(4))),
            1 => Some(Item::Group(key.div_euclid(4))),
            2 => Some(Item::Livestream(key.div_euclid(4))),
            _ => None,
        }
    }

    /// The course id, if a course.
    pub fn course_id(key: ItemKey) -> Option<i64> {
        match Item::from_key(key) {
            Some(Item::Course(id)) => Some(id),
            _ => None,
        }
    }
}

/// A recommendable course as of the last rebuild: who sells it and its category.
#[derive(Clone, Debug)]
struct CatalogueEntry {
    creator_id: i64,
    category: String,
}

/// What a caller will read of each recommendation, so nothing else is computed.
#[derive(Clone, Copy, Debug)]
pub struct Wanted {
    /// Predict the viewer's stars.
    pub predicted_rating: bool,
    /// Load the courses that explain each recommendation.
    pub because: bool,
}

impl Wanted {
    /// Everything.
    pub const ALL: Wanted = Wanted {
        predicted_rating: true,
        because: true,
    };
}

/// One recommended course, explained.
#[derive(Clone, Debug)]
pub struct CourseRecommendation {
    /// The course.
    pub course: Arc<course::Model>,
    /// Ranking score: higher is better, comparable within one answer.
    pub score: f64,
    /// Predicted stars for this viewer, when any course has ratings.
    pub predicted_rating: Option<f64>,
    /// Courses the viewer has that led to this one, strongest first.
    pub because: Vec<Arc<course::Model>>,
}

/// How long a course row read for recommendations is reused. Recommendations are a
/// snapshot anyway; a second of staleness (a new title, a suspension) saves the hot path
/// a database round trip per request.
const COURSE_ROW_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// Recently read course rows, by id, with when they were read.
type CourseRows = HashMap<i64, (std::time::Instant, Arc<course::Model>)>;

struct Inner {
    live: LiveRecommender,
    course_rows: std::sync::RwLock<CourseRows>,
    catalogue: ArcSwap<HashMap<i64, CatalogueEntry>>,
    config: EngineConfig,
    /// One rebuild at a time; a second request waits and then builds from fresher data.
    rebuilding: tokio::sync::Mutex<()>,
}

/// The recommendation service shared by every request (cheap to clone).
#[derive(Clone)]
pub struct Recommendations {
    inner: Arc<Inner>,
}

impl Recommendations {
    /// Builds the first model from the database.
    pub async fn start(db: &DatabaseConnection, config: EngineConfig) -> AppResult<Self> {
        let recommendations = Recommendations {
            inner: Arc::new(Inner {
                live: LiveRecommender::new(Model::empty(&config)),
                course_rows: std::sync::RwLock::new(HashMap::new()),
                catalogue: ArcSwap::from_pointee(HashMap::new()),
                config,
                rebuilding: tokio::sync::Mutex::new(()),
            }),
        };
        recommendations.rebuild(db).await?;
        Ok(recommendations)
    }

    /// Course rows by id: from the short-lived cache, the rest in one query.
    async fn course_rows(
        &self,
        db: &DatabaseConnection,
        ids: &[i64],
    ) -> AppResult<HashMap<i64, Arc<course::Model>>> {
        let now = std::time::Instant::now();
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        {
            let cache = self
                .inner
                .course_rows
                .read()
                .unwrap_or_else(|e| e.into_inner());
            for &id in ids {
                match cache.get(&id) {
                    Some((read_at, row)) if now.duration_since(*read_at) < COURSE_ROW_TTL => {
                        found.insert(id, Arc::clone(row));
                    }
                    _ => missing.push(id),
                }
            }
        }
        if !missing.is_empty() {
            let rows = courses::by_ids(db, &missing).await?;
            let mut cache = self
                .inner
                .course_rows
                .write()
                .unwrap_or_else(|e| e.into_inner());
            for (id, row) in rows {
                let row = Arc::new(row);
                cache.insert(id, (now, Arc::clone(&row)));
                found.insert(id, row);
            }
        }
        Ok(found)
    }

    /// Drops the cached row of a course just changed (edited, published, archived,
    /// suspended), so the next answer reads it fresh.
    pub fn forget_course(&self, course_id: i64) {
        self.inner
            .course_rows
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&course_id);
    }

    /// Figures of the model being served.
    pub fn stats(&self) -> ModelStats {
        self.inner.live.model().stats().clone()
    }

    /// Rebuilds the model from the database and swaps it in; requests keep being served
    /// by the old model meanwhile.
    pub async fn rebuild(&self, db: &DatabaseConnection) -> AppResult<ModelStats> {
        let _one_at_a_time = self.inner.rebuilding.lock().await;
        let checkpoint = self.inner.live.checkpoint();
        let interactions = load_interactions(db, None).await?;
        let catalogue = load_catalogue(db).await?;
        let items: Vec<ItemKey> = catalogue.keys().map(|&id| Item::Course(id).key()).collect();
        let config = self.inner.config.clone();
        let now = Utc::now().timestamp();
        let model = tokio::task::spawn_blocking(move || {
            Model::build_with_catalogue(&interactions, &items, now, &config)
        })
        .await
        .map_err(AppError::internal)?;
        let stats = model.stats().clone();
        self.inner.catalogue.store(Arc::new(catalogue));
        self.inner.live.install(model, checkpoint);
        tracing::info!(
            items = stats.items,
            users = stats.users,
            similarities = stats.non_zero_similarities,
            seconds = stats.build_seconds,
            "recommendation model rebuilt"
        );
        Ok(stats)
    }

    /// Re-reads a user's interactions after a committed write and applies them at once.
    /// Failure only delays freshness until the next rebuild, so it is logged, not raised.
    pub async fn refresh_user(&self, db: &DatabaseConnection, user_id: i64) {
        match load_interactions(db, Some(user_id)).await {
            Ok(interactions) => self.inner.live.record(Change::Replace {
                user: user_id,
                interactions,
            }),
            Err(error) => {
                tracing::warn!(
                    ?error,
                    user_id,
                    "could not refresh a user's recommendations"
                )
            }
        }
    }

    /// The viewer's top `first` courses (optionally within `category`): never one they
    /// have, one they sell, or one not on sale. Viewers with no history get the best rated
    /// and recently selling courses, those in their followed creators' categories first.
    pub async fn recommend(
        &self,
        db: &DatabaseConnection,
        actor: &Actor,
        first: i32,
        category: Option<&str>,
        wanted: Wanted,
    ) -> AppResult<Vec<CourseRecommendation>> {
        let first = page_size(first, MAX_RECOMMENDATIONS)?;
        if first == 0 {
            return Ok(Vec::new());
        }
        let catalogue = self.inner.catalogue.load();
        let user = actor.user_id();
        let own_creator = actor.creator_id();
        let accept = |key: ItemKey| {
            Item::course_id(key)
                .and_then(|id| catalogue.get(&id))
                .is_some_and(|entry| {
                    Some(entry.creator_id) != own_creator
                        && category.is_none_or(|c| entry.category == c)
                })
        };
        let is_cold = self
            .inner
            .live
            .with_user(user, |_, history| history.is_none_or(|h| h.is_empty()));
        let followed_categories = match (is_cold, user) {
            (true, Some(user)) => followed_categories(db, user, &catalogue).await?,
            _ => HashSet::new(),
        };
        let prefer = |key: ItemKey| {
            Item::course_id(key)
                .and_then(|id| catalogue.get(&id))
                .is_some_and(|entry| followed_categories.contains(&entry.category))
        };
        let explanations = if wanted.because {
            Explanations::Include
        } else {
            Explanations::Skip
        };
        let ranked = self.inner.live.recommend(
            user,
            first + SPARE_CANDIDATES,
            &accept,
            &prefer,
            explanations,
        );

        let mut ids: Vec<i64> = Vec::new();
        for recommendation in &ranked {
            ids.extend(Item::course_id(recommendation.item));
            ids.extend(
                recommendation
                    .because
                    .iter()
                    .filter_map(|&k| Item::course_id(k)),
            );
        }
        ids.sort_unstable();
        ids.dedup();
        let rows = self.course_rows(db, &ids).await?;
        // Courses a running membership opens are the viewer's already (the model's
        // history holds only what they bought).
        let covered = match user {
            Some(user) => {
                crate::service::memberships::covered(
                    db,
                    user,
                    ProductKind::Course,
                    &ids,
                    Utc::now(),
                )
                .await?
            }
            None => HashSet::new(),
        };
        let kept: Vec<(Recommendation, Arc<course::Model>)> = ranked
            .into_iter()
            .filter_map(|recommendation| {
                let course = rows.get(&Item::course_id(recommendation.item)?)?;
                // The catalogue is as of the last rebuild; the row is now.
                let offered = courses::is_on_sale(course)
                    && Some(course.creator_id) != own_creator
                    && !covered.contains(&course.id);
                offered.then(|| (recommendation, Arc::clone(course)))
            })
            .take(first)
            .collect();
        // Predicted only for what is shown.
        let predicted = if wanted.predicted_rating {
            let keys: Vec<ItemKey> = kept.iter().map(|(r, _)| r.item).collect();
            self.inner.live.predict(user, &keys)
        } else {
            vec![None; kept.len()]
        };
        Ok(kept
            .into_iter()
            .zip(predicted)
            .map(
                |((recommendation, course), predicted)| CourseRecommendation {
                    course,
                    score: f64::from(recommendation.score),
                    predicted_rating: predicted.map(f64::from),
                    because: recommendation
                        .because
                        .iter()
                        .filter_map(|&k| rows.get(&Item::course_id(k)?).cloned())
                        .collect(),
                },
            )
            .collect())
    }

    /// Courses most often bought together with `course_id` (strongest first), on sale.
    pub async fn similar_courses(
        &self,
        db: &DatabaseConnection,
        course_id: i64,
        first: i32,
    ) -> AppResult<Vec<Arc<course::Model>>> {
        let first = page_size(first, MAX_RECOMMENDATIONS)?;
        let catalogue = self.inner.catalogue.load();
        let accept =
            |key: ItemKey| Item::course_id(key).is_some_and(|id| catalogue.contains_key(&id));
        let similar = self.inner.live.model().similar(
            Item::Course(course_id).key(),
            first + SPARE_CANDIDATES,
            &accept,
        );
        let ids: Vec<i64> = similar
            .iter()
            .filter_map(|&(k, _)| Item::course_id(k))
            .collect();
        let rows = self.course_rows(db, &ids).await?;
        Ok(ids
            .iter()
            .filter_map(|id| rows.get(id))
            .filter(|c| courses::is_on_sale(c))
            .take(first)
            .cloned()
            .collect())
    }
}

/// Categories of the courses sold by creators the user follows.
async fn followed_categories(
    db: &DatabaseConnection,
    user_id: i64,
    catalogue: &HashMap<i64, CatalogueEntry>,
) -> AppResult<HashSet<String>> {
    let creators: HashSet<i64> = crate::service::creators::followed_by(db, user_id)
        .await?
        .into_iter()
        .collect();
    Ok(catalogue
        .values()
        .filter(|entry| creators.contains(&entry.creator_id))
        .map(|entry| entry.category.clone())
        .collect())
}

/// Courses on sale now: the only ones ever recommended.
async fn load_catalogue(db: &DatabaseConnection) -> AppResult<HashMap<i64, CatalogueEntry>> {
    let rows: Vec<(i64, i64, String)> = course::Entity::find()
        .select_only()
        .columns([
            course::Column::Id,
            course::Column::CreatorId,
            course::Column::Category,
        ])
        .filter(course::Column::Status.eq(CourseStatus::Published))
        .filter(course::Column::SuspendedAt.is_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, creator_id, category)| {
            (
                id,
                CatalogueEntry {
                    creator_id,
                    category,
                },
            )
        })
        .collect())
}

/// Every interaction (or one user's): live entitlements, group memberships, ratings.
async fn load_interactions(
    db: &DatabaseConnection,
    user_id: Option<i64>,
) -> AppResult<Vec<Interaction>> {
    let mut entitlements = entitlement::Entity::find()
        .select_only()
        .columns([
            entitlement::Column::UserId,
            entitlement::Column::ProductKind,
            entitlement::Column::ProductId,
            entitlement::Column::GrantedAt,
        ])
        .filter(entitlement::Column::RevokedAt.is_null());
    let mut memberships = group_membership::Entity::find().select_only().columns([
        group_membership::Column::UserId,
        group_membership::Column::GroupId,
        group_membership::Column::JoinedAt,
    ]);
    let mut ratings = rating::Entity::find().select_only().columns([
        rating::Column::UserId,
        rating::Column::CourseId,
        rating::Column::Stars,
        rating::Column::UpdatedAt,
    ]);
    if let Some(user_id) = user_id {
        entitlements = entitlements.filter(entitlement::Column::UserId.eq(user_id));
        memberships = memberships.filter(group_membership::Column::UserId.eq(user_id));
        ratings = ratings.filter(rating::Column::UserId.eq(user_id));
    }
    type At = chrono::DateTime<Utc>;
    let entitlements: Vec<(i64, ProductKind, i64, At)> = entitlements.into_tuple().all(db).await?;
    let memberships: Vec<(i64, i64, At)> = memberships.into_tuple().all(db).await?;
    let ratings: Vec<(i64, i64, i32, At)> = ratings.into_tuple().all(db).await?;

    let mut interactions =
        Vec::with_capacity(entitlements.len() + memberships.len() + ratings.len());
    for (user, kind, id, at) in entitlements {
        let (item, signal) = match kind {
            ProductKind::Course => (Item::Course(id), Signal::Purchase),
            ProductKind::Livestream => (Item::Livestream(id), Signal::Attendance),
            ProductKind::Group => (Item::Group(id), Signal::GroupJoin),
            // Its courses come as course entitlements of their own.
            ProductKind::Bundle | ProductKind::Membership | ProductKind::Question => continue,
        };
        interactions.push(Interaction {
            user,
            item: item.key(),
            signal,
            at: at.timestamp(),
        });
    }
    for (user, group, at) in memberships {
        interactions.push(Interaction {
            user,
            item: Item::Group(group).key(),
            signal: Signal::GroupJoin,
            at: at.timestamp(),
        });
    }
    for (user, course, stars, at) in ratings {
        interactions.push(Interaction {
            user,
            item: Item::Course(course).key(),
            signal: Signal::Rating(stars as f32),
            at: at.timestamp(),
        });
    }
    Ok(interactions)
}

/// The recommendation model: a user's history is re-read when what they own, joined or
/// rated changes; a changed course's cached row is dropped. (Derived cache.)
#[async_trait::async_trait]
impl Subscriber for Recommendations {
    async fn handle(&self, db: &DatabaseConnection, event: &Event) {
        match *event {
            Event::OrderPaid { buyer_id, .. } | Event::OrderRefunded { buyer_id, .. } => {
                self.refresh_user(db, buyer_id).await;
            }
            Event::RatingChanged { user_id, .. } | Event::MembershipChanged { user_id, .. } => {
                self.refresh_user(db, user_id).await;
            }
            Event::CourseChanged { course_id } => self.forget_course(course_id),
            Event::UserChanged { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Item;

    #[test]
    fn item_keys_round_trip_and_never_collide() {
        for id in [1, 2, 7, 1_000_000] {
            for item in [Item::Course(id), Item::Group(id), Item::Livestream(id)] {
                assert_eq!(Item::from_key(item.key()), Some(item));
            }
        }
        assert_ne!(Item::Course(1).key(), Item::Group(1).key());
        assert_eq!(Item::course_id(Item::Group(3).key()), None);
    }
}
