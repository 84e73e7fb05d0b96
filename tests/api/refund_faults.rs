//! Refunds under faults: refused by WeChat Pay, lost on the way, abnormal then
//! successful, and the automatic refund of a payment that can no longer be fulfilled.

use chrono::Utc;
use entity::enums::{CourseStatus, OrderStatus, RefundStatus};
use entity::{course, entitlement, refund};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::helpers::{Fixture, TestApp, gid};
use crate::payment_faults::{CANCEL, buy, has_access, paid_notification, reconcile_at, refunds_of};
use crate::payments::{REFUND, notify, order_row, shop, simulated};
use crate::wechatpay::{platform_notification, wechatpay_app};

#[tokio::test]
async fn a_payment_for_a_closed_order_that_can_no_longer_be_had_is_refunded() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    // Two closed orders, both paid late: one for a course suspended since, one for a
    // course the buyer bought again through another order meanwhile.
    let first = buy(&app, &shop.buyer_token, shop.course.id, "a").await;
    app.mutate(
        &shop.buyer_token,
        CANCEL,
        json!({ "o": first["order"]["id"] }),
    )
    .await;
    let fixture = Fixture::new(&app.db);
    let seller = shop.seller.clone();
    let other = fixture
        .course(
            &seller,
            3,
            "另一门课",
            "编程开发",
            5000,
            CourseStatus::Published,
        )
        .await;
    let second = buy(&app, &shop.buyer_token, other.id, "b").await;
    app.mutate(
        &shop.buyer_token,
        CANCEL,
        json!({ "o": second["order"]["id"] }),
    )
    .await;
    let third = buy(&app, &shop.buyer_token, other.id, "c").await;
    let sim = simulated(&app);
    let third_no = third["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let (h, b) = sim.payment_success(&third_no, 5000, "buyer-openid", Utc::now());
    assert_eq!(notify(&app, &h, b).await, 204);
    let suspended = app
        .mutate(
            &shop.admin_token,
            r#"mutation($c: ID!) { suspendCourse(input: {course: $c}) { course { status } userErrors { code } } }"#,
            json!({ "c": gid("Course", shop.course.id) }),
        )
        .await;
    assert_eq!(suspended["userErrors"], json!([]), "{suspended}");

    for (payload, amount) in [(&first, 9900), (&second, 5000)] {
        let out_trade_no = payload["order"]["outTradeNo"].as_str().unwrap().to_owned();
        let (h, b) = sim.payment_success(&out_trade_no, amount, "buyer-openid", Utc::now());
        assert_eq!(notify(&app, &h, b).await, 204);
        let row = order_row(&app, &out_trade_no).await;
        // The simulated provider refunds at once.
        assert_eq!(row.status, OrderStatus::Refunded, "{out_trade_no}");
        let refunds = refunds_of(&app, row.id).await;
        assert_eq!(refunds.len(), 1);
        assert_eq!(refunds[0].status, RefundStatus::Success);
        assert_eq!(refunds[0].amount_fen, amount);
        assert_eq!(
            refunds[0].reason.as_deref(),
            Some(zhiku::service::orders::refunds::AUTOMATIC_REASON)
        );
    }
    // The buyer holds exactly the one course bought through the third order, counted once.
    let held = entitlement::Entity::find()
        .filter(entitlement::Column::UserId.eq(shop.buyer_id))
        .filter(entitlement::Column::RevokedAt.is_null())
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].product_id, other.id);
    let other_now = course::Entity::find_by_id(other.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other_now.sales_count, other.sales_count + 1);
}

#[tokio::test]
async fn a_refund_the_provider_refuses_is_closed_and_the_order_is_paid_again() {
    let (base, fake) = crate::wechatpay_fake::start().await;
    let app = wechatpay_app(base).await;
    let shop = shop(&app, 9900).await;
    let bought = buy(&app, &shop.buyer_token, shop.course.id, "k").await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let (h, b) = paid_notification(&out_trade_no, 9900);
    assert_eq!(notify(&app, &h, b).await, 204);
    fake.lock().unwrap().refuse_refunds = Some((403, "NOT_ENOUGH".into()));
    let refused = app
        .mutate(
            &shop.admin_token,
            REFUND,
            json!({ "o": bought["order"]["id"], "k": "r" }),
        )
        .await;
    assert_eq!(
        refused["userErrors"][0]["code"], "REFUND_REFUSED",
        "{refused}"
    );
    assert!(
        refused["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("NOT_ENOUGH")
    );
    let row = order_row(&app, &out_trade_no).await;
    assert_eq!(row.status, OrderStatus::Paid);
    let refunds = refunds_of(&app, row.id).await;
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].status, RefundStatus::Closed);
    assert!(has_access(&app, &shop.buyer_token, shop.course.id).await);
    // Once the merchant account is topped up, a new refund goes through.
    fake.lock().unwrap().refuse_refunds = None;
    let again = app
        .mutate(
            &shop.admin_token,
            REFUND,
            json!({ "o": bought["order"]["id"], "k": "r2" }),
        )
        .await;
    assert_eq!(again["order"]["status"], "REFUNDING", "{again}");
}

