//! Buying: orders, WeChat Pay (against a local server that checks signatures as WeChat
//! Pay does), notifications, refunds, reconciliation, and the simulated provider.

use chrono::{Duration, Utc};
use entity::enums::{CourseStatus, OrderStatus, ProductKind, Role};
use entity::{course, entitlement, order, payment_event};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use zhiku::config::{PaymentConfig, PaymentProviderKind, Secret};
use zhiku::payments::crypto;
use zhiku::payments::notification::SignatureHeaders;
use zhiku::payments::simulated::{Simulated, build_notification, post_notification};

use crate::helpers::{
    Fixture, TestApp, fixture_path, fixture_private_key, fixture_public_key, gid,
};

pub const CREATE_ORDER: &str = r#"mutation($p: ID!, $k: String!) {
  createOrder(input: {product: $p, idempotencyKey: $k}) {
    order { id outTradeNo status amount { amount } paidAt }
    payment { timeStamp nonceStr package signType paySign }
    userErrors { field code message }
  }
}"#;
pub const REFUND: &str = r#"mutation($o: ID!, $k: String!) {
  refundOrder(input: {order: $o, reason: "退款", idempotencyKey: $k}) { order { status refundedAt } userErrors { code message } }
}"#;
pub const ACCESS: &str = r#"query($c: ID!) { node(id: $c) { ... on Course { viewerHasAccess } } }"#;
const APIV3: &str = "0123456789abcdef0123456789abcdef";
use crate::wechatpay_fake::PLATFORM_SERIAL;

/// A seller with a published paid course, a buyer (openid `buyer-openid`) with a
/// mini-program token, and an admin with a console token.
pub struct Shop {
    pub course: course::Model,
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
    let seller = entity::creator::Entity::find_by_id(shop.course.creator_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
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

// ---------------------------------------------------------------------------------
// The real provider against a local WeChat Pay.
// ---------------------------------------------------------------------------------

/// Settings of the real WeChat Pay provider with the test merchant's keys, its API at
/// `base`.
pub fn wechatpay_config(base: String) -> PaymentConfig {
    PaymentConfig {
        payment_provider: PaymentProviderKind::Wechatpay,
        wechatpay_mchid: "1230000109".into(),
        wechatpay_appid: "wx-test-app".into(),
        wechatpay_merchant_serial: "MERCHANT_SERIAL".into(),
        wechatpay_merchant_key: Some(fixture_path("merchant_key.pem").into()),
        wechatpay_apiv3_key: Some(Secret::new(APIV3)),
        wechatpay_platform_keys: format!(
            "{PLATFORM_SERIAL}={},PUB_KEY_ID_0114232134912410000000000000={}",
            fixture_path("platform_cert.pem"),
            fixture_path("platform_pub.pem")
        ),
        wechatpay_api_base: base,
        reconcile_interval_secs: 0,
        ..PaymentConfig::default()
    }
}

/// An app on the real WeChat Pay provider, pointed at `base` (the fake).
pub async fn wechatpay_app(base: String) -> TestApp {
    TestApp::spawn_with_payments(wechatpay_config(base)).await
}

/// A notification signed with the fake platform key, as WeChat Pay sends it.
pub fn platform_notification(
    event_type: &str,
    original_type: &str,
    resource: Value,
) -> (SignatureHeaders, String) {
    let platform = fixture_private_key("platform_key.pem");
    build_notification(
        &platform,
        PLATFORM_SERIAL,
        &crypto::apiv3_key(APIV3).unwrap(),
        event_type,
        original_type,
        &resource,
        Utc::now(),
    )
}

#[tokio::test]
async fn prepay_carries_a_signature_wechat_pay_accepts() {
    let (base, fake) = crate::wechatpay_fake::start().await;
    let app = wechatpay_app(base).await;
    let shop = shop(&app, 9900).await;
    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": gid("Course", shop.course.id), "k": "k" }),
        )
        .await;
    // The fake refuses requests without Accept or User-Agent, as WeChat Pay does.
    assert_eq!(bought["userErrors"], json!([]), "{bought}");
    assert!(
        fake.lock().unwrap().user_agents[0].starts_with("zhiku/"),
        "every request names its client"
    );
    assert_eq!(
        bought["payment"]["package"],
        "prepay_id=wx26112221580621e9b071c00d9e093b0000"
    );
    let calls = fake.lock().unwrap().calls.clone();
    assert_eq!(
        calls,
        vec![(
            "POST".to_owned(),
            "/v3/pay/transactions/jsapi".to_owned(),
            true
        )]
    );
    // paySign with the merchant key.
    let payment = &bought["payment"];
    let message = format!(
        "wx-test-app\n{}\n{}\n{}\n",
        payment["timeStamp"].as_str().unwrap(),
        payment["nonceStr"].as_str().unwrap(),
        payment["package"].as_str().unwrap()
    );
    let merchant = fixture_public_key("merchant_pub.pem");
    crypto::verify(
        &merchant,
        message.as_bytes(),
        payment["paySign"].as_str().unwrap(),
    )
    .unwrap();
}

#[tokio::test]
async fn reconciliation_completes_an_order_whose_notification_never_came() {
    let (base, fake) = crate::wechatpay_fake::start().await;
    let app = wechatpay_app(base).await;
    let shop = shop(&app, 9900).await;
    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": gid("Course", shop.course.id), "k": "k" }),
        )
        .await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    fake.lock().unwrap().paid.insert(out_trade_no.clone(), 9900);
    let later = Utc::now() + Duration::minutes(10);
    let done = zhiku::service::orders::reconcile(
        &app.db,
        &app.effects,
        app.payments.provider.as_ref(),
        Duration::minutes(5),
        later,
    )
    .await
    .unwrap();
    assert_eq!(done.completed, 1);
    let paid = order_row(&app, &out_trade_no).await;
    assert_eq!(paid.status, OrderStatus::Paid);
    assert_eq!(paid.transaction_id.as_deref(), Some("4200000777"));
    let (_, body) = app
        .gql_as(
            &shop.buyer_token,
            ACCESS,
            json!({ "c": gid("Course", shop.course.id) }),
        )
        .await;
    assert_eq!(body["data"]["node"]["viewerHasAccess"], true);
    // A second pass finds nothing to do; the notification arriving late changes nothing.
    let again = zhiku::service::orders::reconcile(
        &app.db,
        &app.effects,
        app.payments.provider.as_ref(),
        Duration::minutes(5),
        later,
    )
    .await
    .unwrap();
    assert_eq!(again.completed, 0);

