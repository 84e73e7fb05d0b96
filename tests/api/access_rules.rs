//! Access rules found leaking by an outside review: courses reached through ratings,
//! orders and entitlements; the members of paid groups; access tokens after a sign-out
//! everywhere or a leaked refresh token; admin reads from the mini-program.

use chrono::Utc;
use entity::enums::Role;
use entity::rating;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::json;
use zhiku::auth::tokens::Audience;

use crate::helpers::{Fixture, TestApp, error_code, gid};
use crate::login::{LOGIN, REFRESH, fake_wechat};
use crate::payments::{CREATE_ORDER, notify, shop, simulated};

#[tokio::test]
async fn a_suspended_course_never_shows_through_ratings_orders_or_entitlements() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let fixture = Fixture::new(&app.db);
    let free_lesson = fixture.lesson(&shop.course, 2, true).await;
    // The buyer buys, rates, then is refunded; an admin suspends the course.
    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": gid("Course", shop.course.id), "k": "k" }),
        )
        .await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let (h, b) = simulated(&app).payment_success(&out_trade_no, 9900, "buyer-openid", Utc::now());
    assert_eq!(notify(&app, &h, b).await, 204);
    rating::ActiveModel {
        user_id: Set(shop.buyer_id),
        course_id: Set(shop.course.id),
        stars: Set(5),
        review: Set(Some("好课".into())),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let public = r#"{ ratings(first: 5) { edges { node { stars course { id title lessons { content } } } } } }"#;
    let before = app.data(public, json!({})).await;
    assert_eq!(
        before["ratings"]["edges"][0]["node"]["course"]["lessons"][1]["content"],
        free_lesson.content.clone().unwrap(),
        "visible while published"
    );
    app.mutate(
        &shop.admin_token,
        r#"mutation($o: ID!) { refundOrder(input: {order: $o, idempotencyKey: "r"}) { order { status } } }"#,
        json!({ "o": bought["order"]["id"] }),
    )
    .await;
    app.mutate(
        &shop.admin_token,
        r#"mutation($c: ID!) { suspendCourse(input: {course: $c}) { course { status } } }"#,
        json!({ "c": gid("Course", shop.course.id) }),
    )
    .await;

    let after = app.data(public, json!({})).await;
    let node = &after["ratings"]["edges"][0]["node"];
    assert_eq!(node["stars"], 5, "the rating itself stays listed: {after}");
    assert!(
        node["course"].is_null(),
        "the suspended course does not: {after}"
    );
    let (_, mine) = app
        .gql_as(
            &shop.buyer_token,
            "{ viewer { orders { edges { node { status product { __typename ... on Course { title } } } } } } }",
            json!({}),
        )
        .await;
    let order = &mine["data"]["viewer"]["orders"]["edges"][0]["node"];
    assert_eq!(order["status"], "REFUNDED", "{mine}");
    assert!(order["product"].is_null(), "{mine}");
    // The admin still sees it.
    let (_, theirs) = app
        .gql_as(
            &shop.admin_token,
            "{ ratings(first: 1) { edges { node { course { title } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        theirs["data"]["ratings"]["edges"][0]["node"]["course"]["title"],
        shop.course.title
    );
}

#[tokio::test]
async fn members_of_a_paid_group_are_visible_to_its_members_only() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let fixture = Fixture::new(&app.db);
    let seller = shop.seller.clone();
    let seller_token = app.token(seller.user_id);
    let group = app
        .mutate(
            &seller_token,
            r#"mutation { createGroup(input: {name: "付费圈", priceFen: 36500}) { group { id } } }"#,
            json!({}),
        )
        .await["group"]["id"]
        .clone();
    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": group, "k": "g" }),
        )
        .await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let (h, b) = simulated(&app).payment_success(&out_trade_no, 36500, "buyer-openid", Utc::now());
    assert_eq!(notify(&app, &h, b).await, 204);

    let members = r#"query($g: ID!) { node(id: $g) { ... on CommunityGroup { members { totalCount edges { node { id } } } } } }"#;
    let stranger = fixture.user("stranger", Role::Learner).await;
    let stranger_token = app.token(stranger.id);
    let anonymous = app.gql(members, json!({ "g": group })).await;
    assert_eq!(error_code(&anonymous), "FORBIDDEN", "{anonymous}");
    let (_, outsider) = app
        .gql_as(&stranger_token, members, json!({ "g": group }))
        .await;
    assert_eq!(error_code(&outsider), "FORBIDDEN", "{outsider}");
    for (who, token) in [
        ("member", &shop.buyer_token),
        ("owner", &seller_token),
        ("admin", &shop.admin_token),
    ] {
        let (_, body) = app.gql_as(token, members, json!({ "g": group })).await;
        assert_eq!(
            body["data"]["node"]["members"]["totalCount"], 1,
            "{who}: {body}"
        );
    }
    // A free group's members stay public.
    let free = app
        .mutate(
            &seller_token,
            r#"mutation { createGroup(input: {name: "免费圈", priceFen: 0}) { group { id } } }"#,
            json!({}),
        )
        .await["group"]["id"]
        .clone();
    let body = app.gql(members, json!({ "g": free })).await;
    assert_eq!(body["data"]["node"]["members"]["totalCount"], 0, "{body}");
}

