//! Buying: orders, WeChat Pay (against a local server that checks signatures as WeChat
//! Pay does), notifications, refunds, reconciliation, and the simulated provider.

use chrono::{Duration, Utc};
use entity::enums::{CourseStatus, OrderStatus, ProductKind, Role};
use entity::{course, entitlement, order, payment_event};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use zhiku::payments::crypto;
use zhiku::payments::notification::SignatureHeaders;
use zhiku::payments::simulated::{Simulated, build_notification, post_notification};

use crate::helpers::{Fixture, TestApp, fixture_private_key, fixture_public_key, gid};

pub const CREATE_ORDER: &str = r#"mutation($p: ID!, $k: String!) {
  createOrder(input: {product: $p, idempotencyKey: $k}) {
    order { id outTradeNo status amount { amount } paidAt }
    payment { appId timeStamp nonceStr package signType paySign }
    userErrors { field code message }
  }
}"#;
pub const REFUND: &str = r#"mutation($o: ID!, $k: String!) {
  refundOrder(input: {order: $o, reason: "退款", idempotencyKey: $k}) { order { status refundedAt } userErrors { code message } }
}"#;
pub const ACCESS: &str = r#"query($c: ID!) { node(id: $c) { ... on Course { viewerHasAccess } } }"#;

/// A seller with a published paid course, a buyer (openid `buyer-openid`) with a
/// mini-program token, and an admin with a console token.
pub struct Shop {
    pub course: course::Model,
    pub seller: entity::creator::Model,
    pub buyer_id: i64,
    pub buyer_token: String,
    pub admin_token: String,
}

pub async fn shop(app: &TestApp, price_fen: i64) -> Shop {
    let fixture = Fixture::new(&app.db);
    let seller = fixture.creator("Seller").await;
    let course = fixture
        .course(
            &seller,
            1,
            "在售课程",
            "编程开发",
            price_fen,
            CourseStatus::Published,
        )
        .await;
    fixture.lesson(&course, 1, false).await;
    let buyer = fixture.user("buyer-openid", Role::Learner).await;
    let admin = fixture.user("admin", Role::Admin).await;
    Shop {
        buyer_token: app.token_for(buyer.id, zhiku::auth::tokens::Audience::MiniProgram),
        admin_token: app.token(admin.id),
        buyer_id: buyer.id,
        course,
        seller,
    }
}

/// The simulated provider with the app's keys, to send notifications as WeChat Pay.
pub fn simulated(app: &TestApp) -> Simulated {
    let key = fixture_private_key("platform_key.pem");
    let keys = app.payments.provider.notification_keys();
    Simulated::new(key, keys.apiv3_key, &keys.appid)
}

/// Posts a notification to the app; returns the HTTP status.
pub async fn notify(app: &TestApp, headers: &SignatureHeaders, body: String) -> u16 {
    post_notification(&app.url("/payments/wechat/notify"), headers, body)
        .await
        .unwrap()
}

/// The order row with this number.
pub async fn order_row(app: &TestApp, out_trade_no: &str) -> order::Model {
    order::Entity::find()
        .filter(order::Column::OutTradeNo.eq(out_trade_no))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_learner_buys_with_the_simulated_provider_and_a_refund_locks_it_again() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let product = gid("Course", shop.course.id);
    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": product, "k": "k1" }),
        )
        .await;
    assert_eq!(bought["userErrors"], json!([]));
    assert_eq!(bought["order"]["status"], "PENDING");
    assert_eq!(
        bought["order"]["amount"]["amount"], 9900,
        "the price comes from the catalogue"
    );
    let payment = &bought["payment"];
    assert_eq!(payment["signType"], "RSA");
    let package = payment["package"].as_str().unwrap();
    assert!(package.starts_with("prepay_id="));
    // paySign is SHA256withRSA over appId\ntimeStamp\nnonceStr\npackage\n.
    let message = format!(
        "wx-test-app\n{}\n{}\n{package}\n",
        payment["timeStamp"].as_str().unwrap(),
        payment["nonceStr"].as_str().unwrap()
    );
    let public = fixture_public_key("platform_pub.pem");
    crypto::verify(
        &public,
        message.as_bytes(),
        payment["paySign"].as_str().unwrap(),
    )
    .unwrap();

    // Retries with the key, and a new key while the order is pending, give the same order.
    let again = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": product, "k": "k1" }),
        )
        .await;
    let other_key = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": product, "k": "k2" }),
        )
        .await;
    assert_eq!(again["order"]["id"], bought["order"]["id"]);
    assert_eq!(other_key["order"]["id"], bought["order"]["id"]);
    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 1);

    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let (headers, body) =
        simulated(&app).payment_success(&out_trade_no, 9900, "buyer-openid", Utc::now());
    assert_eq!(notify(&app, &headers, body).await, 204);
    let paid = order_row(&app, &out_trade_no).await;
    assert_eq!(paid.status, OrderStatus::Paid);
    assert!(paid.paid_at.is_some() && paid.transaction_id.is_some());
    let (_, body) = app
        .gql_as(&shop.buyer_token, ACCESS, json!({ "c": product }))
        .await;
    assert_eq!(body["data"]["node"]["viewerHasAccess"], true, "{body}");
    let sales = course::Entity::find_by_id(shop.course.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .sales_count;

    // Buying again is refused.
    let twice = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": product, "k": "k3" }),
        )
        .await;
    assert_eq!(twice["userErrors"][0]["code"], "ALREADY_OWNED");

    let refunded = app
        .mutate(
            &shop.admin_token,
            REFUND,
            json!({ "o": gid("Order", paid.id), "k": "r1" }),
        )
        .await;
    assert_eq!(refunded["order"]["status"], "REFUNDED", "{refunded}");
    let (_, body) = app
        .gql_as(&shop.buyer_token, ACCESS, json!({ "c": product }))
        .await;
    assert_eq!(body["data"]["node"]["viewerHasAccess"], false);
    let after = course::Entity::find_by_id(shop.course.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .sales_count;
    assert_eq!(after, sales - 1);
    // The same refund key again is the same refund.
    let repeat = app
        .mutate(
            &shop.admin_token,
            REFUND,
            json!({ "o": gid("Order", paid.id), "k": "r1" }),
        )
        .await;
    assert_eq!(repeat["order"]["status"], "REFUNDED");
}

