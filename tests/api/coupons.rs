//! Coupons through the API: made by a creator, claimed, redeemed by code, granted;
//! reserved by a pending order, back when it closes, spent when paid, kept spent
//! through a refund; never oversold under a race.

use chrono::{Duration, Utc};
use entity::enums::{Role, UserCouponStatus};
use entity::{coupon, user_coupon};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{Fixture, TestApp, gid};
use crate::payments::{REFUND, notify, order_row, shop, simulated};

const CREATE: &str = r#"mutation($i: CreateCouponInput!) { createCoupon(input: $i) { coupon { id name remaining code } userErrors { field code } } }"#;
const ORDER_WITH: &str = r#"mutation($p: ID!, $k: String!, $c: ID) {
  createOrder(input: {product: $p, idempotencyKey: $k, coupon: $c}) {
    order { id outTradeNo status amount { amount } discounts { kind label amount { amount } } }
    userErrors { field code }
  }
}"#;
const MINE: &str = r#"query($s: UserCouponStatus) { viewer { coupons(first: 10, filter: {status: $s}) { totalCount nodes { id status coupon { name } } } } }"#;

fn window() -> (String, String) {
    let now = Utc::now();
    (
        (now - Duration::minutes(1)).to_rfc3339(),
        (now + Duration::days(7)).to_rfc3339(),
    )
}

async fn make(app: &TestApp, token: &str, input: Value) -> Value {
    app.mutate(token, CREATE, json!({ "i": input })).await
}

async fn copies(app: &TestApp, coupon_id: i64) -> Vec<user_coupon::Model> {
    user_coupon::Entity::find()
        .filter(user_coupon::Column::CouponId.eq(coupon_id))
        .all(&app.db)
        .await
        .unwrap()
}

