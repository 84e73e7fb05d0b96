//! Bundles (专栏): bought as one, granting each course; priced less what the buyer
//! already paid for its courses; courses added later reach earlier buyers; a refund
//! takes back exactly what the bundle granted.

use chrono::Utc;
use entity::entitlement;
use entity::enums::{CourseStatus, ProductKind, Role};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{Fixture, TestApp, gid};
use crate::payments::{ACCESS, CREATE_ORDER, REFUND, notify, order_row, shop, simulated};

/// Orders `product` and pays it with a notification; returns the order id.
async fn buy(app: &TestApp, token: &str, product: &str, key: &str, openid: &str) -> (Value, i64) {
    let bought = app
        .mutate(token, CREATE_ORDER, json!({ "p": product, "k": key }))
        .await;
    let out_trade_no = bought["order"]["outTradeNo"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let amount = bought["order"]["amount"]["amount"]
        .as_i64()
        .unwrap_or_default();
    if amount > 0 {
        let (headers, body) =
            simulated(app).payment_success(&out_trade_no, amount, openid, Utc::now());
        assert_eq!(notify(app, &headers, body).await, 204);
    }
    let id = order_row(app, &out_trade_no).await.id;
    (bought, id)
}

async fn has_access(app: &TestApp, token: &str, course_id: i64) -> bool {
    let (_, body) = app
        .gql_as(token, ACCESS, json!({ "c": gid("Course", course_id) }))
        .await;
    body["data"]["node"]["viewerHasAccess"] == true
}

#[tokio::test]
async fn a_bundle_grants_its_courses_credits_what_was_paid_and_refunds_exactly() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let seller = app.token(shop.seller.user_id);
    let fixture = Fixture::new(&app.db);
    let b = fixture
        .course(
            &shop.seller,
            2,
            "第二门",
            "编程开发",
            4900,
            CourseStatus::Published,
        )
        .await;
    let c = fixture
        .course(
            &shop.seller,
            3,
            "第三门",
            "编程开发",
            2900,
            CourseStatus::Published,
        )
        .await;
    let a = shop.course.id;
    // The buyer owns course A already, paid 99.00.
    buy(
        &app,
        &shop.buyer_token,
        &gid("Course", a),
        "a",
        "buyer-openid",
    )
    .await;

    let made = app
        .mutate(
            &seller,
            r#"mutation($c: [ID!]!) { createBundle(input: {title: "全栈专栏", priceFen: 12000, courses: $c, includesFuture: true}) { bundle { id status courses { title } } userErrors { field code } } }"#,
            json!({ "c": [gid("Course", a), gid("Course", b.id)] }),
        )
        .await;
    assert_eq!(made["userErrors"], json!([]), "{made}");
    assert_eq!(made["bundle"]["status"], "DRAFT");
    let bundle = made["bundle"]["id"].as_str().unwrap().to_owned();
    let not_yet = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": bundle, "k": "early" }),
        )
        .await;
    assert_eq!(
        not_yet["userErrors"][0]["code"], "NOT_FOR_SALE",
        "{not_yet}"
    );
    let published = app
        .mutate(
            &seller,
            r#"mutation($b: ID!) { updateBundle(input: {bundle: $b, status: PUBLISHED}) { bundle { status } userErrors { code } } }"#,
            json!({ "b": bundle }),
        )
        .await;
    assert_eq!(published["bundle"]["status"], "PUBLISHED", "{published}");

    let price = r#"query($b: ID!) { node(id: $b) { ... on Bundle { viewerPrice { amount { amount } discounts { kind label amount { amount } } } } } }"#;
    let (_, credited) = app
        .gql_as(&shop.buyer_token, price, json!({ "b": bundle }))
        .await;
    assert_eq!(
        credited["data"]["node"]["viewerPrice"],
        json!({ "amount": { "amount": 2100 }, "discounts": [
            { "kind": "BUNDLE_CREDIT", "label": "已购课程抵扣", "amount": { "amount": 9900 } }] }),
        "{credited}"
    );
    let stranger = fixture.user("stranger", Role::Learner).await;
    let (_, full) = app
        .gql_as(&app.token(stranger.id), price, json!({ "b": bundle }))
        .await;
    assert_eq!(
        full["data"]["node"]["viewerPrice"]["amount"]["amount"],
        12000
    );

    let (bought, order_id) = buy(&app, &shop.buyer_token, &bundle, "bundle", "buyer-openid").await;
    assert_eq!(bought["order"]["amount"]["amount"], 2100, "{bought}");
    assert!(has_access(&app, &shop.buyer_token, b.id).await);
    assert!(!has_access(&app, &shop.buyer_token, c.id).await);
    // A course added later reaches the bundle's buyer at once.
    let added = app
        .mutate(
            &seller,
            r#"mutation($b: ID!, $c: [ID!]!) { updateBundle(input: {bundle: $b, courses: $c}) { bundle { courses { title } } userErrors { code } } }"#,
            json!({ "b": bundle, "c": [gid("Course", a), gid("Course", b.id), gid("Course", c.id)] }),
        )
        .await;
    assert_eq!(
        added["bundle"]["courses"].as_array().unwrap().len(),
        3,
        "{added}"
    );
    assert!(has_access(&app, &shop.buyer_token, c.id).await);
    let through_bundle: Vec<i64> = entitlement::Entity::find()
        .filter(entitlement::Column::OrderId.eq(order_id))
        .filter(entitlement::Column::ProductKind.eq(ProductKind::Course))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.product_id)
        .collect();
    assert_eq!(
        through_bundle.len(),
        2,
        "B and C, not A which was bought alone"
    );
    assert!(!through_bundle.contains(&a));

    // Refunding the bundle takes back B and C; A, bought alone, stays.
    let refunded = app
        .mutate(
            &shop.admin_token,
            REFUND,
            json!({ "o": gid("Order", order_id), "k": "r" }),
        )
        .await;
    assert_eq!(refunded["order"]["status"], "REFUNDED", "{refunded}");
    assert!(has_access(&app, &shop.buyer_token, a).await);
    assert!(!has_access(&app, &shop.buyer_token, b.id).await);
    assert!(!has_access(&app, &shop.buyer_token, c.id).await);
}

