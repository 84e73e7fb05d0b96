//! The console's lists through the real API on the analytics fixture: every order
//! filter and the amount ordering with keyset pages, the user list (role, banned,
//! nickname, sign-up time), hidden ratings for moderators, and the CSV export of
//! orders (who may export, its format, and 100,000 rows streamed in chunks).

use chrono::{Duration, Utc};
use entity::enums::{DiscountKind, OrderStatus, ProductKind};
use futures_util::StreamExt;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};

use crate::analytics::world;
use crate::helpers::{TestApp, gid, t0};

const ORDERS: &str = r#"query($f: OrderFilter, $o: OrderOrder, $first: Int, $after: String) {
  orders(filter: $f, orderBy: $o, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { amount { amount } status } } } }"#;

async fn orders(app: &TestApp, token: &str, variables: Value) -> Value {
    let (status, body) = app.gql_as(token, ORDERS, variables).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn total(body: &Value) -> i64 {
    body["data"]["orders"]["totalCount"]
        .as_i64()
        .unwrap_or_else(|| panic!("{body}"))
}

fn amounts(body: &Value) -> Vec<i64> {
    body["data"]["orders"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["amount"]["amount"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn orders_are_filtered_ordered_and_paged_for_each_viewer() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let [u1, u2, _] = w.learners;
    // One order was priced with coupon 77.
    let discounted = entity::order::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.amount_fen == 7_900)
        .unwrap();
    entity::order_discount::ActiveModel {
        order_id: Set(discounted.id),
        position: Set(0),
        kind: Set(DiscountKind::Coupon),
        label: Set("满减".into()),
        amount_fen: Set(2_000),
        coupon_id: Set(Some(77)),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();

    for (filter, expected) in [
        (json!({}), 8),
        (json!({ "status": "REFUNDED" }), 1),
        (json!({ "minAmountFen": 5000 }), 3),
        (json!({ "maxAmountFen": 0 }), 1),
        (json!({ "minAmountFen": 4900, "maxAmountFen": 4900 }), 3),
        (
            json!({ "productKind": "COURSE", "creator": gid("Creator", w.other_seller) }),
            1,
        ),
        (json!({ "productKind": "LIVESTREAM" }), 0),
        (json!({ "buyer": gid("User", u1) }), 2),
        (json!({ "coupon": gid("Coupon", 77) }), 1),
        (
            json!({ "createdFrom": "2026-12-01T00:00:00Z", "createdBefore": "2026-12-02T00:00:00Z" }),
            4,
        ),
    ] {
        let body = orders(&app, &w.admin, json!({ "f": filter })).await;
        assert_eq!(total(&body), expected, "{filter}: {body}");
    }

    // By amount, smallest first, three at a time.
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let body = orders(
            &app,
            &w.admin,
            json!({ "o": { "field": "AMOUNT", "direction": "ASC" }, "first": 3, "after": after }),
        )
        .await;
        pages.push(amounts(&body));
        let info = &body["data"]["orders"]["pageInfo"];
        if !info["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = info["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(
        pages,
        [
            vec![0, 2_990, 4_900],
            vec![4_900, 4_900, 7_900],
            vec![9_900, 9_900]
        ]
    );

    // A creator's filters narrow what they sold; a learner's, their own orders.
    assert_eq!(total(&orders(&app, &w.seller_token, json!({})).await), 7);
    let theirs = json!({ "f": { "creator": gid("Creator", w.other_seller) } });
    assert_eq!(total(&orders(&app, &w.seller_token, theirs).await), 0);
    assert_eq!(total(&orders(&app, &w.learner_token, json!({})).await), 2);
    let someone_else = json!({ "f": { "buyer": gid("User", u2) } });
    let refused = orders(&app, &w.learner_token, someone_else).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

const USERS: &str = r#"query($f: UserFilter, $o: UserOrder, $first: Int) {
  users(filter: $f, orderBy: $o, first: $first) { totalCount edges { node { nickname role bannedAt } } } }"#;

#[tokio::test]
async fn admins_find_users_by_role_ban_nickname_and_sign_up() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let u3 = w.learners[2];
    let banned = app
        .mutate(
            &w.admin,
            r#"mutation($u: ID!) { banUser(input: {user: $u}) { userErrors { code } } }"#,
            json!({ "u": gid("User", u3) }),
        )
        .await;
    assert_eq!(banned["userErrors"], json!([]), "{banned}");
    let count = |body: &Value| body["data"]["users"]["totalCount"].as_i64().unwrap();
    for (filter, expected) in [
        (json!({}), 6),
        (json!({ "role": "CREATOR" }), 2),
        (json!({ "banned": true }), 1),
        (json!({ "banned": false }), 5),
        (json!({ "nicknameContains": "U" }), 3),
        (
            json!({ "createdFrom": (t0() + Duration::seconds(1)).to_rfc3339() }),
            0,
        ),
        (
            json!({ "createdBefore": (t0() + Duration::seconds(1)).to_rfc3339() }),
            6,
        ),
    ] {
        let (_, body) = app.gql_as(&w.admin, USERS, json!({ "f": filter })).await;
        assert_eq!(count(&body), expected, "{filter}: {body}");
    }
    let (_, banned) = app
        .gql_as(&w.admin, USERS, json!({ "f": { "banned": true } }))
        .await;
    assert!(banned["data"]["users"]["edges"][0]["node"]["bannedAt"].is_string());
    let (_, by_name) = app
        .gql_as(
            &w.admin,
            USERS,
            json!({ "o": { "field": "NICKNAME", "direction": "ASC" }, "first": 2 }),
        )
        .await;
    let names: Vec<&str> = by_name["data"]["users"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["nickname"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["nick-admin", "nick-creator-S"]);
    let (_, refused) = app.gql_as(&w.seller_token, USERS, json!({})).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

#[tokio::test]
async fn moderators_list_hidden_ratings_and_nobody_else_does() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    const RATINGS: &str = r#"query($h: Boolean) { ratings(filter: {hidden: $h}) { totalCount edges { node { stars hiddenAt } } } }"#;
    let (_, visible) = app.gql_as(&w.admin, RATINGS, json!({})).await;
    assert_eq!(visible["data"]["ratings"]["totalCount"], 2);
    let (_, hidden) = app.gql_as(&w.admin, RATINGS, json!({ "h": true })).await;
    assert_eq!(hidden["data"]["ratings"]["totalCount"], 1, "{hidden}");
    assert_eq!(hidden["data"]["ratings"]["edges"][0]["node"]["stars"], 1);
    assert!(hidden["data"]["ratings"]["edges"][0]["node"]["hiddenAt"].is_string());
    let (_, refused) = app
        .gql_as(&w.learner_token, RATINGS, json!({ "h": true }))
        .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

async fn export(app: &TestApp, token: Option<&str>, query: &str) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url(&format!("/exports/orders.csv{query}")));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request")
}

#[tokio::test]
async fn admins_export_filtered_orders_as_csv_for_excel() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let response = export(&app, Some(&w.admin), "?status=PAID").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "a BOM first");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("order_no,status,product_kind"));
    // Paid: four of S's (one free), u2's November order, T's.
    assert_eq!(lines.len(), 1 + 6, "{text}");
    let discounted = lines
        .iter()
        .find(|l| l.contains(",79.00,"))
        .expect("the discounted order");
    assert!(discounted.contains(",PAID,COURSE,"), "{discounted}");
    assert!(discounted.contains(",A,"), "its title: {discounted}");
    assert!(
        discounted.contains(",99.00,20.00,79.00,CNY,"),
        "{discounted}"
    );

    let creator = format!("?creator={}", gid("Creator", w.other_seller));
    let theirs = export(&app, Some(&w.admin), &creator)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(theirs.split("\r\n").filter(|l| !l.is_empty()).count(), 2);

    assert_eq!(export(&app, None, "").await.status(), 401);
    assert_eq!(export(&app, Some(&w.seller_token), "").await.status(), 403);
    for bad in [
        "?status=NOPE",
        "?creator=bm9wZQ",
        "?color=red",
        "?minAmountFen=x",
    ] {
        let response = export(&app, Some(&w.admin), bad).await;
        assert_eq!(response.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn an_export_of_100000_orders_streams_in_chunks() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let before = Utc::now();
    let rows: Vec<entity::order::ActiveModel> = (0..100_000)
        .map(|n| entity::order::ActiveModel {
            out_trade_no: Set(format!("ZKBULK{n:08}")),
            buyer_id: Set(w.learners[0]),
            product_kind: Set(ProductKind::Course),
            product_id: Set(w.course_a),
            amount_fen: Set(9_900),
            list_price_fen: Set(9_900),
            currency: Set("CNY".into()),
            status: Set(OrderStatus::Closed),
            idempotency_key: Set(format!("bulk-{n}")),
            transaction_id: Set(None),
            prepay_id: Set(None),
            pay_app: Set(entity::enums::IdentityApp::MiniProgram),
            created_at: Set(before),
            expires_at: Set(before),
            paid_at: Set(None),
            refunded_at: Set(None),
            closed_at: Set(Some(before)),
            updated_at: Set(before),
            promoter_id: Set(None),
            profit_sharing: Set(false),
            seller_id: Set(w.seller),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(1_000) {
        entity::order::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&app.db)
            .await
            .unwrap();
    }
    let response = export(&app, Some(&w.admin), "?status=CLOSED").await;
    assert_eq!(response.status(), 200);
    let (mut lines, mut chunks, mut largest) = (0usize, 0usize, 0usize);
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.expect("chunk");
        chunks += 1;
        largest = largest.max(chunk.len());
        lines += chunk.iter().filter(|b| **b == b'\n').count();
    }
    assert_eq!(lines, 100_001, "the header and every order");
    // Written batch by batch: no chunk holds more than a batch of rows.
    assert!(chunks >= 50, "{chunks} chunks");
    assert!(largest < 1024 * 1024, "{largest} bytes in one chunk");
}
