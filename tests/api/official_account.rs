//! Official-account (H5) sign-in against a local server that answers as WeChat's OAuth
//! API does, and one person across the mini-program and the official account.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use base64::Engine;
use entity::enums::{CourseStatus, IdentityApp, Role};
use entity::{course, entitlement, order, rating, user, user_identity};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{Fixture, TestApp, gid};

const OA_APPID: &str = "wx-oa-test";
const OA_SECRET: &str = "oa-secret-never-logged";
/// The website app (the console's QR sign-in), which WeChat serves alike.
pub const WEB_APPID: &str = "wx-web-test";
const WEB_SECRET: &str = "web-secret-never-logged";
const MP_APPID: &str = "wx-mp-test";
const REDIRECT: &str = "https://h5.zhiku.example/signed-in";

/// WeChat's OAuth and code2Session, as far as these tests go: codes are single use
/// (40163 on reuse), the app's id and secret are required, and userinfo wants the
/// access token issued for the openid.
async fn fake_wechat() -> String {
    let used = Arc::new(Mutex::new(HashSet::<String>::new()));
    let tokens = Arc::new(Mutex::new(HashMap::<String, String>::new()));
    let (used_oa, tokens_oa, tokens_info) = (used.clone(), tokens.clone(), tokens.clone());
    let app = Router::new()
        .route(
            "/sns/oauth2/access_token",
            get(move |Query(q): Query<HashMap<String, String>>| {
                let (used, tokens) = (used_oa.clone(), tokens_oa.clone());
                async move {
                    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
                    let secret = match get("appid").as_str() {
                        OA_APPID => OA_SECRET,
                        WEB_APPID => WEB_SECRET,
                        _ => "",
                    };
                    let body = if secret.is_empty() {
                        r#"{"errcode":40013,"errmsg":"invalid appid"}"#.to_owned()
                    } else if get("secret") != secret {
                        r#"{"errcode":40125,"errmsg":"invalid appsecret"}"#.to_owned()
                    } else if get("grant_type") != "authorization_code" {
                        r#"{"errcode":40002,"errmsg":"invalid grant_type"}"#.to_owned()
                    } else {
                        let code = get("code");
                        oauth_answer(&code, &used, &tokens).await
                    };
                    ([("content-type", "text/plain")], body)
                }
            }),
        )
        .route(
            "/sns/userinfo",
            get(move |Query(q): Query<HashMap<String, String>>| {
                let tokens = tokens_info.clone();
                async move {
                    let token = q.get("access_token").cloned().unwrap_or_default();
                    let openid = q.get("openid").cloned().unwrap_or_default();
                    let issued = tokens.lock().unwrap().get(&token).cloned();
                    let body = match issued {
                        Some(owner) if owner == openid => json!({
                            "openid": openid, "nickname": format!("昵称{openid}"),
                            "headimgurl": format!("https://thirdwx.qlogo.cn/{openid}/132"),
                            "privilege": []
                        })
                        .to_string(),
                        _ => r#"{"errcode":40001,"errmsg":"invalid credential"}"#.to_owned(),
                    };
                    ([("content-type", "text/plain")], body)
                }
            }),
        )
        .route(
            "/sns/jscode2session",
            get(move |Query(q): Query<HashMap<String, String>>| async move {
                let code = q.get("js_code").cloned().unwrap_or_default();
                let body = match code.split_once(':') {
                    // `<openid>:<unionid>` or `<openid>:` for none.
                    Some((openid, "")) => json!({ "openid": openid, "session_key": "k" }),
                    Some((openid, unionid)) => {
                        json!({ "openid": openid, "unionid": unionid, "session_key": "k" })
                    }
                    None => json!({ "errcode": 40029, "errmsg": "invalid code" }),
                };
                ([("content-type", "text/plain")], body.to_string())
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// Codes: `base:<openid>[:<unionid>]`, `info:<openid>`, `login:<openid>[:<unionid>]`
/// (the website app's scope), `snapshot`, `err<n>`, `malformed`, `slow`.
async fn oauth_answer(
    code: &str,
    used: &Mutex<HashSet<String>>,
    tokens: &Mutex<HashMap<String, String>>,
) -> String {
    if code.is_empty() {
        return r#"{"errcode":41008,"errmsg":"missing code"}"#.to_owned();
    }
    if !used.lock().unwrap().insert(code.to_owned()) {
        return r#"{"errcode":40163,"errmsg":"code been used"}"#.to_owned();
    }
    match code {
        "snapshot" => json!({
            "access_token": "t-snap", "expires_in": 7200, "refresh_token": "r",
            "openid": "virtual", "scope": "snsapi_base", "is_snapshotuser": 1
        })
        .to_string(),
        "malformed" => "<html>502</html>".to_owned(),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            "{}".to_owned()
        }
        code if code.starts_with("err") => {
            format!(r#"{{"errcode":{},"errmsg":"nope"}}"#, &code[3..])
        }
        code => {
            let mut parts = code.split(':');
            let (scope, openid, unionid) = (
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
                parts.next(),
            );
            let token = format!("web-token-{openid}");
            tokens
                .lock()
                .unwrap()
                .insert(token.clone(), openid.to_owned());
            let mut answer = json!({
                "access_token": token, "expires_in": 7200, "refresh_token": "r",
                "openid": openid,
                "scope": match scope {
                    "info" => "snsapi_userinfo",
                    "login" => "snsapi_login",
                    _ => "snsapi_base",
                },
            });
            if let Some(unionid) = unionid {
                answer["unionid"] = json!(unionid);
            }
            answer.to_string()
        }
    }
}

/// The app with the mini-program, the official account and the website app all
/// pointed at the fake WeChat.
pub async fn spawn() -> TestApp {
    let base = fake_wechat().await;
    TestApp::spawn_configured(|settings| {
        settings.auth.wechat_api_base = base;
        settings.auth.wechat_appid = MP_APPID.into();
        settings.auth.wechat_secret = Some(zhiku::config::Secret::new("mp-secret"));
        settings.auth.oa_appid = OA_APPID.into();
        settings.auth.oa_secret = Some(zhiku::config::Secret::new(OA_SECRET));
        settings.auth.oa_redirect_uris = vec!["https://h5.zhiku.example/".into()];
        settings.auth.web_appid = WEB_APPID.into();
        settings.auth.web_secret = Some(zhiku::config::Secret::new(WEB_SECRET));
        settings.auth.web_redirect_uris = vec!["https://console.zhiku.example/console/".into()];
        settings.auth.wechat_timeout_ms = 1_000;
    })
    .await
}

const AUTHORIZE: &str = r#"query($r: String!, $s: OfficialAccountScope, $st: String) {
  officialAccountAuthorizeUrl(redirectUri: $r, scope: $s, state: $st)
}"#;
const LOGIN_OA: &str = r#"mutation($code: String!, $state: String!) {
  loginWithOfficialAccount(input: {code: $code, state: $state}) {
    accessToken refreshToken viewer { id nickname avatarUrl }
    userErrors { field code message }
  }
}"#;
const LOGIN_MP: &str = r#"mutation($code: String!) {
  loginWithWechat(input: {code: $code}) { accessToken viewer { id } userErrors { code } }
}"#;

/// A fresh signed state, from the authorize URL the API builds.
async fn state(app: &TestApp) -> String {
    let url = app
        .data(AUTHORIZE, json!({ "r": REDIRECT, "st": "course-7" }))
        .await["officialAccountAuthorizeUrl"]
        .as_str()
        .expect("url")
        .to_owned();
    let parsed = url::Url::parse(&url).expect("a URL");
    parsed
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state")
}

async fn login_oa(app: &TestApp, code: &str) -> Value {
    let state = state(app).await;
    app.data(LOGIN_OA, json!({ "code": code, "state": state }))
        .await["loginWithOfficialAccount"]
        .clone()
}

/// The `aud` claim of an access token.
pub fn audience(token: &str) -> String {
    let claims = token.split('.').nth(1).expect("a JWT");
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims)
        .expect("base64");
    let claims: Value = serde_json::from_slice(&claims).expect("JSON");
    claims["aud"].as_str().unwrap_or_default().to_owned()
}

