//! Parsed query documents, reused across requests.
//!
//! Clients send the same few query texts over and over (the mini-program's home screen
//! asks for the same `recommendations` selection on every open), and parsing them is a
//! tenth of the work of answering a small query. Documents do not depend on variables
//! or on the viewer, so one parse serves everyone; depth, directive and validation rules
//! still run on every request.
//!
//! Only documents that passed validation are kept (a client sending endless distinct
//! invalid texts keeps nothing), and the cache is bounded by the total number of AST
//! nodes it holds, which is what its memory grows with, besides the count of texts.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use async_graphql::Positioned;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};
use lru::LruCache;

/// Distinct query texts kept at most.
pub const CAPACITY: usize = 512;
/// Longer query texts are parsed every time: they are rare, and keeping them would let
/// one client fill the cache with large keys.
pub const MAX_CACHED_QUERY_BYTES: usize = 8 * 1024;
/// AST nodes (selections, arguments, variables, operations, fragments) kept in all.
pub const MAX_CACHED_NODES: usize = 200_000;

/// The most recently used parsed documents that validated, by query text.
pub struct DocumentCache {
    inner: Mutex<Inner>,
}

struct Inner {
    documents: LruCache<String, (ExecutableDocument, usize)>,
    nodes: usize,
}

/// A document parsed for this request and not yet in the cache: offered back with
/// [`DocumentCache::keep`] once it has validated.
pub struct Fresh {
    query: String,
    document: ExecutableDocument,
}

impl Default for DocumentCache {
    fn default() -> Self {
        DocumentCache {
            inner: Mutex::new(Inner {
                documents: LruCache::new(NonZeroUsize::new(CAPACITY).unwrap_or(NonZeroUsize::MIN)),
                nodes: 0,
            }),
        }
    }
}

impl DocumentCache {
    /// Gives `request` its parsed document, from the cache when this text validated
    /// before. A newly parsed, cacheable document comes back as [`Fresh`], to be kept
    /// once it validates. A text that does not parse is left to execution, which
    /// reports the syntax error as usual.
    pub fn prepare(&self, request: &mut async_graphql::Request) -> Option<Fresh> {
        let cacheable = request.query.len() <= MAX_CACHED_QUERY_BYTES;
        if cacheable {
            let cached = self
                .lock()
                .documents
                .get(&request.query)
                .map(|(document, _)| document.clone());
            if let Some(document) = cached {
                request.set_parsed_query(document);
                return None;
            }
        }
        let query = cacheable.then(|| request.query.clone())?;
        let document = request.parsed_query().ok()?.clone();
        Some(Fresh { query, document })
    }

    /// Keeps a document that validated, evicting the least recently used ones while
    /// the total node count is over [`MAX_CACHED_NODES`].
    pub fn keep(&self, fresh: Fresh) {
        let nodes = node_count(&fresh.document);
        if nodes > MAX_CACHED_NODES / 16 {
            return; // one document may not take a sixteenth of the cache
        }
        let mut inner = self.lock();
        // `push` hands back what it displaced: the same text's old entry, or the least
        // recently used one when the cache was at its capacity in texts.
        if let Some((_, (_, displaced))) =
            inner.documents.push(fresh.query, (fresh.document, nodes))
        {
            inner.nodes -= displaced;
        }
        inner.nodes += nodes;
        while inner.nodes > MAX_CACHED_NODES {
            match inner.documents.pop_lru() {
                Some((_, (_, evicted))) => inner.nodes -= evicted,
                None => break,
            }
        }
    }

