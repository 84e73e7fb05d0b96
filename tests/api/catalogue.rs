//! The read API over courses and friends: pagination, filters, orders, nodes, locking.

use std::collections::HashSet;

use entity::enums::CourseStatus;
use serde_json::{Value, json};

use crate::helpers::{Fixture, TestApp, error_code};

const COURSE_PAGE: &str = r#"
query Page($first: Int, $after: String, $last: Int, $before: String, $filter: CourseFilter, $orderBy: CourseOrder) {
  courses(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id title category salesCount price { amount currency formatted } } }
  }
}"#;

/// 23 published courses over two creators and three categories, plus a draft.
async fn catalogue(app: &TestApp) -> Vec<entity::course::Model> {
    let fixture = Fixture::new(&app.db);
    let alice = fixture.creator("Alice").await;
    let bob = fixture.creator("Bob").await;
    let mut courses = Vec::new();
    for n in 0..23 {
        let creator = if n % 2 == 0 { &alice } else { &bob };
        let category = ["编程开发", "投资理财", "语言学习"][n as usize % 3];
        let title = if n % 4 == 0 {
            format!("Rust 实战 {n}")
        } else {
            format!("课程 {n}")
        };
        let price = (n % 6) * 1000;
        courses.push(
            fixture
                .course(creator, n, &title, category, price, CourseStatus::Published)
                .await,
        );
    }
    fixture
        .course(&alice, 99, "草稿", "编程开发", 100, CourseStatus::Draft)
        .await;
    courses
}

fn titles(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn pages_forward_and_backward_cover_the_list_exactly_once() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    for field in ["NEWEST", "PRICE", "RATING", "SALES"] {
        for direction in ["ASC", "DESC"] {
            let order = json!({ "field": field, "direction": direction });
            // Forward in pages of 5.
            let mut forward = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let data = app
                    .data(
                        COURSE_PAGE,
                        json!({ "first": 5, "after": after, "orderBy": order }),
                    )
                    .await;
                let connection = &data["courses"];
                assert_eq!(connection["totalCount"], 23, "{field} {direction}");
                forward.extend(titles(connection));
                if !connection["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                    break;
                }
                after = connection["pageInfo"]["endCursor"]
                    .as_str()
                    .map(str::to_owned);
            }
            assert_eq!(forward.len(), 23, "{field} {direction}: {forward:?}");
            assert_eq!(forward.iter().collect::<HashSet<_>>().len(), 23);
            // Backward in pages of 4 gives the same order.
            let mut backward = Vec::new();
            let mut before: Option<String> = None;
            loop {
                let data = app
                    .data(
                        COURSE_PAGE,
                        json!({ "last": 4, "before": before, "orderBy": order }),
                    )
                    .await;
                let connection = &data["courses"];
                let mut page = titles(connection);
                page.extend(backward);
                backward = page;
                if !connection["pageInfo"]["hasPreviousPage"].as_bool().unwrap() {
                    break;
                }
                before = connection["pageInfo"]["startCursor"]
                    .as_str()
                    .map(str::to_owned);
            }
            assert_eq!(backward, forward, "{field} {direction}");
        }
    }
}

#[tokio::test]
async fn orders_follow_their_key() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    let query = r#"query($o: CourseOrder) { courses(first: 100, orderBy: $o) { edges { node { price { amount } salesCount } } } }"#;
    let data = app
        .data(
            query,
            json!({ "o": { "field": "PRICE", "direction": "ASC" } }),
        )
        .await;
    let prices: Vec<i64> = data["courses"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["price"]["amount"].as_i64().unwrap())
        .collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{prices:?}");
    let data = app
        .data(
            query,
            json!({ "o": { "field": "SALES", "direction": "DESC" } }),
        )
        .await;
    let sales: Vec<i64> = data["courses"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["salesCount"].as_i64().unwrap())
        .collect();
    assert!(sales.windows(2).all(|w| w[0] >= w[1]), "{sales:?}");
}

