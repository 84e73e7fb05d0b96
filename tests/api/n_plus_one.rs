//! Nested fields reached from a list are batched: the statement count of a page does
//! not grow with its size.

use entity::enums::CourseStatus;
use serde_json::json;

use crate::helpers::{Fixture, TestApp};

const QUERY: &str = r#"query($first: Int) {
  courses(first: $first) {
    edges { node {
      title salesCount
      creator { displayName followerCount user { nickname } }
      lessons { title locked }
      ratingSummary { average count distribution }
    } }
  }
}"#;

async fn statements_for(app: &TestApp, first: i64) -> u64 {
    let before = app.metrics.statements_executed();
    let data = app.data(QUERY, json!({ "first": first })).await;
    assert_eq!(
        data["courses"]["edges"].as_array().unwrap().len() as i64,
        first
    );
    app.metrics.statements_executed() - before
}

#[tokio::test]
async fn a_page_costs_the_same_statements_for_10_and_100_courses() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let mut creators = Vec::new();
    for n in 0..12 {
        creators.push(fixture.creator(&format!("creator {n}")).await);
    }
    for n in 0..100 {
        let course = fixture
            .course(
                &creators[n % 12],
                n as i64,
                &format!("course {n}"),
                "编程开发",
                9900,
                CourseStatus::Published,
            )
            .await;
        fixture.lesson(&course, 1, true).await;
        fixture.lesson(&course, 2, false).await;
    }
    let ten = statements_for(&app, 10).await;
    let hundred = statements_for(&app, 100).await;
    // courses page, creators, users, follower counts, lessons, rating summaries
    assert_eq!(ten, 6, "statements for 10 courses");
    assert_eq!(hundred, ten, "statements for 100 courses");
}

#[tokio::test]
async fn nodes_of_many_ids_are_fetched_in_batches() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let creator = fixture.creator("batch").await;
    let mut ids = vec![zhiku::graphql::ids::encode("Creator", creator.id).to_string()];
    for n in 0..40 {
        let course = fixture
            .course(
                &creator,
                n,
                &format!("c{n}"),
                "编程开发",
                100,
                CourseStatus::Published,
            )
            .await;
        ids.push(zhiku::graphql::ids::encode("Course", course.id).to_string());
    }
    let before = app.metrics.statements_executed();
    let data = app
        .data(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Course { creator { displayName } } } }",
            json!({ "ids": ids }),
        )
        .await;
    assert_eq!(data["nodes"].as_array().unwrap().len(), 41);
    assert_eq!(data["nodes"][40]["creator"]["displayName"], "batch");
    // one batch of courses, one of creators
    assert_eq!(app.metrics.statements_executed() - before, 2);
}
