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

    // A second seed refuses rather than duplicating.
    assert!(zhiku::seed::demo(&app.db).await.is_err());
}
