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
//! - A `next` whose event was rendered for a shared shape carries the payload encoded
//!   once for all ([`FrameSlot`]): a chat message into a room of 2,000 is encoded once,
//!   not 2,000 times.
//!
//! The protocol's rules are graphql-transport-ws's: 4400 for a message that is not
//! one, 4401 for a subscription before `connection_ack`, 4409 for an id already
//! running, 4429 for a second `connection_init`; an operation refused before it runs
//! gets `error`, one that ran gets `next` and `complete`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, HashMapCache};
use async_graphql::http::{ClientMessage, WebSocketProtocols};
use async_graphql::{Data, ServerError};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::stream::{AbortHandle, BoxStream, SelectAll};
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::sync::OwnedSemaphorePermit;

use super::Shared;
use super::ws_protocol::{self as protocol_messages, CLOSE_BAD_MESSAGE, CLOSE_DUPLICATE_ID};
pub use super::ws_protocol::{
    CLOSE_FORBIDDEN, CLOSE_INIT_TIMEOUT, CLOSE_TOO_MANY_INITS, CLOSE_UNAUTHORIZED,
};
use crate::auth::{Actor, authenticate_until};
use crate::error::code;
use crate::graphql::live::SubscriptionSlots;
use crate::graphql::live_render::{FrameSlot, event_shape};
use crate::graphql::loaders::{DbLoader, RequestLoader};
use crate::graphql::{MAX_DEPTH, depth};

/// How long a socket may stay open without `connection_init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Close code: the token expired (graphql-transport-ws's "Unauthorized").
pub const CLOSE_TOKEN_EXPIRED: u16 = CLOSE_UNAUTHORIZED;

/// The longest reason a close frame carries, in bytes.
const MAX_CLOSE_REASON: usize = 123;

/// Messages written to a socket at once, at most.
const MAX_BATCH: usize = 64;

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

/// The stream of one operation: the depth limit, the socket's actor, a loader of its
/// own, and for a subscription whose events can be shared, its shape and frame slot.
fn operation_stream(
    state: &Shared,
    actor: Actor,
    mut request: async_graphql::Request,
    session: Arc<Data>,
    slot: &Arc<FrameSlot>,
) -> BoxStream<'static, async_graphql::Response> {
    let too_deep = request
        .parsed_query()
        .ok()
        .and_then(|document| depth::check(document, MAX_DEPTH).err());
    if let Some(refusal) = too_deep {
        let refused =
            async_graphql::Response::from_errors(vec![ServerError::new(refusal.to_string(), None)]);
        return futures_util::stream::once(async move { refused }).boxed();
    }
    let loader: RequestLoader = DataLoader::with_cache(
        DbLoader::new(state.db.clone(), state.read_cache.clone(), actor.user_id()),
        tokio::spawn,
        HashMapCache::default(),
    );
    // Subscribers with one public selection share each event's rendering.
    let (query, operation_name, variables) = (
        request.query.clone(),
        request.operation_name.clone(),
        request.variables.clone(),
    );
    let shape = request
        .parsed_query()
        .ok()
        .and_then(|document| event_shape(document, &query, operation_name.as_deref(), &variables));
    let mut request = request.data(actor).data(loader);
    if let Some(shape) = shape {
        request = request.data(shape).data(Arc::clone(slot));
    }
    state
        .schema
        .execute_stream_with_session_data(request, session)
}

/// The token in a `connection_init` payload: `authorization` (or `Authorization`).
fn authorization(payload: &serde_json::Value) -> Option<String> {
    ["authorization", "Authorization"]
        .iter()
        .find_map(|key| payload.get(key)?.as_str().map(str::to_owned))
}

/// What an operation's stream yields to the socket.
enum Output {
    /// A response of operation `id`.
    Next {
        id: Arc<str>,
        first: bool,
        response: Box<async_graphql::Response>,
    },
    /// Operation `id` has nothing more.
    Done(Arc<str>),
}

/// A running operation.
struct Running {
    /// Stops its stream.
    abort: AbortHandle,
    /// Its `next` messages' start.
    prefix: Arc<str>,
    /// Where its shared payloads arrive.
    slot: Arc<FrameSlot>,
}

/// One socket's protocol state.
struct Session {
    state: Shared,
    protocol: WebSocketProtocols,
    /// Who signed in (None until `connection_init` is accepted).
    actor: Option<Actor>,
    /// The socket's data (its subscription slots), once acknowledged.
    data: Option<Arc<Data>>,
    /// Operations by id.
    running: HashMap<Arc<str>, Running>,
    /// The streams of the running operations.
    streams: SelectAll<BoxStream<'static, Output>>,
}