async fn identities_of(app: &TestApp, user_id: i64) -> Vec<(IdentityApp, String)> {
    let mut found: Vec<_> = user_identity::Entity::find()
        .filter(user_identity::Column::UserId.eq(user_id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.app, i.openid))
        .collect();
    found.sort_by_key(|(app, _)| *app == IdentityApp::OfficialAccount);
    found
}

fn user_id(payload: &Value) -> i64 {
    let id = payload["viewer"]["id"].as_str().expect("viewer id");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(id)
        .expect("global id");
    String::from_utf8(decoded)
        .expect("utf-8")
        .rsplit(':')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("numeric id")
}

#[tokio::test]
async fn the_authorize_url_is_wechats_and_only_for_allowed_redirects() {
    let app = spawn().await;
    let url = app
        .data(
            AUTHORIZE,
            json!({ "r": REDIRECT, "s": "USER_INFO", "st": "course-7" }),
        )
        .await["officialAccountAuthorizeUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with("https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx-oa-test&redirect_uri=https%3A%2F%2Fh5.zhiku.example%2Fsigned-in&response_type=code&scope=snsapi_userinfo&state=course-7."), "{url}");
    assert!(url.ends_with("#wechat_redirect"));
    for (redirect, client_state) in [
        ("https://evil.example/steal", "x"),
        ("https://h5.zhiku.example.evil.example/", "x"),
        (REDIRECT, "has spaces"),
    ] {
        let answer = app
            .gql(AUTHORIZE, json!({ "r": redirect, "st": client_state }))
            .await;
        assert_eq!(answer["data"], Value::Null, "{redirect}");
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{redirect}: {answer}"
        );
    }
}

