//! Selling tools: limited-time prices, the price breakdown a viewer sees and an order
//! keeps.

use chrono::{Duration, Utc};
use entity::enums::{OrderStatus, Role};
use entity::{order_discount, product_sale};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{Fixture, TestApp, gid};
use crate::payments::{CREATE_ORDER, notify, order_row, shop, simulated};

const SET_SALE: &str = r#"mutation($p: ID!, $price: Int!, $from: DateTime!, $to: DateTime!) {
  setSale(input: {product: $p, priceFen: $price, startsAt: $from, endsAt: $to}) {
    product { ... on Course { price { amount } sale { price { amount } active endsAt }
      viewerPrice { amount { amount } original { amount } discounts { kind label amount { amount } } endsAt } } }
    userErrors { field code }
  }
}"#;
const PRICE: &str = r#"query($p: ID!) { node(id: $p) { ... on Course {
  sale { price { amount } active } viewerPrice { amount { amount } original { amount } discounts { kind amount { amount } } } } } }"#;

async fn set_sale(
    app: &TestApp,
    token: &str,
    course: &str,
    price: i64,
    from: i64,
    to: i64,
) -> Value {
    let now = Utc::now();
    app.mutate(
        token,
        SET_SALE,
        json!({
            "p": course,
            "price": price,
            "from": (now + Duration::minutes(from)).to_rfc3339(),
            "to": (now + Duration::minutes(to)).to_rfc3339(),
        }),
    )
    .await
}

#[tokio::test]
async fn a_sale_price_is_what_the_viewer_sees_and_what_the_order_keeps() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let seller = app.token(shop.seller.user_id);
    let course = gid("Course", shop.course.id);

    let set = set_sale(&app, &seller, &course, 6900, -1, 60).await;
    assert_eq!(set["userErrors"], json!([]), "{set}");
    let product = &set["product"];
    assert_eq!(product["price"]["amount"], 9900, "the list price stays");
    assert_eq!(product["sale"]["active"], true);
    assert_eq!(
        product["viewerPrice"]["discounts"],
        json!([{ "kind": "SALE", "label": "限时折扣", "amount": { "amount": 3000 } }])
    );
    assert_eq!(product["viewerPrice"]["amount"]["amount"], 6900);
    assert_eq!(product["viewerPrice"]["endsAt"], product["sale"]["endsAt"]);
    let (_, seen) = app
        .gql_as(&shop.buyer_token, PRICE, json!({ "p": course }))
        .await;
    assert_eq!(
        seen["data"]["node"]["viewerPrice"]["amount"]["amount"], 6900,
        "{seen}"
    );

    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": course, "k": "sale" }),
        )
        .await;
    assert_eq!(bought["order"]["amount"]["amount"], 6900, "{bought}");
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let row = order_row(&app, &out_trade_no).await;
    assert_eq!((row.list_price_fen, row.amount_fen), (9900, 6900));
    let discounts = order_discount::Entity::find()
        .filter(order_discount::Column::OrderId.eq(row.id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(discounts.len(), 1);
    assert_eq!(discounts[0].amount_fen, 3000);

    // The sale ends; the order made during it is still paid at its amount.
    let ended = app
        .mutate(
            &seller,
            r#"mutation($p: ID!) { endSale(input: {product: $p}) { product { ... on Course { sale { active } viewerPrice { amount { amount } } } } userErrors { code } } }"#,
            json!({ "p": course }),
        )
        .await;
    assert_eq!(ended["product"]["sale"], Value::Null, "{ended}");
    assert_eq!(ended["product"]["viewerPrice"]["amount"]["amount"], 9900);
    let (headers, body) =
        simulated(&app).payment_success(&out_trade_no, 6900, "buyer-openid", Utc::now());
    assert_eq!(notify(&app, &headers, body).await, 204);
    assert_eq!(
        order_row(&app, &out_trade_no).await.status,
        OrderStatus::Paid
    );
    let (_, order) = app
        .gql_as(
            &shop.buyer_token,
            r#"query($o: ID!) { node(id: $o) { ... on Order { amount { amount } listPrice { amount } discounts { kind label amount { amount } } } } }"#,
            json!({ "o": gid("Order", row.id) }),
        )
        .await;
    assert_eq!(
        order["data"]["node"],
        json!({ "amount": { "amount": 6900 }, "listPrice": { "amount": 9900 },
                "discounts": [{ "kind": "SALE", "label": "限时折扣", "amount": { "amount": 3000 } }] }),
        "{order}"
    );
}

#[tokio::test]
async fn a_pending_order_made_before_a_sale_is_replaced_at_the_sale_price() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let seller = app.token(shop.seller.user_id);
    let course = gid("Course", shop.course.id);
    let before = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": course, "k": "a" }),
        )
        .await;
    assert_eq!(before["order"]["amount"]["amount"], 9900);
    set_sale(&app, &seller, &course, 5000, -1, 60).await;
    let after = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": course, "k": "b" }),
        )
        .await;
    assert_eq!(after["order"]["amount"]["amount"], 5000, "{after}");
    let old = order_row(&app, before["order"]["outTradeNo"].as_str().unwrap()).await;
    assert_eq!(
        old.status,
        OrderStatus::Closed,
        "the dearer open order is closed"
    );
}

