//! Live rooms through the real server: signed stream addresses, the
//! graphql-transport-ws subscription with a real WebSocket client, chat and its rules,
//! reconnecting with `afterSequence`, presence, and token expiry on an open socket.

use std::time::Duration;

use chrono::Utc;
use entity::enums::{ProductKind, Role};
use entity::{entitlement, livestream, livestream_message};
use futures_util::{SinkExt, StreamExt};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{Fixture, TestApp, gid};
use zhiku::config::Secret;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A graphql-transport-ws client.
pub struct WsClient {
    socket: Socket,
}

impl WsClient {
    /// Opens a socket to the app and sends `connection_init` (with the token, if any);
    /// returns the client once acknowledged, or the close frame's code.
    pub async fn connect(app: &TestApp, token: Option<&str>) -> Result<WsClient, u16> {
        Self::connect_to(app.addr, token).await
    }

    /// [`WsClient::connect`] to any server.
    pub async fn connect_to(
        addr: std::net::SocketAddr,
        token: Option<&str>,
    ) -> Result<WsClient, u16> {
        let mut request = format!("ws://{addr}/graphql")
            .into_client_request()
            .expect("request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("WebSocket handshake");
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            "graphql-transport-ws"
        );
        let mut client = WsClient { socket };
        let payload = match token {
            Some(token) => json!({ "authorization": format!("Bearer {token}") }),
            None => json!({}),
        };
        client
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        match client.next_frame().await {
            Frame::Json(message) if message["type"] == "connection_ack" => Ok(client),
            Frame::Closed(code) => Err(code),
            other => panic!("unexpected answer to connection_init: {other:?}"),
        }
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("send");
    }

    /// Subscribes `id` to the room's events.
    pub async fn subscribe(&mut self, id: &str, livestream: &str, after: Option<i64>) {
        let query = "subscription($l: ID!, $a: Int) { livestreamEvents(livestream: $l, afterSequence: $a) { \
            sequence kind \
            ... on LivestreamStatusChanged { status } \
            ... on LivestreamMessagePosted { message { id body clientMessageId author { nickname } } } \
            ... on LivestreamViewerCount { viewerCount } \
            ... on LivestreamViewerMuted { user { id } } } }";
        self.send(json!({
            "id": id, "type": "subscribe",
            "payload": { "query": query, "variables": { "l": livestream, "a": after } }
        }))
        .await;
    }

    async fn next_frame(&mut self) -> Frame {
        self.next_frame_within(Duration::from_secs(10)).await
    }

