//! The messenger against a local server that answers as WeChat's stable_token and
//! message APIs do (tokens expire when told to; 43101 for users who did not subscribe).

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::*;

const APPID: &str = "wx-mp";
const SECRET: &str = "mp-secret";

#[derive(Default)]
struct Fake {
    /// `force_refresh` of every stable_token call.
    token_calls: Vec<bool>,
    /// Tokens WeChat still accepts.
    valid: HashSet<String>,
    /// Every message accepted: (path, body).
    sent: Vec<(String, Value)>,
}

type Shared = Arc<Mutex<Fake>>;

async fn stable_token(State(fake): State<Shared>, Json(body): Json<Value>) -> String {
    let mut fake = fake.lock().unwrap();
    if body["appid"] != APPID || body["grant_type"] != "client_credential" {
        return json!({ "errcode": 40013, "errmsg": "invalid appid" }).to_string();
    }
    if body["secret"] != SECRET {
        return json!({ "errcode": 40125, "errmsg": "invalid appsecret" }).to_string();
    }
    let force = body["force_refresh"].as_bool().unwrap_or(false);
    fake.token_calls.push(force);
    let token = format!("token-{}", fake.token_calls.len());
    fake.valid.insert(token.clone());
    json!({ "access_token": token, "expires_in": 7200 }).to_string()
}

async fn send(
    path: &'static str,
    State(fake): State<Shared>,
    Query(query): Query<BTreeMap<String, String>>,
    Json(body): Json<Value>,
) -> String {
    let mut fake = fake.lock().unwrap();
    let token = query.get("access_token").cloned().unwrap_or_default();
    if !fake.valid.contains(&token) {
        return json!({ "errcode": 42001, "errmsg": "access_token expired" }).to_string();
    }
    let answer = match body["touser"].as_str().unwrap_or_default() {
        "not-subscribed" => json!({ "errcode": 43101, "errmsg": "user refuse to accept the msg" }),
        "busy" => json!({ "errcode": -1, "errmsg": "system error" }),
        "garbled" => return "<html>".to_owned(),
        _ => {
            fake.sent.push((path.to_owned(), body.clone()));
            json!({ "errcode": 0, "errmsg": "ok", "msgid": fake.sent.len() })
        }
    };
    answer.to_string()
}

async fn start() -> (String, Shared) {
    let fake: Shared = Arc::default();
    let app = Router::new()
        .route("/cgi-bin/stable_token", post(stable_token))
        .route(
            "/cgi-bin/message/subscribe/send",
            post(|s, q, b| send("subscribe", s, q, b)),
        )
        .route(
            "/cgi-bin/message/template/send",
            post(|s, q, b| send("template", s, q, b)),
        )
        .with_state(Arc::clone(&fake));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, fake)
}

fn messenger(base: &str, secret: &str) -> Arc<Messenger> {
    let credentials = AppCredentials {
        appid: APPID.into(),
        secret: Some(Secret::new(secret)),
    };
    Arc::new(
        Messenger::new(
            base,
            Duration::from_secs(2),
            credentials.clone(),
            credentials,
        )
        .unwrap(),
    )
}

fn message(openid: &str, channel: Channel) -> OutgoingMessage {
    OutgoingMessage {
        channel,
        openid: openid.into(),
        template_id: "TPL-PAID".into(),
        page: Some("pages/order/detail?id=1".into()),
        values: BTreeMap::from([
            (
                "thing1".to_owned(),
                "从零开始的 Rust 异步编程：tokio、axum 与 async-graphql 实战".to_owned(),
            ),
            ("amount2".to_owned(), fields::amount(9900)),
        ]),
    }
}

#[tokio::test]
async fn concurrent_sends_share_one_token_and_one_refresh() {
    let (base, fake) = start().await;
    let messenger = messenger(&base, SECRET);
    let sends = (0..50).map(|n| {
        let messenger = Arc::clone(&messenger);
        tokio::spawn(async move {
            messenger
                .send(&message(&format!("user-{n}"), Channel::MiniProgram))
                .await
        })
    });
    for send in futures_util::future::join_all(sends).await {
        assert_eq!(send.unwrap(), SendOutcome::Sent);
    }
    assert_eq!(
        fake.lock().unwrap().token_calls,
        vec![false],
        "one fetch for 50 sends"
    );

    // The token expires at WeChat mid-run: the next sends refresh it once, together.
    fake.lock().unwrap().valid.clear();
    let sends = (0..20).map(|n| {
        let messenger = Arc::clone(&messenger);
        tokio::spawn(async move {
            messenger
                .send(&message(&format!("again-{n}"), Channel::MiniProgram))
                .await
        })
    });
    for send in futures_util::future::join_all(sends).await {
        assert_eq!(send.unwrap(), SendOutcome::Sent);
    }
    let fake = fake.lock().unwrap();
    assert_eq!(fake.token_calls, vec![false, true], "one forced refresh");
    assert_eq!(fake.sent.len(), 70);
    // Values fitted to the template's rules.
    let (path, body) = &fake.sent[0];
    assert_eq!(path, "subscribe");
    let title = body["data"]["thing1"]["value"].as_str().unwrap();
    assert_eq!(title.chars().count(), 20);
    assert_eq!(body["data"]["amount2"]["value"], "99.00元");
    assert_eq!(body["template_id"], "TPL-PAID");
    assert_eq!(body["page"], "pages/order/detail?id=1");
}

#[tokio::test]
async fn refusals_are_final_and_troubles_are_retried() {
    let (base, fake) = start().await;
    let messenger = messenger(&base, SECRET);
    assert!(matches!(
        messenger
            .send(&message("not-subscribed", Channel::MiniProgram))
            .await,
        SendOutcome::Refused { errcode: 43101, .. }
    ));
    for troubled in ["busy", "garbled"] {
        assert!(
            matches!(
                messenger
                    .send(&message(troubled, Channel::MiniProgram))
                    .await,
                SendOutcome::Retry { .. }
            ),
            "{troubled}"
        );
    }
    let template = messenger
        .send(&message("follower", Channel::OfficialAccount))
        .await;
    assert_eq!(template, SendOutcome::Sent);
    let fake = fake.lock().unwrap();
    let (path, body) = fake.sent.last().unwrap();
    assert_eq!(path, "template");
    assert_eq!(body["miniprogram"]["appid"], APPID);
    assert_eq!(body["miniprogram"]["pagepath"], "pages/order/detail?id=1");
}

#[tokio::test]
async fn wrong_credentials_send_nothing_and_say_why() {
    let (base, fake) = start().await;
    let messenger = messenger(&base, "not-the-secret");
    let outcome = messenger.send(&message("user", Channel::MiniProgram)).await;
    let SendOutcome::Retry { reason } = outcome else {
        panic!("{outcome:?}");
    };
    assert!(reason.contains("40125"), "{reason}");
    assert!(!reason.contains("not-the-secret"));
    assert!(fake.lock().unwrap().sent.is_empty());
}
