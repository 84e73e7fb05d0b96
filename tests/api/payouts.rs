//! Payouts through the real API against the local WeChat Pay (`wechatpay_fake`): a run
//! that transfers available earnings (scene 1005), a run whose answer was lost and is
//! run again (paid once), the MCHTRANSFER.BILL.FINISHED notification (verified; a
//! forged one refused), a failed transfer returning the money, two runs at once, and a
//! monthly statement that reconciles to the ledger, with the zero-sum check after each.

use chrono::Utc;
use entity::enums::PayoutState;
use entity::payout;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{TestApp, gid};
use crate::ledger::assert_balanced;
use crate::payments::{CREATE_ORDER, REFUND, Shop, notify, order_row, shop};
use crate::wechatpay::{platform_notification, wechatpay_config};

const RUN: &str = "mutation { runPayouts { run { started resumed succeeded failed skipped } userErrors { code } } }";
const EARNINGS: &str = r#"query($c: ID!) { node(id: $c) { ... on Creator {
  earnings { pending { amount } available { amount } paidOut { amount } } } } }"#;
const PAYOUTS: &str = "{ viewer { payouts { outBillNo amount { amount } state packageInfo failReason forCreatorEarnings } } }";

/// An app on the real provider at the fake, with no refund window (earnings are
/// available at once), and a shop whose buyer paid 99.00 for its course.
async fn paid_shop() -> (
    TestApp,
    Shop,
    std::sync::Arc<std::sync::Mutex<crate::wechatpay_fake::FakePay>>,
) {
    let (base, fake) = crate::wechatpay_fake::start().await;
    let mut config = wechatpay_config(base);
    config.refund_window_days = 0;
    let app = TestApp::spawn_with_payments(config).await;
    let shop = shop(&app, 9900).await;
    pay(&app, &shop, shop.course.id, "4200000001").await;
    (app, shop, fake)
}

/// Buys the shop's course and delivers WeChat Pay's payment notification.
async fn pay(app: &TestApp, shop: &Shop, course_id: i64, transaction_id: &str) -> i64 {
    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": gid("Course", course_id), "k": transaction_id }),
        )
        .await;
    let out_trade_no = bought["order"]["outTradeNo"]
        .as_str()
        .expect("order")
        .to_owned();
    let (headers, body) = platform_notification(
        "TRANSACTION.SUCCESS",
        "transaction",
        json!({ "appid": "wx-test-app", "mchid": "1230000109", "out_trade_no": out_trade_no,
            "transaction_id": transaction_id, "trade_state": "SUCCESS",
            "payer": { "openid": "buyer-openid" }, "amount": { "total": 9900, "currency": "CNY" } }),
    );
    assert_eq!(notify(app, &headers, body).await, 204);
    order_row(app, &out_trade_no).await.id
}

async fn run(app: &TestApp, shop: &Shop) -> Value {
    let payload = app.mutate(&shop.admin_token, RUN, json!({})).await;
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    payload["run"].clone()
}

async fn earnings(app: &TestApp, shop: &Shop) -> (i64, i64, i64) {
    let (_, body) = app
        .gql_as(
            &shop.admin_token,
            EARNINGS,
            json!({ "c": gid("Creator", shop.seller.id) }),
        )
        .await;
    let e = &body["data"]["node"]["earnings"];
    let amount = |v: &Value| v["amount"].as_i64().expect("amount");
    (
        amount(&e["pending"]),
        amount(&e["available"]),
        amount(&e["paidOut"]),
    )
}

async fn payouts(app: &TestApp) -> Vec<payout::Model> {
    payout::Entity::find()
        .order_by_asc(payout::Column::Id)
        .all(&app.db)
        .await
        .expect("payouts")
}

