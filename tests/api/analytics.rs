//! Analytics through the real API on a small hand-made fixture, with every expected
//! figure computed by hand: a discount, a refund in a later bucket than its sale, sales
//! either side of Shanghai midnight, a returning buyer, a hidden rating, the live
//! funnel, weeks and months cut by the range, an empty range; and `recordView`
//! counted once per viewer and day, written by the buffer's flush.

use chrono::{DateTime, Duration, Utc};
use entity::enums::{LivestreamStatus, OrderStatus, ProductKind, Role};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{Fixture, ResetId, TestApp, gid};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("time")
        .with_timezone(&Utc)
}

/// What an order sells, to whom, for how much, and where it stands.
struct Sale {
    buyer: i64,
    seller: i64,
    course: i64,
    list_fen: i64,
    amount_fen: i64,
    status: OrderStatus,
}

/// Writes order number `n` as the payment flow leaves it.
async fn order(
    app: &TestApp,
    n: usize,
    sale: Sale,
    paid_at: Option<&str>,
    refunded_at: Option<&str>,
) {
    let created = paid_at
        .map(at)
        .unwrap_or_else(|| at("2026-12-01T00:00:00Z"))
        - Duration::minutes(1);
    entity::order::Model {
        id: 0,
        out_trade_no: format!("ZKTEST{n:06}"),
        buyer_id: sale.buyer,
        product_kind: ProductKind::Course,
        product_id: sale.course,
        amount_fen: sale.amount_fen,
        list_price_fen: sale.list_fen,
        currency: "CNY".into(),
        status: sale.status,
        idempotency_key: format!("k{n}"),
        transaction_id: paid_at.map(|_| format!("42{n:08}")),
        prepay_id: None,
        pay_app: entity::enums::IdentityApp::MiniProgram,
        created_at: created,
        expires_at: created + Duration::minutes(30),
        paid_at: paid_at.map(at),
        refunded_at: refunded_at.map(at),
        closed_at: None,
        updated_at: created,
        promoter_id: None,
        profit_sharing: false,
        seller_id: sale.seller,
    }
    .into_active_model()
    .reset_id()
    .insert(&app.db)
    .await
    .expect("order");
}

/// The fixture's people, products and tokens.
pub struct World {
    pub admin: String,
    pub seller_token: String,
    pub seller: i64,
    pub other_seller: i64,
    pub learner_token: String,
    pub course_a: i64,
    pub course_b: i64,
    pub livestream: i64,
    /// The learners u1, u2, u3.
    pub learners: [i64; 3],
}

