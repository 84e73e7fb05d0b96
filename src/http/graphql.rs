//! The `/graphql` endpoint, stricter than the stock async-graphql-axum handler:
//!
//! - POST needs `Content-Type: application/json` (415 otherwise): text/plain, form and
//!   multipart bodies are what a cross-site page can send without a preflight;
//! - the body is read through axum's limit, so an oversized or endless body gets 413;
//! - JSON arrays (batches) get 400, since limits are checked per operation;
//! - GET executes queries only (a mutation over GET gets 405) and otherwise serves GraphiQL;
//! - INTERNAL errors carry the request id so a report can be matched with the logs.

use async_graphql::dataloader::{DataLoader, HashMapCache};
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::OperationType;
use async_graphql::{ErrorExtensionValues, Value};
use async_graphql_axum::GraphQLResponse;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::{AppState, REQUEST_ID_HEADER, Shared};
use crate::auth::authenticate;
use crate::error::AppError;
use crate::graphql::documents;
use crate::graphql::loaders::{DbLoader, RequestLoader};

/// A plain error answer for requests refused before GraphQL runs.
fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, axum::Json(body)).into_response()
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// POST /graphql.
pub async fn post_graphql(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().eq_ignore_ascii_case("application/json"))
        .unwrap_or(false);
    if !is_json {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send GraphQL requests as Content-Type: application/json",
        );
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return refuse(
            StatusCode::BAD_REQUEST,
            "BATCH_NOT_SUPPORTED",
            "batched requests are not supported; send one operation per request",
        );
    }
    let mut request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "the body is not a GraphQL request in JSON",
            );
        }
    };
    state.documents.prepare(&mut request);
    execute(&state, request, &headers).await
}

/// GET /graphql: a query in the URL runs (queries only); without one, GraphiQL.
pub async fn get_graphql(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response();
    };
    let mut request = match async_graphql::http::parse_query_string(&query) {
        Ok(request) => request,
        Err(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "malformed query string",
            );
        }
    };
    state.documents.prepare(&mut request);
    if !is_query_only(&mut request) {
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "mutations and subscriptions must be sent with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return response;
    }
    execute(&state, request, &headers).await
}

/// Whether the operation a request would run is a query. Unparsable documents count
/// as queries: execution reports the syntax error.
fn is_query_only(request: &mut async_graphql::Request) -> bool {
    let wanted = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return true;
    };
    document.operations.iter().all(|(name, operation)| {
        let selected = match (&wanted, name) {
            (Some(wanted), Some(name)) => wanted == name.as_str(),
            _ => true,
        };
        !selected || operation.node.ty == OperationType::Query
    })
}

/// Runs one operation (its document already prepared from the cache) with the
/// per-request data and turns it into an HTTP response.
/// A presented token that does not check out is refused whole (401), rather than
/// silently treated as anonymous.
async fn execute(
    state: &AppState,
    request: async_graphql::Request,
    headers: &HeaderMap,
) -> Response {
    let request_id = request_id(headers);
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default());
    let actor = match authenticate(&state.db, &state.auth, authorization).await {
        Ok(actor) => actor,
        Err(AppError::Unauthenticated) => {
            let mut response = refuse(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "the access token is invalid, expired or revoked; sign in again",
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            return response;
        }
        Err(error) => {
            tracing::error!(?error, "authentication failed");
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error",
            );
        }
    };
    // One caching loader per request: it may hold per-user rows, so it is never shared.
    let loader: RequestLoader = DataLoader::with_cache(
        DbLoader::new(state.db.clone(), actor.user_id()),
        tokio::spawn,
        HashMapCache::default(),
    );
    let mut request = request.data(actor).data(loader);
    let operation = documents::operation_name(&mut request);
    let mut response = state.schema.execute(request).await;
    // Counted here, refusals at parsing and validation included.
    state
        .metrics
        .observe_operation(operation.as_deref(), response.errors.is_empty());
    for error in &mut response.errors {
        label_error(error, &request_id);
    }
    GraphQLResponse::from(response).into_response()
}

/// Gives every error a stable `extensions.code`: resolvers set theirs; errors from
/// parsing and validation (no path) are GRAPHQL_VALIDATION_FAILED, input coercion
/// errors at a field are BAD_USER_INPUT. INTERNAL errors also get the request id.
fn label_error(error: &mut async_graphql::ServerError, request_id: &str) {
    let no_path = error.path.is_empty();
    let extensions = error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default);
    match extensions.get("code") {
        Some(code) if *code == Value::from("INTERNAL") => extensions.set("requestId", request_id),
        Some(_) => {}
        None if no_path => extensions.set("code", "GRAPHQL_VALIDATION_FAILED"),
        None => extensions.set("code", "BAD_USER_INPUT"),
    }
}
