//! The read cache: a repeated catalogue read costs no statement, a write through the API
//! is seen by the very next read, and a write behind the process's back (another
//! replica) within the time to live.

use std::time::Duration;

use entity::course;
use entity::enums::{CourseStatus, Role};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
use serde_json::{Value, json};

use crate::helpers::{Fixture, TestApp, gid};
use crate::writes::creator;

const LIST: &str = "{ courses(first: 20) { totalCount edges { node { title salesCount creator { displayName } lessons { title } ratingSummary { count } } } } }";
const NODE: &str =
    "query($id: ID!) { node(id: $id) { ... on Course { title lessons { title } } } }";

/// The answer and the statements it cost.
async fn read(app: &TestApp, query: &str, variables: Value) -> (Value, u64) {
    let before = app.metrics.statements_executed();
    let body = app.gql(query, variables).await;
    assert!(body.get("errors").is_none(), "{body}");
    (
        body["data"].clone(),
        app.metrics.statements_executed() - before,
    )
}

fn first_course(data: &Value) -> &Value {
    &data["courses"]["edges"][0]["node"]
}

#[tokio::test]
async fn repeated_reads_cost_nothing_and_writes_through_the_api_show_at_once() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (_, profile, owner) = creator(&app, "Cached Teacher").await;
    let free = fixture
        .course(
            &profile,
            1,
            "Before",
            "编程开发",
            0,
            CourseStatus::Published,
        )
        .await;
    fixture.lesson(&free, 1, true).await;
    let course_id = gid("Course", free.id);

    let (cold, cold_statements) = read(&app, LIST, json!({})).await;
    assert!(
        cold_statements >= 3,
        "page, creators, lessons: {cold_statements}"
    );
    let (warm, warm_statements) = read(&app, LIST, json!({})).await;
    assert_eq!(warm, cold);
    assert_eq!(
        warm_statements, 0,
        "the same page again is served from memory"
    );
    read(&app, NODE, json!({ "id": course_id })).await;
    let (_, node_statements) = read(&app, NODE, json!({ "id": course_id })).await;
    assert_eq!(
        node_statements, 0,
        "a course node again is served from memory"
    );

    // The owner renames the course: the next read of anyone shows it.
    let renamed = app
        .mutate(
            &owner,
            r#"mutation($c: ID!) { updateCourse(input: {course: $c, title: "After"}) { course { title } userErrors { code } } }"#,
            json!({ "c": course_id }),
        )
        .await;
    assert_eq!(renamed["course"]["title"], "After", "{renamed}");
    let (data, _) = read(&app, LIST, json!({})).await;
    assert_eq!(first_course(&data)["title"], "After");

    // A learner takes the free course: its sales count moves on the next read.
    let learner = fixture.user("cache-learner", Role::Learner).await;
    let token = app.token_for(learner.id, zhiku::auth::tokens::Audience::MiniProgram);
    let order = app
        .mutate(
            &token,
            r#"mutation($p: ID!) { createOrder(input: {product: $p, idempotencyKey: "cache-1"}) { order { status } userErrors { code } } }"#,
            json!({ "p": course_id }),
        )
        .await;
    assert_eq!(order["order"]["status"], "PAID", "{order}");
    let sales_before = first_course(&cold)["salesCount"].as_i64().unwrap();
    let (data, _) = read(&app, LIST, json!({})).await;
    assert_eq!(first_course(&data)["salesCount"], sales_before + 1);

    // The owner adds a lesson: the course page and the list show it at once.
    let added = app
        .mutate(
            &owner,
            r#"mutation($c: ID!) { addLesson(input: {course: $c, title: "Second", kind: ARTICLE, content: "text", durationSeconds: 60}) { lesson { title } userErrors { code } } }"#,
            json!({ "c": course_id }),
        )
        .await;
    assert_eq!(added["lesson"]["title"], "Second", "{added}");
    let (node, _) = read(&app, NODE, json!({ "id": course_id })).await;
    assert_eq!(
        node["node"]["lessons"].as_array().map(Vec::len),
        Some(2),
        "{node}"
    );
    let (data, _) = read(&app, LIST, json!({})).await;
    assert_eq!(
        first_course(&data)["lessons"].as_array().map(Vec::len),
        Some(2)
    );

    // The owner archives it: it leaves the public list and its node at once.
    app.mutate(
        &owner,
        r#"mutation($c: ID!) { archiveCourse(input: {course: $c}) { course { status } } }"#,
        json!({ "c": course_id }),
    )
    .await;
    let (data, _) = read(&app, LIST, json!({})).await;
    assert_eq!(data["courses"]["edges"], json!([]), "{data}");
    assert_eq!(data["courses"]["totalCount"], 0, "{data}");
    let (node, _) = read(&app, NODE, json!({ "id": course_id })).await;
    assert_eq!(node["node"], Value::Null, "{node}");
}

