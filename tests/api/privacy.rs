//! Personal data is never readable anonymously: orders, entitlements, openids.

use entity::enums::{OrderStatus, ProductKind, Role};
use entity::order;
use sea_orm::{ActiveModelTrait, IntoActiveModel};
use serde_json::json;

use crate::helpers::{Fixture, ResetId, TestApp, error_code, t0};

#[tokio::test]
async fn orders_and_entitlements_are_forbidden_to_anonymous_visitors() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let buyer = fixture.user("buyer", Role::Learner).await;
    let placed = order::Model {
        id: 0,
        out_trade_no: "ZK000000000001".into(),
        buyer_id: buyer.id,
        product_kind: ProductKind::Course,
        product_id: 1,
        amount_fen: 100,
        list_price_fen: 100,
        currency: "CNY".into(),
        status: OrderStatus::Pending,
        idempotency_key: "k1".into(),
        transaction_id: None,
        prepay_id: None,
        pay_app: entity::enums::IdentityApp::MiniProgram,
        created_at: t0(),
        expires_at: t0(),
        paid_at: None,
        refunded_at: None,
        closed_at: None,
        updated_at: t0(),
        promoter_id: None,
        profit_sharing: false,
        seller_id: 0,
    }
    .into_active_model()
    .reset_id()
    .insert(&app.db)
    .await
    .unwrap();
    let user_id = zhiku::graphql::ids::encode("User", buyer.id);
    let order_id = zhiku::graphql::ids::encode("Order", placed.id);
    let cases = [
        (
            "orders list",
            "{ orders { totalCount edges { node { outTradeNo } } } }".to_owned(),
        ),
        (
            "order node",
            format!(
                r#"{{ node(id: "{}") {{ ... on Order {{ outTradeNo }} }} }}"#,
                order_id.as_str()
            ),
        ),
        (
            "user's orders",
            format!(
                r#"{{ node(id: "{}") {{ ... on User {{ orders {{ totalCount }} }} }} }}"#,
                user_id.as_str()
            ),
        ),
        (
            "user's entitlements",
            format!(
                r#"{{ node(id: "{}") {{ ... on User {{ entitlements {{ totalCount }} }} }} }}"#,
                user_id.as_str()
            ),
        ),
    ];
    for (name, query) in cases {
        let body = app.gql(&query, json!({})).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "case {name}: {body}");
        assert!(
            !body.to_string().contains("ZK000000000001"),
            "case {name} leaked: {body}"
        );
    }
}

#[tokio::test]
async fn users_expose_no_wechat_identifiers() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(
            r#"{ node(id: "VXNlcjox") { ... on User { openid } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    let sdl = zhiku::graphql::sdl();
    assert!(!sdl.contains("openid") && !sdl.contains("unionid"));
}
