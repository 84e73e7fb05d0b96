//! GraphQL subscriptions over WebSocket at `/graphql`: the graphql-transport-ws protocol
//! (what the `graphql-ws` JavaScript client speaks) and the legacy `graphql-ws`
//! (subscriptions-transport-ws) one, chosen by `Sec-WebSocket-Protocol`.
//!
//! - Sign-in is the `connection_init` payload's `authorization` (`"Bearer ..."`),
//!   checked exactly like the HTTP header; none is anonymous. A refused token closes
//!   the socket with 4403; a socket closes with 4401 when its token expires, and with
//!   4408 when no `connection_init` came within [`INIT_TIMEOUT`].
//! - Every operation gets the HTTP limits (data depth here, complexity and the rest in
//!   the schema) and a loader of its own.
//! - At most `ZHIKU_WS_MAX_CONNECTIONS` sockets (503 beyond) and
//!   `ZHIKU_WS_MAX_SUBSCRIPTIONS` subscriptions per socket.
//! - Small read and write buffers: an idle subscriber should cost kilobytes.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, HashMapCache};
use async_graphql::http::{WebSocketProtocols, WsMessage};
use async_graphql::{Data, Executor, ServerError};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::stream::BoxStream;
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::sync::OwnedSemaphorePermit;

use super::Shared;
use crate::auth::{Actor, authenticate_until};
use crate::error::code;
use crate::graphql::live::SubscriptionSlots;
use crate::graphql::live_render::event_shape;
use crate::graphql::loaders::{DbLoader, RequestLoader};
use crate::graphql::{MAX_DEPTH, depth};

/// How long a socket may stay open without `connection_init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Close code: the token expired (graphql-transport-ws's "Unauthorized").
pub const CLOSE_TOKEN_EXPIRED: u16 = 4401;
/// Close code: `connection_init` refused (graphql-transport-ws's "Forbidden").
pub const CLOSE_FORBIDDEN: u16 = 4403;
/// Close code: no `connection_init` in time.
pub const CLOSE_INIT_TIMEOUT: u16 = 4408;

/// The marker of our refusal in `connection_init`'s error, which async-graphql closes
/// with 1002; we send 4403 instead, as graphql-transport-ws asks.
const FORBIDDEN_PREFIX: &str = "Forbidden: ";

/// Upgrades a GET `/graphql` that asks for a WebSocket.
pub fn upgrade(state: Shared, upgrade: WebSocketUpgrade, protocol: Option<&str>) -> Response {
    let Some(protocol) = protocol.and_then(|header| {
        header
            .split(',')
            .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
    }) else {
        return (
            StatusCode::BAD_REQUEST,
            "ask for the graphql-transport-ws (or graphql-ws) subprotocol",
        )
            .into_response();
    };
    let Ok(permit) = Arc::clone(&state.sockets).try_acquire_owned() else {
        return super::graphql_refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            code::TOO_MANY_CONNECTIONS,
            "this server holds as many WebSockets as it may; retry shortly",
        );
    };
    upgrade
        .protocols([protocol.sec_websocket_protocol()])
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| serve(state, socket, protocol, permit))
}

/// Runs one operation of a socket: the depth limit, the socket's actor and a loader.
#[derive(Clone)]
struct SocketExecutor {
    state: Shared,
    actor: Arc<OnceLock<Actor>>,
}

impl Executor for SocketExecutor {
    async fn execute(&self, request: async_graphql::Request) -> async_graphql::Response {
        self.state.schema.execute(request).await
    }