/// What the socket does next.
enum Step {
    /// Nothing to send.
    Idle,
    /// Send this text.
    Send(String),
    /// Close with this code and reason (after sending the text, if any).
    Close(Option<String>, u16, String),
}

impl Session {
    /// Answers one client message. `expires_at` learns the token's expiry at sign-in.
    async fn on_client(&mut self, bytes: &[u8], expires_at: &mut Option<Option<i64>>) -> Step {
        let message = match ClientMessage::from_bytes(bytes) {
            Ok(message) => message,
            Err(error) => {
                return Step::Close(None, CLOSE_BAD_MESSAGE, format!("Invalid message: {error}"));
            }
        };
        match message {
            ClientMessage::ConnectionInit { payload } => {
                if self.actor.is_some() {
                    return Step::Close(
                        None,
                        CLOSE_TOO_MANY_INITS,
                        "Too many initialisation requests".into(),
                    );
                }
                self.sign_in(payload.unwrap_or_default(), expires_at).await
            }
            ClientMessage::Start { id, payload } => self.start(id, payload),
            ClientMessage::Stop { id } => {
                let Some(stopped) = self.running.remove(id.as_str()) else {
                    return Step::Idle;
                };
                stopped.abort.abort();
                // The legacy protocol confirms a stop; graphql-transport-ws sends nothing
                // more for an operation the client completed.
                match self.protocol {
                    WebSocketProtocols::SubscriptionsTransportWS => {
                        Step::Send(protocol_messages::complete(&id))
                    }
                    WebSocketProtocols::GraphQLWS => Step::Idle,
                }
            }
            ClientMessage::ConnectionTerminate => Step::Close(None, 1000, String::new()),
            ClientMessage::Ping { .. } => Step::Send(protocol_messages::pong()),
            ClientMessage::Pong { .. } => Step::Idle,
        }
    }

    /// Checks `connection_init`'s token exactly like the HTTP header.
    async fn sign_in(
        &mut self,
        payload: serde_json::Value,
        expires_at: &mut Option<Option<i64>>,
    ) -> Step {
        let header = authorization(&payload);
        let refusal =
            match authenticate_until(&self.state.db, &self.state.auth, header.as_deref()).await {
                Ok((who, expiry)) => {
                    self.actor = Some(who);
                    *expires_at = Some(expiry);
                    let mut data = Data::default();
                    data.insert(SubscriptionSlots::new(self.state.ws_max_subscriptions));
                    self.data = Some(Arc::new(data));
                    return Step::Send(protocol_messages::connection_ack());
                }
                Err(crate::error::AppError::Unauthenticated) => {
                    "the access token is invalid, expired or revoked"
                }
                Err(error) => {
                    tracing::error!(?error, "WebSocket authentication failed");
                    "internal error"
                }
            };
        let notice = match self.protocol {
            WebSocketProtocols::SubscriptionsTransportWS => {
                Some(protocol_messages::connection_error(refusal))
            }
            WebSocketProtocols::GraphQLWS => None,
        };
        Step::Close(notice, CLOSE_FORBIDDEN, refusal.to_owned())
    }

    /// Starts operation `id`.
    fn start(&mut self, id: String, request: async_graphql::Request) -> Step {
        let (Some(actor), Some(data)) = (self.actor, self.data.clone()) else {
            return Step::Close(None, CLOSE_UNAUTHORIZED, "Unauthorized".into());
        };
        if self.running.contains_key(id.as_str()) {
            return Step::Close(
                None,
                CLOSE_DUPLICATE_ID,
                format!("Subscriber for {id} already exists"),
            );
        }
        let id: Arc<str> = id.into();
        let slot = Arc::new(FrameSlot::default());
        let responses = operation_stream(&self.state, actor, request, data, &slot);
        let (of_id, done_id) = (Arc::clone(&id), Arc::clone(&id));
        let outputs = responses
            .enumerate()
            .map(move |(n, response)| Output::Next {
                id: Arc::clone(&of_id),
                first: n == 0,
                response: Box::new(response),
            })
            .chain(futures_util::stream::once(
                async move { Output::Done(done_id) },
            ));
        let (outputs, abort) = futures_util::stream::abortable(outputs);
        self.streams.push(outputs.boxed());
        let prefix = protocol_messages::next_prefix(self.protocol, &id);
        self.running.insert(
            id,
            Running {
                abort,
                prefix,
                slot,
            },
        );
        Step::Idle
    }