    // An order nobody paid is closed once expired.
    let fixture = Fixture::new(&app.db);
    let seller = entity::creator::Entity::find_by_id(shop.course.creator_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let other = fixture
        .course(
            &seller,
            5,
            "另一门",
            "编程开发",
            500,
            CourseStatus::Published,
        )
        .await;
    let unpaid = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": gid("Course", other.id), "k": "k2" }),
        )
        .await;
    let unpaid_no = unpaid["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let much_later = Utc::now() + Duration::hours(1);
    let closed = zhiku::service::orders::reconcile(
        &app.db,
        &app.effects,
        app.payments.provider.as_ref(),
        Duration::minutes(5),
        much_later,
    )
    .await
    .unwrap();
    assert_eq!(closed.closed, 1);
    assert_eq!(
        order_row(&app, &unpaid_no).await.status,
        OrderStatus::Closed
    );
}

#[tokio::test]
async fn a_refund_waits_for_its_notification_then_revokes_access() {
    let (base, _fake) = crate::wechatpay_fake::start().await;
    let app = wechatpay_app(base).await;
    let shop = shop(&app, 9900).await;
    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": gid("Course", shop.course.id), "k": "k" }),
        )
        .await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let (headers, body) = platform_notification(
        "TRANSACTION.SUCCESS",
        "transaction",
        json!({ "appid": "wx-test-app", "mchid": "1230000109", "out_trade_no": out_trade_no,
            "transaction_id": "4200000888", "trade_state": "SUCCESS",
            "payer": { "openid": "buyer-openid" }, "amount": { "total": 9900, "currency": "CNY" } }),
    );
    assert_eq!(notify(&app, &headers, body).await, 204);
    let paid = order_row(&app, &out_trade_no).await;
    assert_eq!(paid.status, OrderStatus::Paid);