#[tokio::test]
async fn free_for_a_while_is_a_free_order_granted_at_once() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let seller = app.token(shop.seller.user_id);
    let course = gid("Course", shop.course.id);
    set_sale(&app, &seller, &course, 0, -1, 60).await;
    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": course, "k": "free" }),
        )
        .await;
    assert_eq!(bought["order"]["status"], "PAID", "{bought}");
    assert_eq!(bought["order"]["amount"]["amount"], 0);
    assert_eq!(bought["payment"], Value::Null);
}

#[tokio::test]
async fn bad_sales_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let seller = app.token(shop.seller.user_id);
    let course = gid("Course", shop.course.id);
    for (price, from, to, field) in [
        (9900, -1, 60, "priceFen"),
        (-1, -1, 60, "priceFen"),
        (5000, -60, -1, "endsAt"),
        (5000, 60, 30, "endsAt"),
        (5000, 0, 60 * 24 * 400, "endsAt"),
    ] {
        let refused = set_sale(&app, &seller, &course, price, from, to).await;
        assert_eq!(
            refused["userErrors"],
            json!([{ "field": ["input", field], "code": "OUT_OF_RANGE" }]),
            "{price} {from} {to}: {refused}"
        );
    }
    // Only the product's creator (or an admin) prices it.
    let other = Fixture::new(&app.db).creator("Other").await;
    let (_, forbidden) = app
        .gql_as(
            &app.token(other.user_id),
            SET_SALE,
            json!({ "p": course, "price": 100, "from": Utc::now().to_rfc3339(),
                    "to": (Utc::now() + Duration::hours(1)).to_rfc3339() }),
        )
        .await;
    assert_eq!(
        forbidden["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{forbidden}"
    );
    let learner = Fixture::new(&app.db).user("someone", Role::Learner).await;
    let (_, learner_refused) = app
        .gql_as(
            &app.token(learner.id),
            SET_SALE,
            json!({ "p": course, "price": 100, "from": Utc::now().to_rfc3339(),
                    "to": (Utc::now() + Duration::hours(1)).to_rfc3339() }),
        )
        .await;
    assert_eq!(
        learner_refused["errors"][0]["extensions"]["code"],
        "FORBIDDEN"
    );
    assert_eq!(
        product_sale::Entity::find().count(&app.db).await.unwrap(),
        0
    );
    // An admin may.
    let by_admin = set_sale(&app, &shop.admin_token, &course, 100, 0, 60).await;
    assert_eq!(by_admin["userErrors"], json!([]), "{by_admin}");
}

#[tokio::test]
async fn the_readme_worked_example_a_sale_and_the_best_coupon() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 19900).await;
    let seller = app.token(shop.seller.user_id);
    let course = gid("Course", shop.course.id);
    set_sale(&app, &seller, &course, 13930, -1, 60 * 24 * 7).await;
    let (from, to) = (
        (Utc::now() - Duration::minutes(1)).to_rfc3339(),
        (Utc::now() + Duration::days(90)).to_rfc3339(),
    );
    let create = r#"mutation($i: CreateCouponInput!) { createCoupon(input: $i) { coupon { id } userErrors { field code } } }"#;
    let by_creator = app
        .mutate(&seller, create, json!({ "i": { "name": "满50减10", "distribution": "CLAIM",
            "amountOffFen": 1000, "minSpendFen": 5000, "scope": "ALL", "startsAt": from, "endsAt": to,
            "totalQuantity": 500 } }))
        .await;
    let platform = app
        .mutate(
            &shop.admin_token,
            create,
            json!({ "i": { "name": "知库新人85折", "distribution": "CODE",
            "code": "ZHIKU2026", "percentOff": 15, "scope": "ALL", "startsAt": from, "endsAt": to,
            "totalQuantity": 10000, "platform": true } }),
        )
        .await;
    assert_eq!(platform["userErrors"], json!([]), "{platform}");
    app.mutate(
        &shop.buyer_token,
        r#"mutation($c: ID!) { claimCoupon(input: {coupon: $c}) { userErrors { code } } }"#,
        json!({ "c": by_creator["coupon"]["id"] }),
    )
    .await;
    app.mutate(
        &shop.buyer_token,
        r#"mutation { redeemCouponCode(input: {code: "zhiku2026"}) { userErrors { code } } }"#,
        json!({}),
    )
    .await;
    let (_, priced) = app
        .gql_as(
            &shop.buyer_token,
            r#"query($p: ID!) { node(id: $p) { ... on Course { viewerPrice { amount { amount } original { amount } discounts { kind label amount { amount } } } } } }"#,
            json!({ "p": course }),
        )
        .await;
    assert_eq!(
        priced["data"]["node"]["viewerPrice"],
        json!({ "amount": { "amount": 11840 }, "original": { "amount": 19900 }, "discounts": [
            { "kind": "SALE", "label": "限时折扣", "amount": { "amount": 5970 } },
            { "kind": "COUPON", "label": "知库新人85折", "amount": { "amount": 2090 } } ] }),
        "{priced}"
    );
    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": course, "k": "readme" }),
        )
        .await;
    assert_eq!(bought["order"]["amount"]["amount"], 11840, "{bought}");
}
