//! The real WeChat Pay provider against the local fake (`wechatpay_fake`): prepay
//! signatures, reconciliation of a lost notification, refunds that wait for theirs.

use chrono::{Duration, Utc};
use entity::enums::{CourseStatus, OrderStatus};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use zhiku::config::{PaymentConfig, PaymentProviderKind, Secret};
use zhiku::payments::crypto;
use zhiku::payments::notification::SignatureHeaders;
use zhiku::payments::simulated::build_notification;

use crate::helpers::{
    Fixture, TestApp, fixture_path, fixture_private_key, fixture_public_key, gid,
};
use crate::payments::{ACCESS, CREATE_ORDER, REFUND, notify, order_row, shop};
use crate::wechatpay_fake::PLATFORM_SERIAL;

/// The APIv3 key of the test merchant.
const APIV3: &str = "0123456789abcdef0123456789abcdef";

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
        &app.payments,
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
        &app.payments,
        Duration::minutes(5),
        later,
    )
    .await
    .unwrap();
    assert_eq!(again.completed, 0);

    // An order nobody paid is closed once expired.
    let fixture = Fixture::new(&app.db);
    let seller = shop.seller.clone();
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
        &app.payments,
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
    let seller = shop.seller.clone();
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
async fn an_h5_order_prepays_in_the_official_account_and_its_payment_is_ours() {
    let (base, fake) = crate::wechatpay_fake::start().await;
    let app = TestApp::spawn_configured(|settings| {
        settings.payments = wechatpay_config(base);
        settings.auth.oa_appid = "wx-oa-test".into();
    })
    .await;
    let shop = shop(&app, 9900).await;
    // The buyer signed in on an H5 page too: an official-account identity and H5 token.
    let fixture_db = &app.db;
    use sea_orm::ActiveModelTrait;
    entity::user_identity::ActiveModel {
        user_id: sea_orm::Set(shop.buyer_id),
        app: sea_orm::Set(entity::enums::IdentityApp::OfficialAccount),
        openid: sea_orm::Set("oa-buyer".into()),
        created_at: sea_orm::Set(Utc::now()),
        ..Default::default()
    }
    .insert(fixture_db)
    .await
    .unwrap();
    let h5 = app.token_for(shop.buyer_id, zhiku::auth::tokens::Audience::H5);
    let bought = app
        .mutate(
            &h5,
            CREATE_ORDER,
            json!({ "p": gid("Course", shop.course.id), "k": "h5" }),
        )
        .await;
    assert_eq!(bought["userErrors"], json!([]), "{bought}");
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    {
        let fake = fake.lock().unwrap();
        assert_eq!(fake.prepaid_appids[&out_trade_no], "wx-oa-test");
        assert_eq!(fake.prepaid[&out_trade_no], "oa-buyer");
    }
    // What getBrandWCPayRequest takes, appId included, signed for that app.
    let payment = &bought["payment"];
    assert_eq!(payment["appId"], "wx-oa-test");
    let message = format!(
        "wx-oa-test\n{}\n{}\n{}\n",
        payment["timeStamp"].as_str().unwrap(),
        payment["nonceStr"].as_str().unwrap(),
        payment["package"].as_str().unwrap()
    );
    crypto::verify(
        &fixture_public_key("merchant_pub.pem"),
        message.as_bytes(),
        payment["paySign"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(
        order_row(&app, &out_trade_no).await.pay_app,
        entity::enums::IdentityApp::OfficialAccount
    );

    // A payment in an app that is not ours, or by the buyer's mini-program openid,
    // is refused; the one WeChat Pay sends for this order is applied.
    for (appid, openid) in [
        ("wx-someone-else", "oa-buyer"),
        ("wx-oa-test", "buyer-openid"),
    ] {
        let (headers, body) = platform_notification(
            "TRANSACTION.SUCCESS",
            "transaction",
            json!({ "appid": appid, "mchid": "1230000109", "out_trade_no": out_trade_no,
                "transaction_id": "4200000999", "trade_state": "SUCCESS",
                "payer": { "openid": openid }, "amount": { "total": 9900, "currency": "CNY" } }),
        );
        assert_ne!(notify(&app, &headers, body).await, 204, "{appid} {openid}");
        assert_eq!(
            order_row(&app, &out_trade_no).await.status,
            OrderStatus::Pending
        );
    }
    let (headers, body) = platform_notification(
        "TRANSACTION.SUCCESS",
        "transaction",
        json!({ "appid": "wx-oa-test", "mchid": "1230000109", "out_trade_no": out_trade_no,
            "transaction_id": "4200000999", "trade_state": "SUCCESS",
            "payer": { "openid": "oa-buyer" }, "amount": { "total": 9900, "currency": "CNY" } }),
    );
    assert_eq!(notify(&app, &headers, body).await, 204);
    assert_eq!(
        order_row(&app, &out_trade_no).await.status,
        OrderStatus::Paid
    );
}

#[tokio::test]
async fn h5_orders_are_refused_while_the_official_account_is_not_configured() {
    let (base, _fake) = crate::wechatpay_fake::start().await;
    let app = wechatpay_app(base).await;
    let shop = shop(&app, 9900).await;
    let h5 = app.token_for(shop.buyer_id, zhiku::auth::tokens::Audience::H5);
    let refused = app
        .mutate(
            &h5,
            CREATE_ORDER,
            json!({ "p": gid("Course", shop.course.id), "k": "h5" }),
        )
        .await;
    assert_eq!(
        refused["userErrors"][0]["code"], "PAYMENT_UNAVAILABLE",
        "{refused}"
    );
    assert!(
        entity::order::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty(),
        "no order is written"
    );
}