    fn execute_stream(
        &self,
        mut request: async_graphql::Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, async_graphql::Response> {
        let too_deep = request
            .parsed_query()
            .ok()
            .and_then(|document| depth::check(document, MAX_DEPTH).err());
        if let Some(refusal) = too_deep {
            let refused = async_graphql::Response::from_errors(vec![ServerError::new(
                refusal.to_string(),
                None,
            )]);
            return futures_util::stream::once(async move { refused }).boxed();
        }
        let actor = self.actor.get().copied().unwrap_or_default();
        let loader: RequestLoader = DataLoader::with_cache(
            DbLoader::new(
                self.state.db.clone(),
                self.state.read_cache.clone(),
                actor.user_id(),
            ),
            tokio::spawn,
            HashMapCache::default(),
        );
        // Subscribers with one public selection share each event's rendering.
        let (query, operation_name, variables) = (
            request.query.clone(),
            request.operation_name.clone(),
            request.variables.clone(),
        );
        let shape = request.parsed_query().ok().and_then(|document| {
            event_shape(document, &query, operation_name.as_deref(), &variables)
        });
        let mut request = request.data(actor).data(loader);
        if let Some(shape) = shape {
            request = request.data(shape);
        }
        self.state
            .schema
            .execute_stream_with_session_data(request, session_data.unwrap_or_default())
    }
}

/// The token in a `connection_init` payload: `authorization` (or `Authorization`).
fn authorization(payload: &serde_json::Value) -> Option<String> {
    ["authorization", "Authorization"]
        .iter()
        .find_map(|key| payload.get(key)?.as_str().map(str::to_owned))
}

async fn serve(
    state: Shared,
    socket: WebSocket,
    protocol: WebSocketProtocols,
    _permit: OwnedSemaphorePermit,
) {
    let (mut sink, incoming) = socket.split();
    let input = incoming
        .take_while(|message| futures_util::future::ready(message.is_ok()))
        .filter_map(|message| {
            futures_util::future::ready(match message {
                Ok(Message::Text(text)) => Some(axum::body::Bytes::from(text)),
                Ok(Message::Binary(bytes)) => Some(bytes),
                _ => None,
            })
        });
    let actor = Arc::new(OnceLock::new());
    // The token's expiry, once `connection_init` checked it.
    let (expiry_tx, mut expiry_rx) = tokio::sync::watch::channel::<Option<Option<i64>>>(None);
    let executor = SocketExecutor {
        state: Arc::clone(&state),
        actor: Arc::clone(&actor),
    };
    let mut connection_data = Data::default();
    connection_data.insert(SubscriptionSlots::new(state.ws_max_subscriptions));
    let init_state = Arc::clone(&state);
    let protocol_stream = async_graphql::http::WebSocket::new(executor, input, protocol)
        .connection_data(connection_data)
        .on_connection_init(move |payload| async move {
            let header = authorization(&payload);
            match authenticate_until(&init_state.db, &init_state.auth, header.as_deref()).await {
                Ok((who, expires_at)) => {
                    let _ = actor.set(who);
                    let _ = expiry_tx.send(Some(expires_at));
                    Ok(Data::default())
                }
                Err(crate::error::AppError::Unauthenticated) => Err(async_graphql::Error::new(
                    format!("{FORBIDDEN_PREFIX}the access token is invalid, expired or revoked"),
                )),
                Err(error) => {
                    tracing::error!(?error, "WebSocket authentication failed");
                    Err(async_graphql::Error::new(format!(
                        "{FORBIDDEN_PREFIX}internal error"
                    )))
                }
            }
        });
    futures_util::pin_mut!(protocol_stream);
    let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
    futures_util::pin_mut!(init_deadline);
    let far_future = tokio::time::Instant::now() + Duration::from_secs(365 * 24 * 3600);
    let token_deadline = tokio::time::sleep_until(far_future);
    futures_util::pin_mut!(token_deadline);
    let mut initialised = false;
    let mut closing = state.closing.clone();
    'serve: loop {
        let step = tokio::select! {
            message = protocol_stream.next() => Step::of(message),
            changed = expiry_rx.changed(), if !initialised => {
                if changed.is_err() {
                    continue;
                }
                if let Some(expires_at) = *expiry_rx.borrow_and_update() {
                    initialised = true;
                    if let Some(expires_at) = expires_at {
                        // The HTTP rule: valid until `exp` plus the verification leeway.
                        let leeway = i64::try_from(crate::auth::tokens::LEEWAY_SECS).unwrap_or(0);
                        let left = expires_at + leeway - chrono::Utc::now().timestamp();
                        let left = Duration::from_secs(u64::try_from(left).unwrap_or(0));
                        token_deadline.as_mut().reset(tokio::time::Instant::now() + left);
                    }
                }
                continue;
            },
            () = &mut init_deadline, if !initialised => {
                Step::Close(close(CLOSE_INIT_TIMEOUT, "Connection initialisation timeout"))
            },
            () = async { let _ = closing.wait_for(|closing| *closing).await; } => {
                Step::Close(close(1001, "the server is restarting; reconnect"))
            },
            () = &mut token_deadline => {
                Step::Close(close(CLOSE_TOKEN_EXPIRED, "the access token expired; sign in again"))
            },
        };
        let then = match step {
            Step::Send(message) => {
                if sink.feed(message).await.is_err() {
                    break;
                }
                // What else is ready goes out in the same write: under load a socket
                // costs one system call per batch rather than one per event.
                let mut then = None;
                for _ in 1..MAX_BATCH {
                    match protocol_stream.next().now_or_never().map(Step::of) {
                        Some(Step::Send(message)) => {
                            if sink.feed(message).await.is_err() {
                                break 'serve;
                            }
                        }
                        other => {
                            then = other;
                            break;
                        }
                    }
                }
                if sink.flush().await.is_err() {
                    break;
                }
                then
            }
            last => Some(last),
        };
        match then {
            Some(Step::Close(message)) => {
                let _ = sink.send(message).await;
                break;
            }
            Some(Step::End) => break,
            Some(Step::Send(_)) | None => {}
        }
    }
}

/// Messages written to a socket at once, at most.
const MAX_BATCH: usize = 64;

/// What the protocol asks of the socket next.
enum Step {
    /// Send this message.
    Send(Message),
    /// Send this close frame and stop.
    Close(Message),
    /// The protocol ended (the client left).
    End,
}

impl Step {
    fn of(message: Option<WsMessage>) -> Step {
        match message {
            Some(WsMessage::Text(text)) => Step::Send(Message::Text(text.into())),
            Some(WsMessage::Close(code, reason)) => {
                // Our refusal of `connection_init` goes out as 4403, not async-graphql's 1002.
                let code = match reason.strip_prefix(FORBIDDEN_PREFIX) {
                    Some(_) if code == 1002 => CLOSE_FORBIDDEN,
                    _ => code,
                };
                let reason = reason.strip_prefix(FORBIDDEN_PREFIX).unwrap_or(&reason);
                Step::Close(close(code, reason))
            }
            None => Step::End,
        }
    }
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.to_owned().into(),
    }))
}