#[tokio::test]
async fn access_tokens_die_with_a_sign_out_everywhere_and_with_refresh_token_reuse() {
    let (base, _) = fake_wechat().await;
    let app = TestApp::spawn_with_wechat(base).await;
    let viewer = "{ viewer { id } }";
    let login = |code: &'static str| {
        let app = &app;
        async move { app.data(LOGIN, json!({ "code": code })).await["loginWithWechat"].clone() }
    };

    // Signing out everywhere ends the access tokens of every device at once.
    let phone = login("alice").await;
    let laptop = login("alice").await;
    let phone_token = phone["accessToken"].as_str().unwrap().to_owned();
    let laptop_token = laptop["accessToken"].as_str().unwrap().to_owned();
    let (status, _) = app.gql_as(&laptop_token, viewer, json!({})).await;
    assert_eq!(status, 200);
    let logout = app
        .mutate(
            &phone_token,
            "mutation { logout(input: {allDevices: true}) { ok userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(logout["ok"], true, "{logout}");
    for token in [&phone_token, &laptop_token] {
        let (status, body) = app.gql_as(token, viewer, json!({})).await;
        assert_eq!((status, error_code(&body)), (401, "UNAUTHENTICATED"));
    }
    // Signing in again works at once.
    let again = login("alice").await;
    let (status, _) = app
        .gql_as(again["accessToken"].as_str().unwrap(), viewer, json!({}))
        .await;
    assert_eq!(status, 200);

    // A refresh token presented twice has leaked: every access token of the user dies.
    let bob = login("bob").await;
    let stolen = bob["refreshToken"].as_str().unwrap().to_owned();
    let rotated = app.data(REFRESH, json!({ "t": stolen })).await["refreshToken"].clone();
    let rotated_token = rotated["accessToken"].as_str().unwrap().to_owned();
    let (status, _) = app.gql_as(&rotated_token, viewer, json!({})).await;
    assert_eq!(status, 200);
    let reused = app.data(REFRESH, json!({ "t": stolen })).await;
    assert_eq!(
        reused["refreshToken"]["userErrors"][0]["code"],
        "INVALID_TOKEN"
    );
    for token in [bob["accessToken"].as_str().unwrap(), rotated_token.as_str()] {
        let (status, _) = app.gql_as(token, viewer, json!({})).await;
        assert_eq!(
            status, 401,
            "every access token of a user whose refresh token leaked"
        );
    }
    let stored = entity::user::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.tokens_valid_after.is_some())
        .count();
    assert_eq!(stored, 2, "alice and bob each have a revocation time");
}

#[tokio::test]
async fn admin_reads_of_orders_need_a_console_token() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": gid("Course", shop.course.id), "k": "k" }),
        )
        .await;
    let order_id = bought["order"]["id"].clone();
    let admin = entity::user::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.role == Role::Admin)
        .unwrap();
    let phone = app.token_for(admin.id, Audience::MiniProgram);
    let list = "{ orders { totalCount } }";
    let (_, console) = app.gql_as(&shop.admin_token, list, json!({})).await;
    assert_eq!(console["data"]["orders"]["totalCount"], 1);
    let (_, on_phone) = app.gql_as(&phone, list, json!({})).await;
    assert_eq!(
        on_phone["data"]["orders"]["totalCount"], 0,
        "only their own: {on_phone}"
    );
    let one = r#"query($o: ID!) { node(id: $o) { ... on Order { status } } }"#;
    let (_, body) = app.gql_as(&phone, one, json!({ "o": order_id })).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let entitlements = r#"query($u: ID!) { node(id: $u) { ... on User { orders { totalCount } entitlements { totalCount } } } }"#;
    let (_, body) = app
        .gql_as(
            &phone,
            entitlements,
            json!({ "u": gid("User", shop.buyer_id) }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let cancel = r#"mutation($o: ID!) { cancelOrder(input: {order: $o}) { order { status } userErrors { code } } }"#;
    let (_, body) = app.gql_as(&phone, cancel, json!({ "o": order_id })).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let (_, body) = app
        .gql_as(&shop.admin_token, cancel, json!({ "o": order_id }))
        .await;
    assert_eq!(
        body["data"]["cancelOrder"]["order"]["status"], "CLOSED",
        "{body}"
    );
}