#[tokio::test]
async fn bad_notifications_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": gid("Course", shop.course.id), "k": "k" }),
        )
        .await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let sim = simulated(&app);
    let keys = app.payments.provider.notification_keys().clone();
    let platform = fixture_private_key("platform_key.pem");
    let other_key = fixture_private_key("merchant_key.pem");
    let resource = |mchid: &str, appid: &str, amount: i64| {
        json!({ "appid": appid, "mchid": mchid, "out_trade_no": out_trade_no, "transaction_id": "4200000001",
            "trade_state": "SUCCESS", "amount": { "total": amount, "currency": "CNY" } })
    };
    let signed = |resource: Value, when: chrono::DateTime<Utc>| {
        build_notification(
            &platform,
            "PUB_KEY_ID_SIMULATED",
            &keys.apiv3_key,
            "TRANSACTION.SUCCESS",
            "transaction",
            &resource,
            when,
        )
    };
    let good = || sim.payment_success(&out_trade_no, 9900, "buyer-openid", Utc::now());

    let mut cases: Vec<(&str, SignatureHeaders, String, u16)> = Vec::new();
    let (headers, body) = good();
    cases.push((
        "tampered body",
        headers.clone(),
        body.replace("TRANSACTION.SUCCESS", "TRANSACTION.SUCCESS "),
        401,
    ));
    let (mut headers, body) = good();
    headers.serial = "UNKNOWN_SERIAL".into();
    cases.push(("unknown serial", headers, body, 401));
    let (headers, body) = signed(
        resource(&keys.mchid, &keys.appid, 9900),
        Utc::now() - Duration::minutes(6),
    );
    cases.push(("stale timestamp", headers, body, 401));
    let (headers, body) = build_notification(
        &other_key,
        "PUB_KEY_ID_SIMULATED",
        &keys.apiv3_key,
        "TRANSACTION.SUCCESS",
        "transaction",
        &resource(&keys.mchid, &keys.appid, 9900),
        Utc::now(),
    );
    cases.push(("signed by another key", headers, body, 401));
    let (headers, body) = signed(resource(&keys.mchid, &keys.appid, 1), Utc::now());
    cases.push(("wrong amount", headers, body, 400));
    let (headers, body) = signed(resource("1111111111", &keys.appid, 9900), Utc::now());
    cases.push(("wrong mchid", headers, body, 400));
    let (headers, body) = signed(resource(&keys.mchid, "wx-someone-else", 9900), Utc::now());
    cases.push(("wrong appid", headers, body, 400));
    // Malformed JSON and a truncated ciphertext, both correctly signed.
    let sign_raw = |body: String| {
        let timestamp = Utc::now().timestamp().to_string();
        let message = format!("{timestamp}\nNONCE\n{body}\n");
        let headers = SignatureHeaders {
            signature: crypto::sign(&platform, message.as_bytes()),
            timestamp,
            nonce: "NONCE".into(),
            serial: "PUB_KEY_ID_SIMULATED".into(),
        };
        (headers, body)
    };
    let (headers, body) = sign_raw("{\"id\": \"x\", \"event_type\": ".to_owned());
    cases.push(("malformed JSON", headers, body, 400));
    let (_, good_body) = good();
    let mut envelope: Value = serde_json::from_str(&good_body).unwrap();
    let ciphertext = envelope["resource"]["ciphertext"]
        .as_str()
        .unwrap()
        .to_owned();
    envelope["resource"]["ciphertext"] = json!(&ciphertext[..ciphertext.len() - 12]);
    let (headers, body) = sign_raw(envelope.to_string());
    cases.push(("truncated ciphertext", headers, body, 400));
    let (mut headers, body) = good();
    headers.signature.clear();
    cases.push(("no signature", headers, body, 400));

    for (name, headers, body, status) in cases {
        let response = reqwest::Client::new()
            .post(app.url("/payments/wechat/notify"))
            .header("Wechatpay-Timestamp", &headers.timestamp)
            .header("Wechatpay-Nonce", &headers.nonce)
            .header("Wechatpay-Signature", &headers.signature)
            .header("Wechatpay-Serial", &headers.serial)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "case {name}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["code"], "FAIL", "case {name}");
    }
    assert_eq!(
        order_row(&app, &out_trade_no).await.status,
        OrderStatus::Pending
    );
    assert_eq!(
        payment_event::Entity::find().count(&app.db).await.unwrap(),
        0
    );
    assert_eq!(entitlement::Entity::find().count(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn fifty_concurrent_duplicate_notifications_apply_once() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 4900).await;
    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": gid("Course", shop.course.id), "k": "k" }),
        )
        .await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let (headers, body) =
        simulated(&app).payment_success(&out_trade_no, 4900, "buyer-openid", Utc::now());
    let sends = (0..50).map(|_| notify(&app, &headers, body.clone()));
    let statuses = futures_util::future::join_all(sends).await;
    assert!(statuses.iter().all(|s| *s == 204), "{statuses:?}");
    assert_eq!(
        payment_event::Entity::find().count(&app.db).await.unwrap(),
        1
    );
    assert_eq!(
        order_row(&app, &out_trade_no).await.status,
        OrderStatus::Paid
    );
    assert_eq!(
        entitlement::Entity::find()
            .filter(entitlement::Column::UserId.eq(shop.buyer_id))
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
    let sales = course::Entity::find_by_id(shop.course.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .sales_count;
    assert_eq!(sales, shop.course.sales_count + 1);
}

#[tokio::test]
async fn concurrent_create_order_with_one_key_gives_one_order() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let product = gid("Course", shop.course.id);
    let attempts = (0..12).map(|_| {
        app.mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": product, "k": "same" }),
        )
    });
    let results = futures_util::future::join_all(attempts).await;
    let ids: std::collections::HashSet<String> = results
        .iter()
        .map(|r| r["order"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "{results:?}");
    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 1);
}

