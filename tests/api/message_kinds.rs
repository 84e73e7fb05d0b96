//! Each kind of message, sent once after its event (payment, refund, new lesson,
//! livestream soon and live, membership ending), and an outbox worker killed mid-batch
//! that resumes without sending twice.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use entity::enums::{MessageKind, OutboxStatus, Role};
use entity::{message_consent, outbox_message};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use zhiku::config::{MessagesConfig, Secret};
use zhiku::messaging::{AppCredentials, Messenger};
use zhiku::service::messages::{Message, Outbox, Templates, enqueue};

use crate::helpers::{Fixture, TestApp, gid};
use crate::messages::{TEMPLATES, buy_and_pay, consent, set_openid, spawn, start_fake};
use crate::payments::{CREATE_ORDER, REFUND, notify, shop, simulated};

/// Messages the fake took, per template id.
fn taken_by_template(sent: &[(String, Value)], openid: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (_, body) in sent.iter().filter(|(to, _)| to == openid) {
        let template = body["template_id"].as_str().unwrap_or_default().to_owned();
        *counts.entry(template).or_insert(0) += 1;
    }
    counts
}

/// Waits until the fake holds `count` messages (or a few seconds pass).
async fn wait_for_sends(fake: &crate::messages::Shared, count: usize) {
    for _ in 0..200 {
        if fake.lock().unwrap().sent.len() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn every_kind_is_sent_once_after_its_event() {
    let (base, fake) = start_fake().await;
    let app = spawn(base).await;
    let shop = shop(&app, 9900).await;
    let seller_token = app.token(shop.seller.user_id);
    let fan = Fixture::new(&app.db)
        .user("fan-openid", Role::Learner)
        .await;
    let fan_token = app.token_for(fan.id, zhiku::auth::tokens::Audience::MiniProgram);
    let all: Vec<&str> = TEMPLATES
        .split(',')
        .map(|pair| pair.split('=').nth(1).unwrap().trim())
        .collect();
    for token in [&shop.buyer_token, &fan_token] {
        let recorded = consent(&app, token, &all).await;
        assert_eq!(recorded["recorded"], 6, "{recorded}");
    }
    // Two purchases: two payment messages, so two consents of that template.
    consent(&app, &shop.buyer_token, &["TPL-PAID-1"]).await;
    let follow =
        r#"mutation($c: ID!) { followCreator(input: {creator: $c}) { userErrors { code } } }"#;
    for token in [&shop.buyer_token, &fan_token] {
        let followed = app
            .mutate(
                token,
                follow,
                json!({ "c": gid("Creator", shop.seller.id) }),
            )
            .await;
        assert_eq!(followed["userErrors"], json!([]), "{followed}");
    }

    // Payment succeeded.
    let order_id = buy_and_pay(&app, &shop.buyer_token, shop.course.id, "buyer-openid").await;
    // A new lesson: to the buyer, not to the fan who only follows.
    let lesson = app
        .mutate(
            &seller_token,
            r#"mutation($c: ID!) { addLesson(input: {course: $c, title: "第二讲：进阶", kind: ARTICLE, durationSeconds: 60}) { lesson { id } userErrors { code } } }"#,
            json!({ "c": gid("Course", shop.course.id) }),
        )
        .await;
    let lesson_id = lesson["lesson"]["id"].as_str().unwrap().to_owned();
    // A livestream in 10 minutes: a reminder now to every follower, and again when live.
    let scheduled = app
        .mutate(
            &seller_token,
            r#"mutation($s: DateTime!) { scheduleLivestream(input: {title: "今晚直播", scheduledStart: $s, priceFen: 990}) { livestream { id } userErrors { code } } }"#,
            json!({ "s": (Utc::now() + chrono::Duration::minutes(10)).to_rfc3339() }),
        )
        .await;
    let livestream = scheduled["livestream"]["id"].clone();
    wait_for_sends(&fake, 4).await;
    app.mutate(
        &seller_token,
        "mutation($l: ID!) { startLivestream(input: {livestream: $l}) { livestream { status } } }",
        json!({ "l": livestream }),
    )
    .await;
    // Refund done.
    let refunded = app
        .mutate(
            &shop.admin_token,
            REFUND,
            json!({ "o": gid("Order", order_id), "k": "r1" }),
        )
        .await;
    assert_eq!(refunded["order"]["status"], "REFUNDED", "{refunded}");
    // A paid membership of 2 days: ending within 3 days, so reminded at once.
    let group = app
        .mutate(
            &seller_token,
            r#"mutation { createGroup(input: {name: "两日训练营", priceFen: 100, membershipDays: 2}) { group { id } } }"#,
            json!({}),
        )
        .await["group"]["id"]
        .clone();
    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": group, "k": "g" }),
        )
        .await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let (headers, body) =
        simulated(&app).payment_success(&out_trade_no, 100, "buyer-openid", Utc::now());
    assert_eq!(notify(&app, &headers, body).await, 204);

    // 7 to the buyer, 2 to the fan; then several more passes add nothing.
    wait_for_sends(&fake, 9).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let rows = outbox_message::Entity::find().all(&app.db).await.unwrap();
    let sent = fake.lock().unwrap().sent.clone();
    assert_eq!(sent.len(), 9, "{rows:#?}");
    let expected_buyer = BTreeMap::from([
        ("TPL-ENDING".to_owned(), 1),
        ("TPL-LESSON".to_owned(), 1),
        ("TPL-LIVE".to_owned(), 1),
        ("TPL-PAID-1".to_owned(), 2),
        ("TPL-REFUND".to_owned(), 1),
        ("TPL-SOON".to_owned(), 1),
    ]);
    assert_eq!(taken_by_template(&sent, "buyer-openid"), expected_buyer);
    let expected_fan = BTreeMap::from([("TPL-LIVE".to_owned(), 1), ("TPL-SOON".to_owned(), 1)]);
    assert_eq!(taken_by_template(&sent, "fan-openid"), expected_fan);

    let body_of = |template: &str| {
        sent.iter()
            .find(|(to, body)| to == "buyer-openid" && body["template_id"] == template)
            .map(|(_, body)| body.clone())
            .unwrap()
    };
    let new_lesson = body_of("TPL-LESSON");
    assert_eq!(new_lesson["data"]["thing1"]["value"], "在售课程");
    assert_eq!(new_lesson["data"]["thing2"]["value"], "第二讲：进阶");
    assert_eq!(
        new_lesson["page"],
        format!("pages/lesson/detail?id={lesson_id}")
    );
    let refund = body_of("TPL-REFUND");
    assert_eq!(refund["data"]["amount2"]["value"], "99.00元");
    let live = body_of("TPL-LIVE");
    assert_eq!(live["data"]["thing1"]["value"], "今晚直播");
    assert_eq!(live["data"]["thing3"]["value"], "Seller");
    assert_eq!(
        body_of("TPL-ENDING")["data"]["thing1"]["value"],
        "两日训练营"
    );

    let rows = outbox_message::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(rows.len(), 9, "one row per event and recipient");
    assert!(
        rows.iter().all(|r| r.status == OutboxStatus::Sent),
        "{rows:?}"
    );
    let kinds: HashMap<MessageKind, usize> = rows.iter().fold(HashMap::new(), |mut m, r| {
        *m.entry(r.kind).or_default() += 1;
        m
    });
    assert_eq!(kinds[&MessageKind::LivestreamStarting], 2);
    assert_eq!(kinds[&MessageKind::MembershipEnding], 1);
}

#[tokio::test]
async fn a_worker_killed_mid_batch_resumes_without_sending_twice() {
    let (base, fake) = start_fake().await;
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let template = "TPL-PAID-1";
    let now = Utc::now();
    for n in 0..20 {
        let user = fixture.user(&format!("learner-{n}"), Role::Learner).await;
        message_consent::ActiveModel {
            user_id: Set(user.id),
            template_id: Set(template.into()),
            remaining: Set(1),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
        let message = Message {
            kind: MessageKind::PaymentSucceeded,
            subject_id: 1000 + n,
            occasion: None,
            values: BTreeMap::from([("thing1".to_owned(), format!("课程{n}"))]),
        };
        enqueue(&app.db, &message, user.id, now).await.unwrap();
    }
    let config = MessagesConfig {
        mp_templates: format!("PAYMENT_SUCCEEDED={template}"),
        outbox_batch: 50,
        outbox_concurrency: 4,
        ..MessagesConfig::default()
    };
    let worker = || {
        let credentials = AppCredentials {
            appid: "wx-test-app".into(),
            secret: Some(Secret::new("wechat-test-secret")),
        };
        let messenger = Messenger::new(
            &base,
            Duration::from_secs(30),
            credentials.clone(),
            credentials,
        )
        .unwrap();
        Outbox::new(
            app.db.clone(),
            Arc::new(messenger),
            Templates::from_config(&config).unwrap(),
            &config,
        )
    };

    // WeChat answers 8 sends; the rest hang until the worker is killed.
    fake.lock().unwrap().answer_only = Some(8);
    let first = worker();
    let running = tokio::spawn(async move { first.deliver_due(now).await });
    let sent_rows = || async {
        outbox_message::Entity::find()
            .filter(outbox_message::Column::Status.eq(OutboxStatus::Sent))
            .all(&app.db)
            .await
            .unwrap()
            .len()
    };
    for _ in 0..200 {
        if sent_rows().await == 8 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(sent_rows().await, 8, "each answered send is marked at once");
    running.abort();
    assert!(running.await.unwrap_err().is_cancelled());

    // Another worker, after the dead one's claim ran out, sends the other 12.
    fake.lock().unwrap().answer_only = None;
    let resumed = worker()
        .deliver_due(now + chrono::Duration::seconds(zhiku::service::messages::CLAIM_SECS + 1))
        .await
        .unwrap();
    assert_eq!((resumed.claimed, resumed.sent), (12, 12), "{resumed:?}");
    let sent = fake.lock().unwrap().sent.clone();
    let mut per_user: HashMap<&str, usize> = HashMap::new();
    for (openid, _) in &sent {
        *per_user.entry(openid.as_str()).or_default() += 1;
    }
    assert_eq!(per_user.len(), 20);
    assert!(per_user.values().all(|&n| n == 1), "{per_user:?}");
    assert_eq!(sent_rows().await, 20);
    let consents = message_consent::Entity::find().all(&app.db).await.unwrap();
    assert!(
        consents.iter().all(|c| c.remaining == 0),
        "one consent spent per message, none by the retry"
    );
}

#[tokio::test]
async fn admins_see_the_outbox_and_retry_a_failed_message() {
    let (base, fake) = start_fake().await;
    let app = spawn(base).await;
    let shop = shop(&app, 9900).await;
    // WeChat refuses for good (43101): the message ends FAILED.
    set_openid(&app, shop.buyer_id, "never-subscribed").await;
    consent(&app, &shop.buyer_token, &["TPL-PAID-1"]).await;
    buy_and_pay(&app, &shop.buyer_token, shop.course.id, "never-subscribed").await;
    let outbox = r#"query($s: NotificationStatus) { notifications(first: 10, filter: {status: $s}) {
        totalCount nodes { id kind status channel attempts lastError recipient { id } values { key value } } } }"#;
    let mut failed = Value::Null;
    for _ in 0..400 {
        let (_, body) = app
            .gql_as(&shop.admin_token, outbox, json!({ "s": "FAILED" }))
            .await;
        if body["data"]["notifications"]["totalCount"] == 1 {
            failed = body["data"]["notifications"]["nodes"][0].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(failed["kind"], "PAYMENT_SUCCEEDED", "{failed}");
    assert_eq!(failed["channel"], "MINI_PROGRAM");
    assert_eq!(failed["attempts"], 1);
    assert!(failed["lastError"].as_str().unwrap().contains("43101"));
    assert_eq!(failed["recipient"]["id"], gid("User", shop.buyer_id));
    assert!(
        failed["values"]
            .as_array()
            .unwrap()
            .contains(&json!({ "key": "thing1", "value": "在售课程" }))
    );
    // The outbox is the console's: a learner is refused.
    let (_, refused) = app
        .gql_as(&shop.buyer_token, outbox, json!({ "s": null }))
        .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");

    // The user subscribes after all; the admin retries, and it is sent once.
    set_openid(&app, shop.buyer_id, "buyer-openid").await;
    let retry = r#"mutation($n: ID!) { retryNotification(input: {notification: $n}) { notification { status attempts } userErrors { field code } } }"#;
    let retried = app
        .mutate(&shop.admin_token, retry, json!({ "n": failed["id"] }))
        .await;
    assert_eq!(
        retried["notification"],
        json!({ "status": "PENDING", "attempts": 0 }),
        "{retried}"
    );
    wait_for_sends(&fake, 1).await;
    let id: i64 = {
        let rows = outbox_message::Entity::find().all(&app.db).await.unwrap();
        assert_eq!(rows.len(), 1);
        rows[0].id
    };
    for _ in 0..100 {
        let row = outbox_message::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        if row.status == OutboxStatus::Sent {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (_, node) = app
        .gql_as(
            &shop.admin_token,
            r#"query($n: ID!) { node(id: $n) { ... on Notification { status sentAt } } }"#,
            json!({ "n": failed["id"] }),
        )
        .await;
    assert_eq!(node["data"]["node"]["status"], "SENT", "{node}");
    assert_eq!(fake.lock().unwrap().sent.len(), 1);
    // A sent message is not sent again.
    let again = app
        .mutate(&shop.admin_token, retry, json!({ "n": failed["id"] }))
        .await;
    assert_eq!(again["userErrors"][0]["code"], "INVALID_STATE", "{again}");
    let consents = message_consent::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(
        consents[0].remaining, 0,
        "the retry spent no second consent"
    );
}
