//! Money under faults: what happens when WeChat Pay and our side disagree, when a
//! request or a notification is lost, forged or late, and when checkouts race.
//! Everything goes through the HTTP API or the reconciliation pass, against the
//! simulated provider or the fake WeChat Pay (`wechatpay_fake`).

use chrono::{Duration, Utc};
use entity::enums::{CourseStatus, OrderStatus, ProductKind};
use entity::{course, order, payment_event, refund};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use zhiku::service::orders::{Reconciled, reconcile};

use crate::helpers::{Fixture, TestApp, gid};
use crate::payments::{ACCESS, CREATE_ORDER, REFUND, notify, order_row, shop};
use crate::wechatpay::{platform_notification, wechatpay_app};

/// Cancels an order.
pub const CANCEL: &str = r#"mutation($o: ID!) { cancelOrder(input: {order: $o}) { order { status } userErrors { code message } } }"#;

/// One reconciliation pass, `minutes_later` from now.
pub async fn reconcile_at(app: &TestApp, minutes_later: i64) -> Reconciled {
    reconcile(
        &app.db,
        &app.effects,
        &app.payments,
        Duration::minutes(5),
        Utc::now() + Duration::minutes(minutes_later),
    )
    .await
    .unwrap()
}

/// Whether the viewer may open the course.
pub async fn has_access(app: &TestApp, token: &str, course_id: i64) -> bool {
    let (_, body) = app
        .gql_as(token, ACCESS, json!({ "c": gid("Course", course_id) }))
        .await;
    body["data"]["node"]["viewerHasAccess"] == true
}

/// The refunds of an order.
pub async fn refunds_of(app: &TestApp, order_id: i64) -> Vec<refund::Model> {
    refund::Entity::find()
        .filter(refund::Column::OrderId.eq(order_id))
        .all(&app.db)
        .await
        .unwrap()
}

/// Buys the shop's course and returns the createOrder payload.
pub async fn buy(app: &TestApp, token: &str, course_id: i64, key: &str) -> Value {
    app.mutate(
        token,
        CREATE_ORDER,
        json!({ "p": gid("Course", course_id), "k": key }),
    )
    .await
}

/// Pays an order by a notification from the fake's platform key.
pub fn paid_notification(
    out_trade_no: &str,
    amount: i64,
) -> (zhiku::payments::notification::SignatureHeaders, String) {
    platform_notification(
        "TRANSACTION.SUCCESS",
        "transaction",
        json!({ "appid": "wx-test-app", "mchid": "1230000109", "out_trade_no": out_trade_no,
            "transaction_id": format!("4200{out_trade_no}"), "trade_state": "SUCCESS",
            "payer": { "openid": "buyer-openid" }, "amount": { "total": amount, "currency": "CNY" } }),
    )
}

#[tokio::test]
async fn cancelling_an_order_paid_meanwhile_completes_it_instead() {
    let (base, fake) = crate::wechatpay_fake::start().await;
    let app = wechatpay_app(base).await;
    let shop = shop(&app, 9900).await;
    let bought = buy(&app, &shop.buyer_token, shop.course.id, "k").await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    // The learner paid; the notification has not arrived yet.
    fake.lock().unwrap().paid.insert(out_trade_no.clone(), 9900);
    let cancelled = app
        .mutate(
            &shop.buyer_token,
            CANCEL,
            json!({ "o": bought["order"]["id"] }),
        )
        .await;
    assert_eq!(
        cancelled["userErrors"][0]["code"], "INVALID_STATE",
        "{cancelled}"
    );
    let row = order_row(&app, &out_trade_no).await;
    assert_eq!(
        row.status,
        OrderStatus::Paid,
        "closing at WeChat Pay failed, so the query decided"
    );
    assert!(has_access(&app, &shop.buyer_token, shop.course.id).await);
    let calls: Vec<String> = fake
        .lock()
        .unwrap()
        .calls
        .iter()
        .map(|c| c.1.clone())
        .collect();
    assert!(calls.iter().any(|p| p.ends_with("/close")), "{calls:?}");
}

