//! Nested fields reached from a list are batched: the statement count of a page does
//! not grow with its size. Counted on a cold cache: the apps here run with the read
//! cache off, so every request asks the database (`read_cache.rs` tests the cache).

use entity::enums::CourseStatus;
use serde_json::{Value, json};

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

/// An app whose every read goes to the database.
async fn uncached() -> TestApp {
    TestApp::spawn_configured(|settings| settings.server.read_cache_ttl_ms = 0).await
}

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
    let app = uncached().await;
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
    let app = uncached().await;
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

/// A catalogue of `n` published courses spread over `creators` creators, each with two
/// lessons; answers the creators.
async fn catalogue(app: &TestApp, creators: usize, n: usize) -> Vec<entity::creator::Model> {
    let fixture = Fixture::new(&app.db);
    let mut made = Vec::new();
    for c in 0..creators {
        made.push(fixture.creator(&format!("creator {c}")).await);
    }
    for i in 0..n {
        let course = fixture
            .course(
                &made[i % creators],
                i as i64,
                &format!("course {i}"),
                "编程开发",
                0,
                CourseStatus::Published,
            )
            .await;
        fixture.lesson(&course, 1, true).await;
        fixture.lesson(&course, 2, false).await;
    }
    made
}

/// Statements one request of `query` executes (as `token`'s holder when given).
async fn statements_of(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> u64 {
    let before = app.metrics.statements_executed();
    let body = match token {
        Some(token) => app.gql_as(token, query, variables).await.1,
        None => app.gql(query, variables).await,
    };
    assert!(body.get("errors").is_none(), "{body}");
    app.metrics.statements_executed() - before
}

/// Each list the read-path bench measures keeps a fixed statement count, whatever its
/// page size (`benches/read_path.rs` names the same queries).
#[tokio::test]
async fn each_benchmarked_list_costs_a_fixed_number_of_statements() {
    let app = uncached().await;
    let creators = catalogue(&app, 12, 60).await;

    // The home list: the page, then its creators.
    let list = "query($n: Int) { courses(first: $n) { edges { node { title creator { displayName } } } } }";
    for n in [5, 20] {
        assert_eq!(
            statements_of(&app, None, list, json!({ "n": n })).await,
            2,
            "list of {n}"
        );
    }

    // The console list: page, creators, lessons, and the count (summary from counters).
    let admin = fixture_admin(&app).await;
    let console = "query($n: Int) { courses(first: $n) { totalCount edges { node { id title salesCount creator { displayName } lessons { id title } ratingSummary { average count } } } } }";
    let token = app.token(admin);
    // Warm the actor cache so the count is the list's alone.
    statements_of(&app, Some(&token), console, json!({ "n": 1 })).await;
    for n in [10, 60] {
        assert_eq!(
            statements_of(&app, Some(&token), console, json!({ "n": n })).await,
            4,
            "console list of {n}"
        );
    }

    // A course page by node id: the course, its lessons.
    let course = crate::helpers::gid("Course", 1);
    let node = "query($id: ID!) { node(id: $id) { ... on Course { title lessons { id title kind durationSeconds } } } }";
    assert_eq!(
        statements_of(&app, None, node, json!({ "id": course })).await,
        2,
        "course node"
    );

    // Creators with their first courses: the creators, then every creator's courses in
    // one windowed statement.
    let nested = "query($n: Int) { creators(first: $n) { edges { node { displayName courses(first: 5) { edges { node { title } } } } } } }";
    for n in [3, 12] {
        assert_eq!(
            statements_of(&app, None, nested, json!({ "n": n })).await,
            2,
            "creators({n}) with courses"
        );
    }
    assert_eq!(creators.len(), 12);

    // A learner's orders with their products: the viewer, the orders, the courses. The learner
    // takes free courses through the API first.
    let learner = Fixture::new(&app.db)
        .user("n-plus-one-learner", entity::enums::Role::Learner)
        .await;
    let token = app.token_for(learner.id, zhiku::auth::tokens::Audience::MiniProgram);
    for id in 1..=25 {
        let data = app
            .mutate(
                &token,
                r#"mutation($p: ID!, $k: String!) { createOrder(input: {product: $p, idempotencyKey: $k}) { order { status } userErrors { code } } }"#,
                json!({ "p": crate::helpers::gid("Course", id), "k": format!("free-{id}") }),
            )
            .await;
        assert_eq!(data["order"]["status"], "PAID", "{data}");
    }
    let orders = "query($n: Int) { viewer { orders(first: $n) { edges { node { amount { amount } product { ... on Course { title } } } } } } }";
    // Warm the actor cache so the count is the list's alone.
    statements_of(&app, Some(&token), orders, json!({ "n": 1 })).await;
    for n in [5, 20] {
        assert_eq!(
            statements_of(&app, Some(&token), orders, json!({ "n": n })).await,
            3,
            "orders({n}) with products"
        );
    }
}

/// An admin user, for console queries.
async fn fixture_admin(app: &TestApp) -> i64 {
    Fixture::new(&app.db)
        .user("n-plus-one-admin", entity::enums::Role::Admin)
        .await
        .id
}

/// The console's lists: orders with their refunds and payment notifications, and a
/// creator's bundles with their courses, cost the same statements for any page size.
#[tokio::test]
async fn console_lists_with_nested_history_cost_a_fixed_number_of_statements() {
    let app = uncached().await;
    let creators = catalogue(&app, 2, 20).await;
    let seller = app.token(creators[0].user_id);
    for b in 0..12 {
        let courses: Vec<String> = [1 + 2 * (b % 10), 3 + 2 * (b % 9)]
            .iter()
            .map(|id| crate::helpers::gid("Course", *id as i64))
            .collect();
        let made = app
            .mutate(
                &seller,
                r#"mutation($c: [ID!]!, $t: String!) { createBundle(input: {title: $t, priceFen: 100, courses: $c}) { bundle { id } userErrors { code } } }"#,
                json!({ "c": courses, "t": format!("bundle {b}") }),
            )
            .await;
        assert_eq!(made["userErrors"], json!([]), "{made}");
    }
    let shelf = "query($c: ID!, $n: Int) { node(id: $c) { ... on Creator { bundles(first: $n) { nodes { title courses { title } } } } } }";
    let creator = crate::helpers::gid("Creator", creators[0].id);
    statements_of(&app, Some(&seller), shelf, json!({ "c": creator, "n": 1 })).await;
    let few = statements_of(&app, Some(&seller), shelf, json!({ "c": creator, "n": 3 })).await;
    let many = statements_of(&app, Some(&seller), shelf, json!({ "c": creator, "n": 12 })).await;
    assert_eq!(few, many, "bundles with courses: {few} then {many}");

    let learner = Fixture::new(&app.db)
        .user("history-learner", entity::enums::Role::Learner)
        .await;
    let buyer = app.token_for(learner.id, zhiku::auth::tokens::Audience::MiniProgram);
    for id in 1..=20 {
        app.mutate(
            &buyer,
            r#"mutation($p: ID!, $k: String!) { createOrder(input: {product: $p, idempotencyKey: $k}) { userErrors { code } } }"#,
            json!({ "p": crate::helpers::gid("Course", id), "k": format!("free-{id}") }),
        )
        .await;
    }
    let admin = app.token(fixture_admin(&app).await);
    let orders = "query($n: Int) { orders(first: $n) { nodes { outTradeNo refunds { status } paymentEvents { eventType } } } }";
    statements_of(&app, Some(&admin), orders, json!({ "n": 1 })).await;
    let few = statements_of(&app, Some(&admin), orders, json!({ "n": 5 })).await;
    let many = statements_of(&app, Some(&admin), orders, json!({ "n": 20 })).await;
    assert_eq!(few, many, "orders with history: {few} then {many}");
}
