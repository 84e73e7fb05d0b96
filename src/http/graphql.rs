//! The `/graphql` endpoint, stricter than the stock async-graphql-axum handler:
//!
//! - POST needs `Content-Type: application/json` (415 otherwise): text/plain, form and
//!   multipart bodies are what a cross-site page can send without a preflight;
//! - the body is read through axum's limit, so an oversized or endless body gets 413;
//! - JSON arrays (batches) get 400, since limits are checked per operation;
//! - GET executes queries only (a mutation over GET gets 405) and otherwise serves GraphiQL;
//! - INTERNAL errors carry the request id so a report can be matched with the logs;
//! - answers follow GraphQL over HTTP (the GraphQL Foundation's spec): the media type is
//!   negotiated from `Accept` (`application/graphql-response+json`, or
//!   `application/json`, also for a missing `Accept` or `*/*`; 406 for anything
//!   else); a request error (a document that does not parse or validate, variables that
//!   do not coerce) has no `data` entry and, as `application/graphql-response+json`,
//!   HTTP 400; a body without a string `query` is 400.

use async_graphql::dataloader::{DataLoader, HashMapCache};
use async_graphql::parser::types::OperationType;
use async_graphql::{ErrorExtensionValues, ServerError, Value};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{AppState, REQUEST_ID_HEADER, Shared};
use crate::auth::authenticate;
use crate::error::{AppError, code};
use crate::graphql::loaders::{DbLoader, RequestLoader};
use crate::graphql::{MAX_DEPTH, depth, documents, response_cache};

/// A plain error answer for requests refused before GraphQL runs.
pub(super) fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
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

/// The JSON body of a GraphQL request. `query` is required and must be a string;
/// `variables` and `extensions` objects (or null), `operationName` a string (or null).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    query: String,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Option<async_graphql::Variables>,
    #[serde(default)]
    #[allow(dead_code)] // accepted and ignored: no extension is implemented
    extensions: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The media types an answer can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `application/json`: errors travel in the body with HTTP 200.
    Json,
    /// `application/graphql-response+json`: request errors are HTTP 400.
    GraphqlResponse,
}

impl Answer {
    fn content_type(self) -> &'static str {
        match self {
            Answer::Json => "application/json; charset=utf-8",
            Answer::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        }
    }
}

/// The answer's media type from `Accept`: the supported type with the highest `q`
/// (the earlier one on a tie); `application/json` when `Accept` is missing or a
/// wildcard wins; None (406) when the client accepts neither.
pub fn negotiate(headers: &HeaderMap) -> Option<Answer> {
    let Some(accept) = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
    else {
        return Some(Answer::Json);
    };
    let mut best: Option<(f32, Answer)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").map(str::to_owned))
            .next()
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let answer = match media.as_str() {
            "application/graphql-response+json" => Answer::GraphqlResponse,
            "application/json" | "application/*" | "*/*" => Answer::Json,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(top, _)| q > top) {
            best = Some((q, answer));
        }
    }
    best.map(|(_, answer)| answer)
}

fn not_acceptable() -> Response {
    refuse(
        StatusCode::NOT_ACCEPTABLE,
        code::NOT_ACCEPTABLE,
        "accept application/graphql-response+json or application/json",
    )
}

/// POST /graphql.
pub async fn post_graphql(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(answer) = negotiate(&headers) else {
        return not_acceptable();
    };
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().eq_ignore_ascii_case("application/json"))
        .unwrap_or(false);
    if !is_json {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::UNSUPPORTED_MEDIA_TYPE,
            "send GraphQL requests as Content-Type: application/json",
        );
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return refuse(
            StatusCode::BAD_REQUEST,
            code::BATCH_NOT_SUPPORTED,
            "batched requests are not supported; send one operation per request",
        );
    }
    let body: Body = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                code::BAD_REQUEST,
                "the body is not a GraphQL request: a JSON object with a string `query`",
            );
        }
    };
    let mut request = async_graphql::Request::new(body.query);
    request.operation_name = body.operation_name;
    if let Some(variables) = body.variables {
        request = request.variables(variables);
    }
    let fresh = state.documents.prepare(&mut request);
    execute(&state, request, fresh, &headers, answer).await
}