fn key_of(id: &Value) -> i64 {
    use base64::Engine;
    let plain = base64::engine::general_purpose::STANDARD
        .decode(id.as_str().unwrap())
        .unwrap();
    String::from_utf8(plain)
        .unwrap()
        .split(':')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_claimed_coupon_is_reserved_released_spent_and_kept_through_a_refund() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let seller = app.token(shop.seller.user_id);
    let course = gid("Course", shop.course.id);
    let (from, to) = window();
    let made = make(
        &app,
        &seller,
        json!({ "name": "新人立减", "distribution": "CLAIM", "amountOffFen": 1000, "minSpendFen": 5000,
                "scope": "ALL", "startsAt": from, "endsAt": to, "totalQuantity": 100 }),
    )
    .await;
    assert_eq!(made["userErrors"], json!([]), "{made}");
    let coupon_gid = made["coupon"]["id"].clone();
    let coupon_id = key_of(&coupon_gid);

    // The product page offers it; the learner claims it and sees it priced in.
    let page = r#"query($p: ID!) { node(id: $p) { ... on Course { claimableCoupons { id name } viewerPrice { amount { amount } discounts { kind label } } } } }"#;
    let (_, offered) = app
        .gql_as(&shop.buyer_token, page, json!({ "p": course }))
        .await;
    assert_eq!(
        offered["data"]["node"]["claimableCoupons"][0]["id"], coupon_gid,
        "{offered}"
    );
    assert_eq!(
        offered["data"]["node"]["viewerPrice"]["amount"]["amount"],
        9900
    );
    let claimed = app
        .mutate(
            &shop.buyer_token,
            r#"mutation($c: ID!) { claimCoupon(input: {coupon: $c}) { userCoupon { id status } userErrors { code } } }"#,
            json!({ "c": coupon_gid }),
        )
        .await;
    assert_eq!(claimed["userCoupon"]["status"], "AVAILABLE", "{claimed}");
    let (_, priced) = app
        .gql_as(&shop.buyer_token, page, json!({ "p": course }))
        .await;
    assert_eq!(
        priced["data"]["node"]["viewerPrice"]["amount"]["amount"], 8900,
        "{priced}"
    );
    assert_eq!(
        priced["data"]["node"]["viewerPrice"]["discounts"],
        json!([{ "kind": "COUPON", "label": "新人立减" }])
    );

    // An order reserves it; cancelling gives it back; the next order takes it again.
    let first = app
        .mutate(
            &shop.buyer_token,
            ORDER_WITH,
            json!({ "p": course, "k": "c1" }),
        )
        .await;
    assert_eq!(first["order"]["amount"]["amount"], 8900, "{first}");
    assert_eq!(
        copies(&app, coupon_id).await[0].status,
        UserCouponStatus::Reserved
    );
    let (_, listed) = app
        .gql_as(&shop.buyer_token, MINE, json!({ "s": "RESERVED" }))
        .await;
    assert_eq!(
        listed["data"]["viewer"]["coupons"]["totalCount"], 1,
        "{listed}"
    );
    let cancelled = app
        .mutate(
            &shop.buyer_token,
            r#"mutation($o: ID!) { cancelOrder(input: {order: $o}) { order { status } userErrors { code } } }"#,
            json!({ "o": first["order"]["id"] }),
        )
        .await;
    assert_eq!(cancelled["order"]["status"], "CLOSED", "{cancelled}");
    assert_eq!(
        copies(&app, coupon_id).await[0].status,
        UserCouponStatus::Available
    );
    let second = app
        .mutate(
            &shop.buyer_token,
            ORDER_WITH,
            json!({ "p": course, "k": "c2" }),
        )
        .await;
    assert_eq!(second["order"]["amount"]["amount"], 8900, "{second}");
    let out_trade_no = second["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let (headers, body) =
        simulated(&app).payment_success(&out_trade_no, 8900, "buyer-openid", Utc::now());
    assert_eq!(notify(&app, &headers, body).await, 204);
    let spent = &copies(&app, coupon_id).await[0];
    assert_eq!(spent.status, UserCouponStatus::Used);
    let paid = order_row(&app, &out_trade_no).await;
    assert_eq!(spent.order_id, Some(paid.id));

    // A refund does not return it.
    let refunded = app
        .mutate(
            &shop.admin_token,
            REFUND,
            json!({ "o": gid("Order", paid.id), "k": "r" }),
        )
        .await;
    assert_eq!(refunded["order"]["status"], "REFUNDED", "{refunded}");
    assert_eq!(
        copies(&app, coupon_id).await[0].status,
        UserCouponStatus::Used
    );
    let (_, used) = app
        .gql_as(&shop.buyer_token, MINE, json!({ "s": "USED" }))
        .await;
    assert_eq!(used["data"]["viewer"]["coupons"]["totalCount"], 1);
}

#[tokio::test]
async fn twenty_orders_race_for_the_last_five_coupons() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let seller = app.token(shop.seller.user_id);
    let (from, to) = window();
    let made = make(
        &app,
        &seller,
        json!({ "name": "限量券", "distribution": "CLAIM", "percentOff": 15,
                "scope": "ALL", "startsAt": from, "endsAt": to, "totalQuantity": 5 }),
    )
    .await;
    let coupon_gid = made["coupon"]["id"].clone();
    let fixture = Fixture::new(&app.db);
    let mut tokens = Vec::new();
    for n in 0..20 {
        let learner = fixture.user(&format!("racer-{n}"), Role::Learner).await;
        tokens.push(app.token(learner.id));
    }
    let course = gid("Course", shop.course.id);
    let app_ref = &app;
    let orders = futures_util::future::join_all(tokens.iter().map(|token| {
        let (course, coupon) = (course.clone(), coupon_gid.clone());
        async move {
            app_ref
                .mutate(
                    token,
                    ORDER_WITH,
                    json!({ "p": course, "k": "race", "c": coupon }),
                )
                .await
        }
    }))
    .await;
    let won: Vec<&Value> = orders.iter().filter(|o| !o["order"].is_null()).collect();
    assert_eq!(won.len(), 5, "{orders:?}");
    for order in &won {
        // 15% of 9900 = 1485 off.
        assert_eq!(order["order"]["amount"]["amount"], 8415, "{order}");
    }
    let lost: Vec<&Value> = orders.iter().filter(|o| o["order"].is_null()).collect();
    assert!(
        lost.iter()
            .all(|o| o["userErrors"][0]["code"] == "COUPON_EXHAUSTED"),
        "{lost:?}"
    );
    let row = coupon::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(row.issued, 5);
    let held = copies(&app, row.id).await;
    assert_eq!(held.len(), 5);
    assert!(held.iter().all(|c| c.status == UserCouponStatus::Reserved));
}

