//! Messages through the outbox, against a local server that answers as WeChat's
//! stable_token and subscribe-message APIs do.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use entity::enums::{MessageKind, OutboxStatus};
use entity::{message_consent, outbox_message};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestApp, gid};
use crate::payments::{CREATE_ORDER, notify, shop, simulated};

pub const TEMPLATE: &str = "TPL-PAID-1";
const OA_APPID: &str = "wx-oa-test";
const OA_SECRET: &str = "oa-test-secret";
/// Every kind's template, as `ZHIKU_MP_TEMPLATES` names them.
pub const TEMPLATES: &str = "PAYMENT_SUCCEEDED=TPL-PAID-1,REFUND_DONE=TPL-REFUND,\
    LIVESTREAM_STARTING=TPL-SOON,LIVESTREAM_LIVE=TPL-LIVE,NEW_LESSON=TPL-LESSON,\
    MEMBERSHIP_ENDING=TPL-ENDING";

/// What the fake WeChat saw and how it answers.
#[derive(Default)]
pub struct Fake {
    pub token_calls: usize,
    /// (openid, body) of each message taken.
    pub sent: Vec<(String, Value)>,
    /// Openids answered with -1 (busy) this many more times.
    pub busy: HashMap<String, usize>,
    /// Sends taken before the fake stops answering (None: no limit): a send past it
    /// hangs unanswered, as one does when the worker's host dies mid-request.
    pub answer_only: Option<usize>,
}

pub type Shared = Arc<Mutex<Fake>>;

/// Starts a local server that answers as WeChat's stable_token and subscribe-message
/// APIs do; returns its base URL and what it saw.
pub async fn start_fake() -> (String, Shared) {
    let fake: Shared = Arc::default();
    let app = Router::new()
        .route(
            "/cgi-bin/stable_token",
            post(|State(fake): State<Shared>, Json(body): Json<Value>| async move {
                let mut fake = fake.lock().unwrap();
                let token = match (body["appid"].as_str(), body["secret"].as_str()) {
                    (Some("wx-test-app"), Some("wechat-test-secret")) => "TOKEN-1",
                    (Some(OA_APPID), Some(OA_SECRET)) => "TOKEN-OA",
                    _ => {
                        return json!({ "errcode": 40125, "errmsg": "invalid appsecret" })
                            .to_string();
                    }
                };
                fake.token_calls += 1;
                json!({ "access_token": token, "expires_in": 7200 }).to_string()
            }),
        )
        .route(
            "/cgi-bin/message/subscribe/send",
            post(
                |State(fake): State<Shared>,
                 Query(query): Query<HashMap<String, String>>,
                 Json(body): Json<Value>| async move {
                    let hang = {
                        let fake = fake.lock().unwrap();
                        fake.answer_only.is_some_and(|limit| fake.sent.len() >= limit)
                    };
                    if hang {
                        std::future::pending::<()>().await;
                    }
                    let mut fake = fake.lock().unwrap();
                    if query.get("access_token").map(String::as_str) != Some("TOKEN-1") {
                        return json!({ "errcode": 40001, "errmsg": "invalid credential" })
                            .to_string();
                    }
                    let openid = body["touser"].as_str().unwrap_or_default().to_owned();
                    if let Some(left) = fake.busy.get_mut(&openid)
                        && *left > 0
                    {
                        *left -= 1;
                        return json!({ "errcode": -1, "errmsg": "system error" }).to_string();
                    }
                    if openid == "never-subscribed" {
                        return json!({ "errcode": 43101, "errmsg": "user refuse to accept the msg" })
                            .to_string();
                    }
                    fake.sent.push((openid, body));
                    json!({ "errcode": 0, "errmsg": "ok", "msgid": 1 }).to_string()
                },
            ),
        )
        .route(
            "/cgi-bin/message/template/send",
            post(
                |State(fake): State<Shared>,
                 Query(query): Query<HashMap<String, String>>,
                 Json(body): Json<Value>| async move {
                    let mut fake = fake.lock().unwrap();
                    if query.get("access_token").map(String::as_str) != Some("TOKEN-OA") {
                        return json!({ "errcode": 40001, "errmsg": "invalid credential" })
                            .to_string();
                    }
                    let openid = body["touser"].as_str().unwrap_or_default().to_owned();
                    fake.sent.push((openid, body));
                    json!({ "errcode": 0, "errmsg": "ok", "msgid": 2 }).to_string()
                },
            ),
        )
        .with_state(Arc::clone(&fake));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, fake)
}