#[tokio::test]
async fn filters_narrow_the_list() {
    let app = TestApp::spawn().await;
    let courses = catalogue(&app).await;
    let alice_id = app
        .data("{ creators(orderBy: {field: NAME, direction: ASC}) { edges { node { id displayName } } } }", json!({}))
        .await["creators"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let count = |filter: Value| {
        let app = &app;
        async move {
            app.data(COURSE_PAGE, json!({ "first": 100, "filter": filter }))
                .await["courses"]["totalCount"]
                .as_i64()
                .unwrap()
        }
    };
    let expected = |pred: &dyn Fn(&entity::course::Model) -> bool| {
        courses.iter().filter(|c| pred(c)).count() as i64
    };
    let cases: Vec<(&str, Value, i64)> = vec![
        (
            "category",
            json!({ "category": "投资理财" }),
            expected(&|c| c.category == "投资理财"),
        ),
        (
            "creator",
            json!({ "creator": alice_id }),
            expected(&|c| c.id % 2 == 1),
        ),
        (
            "price range",
            json!({ "minPriceFen": 1000, "maxPriceFen": 3000 }),
            expected(&|c| (1000..=3000).contains(&c.price_fen)),
        ),
        (
            "title search",
            json!({ "titleContains": "rust" }),
            expected(&|c| c.title.contains("Rust")),
        ),
        ("wildcards are literal", json!({ "titleContains": "%" }), 0),
        (
            "combined",
            json!({ "category": "编程开发", "titleContains": "Rust" }),
            expected(&|c| c.category == "编程开发" && c.title.contains("Rust")),
        ),
    ];
    for (name, filter, want) in cases {
        assert!(want >= 0);
        assert_eq!(count(filter).await, want, "case {name}");
    }
}

#[tokio::test]
async fn bad_page_arguments_are_user_errors() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    let cases = [
        ("too large", json!({ "first": 101 })),
        ("negative", json!({ "first": -1 })),
        ("first and last", json!({ "first": 1, "last": 1 })),
        ("garbage cursor", json!({ "first": 1, "after": "bm9wZQ" })),
    ];
    for (name, variables) in cases {
        let body = app.gql(COURSE_PAGE, variables).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "case {name}: {body}");
    }
}

#[tokio::test]
async fn drafts_are_not_listed_for_anonymous_visitors() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    let body = app
        .gql(COURSE_PAGE, json!({ "filter": { "status": "DRAFT" } }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let data = app.data(COURSE_PAGE, json!({ "first": 100 })).await;
    assert!(!titles(&data["courses"]).contains(&"草稿".to_owned()));
}

#[tokio::test]
async fn nodes_resolve_by_global_id() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let creator = fixture.creator("Carol").await;
    let course = fixture
        .course(
            &creator,
            1,
            "Node 课程",
            "编程开发",
            9900,
            CourseStatus::Published,
        )
        .await;
    let draft = fixture
        .course(&creator, 2, "Draft", "编程开发", 9900, CourseStatus::Draft)
        .await;
    let course_id = zhiku::graphql::ids::encode("Course", course.id);
    let draft_id = zhiku::graphql::ids::encode("Course", draft.id);
    let creator_id = zhiku::graphql::ids::encode("Creator", creator.id);
    let query = r#"query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Course { title creator { displayName } } ... on Creator { displayName } } }"#;
    let data = app
        .data(
            query,
            json!({ "ids": [course_id.as_str(), creator_id.as_str(), draft_id.as_str()] }),
        )
        .await;
    assert_eq!(data["nodes"][0]["title"], "Node 课程");
    assert_eq!(data["nodes"][0]["creator"]["displayName"], "Carol");
    assert_eq!(data["nodes"][0]["id"], course_id.as_str());
    assert_eq!(data["nodes"][1]["displayName"], "Carol");
    assert_eq!(
        data["nodes"][2],
        Value::Null,
        "drafts are hidden from anonymous visitors"
    );

    let body = app
        .gql(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": "not-an-id" }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn paid_lesson_content_stays_locked() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let creator = fixture.creator("Dan").await;
    let course = fixture
        .course(
            &creator,
            1,
            "Paid",
            "编程开发",
            9900,
            CourseStatus::Published,
        )
        .await;
    fixture.lesson(&course, 1, true).await;
    fixture.lesson(&course, 2, false).await;
    let data = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Course { viewerHasAccess lessons { position freePreview locked content } } } }",
            json!({ "id": zhiku::graphql::ids::encode("Course", course.id).as_str() }),
        )
        .await;
    let lessons = &data["node"]["lessons"];
    assert_eq!(data["node"]["viewerHasAccess"], false);
    assert_eq!(lessons[0]["locked"], false);
    assert!(lessons[0]["content"].as_str().unwrap().ends_with("/1.m3u8"));
    assert_eq!(lessons[1]["locked"], true);
    assert_eq!(lessons[1]["content"], Value::Null);
}
