//! Short-lived copies of the catalogue rows every list shows, shared by all requests.
//!
//! The course list is most of what clients ask, and on a 2-core machine its rows cost
//! more to fetch (a round trip to the database, through sqlx's SQLite worker threads)
//! than to answer. So pages of the course and creator lists, course counts, creators'
//! first course pages, courses by id, lessons of a course and creators by id are kept here for at most the configured time to live
//! (`ZHIKU_READ_CACHE_TTL_MS`, one second by default; 0 turns the cache off).
//!
//! Freshness rules:
//! - **A write through this process is seen at once.** Every writer of these rows
//!   publishes an [`Event`] after its commit and before it answers; this cache is a
//!   subscriber and bumps the generation of what changed, and an entry is served only
//!   while its generation is current. A reader takes the generation *before* it reads
//!   the database, so a row read before a commit is never stored as current after it.
//! - **A write through another process** (another replica, `zhiku` commands) is seen
//!   within the time to live, since nothing tells this process about it.
//! - Only public rows are kept: what the rows are does not depend on who asks. Who may
//!   see them is still decided per request (see `courses::list`).

use std::collections::HashMap;
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use entity::{course, creator, lesson};
use lru::LruCache;
use sea_orm::DatabaseConnection;

use crate::service::Direction;
use crate::service::courses::{CourseFilter, CourseSort};
use crate::service::creators::{CreatorFilter, CreatorSort};
use crate::service::effects::{Event, Subscriber};
use crate::service::page::{Page, PageRequest};

/// Entries kept of each kind of row; the least recently used go first.
const ENTRIES_PER_SHELF: usize = 4_096;
/// Courses whose lessons are kept: fewer, since an article lesson may be long.
const LESSON_LISTS: usize = 512;

/// A page of the course list, as asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CoursePageKey {
    /// The filters.
    pub filter: CourseFilter,
    /// The order.
    pub sort: CourseSort,
    /// Its direction.
    pub direction: Direction,
    /// Which page.
    pub page: PageRequest,
}

/// A page of the creator list, as asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreatorPageKey {
    /// The filters.
    pub filter: CreatorFilter,
    /// The order.
    pub sort: CreatorSort,
    /// Its direction.
    pub direction: Direction,
    /// Which page.
    pub page: PageRequest,
}

/// The first page of a creator's published courses (`creator.courses(first:)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FirstCoursesKey {
    /// The creator.
    pub creator_id: i64,
    /// Page size.
    pub limit: u64,
    /// The order.
    pub sort: CourseSort,
    /// Its direction.
    pub direction: Direction,
}

/// What a cached row depends on: each kind is invalidated as a whole by the events that
/// change it (writes are rare beside reads, so a coarse flush costs little).
#[derive(Debug, Clone, Copy)]
enum Domain {
    /// Course rows (sales and rating counters included) and lessons.
    Catalogue,
    /// Creator profiles.
    People,
}

/// The generation of a domain, taken before the database is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation(u64);

/// Both domains' generations at one moment: what an answer built from catalogue and
/// people rows was read from (see `graphql::response_cache`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    catalogue: Generation,
    people: Generation,
}

struct Stamped<V> {
    generation: Generation,
    stored_at: Instant,
    value: V,
}

/// One kind of entry.
struct Shelf<K: Hash + Eq, V> {
    entries: Mutex<LruCache<K, Stamped<V>>>,
}