#[tokio::test]
async fn a_cancellation_the_provider_confirms_closes_and_a_late_payment_still_completes() {
    let (base, fake) = crate::wechatpay_fake::start().await;
    let app = wechatpay_app(base).await;
    let shop = shop(&app, 9900).await;
    let bought = buy(&app, &shop.buyer_token, shop.course.id, "k").await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let cancelled = app
        .mutate(
            &shop.buyer_token,
            CANCEL,
            json!({ "o": bought["order"]["id"] }),
        )
        .await;
    assert_eq!(cancelled["order"]["status"], "CLOSED", "{cancelled}");
    assert!(fake.lock().unwrap().closed.contains(&out_trade_no));
    // A payment that got through anyway is not dropped: the learner gets the course.
    let (headers, body) = paid_notification(&out_trade_no, 9900);
    assert_eq!(notify(&app, &headers, body).await, 204);
    let row = order_row(&app, &out_trade_no).await;
    assert_eq!(row.status, OrderStatus::Paid);
    assert!(row.closed_at.is_none() && row.transaction_id.is_some());
    assert!(has_access(&app, &shop.buyer_token, shop.course.id).await);
}

#[tokio::test]
async fn notifications_must_match_the_order_in_currency_payer_and_refund() {
    let (base, _fake) = crate::wechatpay_fake::start().await;
    let app = wechatpay_app(base).await;
    let shop = shop(&app, 9900).await;
    let bought = buy(&app, &shop.buyer_token, shop.course.id, "k").await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let payment = |currency: &str, openid: &str| {
        platform_notification(
            "TRANSACTION.SUCCESS",
            "transaction",
            json!({ "appid": "wx-test-app", "mchid": "1230000109", "out_trade_no": out_trade_no,
                "transaction_id": "4200000999", "trade_state": "SUCCESS",
                "payer": { "openid": openid }, "amount": { "total": 9900, "currency": currency } }),
        )
    };
    for (name, (h, b)) in [
        ("another currency", payment("USD", "buyer-openid")),
        ("another payer", payment("CNY", "someone-else")),
    ] {
        assert_eq!(notify(&app, &h, b).await, 400, "{name}");
    }
    assert_eq!(
        order_row(&app, &out_trade_no).await.status,
        OrderStatus::Pending
    );
    let (h, b) = payment("CNY", "buyer-openid");
    assert_eq!(notify(&app, &h, b).await, 204);
    app.mutate(
        &shop.admin_token,
        REFUND,
        json!({ "o": bought["order"]["id"], "k": "r" }),
    )
    .await;
    let found = refund::Entity::find().one(&app.db).await.unwrap().unwrap();
    let (h, b) = platform_notification(
        "REFUND.SUCCESS",
        "refund",
        json!({ "mchid": "1230000109", "out_trade_no": "ZK-SOME-OTHER-ORDER", "transaction_id": "4200000999",
            "out_refund_no": found.out_refund_no, "refund_id": "50300000001", "refund_status": "SUCCESS",
            "amount": { "total": 9900, "refund": 9900 } }),
    );
    assert_eq!(
        notify(&app, &h, b).await,
        400,
        "a refund naming another order"
    );
    assert_eq!(
        order_row(&app, &out_trade_no).await.status,
        OrderStatus::Refunding
    );
    let events = payment_event::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(events, 1, "only the genuine payment was recorded");
}

#[tokio::test]
async fn a_forged_answer_of_the_merchant_api_completes_nothing() {
    let (base, fake) = crate::wechatpay_fake::start().await;
    let app = wechatpay_app(base).await;
    let shop = shop(&app, 9900).await;
    let bought = buy(&app, &shop.buyer_token, shop.course.id, "k").await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    {
        let mut fake = fake.lock().unwrap();
        fake.paid.insert(out_trade_no.clone(), 9900);
        fake.forge = true; // someone between us and WeChat Pay answers "SUCCESS"
    }
    let done = reconcile_at(&app, 10).await;
    assert_eq!(done, Reconciled::default());
    assert_eq!(
        order_row(&app, &out_trade_no).await.status,
        OrderStatus::Pending
    );
    assert!(!has_access(&app, &shop.buyer_token, shop.course.id).await);
    fake.lock().unwrap().forge = false;
    assert_eq!(reconcile_at(&app, 10).await.completed, 1);
}

