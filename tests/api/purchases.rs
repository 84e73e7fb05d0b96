//! Buying what is not a course: paid group memberships that expire, livestream tickets
//! and replays; cancelling a pending order.

use chrono::{Duration, Utc};
use entity::entitlement;
use entity::enums::{OrderStatus, ProductKind, Role};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::{Fixture, gid};
use crate::payments::{CREATE_ORDER, notify, order_row, shop, simulated};

#[tokio::test]
async fn a_paid_group_membership_opens_posts_until_it_expires_and_sellers_see_their_sales() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let seller = shop.seller.clone();
    let seller_token = app.token(seller.user_id);
    let group = app
        .mutate(&seller_token, r#"mutation { createGroup(input: {name: "付费圈", priceFen: 36500, membershipDays: 30}) { group { id } } }"#, json!({}))
        .await["group"]["id"]
        .clone();
    app.mutate(
        &seller_token,
        r#"mutation($g: ID!) { createPost(input: {group: $g, body: "会员内容"}) { post { id } } }"#,
        json!({ "g": group }),
    )
    .await;
    let posts = r#"query($g: ID!) { node(id: $g) { ... on CommunityGroup { locked posts { edges { node { body locked } } } } } }"#;
    let (_, before) = app
        .gql_as(&shop.buyer_token, posts, json!({ "g": group }))
        .await;
    assert_eq!(
        before["data"]["node"]["posts"]["edges"][0]["node"]["body"],
        Value::Null
    );

    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": group, "k": "g" }),
        )
        .await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let (headers, body) =
        simulated(&app).payment_success(&out_trade_no, 36500, "buyer-openid", Utc::now());
    assert_eq!(notify(&app, &headers, body).await, 204);
    let (_, after) = app
        .gql_as(&shop.buyer_token, posts, json!({ "g": group }))
        .await;
    assert_eq!(after["data"]["node"]["locked"], false, "{after}");
    assert_eq!(
        after["data"]["node"]["posts"]["edges"][0]["node"]["body"],
        "会员内容"
    );
    let held = entitlement::Entity::find()
        .filter(entitlement::Column::ProductKind.eq(ProductKind::Group))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let days = (held.expires_at.unwrap() - held.granted_at).num_days();
    assert_eq!(days, 30);
    assert_eq!(
        entity::group_membership::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1
    );

    // Once expired, the posts lock again.
    entitlement::Entity::update_many()
        .col_expr(
            entitlement::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(Utc::now() - Duration::days(1)),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let (_, expired) = app
        .gql_as(&shop.buyer_token, posts, json!({ "g": group }))
        .await;
    assert_eq!(expired["data"]["node"]["locked"], true);

    // The seller sees the sale in `orders`; the buyer sees only their own.
    let list = "{ orders { totalCount edges { node { outTradeNo buyer { id } } } } }";
    let (_, sold) = app.gql_as(&seller_token, list, json!({})).await;
    assert_eq!(sold["data"]["orders"]["totalCount"], 1, "{sold}");
    let (_, mine) = app.gql_as(&shop.buyer_token, list, json!({})).await;
    assert_eq!(mine["data"]["orders"]["totalCount"], 1);
    let stranger = Fixture::new(&app.db).user("stranger", Role::Learner).await;
    let (_, theirs) = app.gql_as(&app.token(stranger.id), list, json!({})).await;
    assert_eq!(theirs["data"]["orders"]["totalCount"], 0);
}

#[tokio::test]
async fn buyers_cancel_pending_orders_and_ended_livestreams_sell_only_replays() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": gid("Course", shop.course.id), "k": "c" }),
        )
        .await;
    let order_id = bought["order"]["id"].clone();
    let cancel = r#"mutation($o: ID!) { cancelOrder(input: {order: $o}) { order { status } userErrors { code } } }"#;
    let stranger = Fixture::new(&app.db).user("stranger", Role::Learner).await;
    let (_, body) = app
        .gql_as(&app.token(stranger.id), cancel, json!({ "o": order_id }))
        .await;
    assert_eq!(crate::helpers::error_code(&body), "FORBIDDEN");
    let cancelled = app
        .mutate(&shop.buyer_token, cancel, json!({ "o": order_id }))
        .await;
    assert_eq!(cancelled["order"]["status"], "CLOSED");
    let again = app
        .mutate(&shop.buyer_token, cancel, json!({ "o": order_id }))
        .await;
    assert_eq!(again["userErrors"][0]["code"], "INVALID_STATE");
    // A payment confirmed after closing (the learner paid while it was being cancelled)
    // completes the order: the money was taken, so the course is theirs.
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let (headers, body) =
        simulated(&app).payment_success(&out_trade_no, 9900, "buyer-openid", Utc::now());
    assert_eq!(notify(&app, &headers, body).await, 204);
    assert_eq!(
        order_row(&app, &out_trade_no).await.status,
        OrderStatus::Paid
    );
    assert_eq!(entitlement::Entity::find().count(&app.db).await.unwrap(), 1);

    let seller = shop.seller.clone();
    let seller_token = app.token(seller.user_id);
    let schedule = r#"mutation($s: DateTime!) { scheduleLivestream(input: {title: "直播", scheduledStart: $s, priceFen: 990}) { livestream { id } } }"#;
    let start = (Utc::now() + Duration::days(1)).to_rfc3339();
    let live = app
        .mutate(&seller_token, schedule, json!({ "s": start }))
        .await["livestream"]["id"]
        .clone();
    let step = |name: &str| {
        format!(
            r#"mutation($l: ID!) {{ {name}(input: {{livestream: $l}}) {{ livestream {{ status }} }} }}"#
        )
    };
    app.mutate(
        &seller_token,
        &step("startLivestream"),
        json!({ "l": live }),
    )
    .await;
    app.mutate(&seller_token, &step("endLivestream"), json!({ "l": live }))
        .await;
    let no_replay = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": live, "k": "l1" }),
        )
        .await;
    assert_eq!(no_replay["userErrors"][0]["code"], "NOT_FOR_SALE");
    let with_replay = app
        .mutate(&seller_token, schedule, json!({ "s": start }))
        .await["livestream"]["id"]
        .clone();
    app.mutate(
        &seller_token,
        &step("startLivestream"),
        json!({ "l": with_replay }),
    )
    .await;
    app.mutate(
        &seller_token,
        r#"mutation($l: ID!) { endLivestream(input: {livestream: $l, replayUrl: "https://media.example/r.m3u8"}) { livestream { status } } }"#,
        json!({ "l": with_replay }),
    )
    .await;
    let replay = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": with_replay, "k": "l2" }),
        )
        .await;
    assert_eq!(replay["order"]["status"], "PENDING", "{replay}");
}