impl<K: Hash + Eq, V: Clone> Shelf<K, V> {
    fn new(capacity: usize) -> Self {
        Shelf {
            entries: Mutex::new(LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<K, Stamped<V>>> {
        // A panic while holding the lock leaves plain data behind; keep using it.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct Inner {
    ttl: Duration,
    catalogue: AtomicU64,
    people: AtomicU64,
    course_pages: Shelf<CoursePageKey, Page<Arc<course::Model>>>,
    course_counts: Shelf<CourseFilter, i64>,
    first_courses: Shelf<FirstCoursesKey, Page<course::Model>>,
    creator_pages: Shelf<CreatorPageKey, Page<creator::Model>>,
    courses: Shelf<i64, course::Model>,
    lessons: Shelf<i64, Vec<Arc<lesson::Model>>>,
    creators: Shelf<i64, creator::Model>,
}

/// The process's read cache; cheap to clone (one shared value).
#[derive(Clone)]
pub struct ReadCache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field("ttl", &self.inner.ttl)
            .finish_non_exhaustive()
    }
}

impl ReadCache {
    /// A cache whose entries live at most `ttl`; a zero `ttl` keeps nothing.
    pub fn new(ttl: Duration) -> Self {
        ReadCache {
            inner: Arc::new(Inner {
                ttl,
                catalogue: AtomicU64::new(0),
                people: AtomicU64::new(0),
                course_pages: Shelf::new(ENTRIES_PER_SHELF),
                course_counts: Shelf::new(ENTRIES_PER_SHELF),
                first_courses: Shelf::new(ENTRIES_PER_SHELF),
                creator_pages: Shelf::new(ENTRIES_PER_SHELF),
                courses: Shelf::new(ENTRIES_PER_SHELF),
                lessons: Shelf::new(LESSON_LISTS),
                creators: Shelf::new(ENTRIES_PER_SHELF),
            }),
        }
    }

    /// A cache that keeps nothing (every read goes to the database).
    pub fn disabled() -> Self {
        ReadCache::new(Duration::ZERO)
    }

    fn enabled(&self) -> bool {
        !self.inner.ttl.is_zero()
    }

    /// The longest an entry lives (zero: the cache is off).
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }

    /// The generations of every domain now. Take it before reading: a value read
    /// from the stamp is current while [`ReadCache::stamp`] still equals it.
    pub fn stamp(&self) -> Stamp {
        Stamp {
            catalogue: self.generation(Domain::Catalogue),
            people: self.generation(Domain::People),
        }
    }

    fn counter(&self, domain: Domain) -> &AtomicU64 {
        match domain {
            Domain::Catalogue => &self.inner.catalogue,
            Domain::People => &self.inner.people,
        }
    }

    fn generation(&self, domain: Domain) -> Generation {
        Generation(self.counter(domain).load(Ordering::Acquire))
    }

    fn bump(&self, domain: Domain) {
        self.counter(domain).fetch_add(1, Ordering::AcqRel);
    }

    fn get<K: Hash + Eq, V: Clone>(
        &self,
        shelf: &Shelf<K, V>,
        domain: Domain,
        key: &K,
    ) -> Option<V> {
        if !self.enabled() {
            return None;
        }
        let current = self.generation(domain);
        let mut entries = shelf.lock();
        match entries.get(key) {
            Some(entry)
                if entry.generation == current && entry.stored_at.elapsed() < self.inner.ttl =>
            {
                Some(entry.value.clone())
            }
            Some(_) => {
                entries.pop(key);
                None
            }
            None => None,
        }
    }

    fn put<K: Hash + Eq, V: Clone>(
        &self,
        shelf: &Shelf<K, V>,
        domain: Domain,
        read_from: Generation,
        entries: impl IntoIterator<Item = (K, V)>,
    ) {
        // Rows read before a change committed are not kept as current after it.
        if !self.enabled() || self.generation(domain) != read_from {
            return;
        }
        let stored_at = Instant::now();
        let mut shelf = shelf.lock();
        for (key, value) in entries {
            shelf.put(
                key,
                Stamped {
                    generation: read_from,
                    stored_at,
                    value,
                },
            );
        }
    }

    /// A page of the course list: from the cache, or from `load` (then kept). Rows are
    /// shared, not copied, between the requests that show them.
    pub async fn course_page<E, F>(
        &self,
        key: CoursePageKey,
        load: F,
    ) -> Result<Page<Arc<course::Model>>, E>
    where
        F: Future<Output = Result<Page<course::Model>, E>>,
    {
        let share = |page: Page<course::Model>| Page {
            items: page
                .items
                .into_iter()
                .map(|(cursor, row)| (cursor, Arc::new(row)))
                .collect(),
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
        };
        let load = async { load.await.map(share) };
        self.one(&self.inner.course_pages, Domain::Catalogue, key, load)
            .await
    }

    /// How many courses a list with `filter` holds (its `totalCount`): from the cache,
    /// or from `load` (then kept).
    pub async fn course_count<E, F>(&self, filter: CourseFilter, load: F) -> Result<i64, E>
    where
        F: Future<Output = Result<i64, E>>,
    {
        self.one(&self.inner.course_counts, Domain::Catalogue, filter, load)
            .await
    }

    /// The first course pages of several creators: those cached, the rest from one
    /// `load` (then kept).
    pub async fn first_courses<E, F, Fut>(
        &self,
        keys: &[FirstCoursesKey],
        load: F,
    ) -> Result<HashMap<FirstCoursesKey, Page<course::Model>>, E>
    where
        F: FnOnce(Vec<FirstCoursesKey>) -> Fut,
        Fut: Future<Output = Result<HashMap<FirstCoursesKey, Page<course::Model>>, E>>,
    {
        self.many(&self.inner.first_courses, Domain::Catalogue, keys, load)
            .await
    }

    /// A page of the creator list: from the cache, or from `load` (then kept).
    pub async fn creator_page<E, F>(
        &self,
        key: CreatorPageKey,
        load: F,
    ) -> Result<Page<creator::Model>, E>
    where
        F: Future<Output = Result<Page<creator::Model>, E>>,
    {
        self.one(&self.inner.creator_pages, Domain::People, key, load)
            .await
    }

    /// Courses by id: those cached, the rest from `load` (then kept).
    pub async fn courses<E, F, Fut>(
        &self,
        ids: &[i64],
        load: F,
    ) -> Result<HashMap<i64, course::Model>, E>
    where
        F: FnOnce(Vec<i64>) -> Fut,
        Fut: Future<Output = Result<HashMap<i64, course::Model>, E>>,
    {
        self.many(&self.inner.courses, Domain::Catalogue, ids, load)
            .await
    }

    /// The lessons of courses by course id (every id answered, empty when it has none).
    pub async fn lessons<E, F, Fut>(
        &self,
        course_ids: &[i64],
        load: F,
    ) -> Result<HashMap<i64, Vec<Arc<lesson::Model>>>, E>
    where
        F: FnOnce(Vec<i64>) -> Fut,
        Fut: Future<Output = Result<HashMap<i64, Vec<Arc<lesson::Model>>>, E>>,
    {
        self.many(&self.inner.lessons, Domain::Catalogue, course_ids, load)
            .await
    }

    /// Creators by id: those cached, the rest from `load` (then kept).
    pub async fn creators<E, F, Fut>(
        &self,
        ids: &[i64],
        load: F,
    ) -> Result<HashMap<i64, creator::Model>, E>
    where
        F: FnOnce(Vec<i64>) -> Fut,
        Fut: Future<Output = Result<HashMap<i64, creator::Model>, E>>,
    {
        self.many(&self.inner.creators, Domain::People, ids, load)
            .await
    }

    /// The value of `key`: cached, or from `load` (then kept).
    async fn one<K, V, E, F>(
        &self,
        shelf: &Shelf<K, V>,
        domain: Domain,
        key: K,
        load: F,
    ) -> Result<V, E>
    where
        K: Hash + Eq,
        V: Clone,
        F: Future<Output = Result<V, E>>,
    {
        if let Some(value) = self.get(shelf, domain, &key) {
            return Ok(value);
        }
        let generation = self.generation(domain);
        let value = load.await?;
        self.put(shelf, domain, generation, [(key, value.clone())]);
        Ok(value)
    }

    /// Values by key: the cached ones, and one `load` for the rest.
    async fn many<K, V, E, F, Fut>(
        &self,
        shelf: &Shelf<K, V>,
        domain: Domain,
        keys: &[K],
        load: F,
    ) -> Result<HashMap<K, V>, E>
    where
        K: Hash + Eq + Clone,
        V: Clone,
        F: FnOnce(Vec<K>) -> Fut,
        Fut: Future<Output = Result<HashMap<K, V>, E>>,
    {
        let mut found = HashMap::with_capacity(keys.len());
        let mut missing = Vec::new();
        for key in keys {
            match self.get(shelf, domain, key) {
                Some(value) => {
                    found.insert(key.clone(), value);
                }
                None => missing.push(key.clone()),
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let generation = self.generation(domain);
        let loaded = load(missing).await?;
        self.put(
            shelf,
            domain,
            generation,
            loaded
                .iter()
                .map(|(key, value)| (key.clone(), value.clone())),
        );
        found.extend(loaded);
        Ok(found)
    }
}

/// Told after every commit: what an event changed is read afresh from the next request.
#[async_trait::async_trait]
impl Subscriber for ReadCache {
    async fn handle(&self, _db: &DatabaseConnection, event: &Event) {
        match event {
            // Course rows: edits and status, sales counters (payments and refunds),
            // rating counters; lessons are announced as a change of their course.
            Event::CourseChanged { .. }
            | Event::OrderPaid { .. }
            | Event::OrderRefunded { .. }
            | Event::RatingChanged { .. } => self.bump(Domain::Catalogue),
            // Creator profiles.
            Event::UserChanged { .. } => self.bump(Domain::People),
            Event::MembershipChanged { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creator(id: i64, name: &str) -> creator::Model {
        creator::Model {
            id,
            user_id: id,
            display_name: name.into(),
            bio: None,
            created_at: chrono::Utc::now(),
            fee_bps: None,
            wechat_mchid: None,
        }
    }

    async fn load_creators(
        cache: &ReadCache,
        ids: &[i64],
        name: &str,
        asked: &mut Vec<Vec<i64>>,
    ) -> HashMap<i64, creator::Model> {
        cache
            .creators(ids, |missing| {
                asked.push(missing.clone());
                let rows = missing.iter().map(|&id| (id, creator(id, name))).collect();
                async move { Ok::<_, ()>(rows) }
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn keeps_rows_until_a_change_of_their_domain() {
        let cache = ReadCache::new(Duration::from_secs(60));
        let mut asked = Vec::new();
        load_creators(&cache, &[1, 2], "old", &mut asked).await;
        let again = load_creators(&cache, &[1, 2, 3], "new", &mut asked).await;
        assert_eq!(
            asked,
            vec![vec![1, 2], vec![3]],
            "only the missing id is loaded"
        );
        assert_eq!(again[&1].display_name, "old");
        // A course change leaves creators alone; a user change does not.
        let db = DatabaseConnection::default();
        cache
            .handle(&db, &Event::CourseChanged { course_id: 1 })
            .await;
        assert_eq!(
            load_creators(&cache, &[1], "x", &mut asked).await[&1].display_name,
            "old"
        );
        cache.handle(&db, &Event::UserChanged { user_id: 1 }).await;
        assert_eq!(
            load_creators(&cache, &[1], "new", &mut asked).await[&1].display_name,
            "new"
        );
    }

    #[tokio::test]
    async fn a_read_that_overlaps_a_change_is_not_kept() {
        let cache = ReadCache::new(Duration::from_secs(60));
        let racing = cache.clone();
        let rows = cache
            .creators(&[1], |missing| async move {
                // The change commits while this read is in flight.
                racing.bump(Domain::People);
                Ok::<_, ()>(missing.iter().map(|&id| (id, creator(id, "old"))).collect())
            })
            .await
            .unwrap();
        assert_eq!(rows[&1].display_name, "old", "the reader gets what it read");
        let mut asked = Vec::new();
        load_creators(&cache, &[1], "new", &mut asked).await;
        assert_eq!(asked, vec![vec![1]], "but it was not kept");
    }

    #[tokio::test]
    async fn entries_expire_and_a_zero_ttl_keeps_nothing() {
        let cache = ReadCache::new(Duration::from_millis(20));
        let mut asked = Vec::new();
        load_creators(&cache, &[1], "a", &mut asked).await;
        load_creators(&cache, &[1], "a", &mut asked).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
        load_creators(&cache, &[1], "a", &mut asked).await;
        assert_eq!(asked.len(), 2, "cached once, then expired");

        let off = ReadCache::disabled();
        let mut asked = Vec::new();
        load_creators(&off, &[1], "a", &mut asked).await;
        load_creators(&off, &[1], "a", &mut asked).await;
        assert_eq!(asked.len(), 2);
    }
}
