//! The console's WeChat QR sign-in (website app): the `qrconnect` address, and
//! `loginWithWebsite` against the fake WeChat, which lets admins and creators in with
//! console tokens and refuses everyone else without making an account.

use entity::enums::Role;
use entity::{refresh_token, user};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, PaginatorTrait, Set};
use serde_json::{Value, json};

use crate::helpers::{Fixture, TestApp};
use crate::official_account::{WEB_APPID, audience, spawn};

const REDIRECT: &str = "https://console.zhiku.example/console/signed-in";
const AUTHORIZE: &str =
    r#"query($r: String!, $st: String) { websiteAuthorizeUrl(redirectUri: $r, state: $st) }"#;
const LOGIN: &str = r#"mutation($code: String!, $state: String!) {
  loginWithWebsite(input: {code: $code, state: $state}) {
    accessToken refreshToken viewer { id role }
    userErrors { field code message }
  }
}"#;

/// A user of `role` whose WeChat unionid is `unionid`.
async fn staff(app: &TestApp, openid: &str, role: Role, unionid: &str) -> user::Model {
    let row = Fixture::new(&app.db).user(openid, role).await;
    let mut active = row.into_active_model();
    active.unionid = Set(Some(unionid.to_owned()));
    active.update(&app.db).await.unwrap()
}

/// The state inside a fresh authorize address.
async fn state(app: &TestApp) -> String {
    let url = app.data(AUTHORIZE, json!({ "r": REDIRECT })).await["websiteAuthorizeUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

async fn login(app: &TestApp, code: &str, state: &str) -> Value {
    app.data(LOGIN, json!({ "code": code, "state": state }))
        .await["loginWithWebsite"]
        .clone()
}

#[tokio::test]
async fn the_qr_address_is_wechats_qrconnect_for_allowed_redirects_only() {
    let app = spawn().await;
    let url = app
        .data(AUTHORIZE, json!({ "r": REDIRECT, "st": "orders" }))
        .await["websiteAuthorizeUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let parsed = url::Url::parse(&url).unwrap();
    assert_eq!(parsed.path(), "/connect/qrconnect");
    assert_eq!(parsed.fragment(), Some("wechat_redirect"));
    let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        ["appid", "redirect_uri", "response_type", "scope", "state"]
    );
    assert_eq!(pairs[0].1, WEB_APPID);
    assert_eq!(pairs[1].1, REDIRECT);
    assert_eq!(pairs[3].1, "snsapi_login");
    assert!(pairs[4].1.starts_with("orders."));

    let refused = app
        .gql(AUTHORIZE, json!({ "r": "https://evil.example/console/" }))
        .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("ZHIKU_WEB_REDIRECT_URIS")
    );
}

#[tokio::test]
async fn admins_and_creators_get_console_tokens_and_nobody_else_gets_in() {
    let app = spawn().await;
    let admin = staff(&app, "admin-mp", Role::Admin, "union-admin").await;
    staff(&app, "learner-mp", Role::Learner, "union-learner").await;
    let users_before = user::Entity::find().count(&app.db).await.unwrap();

    let signed = login(&app, "login:web-admin:union-admin", &state(&app).await).await;
    assert_eq!(signed["userErrors"], json!([]), "{signed}");
    assert_eq!(signed["viewer"]["role"], "ADMIN");
    let token = signed["accessToken"].as_str().unwrap();
    assert_eq!(audience(token), "zhiku-console");
    assert!(signed["refreshToken"].is_string());
    // The console token does what only console admins may.
    let (status, users) = app
        .gql_as(token, "{ users(first: 1) { totalCount } }", json!({}))
        .await;
    assert_eq!(status, 200, "{users}");
    assert!(users["data"]["users"]["totalCount"].as_i64().unwrap() >= 2);
    let sessions = refresh_token::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].user_id, admin.id);
    assert_eq!(sessions[0].audience, "console");

    // A learner, and a WeChat account nobody here has, are refused; no account is made.
    for code in [
        "login:web-learner:union-learner",
        "login:web-stranger:union-new",
        "login:web-no-union",
    ] {
        let refused = login(&app, code, &state(&app).await).await;
        assert_eq!(
            refused["userErrors"][0]["code"], "NOT_STAFF",
            "{code}: {refused}"
        );
        assert!(refused["accessToken"].is_null());
    }
    assert_eq!(
        user::Entity::find().count(&app.db).await.unwrap(),
        users_before
    );
    assert_eq!(
        refresh_token::Entity::find().count(&app.db).await.unwrap(),
        1
    );

    // A state works once; one signed for the official account is not ours.
    let once = state(&app).await;
    login(&app, "login:web-admin-2:union-admin", &once).await;
    let again = login(&app, "login:web-admin-3:union-admin", &once).await;
    assert_eq!(again["userErrors"][0]["code"], "INVALID_TOKEN", "{again}");
    let oa_url = app
        .data(
            r#"{ officialAccountAuthorizeUrl(redirectUri: "https://h5.zhiku.example/x") }"#,
            json!({}),
        )
        .await["officialAccountAuthorizeUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let oa_state = url::Url::parse(&oa_url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let foreign = login(&app, "login:web-admin-4:union-admin", &oa_state).await;
    assert_eq!(
        foreign["userErrors"][0]["code"], "INVALID_TOKEN",
        "{foreign}"
    );
}
