//! WeChat login against a local server that answers as code2Session does, and the
//! refresh-token lifecycle.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use entity::user;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// A fake WeChat API on port 0; records the query of every call.
pub async fn fake_wechat() -> (String, Arc<Mutex<Vec<HashMap<String, String>>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&calls);
    let app = Router::new().route(
        "/sns/jscode2session",
        get(move |Query(query): Query<HashMap<String, String>>| {
            let seen = Arc::clone(&seen);
            async move {
                seen.lock().unwrap().push(query.clone());
                let code = query.get("js_code").cloned().unwrap_or_default();
                // WeChat answers JSON as text/plain.
                let body = match code.as_str() {
                    "slow" => {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        r#"{"openid":"late","session_key":"k"}"#.to_owned()
                    }
                    "malformed" => "<html>502 Bad Gateway</html>".to_owned(),
                    "zero" => r#"{"errcode":0,"errmsg":"ok","openid":"o-zero","session_key":"SECRET-SESSION-KEY"}"#.to_owned(),
                    code if code.starts_with("err") => {
                        format!(r#"{{"errcode":{},"errmsg":"nope"}}"#, &code[3..])
                    }
                    code if code.starts_with("union-") => format!(
                        r#"{{"openid":"o-{}","unionid":"u-shared","session_key":"SECRET-SESSION-KEY"}}"#,
                        &code[6..]
                    ),
                    code => format!(r#"{{"openid":"o-{code}","session_key":"SECRET-SESSION-KEY"}}"#),
                };
                ([("content-type", "text/plain")], body)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, calls)
}

/// Signs in with a code (`o-{code}` becomes the openid).
pub const LOGIN: &str = r#"mutation($code: String!) {
  loginWithWechat(input: {code: $code}) {
    accessToken refreshToken accessTokenExpiresAt
    viewer { id role }
    userErrors { field message code }
  }
}"#;

/// Exchanges a refresh token.
pub const REFRESH: &str = r#"mutation($t: String!) {
  refreshToken(input: {refreshToken: $t}) { accessToken refreshToken userErrors { code } }
}"#;

#[tokio::test]
async fn login_creates_the_user_once_and_returns_working_tokens() {
    let (base, calls) = fake_wechat().await;
    let app = TestApp::spawn_with_wechat(base).await;
    let first = app.data(LOGIN, json!({ "code": "alice" })).await["loginWithWechat"].clone();
    assert_eq!(first["userErrors"], json!([]));
    assert_eq!(first["viewer"]["role"], "LEARNER");
    let again = app.data(LOGIN, json!({ "code": "alice" })).await["loginWithWechat"].clone();
    assert_eq!(again["viewer"]["id"], first["viewer"]["id"]);
    assert_eq!(user::Entity::find().count(&app.db).await.unwrap(), 1);

    let (status, body) = app
        .gql_as(
            first["accessToken"].as_str().unwrap(),
            "{ viewer { id } }",
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["viewer"]["id"], first["viewer"]["id"]);

    // The call carried our app id, secret and the code; the session key went nowhere.
    let call = calls.lock().unwrap()[0].clone();
    assert_eq!(call["appid"], "wx-test-app");
    assert_eq!(call["secret"], "wechat-test-secret");
    assert_eq!(call["js_code"], "alice");
    assert_eq!(call["grant_type"], "authorization_code");
    assert!(!first.to_string().contains("SECRET-SESSION-KEY"));
}

#[tokio::test]
async fn unionid_matches_the_same_person_across_openids() {
    let (base, _) = fake_wechat().await;
    let app = TestApp::spawn_with_wechat(base).await;
    let a = app.data(LOGIN, json!({ "code": "union-a" })).await["loginWithWechat"].clone();
    let b = app.data(LOGIN, json!({ "code": "union-b" })).await["loginWithWechat"].clone();
    assert_eq!(a["viewer"]["id"], b["viewer"]["id"]);
    assert_eq!(user::Entity::find().count(&app.db).await.unwrap(), 1);
    // errcode 0 is success too.
    let zero = app.data(LOGIN, json!({ "code": "zero" })).await["loginWithWechat"].clone();
    assert_eq!(zero["userErrors"], json!([]));
}

#[tokio::test]
async fn wechat_failures_are_typed_user_errors_and_create_nobody() {
    let (base, _) = fake_wechat().await;
    let app = TestApp::spawn_with_wechat(base).await;
    let cases = [
        ("err40029", "INVALID_CODE"),
        ("err45011", "RATE_LIMITED"),
        ("err40226", "RISKY_USER"),
        ("err-1", "WECHAT_BUSY"),
        ("err99999", "WECHAT_UNAVAILABLE"),
        ("malformed", "WECHAT_UNAVAILABLE"),
        ("slow", "WECHAT_UNAVAILABLE"),
        ("", "REQUIRED"),
    ];
    for (code, expected) in cases {
        let payload = app.data(LOGIN, json!({ "code": code })).await["loginWithWechat"].clone();
        assert_eq!(payload["accessToken"], Value::Null, "case {code}");
        assert_eq!(
            payload["userErrors"][0]["code"], expected,
            "case {code}: {payload}"
        );
        assert_eq!(
            payload["userErrors"][0]["field"],
            json!(["input", "code"]),
            "case {code}"
        );
    }
    assert_eq!(user::Entity::find().count(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn refresh_tokens_rotate_are_single_use_and_reuse_ends_every_session() {
    let (base, _) = fake_wechat().await;
    let app = TestApp::spawn_with_wechat(base).await;
    let login = app.data(LOGIN, json!({ "code": "bob" })).await["loginWithWechat"].clone();
    let first = login["refreshToken"].as_str().unwrap().to_owned();

    let rotated = app.data(REFRESH, json!({ "t": first })).await["refreshToken"].clone();
    assert_eq!(rotated["userErrors"], json!([]));
    let second = rotated["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(second, first);

    // The first token is spent; showing it again revokes the whole family.
    let reused = app.data(REFRESH, json!({ "t": first })).await["refreshToken"].clone();
    assert_eq!(reused["userErrors"][0]["code"], "INVALID_TOKEN");
    let after = app.data(REFRESH, json!({ "t": second })).await["refreshToken"].clone();
    assert_eq!(after["userErrors"][0]["code"], "INVALID_TOKEN", "{after}");

    // Logout revokes.
    let fresh = app.data(LOGIN, json!({ "code": "bob" })).await["loginWithWechat"].clone();
    let token = fresh["refreshToken"].as_str().unwrap().to_owned();
    let out = app
        .data(
            "mutation($t: String) { logout(input: {refreshToken: $t}) { ok } }",
            json!({ "t": token }),
        )
        .await;
    assert_eq!(out["logout"]["ok"], true);
    let revoked = app.data(REFRESH, json!({ "t": token })).await["refreshToken"].clone();
    assert_eq!(revoked["userErrors"][0]["code"], "INVALID_TOKEN");
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_give_one_new_session() {
    let (base, _) = fake_wechat().await;
    let app = TestApp::spawn_with_wechat(base).await;
    let login = app.data(LOGIN, json!({ "code": "carol" })).await["loginWithWechat"].clone();
    let token = login["refreshToken"].as_str().unwrap().to_owned();
    let attempts = (0..8).map(|_| {
        let app = &app;
        let token = token.clone();
        async move { app.data(REFRESH, json!({ "t": token })).await["refreshToken"].clone() }
    });
    let results = futures_util::future::join_all(attempts).await;
    let winners = results
        .iter()
        .filter(|r| r["accessToken"].is_string())
        .count();
    assert_eq!(winners, 1, "{results:?}");
}
