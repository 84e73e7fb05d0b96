//! HTTP surface: `/graphql`, `/console`, `/healthz`, `/metrics`, `/exports/orders.csv`, with
//! request ids, tracing and request metrics on every route.

mod console;
mod exports;
mod graphql;
pub mod websocket;
pub mod ws_protocol;

use graphql::refuse as graphql_refusal;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sea_orm::DatabaseConnection;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::auth::AuthState;
use crate::graphql::AppSchema;
use crate::graphql::documents::DocumentCache;
use crate::graphql::response_cache::ResponseCache;
use crate::service::effects::Effects;
use crate::service::orders::Payments;
use crate::service::read_cache::ReadCache;
use crate::service::recommendations::Recommendations;
use crate::telemetry::Metrics;

/// Largest request body accepted (answered 413 beyond it). This is also what bounds
/// alias floods, since `__typename` costs nothing in the complexity count.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Header carrying the request id, set when the client sends none and echoed back.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub db: DatabaseConnection,
    /// Token keys and the WeChat client.
    pub auth: AuthState,
    /// The payment provider and order rules.
    pub payments: Payments,
    /// The GraphQL schema.
    pub schema: AppSchema,
    /// Parsed query documents reused across requests.
    pub documents: Arc<DocumentCache>,
    /// Whole answers to catalogue queries reused for the same viewer.
    pub responses: Arc<ResponseCache>,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
    /// The recommendation model being served.
    pub recommendations: Recommendations,
    /// Where services publish what they committed.
    pub effects: Effects,
    /// Catalogue rows shared between requests (the loaders read through it).
    pub read_cache: ReadCache,
    /// WebSockets this server may still accept (`ZHIKU_WS_MAX_CONNECTIONS` permits).
    pub sockets: Arc<tokio::sync::Semaphore>,
    /// Most subscriptions on one WebSocket.
    pub ws_max_subscriptions: usize,
    /// Turns true when the server begins to stop: open WebSockets close (1001), so the
    /// graceful shutdown does not wait for them forever.
    pub closing: tokio::sync::watch::Receiver<bool>,
}

/// How handlers hold the state: one pointer, so the per-request clones axum makes (one
/// per extractor and middleware) are one reference count, not one per field.
type Shared = Arc<AppState>;

/// The routers of one application: the public one, and `/metrics` alone (served on
/// an address of its own when `ZHIKU_METRICS_LISTEN` is set).
pub struct Routers {
    /// `/graphql`, `/healthz`, the payment notifications, and `/metrics` unless apart.
    pub public: Router,
    /// `/metrics` only.
    pub metrics: Router,
}

/// The routers with every route and layer; `/metrics` on the public one unless
/// `metrics_apart`.
pub fn router(state: AppState, metrics_apart: bool) -> Routers {
    let state: Shared = Arc::new(state);
    let metrics_only = Router::new()
        .route("/metrics", get(metrics))
        .with_state(Arc::clone(&state));
    let request_ids = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let request_id = request
                    .headers()
                    .get(REQUEST_ID_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                    request_id = %request_id,
                )
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER));
    let mut routes = Router::new()
        .route(
            "/graphql",
            get(graphql::get_graphql).post(graphql::post_graphql),
        )
        .route("/console", get(console::page))
        .route("/console/", get(console::page))
        .route("/console/{*screen}", get(console::page))
        .route("/console/assets/{file}", get(console::asset))
        .route("/healthz", get(healthz))
        .route("/exports/orders.csv", get(exports::orders_csv))
        .route("/payments/wechat/notify", post(payment_notification));
    if !metrics_apart {
        routes = routes.route("/metrics", get(metrics));
    }
    let public = routes
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            count_requests,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(request_ids)
        .with_state(state);
    Routers {
        public,
        metrics: metrics_only,
    }
}

/// Counts each request by matched route, method and status.
async fn count_requests(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    state
        .metrics
        .observe_http(&route, &method, response.status().as_u16());
    response
}

/// Liveness and readiness: 200 when the database answers, 503 otherwise.
async fn healthz(State(state): State<Shared>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(error) => {
            tracing::error!(%error, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// A WeChat Pay notification: 204 when applied (or a duplicate), 4xx when refused, 5xx
/// when our side failed (WeChat Pay retries); failures answer `{"code":"FAIL","message":..}`.
async fn payment_notification(
    State(state): State<Shared>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    use crate::payments::notification::SignatureHeaders;
    use crate::service::orders::{self, NotificationFailure};
    let signature = SignatureHeaders::from_headers(&headers);
    let fail = |status: StatusCode, message: String| {
        (
            status,
            axum::Json(serde_json::json!({ "code": "FAIL", "message": message })),
        )
            .into_response()
    };
    match orders::handle_notification(
        &state.db,
        &state.effects,
        &state.payments,
        &signature,
        &body,
    )
    .await
    {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(NotificationFailure::Refused(reason)) => {
            tracing::warn!(%reason, "payment notification refused");
            let status = match reason {
                crate::payments::notification::NotifyError::Signature
                | crate::payments::notification::NotifyError::UnknownSerial
                | crate::payments::notification::NotifyError::Stale => StatusCode::UNAUTHORIZED,
                _ => StatusCode::BAD_REQUEST,
            };
            fail(status, reason.to_string())
        }
        Err(NotificationFailure::Internal(error)) => {
            tracing::error!(?error, "payment notification failed");
            fail(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
        }
    }
}

/// Prometheus text exposition.
async fn metrics(State(state): State<Shared>) -> Response {
    let (entries, nodes) = state.documents.size();
    state.metrics.observe_document_cache(entries, nodes);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