#[tokio::test]
async fn reconciliation_walks_every_pending_order_and_closes_what_never_reached_the_provider() {
    let (base, fake) = crate::wechatpay_fake::start().await;
    let app = wechatpay_app(base).await;
    let shop = shop(&app, 9900).await;
    let old = Utc::now() - Duration::hours(2);
    // 520 older orders the learner is still paying (they stay pending, and used to fill
    // the 500 a pass looked at)...
    let mut paying = Vec::new();
    for n in 0..520 {
        let out_trade_no = format!("ZKPAYING{n:06}");
        paying.push(out_trade_no.clone());
        order::ActiveModel {
            out_trade_no: Set(out_trade_no),
            buyer_id: Set(shop.buyer_id),
            product_kind: Set(ProductKind::Course),
            product_id: Set(100_000 + n),
            amount_fen: Set(100),
            currency: Set("CNY".into()),
            status: Set(OrderStatus::Pending),
            idempotency_key: Set(format!("paying-{n}")),
            prepay_id: Set(Some("wx-prepay".into())),
            created_at: Set(old),
            expires_at: Set(Utc::now() + Duration::minutes(20)),
            updated_at: Set(old),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    {
        let mut fake = fake.lock().unwrap();
        for no in &paying {
            fake.prepaid.insert(no.clone(), "buyer-openid".into());
            fake.paying.insert(no.clone());
        }
    }
    // ...an expired one whose prepay never happened, one WeChat Pay never heard of...
    let mut expired = Vec::new();
    for (n, prepay) in [(0, None), (1, Some("wx-lost-prepay".to_owned()))] {
        let out_trade_no = format!("ZKEXPIRED{n}");
        expired.push(out_trade_no.clone());
        order::ActiveModel {
            out_trade_no: Set(out_trade_no),
            buyer_id: Set(shop.buyer_id),
            product_kind: Set(ProductKind::Course),
            product_id: Set(200_000 + n),
            amount_fen: Set(100),
            currency: Set("CNY".into()),
            status: Set(OrderStatus::Pending),
            idempotency_key: Set(format!("expired-{n}")),
            prepay_id: Set(prepay),
            created_at: Set(old),
            expires_at: Set(old + Duration::minutes(30)),
            updated_at: Set(old),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    // ...and the newest, paid, whose notification was lost.
    let bought = buy(&app, &shop.buyer_token, shop.course.id, "k").await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    fake.lock().unwrap().paid.insert(out_trade_no.clone(), 9900);

    let done = reconcile_at(&app, 10).await;
    assert_eq!(done.completed, 1, "{done:?}");
    assert_eq!(done.closed, 2, "{done:?}");
    assert_eq!(
        order_row(&app, &out_trade_no).await.status,
        OrderStatus::Paid
    );
    for no in &expired {
        assert_eq!(
            order_row(&app, no).await.status,
            OrderStatus::Closed,
            "{no}"
        );
    }
    let asked_without_prepay = fake
        .lock()
        .unwrap()
        .calls
        .iter()
        .any(|c| c.1.contains("ZKEXPIRED0"));
    assert!(
        !asked_without_prepay,
        "an order that never reached the provider closes here"
    );
    let still_pending = order::Entity::find()
        .filter(order::Column::Status.eq(OrderStatus::Pending))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(still_pending, 520);
}

#[tokio::test]
async fn emoji_and_long_titles_are_fitted_to_wechat_pay_descriptions() {
    let (base, fake) = crate::wechatpay_fake::start().await;
    let app = wechatpay_app(base).await;
    let shop = shop(&app, 9900).await;
    let fixture = Fixture::new(&app.db);
    let seller = shop.seller.clone();
    let title = format!("🚀 Rust 从入门到精通 {}", "系统编程".repeat(20));
    let course = fixture
        .course(
            &seller,
            2,
            &title,
            "编程开发",
            1990,
            CourseStatus::Published,
        )
        .await;
    let bought = buy(&app, &shop.buyer_token, course.id, "k").await;
    assert_eq!(bought["userErrors"], json!([]), "{bought}");
    assert_eq!(bought["order"]["status"], "PENDING");
    let description = fake.lock().unwrap().descriptions[0].clone();
    assert!(
        description.len() <= 127 && description.starts_with("知库 -  Rust"),
        "{description}"
    );
}

#[tokio::test]
async fn twenty_concurrent_checkouts_make_one_order_and_one_grant() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let keys: Vec<String> = (0..20).map(|n| format!("paid-{n}")).collect();
    let attempts = keys
        .iter()
        .map(|key| buy(&app, &shop.buyer_token, shop.course.id, key));
    let results = futures_util::future::join_all(attempts).await;
    let ids: std::collections::HashSet<String> = results
        .iter()
        .map(|r| r["order"]["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        ids.len(),
        1,
        "every caller gets the one open order: {results:?}"
    );
    assert_eq!(order::Entity::find().count(&app.db).await.unwrap(), 1);

    let fixture = Fixture::new(&app.db);
    let seller = shop.seller.clone();
    let free = fixture
        .course(&seller, 4, "免费课", "编程开发", 0, CourseStatus::Published)
        .await;
    let keys: Vec<String> = (0..20).map(|n| format!("free-{n}")).collect();
    let attempts = keys
        .iter()
        .map(|key| buy(&app, &shop.buyer_token, free.id, key));
    let results = futures_util::future::join_all(attempts).await;
    let granted = results
        .iter()
        .filter(|r| r["order"]["status"] == "PAID")
        .count();
    let owned = results
        .iter()
        .filter(|r| r["userErrors"][0]["code"] == "ALREADY_OWNED")
        .count();
    assert_eq!((granted, owned), (1, 19), "{results:?}");
    let free_orders = order::Entity::find()
        .filter(order::Column::ProductId.eq(free.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(free_orders, 1);
    let sales = course::Entity::find_by_id(free.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .sales_count;
    assert_eq!(sales, free.sales_count + 1);
}

#[tokio::test]
async fn the_database_refuses_a_second_pending_order_for_one_buyer_and_product() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    buy(&app, &shop.buyer_token, shop.course.id, "k").await;
    let duplicate = order::ActiveModel {
        out_trade_no: Set("ZKDUPLICATE0001".into()),
        buyer_id: Set(shop.buyer_id),
        product_kind: Set(ProductKind::Course),
        product_id: Set(shop.course.id),
        amount_fen: Set(9900),
        currency: Set("CNY".into()),
        status: Set(OrderStatus::Pending),
        idempotency_key: Set("other-key".into()),
        created_at: Set(Utc::now()),
        expires_at: Set(Utc::now() + Duration::minutes(30)),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await;
    assert!(duplicate.is_err(), "the partial unique index holds");
    // A closed one beside it is fine.
    let closed = order::ActiveModel {
        out_trade_no: Set("ZKCLOSED00001".into()),
        buyer_id: Set(shop.buyer_id),
        product_kind: Set(ProductKind::Course),
        product_id: Set(shop.course.id),
        amount_fen: Set(9900),
        currency: Set("CNY".into()),
        status: Set(OrderStatus::Closed),
        idempotency_key: Set("closed-key".into()),
        created_at: Set(Utc::now()),
        expires_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await;
    assert!(closed.is_ok());
}

#[tokio::test]
async fn the_background_reconciliation_runs_in_the_app() {
    let (base, fake) = crate::wechatpay_fake::start().await;
    let app = TestApp::spawn_with_payments(zhiku::config::PaymentConfig {
        reconcile_interval_secs: 1,
        reconcile_after_minutes: 1,
        ..crate::wechatpay::wechatpay_config(base)
    })
    .await;
    let shop = shop(&app, 9900).await;
    let bought = buy(&app, &shop.buyer_token, shop.course.id, "k").await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    // Paid at WeChat Pay two minutes ago; the notification was lost.
    order::Entity::update_many()
        .col_expr(
            order::Column::CreatedAt,
            sea_orm::sea_query::Expr::value(Utc::now() - Duration::minutes(2)),
        )
        .filter(order::Column::OutTradeNo.eq(out_trade_no.as_str()))
        .exec(&app.db)
        .await
        .unwrap();
    fake.lock().unwrap().paid.insert(out_trade_no.clone(), 9900);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while order_row(&app, &out_trade_no).await.status != OrderStatus::Paid {
        assert!(
            std::time::Instant::now() < deadline,
            "the background pass never completed the order"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(has_access(&app, &shop.buyer_token, shop.course.id).await);
}