    // The selling creator may refund within the window.
    let seller = entity::creator::Entity::find_by_id(shop.course.creator_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let pending = app
        .mutate(
            &app.token(seller.user_id),
            REFUND,
            json!({ "o": gid("Order", paid.id), "k": "r" }),
        )
        .await;
    assert_eq!(pending["order"]["status"], "REFUNDING", "{pending}");
    let (_, body) = app
        .gql_as(
            &shop.buyer_token,
            ACCESS,
            json!({ "c": gid("Course", shop.course.id) }),
        )
        .await;
    assert_eq!(
        body["data"]["node"]["viewerHasAccess"], true,
        "access stays until the money is back"
    );

    let refund = entity::refund::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let (headers, body) = platform_notification(
        "REFUND.SUCCESS",
        "refund",
        json!({ "mchid": "1230000109", "out_trade_no": out_trade_no, "transaction_id": "4200000888",
            "out_refund_no": refund.out_refund_no, "refund_id": "50300000001", "refund_status": "SUCCESS",
            "amount": { "total": 9900, "refund": 9900, "payer_total": 9900, "payer_refund": 9900 } }),
    );
    assert_eq!(notify(&app, &headers, body).await, 204);
    assert_eq!(
        order_row(&app, &out_trade_no).await.status,
        OrderStatus::Refunded
    );
    let (_, body) = app
        .gql_as(
            &shop.buyer_token,
            ACCESS,
            json!({ "c": gid("Course", shop.course.id) }),
        )
        .await;
    assert_eq!(body["data"]["node"]["viewerHasAccess"], false);

    // Learners cannot refund.
    let (_, body) = app
        .gql_as(
            &shop.buyer_token,
            REFUND,
            json!({ "o": gid("Order", paid.id), "k": "x" }),
        )
        .await;
    assert_eq!(crate::helpers::error_code(&body), "FORBIDDEN");
}

#[tokio::test]
async fn a_paid_group_membership_opens_posts_until_it_expires_and_sellers_see_their_sales() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let seller = entity::creator::Entity::find_by_id(shop.course.creator_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let seller_token = app.token(seller.user_id);
    let group = app
        .mutate(&seller_token, r#"mutation { createGroup(input: {name: "付费圈", priceFen: 36500, membershipDays: 30}) { group { id } } }"#, json!({}))
        .await["group"]["id"]
        .clone();
    app.mutate(
        &seller_token,
        r#"mutation($g: ID!) { createPost(input: {group: $g, body: "会员内容"}) { post { id } } }"#,
        json!({ "g": group }),
    )
    .await;
    let posts = r#"query($g: ID!) { node(id: $g) { ... on CommunityGroup { locked posts { edges { node { body locked } } } } } }"#;
    let (_, before) = app
        .gql_as(&shop.buyer_token, posts, json!({ "g": group }))
        .await;
    assert_eq!(
        before["data"]["node"]["posts"]["edges"][0]["node"]["body"],
        Value::Null
    );

    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": group, "k": "g" }),
        )
        .await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let (headers, body) =
        simulated(&app).payment_success(&out_trade_no, 36500, "buyer-openid", Utc::now());
    assert_eq!(notify(&app, &headers, body).await, 204);
    let (_, after) = app
        .gql_as(&shop.buyer_token, posts, json!({ "g": group }))
        .await;
    assert_eq!(after["data"]["node"]["locked"], false, "{after}");
    assert_eq!(
        after["data"]["node"]["posts"]["edges"][0]["node"]["body"],
        "会员内容"
    );
    let held = entitlement::Entity::find()
        .filter(entitlement::Column::ProductKind.eq(ProductKind::Group))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let days = (held.expires_at.unwrap() - held.granted_at).num_days();
    assert_eq!(days, 30);
    assert_eq!(
        entity::group_membership::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1
    );

    // Once expired, the posts lock again.
    entitlement::Entity::update_many()
        .col_expr(
            entitlement::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(Utc::now() - Duration::days(1)),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let (_, expired) = app
        .gql_as(&shop.buyer_token, posts, json!({ "g": group }))
        .await;
    assert_eq!(expired["data"]["node"]["locked"], true);

    // The seller sees the sale in `orders`; the buyer sees only their own.
    let list = "{ orders { totalCount edges { node { outTradeNo buyer { id } } } } }";
    let (_, sold) = app.gql_as(&seller_token, list, json!({})).await;
    assert_eq!(sold["data"]["orders"]["totalCount"], 1, "{sold}");
    let (_, mine) = app.gql_as(&shop.buyer_token, list, json!({})).await;
    assert_eq!(mine["data"]["orders"]["totalCount"], 1);
    let stranger = Fixture::new(&app.db).user("stranger", Role::Learner).await;
    let (_, theirs) = app.gql_as(&app.token(stranger.id), list, json!({})).await;
    assert_eq!(theirs["data"]["orders"]["totalCount"], 0);
}

#[tokio::test]
async fn buyers_cancel_pending_orders_and_ended_livestreams_sell_only_replays() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": gid("Course", shop.course.id), "k": "c" }),
        )
        .await;
    let order_id = bought["order"]["id"].clone();
    let cancel = r#"mutation($o: ID!) { cancelOrder(input: {order: $o}) { order { status } userErrors { code } } }"#;
    let stranger = Fixture::new(&app.db).user("stranger", Role::Learner).await;
    let (_, body) = app
        .gql_as(&app.token(stranger.id), cancel, json!({ "o": order_id }))
        .await;
    assert_eq!(crate::helpers::error_code(&body), "FORBIDDEN");
    let cancelled = app
        .mutate(&shop.buyer_token, cancel, json!({ "o": order_id }))
        .await;
    assert_eq!(cancelled["order"]["status"], "CLOSED");
    let again = app
        .mutate(&shop.buyer_token, cancel, json!({ "o": order_id }))
        .await;
    assert_eq!(again["userErrors"][0]["code"], "INVALID_STATE");
    // A payment confirmed after closing (the learner paid while it was being cancelled)
    // completes the order: the money was taken, so the course is theirs.
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let (headers, body) =
        simulated(&app).payment_success(&out_trade_no, 9900, "buyer-openid", Utc::now());
    assert_eq!(notify(&app, &headers, body).await, 204);
    assert_eq!(
        order_row(&app, &out_trade_no).await.status,
        OrderStatus::Paid
    );
    assert_eq!(entitlement::Entity::find().count(&app.db).await.unwrap(), 1);

