//! Memberships (会员): a plan opens a creator's courses for its period; renewing early
//! extends from the end at the early price; a lapsed membership locks at once and
//! renews from the payment at the lapsed price; a refund ends it.

use chrono::{DateTime, Duration, Months, Utc};
use entity::entitlement;
use entity::enums::ProductKind;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde_json::{Value, json};

use crate::helpers::{TestApp, gid};
use crate::payments::{ACCESS, CREATE_ORDER, REFUND, notify, order_row, shop, simulated};

async fn buy(app: &TestApp, token: &str, product: &str, key: &str) -> (Value, i64) {
    let bought = app
        .mutate(token, CREATE_ORDER, json!({ "p": product, "k": key }))
        .await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let amount = bought["order"]["amount"]["amount"].as_i64().unwrap();
    let (headers, body) =
        simulated(app).payment_success(&out_trade_no, amount, "buyer-openid", Utc::now());
    assert_eq!(notify(app, &headers, body).await, 204);
    (bought, order_row(app, &out_trade_no).await.id)
}

async fn membership(app: &TestApp, user_id: i64) -> entitlement::Model {
    entitlement::Entity::find()
        .filter(entitlement::Column::UserId.eq(user_id))
        .filter(entitlement::Column::ProductKind.eq(ProductKind::Membership))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

async fn opens(app: &TestApp, token: &str, course_id: i64) -> bool {
    let (_, body) = app
        .gql_as(token, ACCESS, json!({ "c": gid("Course", course_id) }))
        .await;
    body["data"]["node"]["viewerHasAccess"] == true
}

fn close(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    (a - b).num_seconds().abs() < 60
}

#[tokio::test]
async fn a_membership_opens_courses_renews_from_its_end_and_locks_when_it_lapses() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let seller = app.token(shop.seller.user_id);
    let made = app
        .mutate(
            &seller,
            r#"mutation { createMembershipPlan(input: {name: "年度会员", periodMonths: 1, priceFen: 3000, earlyRenewalPriceFen: 2500, lapsedRenewalPriceFen: 2000}) { plan { id status } userErrors { field code } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(made["userErrors"], json!([]), "{made}");
    let plan = made["plan"]["id"].as_str().unwrap().to_owned();
    app.mutate(
        &seller,
        r#"mutation($p: ID!) { updateMembershipPlan(input: {plan: $p, status: PUBLISHED}) { userErrors { code } } }"#,
        json!({ "p": plan }),
    )
    .await;
    assert!(!opens(&app, &shop.buyer_token, shop.course.id).await);
    let rebuild = "mutation { rebuildRecommendations { userErrors { code } } }";
    app.mutate(&shop.admin_token, rebuild, json!({})).await;
    let feed = "{ recommendations(first: 20) { course { id } } }";
    let listed = |body: &Value| {
        body["data"]["recommendations"]
            .as_array()
            .map(|r| {
                r.iter()
                    .any(|x| x["course"]["id"] == gid("Course", shop.course.id))
            })
            .unwrap_or(false)
    };
    let (_, before) = app.gql_as(&shop.buyer_token, feed, json!({})).await;
    assert!(listed(&before), "recommended before: {before}");

    let (first, first_order) = buy(&app, &shop.buyer_token, &plan, "m1").await;
    assert_eq!(first["order"]["amount"]["amount"], 3000, "{first}");
    assert!(
        opens(&app, &shop.buyer_token, shop.course.id).await,
        "the plan covers the course"
    );
    let end = membership(&app, shop.buyer_id).await.expires_at.unwrap();
    let started = Utc::now();
    assert!(close(
        end,
        started.checked_add_months(Months::new(1)).unwrap()
    ));
    let (_, mine) = app
        .gql_as(
            &shop.buyer_token,
            "{ viewer { memberships { active endsAt plan { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine["data"]["viewer"]["memberships"][0]["active"], true,
        "{mine}"
    );

    // Renewing early: the early price, and a month after the current end.
    let price = r#"query($p: ID!) { node(id: $p) { ... on MembershipPlan { viewerPrice { amount { amount } discounts { kind label amount { amount } } } } } }"#;
    let (_, early) = app
        .gql_as(&shop.buyer_token, price, json!({ "p": plan }))
        .await;
    assert_eq!(
        early["data"]["node"]["viewerPrice"],
        json!({ "amount": { "amount": 2500 }, "discounts": [{ "kind": "RENEWAL", "label": "续费优惠", "amount": { "amount": 500 } }] }),
        "{early}"
    );
    let (renewed, renewal_order) = buy(&app, &shop.buyer_token, &plan, "m2").await;
    assert_eq!(renewed["order"]["amount"]["amount"], 2500, "{renewed}");
    let extended = membership(&app, shop.buyer_id).await.expires_at.unwrap();
    assert_eq!(extended, end.checked_add_months(Months::new(1)).unwrap());
    // Refunding the first period's order takes a period back; the membership runs on.
    let refunded = app
        .mutate(
            &shop.admin_token,
            REFUND,
            json!({ "o": gid("Order", first_order), "k": "r0" }),
        )
        .await;
    assert_eq!(refunded["order"]["status"], "REFUNDED", "{refunded}");
    let shortened = membership(&app, shop.buyer_id).await;
    assert_eq!(
        shortened.expires_at,
        extended.checked_sub_months(Months::new(1))
    );
    assert!(opens(&app, &shop.buyer_token, shop.course.id).await);
    assert!(renewal_order > first_order);

    // It lapses: the course locks at once; renewing costs the lapsed price, from now.
    let mut lapsed = membership(&app, shop.buyer_id).await.into_active_model();
    lapsed.expires_at = Set(Some(Utc::now() - Duration::minutes(1)));
    lapsed.update(&app.db).await.unwrap();
    assert!(!opens(&app, &shop.buyer_token, shop.course.id).await);
    let (back, back_order) = buy(&app, &shop.buyer_token, &plan, "m3").await;
    assert_eq!(back["order"]["amount"]["amount"], 2000, "{back}");
    let again = membership(&app, shop.buyer_id).await.expires_at.unwrap();
    assert!(close(
        again,
        Utc::now().checked_add_months(Months::new(1)).unwrap()
    ));
    assert!(opens(&app, &shop.buyer_token, shop.course.id).await);

    // Refunding the only running period ends it.
    let refunded = app
        .mutate(
            &shop.admin_token,
            REFUND,
            json!({ "o": gid("Order", back_order), "k": "r" }),
        )
        .await;
    assert_eq!(refunded["order"]["status"], "REFUNDED", "{refunded}");
    assert!(!opens(&app, &shop.buyer_token, shop.course.id).await);
}
