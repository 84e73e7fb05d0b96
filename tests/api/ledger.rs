//! The money ledger through the real API: a paid order's split, pending then
//! available earnings, a refund reversing it, the fee override, entries that cannot be
//! changed, and a ledger that sums to zero after every scenario.

use entity::enums::LedgerJournalKind;
use entity::{ledger_entry, ledger_journal};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, gid};
use crate::messages::buy_and_pay;
use crate::payments::{REFUND, Shop, notify, shop, simulated};

const EARNINGS: &str = r#"query($c: ID!) { node(id: $c) { ... on Creator {
  earnings { pending { amount } available { amount } paidOut { amount } }
  ledgerEntries(first: 10) { totalCount edges { node { kind amount { amount formatted } orderId } } }
} } }"#;
const PLATFORM: &str = "{ platformLedger { cash { amount } fees { amount } owed { amount } } }";

/// Asserts the whole ledger sums to zero, journal by journal, with every paid order in it.
pub async fn assert_balanced(app: &TestApp) {
    let report = zhiku::service::ledger::balances::check(&app.db)
        .await
        .expect("ledger check");
    assert!(report.is_clean(), "{report:?}");
}

async fn earnings(app: &TestApp, token: &str, shop: &Shop) -> Value {
    let (_, body) = app
        .gql_as(
            token,
            EARNINGS,
            json!({ "c": gid("Creator", shop.seller.id) }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["node"].clone()
}

fn amounts(earnings: &Value) -> (i64, i64, i64) {
    let e = &earnings["earnings"];
    (
        e["pending"]["amount"].as_i64().unwrap(),
        e["available"]["amount"].as_i64().unwrap(),
        e["paidOut"]["amount"].as_i64().unwrap(),
    )
}

async fn platform(app: &TestApp, admin_token: &str) -> (i64, i64, i64) {
    let (_, body) = app.gql_as(admin_token, PLATFORM, json!({})).await;
    let p = &body["data"]["platformLedger"];
    (
        p["cash"]["amount"].as_i64().unwrap(),
        p["fees"]["amount"].as_i64().unwrap(),
        p["owed"]["amount"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn a_sale_is_split_and_pending_and_a_refund_reverses_it() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let seller_token = app.token(shop.seller.user_id);
    let order_id = buy_and_pay(&app, &shop.buyer_token, shop.course.id, "buyer-openid").await;

    // 99.00 at the default 10 %: 9.90 to the platform, 89.10 to the creator, pending
    // for the 7-day refund window.
    let seen = earnings(&app, &seller_token, &shop).await;
    assert_eq!(amounts(&seen), (8_910, 0, 0), "{seen}");
    let entries = &seen["ledgerEntries"];
    assert_eq!(entries["totalCount"], 1);
    assert_eq!(
        entries["edges"][0]["node"],
        json!({ "kind": "SALE", "amount": { "amount": 8910, "formatted": "¥89.10" }, "orderId": gid("Order", order_id) })
    );
    assert_eq!(platform(&app, &shop.admin_token).await, (9_900, 990, 8_910));
    assert_eq!(
        fees_today(&app, &seller_token, &shop.admin_token).await,
        (990, 990)
    );
    assert_balanced(&app).await;

    // Nobody else sees a creator's money.
    let (_, refused) = app
        .gql_as(
            &shop.buyer_token,
            EARNINGS,
            json!({ "c": gid("Creator", shop.seller.id) }),
        )
        .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let (_, refused) = app.gql_as(&seller_token, PLATFORM, json!({})).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");

    // Entries are never changed or deleted, whoever asks the database.
    for sql in [
        "UPDATE ledger_entries SET amount_fen = 0",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_journals SET reference = 'x'",
    ] {
        let backend = app.db.get_database_backend();
        let refused = app
            .db
            .execute_raw(Statement::from_string(backend, sql))
            .await;
        assert!(refused.is_err(), "{sql} was allowed");
    }

    // A refund inside the window takes the pending share, the fee and the cash back.
    let refunded = app
        .mutate(
            &shop.admin_token,
            REFUND,
            json!({ "o": gid("Order", order_id), "k": "r1" }),
        )
        .await;
    assert_eq!(refunded["order"]["status"], "REFUNDED", "{refunded}");
    let seen = earnings(&app, &seller_token, &shop).await;
    assert_eq!(amounts(&seen), (0, 0, 0), "{seen}");
    assert_eq!(seen["ledgerEntries"]["edges"][0]["node"]["kind"], "REFUND");
    assert_eq!(
        seen["ledgerEntries"]["edges"][0]["node"]["amount"]["amount"],
        -8_910
    );
    assert_eq!(platform(&app, &shop.admin_token).await, (0, 0, 0));
    // The dashboards book the fee when charged and give it back when refunded.
    assert_eq!(
        fees_today(&app, &seller_token, &shop.admin_token).await,
        (0, 0)
    );
    assert_balanced(&app).await;
}

/// Today's fees (Shanghai) as the creator's dashboard and the platform's statistics
/// show them, from the ledger.
async fn fees_today(app: &TestApp, seller_token: &str, admin_token: &str) -> (i64, i64) {
    let today = zhiku::service::views::platform_day(chrono::Utc::now());
    let range = json!({ "d": today });
    let (_, creator) = app
        .gql_as(
            seller_token,
            r#"query($d: Date!) { creatorDashboard(range: {from: $d, to: $d}, granularity: DAY) { fees { total { amount } } } }"#,
            range.clone(),
        )
        .await;
    let (_, platform) = app
        .gql_as(
            admin_token,
            r#"query($d: Date!) { platformStats(range: {from: $d, to: $d}, granularity: DAY) { feeRevenue { total { amount } } } }"#,
            range,
        )
        .await;
    (
        creator["data"]["creatorDashboard"]["fees"]["total"]["amount"]
            .as_i64()
            .unwrap_or_else(|| panic!("{creator}")),
        platform["data"]["platformStats"]["feeRevenue"]["total"]["amount"]
            .as_i64()
            .unwrap_or_else(|| panic!("{platform}")),
    )
}

#[tokio::test]
async fn a_creator_of_their_own_rate_earns_it_available_once_the_window_is_over() {
    // No refund window: a share is available as soon as it is earned.
    let app = TestApp::spawn_configured(|settings| settings.payments.refund_window_days = 0).await;
    let shop = shop(&app, 9900).await;
    let seller_token = app.token(shop.seller.user_id);
    const SET_FEE: &str = r#"mutation($c: ID!, $b: Int) { setCreatorFee(input: {creator: $c, basisPoints: $b}) { creator { feeBasisPoints } userErrors { field code } } }"#;
    let creator = gid("Creator", shop.seller.id);

    // Out of range, or not an admin: refused, nothing changes.
    let wrong = app
        .mutate(
            &shop.admin_token,
            SET_FEE,
            json!({ "c": creator, "b": 10_001 }),
        )
        .await;
    assert_eq!(
        wrong["userErrors"],
        json!([{ "field": ["input", "basisPoints"], "code": "OUT_OF_RANGE" }])
    );
    let (_, forbidden) = app
        .gql_as(&seller_token, SET_FEE, json!({ "c": creator, "b": 0 }))
        .await;
    assert_eq!(forbidden["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let stored = entity::creator::Entity::find_by_id(shop.seller.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.fee_bps, None);

    // 5 %: 99.00 gives 4.95 to the platform and 94.05 to the creator, available at once.
    let set = app
        .mutate(
            &shop.admin_token,
            SET_FEE,
            json!({ "c": creator, "b": 500 }),
        )
        .await;
    assert_eq!(set["creator"]["feeBasisPoints"], 500, "{set}");
    let order_id = buy_and_pay(&app, &shop.buyer_token, shop.course.id, "buyer-openid").await;
    let seen = earnings(&app, &seller_token, &shop).await;
    assert_eq!(amounts(&seen), (0, 9_405, 0), "{seen}");
    assert_eq!(platform(&app, &shop.admin_token).await, (9_900, 495, 9_405));

    // A later refund is taken from what is available.
    app.mutate(
        &shop.admin_token,
        REFUND,
        json!({ "o": gid("Order", order_id), "k": "r1" }),
    )
    .await;
    let seen = earnings(&app, &seller_token, &shop).await;
    assert_eq!(amounts(&seen), (0, 0, 0), "{seen}");
    assert_balanced(&app).await;
}

#[tokio::test]
async fn concurrent_deliveries_of_one_payment_record_one_sale() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let bought = app
        .mutate(
            &shop.buyer_token,
            crate::payments::CREATE_ORDER,
            json!({ "p": gid("Course", shop.course.id), "k": "k1" }),
        )
        .await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let sim = simulated(&app);
    // WeChat Pay retries; several deliveries race, each signed anew.
    let deliveries: Vec<_> = (0..6)
        .map(|_| sim.payment_success(&out_trade_no, 9900, "buyer-openid", chrono::Utc::now()))
        .collect();
    let statuses = futures_util::future::join_all(
        deliveries
            .iter()
            .map(|(headers, body)| notify(&app, headers, body.clone()))
            .collect::<Vec<_>>(),
    )
    .await;
    assert!(statuses.iter().all(|s| *s == 204), "{statuses:?}");
    let sales = ledger_journal::Entity::find()
        .filter(ledger_journal::Column::Kind.eq(LedgerJournalKind::Sale))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(sales, 1);
    assert_eq!(
        ledger_entry::Entity::find().count(&app.db).await.unwrap(),
        3
    );
    assert_balanced(&app).await;
}