    /// (documents, nodes) held now.
    pub fn size(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.documents.len(), inner.nodes)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves a consistent cache: entries are
        // inserted whole.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The AST nodes of a document, roughly what it costs to keep.
fn node_count(document: &ExecutableDocument) -> usize {
    fn set(selections: &Positioned<SelectionSet>) -> usize {
        selections
            .node
            .items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) => {
                    1 + field.node.arguments.len()
                        + field.node.directives.len()
                        + set(&field.node.selection_set)
                }
                Selection::FragmentSpread(spread) => 1 + spread.node.directives.len(),
                Selection::InlineFragment(fragment) => {
                    1 + fragment.node.directives.len() + set(&fragment.node.selection_set)
                }
            })
            .sum()
    }
    let operations: usize = document
        .operations
        .iter()
        .map(|(_, op)| 1 + op.node.variable_definitions.len() + set(&op.node.selection_set))
        .sum();
    let fragments: usize = document
        .fragments
        .values()
        .map(|fragment| 1 + set(&fragment.node.selection_set))
        .sum();
    operations + fragments
}

/// The names of the document's operations, and the one `request` runs as far as it
/// can be told before execution: the requested `operationName` when the document has
/// an operation of that name, else the name of the document's only operation. A name
/// the document does not contain is never returned (it is client input, nothing more).
pub fn operation_name(request: &mut async_graphql::Request) -> Option<String> {
    let wanted = request.operation_name.clone();
    match &request.parsed_query().ok()?.operations {
        DocumentOperations::Single(_) => None,
        DocumentOperations::Multiple(operations) => match wanted {
            Some(wanted) => operations
                .keys()
                .find(|name| name.as_str() == wanted)
                .map(|name| name.to_string()),
            None if operations.len() == 1 => operations.keys().next().map(|n| n.to_string()),
            None => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_document_is_the_parse_of_the_same_text() {
        let cache = DocumentCache::default();
        let text = "query Home { recommendations { score } }";
        let mut first = async_graphql::Request::new(text);
        let fresh = cache.prepare(&mut first).expect("parsed, not cached yet");
        assert_eq!(cache.size().0, 0, "nothing is kept before validation");
        cache.keep(fresh);
        let mut second = async_graphql::Request::new(text);
        assert!(
            cache.prepare(&mut second).is_none(),
            "served from the cache"
        );
        assert_eq!(operation_name(&mut second).as_deref(), Some("Home"));
        assert_eq!(cache.size(), (1, 3));
    }

    #[test]
    fn unparsable_and_oversized_texts_are_not_offered() {
        let cache = DocumentCache::default();
        assert!(
            cache
                .prepare(&mut async_graphql::Request::new("{ broken"))
                .is_none()
        );
        let long = format!("{{ {} }}", "__typename ".repeat(MAX_CACHED_QUERY_BYTES));
        assert!(
            cache
                .prepare(&mut async_graphql::Request::new(long))
                .is_none()
        );
        assert_eq!(cache.size(), (0, 0));
    }

    #[test]
    fn the_cache_is_bounded_by_nodes() {
        let cache = DocumentCache::default();
        // Each document: one operation and 450 fields, under the text limit.
        let fields: String = (0..450).map(|i| format!("f{i}:__typename ")).collect();
        for n in 0..500 {
            let mut request = async_graphql::Request::new(format!("query Q{n} {{ {fields} }}"));
            let fresh = cache.prepare(&mut request).unwrap();
            cache.keep(fresh);
        }
        let (documents, nodes) = cache.size();
        assert!(nodes <= MAX_CACHED_NODES, "{nodes}");
        assert_eq!(documents, MAX_CACHED_NODES / 451);
    }

    #[test]
    fn only_names_in_the_document_are_operation_names() {
        let mut request =
            async_graphql::Request::new("query A { __typename } query B { __typename }")
                .operation_name("B");
        assert_eq!(operation_name(&mut request).as_deref(), Some("B"));
        let mut invented =
            async_graphql::Request::new("query A { __typename }").operation_name("Invented");
        assert_eq!(operation_name(&mut invented), None);
        let mut anonymous = async_graphql::Request::new("{ __typename }");
        assert_eq!(operation_name(&mut anonymous), None);
    }
}
