//! Ratings: verified purchases only, one per user and course, exact under concurrency,
//! hidden reviews neither listed nor counted.

use entity::enums::{CourseStatus, Role};
use entity::{course, rating};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{Fixture, TestApp, error_code, gid};

const RATE: &str = r#"mutation($c: ID!, $s: Int!, $r: String) {
  rateCourse(input: {course: $c, stars: $s, review: $r}) { rating { id stars review } userErrors { field code } }
}"#;
const SUMMARY: &str = r#"query($c: ID!) { node(id: $c) { ... on Course { ratingSummary { average count distribution } ratings { totalCount } } } }"#;

async fn buyer(app: &TestApp, course_id: i64, name: &str) -> (i64, String) {
    let fixture = Fixture::new(&app.db);
    let user = fixture.user(name, Role::Learner).await;
    fixture.entitlement(user.id, course_id).await;
    (user.id, app.token(user.id))
}

async fn counters(app: &TestApp, course_id: i64) -> (i64, i64) {
    let row = course::Entity::find_by_id(course_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    (row.rating_count, row.rating_sum)
}

#[tokio::test]
async fn only_buyers_rate_once_each_and_the_summary_stays_exact_under_concurrency() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let seller = fixture.creator("Seller").await;
    let paid = fixture
        .course(
            &seller,
            1,
            "Rated",
            "编程开发",
            9900,
            CourseStatus::Published,
        )
        .await;
    let course_id = gid("Course", paid.id);

    let (_, stranger) = {
        let user = fixture.user("stranger", Role::Learner).await;
        (user.id, app.token(user.id))
    };
    let refused = app
        .mutate(&stranger, RATE, json!({ "c": course_id, "s": 5 }))
        .await;
    assert_eq!(refused["userErrors"][0]["code"], "INVALID_STATE");
    let (_, first) = buyer(&app, paid.id, "b0").await;
    for (name, stars, review) in [
        ("zero stars", 0, None),
        ("six stars", 6, None),
        ("long review", 3, Some("长".repeat(2001))),
    ] {
        let bad = app
            .mutate(
                &first,
                RATE,
                json!({ "c": course_id, "s": stars, "r": review }),
            )
            .await;
        assert_eq!(bad["rating"], Value::Null, "case {name}");
    }
    assert_eq!(rating::Entity::find().count(&app.db).await.unwrap(), 0);

    // Twenty buyers rate at once, and the first changes their mind five times at once.
    let mut tokens = vec![first.clone()];
    for n in 1..20 {
        tokens.push(buyer(&app, paid.id, &format!("b{n}")).await.1);
    }
    let ratings = tokens.iter().enumerate().map(|(n, token)| {
        let app = &app;
        let course_id = course_id.clone();
        async move {
            app.mutate(
                token,
                RATE,
                json!({ "c": course_id, "s": (n % 5) as i32 + 1 }),
            )
            .await
        }
    });
    let changes = (1..=5).map(|stars| {
        let app = &app;
        let first = first.clone();
        let course_id = course_id.clone();
        async move {
            app.mutate(&first, RATE, json!({ "c": course_id, "s": stars }))
                .await
        }
    });
    let (rated, changed) = tokio::join!(
        futures_util::future::join_all(ratings),
        futures_util::future::join_all(changes)
    );
    assert!(
        rated
            .iter()
            .chain(changed.iter())
            .all(|r| r["userErrors"] == json!([]))
    );
    assert_eq!(
        rating::Entity::find().count(&app.db).await.unwrap(),
        20,
        "one rating per buyer"
    );

    let stored = rating::Entity::find().all(&app.db).await.unwrap();
    let expected_sum: i64 = stored.iter().map(|r| i64::from(r.stars)).sum();
    assert_eq!(counters(&app, paid.id).await, (20, expected_sum));
    let summary = app.data(SUMMARY, json!({ "c": course_id })).await["node"].clone();
    assert_eq!(summary["ratingSummary"]["count"], 20);
    let distribution: Vec<i64> = summary["ratingSummary"]["distribution"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(distribution.iter().sum::<i64>(), 20);
    let average = summary["ratingSummary"]["average"].as_f64().unwrap();
    assert!((average - expected_sum as f64 / 20.0).abs() < 1e-9);

    // An admin hides one review: not listed, not counted; the author deletes theirs.
    let admin = fixture.user("admin", Role::Admin).await;
    let target = stored.iter().find(|r| r.stars == 5).unwrap();
    let hide = r#"mutation($r: ID!) { hideRating(input: {rating: $r}) { rating { id } userErrors { code } } }"#;
    let (_, body) = app
        .gql_as(&first, hide, json!({ "r": gid("Rating", target.id) }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    app.mutate(
        &app.token(admin.id),
        hide,
        json!({ "r": gid("Rating", target.id) }),
    )
    .await;
    assert_eq!(counters(&app, paid.id).await, (19, expected_sum - 5));
    let summary = app.data(SUMMARY, json!({ "c": course_id })).await["node"].clone();
    assert_eq!(
        (
            summary["ratingSummary"]["count"].clone(),
            summary["ratings"]["totalCount"].clone()
        ),
        (json!(19), json!(19))
    );

    let mine = stored.iter().find(|r| r.user_id != target.user_id).unwrap();
    let delete = r#"mutation($r: ID!) { deleteRating(input: {rating: $r}) { course { id } userErrors { code } } }"#;
    let (_, body) = app
        .gql_as(&stranger, delete, json!({ "r": gid("Rating", mine.id) }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let owner_token = app.token(mine.user_id);
    app.mutate(&owner_token, delete, json!({ "r": gid("Rating", mine.id) }))
        .await;
    assert_eq!(
        counters(&app, paid.id).await,
        (18, expected_sum - 5 - i64::from(mine.stars))
    );
}