/// Writes the fixture (see the module's comment) and answers its ids.
pub async fn world(app: &TestApp) -> World {
    let fixture = Fixture::new(&app.db);
    let admin = fixture.user("admin", Role::Admin).await;
    let seller = fixture.creator("S").await;
    let other = fixture.creator("T").await;
    let u1 = fixture.user("u1", Role::Learner).await;
    let u2 = fixture.user("u2", Role::Learner).await;
    let u3 = fixture.user("u3", Role::Learner).await;
    let published = entity::enums::CourseStatus::Published;
    let a = fixture
        .course(&seller, 1, "A", "编程开发", 9900, published)
        .await;
    let b = fixture
        .course(&seller, 2, "B", "职场技能", 4900, published)
        .await;
    let c = fixture
        .course(&other, 3, "C", "编程开发", 2990, published)
        .await;

    // Orders, as the payment flow leaves them: (buyer, seller, course, list price,
    // amount paid, status, paid at, refunded at). Shanghai is UTC+8: 23:30 UTC on
    // 30 Nov is 1 Dec there, 16:30 UTC on 1 Dec is 2 Dec.
    let paid = OrderStatus::Paid;
    let orders = [
        (
            u1.id,
            seller.id,
            a.id,
            9900,
            9900,
            paid,
            Some("2026-11-30T23:30:00Z"),
            None,
        ),
        (
            u2.id,
            seller.id,
            a.id,
            9900,
            7900,
            paid,
            Some("2026-12-01T15:30:00Z"),
            None,
        ),
        (
            u1.id,
            seller.id,
            b.id,
            4900,
            4900,
            paid,
            Some("2026-12-01T16:30:00Z"),
            None,
        ),
        (
            u3.id,
            seller.id,
            b.id,
            4900,
            4900,
            OrderStatus::Refunded,
            Some("2026-12-01T23:30:00Z"),
            Some("2026-12-02T17:00:00Z"),
        ),
        // u2 bought from S before the range: a returning buyer.
        (
            u2.id,
            seller.id,
            b.id,
            4900,
            4900,
            paid,
            Some("2026-11-20T02:00:00Z"),
            None,
        ),
        // Not sales: unpaid, and free.
        (
            u3.id,
            seller.id,
            a.id,
            9900,
            9900,
            OrderStatus::Pending,
            None,
            None,
        ),
        (
            u3.id,
            seller.id,
            b.id,
            4900,
            0,
            paid,
            Some("2026-12-01T05:00:00Z"),
            None,
        ),
        // Another creator's sale: the platform's, never S's.
        (
            u2.id,
            other.id,
            c.id,
            2990,
            2990,
            paid,
            Some("2026-11-29T01:00:00Z"),
            None,
        ),
    ];
    for (n, (buyer, seller_id, course, list, amount, status, paid_at, refunded_at)) in
        orders.into_iter().enumerate()
    {
        order(
            app,
            n,
            Sale {
                buyer,
                seller: seller_id,
                course,
                list_fen: list,
                amount_fen: amount,
                status,
            },
            paid_at,
            refunded_at,
        )
        .await;
    }

    // Views of S's products on 1 Dec (Shanghai): four.
    for (product, viewer) in [
        (a.id, format!("u{}", u1.id)),
        (a.id, format!("u{}", u2.id)),
        (a.id, "ddevice-1".to_owned()),
        (b.id, format!("u{}", u1.id)),
    ] {
        entity::product_view::ActiveModel {
            product_kind: Set(ProductKind::Course),
            product_id: Set(product),
            seller_id: Set(seller.id),
            viewer_key: Set(viewer),
            day: Set("2026-12-01".into()),
            viewed_at: Set(at("2026-12-01T03:00:00Z")),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    // Ratings: 5 on 1 Dec, 4 on 2 Dec, a hidden 1 left out.
    for (user, stars, written, hidden) in [
        (u1.id, 5, "2026-12-01T02:00:00Z", false),
        (u2.id, 4, "2026-12-02T03:00:00Z", false),
        (u3.id, 1, "2026-12-02T04:00:00Z", true),
    ] {
        entity::rating::ActiveModel {
            user_id: Set(user),
            course_id: Set(a.id),
            stars: Set(stars),
            review: Set(None),
            hidden_at: Set(hidden.then(|| at(written))),
            created_at: Set(at(written)),
            updated_at: Set(at(written)),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    // Followers: 20:00 UTC on 27 Nov is 28 Nov in Shanghai.
    for (user, followed) in [
        (u2.id, "2026-11-27T20:00:00Z"),
        (u1.id, "2026-11-29T10:00:00Z"),
    ] {
        entity::follow::ActiveModel {
            user_id: Set(user),
            creator_id: Set(seller.id),
            created_at: Set(at(followed)),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    let group = entity::community_group::ActiveModel {
        creator_id: Set(seller.id),
        name: Set("圈".into()),
        description: Set(None),
        price_fen: Set(0),
        membership_days: Set(None),
        created_at: Set(at("2026-11-01T00:00:00Z")),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    entity::group_membership::ActiveModel {
        group_id: Set(group.id),
        user_id: Set(u3.id),
        joined_at: Set(at("2026-12-03T01:00:00Z")),
        expires_at: Set(None),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    // A livestream that went live at 20:00 on 1 Dec (Shanghai), peak 3; u1 and u3
    // entered and both bought within seven days (B, twice); the creator's own visit
    // is not counted.
    let live = entity::livestream::ActiveModel {
        creator_id: Set(seller.id),
        title: Set("直播".into()),
        description: Set(None),
        status: Set(LivestreamStatus::Ended),
        scheduled_start: Set(at("2026-12-01T12:00:00Z")),
        started_at: Set(Some(at("2026-12-01T12:00:00Z"))),
        ended_at: Set(Some(at("2026-12-01T13:00:00Z"))),
        price_fen: Set(0),
        play_url: Set(None),
        replay_url: Set(None),
        peak_viewers: Set(3),
        created_at: Set(at("2026-11-01T00:00:00Z")),
        stream_name: Set(None),
        last_event_sequence: Set(0),
        pinned_message_id: Set(None),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    for (user, entered) in [
        (u1.id, "2026-12-01T12:05:00Z"),
        (u3.id, "2026-12-01T12:10:00Z"),
        (seller.user_id, "2026-12-01T12:00:00Z"),
    ] {
        entity::livestream_attendance::ActiveModel {
            livestream_id: Set(live.id),
            user_id: Set(user),
            first_seen_at: Set(at(entered)),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    World {
        admin: app.token(admin.id),
        seller_token: app.token(seller.user_id),
        seller: seller.id,
        other_seller: other.id,
        learner_token: app.token(u1.id),
        course_a: a.id,
        course_b: b.id,
        livestream: live.id,
        learners: [u1.id, u2.id, u3.id],
    }
}

const DASHBOARD: &str = r#"query($c: ID, $from: Date!, $to: Date!, $g: Granularity!, $tz: String) {
  creatorDashboard(creator: $c, range: {from: $from, to: $to}, granularity: $g, timeZone: $tz) {
    timeZone buckets { date startsAt endsAt }
    grossSales { total { amount } series { date value { amount } } }
    discounts { total { amount } series { value { amount } } }
    refunds { total { amount } series { value { amount } } }
    netRevenue { total { amount } series { value { amount } } }
    paidOrders { total series { value } }
    uniqueBuyers { total series { value } }
    newBuyers { total series { value } }
    returningBuyers { total series { value } }
    views { total series { value } }
    conversion { total series { value } }
    ratings { total series { value } }
    averageRating { total series { value } }
    newFollowers { total series { value } }
    newGroupMembers { total series { value } }
    livestreamAttendance { total series { value } }
    liveFunnel { livestream { id } peakViewers viewers buyers conversion revenue { amount } }
    topProducts { product { ... on Course { id } } sales netRevenue { amount } }
  } }"#;

/// A money figure as (total, per bucket).
fn money(figure: &Value) -> (i64, Vec<i64>) {
    (
        figure["total"]["amount"].as_i64().expect("total"),
        figure["series"]
            .as_array()
            .expect("series")
            .iter()
            .map(|p| p["value"]["amount"].as_i64().expect("amount"))
            .collect(),
    )
}

/// A count figure as (total, per bucket).
fn count(figure: &Value) -> (i64, Vec<i64>) {
    (
        figure["total"].as_i64().expect("total"),
        figure["series"]
            .as_array()
            .expect("series")
            .iter()
            .map(|p| p["value"].as_i64().expect("value"))
            .collect(),
    )
}

/// A ratio figure as (total, per bucket).
fn ratio(figure: &Value) -> (Option<f64>, Vec<Option<f64>>) {
    (
        figure["total"].as_f64(),
        figure["series"]
            .as_array()
            .expect("series")
            .iter()
            .map(|p| p["value"].as_f64())
            .collect(),
    )
}

async fn dashboard(app: &TestApp, token: &str, variables: Value) -> Value {
    let (status, body) = app.gql_as(token, DASHBOARD, variables).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"]["creatorDashboard"].clone()
}

#[tokio::test]
async fn the_creator_dashboard_matches_the_hand_computed_figures() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    // 28 Nov to 3 Dec in Shanghai, by day.
    let d = dashboard(
        &app,
        &w.seller_token,
        json!({ "from": "2026-11-28", "to": "2026-12-03", "g": "DAY" }),
    )
    .await;
    assert_eq!(d["timeZone"], "Asia/Shanghai");
    let buckets = d["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 6);
    assert_eq!(buckets[0]["date"], "2026-11-28");
    assert_eq!(buckets[0]["startsAt"], "2026-11-27T16:00:00+00:00");
    assert_eq!(buckets[5]["endsAt"], "2026-12-03T16:00:00+00:00");
    //                                          28  29  30  1 Dec   2 Dec   3 Dec
    assert_eq!(
        money(&d["grossSales"]),
        (29_600, vec![0, 0, 0, 19_800, 9_800, 0])
    );
    assert_eq!(money(&d["discounts"]), (2_000, vec![0, 0, 0, 2_000, 0, 0]));
    assert_eq!(money(&d["refunds"]), (4_900, vec![0, 0, 0, 0, 0, 4_900]));
    assert_eq!(
        money(&d["netRevenue"]),
        (22_700, vec![0, 0, 0, 17_800, 9_800, -4_900])
    );
    assert_eq!(count(&d["paidOrders"]), (4, vec![0, 0, 0, 2, 2, 0]));
    // u1 and u2 on 1 Dec, u1 and u3 on 2 Dec: three in all, not four.
    assert_eq!(count(&d["uniqueBuyers"]), (3, vec![0, 0, 0, 2, 2, 0]));
    // u1 first bought on 1 Dec, u3 on 2 Dec; u2 had bought in November.
    assert_eq!(count(&d["newBuyers"]), (2, vec![0, 0, 0, 1, 1, 0]));
    assert_eq!(count(&d["returningBuyers"]), (1, vec![0, 0, 0, 1, 1, 0]));
    assert_eq!(count(&d["views"]), (4, vec![0, 0, 0, 4, 0, 0]));
    assert_eq!(
        ratio(&d["conversion"]),
        (Some(1.0), vec![None, None, None, Some(0.5), None, None])
    );
    assert_eq!(count(&d["ratings"]), (2, vec![0, 0, 0, 1, 1, 0]));
    assert_eq!(
        ratio(&d["averageRating"]),
        (
            Some(4.5),
            vec![None, None, None, Some(5.0), Some(4.0), None]
        )
    );
    assert_eq!(count(&d["newFollowers"]), (2, vec![1, 1, 0, 0, 0, 0]));
    assert_eq!(count(&d["newGroupMembers"]), (1, vec![0, 0, 0, 0, 0, 1]));
    assert_eq!(
        count(&d["livestreamAttendance"]),
        (2, vec![0, 0, 0, 2, 0, 0])
    );
    assert_eq!(
        d["liveFunnel"],
        json!([{ "livestream": { "id": gid("Livestream", w.livestream) }, "peakViewers": 3,
            "viewers": 2, "buyers": 2, "conversion": 1.0, "revenue": { "amount": 9_800 } }])
    );
    assert_eq!(
        d["topProducts"],
        json!([
            { "product": { "id": gid("Course", w.course_a) }, "sales": 2, "netRevenue": { "amount": 17_800 } },
            { "product": { "id": gid("Course", w.course_b) }, "sales": 2, "netRevenue": { "amount": 4_900 } },
        ])
    );

    // By week: Saturday 28 Nov starts a cut week; the next runs Monday 30 Nov to the
    // range's end on 3 Dec, across the month's end.
    let weeks = dashboard(
        &app,
        &w.admin,
        json!({ "c": gid("Creator", w.seller), "from": "2026-11-28", "to": "2026-12-03", "g": "WEEK" }),
    )
    .await;
    let dates: Vec<&str> = weeks["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["date"].as_str().unwrap())
        .collect();
    assert_eq!(dates, ["2026-11-28", "2026-11-30"]);
    assert_eq!(money(&weeks["grossSales"]), (29_600, vec![0, 29_600]));
    assert_eq!(count(&weeks["uniqueBuyers"]), (3, vec![0, 3]));
    assert_eq!(count(&weeks["newBuyers"]), (2, vec![0, 2]));
    assert_eq!(count(&weeks["newFollowers"]), (2, vec![2, 0]));

    // By month, and in UTC: 23:30 UTC on 30 Nov stays in November there.
    let months = dashboard(
        &app,
        &w.seller_token,
        json!({ "from": "2026-11-01", "to": "2026-12-31", "g": "MONTH", "tz": "UTC" }),
    )
    .await;
    // November: u2's earlier 49.00 and u1's 99.00 on the 30th; December: the rest.
    assert_eq!(money(&months["grossSales"]), (34_500, vec![14_800, 19_700]));
    assert_eq!(count(&months["newBuyers"]), (3, vec![2, 1]));

    // An empty range: zeros and nulls, one point per day.
    let empty = dashboard(
        &app,
        &w.seller_token,
        json!({ "from": "2026-10-01", "to": "2026-10-03", "g": "DAY" }),
    )
    .await;
    assert_eq!(money(&empty["netRevenue"]), (0, vec![0, 0, 0]));
    assert_eq!(ratio(&empty["conversion"]), (None, vec![None, None, None]));
    assert_eq!(empty["liveFunnel"], json!([]));
}

#[tokio::test]
async fn dashboards_are_for_their_creator_and_admins_and_refuse_bad_ranges() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let range = |creator: Option<i64>| json!({ "c": creator.map(|c| gid("Creator", c)), "from": "2026-12-01", "to": "2026-12-02", "g": "DAY" });
    for (token, creator) in [
        (&w.learner_token, None),
        (&w.seller_token, Some(w.other_seller)),
    ] {
        let (_, body) = app.gql_as(token, DASHBOARD, range(creator)).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{body}"
        );
    }
    let (_, anonymous) = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": DASHBOARD, "variables": range(None) }))
        .send()
        .await
        .map(|r| (r.status(), r))
        .unwrap();
    assert_eq!(
        anonymous.json::<Value>().await.unwrap()["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    for variables in [
        json!({ "from": "2026-12-02", "to": "2026-12-01", "g": "DAY" }),
        json!({ "from": "2020-01-01", "to": "2026-12-01", "g": "DAY" }),
        json!({ "from": "2026-12-01", "to": "2026-12-02", "g": "DAY", "tz": "Mars/Olympus" }),
    ] {
        let (_, body) = app.gql_as(&w.seller_token, DASHBOARD, variables).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body}"
        );
    }
    let (_, bad_date) = app
        .gql_as(
            &w.seller_token,
            DASHBOARD,
            json!({ "from": "2026-12-1", "to": "2026-12-02", "g": "DAY" }),
        )
        .await;
    assert!(
        bad_date["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("YYYY-MM-DD"),
        "{bad_date}"
    );

    // Platform statistics are for admins on the console.
    let (_, refused) = app
        .gql_as(
            &w.seller_token,
            PLATFORM,
            json!({ "from": "2026-11-28", "to": "2026-12-03" }),
        )
        .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

const PLATFORM: &str = r#"query($from: Date!, $to: Date!) {
  platformStats(range: {from: $from, to: $to}, granularity: DAY) {
    gmv { total { amount } series { value { amount } } }
    refunds { total { amount } }
    netRevenue { total { amount } }
    refundRate { total }
    paidOrders { total series { value } }
    activeBuyers { total series { value } }
    newBuyers { total }
    views { total }
    topCreators { creator { id } sales netRevenue { amount } }
    recommendationFunnel { shown { total series { value } } clicked { total series { value } } bought { total series { value } } }
    categories { category sales netRevenue { amount } }
  } }"#;

#[tokio::test]
async fn platform_statistics_add_every_creator() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    // Recommendations shown: u1 was shown A (then viewed and bought it), u2 was shown
    // B (neither), u3 was shown A on 2 Dec (only an unpaid order).
    let [u1, u2, u3] = w.learners;
    for (user, course, shown) in [
        (u1, w.course_a, "2026-11-30T20:00:00Z"),
        (u2, w.course_b, "2026-12-01T05:00:00Z"),
        (u3, w.course_a, "2026-12-02T00:00:00Z"),
    ] {
        entity::recommendation_impression::ActiveModel {
            user_id: Set(user),
            course_id: Set(course),
            day: Set(zhiku::service::views::platform_day(at(shown))),
            shown_at: Set(at(shown)),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    // The orders above were written directly: the daily totals are rebuilt from them,
    // as the seeds do (payments keep them in step: see the test below).
    zhiku::service::analytics::rollup::rebuild(&app.db)
        .await
        .unwrap();
    let (_, body) = app
        .gql_as(
            &w.admin,
            PLATFORM,
            json!({ "from": "2026-11-28", "to": "2026-12-03" }),
        )
        .await;
    let p = &body["data"]["platformStats"];
    // GMV is what buyers paid: T's 29.90 on 29 Nov, S's 99.00 + 79.00, then 49.00 × 2.
    assert_eq!(
        money(&p["gmv"]),
        (30_590, vec![0, 2_990, 0, 17_800, 9_800, 0]),
        "{body}"
    );
    assert_eq!(p["refunds"]["total"]["amount"], 4_900);
    assert_eq!(p["netRevenue"]["total"]["amount"], 25_690);
    assert_eq!(p["refundRate"]["total"].as_f64(), Some(4_900.0 / 30_590.0));
    assert_eq!(count(&p["paidOrders"]), (5, vec![0, 1, 0, 2, 2, 0]));
    assert_eq!(count(&p["activeBuyers"]), (3, vec![0, 1, 0, 2, 2, 0]));
    // On the platform u2 first bought in November (before the range): u1 and u3.
    assert_eq!(p["newBuyers"]["total"], 2);
    assert_eq!(p["views"]["total"], 4);
    assert_eq!(
        p["topCreators"],
        json!([
            { "creator": { "id": gid("Creator", w.seller) }, "sales": 4, "netRevenue": { "amount": 22_700 } },
            { "creator": { "id": gid("Creator", w.other_seller) }, "sales": 1, "netRevenue": { "amount": 2_990 } },
        ])
    );
    let funnel = &p["recommendationFunnel"];
    assert_eq!(count(&funnel["shown"]), (3, vec![0, 0, 0, 2, 1, 0]));
    assert_eq!(count(&funnel["clicked"]), (1, vec![0, 0, 0, 1, 0, 0]));
    assert_eq!(count(&funnel["bought"]), (1, vec![0, 0, 0, 1, 0, 0]));
    assert_eq!(
        p["categories"],
        json!([
            { "category": "编程开发", "sales": 3, "netRevenue": { "amount": 20_790 } },
            { "category": "职场技能", "sales": 2, "netRevenue": { "amount": 4_900 } },
        ])
    );

    // Over a range that holds every sale in both zones, the orders (UTC: no whole
    // platform days) and the daily totals (Shanghai) agree on every total.
    let wide = r#"query($z: String) { platformStats(range: {from: "2026-10-01", to: "2026-12-31"}, granularity: MONTH, timeZone: $z) {
        gmv { total { amount } } refunds { total { amount } } paidOrders { total } activeBuyers { total } newBuyers { total }
        topCreators { creator { id } sales netRevenue { amount } } topProducts { sales netRevenue { amount } }
        categories { category sales netRevenue { amount } } } }"#;
    let (_, from_days) = app
        .gql_as(&w.admin, wide, json!({ "z": "Asia/Shanghai" }))
        .await;
    let (_, from_orders) = app.gql_as(&w.admin, wide, json!({ "z": "UTC" })).await;
    // u2's purchase in November is in this range too: 49.00 more than above.
    assert_eq!(
        from_days["data"]["platformStats"]["gmv"]["total"]["amount"], 35_490,
        "{from_days}"
    );
    assert_eq!(from_days["data"], from_orders["data"]);
}

const RECORD_VIEW: &str = r#"mutation($p: ID!, $d: String) { recordView(input: {product: $p, deviceId: $d}) { counted userErrors { field code } } }"#;

#[tokio::test]
async fn a_view_is_counted_once_per_viewer_and_day_and_written_in_a_batch() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let before = entity::product_view::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    let a = gid("Course", w.course_a);
    // The same learner twice, an anonymous device twice, a second product.
    for (token, product, device) in [
        (Some(&w.learner_token), &a, None),
        (Some(&w.learner_token), &a, None),
        (None, &a, Some("device-42")),
        (None, &a, Some("device-42")),
        (Some(&w.learner_token), &gid("Course", w.course_b), None),
    ] {
        let variables = json!({ "p": product, "d": device });
        let payload = match token {
            Some(token) => app.mutate(token, RECORD_VIEW, variables).await,
            None => app.data(RECORD_VIEW, variables).await["recordView"].clone(),
        };
        assert_eq!(payload, json!({ "counted": true, "userErrors": [] }));
    }
    // Refused, and nothing counted: no device id, a bad one, no such product.
    for (product, device, field, code) in [
        (a.clone(), None, "deviceId", "REQUIRED"),
        (a.clone(), Some("bad id!"), "deviceId", "INVALID"),
        (
            gid("Course", 999_999),
            Some("device-42"),
            "product",
            "NOT_FOUND",
        ),
    ] {
        let payload = app
            .data(RECORD_VIEW, json!({ "p": product, "d": device }))
            .await;
        assert_eq!(
            payload["recordView"]["userErrors"],
            json!([{ "field": ["input", field], "code": code }])
        );
    }
    // Nothing is written until the buffer is flushed, then three rows at once.
    assert_eq!(
        entity::product_view::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        before
    );
    let flushed = app.views.flush(&app.db).await.expect("flush");
    assert_eq!(flushed.views, 3);
    assert_eq!(
        entity::product_view::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        before + 3
    );
    // A second flush of the same views (another replica, say) adds nothing.
    app.mutate(&w.learner_token, RECORD_VIEW, json!({ "p": a }))
        .await;
    app.views.flush(&app.db).await.expect("flush");
    assert_eq!(
        entity::product_view::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        before + 3
    );

    // Today's dashboard shows them.
    let today = zhiku::service::views::platform_day(Utc::now());
    let d = dashboard(
        &app,
        &w.seller_token,
        json!({ "from": today, "to": today, "g": "DAY" }),
    )
    .await;
    assert_eq!(count(&d["views"]), (3, vec![3]));
}

#[tokio::test]
async fn the_feed_reports_recommendations_shown_once_a_day() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    const SHOWN: &str = r#"mutation($c: [ID!]!) { recordRecommendationImpressions(input: {courses: $c}) { counted userErrors { field code } } }"#;
    let courses = json!([
        gid("Course", w.course_a),
        gid("Course", w.course_b),
        gid("Course", 999_999)
    ]);
    let shown = app
        .mutate(&w.learner_token, SHOWN, json!({ "c": courses }))
        .await;
    assert_eq!(shown, json!({ "counted": 2, "userErrors": [] }));
    app.mutate(&w.learner_token, SHOWN, json!({ "c": courses }))
        .await;
    let too_many: Vec<String> = (1..=101).map(|n| gid("Course", n)).collect();
    let refused = app
        .mutate(&w.learner_token, SHOWN, json!({ "c": too_many }))
        .await;
    assert_eq!(refused["userErrors"][0]["code"], "OUT_OF_RANGE");
    let anonymous = app.gql(SHOWN, json!({ "c": courses })).await;
    assert_eq!(
        anonymous["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    let flushed = app.views.flush(&app.db).await.expect("flush");
    assert_eq!(flushed.impressions, 2);
    let rows = entity::recommendation_impression::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.user_id == w.learners[0]));
}

/// The daily totals' rows, in a comparable order.
#[allow(clippy::type_complexity)]
async fn daily_totals(
    app: &TestApp,
) -> (
    Vec<(i64, i64, i64, i64, i64, i64)>,
    Vec<(i64, i64)>,
    Vec<(i64, i64, i64)>,
) {
    use sea_orm::{EntityTrait, QueryOrder};
    let sales = entity::sales_day::Entity::find()
        .order_by_asc(entity::sales_day::Column::Day)
        .order_by_asc(entity::sales_day::Column::ProductId)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| {
            (
                d.day,
                d.product_id,
                d.sales,
                d.gross_fen,
                d.discount_fen,
                d.kept_fen,
            )
        })
        .collect();
    let buyers = entity::buyer_day::Entity::find()
        .order_by_asc(entity::buyer_day::Column::Day)
        .order_by_asc(entity::buyer_day::Column::BuyerId)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.day, d.buyer_id))
        .collect();
    let fees = entity::fee_day::Entity::find()
        .order_by_asc(entity::fee_day::Column::Day)
        .order_by_asc(entity::fee_day::Column::SellerId)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.day, d.seller_id, d.fee_fen))
        .collect();
    (sales, buyers, fees)
}

#[tokio::test]
async fn payments_and_refunds_keep_the_daily_totals_equal_to_the_orders() {
    use crate::payments::{CREATE_ORDER, REFUND, notify, order_row, shop, simulated};
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9_900).await;
    let fixture = Fixture::new(&app.db);
    let second = fixture
        .course(
            &shop.seller,
            2,
            "第二门课",
            "编程开发",
            4_900,
            entity::enums::CourseStatus::Published,
        )
        .await;
    let mut orders = Vec::new();
    for (course, key) in [(shop.course.id, "a"), (second.id, "b")] {
        let bought = app
            .mutate(
                &shop.buyer_token,
                CREATE_ORDER,
                json!({ "p": gid("Course", course), "k": key }),
            )
            .await;
        let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
        let amount = bought["order"]["amount"]["amount"].as_i64().unwrap();
        let (headers, body) = simulated(&app).payment_success(
            &out_trade_no,
            amount,
            "buyer-openid",
            chrono::Utc::now(),
        );
        assert_eq!(notify(&app, &headers, body).await, 204);
        orders.push(order_row(&app, &out_trade_no).await);
    }
    let refunded = app
        .mutate(
            &shop.admin_token,
            REFUND,
            json!({ "o": gid("Order", orders[1].id), "k": "r1" }),
        )
        .await;
    assert_eq!(refunded["order"]["status"], "REFUNDED", "{refunded}");

    // Kept by the payment and refund transactions: two sales, one buyer-day, the
    // refunded sale kept at nothing; and exactly what a rebuild from the orders gives.
    let kept = daily_totals(&app).await;
    assert_eq!(kept.0.len(), 2);
    assert_eq!(kept.0.iter().map(|d| d.5).sum::<i64>(), 9_900);
    assert_eq!(kept.0.iter().map(|d| d.3).sum::<i64>(), 14_800);
    assert_eq!(kept.1.len(), 1);
    // The fee (10 %) of the sale kept; the refunded one's booked and given back.
    assert_eq!(kept.2.iter().map(|d| d.2).sum::<i64>(), 990);
    zhiku::service::analytics::rollup::rebuild(&app.db)
        .await
        .unwrap();
    assert_eq!(daily_totals(&app).await, kept);
}
