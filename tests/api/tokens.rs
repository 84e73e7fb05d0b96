//! Access tokens: every attack is refused with UNAUTHENTICATED; admins need a console
//! token; bans bite at once; the development secret survives restarts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use entity::enums::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use zhiku::auth::AuthState;
use zhiku::auth::tokens::Audience;
use zhiku::config::{AuthConfig, Environment};

use crate::helpers::{Fixture, TEST_JWT_SECRET, TestApp, error_code, gid};

const VIEWER: &str = "{ viewer { id role } }";

fn sign(claims: Value, algorithm: Algorithm, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn claims(user_id: i64) -> Value {
    let now = Utc::now().timestamp();
    json!({
        "sub": user_id.to_string(), "role": "ADMIN", "iss": "zhiku", "aud": "zhiku-console",
        "iat": now, "nbf": now, "exp": now + 3600,
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    if value.is_null() {
        claims.as_object_mut().unwrap().remove(key);
    } else {
        claims[key] = value;
    }
    claims
}

#[tokio::test]
async fn forged_and_broken_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let user = Fixture::new(&app.db).user("victim", Role::Learner).await;
    let good = sign(claims(user.id), Algorithm::HS256, TEST_JWT_SECRET);
    let (status, body) = app.gql_as(&good, VIEWER, json!({})).await;
    assert_eq!(
        (status, &body["data"]["viewer"]["id"]),
        (200, &json!(gid("User", user.id)))
    );

    let now = Utc::now().timestamp();
    let header_none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(user.id).to_string());
    let parts: Vec<&str> = good.split('.').collect();
    let tampered_payload = URL_SAFE_NO_PAD.encode(claims(user.id + 1).to_string());
    let cases: Vec<(&str, String)> = vec![
        ("alg none", format!("{header_none}.{payload}.")),
        (
            "HS512 with the same secret",
            sign(claims(user.id), Algorithm::HS512, TEST_JWT_SECRET),
        ),
        (
            "HS384 with the same secret",
            sign(claims(user.id), Algorithm::HS384, TEST_JWT_SECRET),
        ),
        (
            "another secret",
            sign(
                claims(user.id),
                Algorithm::HS256,
                "another-secret-another-secret-0000",
            ),
        ),
        (
            "tampered payload",
            format!("{}.{}.{}", parts[0], tampered_payload, parts[2]),
        ),
        (
            "expired",
            sign(
                with(claims(user.id), "exp", json!(now - 120)),
                Algorithm::HS256,
                TEST_JWT_SECRET,
            ),
        ),
        (
            "not yet valid",
            sign(
                with(claims(user.id), "nbf", json!(now + 600)),
                Algorithm::HS256,
                TEST_JWT_SECRET,
            ),
        ),
        (
            "wrong audience",
            sign(
                with(claims(user.id), "aud", json!("someone-else")),
                Algorithm::HS256,
                TEST_JWT_SECRET,
            ),
        ),
        (
            "wrong issuer",
            sign(
                with(claims(user.id), "iss", json!("evil")),
                Algorithm::HS256,
                TEST_JWT_SECRET,
            ),
        ),
        (
            "no issuer",
            sign(
                with(claims(user.id), "iss", Value::Null),
                Algorithm::HS256,
                TEST_JWT_SECRET,
            ),
        ),
        (
            "no audience",
            sign(
                with(claims(user.id), "aud", Value::Null),
                Algorithm::HS256,
                TEST_JWT_SECRET,
            ),
        ),
        (
            "no subject",
            sign(
                with(claims(user.id), "sub", Value::Null),
                Algorithm::HS256,
                TEST_JWT_SECRET,
            ),
        ),
        (
            "no expiry",
            sign(
                with(claims(user.id), "exp", Value::Null),
                Algorithm::HS256,
                TEST_JWT_SECRET,
            ),
        ),
        (
            "malformed expiry",
            sign(
                with(claims(user.id), "exp", json!("tomorrow")),
                Algorithm::HS256,
                TEST_JWT_SECRET,
            ),
        ),
        (
            "unknown user",
            sign(claims(999_999), Algorithm::HS256, TEST_JWT_SECRET),
        ),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (name, token) in cases {
        let (status, body) = app.gql_as(&token, VIEWER, json!({})).await;
        assert_eq!(status, 401, "case {name}: {body}");
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "case {name}");
    }
}

#[tokio::test]
async fn leeway_accepts_small_clock_skew() {
    let app = TestApp::spawn().await;
    let user = Fixture::new(&app.db).user("skewed", Role::Learner).await;
    let now = Utc::now().timestamp();
    let token = sign(
        with(
            with(claims(user.id), "exp", json!(now - 10)),
            "nbf",
            json!(now + 10),
        ),
        Algorithm::HS256,
        TEST_JWT_SECRET,
    );
    let (status, _) = app.gql_as(&token, VIEWER, json!({})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_ban_stops_tokens_at_once_and_admin_actions_need_a_console_token() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let admin = fixture.user("admin", Role::Admin).await;
    let learner = fixture.user("learner", Role::Learner).await;
    let learner_token = app.token(learner.id);
    let (status, _) = app.gql_as(&learner_token, VIEWER, json!({})).await;
    assert_eq!(status, 200);

    let ban =
        "mutation($u: ID!) { banUser(input: {user: $u}) { user { id } userErrors { code } } }";
    // An admin's mini-program token is not enough.
    let phone = app.token_for(admin.id, Audience::MiniProgram);
    let (_, body) = app
        .gql_as(&phone, ban, json!({ "u": gid("User", learner.id) }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    // A learner cannot ban.
    let (_, body) = app
        .gql_as(&learner_token, ban, json!({ "u": gid("User", admin.id) }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    // Nothing changed yet.
    let (status, _) = app.gql_as(&learner_token, VIEWER, json!({})).await;
    assert_eq!(status, 200);

    let payload = app
        .mutate(
            &app.token(admin.id),
            ban,
            json!({ "u": gid("User", learner.id) }),
        )
        .await;
    assert_eq!(payload["userErrors"], json!([]));
    let (status, body) = app.gql_as(&learner_token, VIEWER, json!({})).await;
    assert_eq!((status, error_code(&body)), (401, "UNAUTHENTICATED"));
    let stored = entity::user::Entity::find_by_id(learner.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.banned_at.is_some());
}

#[tokio::test]
async fn the_development_secret_is_generated_once_and_kept_with_the_database() {
    let app = TestApp::spawn().await;
    let config = AuthConfig::default();
    let first = AuthState::new(&app.db, &config, Environment::Development)
        .await
        .unwrap();
    let second = AuthState::new(&app.db, &config, Environment::Development)
        .await
        .unwrap();
    let token = first
        .keys
        .issue(1, Role::Learner, Audience::Console, Utc::now())
        .unwrap();
    assert_eq!(second.keys.verify(&token).unwrap().user_id, 1);
    // It is not a built-in constant: the test app's configured secret does not verify it.
    assert!(app.auth.keys.verify(&token).is_err());
    // Production refuses to run without one, and short secrets are refused.
    assert!(
        AuthState::new(&app.db, &config, Environment::Production)
            .await
            .is_err()
    );
    let short = AuthConfig {
        jwt_secret: Some(zhiku::config::Secret::new("short")),
        ..AuthConfig::default()
    };
    assert!(
        AuthState::new(&app.db, &short, Environment::Development)
            .await
            .is_err()
    );
}
