//! A refunded ticket ends the viewer's live subscription at once.

use chrono::Utc;
use entity::enums::Role;
use serde_json::json;

use crate::helpers::{Fixture, gid};
use crate::live::{WsClient, live_app, paid_livestream, send};
use crate::payments::{CREATE_ORDER, REFUND, notify, order_row, simulated};

#[tokio::test]
async fn a_refund_ends_the_viewers_subscription_and_others_keep_theirs() {
    let app = live_app().await;
    let (livestream, host_token, _) = paid_livestream(&app).await;
    let fixture = Fixture::new(&app.db);
    let buyer = fixture.user("buyer-openid", Role::Learner).await;
    let other = fixture.user("other-openid", Role::Learner).await;
    let admin = fixture.user("admin", Role::Admin).await;
    let mut paid = Vec::new();
    for user in [&buyer, &other] {
        let bought = app
            .mutate(
                &app.token(user.id),
                CREATE_ORDER,
                json!({ "p": livestream, "k": "t" }),
            )
            .await;
        let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
        let openid = format!(
            "{}-openid",
            if user.id == buyer.id {
                "buyer"
            } else {
                "other"
            }
        );
        let (headers, body) =
            simulated(&app).payment_success(&out_trade_no, 990, &openid, Utc::now());
        assert_eq!(notify(&app, &headers, body).await, 204);
        paid.push(order_row(&app, &out_trade_no).await);
    }
    app.mutate(
        &host_token,
        "mutation($l: ID!) { startLivestream(input: {livestream: $l}) { livestream { status } } }",
        json!({ "l": livestream }),
    )
    .await;
    let mut refunded_viewer = WsClient::connect(&app, Some(&app.token(buyer.id)))
        .await
        .unwrap();
    refunded_viewer.subscribe("1", &livestream, Some(0)).await;
    let mut kept_viewer = WsClient::connect(&app, Some(&app.token(other.id)))
        .await
        .unwrap();
    kept_viewer.subscribe("1", &livestream, Some(0)).await;
    // Both see the room (the replay of its going live).
    assert_eq!(refunded_viewer.next_event(false).await["status"], "LIVE");
    assert_eq!(kept_viewer.next_event(false).await["status"], "LIVE");

    let refunded = app
        .mutate(
            &app.token(admin.id),
            REFUND,
            json!({ "o": gid("Order", paid[0].id), "k": "r" }),
        )
        .await;
    assert_eq!(refunded["order"]["status"], "REFUNDED", "{refunded}");
    assert_eq!(
        refunded_viewer.next_event(false).await,
        json!({ "complete": true })
    );
    // Subscribing again is refused; the other viewer still gets the room.
    refunded_viewer.subscribe("2", &livestream, None).await;
    let again = refunded_viewer.next_event(false).await;
    assert_eq!(
        again["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{again}"
    );
    send(&app, &app.token(other.id), &livestream, "还在", "m1").await;
    let message = kept_viewer.next_event(false).await;
    assert_eq!(message["message"]["body"], "还在", "{message}");
}