/// Refunds a paid order in full (admin) and delivers WeChat Pay's REFUND.SUCCESS.
async fn refund(
    app: &TestApp,
    shop: &Shop,
    fake: &std::sync::Mutex<crate::wechatpay_fake::FakePay>,
    order_id: i64,
    transaction_id: &str,
) {
    let refunded = app
        .mutate(
            &shop.admin_token,
            REFUND,
            json!({ "o": gid("Order", order_id), "k": format!("r{order_id}") }),
        )
        .await;
    assert_eq!(refunded["userErrors"], json!([]), "{refunded}");
    let refund_no = entity::refund::Entity::find()
        .filter(entity::refund::Column::OrderId.eq(order_id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("refund")
        .out_refund_no;
    fake.lock()
        .unwrap()
        .refunds
        .insert(refund_no.clone(), "SUCCESS".into());
    let (headers, body) = platform_notification(
        "REFUND.SUCCESS",
        "refund",
        json!({ "mchid": "1230000109", "out_trade_no": order_row_no(app, order_id).await,
            "transaction_id": transaction_id, "out_refund_no": refund_no, "refund_id": format!("503{order_id}"),
            "refund_status": "SUCCESS", "amount": { "total": 9900, "refund": 9900, "payer_total": 9900, "payer_refund": 9900 } }),
    );
    assert_eq!(notify(app, &headers, body).await, 204);
}

/// The transfer-finished notification WeChat Pay sends for a bill.
fn finished(
    out_bill_no: &str,
    state: &str,
    amount: i64,
) -> (zhiku::payments::notification::SignatureHeaders, String) {
    platform_notification(
        "MCHTRANSFER.BILL.FINISHED",
        "mch_payment",
        json!({ "mch_id": "1230000109", "out_bill_no": out_bill_no,
            "transfer_bill_no": "1330000071100999991182020050700019480001", "state": state,
            "transfer_amount": amount, "openid": "creator-Seller",
            "fail_reason": if state == "FAIL" { json!("PAYEE_ACCOUNT_ABNORMAL") } else { Value::Null },
            "create_time": "2026-12-01T10:00:00+08:00", "update_time": "2026-12-01T10:01:00+08:00" }),
    )
}

#[tokio::test]
async fn a_run_whose_answer_was_lost_is_run_again_and_pays_once() {
    let (app, shop, fake) = paid_shop().await;
    assert_eq!(earnings(&app, &shop).await, (0, 8_910, 0));

    // Only admins run payouts.
    let seller_token = app.token(shop.seller.user_id);
    let (_, refused) = app.gql_as(&seller_token, RUN, json!({})).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );

    // WeChat Pay takes the transfer but its answer is lost: the payout stays REQUESTED,
    // the money has left the creator's balance in the same transaction.
    fake.lock().unwrap().lose_transfer_answers = true;
    let first = run(&app, &shop).await;
    assert_eq!(first["started"], 1, "{first}");
    let written = payouts(&app).await;
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].state, PayoutState::Requested);
    assert_eq!(written[0].amount_fen, 8_910);
    assert_eq!(earnings(&app, &shop).await, (0, 0, 8_910));
    assert_balanced(&app).await;
    {
        let fake = fake.lock().unwrap();
        let (request, _) = &fake.transfers[&written[0].out_bill_no];
        assert_eq!(request["transfer_scene_id"], "1005");
        assert_eq!(request["transfer_amount"], 8_910);
        assert_eq!(request["openid"], "creator-Seller");
        assert_eq!(request["appid"], "wx-test-app");
    }

    // Run again: the open payout is asked about by number, not paid a second time.
    fake.lock().unwrap().lose_transfer_answers = false;
    let second = run(&app, &shop).await;
    assert_eq!(
        (second["started"].as_i64(), second["resumed"].as_i64()),
        (Some(0), Some(1)),
        "{second}"
    );
    let transfer_posts = fake
        .lock()
        .unwrap()
        .calls
        .iter()
        .filter(|(method, path, _)| method == "POST" && path.ends_with("/transfer-bills"))
        .count();
    assert_eq!(transfer_posts, 1, "one transfer request in all");
    assert_eq!(fake.lock().unwrap().transfers.len(), 1);

    // The creator confirms in the mini-program with the package WeChat Pay gave.
    let (_, mine) = app.gql_as(&seller_token, PAYOUTS, json!({})).await;
    let listed = &mine["data"]["viewer"]["payouts"][0];
    assert_eq!(listed["state"], "WAIT_USER_CONFIRM", "{mine}");
    assert_eq!(
        listed["packageInfo"],
        format!("pkg-{}", written[0].out_bill_no)
    );
    assert_eq!(listed["forCreatorEarnings"], true);
    let (_, others) = app.gql_as(&shop.buyer_token, PAYOUTS, json!({})).await;
    assert_eq!(others["data"]["viewer"]["payouts"], json!([]), "{others}");

    // A forged notification is refused and changes nothing; the real one settles it.
    let (mut headers, body) = finished(&written[0].out_bill_no, "FAIL", 8_910);
    headers.signature = zhiku::payments::crypto::sign(
        &crate::helpers::fixture_private_key("merchant_key.pem"),
        format!("{}\n{}\n{body}\n", headers.timestamp, headers.nonce).as_bytes(),
    );
    assert_eq!(notify(&app, &headers, body).await, 401);
    assert_eq!(payouts(&app).await[0].state, PayoutState::WaitUserConfirm);
    let (headers, body) = finished(&written[0].out_bill_no, "SUCCESS", 8_910);
    assert_eq!(notify(&app, &headers, body.clone()).await, 204);
    assert_eq!(
        notify(&app, &headers, body).await,
        204,
        "a repeat is harmless"
    );
    assert_eq!(payouts(&app).await[0].state, PayoutState::Success);
    assert_eq!(earnings(&app, &shop).await, (0, 0, 8_910));

    // Nothing is left to pay.
    let third = run(&app, &shop).await;
    assert_eq!(
        (third["started"].as_i64(), third["resumed"].as_i64()),
        (Some(0), Some(0))
    );
    assert_balanced(&app).await;
}

