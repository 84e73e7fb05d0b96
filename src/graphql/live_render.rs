//! One rendering of a live event per query shape instead of one per subscriber.
//!
//! A chat message in a room of 10,000 goes to 10,000 subscriptions, nearly all running
//! the same document. Resolving the event's selection is most of what a delivery
//! costs, and when the selection reads only fields that are the same for every viewer
//! (the event, the message, the author's public profile), one result serves them all.
//! The WebSocket handler names such a subscription's shape ([`event_shape`]); each event
//! then keeps the first rendering per shape ([`crate::realtime::Renders`]), with its
//! `next` payload encoded once; over WebSocket the other subscribers send that payload
//! as it is ([`FrameSlot`]), so an event is neither resolved nor encoded per socket. A selection that reaches anything else (a viewer's orders, a
//! creator's private fields) has no shape and every subscriber resolves its own.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationType, Selection,
};
use async_graphql::{
    ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value, Variables, registry,
};

use super::live::LivestreamEvent;
use super::selection::{Listed, only_listed};
use crate::realtime::RoomEvent;

/// The shape of a `livestreamEvents` subscription whose renderings may be shared (in
/// the operation's data).
#[derive(Debug, Clone)]
pub struct EventShape(pub Arc<str>);

/// The subscription's root field.
const ROOT_FIELD: &str = "livestreamEvents";

/// The event types, whose own fields are the same for every viewer.
const EVENT_TYPES: [&str; 8] = [
    "LivestreamEvent",
    "LivestreamStatusChanged",
    "LivestreamMessagePosted",
    "LivestreamMessageDeleted",
    "LivestreamMessagePinned",
    "LivestreamViewerMuted",
    "LivestreamViewerCount",
    "LivestreamResync",
];

/// The fields that read the same whoever asks. Anything not listed (a new field
/// included) is treated as viewer-dependent, so adding one can never leak it to
/// others; list it here only once it is public.
fn public_field(on: &str, field: &str) -> Option<Listed> {
    let event = EVENT_TYPES.contains(&on);
    match (on, field) {
        (_, "sequence" | "kind" | "livestreamId" | "occurredAt") if event => Some(Listed::Leaf),
        ("LivestreamStatusChanged", "status")
        | ("LivestreamMessageDeleted", "messageId")
        | ("LivestreamViewerCount", "viewerCount") => Some(Listed::Leaf),
        ("LivestreamMessagePosted" | "LivestreamMessagePinned", "message") => {
            Some(Listed::Object("LivestreamMessage"))
        }
        ("LivestreamViewerMuted", "user") | ("LivestreamMessage", "author") => {
            Some(Listed::Object("User"))
        }
        ("LivestreamMessage", "id" | "body" | "deleted" | "clientMessageId" | "createdAt")
        | ("User", "id" | "nickname" | "avatarUrl" | "role" | "createdAt") => Some(Listed::Leaf),
        _ => None,
    }
}

/// The variables a field's arguments name.
fn argument_variables(field: &Field) -> Vec<Name> {
    let mut names = Vec::new();
    for (_, value) in &field.arguments {
        let _ = value.node.clone().into_const_with(|name| {
            names.push(name);
            Ok::<_, std::convert::Infallible>(Value::Null)
        });
    }
    names
}

/// The shape of a subscription to `livestreamEvents` whose selection reads only public
/// fields: its document, operation and the variables that can change what it selects
/// (those of the root field's arguments, the room and the replay point, cannot). None
/// for anything else.
pub fn event_shape(
    document: &ExecutableDocument,
    query: &str,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Option<EventShape> {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name)?,
        (DocumentOperations::Multiple(_), None) => return None,
    };
    let operation = &operation.node;
    if operation.ty != OperationType::Subscription {
        return None;
    }
    let [root] = operation.selection_set.node.items.as_slice() else {
        return None;
    };
    let Selection::Field(root) = &root.node else {
        return None;
    };
    let root = &root.node;
    if root.name.node != ROOT_FIELD
        || !only_listed(
            &root.selection_set.node,
            "LivestreamEvent",
            &document.fragments,
            public_field,
        )
    {
        return None;
    }
    let room_variables = argument_variables(root);
    let mut shape = format!("{}\n{query}", operation_name.unwrap_or_default());
    for (name, value) in variables.iter() {
        if !room_variables.contains(name) {
            shape.push_str(&format!("\n{name}={value}"));
        }
    }
    Some(EventShape(shape.into()))
}

/// One event rendered for one shape: the value, and the whole `next` payload
/// (`{"data":{<key>:<value>}}`) encoded once for every WebSocket that sends it.
struct SharedRender {
    value: Value,
    payload: Arc<str>,
}