#[tokio::test]
async fn codes_limits_grants_and_refusals() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let seller = app.token(shop.seller.user_id);
    let (from, to) = window();
    let made = make(
        &app,
        &seller,
        json!({ "name": "直播福利", "distribution": "CODE", "code": "live-2026", "amountOffFen": 500,
                "scope": "ALL", "startsAt": from, "endsAt": to, "totalQuantity": 10 }),
    )
    .await;
    assert_eq!(made["coupon"]["code"], "LIVE-2026", "{made}");
    let redeem = r#"mutation($c: String!) { redeemCouponCode(input: {code: $c}) { userCoupon { id status coupon { name } } userErrors { field code } } }"#;
    let got = app
        .mutate(&shop.buyer_token, redeem, json!({ "c": " Live-2026 " }))
        .await;
    assert_eq!(got["userCoupon"]["coupon"]["name"], "直播福利", "{got}");
    let again = app
        .mutate(&shop.buyer_token, redeem, json!({ "c": "LIVE-2026" }))
        .await;
    assert_eq!(
        again["userErrors"][0]["code"], "COUPON_LIMIT_REACHED",
        "{again}"
    );
    let unknown = app
        .mutate(&shop.buyer_token, redeem, json!({ "c": "NOPE-0000" }))
        .await;
    assert_eq!(unknown["userErrors"][0]["code"], "NOT_FOUND");
    let coupon_id = key_of(&made["coupon"]["id"]);
    assert_eq!(
        copies(&app, coupon_id).await.len(),
        1,
        "a refused redeem writes nothing"
    );

    // The same code twice is refused; bad inputs are typed errors and write nothing.
    let taken = make(
        &app,
        &seller,
        json!({ "name": "重复", "distribution": "CODE", "code": "LIVE-2026", "amountOffFen": 100,
                "scope": "ALL", "startsAt": from, "endsAt": to, "totalQuantity": 10 }),
    )
    .await;
    assert_eq!(taken["userErrors"][0]["code"], "TAKEN", "{taken}");
    let both = make(
        &app,
        &seller,
        json!({ "name": "两者", "distribution": "CLAIM", "amountOffFen": 100, "percentOff": 10,
                "scope": "ALL", "startsAt": from, "endsAt": to, "totalQuantity": 10 }),
    )
    .await;
    assert_eq!(both["userErrors"][0]["code"], "INVALID", "{both}");
    let percent = make(
        &app,
        &seller,
        json!({ "name": "百分百", "distribution": "CLAIM", "percentOff": 100,
                "scope": "ALL", "startsAt": from, "endsAt": to, "totalQuantity": 10 }),
    )
    .await;
    assert_eq!(
        percent["userErrors"][0]["code"], "OUT_OF_RANGE",
        "{percent}"
    );
    assert_eq!(coupon::Entity::find().all(&app.db).await.unwrap().len(), 1);

    // A coupon from another creator does not apply to this course.
    let other = Fixture::new(&app.db).creator("Other").await;
    let foreign = make(
        &app,
        &app.token(other.user_id),
        json!({ "name": "别家券", "distribution": "CLAIM", "amountOffFen": 100,
                "scope": "ALL", "startsAt": from, "endsAt": to, "totalQuantity": 10 }),
    )
    .await;
    let refused = app
        .mutate(
            &shop.buyer_token,
            ORDER_WITH,
            json!({ "p": gid("Course", shop.course.id), "k": "f", "c": foreign["coupon"]["id"] }),
        )
        .await;
    assert_eq!(
        refused["userErrors"][0]["code"], "COUPON_NOT_APPLICABLE",
        "{refused}"
    );

    // Granted to followers: one copy each.
    let fan = Fixture::new(&app.db).user("fan", Role::Learner).await;
    app.mutate(
        &app.token(fan.id),
        r#"mutation($c: ID!) { followCreator(input: {creator: $c}) { userErrors { code } } }"#,
        json!({ "c": gid("Creator", shop.seller.id) }),
    )
    .await;
    let gift = make(
        &app,
        &seller,
        json!({ "name": "粉丝专享", "distribution": "GRANT", "percentOff": 10,
                "scope": "ALL", "startsAt": from, "endsAt": to, "totalQuantity": 10 }),
    )
    .await;
    let grant = r#"mutation($c: ID!) { grantCoupon(input: {coupon: $c, audience: FOLLOWERS}) { granted userErrors { code } } }"#;
    let granted = app
        .mutate(&seller, grant, json!({ "c": gift["coupon"]["id"] }))
        .await;
    assert_eq!(granted["granted"], 1, "{granted}");
    let twice = app
        .mutate(&seller, grant, json!({ "c": gift["coupon"]["id"] }))
        .await;
    assert_eq!(twice["granted"], 0, "already at the per-person limit");
    let (_, fan_coupons) = app
        .gql_as(&app.token(fan.id), MINE, json!({ "s": "AVAILABLE" }))
        .await;
    assert_eq!(
        fan_coupons["data"]["viewer"]["coupons"]["nodes"][0]["coupon"]["name"],
        "粉丝专享"
    );
    // A learner cannot grant.
    let (_, forbidden) = app
        .gql_as(
            &shop.buyer_token,
            grant,
            json!({ "c": gift["coupon"]["id"] }),
        )
        .await;
    assert_eq!(
        forbidden["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{forbidden}"
    );
}