#[tokio::test]
async fn a_failed_transfer_returns_the_money_and_two_runs_at_once_pay_once() {
    let (app, shop, fake) = paid_shop().await;
    fake.lock().unwrap().transfer_state = "ACCEPTED".into();

    let (a, b) = tokio::join!(run(&app, &shop), run(&app, &shop));
    assert_eq!(
        a["started"].as_i64().unwrap() + b["started"].as_i64().unwrap(),
        1,
        "{a} {b}"
    );
    let written = payouts(&app).await;
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].state, PayoutState::Accepted);
    assert_eq!(fake.lock().unwrap().transfers.len(), 1);
    assert_balanced(&app).await;

    // The transfer fails: the amount is available again, and nothing counts as paid.
    let (headers, body) = finished(&written[0].out_bill_no, "FAIL", 8_910);
    assert_eq!(notify(&app, &headers, body).await, 204);
    let failed = payouts(&app).await;
    assert_eq!(failed[0].state, PayoutState::Fail);
    assert_eq!(
        failed[0].fail_reason.as_deref(),
        Some("PAYEE_ACCOUNT_ABNORMAL")
    );
    assert_eq!(earnings(&app, &shop).await, (0, 8_910, 0));
    assert_balanced(&app).await;

    // A notification of another amount is refused.
    let (headers, body) = finished(&written[0].out_bill_no, "SUCCESS", 1);
    assert_eq!(notify(&app, &headers, body).await, 400);

    // WeChat Pay refusing the request fails the payout at once, money returned.
    fake.lock().unwrap().refuse_transfers = Some("NOT_ENOUGH".into());
    let refused = run(&app, &shop).await;
    assert_eq!(
        (refused["started"].as_i64(), refused["failed"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        payouts(&app).await[1].fail_reason.as_deref(),
        Some("NOT_ENOUGH")
    );
    assert_eq!(earnings(&app, &shop).await, (0, 8_910, 0));

    // The next run pays it under a new number; a refund after the payout leaves the
    // creator owing, netted against later sales.
    fake.lock().unwrap().refuse_transfers = None;
    fake.lock().unwrap().transfer_state = "SUCCESS".into();
    let paid = run(&app, &shop).await;
    assert_eq!(
        (paid["started"].as_i64(), paid["succeeded"].as_i64()),
        (Some(1), Some(1))
    );
    let all = payouts(&app).await;
    assert_eq!(all.len(), 3);
    assert_ne!(all[2].out_bill_no, all[0].out_bill_no);
    assert_eq!(earnings(&app, &shop).await, (0, 0, 8_910));
    // The creator's dashboard shows what was paid out (the failed payout nets to 0).
    let today = zhiku::service::views::platform_day(Utc::now());
    let (_, dashboard) = app
        .gql_as(
            &shop.admin_token,
            r#"query($c: ID!, $d: Date!) { creatorDashboard(creator: $c, range: {from: $d, to: $d}, granularity: DAY) { payouts { total { amount } } } }"#,
            json!({ "c": gid("Creator", shop.seller.id), "d": today }),
        )
        .await;
    assert_eq!(
        dashboard["data"]["creatorDashboard"]["payouts"]["total"]["amount"], 8_910,
        "{dashboard}"
    );
    let succeeded = payout::Entity::find()
        .filter(payout::Column::State.eq(PayoutState::Success))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(succeeded, 1);
    assert_balanced(&app).await;
}

#[tokio::test]
async fn a_month_statement_reconciles_to_the_ledger() {
    let (app, shop, fake) = paid_shop().await;
    fake.lock().unwrap().transfer_state = "SUCCESS".into();
    let fixture = crate::helpers::Fixture::new(&app.db);
    let other = fixture
        .course(
            &shop.seller,
            2,
            "第二门课",
            "编程开发",
            9900,
            entity::enums::CourseStatus::Published,
        )
        .await;
    fixture.lesson(&other, 1, false).await;
    let second = pay(&app, &shop, other.id, "4200000002").await;
    // Two sales of 99.00, one refunded before the payout.
    refund(&app, &shop, &fake, second, "4200000002").await;
    let paid = run(&app, &shop).await;
    assert_eq!(paid["succeeded"], 1, "{paid}");

    let month = (Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m")
        .to_string();
    const STATEMENT: &str = r#"query($c: ID!, $m: String!) { node(id: $c) { ... on Creator { statement(month: $m) {
      openingBalance { amount } sales { amount } fees { amount } commissions { amount }
      refunds { amount } payouts { amount } closingBalance { amount } } } } }"#;
    let seller_token = app.token(shop.seller.user_id);
    let (_, body) = app
        .gql_as(
            &seller_token,
            STATEMENT,
            json!({ "c": gid("Creator", shop.seller.id), "m": month }),
        )
        .await;
    let s = &body["data"]["node"]["statement"];
    let amount = |field: &str| s[field]["amount"].as_i64().unwrap_or(i64::MIN);
    // Sales 198.00; fees 19.80; the refund takes the creator's 89.10 back; 89.10 paid.
    assert_eq!(
        [
            amount("openingBalance"),
            amount("sales"),
            amount("fees"),
            amount("commissions"),
            amount("refunds"),
            amount("payouts"),
            amount("closingBalance")
        ],
        [0, 19_800, 1_980, 0, 8_910, 8_910, 0],
        "{body}"
    );
    let (pending, available, _) = earnings(&app, &shop).await;
    assert_eq!(pending + available, amount("closingBalance"));

    // Last month is empty; a bad month and other users are refused.
    let (_, empty) = app
        .gql_as(
            &seller_token,
            STATEMENT,
            json!({ "c": gid("Creator", shop.seller.id), "m": "2020-01" }),
        )
        .await;
    assert_eq!(
        empty["data"]["node"]["statement"]["sales"]["amount"], 0,
        "{empty}"
    );
    let (_, bad) = app
        .gql_as(
            &seller_token,
            STATEMENT,
            json!({ "c": gid("Creator", shop.seller.id), "m": "2026-13" }),
        )
        .await;
    assert!(bad["errors"][0]["message"].as_str().is_some(), "{bad}");
    let (_, forbidden) = app
        .gql_as(
            &shop.buyer_token,
            STATEMENT,
            json!({ "c": gid("Creator", shop.seller.id), "m": month }),
        )
        .await;
    assert_eq!(
        forbidden["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{forbidden}"
    );
    assert_balanced(&app).await;
}