#[tokio::test]
async fn bundles_hold_only_their_creators_courses_and_a_full_owner_is_told() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let seller = app.token(shop.seller.user_id);
    let other = Fixture::new(&app.db).creator("Other").await;
    let theirs = Fixture::new(&app.db)
        .course(
            &other,
            1,
            "别人的课",
            "编程开发",
            100,
            CourseStatus::Published,
        )
        .await;
    let create = r#"mutation($c: [ID!]!) { createBundle(input: {title: "专栏", priceFen: 100, courses: $c}) { bundle { id } userErrors { field code } } }"#;
    let refused = app
        .mutate(&seller, create, json!({ "c": [gid("Course", theirs.id)] }))
        .await;
    assert_eq!(refused["userErrors"][0]["code"], "INVALID", "{refused}");
    let empty = app.mutate(&seller, create, json!({ "c": [] })).await;
    assert_eq!(empty["userErrors"][0]["code"], "OUT_OF_RANGE", "{empty}");
    assert!(
        entity::bundle::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );

    // A learner who owns every course of a closed bundle has nothing to buy.
    let made = app
        .mutate(
            &seller,
            create,
            json!({ "c": [gid("Course", shop.course.id)] }),
        )
        .await;
    let bundle = made["bundle"]["id"].as_str().unwrap().to_owned();
    app.mutate(
        &seller,
        r#"mutation($b: ID!) { updateBundle(input: {bundle: $b, status: PUBLISHED}) { userErrors { code } } }"#,
        json!({ "b": bundle }),
    )
    .await;
    buy(
        &app,
        &shop.buyer_token,
        &gid("Course", shop.course.id),
        "a",
        "buyer-openid",
    )
    .await;
    let nothing = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": bundle, "k": "b" }),
        )
        .await;
    assert_eq!(
        nothing["userErrors"][0]["code"], "ALREADY_OWNED",
        "{nothing}"
    );
}
