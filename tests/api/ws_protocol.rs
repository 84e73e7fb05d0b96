//! The WebSocket protocols' own rules, with a raw client: graphql-transport-ws's close
//! codes and `error` message, and the legacy `graphql-ws` protocol end to end.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{Fixture, TestApp};
use crate::live::{live_app, paid_livestream, send, ticket};
use entity::enums::Role;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What the server sent next: a JSON message, or the close code.
#[derive(Debug, PartialEq)]
enum Frame {
    Json(Value),
    Closed(u16),
}

async fn open(app: &TestApp, protocol: &str) -> Socket {
    let mut request = format!("ws://{}/graphql", app.addr)
        .into_client_request()
        .expect("request");
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", protocol.parse().expect("header"));
    let (socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("WebSocket handshake");
    assert_eq!(response.headers()["sec-websocket-protocol"], protocol);
    socket
}

async fn put(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .expect("send");
}

async fn next(socket: &mut Socket) -> Frame {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame in time");
        match frame {
            Some(Ok(Message::Text(text))) => {
                return Frame::Json(serde_json::from_str(&text).expect("JSON"));
            }
            Some(Ok(Message::Close(close))) => {
                return Frame::Closed(close.map(|c| u16::from(c.code)).unwrap_or(1005));
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Frame::Closed(1006),
        }
    }
}

fn init(token: &str) -> Value {
    json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } })
}

fn events(livestream: &str) -> Value {
    json!({
        "query": "subscription($l: ID!) { livestreamEvents(livestream: $l) { sequence kind ... on LivestreamMessagePosted { message { body author { nickname } } } } }",
        "variables": { "l": livestream }
    })
}

#[tokio::test]
async fn graphql_transport_ws_closes_with_the_protocols_codes() {
    let app = live_app().await;
    let fixture = Fixture::new(&app.db);
    let learner = fixture.user("ws-learner", Role::Learner).await;
    let token = app.token(learner.id);

    // Not a protocol message: 4400.
    let mut socket = open(&app, "graphql-transport-ws").await;
    put(&mut socket, json!({ "type": "hello" })).await;
    assert_eq!(next(&mut socket).await, Frame::Closed(4400));

    // A subscription before connection_init: 4401.
    let mut socket = open(&app, "graphql-transport-ws").await;
    put(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ __typename }" } }),
    )
    .await;
    assert_eq!(next(&mut socket).await, Frame::Closed(4401));

    // A second connection_init: 4429.
    let mut socket = open(&app, "graphql-transport-ws").await;
    put(&mut socket, init(&token)).await;
    assert_eq!(
        next(&mut socket).await,
        Frame::Json(json!({ "type": "connection_ack" }))
    );
    put(&mut socket, init(&token)).await;
    assert_eq!(next(&mut socket).await, Frame::Closed(4429));

    // An id already running: 4409.
    let (livestream, _, _) = paid_livestream(&app).await;
    let admin = fixture.user("ws-admin", Role::Admin).await;
    let mut socket = open(&app, "graphql-transport-ws").await;
    put(&mut socket, init(&app.token(admin.id))).await;
    assert!(matches!(next(&mut socket).await, Frame::Json(m) if m["type"] == "connection_ack"));
    let subscribe = json!({ "id": "room", "type": "subscribe", "payload": events(&livestream) });
    put(&mut socket, subscribe.clone()).await;
    // The first viewer count says the subscription runs.
    let Frame::Json(first) = next(&mut socket).await else {
        panic!("an event");
    };
    assert_eq!(first["type"], "next", "{first}");
    put(&mut socket, subscribe).await;
    assert_eq!(next(&mut socket).await, Frame::Closed(4409));
}