#[tokio::test]
async fn reconciliation_settles_refunds_whose_answer_or_request_was_lost() {
    let (base, fake) = crate::wechatpay_fake::start().await;
    let app = wechatpay_app(base).await;
    let shop = shop(&app, 9900).await;
    let fixture = Fixture::new(&app.db);
    let seller = shop.seller.clone();
    let other = fixture
        .course(
            &seller,
            3,
            "第二门",
            "编程开发",
            3000,
            CourseStatus::Published,
        )
        .await;
    let mut orders = Vec::new();
    for (course_id, amount, key) in [(shop.course.id, 9900, "a"), (other.id, 3000, "b")] {
        let bought = buy(&app, &shop.buyer_token, course_id, key).await;
        let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
        let (h, b) = paid_notification(&out_trade_no, amount);
        assert_eq!(notify(&app, &h, b).await, 204);
        orders.push((bought["order"]["id"].clone(), out_trade_no));
    }
    // The first refund is accepted (PROCESSING) and its REFUND.SUCCESS never arrives.
    let accepted = app
        .mutate(
            &shop.admin_token,
            REFUND,
            json!({ "o": orders[0].0, "k": "r" }),
        )
        .await;
    assert_eq!(accepted["order"]["status"], "REFUNDING");
    // The second refund request is lost on the way.
    fake.lock().unwrap().lose_refunds = true;
    let lost = app
        .mutate(
            &shop.admin_token,
            REFUND,
            json!({ "o": orders[1].0, "k": "r" }),
        )
        .await;
    assert_eq!(
        lost["userErrors"][0]["code"], "PAYMENT_UNAVAILABLE",
        "{lost}"
    );
    {
        let mut fake = fake.lock().unwrap();
        fake.lose_refunds = false;
        for status in fake.refunds.values_mut() {
            *status = "SUCCESS".into();
        }
        fake.refund_status = "SUCCESS".into();
    }
    let done = reconcile_at(&app, 10).await;
    assert_eq!(done.refunds_settled, 2, "{done:?}");
    for (_, out_trade_no) in &orders {
        assert_eq!(
            order_row(&app, out_trade_no).await.status,
            OrderStatus::Refunded
        );
    }
    assert!(!has_access(&app, &shop.buyer_token, shop.course.id).await);
    assert!(!has_access(&app, &shop.buyer_token, other.id).await);
    let refund_calls = fake
        .lock()
        .unwrap()
        .calls
        .iter()
        .filter(|c| c.1.starts_with("/v3/refund/domestic/refunds/"))
        .count();
    assert_eq!(refund_calls, 2, "each processing refund was queried");
}

#[tokio::test]
async fn a_refund_success_after_abnormal_is_applied() {
    let (base, _fake) = crate::wechatpay_fake::start().await;
    let app = wechatpay_app(base).await;
    let shop = shop(&app, 9900).await;
    let bought = buy(&app, &shop.buyer_token, shop.course.id, "k").await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let (h, b) = paid_notification(&out_trade_no, 9900);
    assert_eq!(notify(&app, &h, b).await, 204);
    app.mutate(
        &shop.admin_token,
        REFUND,
        json!({ "o": bought["order"]["id"], "k": "r" }),
    )
    .await;
    let found = refund::Entity::find().one(&app.db).await.unwrap().unwrap();
    let refund_notice = |status: &str| {
        platform_notification(
            &format!("REFUND.{status}"),
            "refund",
            json!({ "mchid": "1230000109", "out_trade_no": out_trade_no, "transaction_id": "4200000999",
                "out_refund_no": found.out_refund_no, "refund_id": "50300000001", "refund_status": status,
                "amount": { "total": 9900, "refund": 9900, "payer_total": 9900, "payer_refund": 9900 } }),
        )
    };
    let (h, b) = refund_notice("ABNORMAL");
    assert_eq!(notify(&app, &h, b).await, 204);
    assert_eq!(
        order_row(&app, &out_trade_no).await.status,
        OrderStatus::Paid
    );
    // The merchant re-routes the money (to the buyer's balance) and WeChat Pay reports success.
    let (h, b) = refund_notice("SUCCESS");
    assert_eq!(notify(&app, &h, b).await, 204);
    assert_eq!(
        order_row(&app, &out_trade_no).await.status,
        OrderStatus::Refunded
    );
    let settled = refund::Entity::find_by_id(found.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(settled.status, RefundStatus::Success);
    assert!(!has_access(&app, &shop.buyer_token, shop.course.id).await);
}
