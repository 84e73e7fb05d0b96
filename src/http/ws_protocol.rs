//! The two GraphQL-over-WebSocket protocols' messages, as this server reads and writes
//! them: graphql-transport-ws (what the `graphql-ws` JavaScript client speaks) and the
//! legacy `graphql-ws` one of subscriptions-transport-ws. Client messages are
//! async-graphql's [`ClientMessage`] (it reads both); server messages are encoded here,
//! so a `next` can carry a payload encoded once for every socket that sends it.

use std::sync::Arc;

use async_graphql::http::WebSocketProtocols;
use async_graphql::{Response, ServerError};
use serde_json::json;

/// Close code: a message that is not one of the protocol's (graphql-transport-ws).
pub const CLOSE_BAD_MESSAGE: u16 = 4400;
/// Close code: the token expired, or a subscription came before `connection_ack`.
pub const CLOSE_UNAUTHORIZED: u16 = 4401;
/// Close code: `connection_init` refused.
pub const CLOSE_FORBIDDEN: u16 = 4403;
/// Close code: no `connection_init` in time.
pub const CLOSE_INIT_TIMEOUT: u16 = 4408;
/// Close code: a subscription id already running on the socket.
pub const CLOSE_DUPLICATE_ID: u16 = 4409;
/// Close code: a second `connection_init`.
pub const CLOSE_TOO_MANY_INITS: u16 = 4429;

/// `{"type":"connection_ack"}`.
pub fn connection_ack() -> String {
    json!({ "type": "connection_ack" }).to_string()
}

/// `{"type":"pong"}`: the answer to a ping, at once.
pub fn pong() -> String {
    json!({ "type": "pong" }).to_string()
}

/// The legacy protocol's refusal of `connection_init` (sent before closing).
pub fn connection_error(message: &str) -> String {
    json!({ "type": "connection_error", "payload": { "message": message } }).to_string()
}

/// `{"type":"complete","id":...}`.
pub fn complete(id: &str) -> String {
    json!({ "type": "complete", "id": id }).to_string()
}

/// The start of every `next` (legacy: `data`) message of operation `id`, up to its
/// payload: kept per operation so a shared payload is only copied after it.
pub fn next_prefix(protocol: WebSocketProtocols, id: &str) -> Arc<str> {
    let kind = match protocol {
        WebSocketProtocols::GraphQLWS => "next",
        WebSocketProtocols::SubscriptionsTransportWS => "data",
    };
    let id = serde_json::to_string(id).unwrap_or_else(|_| "\"\"".to_owned());
    format!("{{\"type\":\"{kind}\",\"id\":{id},\"payload\":").into()
}

/// A `next` message: the operation's prefix and an encoded payload.
pub fn next(prefix: &str, payload: &str) -> String {
    let mut message = String::with_capacity(prefix.len() + payload.len() + 1);
    message.push_str(prefix);
    message.push_str(payload);
    message.push('}');
    message
}

/// A response's payload, encoded.
pub fn encode(response: &Response) -> String {
    serde_json::to_string(response).unwrap_or_else(|_| {
        json!({ "errors": [{ "message": "the response could not be encoded" }] }).to_string()
    })
}

/// graphql-transport-ws's `error` message: the operation was refused before it ran
/// (it did not parse, validate or pass the limits); no `complete` follows.
pub fn error(id: &str, errors: &[ServerError]) -> String {
    json!({ "type": "error", "id": id, "payload": errors }).to_string()
}

/// Whether an operation's first response is a refusal of the request itself: no data
/// and only errors outside any field (a field's error has a path).
pub fn is_request_error(response: &Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_messages_frame_a_shared_payload_per_protocol() {
        let prefix = next_prefix(WebSocketProtocols::GraphQLWS, "a\"1");
        let message = next(&prefix, r#"{"data":{"x":1}}"#);
        let parsed: serde_json::Value = serde_json::from_str(&message).expect("JSON");
        assert_eq!(
            parsed,
            json!({ "type": "next", "id": "a\"1", "payload": { "data": { "x": 1 } } })
        );
        let legacy = next(
            &next_prefix(WebSocketProtocols::SubscriptionsTransportWS, "2"),
            "{}",
        );
        assert_eq!(legacy, r#"{"type":"data","id":"2","payload":{}}"#);
    }

    #[test]
    fn only_errors_outside_fields_refuse_the_request() {
        let refused = Response::from_errors(vec![ServerError::new("Unknown field", None)]);
        assert!(is_request_error(&refused));
        let mut field_error = ServerError::new("FORBIDDEN", None);
        field_error.path = vec![async_graphql::PathSegment::Field("livestreamEvents".into())];
        assert!(!is_request_error(&Response::from_errors(vec![field_error])));
    }
}