    async fn next_frame_within(&mut self, wait: Duration) -> Frame {
        loop {
            let next = tokio::time::timeout(wait, self.socket.next())
                .await
                .expect("a frame in time");
            match next {
                Some(Ok(Message::Text(text))) => {
                    return Frame::Json(serde_json::from_str(&text).expect("JSON frame"));
                }
                Some(Ok(Message::Close(frame))) => {
                    return Frame::Closed(frame.map(|f| u16::from(f.code)).unwrap_or(1005));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Frame::Closed(1006),
            }
        }
    }

    /// The next `next` payload's event (or the errors), skipping viewer counts unless
    /// `counts`.
    pub async fn next_event(&mut self, counts: bool) -> Value {
        loop {
            match self.next_frame().await {
                Frame::Json(message) if message["type"] == "next" => {
                    let payload = &message["payload"];
                    if payload.get("errors").is_some() {
                        return payload.clone();
                    }
                    let event = payload["data"]["livestreamEvents"].clone();
                    if !counts && event["kind"] == "VIEWER_COUNT" {
                        continue;
                    }
                    return event;
                }
                Frame::Json(message) if message["type"] == "complete" => {
                    return json!({ "complete": true });
                }
                Frame::Json(message) if message["type"] == "ping" => {
                    self.send(json!({ "type": "pong" })).await;
                }
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// Waits for a viewer count of `n`.
    pub async fn until_viewers(&mut self, n: i64) {
        loop {
            let event = self.next_event(true).await;
            if event["kind"] == "VIEWER_COUNT" && event["viewerCount"] == n {
                return;
            }
        }
    }

    /// Waits up to `wait` for a viewer count of `n`, answering nothing else.
    pub async fn until_viewers_within(&mut self, n: i64, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if let Frame::Json(message) = self.next_frame_within(left).await
                && message["payload"]["data"]["livestreamEvents"]["viewerCount"] == n
            {
                return;
            }
        }
    }

    /// Waits for the socket to close and returns its code.
    pub async fn closed(&mut self) -> u16 {
        loop {
            if let Frame::Closed(code) = self.next_frame().await {
                return code;
            }
        }
    }
}

#[derive(Debug)]
enum Frame {
    Json(Value),
    Closed(u16),
}

pub async fn live_app() -> TestApp {
    TestApp::spawn_configured(|settings| {
        let live = &mut settings.server.live;
        live.live_push_domain = "push.example.com".into();
        live.live_play_domain = "play.example.com".into();
        live.live_push_key = Some(Secret::new("push-key"));
        live.live_play_key = Some(Secret::new("play-key"));
    })
    .await
}

/// A scheduled paid livestream (through the API), its owner's token, and its gid.
pub async fn paid_livestream(app: &TestApp) -> (String, String, i64) {
    let fixture = Fixture::new(&app.db);
    let host = fixture.creator("host").await;
    let token = app.token(host.user_id);
    let start = (Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let payload = app
        .mutate(
            &token,
            r#"mutation($s: DateTime!) { scheduleLivestream(input: {title: "直播课", scheduledStart: $s, priceFen: 990}) { livestream { id } userErrors { code } } }"#,
            json!({ "s": start }),
        )
        .await;
    let id = payload["livestream"]["id"].as_str().expect("id").to_owned();
    let row = livestream::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .expect("row");
    (id, token, row.id)
}

pub async fn ticket(app: &TestApp, user_id: i64, livestream_id: i64) {
    entitlement::ActiveModel {
        user_id: Set(user_id),
        product_kind: Set(ProductKind::Livestream),
        product_id: Set(livestream_id),
        granted_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("entitlement");
}

pub async fn send(
    app: &TestApp,
    token: &str,
    livestream: &str,
    body: &str,
    client_id: &str,
) -> Value {
    app.mutate(
        token,
        "mutation($l: ID!, $b: String!, $c: String!) { sendLivestreamMessage(input: {livestream: $l, body: $b, clientMessageId: $c}) { message { id body } userErrors { field code } } }",
        json!({ "l": livestream, "b": body, "c": client_id }),
    )
    .await
}

#[tokio::test]
async fn stream_addresses_are_signed_and_only_for_those_entitled() {
    let app = live_app().await;
    let (id, host_token, row_id) = paid_livestream(&app).await;
    let fixture = Fixture::new(&app.db);
    let buyer = fixture.user("buyer", Role::Learner).await;
    let stranger = fixture.user("stranger", Role::Learner).await;
    ticket(&app, buyer.id, row_id).await;
    let row = livestream::Entity::find_by_id(row_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let stream = row.stream_name.clone().expect("a stream name");
    assert!(
        stream.starts_with(&format!("zk{row_id}_")) && stream.len() > 10,
        "{stream}"
    );

    let query = "query($id: ID!) { node(id: $id) { ... on Livestream { pushUrl playback { rtmp flv hls webrtc expiresAt replay } } } }";
    let (_, body) = app.gql_as(&host_token, query, json!({ "id": id })).await;
    let push = body["data"]["node"]["pushUrl"].as_str().expect("push URL");
    let (base, query_string) = push.split_once('?').expect("signed");
    assert_eq!(base, format!("rtmp://push.example.com/live/{stream}"));
    let time = query_string.split("txTime=").nth(1).expect("txTime");
    let expected = zhiku::live::signing::tx_secret("push-key", &stream, time);
    assert_eq!(query_string, format!("txSecret={expected}&txTime={time}"));
    let expiry = i64::from_str_radix(time, 16).expect("hex time");
    assert!((expiry - (Utc::now().timestamp() + 86_400)).abs() < 60);

    let buyer_token = app.token(buyer.id);
    let (_, body) = app.gql_as(&buyer_token, query, json!({ "id": id })).await;
    let node = &body["data"]["node"];
    assert_eq!(node["pushUrl"], Value::Null, "viewers do not push");
    let flv = node["playback"]["flv"].as_str().expect("FLV");
    let time = flv.split("txTime=").nth(1).expect("txTime");
    let secret = zhiku::live::signing::tx_secret("play-key", &stream, time);
    assert_eq!(
        flv,
        format!("https://play.example.com/live/{stream}.flv?txSecret={secret}&txTime={time}")
    );
    assert!(
        node["playback"]["hls"]
            .as_str()
            .unwrap()
            .contains(".m3u8?txSecret=")
    );
    assert!(
        node["playback"]["webrtc"]
            .as_str()
            .unwrap()
            .starts_with("webrtc://")
    );

    for token in [Some(app.token(stranger.id)), None] {
        let body = match &token {
            Some(token) => app.gql_as(token, query, json!({ "id": id })).await.1,
            None => app.gql(query, json!({ "id": id })).await,
        };
        assert_eq!(body["data"]["node"]["playback"], Value::Null, "{body}");
        assert_eq!(body["data"]["node"]["pushUrl"], Value::Null, "{body}");
    }
}

#[tokio::test]
async fn a_live_room_end_to_end() {
    let app = live_app().await;
    let (id, host_token, row_id) = paid_livestream(&app).await;
    let fixture = Fixture::new(&app.db);
    let alice = fixture.user("alice", Role::Learner).await;
    let bob = fixture.user("bob", Role::Learner).await;
    let stranger = fixture.user("stranger", Role::Learner).await;
    ticket(&app, alice.id, row_id).await;
    ticket(&app, bob.id, row_id).await;
    let (alice_token, bob_token) = (app.token(alice.id), app.token(bob.id));

    // Anonymous and unentitled subscriptions are refused.
    let mut anonymous = WsClient::connect(&app, None)
        .await
        .expect("anonymous connects");
    anonymous.subscribe("1", &id, None).await;
    let refused = anonymous.next_event(false).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{refused}"
    );
    let mut outsider = WsClient::connect(&app, Some(&app.token(stranger.id)))
        .await
        .unwrap();
    outsider.subscribe("1", &id, None).await;
    let refused = outsider.next_event(false).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    // A bad token is refused at connection_init with 4403.
    assert_eq!(
        WsClient::connect(&app, Some("not-a-token")).await.err(),
        Some(4403)
    );

    let mut alice_socket = WsClient::connect(&app, Some(&alice_token)).await.unwrap();
    alice_socket.subscribe("room", &id, None).await;
    alice_socket.until_viewers(1).await;
    // Entering the room is attendance (the dashboard's live funnel); the refused
    // stranger did not enter.
    app.views.flush(&app.db).await.expect("flush");
    let attended: Vec<i64> = entity::livestream_attendance::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|a| a.user_id)
        .collect();
    assert_eq!(attended, [alice.id]);

    // Chat is closed until the livestream is live.
    let early = send(&app, &alice_token, &id, "hello?", "early").await;
    assert_eq!(early["userErrors"][0]["code"], "INVALID_STATE");

    app.mutate(
        &host_token,
        "mutation($l: ID!) { startLivestream(input: {livestream: $l}) { livestream { status } } }",
        json!({ "l": id }),
    )
    .await;
    let event = alice_socket.next_event(false).await;
    assert_eq!(
        (event["kind"].as_str(), event["status"].as_str()),
        (Some("STATUS_CHANGED"), Some("LIVE"))
    );
    assert_eq!(event["sequence"], 1);

    // Three messages and a retry of the first: three rows, three events in order.
    let first = send(&app, &alice_token, &id, "  第一条  ", "m1").await;
    send(&app, &alice_token, &id, "second", "m2").await;
    let retry = send(&app, &alice_token, &id, "第一条", "m1").await;
    assert_eq!(
        retry["message"]["id"], first["message"]["id"],
        "a retry is the same message"
    );
    send(&app, &alice_token, &id, "third", "m3").await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let event = alice_socket.next_event(false).await;
        assert_eq!(event["kind"], "MESSAGE_POSTED", "{event}");
        seen.push((
            event["sequence"].as_i64().unwrap(),
            event["message"]["body"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(
        seen,
        vec![
            (2, "第一条".to_owned()),
            (3, "second".into()),
            (4, "third".into())
        ]
    );
    let stored = livestream_message::Entity::find()
        .filter(livestream_message::Column::LivestreamId.eq(row_id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 3);

    // Bad input changes nothing.
    let blank = send(&app, &alice_token, &id, "   ", "blank").await;
    assert_eq!(blank["userErrors"][0]["code"], "REQUIRED");
    let long = send(&app, &alice_token, &id, &"长".repeat(501), "long").await;
    assert_eq!(long["userErrors"][0]["code"], "TOO_LONG");
    let (_, body) = app
        .gql_as(
            &app.token(stranger.id),
            "mutation($l: ID!) { sendLivestreamMessage(input: {livestream: $l, body: \"hi\", clientMessageId: \"s\"}) { message { id } } }",
            json!({ "l": id }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");

    // Bob joins: two viewers; the burst is five, the sixth at once is refused.
    let mut bob_socket = WsClient::connect(&app, Some(&bob_token)).await.unwrap();
    bob_socket.subscribe("room", &id, None).await;
    alice_socket.until_viewers(2).await;
    let mut codes = Vec::new();
    for n in 0..6 {
        let sent = send(&app, &bob_token, &id, "spam", &format!("b{n}")).await;
        codes.push(
            sent["userErrors"][0]["code"]
                .as_str()
                .unwrap_or("OK")
                .to_owned(),
        );
    }
    assert_eq!(codes, ["OK", "OK", "OK", "OK", "OK", "TOO_FAST"]);

    // The host mutes Bob: Alice sees it, Bob's next message is refused.
    let muted = app
        .mutate(
            &host_token,
            "mutation($l: ID!, $u: ID!) { muteViewer(input: {livestream: $l, user: $u}) { user { id } userErrors { code } } }",
            json!({ "l": id, "u": gid("User", bob.id) }),
        )
        .await;
    assert_eq!(muted["user"]["id"], gid("User", bob.id));
    let mut kinds = Vec::new();
    loop {
        let event = alice_socket.next_event(false).await;
        kinds.push(event["kind"].as_str().unwrap().to_owned());
        if event["kind"] == "VIEWER_MUTED" {
            assert_eq!(event["user"]["id"], gid("User", bob.id));
            assert_eq!(event["sequence"], 10, "five messages of Bob's came before");
            break;
        }
    }
    assert_eq!(kinds.len(), 6);
    tokio::time::sleep(Duration::from_millis(1_100)).await; // a token back in the bucket
    let refused = send(&app, &bob_token, &id, "let me talk", "b-muted").await;
    assert_eq!(refused["userErrors"][0]["code"], "MUTED");

    // Bob leaves: the count falls back to one.
    drop(bob_socket);
    alice_socket.until_viewers(1).await;

    // A reconnecting client gets what it missed after the sequence it saw, in order.
    let mut again = WsClient::connect(&app, Some(&alice_token)).await.unwrap();
    again.subscribe("again", &id, Some(3)).await;
    let mut replayed = Vec::new();
    while replayed.len() < 7 {
        let event = again.next_event(false).await;
        replayed.push(event["sequence"].as_i64().unwrap());
    }
    assert_eq!(replayed, vec![4, 5, 6, 7, 8, 9, 10]);

    // Ending the livestream ends every subscription after the ENDED event.
    app.mutate(
        &host_token,
        "mutation($l: ID!) { endLivestream(input: {livestream: $l}) { livestream { status } } }",
        json!({ "l": id }),
    )
    .await;
    for socket in [&mut alice_socket, &mut again] {
        let event = socket.next_event(false).await;
        assert_eq!(
            (event["kind"].as_str(), event["status"].as_str()),
            (Some("STATUS_CHANGED"), Some("ENDED"))
        );
        assert_eq!(event["sequence"], 11);
        assert_eq!(socket.next_event(false).await, json!({ "complete": true }));
    }
    let row = livestream::Entity::find_by_id(row_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.peak_viewers, 2);
    assert_eq!(row.last_event_sequence, 11);

    // The chat stays readable as a connection for those who may enter.
    let (_, body) = app
        .gql_as(
            &alice_token,
            "query($id: ID!) { node(id: $id) { ... on Livestream { messages(first: 3) { totalCount edges { node { body author { nickname } } } } } } }",
            json!({ "id": id }),
        )
        .await;
    let messages = &body["data"]["node"]["messages"];
    assert_eq!(messages["totalCount"], 8, "{body}");
    assert_eq!(messages["edges"][0]["node"]["body"], "第一条");
    assert_eq!(
        messages["edges"][0]["node"]["author"]["nickname"],
        "nick-alice"
    );
}

#[tokio::test]
async fn a_socket_closes_with_4401_when_its_token_expires() {
    let app = live_app().await;
    let fixture = Fixture::new(&app.db);
    let user = fixture.user("brief", Role::Learner).await;
    // Issued so that it expires, leeway included, about two seconds from now.
    let ttl = app.auth.keys.access_ttl();
    let leeway = zhiku::auth::tokens::LEEWAY_SECS as i64;
    let issued = Utc::now() - ttl - chrono::Duration::seconds(leeway - 2);
    let token = app
        .auth
        .keys
        .issue(
            user.id,
            Role::Learner,
            zhiku::auth::tokens::Audience::MiniProgram,
            issued,
        )
        .expect("token");
    let mut socket = WsClient::connect(&app, Some(&token))
        .await
        .expect("still valid");
    assert_eq!(socket.closed().await, 4401);
}