    /// The message for what an operation yielded.
    fn on_output(&mut self, output: Output) -> Step {
        match output {
            Output::Next {
                id,
                first,
                mut response,
            } => {
                let Some(running) = self.running.get(&id) else {
                    return Step::Idle;
                };
                if let Some(shared) = running.slot.take() {
                    if response.errors.is_empty() && response.extensions.is_empty() {
                        return Step::Send(protocol_messages::next(&running.prefix, &shared));
                    }
                    // Not expected: keep the errors or extensions beside the data.
                    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&shared) {
                        response.data = async_graphql::Value::from_json(value["data"].clone())
                            .unwrap_or_default();
                    }
                }
                if first
                    && self.protocol == WebSocketProtocols::GraphQLWS
                    && protocol_messages::is_request_error(&response)
                {
                    if let Some(refused) = self.running.remove(&id) {
                        refused.abort.abort();
                    }
                    return Step::Send(protocol_messages::error(&id, &response.errors));
                }
                let payload = protocol_messages::encode(&response);
                Step::Send(protocol_messages::next(&running.prefix, &payload))
            }
            Output::Done(id) => match self.running.remove(&id) {
                Some(_) => Step::Send(protocol_messages::complete(&id)),
                None => Step::Idle,
            },
        }
    }

    /// What an operation yielded, if anything is ready now.
    fn ready_output(&mut self) -> Option<Output> {
        if self.streams.is_empty() {
            return None;
        }
        self.streams.next().now_or_never().flatten()
    }
}

async fn serve(
    state: Shared,
    socket: WebSocket,
    protocol: WebSocketProtocols,
    _permit: OwnedSemaphorePermit,
) {
    let (mut sink, mut incoming) = socket.split();
    let mut closing = state.closing.clone();
    let mut session = Session {
        state,
        protocol,
        actor: None,
        data: None,
        running: HashMap::new(),
        streams: SelectAll::new(),
    };
    let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
    futures_util::pin_mut!(init_deadline);
    let far_future = tokio::time::Instant::now() + Duration::from_secs(365 * 24 * 3600);
    let token_deadline = tokio::time::sleep_until(far_future);
    futures_util::pin_mut!(token_deadline);
    loop {
        let mut expires_at = None;
        let step = tokio::select! {
            message = incoming.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    session.on_client(text.as_bytes(), &mut expires_at).await
                }
                Some(Ok(Message::Binary(bytes))) => {
                    session.on_client(&bytes, &mut expires_at).await
                }
                // WebSocket pings are answered by the socket itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => Step::Idle,
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            },
            Some(output) = session.streams.next(), if !session.streams.is_empty() => {
                session.on_output(output)
            },
            () = &mut init_deadline, if session.actor.is_none() => Step::Close(
                None,
                CLOSE_INIT_TIMEOUT,
                "Connection initialisation timeout".into(),
            ),
            () = async { let _ = closing.wait_for(|closing| *closing).await; } => {
                Step::Close(None, 1001, "the server is restarting; reconnect".into())
            },
            () = &mut token_deadline => Step::Close(
                None,
                CLOSE_TOKEN_EXPIRED,
                "the access token expired; sign in again".into(),
            ),
        };
        if let Some(Some(expires_at)) = expires_at {
            // The HTTP rule: valid until `exp` plus the verification leeway.
            let leeway = i64::try_from(crate::auth::tokens::LEEWAY_SECS).unwrap_or(0);
            let left = expires_at + leeway - chrono::Utc::now().timestamp();
            let left = Duration::from_secs(u64::try_from(left).unwrap_or(0));
            token_deadline
                .as_mut()
                .reset(tokio::time::Instant::now() + left);
        }
        match step {
            Step::Idle => {}
            Step::Send(text) => {
                if sink.feed(Message::Text(text.into())).await.is_err() {
                    break;
                }
                // What else is ready goes out in the same write: under load a socket
                // costs one system call per batch rather than one per event.
                let mut then = None;
                for _ in 1..MAX_BATCH {
                    let Some(output) = session.ready_output() else {
                        break;
                    };
                    match session.on_output(output) {
                        Step::Send(text) => {
                            if sink.feed(Message::Text(text.into())).await.is_err() {
                                return;
                            }
                        }
                        Step::Idle => {}
                        close => {
                            then = Some(close);
                            break;
                        }
                    }
                }
                if sink.flush().await.is_err() {
                    break;
                }
                if let Some(Step::Close(notice, code, reason)) = then {
                    close(&mut sink, notice, code, &reason).await;
                    break;
                }
            }
            Step::Close(notice, code, reason) => {
                close(&mut sink, notice, code, &reason).await;
                break;
            }
        }
    }
}

/// Sends `notice` (if any) and a close frame.
async fn close(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    notice: Option<String>,
    code: u16,
    reason: &str,
) {
    if let Some(notice) = notice {
        let _ = sink.feed(Message::Text(notice.into())).await;
    }
    // A close frame's reason is at most 123 bytes; a longer one would fail the close.
    let mut end = reason.len().min(MAX_CLOSE_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let _ = sink
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason[..end].to_owned().into(),
        })))
        .await;
}
