//! Whole answers to catalogue queries, reused for the same viewer's same request.
//!
//! With its rows in the read cache, the 100-course console list still costs about
//! 2,600 resolved fields per request (a future, a map insert and a value each, then the
//! JSON), which is where its time went. A console table or the mini-program home asks
//! the same document again and again, and when everything it selects is catalogue data
//! kept fresh by the read cache's events, the previous answer is still the answer.
//!
//! Freshness is the read cache's, for the same reasons (`service::read_cache`):
//! - an answer is kept only if no catalogue or people event was published while it was
//!   computed, and served only while none has been since, so a write through this
//!   process is seen by the next request;
//! - an answer lives at most the read cache's time to live (`ZHIKU_READ_CACHE_TTL_MS`),
//!   which bounds how late a write through another replica shows;
//! - only queries whose every field is on [`catalogue_field`] are kept, and only answers
//!   without errors;
//! - answers are per viewer (the key holds the whole actor), so what one viewer may see
//!   (drafts, archived courses) never reaches another.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::Instant;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use axum::body::Bytes;
use lru::LruCache;

use super::selection::{Listed, only_listed};
use crate::auth::Actor;
use crate::service::read_cache::{ReadCache, Stamp};

/// Answers kept at most.
const CAPACITY: usize = 1_024;
/// Bytes of answers kept at most, all entries together.
const MAX_TOTAL_BYTES: usize = 32 * 1024 * 1024;
/// Larger answers are never kept (one would crowd out many small ones).
const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// Longer query texts are never kept (like the document cache).
const MAX_QUERY_BYTES: usize = super::documents::MAX_CACHED_QUERY_BYTES;

/// The fields whose values come from rows the read cache's events keep fresh (course
/// rows with their counters and lessons, creator profiles) and are the same for a
/// given viewer until such an event. Anything that moves with time (a sale's window, a
/// membership's end), with the viewer's purchases (`locked`, `viewerPrice`), or with
/// rows no event announces (follower counts) is left off, so a query selecting it is
/// answered afresh every time.
fn catalogue_field(on: &str, field: &str) -> Option<Listed> {
    match (on, field) {
        ("Query", "courses") | ("Creator", "courses") => Some(Listed::Object("CourseConnection")),
        ("Query", "creators") => Some(Listed::Object("CreatorConnection")),
        // A node's own fields come only through fragments on the types below.
        ("Query", "node") => Some(Listed::Object("Node")),
        ("CourseConnection", "edges") => Some(Listed::Object("CourseEdge")),
        ("CourseConnection", "nodes") | ("CourseEdge", "node") | ("Lesson", "course") => {
            Some(Listed::Object("Course"))
        }
        ("CreatorConnection", "edges") => Some(Listed::Object("CreatorEdge")),
        ("CreatorConnection", "nodes") | ("CreatorEdge", "node") | ("Course", "creator") => {
            Some(Listed::Object("Creator"))
        }
        ("CourseConnection" | "CreatorConnection", "pageInfo") => Some(Listed::Object("PageInfo")),
        ("CourseConnection" | "CreatorConnection", "totalCount")
        | ("CourseEdge" | "CreatorEdge", "cursor")
        | ("PageInfo", "startCursor" | "endCursor" | "hasNextPage" | "hasPreviousPage") => {
            Some(Listed::Leaf)
        }
        ("Course", "lessons") => Some(Listed::Object("Lesson")),
        ("Course", "price") => Some(Listed::Object("Money")),
        ("Course", "ratingSummary") => Some(Listed::Object("RatingSummary")),
        (
            "Course",
            "id" | "title" | "subtitle" | "description" | "coverUrl" | "category" | "status"
            | "salesCount" | "publishedAt" | "createdAt",
        )
        | ("Lesson", "id" | "title" | "kind" | "durationSeconds" | "position" | "freePreview")
        | ("Creator", "id" | "displayName" | "bio" | "createdAt")
        | ("Money", "amount" | "currency" | "formatted")
        | ("RatingSummary", "average" | "count") => Some(Listed::Leaf),
        _ => None,
    }
}

/// Whether the operation `document` runs is a query reading only catalogue fields.
pub fn cacheable(document: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => match operations.get(name) {
            Some(operation) => operation,
            None => return false,
        },
        (DocumentOperations::Multiple(_), None) => return false,
    };
    operation.node.ty == OperationType::Query
        && only_listed(
            &operation.node.selection_set.node,
            "Query",
            &document.fragments,
            catalogue_field,
        )
}

/// What an answer was asked as: by whom, which operation of which text, with which
/// variables.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    viewer: Actor,
    operation_name: Option<String>,
    query: String,
    variables: String,
}

struct Entry {
    stamp: Stamp,
    stored_at: Instant,
    body: Bytes,
}

struct Inner {
    entries: LruCache<Key, Entry>,
    bytes: usize,
}

/// The process's kept answers.
pub struct ResponseCache {
    read_cache: ReadCache,
    inner: Mutex<Inner>,
}