/// Gives the user's mini-program identity another openid (how the fake tells users
/// apart).
pub async fn set_openid(app: &TestApp, user_id: i64, openid: &str) {
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.db,
        &format!("UPDATE user_identities SET openid = '{openid}' WHERE user_id = {user_id} AND app = 'MINI_PROGRAM'"),
    )
    .await
    .unwrap();
}

/// The app against the fake, with every kind's template, sending and reminding often.
pub async fn spawn(base: String) -> TestApp {
    TestApp::spawn_configured(|settings| {
        settings.auth.wechat_api_base = base;
        settings.server.messages.mp_templates = TEMPLATES.into();
        settings.server.messages.outbox_interval_ms = 50;
        settings.server.messages.reminder_interval_ms = 50;
    })
    .await
}

const CONSENT: &str = r#"mutation($t: [MessageConsentInput!]!) { recordMessageConsent(input: {templates: $t}) { recorded userErrors { field code } } }"#;

/// Reports `wx.requestSubscribeMessage` answers: `accepted` templates, then `rejected`.
pub async fn answer(app: &TestApp, token: &str, accepted: &[&str], rejected: &[&str]) -> Value {
    let answers: Vec<Value> = accepted
        .iter()
        .map(|t| json!({ "templateId": t, "answer": "ACCEPT" }))
        .chain(
            rejected
                .iter()
                .map(|t| json!({ "templateId": t, "answer": "REJECT" })),
        )
        .collect();
    app.mutate(token, CONSENT, json!({ "t": answers })).await
}

/// Reports that the user accepted these templates.
pub async fn consent(app: &TestApp, token: &str, templates: &[&str]) -> Value {
    answer(app, token, templates, &[]).await
}

async fn message_of(app: &TestApp, order_id: i64) -> outbox_message::Model {
    outbox_message::Entity::find()
        .filter(outbox_message::Column::SubjectId.eq(order_id))
        .filter(outbox_message::Column::Kind.eq(MessageKind::PaymentSucceeded))
        .one(&app.db)
        .await
        .unwrap()
        .expect("a message in the outbox")
}