#[tokio::test]
async fn h5_sign_in_gives_h5_tokens_and_refuses_forged_replayed_and_snapshot_states() {
    let app = spawn().await;
    let state_once = state(&app).await;
    let first = app
        .data(
            LOGIN_OA,
            json!({ "code": "base:oa-1", "state": state_once }),
        )
        .await["loginWithOfficialAccount"]
        .clone();
    assert_eq!(first["userErrors"], json!([]), "{first}");
    assert_eq!(audience(first["accessToken"].as_str().unwrap()), "zhiku-h5");
    let id = user_id(&first);
    assert_eq!(
        identities_of(&app, id).await,
        vec![(IdentityApp::OfficialAccount, "oa-1".to_owned())]
    );
    // The H5 token works on the API.
    let (status, viewer) = app
        .gql_as(
            first["accessToken"].as_str().unwrap(),
            "{ viewer { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        (status, &viewer["data"]["viewer"]["id"]),
        (200, &first["viewer"]["id"])
    );

    // The same state again (with a fresh code), a forged one, an altered one.
    let mut forged = state_once.clone();
    forged.replace_range(0..6, "course");
    let altered = state_once.replacen("course-7", "course-8", 1);
    for (name, state) in [
        ("replayed", state_once.clone()),
        (
            "forged",
            "course-7.ffffffff.0011223344556677.AAAA".to_owned(),
        ),
        ("altered", altered),
    ] {
        let refused = app
            .data(
                LOGIN_OA,
                json!({ "code": format!("base:oa-{name}"), "state": state }),
            )
            .await["loginWithOfficialAccount"]
            .clone();
        assert_eq!(refused["accessToken"], Value::Null, "{name}");
        assert_eq!(
            refused["userErrors"][0]["code"], "INVALID_TOKEN",
            "{name}: {refused}"
        );
        assert_eq!(
            refused["userErrors"][0]["field"],
            json!(["input", "state"]),
            "{name}"
        );
    }
    // WeChat's refusals are typed, and create nobody.
    let users_before = user::Entity::find().count(&app.db).await.unwrap();
    for (code, expected) in [
        ("base:oa-1", "CODE_USED"),
        ("snapshot", "SNAPSHOT_USER"),
        ("err40029", "INVALID_CODE"),
        ("err-1", "WECHAT_BUSY"),
        ("err50001", "WECHAT_UNAVAILABLE"),
        ("malformed", "WECHAT_UNAVAILABLE"),
        ("slow", "WECHAT_UNAVAILABLE"),
    ] {
        let refused = login_oa(&app, code).await;
        assert_eq!(refused["accessToken"], Value::Null, "{code}");
        assert_eq!(
            refused["userErrors"][0]["code"], expected,
            "{code}: {refused}"
        );
    }
    assert_eq!(
        user::Entity::find().count(&app.db).await.unwrap(),
        users_before
    );
}