#[tokio::test]
async fn an_invalid_operation_gets_error_and_the_socket_stays_open() {
    let app = TestApp::spawn().await;
    let learner = Fixture::new(&app.db)
        .user("ws-invalid", Role::Learner)
        .await;
    let mut socket = open(&app, "graphql-transport-ws").await;
    put(&mut socket, init(&app.token(learner.id))).await;
    assert!(matches!(next(&mut socket).await, Frame::Json(m) if m["type"] == "connection_ack"));
    put(
        &mut socket,
        json!({ "id": "bad", "type": "subscribe", "payload": { "query": "{ noSuchField }" } }),
    )
    .await;
    let Frame::Json(refused) = next(&mut socket).await else {
        panic!("an error message");
    };
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "bad");
    assert!(refused["payload"][0]["message"].is_string(), "{refused}");

    // No complete follows; the socket still answers, and the id may be used again.
    put(&mut socket, json!({ "type": "ping" })).await;
    assert_eq!(
        next(&mut socket).await,
        Frame::Json(json!({ "type": "pong" }))
    );
    put(
        &mut socket,
        json!({ "id": "bad", "type": "subscribe", "payload": { "query": "{ __typename }" } }),
    )
    .await;
    assert_eq!(
        next(&mut socket).await,
        Frame::Json(
            json!({ "type": "next", "id": "bad", "payload": { "data": { "__typename": "Query" } } })
        )
    );
    assert_eq!(
        next(&mut socket).await,
        Frame::Json(json!({ "type": "complete", "id": "bad" }))
    );
}

#[tokio::test]
async fn the_legacy_graphql_ws_protocol_runs_queries_and_subscriptions() {
    let app = live_app().await;
    let fixture = Fixture::new(&app.db);
    let viewer = fixture.user("legacy-viewer", Role::Learner).await;
    let (livestream, host_token, livestream_id) = paid_livestream(&app).await;
    ticket(&app, viewer.id, livestream_id).await;

    // A refused token: connection_error, then the close.
    let mut socket = open(&app, "graphql-ws").await;
    put(&mut socket, init("not-a-token")).await;
    let Frame::Json(refused) = next(&mut socket).await else {
        panic!("connection_error");
    };
    assert_eq!(refused["type"], "connection_error", "{refused}");
    assert_eq!(next(&mut socket).await, Frame::Closed(4403));

    let mut socket = open(&app, "graphql-ws").await;
    put(&mut socket, init(&app.token(viewer.id))).await;
    assert_eq!(
        next(&mut socket).await,
        Frame::Json(json!({ "type": "connection_ack" }))
    );
    put(
        &mut socket,
        json!({ "id": "q", "type": "start", "payload": { "query": "{ __typename }" } }),
    )
    .await;
    assert_eq!(
        next(&mut socket).await,
        Frame::Json(
            json!({ "type": "data", "id": "q", "payload": { "data": { "__typename": "Query" } } })
        )
    );
    assert_eq!(
        next(&mut socket).await,
        Frame::Json(json!({ "type": "complete", "id": "q" }))
    );

    // A subscription: the room's chat arrives as `data`; `stop` is confirmed.
    put(
        &mut socket,
        json!({ "id": "room", "type": "start", "payload": events(&livestream) }),
    )
    .await;
    let started = app
        .mutate(
            &host_token,
            "mutation($l: ID!) { startLivestream(input: {livestream: $l}) { livestream { status } } }",
            json!({ "l": livestream }),
        )
        .await;
    assert_eq!(started["livestream"]["status"], "LIVE", "{started}");
    let sent = send(&app, &host_token, &livestream, "大家好", "legacy-1").await;
    assert!(sent["message"]["body"].is_string(), "{sent}");
    loop {
        let Frame::Json(message) = next(&mut socket).await else {
            panic!("an event");
        };
        assert_eq!(message["type"], "data", "{message}");
        assert_eq!(message["id"], "room");
        let event = &message["payload"]["data"]["livestreamEvents"];
        if event["kind"] == "MESSAGE_POSTED" {
            assert_eq!(event["message"]["body"], "大家好");
            assert!(
                event["message"]["author"]["nickname"].is_string(),
                "{event}"
            );
            break;
        }
    }
    put(&mut socket, json!({ "id": "room", "type": "stop" })).await;
    loop {
        match next(&mut socket).await {
            Frame::Json(message) if message["type"] == "complete" => {
                assert_eq!(message["id"], "room");
                break;
            }
            // Events already on their way may come first.
            Frame::Json(message) => assert_eq!(message["type"], "data", "{message}"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