impl ResponseCache {
    /// A cache as fresh as `read_cache` (off when it is).
    pub fn new(read_cache: ReadCache) -> Self {
        ResponseCache {
            read_cache,
            inner: Mutex::new(Inner {
                entries: LruCache::new(NonZeroUsize::new(CAPACITY).unwrap_or(NonZeroUsize::MIN)),
                bytes: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The key of `request` asked by `viewer`, or None when it can never be kept (the
    /// cache is off, or the text is too long).
    pub fn key(&self, viewer: Actor, request: &async_graphql::Request) -> Option<Key> {
        if self.read_cache.ttl().is_zero() || request.query.len() > MAX_QUERY_BYTES {
            return None;
        }
        Some(Key {
            viewer,
            operation_name: request.operation_name.clone(),
            query: request.query.clone(),
            variables: serde_json::to_string(&request.variables).ok()?,
        })
    }

    /// The kept answer to `key`, while nothing it was read from has changed.
    pub fn get(&self, key: &Key) -> Option<Bytes> {
        let current = self.read_cache.stamp();
        let ttl = self.read_cache.ttl();
        let mut inner = self.lock();
        match inner.entries.get(key) {
            Some(entry) if entry.stamp == current && entry.stored_at.elapsed() < ttl => {
                return Some(entry.body.clone());
            }
            Some(_) => {}
            None => return None,
        }
        if let Some(stale) = inner.entries.pop(key) {
            inner.bytes -= stale.body.len();
        }
        None
    }

    /// The generations to stamp an answer with: take it before executing.
    pub fn stamp(&self) -> Stamp {
        self.read_cache.stamp()
    }

    /// Keeps `body` as the answer to `key`, read from `stamp`, unless something changed
    /// meanwhile or it is too large.
    pub fn put(&self, key: Key, stamp: Stamp, body: Bytes) {
        if body.len() > MAX_ANSWER_BYTES || self.read_cache.stamp() != stamp {
            return;
        }
        let mut inner = self.lock();
        inner.bytes += body.len();
        let entry = Entry {
            stamp,
            stored_at: Instant::now(),
            body,
        };
        if let Some((_, replaced)) = inner.entries.push(key, entry) {
            inner.bytes -= replaced.body.len();
        }
        while inner.bytes > MAX_TOTAL_BYTES {
            match inner.entries.pop_lru() {
                Some((_, evicted)) => inner.bytes -= evicted.body.len(),
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::service::effects::{Event, Subscriber};

    fn keep(query: &str) -> bool {
        let document = async_graphql::parser::parse_query(query).expect("parses");
        cacheable(&document, None)
    }

    #[test]
    fn only_catalogue_queries_are_kept() {
        for query in [
            "{ courses(first: 100) { totalCount edges { node { id title salesCount creator { displayName } lessons { id title } ratingSummary { average count } } } } }",
            "query($id: ID!) { node(id: $id) { __typename ... on Course { title price { amount } lessons { id title kind durationSeconds } } } }",
            "{ creators(first: 20) { edges { node { ...C } } } } fragment C on Creator { displayName courses(first: 5) { edges { node { title } } } }",
        ] {
            assert!(keep(query), "{query}");
        }
        for query in [
            "{ courses(first: 1) { edges { node { viewerHasAccess } } } }",
            "{ courses(first: 1) { edges { node { lessons { locked content } } } } }",
            "{ courses(first: 1) { edges { node { sale { price { amount } } } } } }",
            "{ creators(first: 1) { edges { node { followerCount } } } }",
            "{ node(id: \"x\") { id } }",
            "{ node(id: \"x\") { ... on Order { amount { amount } } } }",
            "{ viewer { id } }",
            "mutation { __typename }",
        ] {
            assert!(!keep(query), "{query}");
        }
    }

    fn request(query: &str) -> async_graphql::Request {
        async_graphql::Request::new(query)
    }

    #[tokio::test]
    async fn an_answer_is_served_until_a_change_and_never_to_another_viewer() {
        let read_cache = ReadCache::new(Duration::from_secs(60));
        let cache = ResponseCache::new(read_cache.clone());
        let query = request("{ courses { totalCount } }");
        let anonymous = cache.key(Actor::Anonymous, &query).expect("key");
        let stamp = cache.stamp();
        cache.put(anonymous.clone(), stamp, Bytes::from_static(b"one"));
        assert_eq!(cache.get(&anonymous).as_deref(), Some(&b"one"[..]));
        let admin = Actor::User {
            id: 1,
            role: entity::enums::Role::Admin,
            creator_id: None,
            audience: crate::auth::tokens::Audience::Console,
        };
        let other = cache.key(admin, &query).expect("key");
        assert_eq!(cache.get(&other), None, "another viewer's answer");

        let db = sea_orm::DatabaseConnection::default();
        read_cache
            .handle(&db, &Event::CourseChanged { course_id: 1 })
            .await;
        assert_eq!(cache.get(&anonymous), None, "a course changed");
        // An answer computed across a change is not kept.
        cache.put(anonymous.clone(), stamp, Bytes::from_static(b"old"));
        assert_eq!(cache.get(&anonymous), None);
        assert_eq!(cache.lock().bytes, 0);
    }

    #[test]
    fn a_zero_ttl_keeps_nothing() {
        let cache = ResponseCache::new(ReadCache::disabled());
        assert!(
            cache
                .key(Actor::Anonymous, &request("{ courses { totalCount } }"))
                .is_none()
        );
    }
}