async fn order_row_no(app: &TestApp, order_id: i64) -> String {
    entity::order::Entity::find_by_id(order_id)
        .one(&app.db)
        .await
        .unwrap()
        .expect("order")
        .out_trade_no
}

#[tokio::test]
async fn a_creator_with_a_merchant_of_their_own_is_paid_by_profit_sharing() {
    let (base, fake) = crate::wechatpay_fake::start().await;
    let mut config = wechatpay_config(base);
    config.refund_window_days = 0;
    let app = TestApp::spawn_with_payments(config).await;
    let shop = shop(&app, 9900).await;
    const SET: &str = r#"mutation($c: ID!, $m: String, $n: String) { setCreatorMerchant(input: {creator: $c, mchid: $m, name: $n}) { creator { wechatMerchantId } userErrors { field code } } }"#;
    let creator = gid("Creator", shop.seller.id);

    let bad = app
        .mutate(
            &shop.admin_token,
            SET,
            json!({ "c": creator, "m": "12ab", "n": "x" }),
        )
        .await;
    assert_eq!(
        bad["userErrors"],
        json!([{ "field": ["input", "mchid"], "code": "INVALID" }])
    );
    assert!(fake.lock().unwrap().receivers.is_empty());
    let set = app
        .mutate(
            &shop.admin_token,
            SET,
            json!({ "c": creator, "m": "1900000109", "n": "深圳知库科技有限公司" }),
        )
        .await;
    assert_eq!(set["creator"]["wechatMerchantId"], "1900000109", "{set}");
    // WeChat Pay got the name encrypted with its key, and could read it.
    assert_eq!(
        fake.lock().unwrap().receivers["1900000109"],
        "深圳知库科技有限公司"
    );

    // The order's funds are held for sharing at prepay.
    let first = pay(&app, &shop, shop.course.id, "4200000101").await;
    let out_trade_no = order_row_no(&app, first).await;
    assert!(fake.lock().unwrap().profit_sharing[&out_trade_no]);

    let shared = run(&app, &shop).await;
    assert_eq!(
        (shared["started"].as_i64(), shared["succeeded"].as_i64()),
        (Some(1), Some(1)),
        "{shared}"
    );
    {
        let fake = fake.lock().unwrap();
        assert_eq!(fake.sharings.len(), 1);
        let (request, _) = fake.sharings.values().next().unwrap();
        assert_eq!(request["transaction_id"], "4200000101");
        assert_eq!(request["receivers"][0]["account"], "1900000109");
        assert_eq!(request["receivers"][0]["amount"], 8_910);
        assert_eq!(request["unfreeze_unsplit"], true);
        assert!(fake.transfers.is_empty(), "no transfer for a shared order");
    }
    let share = entity::profit_share::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (share.state.as_str(), share.amount_fen),
        ("FINISHED", 8_910)
    );
    assert_eq!(earnings(&app, &shop).await, (0, 0, 8_910));
    let again = run(&app, &shop).await;
    assert_eq!(again["started"], 0, "an order is shared once: {again}");
    assert_eq!(fake.lock().unwrap().sharings.len(), 1);
    assert_balanced(&app).await;

    // A sharing WeChat Pay closes returns the share, which the same run then pays by
    // transfer to the creator's WeChat balance.
    fake.lock().unwrap().sharing_result = "CLOSED".into();
    fake.lock().unwrap().transfer_state = "SUCCESS".into();
    let fixture = crate::helpers::Fixture::new(&app.db);
    let other = fixture
        .course(
            &shop.seller,
            2,
            "第二门课",
            "编程开发",
            9900,
            entity::enums::CourseStatus::Published,
        )
        .await;
    fixture.lesson(&other, 1, false).await;
    pay(&app, &shop, other.id, "4200000102").await;
    let closed = run(&app, &shop).await;
    assert_eq!(closed["failed"], 1, "{closed}");
    let shares = entity::profit_share::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert!(
        shares
            .iter()
            .any(|s| s.state == "CLOSED" && s.fail_reason.as_deref() == Some("RECEIVER_HIGH_RISK"))
    );
    assert_eq!(fake.lock().unwrap().transfers.len(), 1);
    assert_eq!(earnings(&app, &shop).await, (0, 0, 17_820));
    assert_balanced(&app).await;
    // A refund after the share went out leaves the creator owing 89.10; the next
    // order's share is netted against it: nothing is shared, its funds are unfrozen
    // to the platform, and nothing is transferred.
    refund(&app, &shop, &fake, first, "4200000101").await;
    assert_eq!(earnings(&app, &shop).await, (0, -8_910, 17_820));
    let third = fixture
        .course(
            &shop.seller,
            3,
            "第三门课",
            "编程开发",
            9900,
            entity::enums::CourseStatus::Published,
        )
        .await;
    fixture.lesson(&third, 1, false).await;
    let third_order = pay(&app, &shop, third.id, "4200000103").await;
    let netted = run(&app, &shop).await;
    assert_eq!(netted["started"], 1, "{netted}");
    assert_eq!(
        fake.lock().unwrap().unfrozen[&format!("ZKS{third_order}")],
        "4200000103"
    );
    assert_eq!(fake.lock().unwrap().transfers.len(), 1);
    assert_eq!(earnings(&app, &shop).await, (0, 0, 17_820));
    assert_balanced(&app).await;
}