/// Where a subscription's resolver leaves the encoded payload of the event it just
/// rendered for a shared shape, for the WebSocket writer to send as it is (put in the
/// operation's data by the writer; taken with each response the stream yields). The
/// response itself then carries a null in its place, so nothing is encoded twice.
#[derive(Debug, Default)]
pub struct FrameSlot(Mutex<Option<Arc<str>>>);

impl FrameSlot {
    /// The payload the last response stands for, if it was a shared rendering.
    pub fn take(&self) -> Option<Arc<str>> {
        self.0.lock().ok()?.take()
    }

    fn put(&self, payload: Arc<str>) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(payload);
        }
    }
}

/// The `next` payload of a response whose only field `key` is `value`.
fn encode_payload(key: &str, value: &Value) -> Option<Arc<str>> {
    let data = serde_json::json!({ "data": { key: value } });
    serde_json::to_string(&data).ok().map(Arc::from)
}

/// A live event as a subscription yields it: resolved like [`LivestreamEvent`], once
/// per shape when the subscription has one.
pub struct RenderedEvent(pub Arc<RoomEvent>);

impl OutputType for RenderedEvent {
    fn type_name() -> Cow<'static, str> {
        <LivestreamEvent as OutputType>::type_name()
    }

    fn create_type_info(registry: &mut registry::Registry) -> String {
        <LivestreamEvent as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let Some(EventShape(shape)) = ctx.data_opt::<EventShape>() else {
            return LivestreamEvent::from(Arc::clone(&self.0))
                .resolve(ctx, field)
                .await;
        };
        let shared = match self
            .0
            .renders
            .get(shape)
            .and_then(|rendered| rendered.downcast::<SharedRender>().ok())
        {
            Some(shared) => shared,
            None => {
                let value = LivestreamEvent::from(Arc::clone(&self.0))
                    .resolve(ctx, field)
                    .await?;
                // A rendering with field errors is this subscriber's alone.
                let clean = ctx
                    .query_env
                    .errors
                    .lock()
                    .map(|errors| errors.is_empty())
                    .unwrap_or(false);
                let payload = encode_payload(field.node.response_key().node.as_str(), &value);
                let (true, Some(payload)) = (clean, payload) else {
                    return Ok(value);
                };
                let shared = Arc::new(SharedRender { value, payload });
                self.0.renders.put(Arc::clone(shape), shared.clone());
                shared
            }
        };
        match ctx.data_opt::<Arc<FrameSlot>>() {
            Some(slot) => {
                slot.put(Arc::clone(&shared.payload));
                Ok(Value::Null)
            }
            None => Ok(shared.value.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(query: &str, variables: serde_json::Value) -> Option<EventShape> {
        let document = async_graphql::parser::parse_query(query).expect("parses");
        event_shape(&document, query, None, &Variables::from_json(variables))
    }

    const PUBLIC: &str = "subscription($l: ID!, $a: Int, $t: Boolean!) { livestreamEvents(livestream: $l, afterSequence: $a) { __typename sequence kind ... on LivestreamMessagePosted { message { id body author { nickname avatarUrl @include(if: $t) } } } ...Muted } } fragment Muted on LivestreamViewerMuted { user { id nickname } }";

    #[test]
    fn public_selections_share_one_shape_whatever_the_room_or_replay_point() {
        let first =
            shape(PUBLIC, serde_json::json!({"l": "A", "a": 3, "t": true})).expect("public");
        let second =
            shape(PUBLIC, serde_json::json!({"l": "B", "a": 9, "t": true})).expect("public");
        assert_eq!(first.0, second.0);
        let other = shape(PUBLIC, serde_json::json!({"l": "A", "t": false})).expect("public");
        assert_ne!(first.0, other.0, "a directive's variable changes the shape");
    }

    #[test]
    fn anything_viewer_dependent_or_unknown_is_rendered_per_subscriber() {
        for query in [
            "subscription { livestreamEvents(livestream: \"A\") { ... on LivestreamMessagePosted { message { author { orders(first: 1) { totalCount } } } } } }",
            "subscription { livestreamEvents(livestream: \"A\") { ... on LivestreamViewerMuted { user { creator { id } } } } }",
            "subscription { livestreamEvents(livestream: \"A\") { ... F } } fragment F on LivestreamMessagePosted { message { author { entitlements(first: 1) { totalCount } } } }",
            "query { __typename }",
        ] {
            assert!(shape(query, serde_json::json!({})).is_none(), "{query}");
        }
    }
}
