//! Logs (tracing) and metrics (Prometheus text format at `/metrics`).
//!
//! Label values are bounded, so a client cannot blow up the series count: routes come
//! from axum's matched path, methods are the standard ones (the rest `OTHER`), and
//! GraphQL operation names are those of the parsed document that ran, valid names of
//! at most 64 characters, the first [`MAX_OPERATION_LABELS`] distinct ones (later
//! ones count as `other`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tracing_subscriber::EnvFilter;

/// Installs the log subscriber; `RUST_LOG` overrides the default `info` level.
pub fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second call (tests build several apps) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Logs go to stderr, so commands whose output is data (`zhiku token`) stay clean;
        // colours only on a terminal.
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatementLabels {
    outcome: &'static str,
}

/// Distinct operation names given a label of their own.
pub const MAX_OPERATION_LABELS: usize = 256;

/// The service's metrics, shared by the HTTP layer, the GraphQL handler and the database.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    graphql_operations: Family<OperationLabels, Counter>,
    /// Operation names that have a label of their own.
    operation_names: std::sync::RwLock<std::collections::HashSet<String>>,
    document_cache_entries: Gauge,
    document_cache_nodes: Gauge,
    db_statements: Family<StatementLabels, Counter>,
    db_statement_seconds: Histogram,
    /// Plain count of statements, read by tests that bound queries per request.
    statements_executed: AtomicU64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("zhiku");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            http_requests.clone(),
        );
        let graphql_operations = Family::<OperationLabels, Counter>::default();
        registry.register(
            "graphql_operations",
            "GraphQL operations by name and outcome",
            graphql_operations.clone(),
        );
        let document_cache_entries = Gauge::default();
        registry.register(
            "graphql_document_cache_entries",
            "Validated query documents kept parsed",
            document_cache_entries.clone(),
        );
        let document_cache_nodes = Gauge::default();
        registry.register(
            "graphql_document_cache_nodes",
            "AST nodes of the documents kept parsed",
            document_cache_nodes.clone(),
        );
        let db_statements = Family::<StatementLabels, Counter>::default();
        registry.register(
            "db_statements",
            "Database statements executed, by outcome",
            db_statements.clone(),
        );
        // 50 µs .. ~3 s
        let db_statement_seconds = Histogram::new(exponential_buckets(0.00005, 3.0, 11));
        registry.register(
            "db_statement_duration_seconds",
            "Time spent in each database statement",
            db_statement_seconds.clone(),
        );
        Metrics {
            registry,
            http_requests,
            graphql_operations,
            operation_names: Default::default(),
            document_cache_entries,
            document_cache_nodes,
            db_statements,
            db_statement_seconds,
            statements_executed: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// A fresh registry, shared.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Counts one finished HTTP request.
    pub fn observe_http(&self, route: &str, method: &str, status: u16) {
        self.http_requests
            .get_or_create(&HttpLabels {
                route: route.to_owned(),
                method: method_label(method).to_owned(),
                status,
            })
            .inc();
    }

    /// Counts one executed GraphQL operation, by the name its document gives it.
    pub fn observe_operation(&self, name: Option<&str>, ok: bool) {
        let operation = self.operation_label(name);
        self.graphql_operations
            .get_or_create(&OperationLabels {
                operation,
                outcome: if ok { "ok" } else { "error" },
            })
            .inc();
    }

    /// The label of an operation name: its own while fewer than
    /// [`MAX_OPERATION_LABELS`] names have one, else `other`.
    fn operation_label(&self, name: Option<&str>) -> String {
        let label = operation_label(name);
        if label == "anonymous" || label == "invalid_name" {
            return label;
        }
        let known = self
            .operation_names
            .read()
            .unwrap_or_else(|e| e.into_inner());
        if known.contains(&label) {
            return label;
        }
        drop(known);
        let mut known = self
            .operation_names
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if known.len() < MAX_OPERATION_LABELS {
            known.insert(label.clone());
            label
        } else {
            "other".to_owned()
        }
    }

    /// Publishes the size of the parsed-document cache.
    pub fn observe_document_cache(&self, entries: usize, nodes: usize) {
        self.document_cache_entries
            .set(i64::try_from(entries).unwrap_or(i64::MAX));
        self.document_cache_nodes
            .set(i64::try_from(nodes).unwrap_or(i64::MAX));
    }

    /// Counts and times one database statement (called by SeaORM's metric callback).
    pub fn observe_statement(&self, elapsed: Duration, failed: bool) {
        self.statements_executed.fetch_add(1, Ordering::Relaxed);
        self.db_statements
            .get_or_create(&StatementLabels {
                outcome: if failed { "error" } else { "ok" },
            })
            .inc();
        self.db_statement_seconds.observe(elapsed.as_secs_f64());
    }

    /// Statements executed since start.
    pub fn statements_executed(&self) -> u64 {
        self.statements_executed.load(Ordering::Relaxed)
    }

    /// Renders every metric in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// An HTTP method as a label: the standard ones by name, anything else `OTHER`.
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("OTHER")
}

/// A client-chosen operation name reduced to a bounded label.
fn operation_label(name: Option<&str>) -> String {
    match name {
        Some(name)
            if !name.is_empty()
                && name.len() <= 64
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            name.to_owned()
        }
        Some(_) => "invalid_name".to_owned(),
        None => "anonymous".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_bounded() {
        assert_eq!(operation_label(None), "anonymous");
        assert_eq!(operation_label(Some("Courses_1")), "Courses_1");
        assert_eq!(operation_label(Some("x\"}")), "invalid_name");
        assert_eq!(operation_label(Some(&"a".repeat(65))), "invalid_name");
    }

    #[test]
    fn label_sets_are_bounded() {
        let metrics = Metrics::default();
        for n in 0..(MAX_OPERATION_LABELS + 50) {
            metrics.observe_operation(Some(&format!("Op{n}")), true);
        }
        metrics.observe_http("/graphql", "BREW", 200);
        let text = metrics.render();
        assert!(text.contains("operation=\"Op0\""));
        assert!(!text.contains(&format!("operation=\"Op{MAX_OPERATION_LABELS}\"")));
        assert!(
            text.contains("operation=\"other\",outcome=\"ok\"} 50"),
            "{text}"
        );
        assert!(text.contains("method=\"OTHER\""));
        assert!(!text.contains("BREW"));
    }

    #[test]
    fn render_contains_each_family() {
        let metrics = Metrics::default();
        metrics.observe_http("/graphql", "POST", 200);
        metrics.observe_operation(Some("Q"), true);
        metrics.observe_statement(Duration::from_millis(1), false);
        let text = metrics.render();
        for needle in [
            "zhiku_http_requests_total{route=\"/graphql\",method=\"POST\",status=\"200\"} 1",
            "zhiku_graphql_operations_total{operation=\"Q\",outcome=\"ok\"} 1",
            "zhiku_db_statements_total{outcome=\"ok\"} 1",
            "zhiku_db_statement_duration_seconds_count 1",
        ] {
            assert!(text.contains(needle), "missing {needle} in\n{text}");
        }
    }
}