/// A buyer holding one copy of a 9-yuan-off coupon, two 99-yuan courses to spend it on,
/// and the coupon's ID and the copy's.
struct OneCopy {
    app: TestApp,
    buyer_token: String,
    courses: [String; 2],
    coupon: Value,
    copy: Value,
}

async fn one_copy_two_courses() -> OneCopy {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let seller = app.token(shop.seller.user_id);
    let second = Fixture::new(&app.db)
        .course(
            &shop.seller,
            2,
            "第二门",
            "编程开发",
            9900,
            entity::enums::CourseStatus::Published,
        )
        .await;
    let (from, to) = window();
    let made = make(
        &app,
        &seller,
        json!({ "name": "一张券", "distribution": "CLAIM", "amountOffFen": 900,
                "scope": "ALL", "startsAt": from, "endsAt": to, "totalQuantity": 10 }),
    )
    .await;
    let claimed = app
        .mutate(
            &shop.buyer_token,
            r#"mutation($c: ID!) { claimCoupon(input: {coupon: $c}) { userCoupon { id } } }"#,
            json!({ "c": made["coupon"]["id"] }),
        )
        .await;
    OneCopy {
        courses: [gid("Course", shop.course.id), gid("Course", second.id)],
        buyer_token: shop.buyer_token,
        coupon: made["coupon"]["id"].clone(),
        copy: claimed["userCoupon"]["id"].clone(),
        app,
    }
}

impl OneCopy {
    /// Orders both courses at once, each with `coupon` (null: the best one).
    async fn order_both(&self, coupon: &Value) -> Vec<Value> {
        futures_util::future::join_all(self.courses.iter().enumerate().map(|(n, product)| {
            self.app.mutate(
                &self.buyer_token,
                ORDER_WITH,
                json!({ "p": product, "k": format!("both-{n}"), "c": coupon }),
            )
        }))
        .await
    }
}

#[tokio::test]
async fn two_concurrent_orders_cannot_use_one_coupon() {
    let setup = one_copy_two_courses().await;
    let orders = setup.order_both(&setup.copy).await;
    let with_coupon = orders
        .iter()
        .filter(|o| o["order"]["amount"]["amount"] == 9000)
        .count();
    assert_eq!(with_coupon, 1, "{orders:?}");
    let refused = orders.iter().find(|o| o["order"].is_null()).unwrap();
    assert_eq!(
        refused["userErrors"][0]["code"], "COUPON_NOT_APPLICABLE",
        "{refused}"
    );
    let held = copies(&setup.app, key_of(&setup.coupon)).await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].status, UserCouponStatus::Reserved);
}

#[tokio::test]
async fn a_coupon_picked_for_two_concurrent_orders_goes_to_one_and_the_other_is_priced_again() {
    let setup = one_copy_two_courses().await;
    let orders = setup.order_both(&Value::Null).await;
    let mut amounts: Vec<i64> = orders
        .iter()
        .map(|o| o["order"]["amount"]["amount"].as_i64().unwrap_or(-1))
        .collect();
    amounts.sort_unstable();
    assert_eq!(amounts, vec![9000, 9900], "{orders:?}");
}