#[tokio::test]
async fn sharing_and_transfer_racing_for_one_creator_pay_each_fen_once() {
    // 99.00 paid before the creator had a merchant (paid by transfer), and 99.00 after
    // (paid by sharing); then runs race, four at a time.
    let (app, shop, fake) = paid_shop().await;
    fake.lock().unwrap().transfer_state = "SUCCESS".into();
    app.mutate(
        &shop.admin_token,
        r#"mutation($c: ID!) { setCreatorMerchant(input: {creator: $c, mchid: "1900000109", name: "深圳知库科技有限公司"}) { userErrors { code } } }"#,
        json!({ "c": gid("Creator", shop.seller.id) }),
    )
    .await;
    let fixture = crate::helpers::Fixture::new(&app.db);
    let other = fixture
        .course(
            &shop.seller,
            2,
            "第二门课",
            "编程开发",
            9900,
            entity::enums::CourseStatus::Published,
        )
        .await;
    fixture.lesson(&other, 1, false).await;
    pay(&app, &shop, other.id, "4200000201").await;

    let (a, b, c, d) = tokio::join!(
        run(&app, &shop),
        run(&app, &shop),
        run(&app, &shop),
        run(&app, &shop)
    );
    // Whichever run locks the creator's account first decides how: the sharing of
    // the second order, then a transfer of the first; or a transfer of both, and the
    // second order's funds unfrozen. Either way every fen is paid once.
    let _ = (a, b, c, d);
    let shared: i64 = entity::profit_share::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|s| s.amount_fen)
        .sum();
    let transferred: i64 = payouts(&app).await.iter().map(|p| p.amount_fen).sum();
    assert_eq!(shared + transferred, 17_820, "{shared} + {transferred}");
    {
        let fake = fake.lock().unwrap();
        let sent_shares: i64 = fake
            .sharings
            .values()
            .map(|(request, _)| request["receivers"][0]["amount"].as_i64().unwrap_or(0))
            .sum();
        assert_eq!(sent_shares, shared, "WeChat Pay got what the ledger says");
        assert!(fake.sharings.len() <= 1);
    }
    assert_eq!(earnings(&app, &shop).await, (0, 0, 17_820));
    assert_balanced(&app).await;
}