#[tokio::test]
async fn purchase_rules_and_free_products() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let shop = shop(&app, 9900).await;
    let seller = shop.seller.clone();
    let draft = fixture
        .course(&seller, 2, "草稿", "编程开发", 100, CourseStatus::Draft)
        .await;
    let free = fixture
        .course(&seller, 3, "免费课", "编程开发", 0, CourseStatus::Published)
        .await;
    let seller_token = app.token(seller.user_id);
    let cases = [
        (
            "draft course",
            shop.buyer_token.clone(),
            gid("Course", draft.id),
            "NOT_FOR_SALE",
        ),
        (
            "own course",
            seller_token,
            gid("Course", shop.course.id),
            "NOT_FOR_SALE",
        ),
        (
            "not a product",
            shop.buyer_token.clone(),
            gid("User", 1),
            "INVALID",
        ),
        (
            "missing product",
            shop.buyer_token.clone(),
            gid("Course", 999_999),
            "NOT_FOUND",
        ),
    ];
    for (name, token, product, code) in cases {
        let payload = app
            .mutate(&token, CREATE_ORDER, json!({ "p": product, "k": name }))
            .await;
        assert_eq!(
            payload["userErrors"][0]["code"], code,
            "case {name}: {payload}"
        );
    }
    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 0);

    let taken = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": gid("Course", free.id), "k": "free" }),
        )
        .await;
    assert_eq!(taken["order"]["status"], "PAID");
    assert_eq!(taken["payment"], Value::Null);
    assert_eq!(taken["order"]["amount"]["amount"], 0);
    let held = entitlement::Entity::find()
        .filter(entitlement::Column::ProductKind.eq(ProductKind::Course))
        .filter(entitlement::Column::ProductId.eq(free.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(held, 1);

    // Anonymous visitors cannot buy; orders stay private.
    let body = app
        .gql(
            CREATE_ORDER,
            json!({ "p": gid("Course", shop.course.id), "k": "anon" }),
        )
        .await;
    assert_eq!(crate::helpers::error_code(&body), "UNAUTHENTICATED");
}