/// Waits until the message leaves PENDING/SENDING (or a few seconds pass).
async fn settled(app: &TestApp, order_id: i64) -> outbox_message::Model {
    for _ in 0..100 {
        let message = message_of(app, order_id).await;
        if !matches!(
            message.status,
            OutboxStatus::Pending | OutboxStatus::Sending
        ) {
            return message;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    message_of(app, order_id).await
}

/// Buys the shop's course and pays it with a notification; returns the order id.
pub async fn buy_and_pay(app: &TestApp, token: &str, course_id: i64, openid: &str) -> i64 {
    let bought = app
        .mutate(
            token,
            CREATE_ORDER,
            json!({ "p": gid("Course", course_id), "k": "k1" }),
        )
        .await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let (headers, body) = simulated(app).payment_success(&out_trade_no, 9900, openid, Utc::now());
    assert_eq!(notify(app, &headers, body.clone()).await, 204);
    // The same notification again writes no second message.
    assert_eq!(notify(app, &headers, body).await, 204);
    crate::payments::order_row(app, &out_trade_no).await.id
}

#[tokio::test]
async fn a_paid_order_sends_one_payment_message_and_spends_one_consent() {
    let (base, fake) = start_fake().await;
    let app = spawn(base).await;
    let shop = shop(&app, 9900).await;
    let accepted = consent(&app, &shop.buyer_token, &[TEMPLATE]).await;
    assert_eq!(accepted["recorded"], 1, "{accepted}");
    // A rejected prompt allows nothing; a template not ours is refused.
    let rejected = answer(&app, &shop.buyer_token, &[], &[TEMPLATE]).await;
    assert_eq!(rejected["recorded"], 0, "{rejected}");
    let refused = consent(&app, &shop.buyer_token, &["someone-elses"]).await;
    assert_eq!(refused["userErrors"][0]["code"], "INVALID");
    let banked =
        r#"{ viewer { notificationSettings { consents { kind templateId remaining } } } }"#;
    let (_, before) = app.gql_as(&shop.buyer_token, banked, json!({})).await;
    let consents = before["data"]["viewer"]["notificationSettings"]["consents"].clone();
    assert!(
        consents.as_array().unwrap().contains(
            &json!({ "kind": "PAYMENT_SUCCEEDED", "templateId": TEMPLATE, "remaining": 1 })
        ),
        "{before}"
    );

    let order_id = buy_and_pay(&app, &shop.buyer_token, shop.course.id, "buyer-openid").await;
    let message = settled(&app, order_id).await;
    assert_eq!(message.status, OutboxStatus::Sent, "{message:?}");
    assert_eq!(message.channel.as_deref(), Some("MINI_PROGRAM"));
    let outbox = outbox_message::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(outbox.len(), 1, "one message for a notification seen twice");
    {
        let fake = fake.lock().unwrap();
        assert_eq!(fake.sent.len(), 1);
        let (openid, body) = &fake.sent[0];
        assert_eq!(openid, "buyer-openid");
        assert_eq!(body["template_id"], TEMPLATE);
        assert_eq!(body["data"]["thing1"]["value"], "在售课程");
        assert_eq!(body["data"]["amount2"]["value"], "99.00元");
        assert_eq!(
            body["page"],
            format!("pages/order/detail?id={}", gid("Order", order_id))
        );
        assert_eq!(fake.token_calls, 1);
    }
    let left = message_consent::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(left.remaining, 0, "the consent is spent");
}

#[tokio::test]
async fn without_consent_nothing_is_sent_and_the_row_says_why() {
    let (base, fake) = start_fake().await;
    let app = spawn(base).await;
    let shop = shop(&app, 9900).await;
    let order_id = buy_and_pay(&app, &shop.buyer_token, shop.course.id, "buyer-openid").await;
    let message = settled(&app, order_id).await;
    assert_eq!(message.status, OutboxStatus::Skipped);
    assert!(message.last_error.unwrap_or_default().contains("consent"));
    assert!(fake.lock().unwrap().sent.is_empty());
}

#[tokio::test]
async fn trouble_is_retried_and_a_refusal_is_final() {
    let (base, fake) = start_fake().await;
    let app = spawn(base).await;
    let shop = shop(&app, 9900).await;
    consent(&app, &shop.buyer_token, &[TEMPLATE]).await;
    fake.lock().unwrap().busy.insert("buyer-openid".into(), 1);
    let order_id = buy_and_pay(&app, &shop.buyer_token, shop.course.id, "buyer-openid").await;
    // The first attempt meets -1; the retry (after the 2 s backoff) goes through.
    let mut message = settled(&app, order_id).await;
    for _ in 0..100 {
        if message.status == OutboxStatus::Sent {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        message = message_of(&app, order_id).await;
    }
    assert_eq!(message.status, OutboxStatus::Sent, "{message:?}");
    assert_eq!(message.attempts, 2);
    assert_eq!(fake.lock().unwrap().sent.len(), 1, "sent once");
    let left = message_consent::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(left.remaining, 0, "the retry spent no second consent");
}

#[tokio::test]
async fn a_user_who_never_subscribed_is_not_asked_again() {
    let (base, fake) = start_fake().await;
    let app = spawn(base).await;
    let shop = shop(&app, 9900).await;
    // The mini-program thought the user accepted; WeChat says they did not (43101).
    set_openid(&app, shop.buyer_id, "never-subscribed").await;
    consent(&app, &shop.buyer_token, &[TEMPLATE]).await;
    let order_id = buy_and_pay(&app, &shop.buyer_token, shop.course.id, "never-subscribed").await;
    let message = settled(&app, order_id).await;
    assert_eq!(message.status, OutboxStatus::Failed);
    assert_eq!(message.attempts, 1, "43101 is not retried");
    assert!(message.last_error.unwrap_or_default().contains("43101"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(message_of(&app, order_id).await.attempts, 1);
    assert!(fake.lock().unwrap().sent.is_empty());
}

#[tokio::test]
async fn a_kind_switched_off_is_not_sent() {
    let (base, fake) = start_fake().await;
    let app = spawn(base).await;
    let shop = shop(&app, 9900).await;
    consent(&app, &shop.buyer_token, &[TEMPLATE]).await;
    let set = r#"mutation($e: Boolean!) { updateNotificationSettings(input: {settings: [{kind: PAYMENT_SUCCEEDED, enabled: $e}]}) { settings { kind enabled } userErrors { code } } }"#;
    let off = app
        .mutate(&shop.buyer_token, set, json!({ "e": false }))
        .await;
    assert!(
        off["settings"]
            .as_array()
            .unwrap()
            .contains(&json!({ "kind": "PAYMENT_SUCCEEDED", "enabled": false })),
        "{off}"
    );
    // Twice off is still off, once.
    app.mutate(&shop.buyer_token, set, json!({ "e": false }))
        .await;
    let (_, listed) = app
        .gql_as(
            &shop.buyer_token,
            "{ viewer { notificationSettings { kinds { kind enabled } } } }",
            json!({}),
        )
        .await;
    let settings = listed["data"]["viewer"]["notificationSettings"]["kinds"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(settings.len(), 7);
    assert_eq!(
        settings.iter().filter(|s| s["enabled"] == false).count(),
        1,
        "{listed}"
    );
    let order_id = buy_and_pay(&app, &shop.buyer_token, shop.course.id, "buyer-openid").await;
    let message = settled(&app, order_id).await;
    assert_eq!(message.status, OutboxStatus::Skipped);
    assert!(message.last_error.unwrap_or_default().contains("switched"));
    assert!(fake.lock().unwrap().sent.is_empty());
    let left = message_consent::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(left.remaining, 1, "no consent spent on a message not sent");
    // Settings are the user's own: anonymous callers and other users see none.
    let theirs = r#"query($u: ID!) { node(id: $u) { ... on User { notificationSettings { kinds { kind } } } } }"#;
    let buyer = json!({ "u": gid("User", shop.buyer_id) });
    let anonymous = app.gql(theirs, buyer.clone()).await;
    assert_eq!(
        anonymous["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{anonymous}"
    );
    let other = app.token(shop.seller.user_id);
    let (_, forbidden) = app.gql_as(&other, theirs, buyer).await;
    assert_eq!(
        forbidden["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{forbidden}"
    );
}

#[tokio::test]
async fn without_a_mini_program_consent_the_official_account_sends_a_template_message() {
    let (base, fake) = start_fake().await;
    let app = TestApp::spawn_configured(|settings| {
        settings.auth.wechat_api_base = base;
        settings.auth.oa_appid = OA_APPID.into();
        settings.auth.oa_secret = Some(zhiku::config::Secret::new(OA_SECRET));
        settings.server.messages.mp_templates = TEMPLATES.into();
        settings.server.messages.oa_templates = "PAYMENT_SUCCEEDED=TPL-OA-PAID".into();
        settings.server.messages.outbox_interval_ms = 50;
    })
    .await;
    let shop = shop(&app, 9900).await;
    // The buyer follows the official account too (an identity there), and gave the
    // mini-program no consent.
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.db,
        &format!(
            "INSERT INTO user_identities (user_id, app, openid, created_at) \
             VALUES ({}, 'OFFICIAL_ACCOUNT', 'buyer-oa-openid', '2026-01-01 00:00:00+00:00')",
            shop.buyer_id
        ),
    )
    .await
    .unwrap();
    let order_id = buy_and_pay(&app, &shop.buyer_token, shop.course.id, "buyer-openid").await;
    let message = settled(&app, order_id).await;
    assert_eq!(message.status, OutboxStatus::Sent, "{message:?}");
    assert_eq!(message.channel.as_deref(), Some("OFFICIAL_ACCOUNT"));
    let fake = fake.lock().unwrap();
    assert_eq!(fake.sent.len(), 1);
    let (openid, body) = &fake.sent[0];
    assert_eq!(openid, "buyer-oa-openid");
    assert_eq!(body["template_id"], "TPL-OA-PAID");
    assert_eq!(body["miniprogram"]["appid"], "wx-test-app");
    assert_eq!(
        body["miniprogram"]["pagepath"],
        format!("pages/order/detail?id={}", gid("Order", order_id))
    );
    assert_eq!(body["data"]["thing1"]["value"], "在售课程");
}
