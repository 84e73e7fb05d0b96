//! Distribution (分销) through the real API: a creator promotes a course, two levels of
//! promoters share it, a learner's referral credits the order, the commissions come
//! out of the creator's share to the fen, and a refund takes them back.

use entity::enums::Role;
use entity::order;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{Fixture, TestApp, gid};
use crate::ledger::assert_balanced;
use crate::messages::buy_and_pay;
use crate::payments::{REFUND, shop};

const ENABLE: &str = r#"mutation($p: ID!, $r: Int!, $s: Int!) { enablePromotion(input: {product: $p, rateBps: $r, secondLevelBps: $s}) { promotion { rateBps secondLevelBps enabled } userErrors { field code } } }"#;
const BECOME: &str = r#"mutation($p: ID!, $by: String) { becomePromoter(input: {product: $p, recruitedBy: $by}) { promoterCode { code } userErrors { field code } } }"#;
const REFER: &str = r#"mutation($c: String!) { recordReferral(input: {code: $c}) { referral { openedAt expiresAt } userErrors { field code } } }"#;
const BUY_WITH: &str = r#"mutation($p: ID!, $c: String) { createOrder(input: {product: $p, idempotencyKey: "with-code", promoterCode: $c}) { order { status } userErrors { field code } } }"#;
const MINE: &str = "{ viewer { promoterEarnings { pending { amount } available { amount } } promoterCodes { code product { ... on Course { title } } } } }";

fn pending(body: &Value) -> i64 {
    body["data"]["viewer"]["promoterEarnings"]["pending"]["amount"]
        .as_i64()
        .unwrap_or(-1)
}

#[tokio::test]
async fn two_levels_of_promoters_are_paid_from_the_creators_share_and_refunds_take_it_back() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let fixture = Fixture::new(&app.db);
    let course = gid("Course", shop.course.id);
    let seller_token = app.token(shop.seller.user_id);

    // Only the creator (or an admin) promotes, at 0.01 % to 50 %.
    let refused = app
        .mutate(
            &seller_token,
            ENABLE,
            json!({ "p": course, "r": 0, "s": 0 }),
        )
        .await;
    assert_eq!(
        refused["userErrors"],
        json!([{ "field": ["input", "rateBps"], "code": "OUT_OF_RANGE" }])
    );
    let (_, forbidden) = app
        .gql_as(
            &shop.buyer_token,
            ENABLE,
            json!({ "p": course, "r": 2000, "s": 0 }),
        )
        .await;
    assert_eq!(forbidden["errors"][0]["extensions"]["code"], "FORBIDDEN");
    // A product not promoted has no promoters.
    let first = fixture.user("promoter-one", Role::Learner).await;
    let first_token = app.token(first.id);
    let early = app
        .mutate(&first_token, BECOME, json!({ "p": course }))
        .await;
    assert_eq!(early["userErrors"][0]["code"], "INVALID_STATE", "{early}");

    // 20 % to the promoter, 5 % to whoever recruited them.
    let enabled = app
        .mutate(
            &seller_token,
            ENABLE,
            json!({ "p": course, "r": 2000, "s": 500 }),
        )
        .await;
    assert_eq!(enabled["promotion"]["enabled"], true, "{enabled}");
    let first_code = app
        .mutate(&first_token, BECOME, json!({ "p": course }))
        .await["promoterCode"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = app
        .mutate(&first_token, BECOME, json!({ "p": course }))
        .await;
    assert_eq!(
        again["promoterCode"]["code"], first_code,
        "one code per product"
    );
    let second = fixture.user("promoter-two", Role::Learner).await;
    let second_token = app.token(second.id);
    let second_code = app
        .mutate(
            &second_token,
            BECOME,
            json!({ "p": course, "by": first_code }),
        )
        .await["promoterCode"]["code"]
        .as_str()
        .unwrap()
        .to_owned();

    // One's own link records nothing; one's own code cannot buy.
    let own = app
        .mutate(&second_token, REFER, json!({ "c": second_code }))
        .await;
    assert_eq!(own["referral"], Value::Null, "{own}");
    let own_code = app
        .mutate(
            &second_token,
            BUY_WITH,
            json!({ "p": course, "c": second_code }),
        )
        .await;
    assert_eq!(
        own_code["userErrors"],
        json!([{ "field": ["input", "promoterCode"], "code": "INVALID" }])
    );

    // The learner opens the second promoter's link, then buys without a code.
    let referred = app
        .mutate(&shop.buyer_token, REFER, json!({ "c": second_code }))
        .await;
    assert!(referred["referral"]["expiresAt"].is_string(), "{referred}");
    let order_id = buy_and_pay(&app, &shop.buyer_token, shop.course.id, "buyer-openid").await;
    let row = order::Entity::find_by_id(order_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.promoter_id.is_some(), "the referral credited the order");

    // 99.00: fee 9.90, the promoter 19.80, the recruiter 4.95, the creator 64.35.
    let (_, mine) = app.gql_as(&second_token, MINE, json!({})).await;
    assert_eq!(pending(&mine), 1_980, "{mine}");
    assert_eq!(
        mine["data"]["viewer"]["promoterCodes"][0]["code"],
        second_code
    );
    let (_, recruiter) = app.gql_as(&first_token, MINE, json!({})).await;
    assert_eq!(pending(&recruiter), 495, "{recruiter}");
    let (_, seller) = app
        .gql_as(
            &seller_token,
            r#"query($c: ID!) { node(id: $c) { ... on Creator { earnings { pending { amount } } } } }"#,
            json!({ "c": gid("Creator", shop.seller.id) }),
        )
        .await;
    assert_eq!(
        seller["data"]["node"]["earnings"]["pending"]["amount"],
        6_435
    );
    assert_balanced(&app).await;

    // A refund takes every commission back.
    app.mutate(
        &shop.admin_token,
        REFUND,
        json!({ "o": gid("Order", order_id), "k": "r1" }),
    )
    .await;
    let (_, mine) = app.gql_as(&second_token, MINE, json!({})).await;
    let (_, recruiter) = app.gql_as(&first_token, MINE, json!({})).await;
    assert_eq!((pending(&mine), pending(&recruiter)), (0, 0));
    assert_balanced(&app).await;
    // The promoter's history shows the commission and its reversal, newest first.
    let (_, history) = app
        .gql_as(
            &second_token,
            "{ viewer { promoterLedgerEntries(first: 5) { totalCount edges { node { kind amount { amount } orderId } } } } }",
            json!({}),
        )
        .await;
    let entries = &history["data"]["viewer"]["promoterLedgerEntries"];
    assert_eq!(entries["totalCount"], 2, "{history}");
    let kinds: Vec<(&str, i64)> = entries["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["kind"].as_str().unwrap(),
                e["node"]["amount"]["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(kinds, [("REFUND", -1_980), ("SALE", 1_980)]);

    // Another user's promoter earnings are not theirs to see.
    let (_, other) = app
        .gql_as(
            &first_token,
            r#"query($u: ID!) { node(id: $u) { ... on User { promoterEarnings { pending { amount } } } } }"#,
            json!({ "u": gid("User", second.id) }),
        )
        .await;
    assert_eq!(
        other["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{other}"
    );
}