#[tokio::test]
async fn a_write_behind_the_process_shows_within_the_time_to_live() {
    let ttl = Duration::from_millis(1_000);
    let app = TestApp::spawn_configured(|settings| {
        settings.server.read_cache_ttl_ms = ttl.as_millis() as u64;
    })
    .await;
    let fixture = Fixture::new(&app.db);
    let profile = fixture.creator("Replica Teacher").await;
    let row = fixture
        .course(
            &profile,
            1,
            "Old",
            "编程开发",
            9900,
            CourseStatus::Published,
        )
        .await;
    let (data, _) = read(&app, LIST, json!({})).await;
    assert_eq!(first_course(&data)["title"], "Old");

    // Another replica renames it: nothing tells this process.
    let mut renamed = row.into_active_model();
    renamed.title = Set("New".into());
    renamed.update(&app.db).await.unwrap();
    let stored = course::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(stored.title, "New");

    // Until its time to live runs out the page is this process's copy...
    let (data, statements) = read(&app, LIST, json!({})).await;
    assert_eq!(
        (first_course(&data)["title"].clone(), statements),
        (json!("Old"), 0)
    );
    // ...and then the database's again.
    tokio::time::sleep(ttl + Duration::from_millis(50)).await;
    let (data, statements) = read(&app, LIST, json!({})).await;
    assert_eq!(
        first_course(&data)["title"],
        "New",
        "stale past the time to live"
    );
    assert!(statements > 0);
}

#[tokio::test]
async fn a_zero_time_to_live_reads_the_database_every_time() {
    let app = TestApp::spawn_configured(|settings| settings.server.read_cache_ttl_ms = 0).await;
    let profile = Fixture::new(&app.db).creator("Uncached").await;
    Fixture::new(&app.db)
        .course(
            &profile,
            1,
            "Any",
            "编程开发",
            9900,
            CourseStatus::Published,
        )
        .await;
    let (_, first) = read(&app, LIST, json!({})).await;
    let (_, second) = read(&app, LIST, json!({})).await;
    assert!(first > 0);
    assert_eq!(second, first);
}

#[tokio::test]
async fn the_creator_list_and_their_first_courses_are_shared_until_one_changes() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (_, profile, owner) = creator(&app, "First Teacher").await;
    let course = fixture
        .course(
            &profile,
            1,
            "Only",
            "编程开发",
            9900,
            CourseStatus::Published,
        )
        .await;
    let creators = "{ creators(first: 20) { edges { node { displayName courses(first: 5) { edges { node { title } } } } } } }";
    let (cold, cold_statements) = read(&app, creators, json!({})).await;
    assert!(
        cold_statements >= 2,
        "creators, first pages: {cold_statements}"
    );
    let (warm, warm_statements) = read(&app, creators, json!({})).await;
    assert_eq!((warm, warm_statements), (cold, 0));

    // A course edit shows in the creator's first page at once.
    app.mutate(
        &owner,
        r#"mutation($c: ID!) { updateCourse(input: {course: $c, title: "Renamed"}) { course { title } } }"#,
        json!({ "c": gid("Course", course.id) }),
    )
    .await;
    let (data, _) = read(&app, creators, json!({})).await;
    let first = &data["creators"]["edges"][0]["node"];
    assert_eq!(
        first["courses"]["edges"][0]["node"]["title"], "Renamed",
        "{data}"
    );

    // A learner who becomes a creator is in the list on the next read.
    let learner = fixture.user("soon-a-creator", Role::Learner).await;
    app.mutate(
        &app.token(learner.id),
        r#"mutation { becomeCreator(input: {displayName: "Newcomer"}) { creator { displayName } userErrors { code } } }"#,
        json!({}),
    )
    .await;
    let (data, _) = read(&app, creators, json!({})).await;
    let names: Vec<&Value> = data["creators"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"]["displayName"])
        .collect();
    assert!(names.contains(&&json!("Newcomer")), "{names:?}");
}

#[tokio::test]
async fn whole_answers_are_kept_per_viewer_and_only_for_catalogue_fields() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let profile = fixture.creator("Answer Teacher").await;
    let shown = fixture
        .course(
            &profile,
            1,
            "Shown",
            "编程开发",
            9900,
            CourseStatus::Published,
        )
        .await;
    fixture
        .course(&profile, 2, "Draft", "编程开发", 9900, CourseStatus::Draft)
        .await;
    let drafts =
        "{ courses(first: 20, filter: {status: DRAFT}) { totalCount edges { node { title } } } }";

    // An admin's answer is kept for the admin...
    let admin = fixture.user("answer-admin", Role::Admin).await;
    let admin_token = app.token_for(admin.id, zhiku::auth::tokens::Audience::Console);
    let before = app.metrics.statements_executed();
    let (_, first) = app.gql_as(&admin_token, drafts, json!({})).await;
    let (_, again) = app.gql_as(&admin_token, drafts, json!({})).await;
    assert_eq!(first, again);
    assert_eq!(again["data"]["courses"]["totalCount"], 1, "{again}");
    let after_admin = app.metrics.statements_executed();
    assert!(after_admin > before);
    // ...and never served to anyone else: a learner is refused the same query.
    let learner = fixture.user("answer-learner", Role::Learner).await;
    let learner_token = app.token_for(learner.id, zhiku::auth::tokens::Audience::MiniProgram);
    let (_, refused) = app.gql_as(&learner_token, drafts, json!({})).await;
    assert_eq!(refused["data"], Value::Null, "{refused}");
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");

    // A field that depends on the viewer's purchases is answered afresh every time: a
    // purchase recorded behind the process (another replica) shows at once.
    let access = "{ courses(first: 20) { edges { node { title viewerHasAccess } } } }";
    let (_, locked) = app.gql_as(&learner_token, access, json!({})).await;
    assert_eq!(
        locked["data"]["courses"]["edges"][0]["node"]["viewerHasAccess"], false,
        "{locked}"
    );
    fixture.entitlement(learner.id, shown.id).await;
    let (_, open) = app.gql_as(&learner_token, access, json!({})).await;
    assert_eq!(
        open["data"]["courses"]["edges"][0]["node"]["viewerHasAccess"], true,
        "{open}"
    );
}