#[tokio::test]
async fn user_info_scope_fills_the_profile() {
    let app = spawn().await;
    let signed_in = login_oa(&app, "info:oa-9").await;
    assert_eq!(signed_in["viewer"]["nickname"], "昵称oa-9", "{signed_in}");
    let stored = user::Entity::find_by_id(user_id(&signed_in))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.avatar_url.as_deref(),
        Some("https://thirdwx.qlogo.cn/oa-9/132")
    );
}

#[tokio::test]
async fn one_unionid_in_two_apps_is_one_user() {
    let app = spawn().await;
    let mp = app.data(LOGIN_MP, json!({ "code": "o-mp:u-1" })).await["loginWithWechat"].clone();
    let oa = login_oa(&app, "base:oa-2:u-1").await;
    assert_eq!(mp["viewer"]["id"], oa["viewer"]["id"], "{mp} {oa}");
    assert_eq!(user::Entity::find().count(&app.db).await.unwrap(), 1);
    assert_eq!(
        identities_of(&app, user_id(&oa)).await,
        vec![
            (IdentityApp::MiniProgram, "o-mp".to_owned()),
            (IdentityApp::OfficialAccount, "oa-2".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_late_unionid_merges_two_users_and_loses_nothing() {
    let app = spawn().await;
    let fixture = Fixture::new(&app.db);
    let creator = fixture.creator("merge").await;
    let both = fixture
        .course(
            &creator,
            1,
            "Both bought",
            "tech",
            900,
            CourseStatus::Published,
        )
        .await;
    let only_mp = fixture
        .course(
            &creator,
            2,
            "Mini-program only",
            "tech",
            900,
            CourseStatus::Published,
        )
        .await;
    // A mini-program user without a unionid, and an official-account user with one.
    let mp = app.data(LOGIN_MP, json!({ "code": "o-late:" })).await["loginWithWechat"].clone();
    let oa = login_oa(&app, "base:oa-late:u-late").await;
    let (mp_id, oa_id) = (user_id(&mp), user_id(&oa));
    assert_ne!(
        mp_id, oa_id,
        "separate until the unionid shows they are one"
    );
    for (user, course) in [(mp_id, both.id), (mp_id, only_mp.id), (oa_id, both.id)] {
        fixture.entitlement(user, course).await;
    }
    let rate = r#"mutation($c: ID!, $s: Int!) { rateCourse(input: {course: $c, stars: $s}) { userErrors { code } } }"#;
    // The official-account user rates last, so theirs is the newer rating.
    for (user, course, stars) in [
        (mp_id, both.id, 2),
        (mp_id, only_mp.id, 4),
        (oa_id, both.id, 5),
    ] {
        let token = app.token(user);
        app.mutate(
            &token,
            rate,
            json!({ "c": gid("Course", course), "s": stars }),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let unpaid = fixture
        .course(&creator, 3, "Pending", "tech", 900, CourseStatus::Published)
        .await;
    let ordered = app
        .mutate(
            mp["accessToken"].as_str().unwrap(),
            r#"mutation($p: ID!) { createOrder(input: {product: $p, idempotencyKey: "merge-1"}) { order { id } userErrors { code } } }"#,
            json!({ "p": gid("Course", unpaid.id) }),
        )
        .await;
    assert_eq!(ordered["userErrors"], json!([]), "{ordered}");
    // The same product, with the same retry key, from the H5 page: two open orders.
    let ordered_h5 = app
        .mutate(
            oa["accessToken"].as_str().unwrap(),
            r#"mutation($p: ID!) { createOrder(input: {product: $p, idempotencyKey: "merge-1"}) { order { id } userErrors { code } } }"#,
            json!({ "p": gid("Course", unpaid.id) }),
        )
        .await;
    assert_eq!(ordered_h5["userErrors"], json!([]), "{ordered_h5}");

    // The mini-program now reports the unionid: one person, one user.
    let again =
        app.data(LOGIN_MP, json!({ "code": "o-late:u-late" })).await["loginWithWechat"].clone();
    assert_eq!(
        user_id(&again),
        oa_id,
        "the user who held the unionid stays: {again}"
    );
    assert!(
        user::Entity::find_by_id(mp_id)
            .one(&app.db)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        identities_of(&app, oa_id).await,
        vec![
            (IdentityApp::MiniProgram, "o-late".to_owned()),
            (IdentityApp::OfficialAccount, "oa-late".to_owned())
        ]
    );
    let held: Vec<i64> = entitlement::Entity::find()
        .filter(entitlement::Column::UserId.eq(oa_id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.product_id)
        .collect();
    assert_eq!(
        held.len(),
        2,
        "one entitlement per course, none lost: {held:?}"
    );
    assert!(held.contains(&both.id) && held.contains(&only_mp.id));
    let ratings: HashMap<i64, i32> = rating::Entity::find()
        .filter(rating::Column::UserId.eq(oa_id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.course_id, r.stars))
        .collect();
    assert_eq!(
        ratings,
        HashMap::from([(both.id, 5), (only_mp.id, 4)]),
        "the newer rating stays"
    );
    let counters = course::Entity::find_by_id(both.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((counters.rating_count, counters.rating_sum), (1, 5));
    let orders = order::Entity::find()
        .filter(order::Column::BuyerId.eq(oa_id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(orders.len(), 2, "both orders kept: {orders:?}");
    let open: Vec<_> = orders
        .iter()
        .filter(|o| o.status == entity::enums::OrderStatus::Pending)
        .collect();
    assert_eq!(open.len(), 1, "one open order per product: {orders:?}");
    assert_ne!(orders[0].idempotency_key, orders[1].idempotency_key);
    // The absorbed user's old token no longer works; the merged user's does.
    let (_, old) = app
        .gql_as(&app.token(mp_id), "{ viewer { id } }", json!({}))
        .await;
    assert_ne!(old["data"]["viewer"]["id"], again["viewer"]["id"], "{old}");
    let role = user::Entity::find_by_id(oa_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .role;
    assert_eq!(role, Role::Learner);
}

#[tokio::test]
async fn concurrent_first_sign_ins_of_one_person_make_one_user() {
    let app = spawn().await;
    let mut states = Vec::new();
    for _ in 0..8 {
        states.push(state(&app).await);
    }
    // Eight tabs finish signing in at once: one openid, eight codes.
    let logins = states.into_iter().enumerate().map(|(n, state)| {
        let app = &app;
        async move {
            app.data(
                LOGIN_OA,
                json!({ "code": format!("base:oa-race:u-race:{n}"), "state": state }),
            )
            .await["loginWithOfficialAccount"]
                .clone()
        }
    });
    let results = futures_util::future::join_all(logins).await;
    let ids: HashSet<i64> = results.iter().map(user_id).collect();
    assert_eq!(ids.len(), 1, "{results:?}");
    assert_eq!(user::Entity::find().count(&app.db).await.unwrap(), 1);
    assert_eq!(
        user_identity::Entity::find().count(&app.db).await.unwrap(),
        1
    );
}
