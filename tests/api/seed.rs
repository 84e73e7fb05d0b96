//! The demo seed fills every list of the read API.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn demo_seed_fills_every_list() {
    let app = TestApp::spawn().await;
    let counts = zhiku::seed::demo(&app.db).await.expect("seed");
    assert!(
        counts.orders >= 20_000 && counts.ratings >= 8_000,
        "{counts}"
    );
    // As the seeded admin on the console: the members of paid groups are not public.
    let (status, body) = app
        .gql_as(
            &app.token(1),
            r#"{
              creators { totalCount edges { node { displayName followerCount courses(first: 2) { totalCount } livestreams(first: 1) { totalCount } groups(first: 1) { totalCount } } } }
              courses(first: 5, orderBy: {field: SALES}) { totalCount edges { node { title salesCount ratingSummary { count average distribution } lessons { title } ratings(first: 2) { totalCount } } } }
              live: livestreams(filter: {status: [LIVE]}) { totalCount }
              scheduled: livestreams(filter: {status: [SCHEDULED]}) { totalCount }
              ended: livestreams(filter: {status: [ENDED]}) { totalCount }
              cancelled: livestreams(filter: {status: [CANCELLED]}) { totalCount }
              groups { totalCount edges { node { name members(first: 3) { totalCount edges { node { nickname } } } posts(first: 3) { totalCount } } } }
              ratings { totalCount }
            }"#,
            json!({}),
        )
        .await;
    assert!(status == 200 && body.get("errors").is_none(), "{body}");
    let data = &body["data"];
    assert!(data["creators"]["totalCount"].as_i64().unwrap() >= 30);
    assert!(data["courses"]["totalCount"].as_i64().unwrap() >= 300);
    for status in ["live", "scheduled", "ended", "cancelled"] {
        assert_eq!(data[status]["totalCount"], 50, "{status}");
    }
    assert_eq!(data["groups"]["totalCount"], 40);
    assert!(data["ratings"]["totalCount"].as_i64().unwrap() >= 8_000);
    let best_seller = &data["courses"]["edges"][0]["node"];
    assert!(
        best_seller["salesCount"].as_i64().unwrap() > 100,
        "{best_seller}"
    );
    assert!(!best_seller["lessons"].as_array().unwrap().is_empty());
    let summary = &best_seller["ratingSummary"];
    let distribution: i64 = summary["distribution"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert_eq!(distribution, summary["count"].as_i64().unwrap());
    assert_eq!(summary["count"], best_seller["ratings"]["totalCount"]);
    let group = &data["groups"]["edges"][0]["node"];
    assert!(
        group["members"]["totalCount"].as_i64().unwrap() > 0,
        "{group}"
    );
    assert!(
        group["posts"]["totalCount"].as_i64().unwrap() > 0,
        "{group}"
    );

    // Every seeded sale is in the ledger, split and balanced; the creators' earnings
    // add up to what the platform owes.
    let report = zhiku::service::ledger::balances::check(&app.db)
        .await
        .expect("check");
    assert!(report.is_clean() && report.journals >= 19_000, "{report:?}");
    let (_, ledger) = app
        .gql_as(
            &app.token(1),
            "{ platformLedger { cash { amount } fees { amount } owed { amount } } creators(first: 100) { edges { node { earnings { pending { amount } available { amount } } } } } }",
            json!({}),
        )
        .await;
    let position = &ledger["data"]["platformLedger"];
    let cash = position["cash"]["amount"].as_i64().unwrap();
    let fees = position["fees"]["amount"].as_i64().unwrap();
    let owed = position["owed"]["amount"].as_i64().unwrap();
    assert!(cash > 0 && fees > 0 && cash == fees + owed, "{ledger}");
    let earned: i64 = ledger["data"]["creators"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| {
            let earnings = &edge["node"]["earnings"];
            earnings["pending"]["amount"].as_i64().unwrap()
                + earnings["available"]["amount"].as_i64().unwrap()
        })
        .sum();
    assert_eq!(earned, owed, "{ledger}");

    // A second seed refuses rather than duplicating.
    assert!(zhiku::seed::demo(&app.db).await.is_err());
}

/// The seed writes through the API's writers, so its counters are theirs: a
/// course's sales are its live entitlements, its rating figures its visible ratings,
/// every paid group membership has its entitlement, and every entitlement its paid order.
#[tokio::test]
async fn seeded_counters_equal_what_the_writers_would_keep() {
    use entity::enums::{OrderStatus, ProductKind};
    use entity::{community_group, course, entitlement, group_membership, order, rating};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use std::collections::HashMap;

    let app = TestApp::spawn().await;
    zhiku::seed::demo(&app.db).await.expect("seed");
    let live: Vec<entitlement::Model> = entitlement::Entity::find()
        .filter(entitlement::Column::RevokedAt.is_null())
        .all(&app.db)
        .await
        .unwrap();
    let mut sales: HashMap<i64, i64> = HashMap::new();
    for held in live
        .iter()
        .filter(|e| e.product_kind == ProductKind::Course)
    {
        *sales.entry(held.product_id).or_default() += 1;
    }
    let mut stars: HashMap<i64, (i64, i64)> = HashMap::new();
    for row in rating::Entity::find()
        .filter(rating::Column::HiddenAt.is_null())
        .all(&app.db)
        .await
        .unwrap()
    {
        let entry = stars.entry(row.course_id).or_default();
        entry.0 += 1;
        entry.1 += i64::from(row.stars);
    }
    for row in course::Entity::find().all(&app.db).await.unwrap() {
        assert_eq!(
            row.sales_count,
            sales.get(&row.id).copied().unwrap_or(0),
            "sales of course {}",
            row.id
        );
        let (count, sum) = stars.get(&row.id).copied().unwrap_or((0, 0));
        assert_eq!(
            (row.rating_count, row.rating_sum),
            (count, sum),
            "ratings of course {}",
            row.id
        );
    }
    let orders: HashMap<i64, order::Model> = order::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    for held in &live {
        let Some(order_id) = held.order_id else {
            continue;
        };
        let paid_for = &orders[&order_id];
        assert_eq!(
            paid_for.status,
            OrderStatus::Paid,
            "entitlement {}",
            held.id
        );
        assert_eq!(
            (
                paid_for.buyer_id,
                paid_for.product_kind,
                paid_for.product_id
            ),
            (held.user_id, held.product_kind, held.product_id)
        );
    }
    let paid_groups: Vec<i64> = community_group::Entity::find()
        .filter(community_group::Column::PriceFen.gt(0))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.id)
        .collect();
    for membership in group_membership::Entity::find()
        .filter(group_membership::Column::GroupId.is_in(paid_groups))
        .all(&app.db)
        .await
        .unwrap()
    {
        let entitled = live.iter().any(|e| {
            e.product_kind == ProductKind::Group
                && e.product_id == membership.group_id
                && e.user_id == membership.user_id
        });
        assert!(
            entitled,
            "paid membership {} without an entitlement",
            membership.id
        );
    }
}
