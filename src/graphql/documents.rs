//! Parsed query documents, reused across requests.
//!
//! Clients send the same few query texts over and over (the mini-program's home screen
//! asks for the same `recommendations` selection on every open), and parsing them is a
//! tenth of the work of answering a small query. Documents do not depend on variables
//! or on the viewer, so one parse serves everyone; depth, directive and validation rules
//! still run on every request.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};
use lru::LruCache;

/// Distinct query texts kept.
pub const CAPACITY: usize = 512;
/// Longer query texts are parsed every time: they are rare, and keeping them would let
/// one client fill the cache with large keys.
pub const MAX_CACHED_QUERY_BYTES: usize = 8 * 1024;

/// The most recently used parsed documents, by query text.
pub struct DocumentCache {
    documents: Mutex<LruCache<String, ExecutableDocument>>,
}

impl Default for DocumentCache {
    fn default() -> Self {
        DocumentCache {
            documents: Mutex::new(LruCache::new(
                NonZeroUsize::new(CAPACITY).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }
}

impl DocumentCache {
    /// Gives `request` its parsed document, from the cache when this text was parsed
    /// before. A text that does not parse is left to execution, which reports the
    /// syntax error as usual.
    pub fn prepare(&self, request: &mut async_graphql::Request) {
        let cacheable = request.query.len() <= MAX_CACHED_QUERY_BYTES;
        if cacheable {
            let cached = self.lock().get(&request.query).cloned();
            if let Some(document) = cached {
                request.set_parsed_query(document);
                return;
            }
        }
        let Ok(document) = request.parsed_query() else {
            return;
        };
        if cacheable {
            let document = document.clone();
            self.lock().put(request.query.clone(), document);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, ExecutableDocument>> {
        // A panic while holding the lock leaves a consistent cache: entries are
        // inserted whole.
        self.documents.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The name of the operation `request` runs, as far as it can be told before execution:
/// the requested `operationName`, else the name of the document's only operation.
pub fn operation_name(request: &mut async_graphql::Request) -> Option<String> {
    if let Some(name) = &request.operation_name {
        return Some(name.clone());
    }
    match &request.parsed_query().ok()?.operations {
        DocumentOperations::Single(_) => None,
        DocumentOperations::Multiple(operations) if operations.len() == 1 => {
            operations.keys().next().map(|name| name.to_string())
        }
        DocumentOperations::Multiple(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_document_is_the_parse_of_the_same_text() {
        let cache = DocumentCache::default();
        let text = "query Home { recommendations { score } }";
        let mut first = async_graphql::Request::new(text);
        cache.prepare(&mut first);
        let mut second = async_graphql::Request::new(text);
        cache.prepare(&mut second);
        assert_eq!(operation_name(&mut second).as_deref(), Some("Home"));
        assert_eq!(cache.lock().len(), 1);
    }

    #[test]
    fn unparsable_and_oversized_texts_are_not_kept() {
        let cache = DocumentCache::default();
        cache.prepare(&mut async_graphql::Request::new("{ broken"));
        let long = format!("{{ {} }}", "__typename ".repeat(MAX_CACHED_QUERY_BYTES));
        cache.prepare(&mut async_graphql::Request::new(long));
        assert_eq!(cache.lock().len(), 0);
    }

    #[test]
    fn the_requested_operation_name_wins() {
        let mut request =
            async_graphql::Request::new("query A { __typename } query B { __typename }")
                .operation_name("B");
        assert_eq!(operation_name(&mut request).as_deref(), Some("B"));
        let mut anonymous = async_graphql::Request::new("{ __typename }");
        assert_eq!(operation_name(&mut anonymous), None);
    }
}