/// GET /graphql: a WebSocket upgrade serves subscriptions (see `websocket`); a query
/// in the URL runs (queries only); without one, GraphiQL.
pub async fn get_graphql(State(state): State<Shared>, request: axum::extract::Request) -> Response {
    use axum::extract::FromRequestParts;
    let (mut parts, _) = request.into_parts();
    let wants_socket = parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if wants_socket {
        let protocol = parts
            .headers
            .get(header::SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        return match axum::extract::ws::WebSocketUpgrade::from_request_parts(&mut parts, &()).await
        {
            Ok(upgrade) => super::websocket::upgrade(state, upgrade, protocol.as_deref()),
            Err(rejection) => rejection.into_response(),
        };
    }
    let headers = parts.headers;
    let query = parts.uri.query().map(str::to_owned);
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        // GraphiQL, built and embedded in the binary: no CDN.
        return super::console::graphiql(&headers);
    };
    let Some(answer) = negotiate(&headers) else {
        return not_acceptable();
    };
    let mut request = match async_graphql::http::parse_query_string(&query) {
        Ok(request) if !request.query.is_empty() => request,
        _ => {
            return refuse(
                StatusCode::BAD_REQUEST,
                code::BAD_REQUEST,
                "malformed query string: `query` is required",
            );
        }
    };
    let fresh = state.documents.prepare(&mut request);
    if !is_query_only(&mut request) {
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            code::METHOD_NOT_ALLOWED,
            "mutations and subscriptions must be sent with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return response;
    }
    execute(&state, request, fresh, &headers, answer).await
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

/// Runs one operation with the per-request data and turns it into an HTTP response.
/// The document came from the cache when its text validated before; a `fresh` one is
/// kept once it has. A presented token that does not check out is refused whole (401),
/// rather than silently treated as anonymous.
async fn execute(
    state: &AppState,
    mut request: async_graphql::Request,
    fresh: Option<documents::Fresh>,
    headers: &HeaderMap,
    answer: Answer,
) -> Response {
    let request_id = request_id(headers);
    let operation = documents::operation_name(&mut request);
    let too_deep = request
        .parsed_query()
        .ok()
        .and_then(|document| depth::check(document, MAX_DEPTH).err());
    let (response, keep) = match too_deep {
        Some(refusal) => (
            async_graphql::Response::from_errors(vec![ServerError::new(refusal.to_string(), None)]),
            None,
        ),
        None => {
            let authorization = headers
                .get(header::AUTHORIZATION)
                .map(|v| v.to_str().unwrap_or_default());
            let actor = match authenticate(&state.db, &state.auth, authorization).await {
                Ok(actor) => actor,
                Err(AppError::Unauthenticated) => {
                    let mut response = refuse(
                        StatusCode::UNAUTHORIZED,
                        code::UNAUTHENTICATED,
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
                        code::INTERNAL,
                        "internal error",
                    );
                }
            };
            // The same viewer asked the same catalogue query since the last change.
            let key = state.responses.key(actor, &request);
            if let Some(body) = key.as_ref().and_then(|key| state.responses.get(key)) {
                state.metrics.observe_operation(operation.as_deref(), true);
                return answer_with(StatusCode::OK, answer, body);
            }
            let operation_name = request.operation_name.clone();
            let keep = key
                .filter(|_| {
                    request.parsed_query().is_ok_and(|document| {
                        response_cache::cacheable(document, operation_name.as_deref())
                    })
                })
                .map(|key| (key, state.responses.stamp()));
            // One caching loader per request: it may hold per-user rows, so it is never
            // shared.
            let loader: RequestLoader = DataLoader::with_cache(
                DbLoader::new(state.db.clone(), state.read_cache.clone(), actor.user_id()),
                tokio::spawn,
                HashMapCache::default(),
            );
            let response = state.schema.execute(request.data(actor).data(loader)).await;
            (response, keep)
        }
    };
    let request_error = is_request_error(&response);
    if let Some(fresh) = fresh
        && !request_error
    {
        state.documents.keep(fresh);
    }
    // Counted here, refusals at parsing and validation included.
    state
        .metrics
        .observe_operation(operation.as_deref(), response.errors.is_empty());
    let mut response = response;
    for error in &mut response.errors {
        label_error(error, &request_id);
    }
    let Some(body) = serialize(&response, request_error) else {
        return refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL,
            "internal error",
        );
    };
    // Only a clean answer is kept: errors may be the moment's (a database hiccup).
    if let Some((key, stamp)) = keep
        && response.errors.is_empty()
        && response.http_headers.is_empty()
    {
        state.responses.put(key, stamp, body.clone());
    }
    let status = if request_error && answer == Answer::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut http = answer_with(status, answer, body);
    http.headers_mut().extend(response.http_headers);
    http
}

/// A request error: the operation never ran (it did not parse, validate or coerce its
/// variables), so there is no data, only errors that name no field.
fn is_request_error(response: &async_graphql::Response) -> bool {
    !response.errors.is_empty()
        && response.data == Value::Null
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// The body of an answer: a request error has no `data`.
fn serialize(response: &async_graphql::Response, request_error: bool) -> Option<Bytes> {
    #[derive(serde::Serialize)]
    struct RequestErrors<'a> {
        errors: &'a [ServerError],
    }
    let body = if request_error {
        serde_json::to_vec(&RequestErrors {
            errors: &response.errors,
        })
    } else {
        serde_json::to_vec(response)
    };
    body.ok().map(Bytes::from)
}

/// An HTTP answer of the negotiated media type.
fn answer_with(status: StatusCode, answer: Answer, body: Bytes) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, answer.content_type())],
        body,
    )
        .into_response()
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
        Some(code) if *code == Value::from(code::INTERNAL) => {
            extensions.set("requestId", request_id)
        }
        Some(_) => {}
        None if no_path => extensions.set("code", code::GRAPHQL_VALIDATION_FAILED),
        None => extensions.set("code", code::BAD_USER_INPUT),
    }
}