    let seller = entity::creator::Entity::find_by_id(shop.course.creator_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let seller_token = app.token(seller.user_id);
    let schedule = r#"mutation($s: DateTime!) { scheduleLivestream(input: {title: "直播", scheduledStart: $s, priceFen: 990}) { livestream { id } } }"#;
    let start = (Utc::now() + Duration::days(1)).to_rfc3339();
    let live = app
        .mutate(&seller_token, schedule, json!({ "s": start }))
        .await["livestream"]["id"]
        .clone();
    let step = |name: &str| {
        format!(
            r#"mutation($l: ID!) {{ {name}(input: {{livestream: $l}}) {{ livestream {{ status }} }} }}"#
        )
    };
    app.mutate(
        &seller_token,
        &step("startLivestream"),
        json!({ "l": live }),
    )
    .await;
    app.mutate(&seller_token, &step("endLivestream"), json!({ "l": live }))
        .await;
    let no_replay = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": live, "k": "l1" }),
        )
        .await;
    assert_eq!(no_replay["userErrors"][0]["code"], "NOT_FOR_SALE");
    let with_replay = app
        .mutate(&seller_token, schedule, json!({ "s": start }))
        .await["livestream"]["id"]
        .clone();
    app.mutate(
        &seller_token,
        &step("startLivestream"),
        json!({ "l": with_replay }),
    )
    .await;
    app.mutate(
        &seller_token,
        r#"mutation($l: ID!) { endLivestream(input: {livestream: $l, replayUrl: "https://media.example/r.m3u8"}) { livestream { status } } }"#,
        json!({ "l": with_replay }),
    )
    .await;
    let replay = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": with_replay, "k": "l2" }),
        )
        .await;
    assert_eq!(replay["order"]["status"], "PENDING", "{replay}");
}
