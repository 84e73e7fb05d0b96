//! The creators' write API: each mutation's effect read back from the database, each
//! forbidden path refused with the right code and nothing written, validation.

use chrono::{Duration, Utc};
use entity::enums::{CourseStatus, Role};
use entity::{
    course, creator, entitlement, follow, group_membership, group_post, lesson, livestream, user,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use serde_json::{Value, json};

use crate::helpers::{Fixture, TestApp, error_code, gid, t0};

const CREATE_COURSE: &str = r#"mutation($i: CreateCourseInput!) {
  createCourse(input: $i) { course { id title status price { amount } creator { displayName } } userErrors { field code message } }
}"#;
const ADD_LESSON: &str = r#"mutation($i: AddLessonInput!) {
  addLesson(input: $i) { lesson { id position title locked content } userErrors { field code } }
}"#;
const PUBLISH: &str = r#"mutation($c: ID!) { publishCourse(input: {course: $c}) { course { status } userErrors { field code } } }"#;
const UPDATE_COURSE: &str = r#"mutation($i: UpdateCourseInput!) { updateCourse(input: $i) { course { title price { amount } } userErrors { field code } } }"#;

/// A creator signed in (user, creator profile, token).
/// A creator (user, profile, console token) named `name`.
pub async fn creator(app: &TestApp, name: &str) -> (user::Model, creator::Model, String) {
    let profile = Fixture::new(&app.db).creator(name).await;
    let account = user::Entity::find_by_id(profile.user_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let token = app.token(account.id);
    (account, profile, token)
}

fn course_input(title: &str) -> Value {
    json!({ "title": title, "category": "编程开发", "priceFen": 9900, "coverUrl": "https://img.example/c.jpg" })
}

fn db_id(global: &Value) -> i64 {
    zhiku::graphql::ids::decode(
        &async_graphql::ID(global.as_str().unwrap().to_owned()),
        "Course",
    )
    .unwrap()
}

#[tokio::test]
async fn a_creator_builds_and_publishes_a_course() {
    let app = TestApp::spawn().await;
    let (_, profile, token) = creator(&app, "Ada").await;

    let created = app
        .mutate(
            &token,
            CREATE_COURSE,
            json!({ "i": course_input("Rust 入门") }),
        )
        .await;
    assert_eq!(created["userErrors"], json!([]));
    assert_eq!(created["course"]["status"], "DRAFT");
    let course_id = created["course"]["id"].clone();

    // Publishing needs a lesson.
    let refused = app.mutate(&token, PUBLISH, json!({ "c": course_id })).await;
    assert_eq!(refused["userErrors"][0]["code"], "INVALID_STATE");

    for (n, preview) in [(1, true), (2, false), (3, false)] {
        let added = app
            .mutate(
                &token,
                ADD_LESSON,
                json!({ "i": { "course": course_id, "title": format!("第{n}讲"), "kind": "VIDEO",
                    "content": format!("https://media.example/{n}.m3u8"), "durationSeconds": 600, "freePreview": preview } }),
            )
            .await;
        assert_eq!(added["lesson"]["position"], n, "{added}");
        assert_eq!(
            added["lesson"]["locked"], false,
            "the owner sees everything"
        );
    }
    let published = app.mutate(&token, PUBLISH, json!({ "c": course_id })).await;
    assert_eq!(published["course"]["status"], "PUBLISHED", "{published}");

    let updated = app
        .mutate(
            &token,
            UPDATE_COURSE,
            json!({ "i": { "course": course_id, "title": "Rust 进阶", "priceFen": 19900 } }),
        )
        .await;
    assert_eq!(updated["course"]["title"], "Rust 进阶");

    let stored = course::Entity::find_by_id(db_id(&course_id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            stored.title.as_str(),
            stored.price_fen,
            stored.status,
            stored.creator_id
        ),
        ("Rust 进阶", 19900, CourseStatus::Published, profile.id)
    );
    assert!(stored.published_at.is_some());
    assert_eq!(
        lesson::Entity::find()
            .filter(lesson::Column::CourseId.eq(stored.id))
            .count(&app.db)
            .await
            .unwrap(),
        3
    );

    let archived = app
        .mutate(&token, r#"mutation($c: ID!) { archiveCourse(input: {course: $c}) { course { status } userErrors { code } } }"#, json!({ "c": course_id }))
        .await;
    assert_eq!(archived["course"]["status"], "ARCHIVED");
}

#[tokio::test]
async fn validation_names_every_bad_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (_, _, token) = creator(&app, "Bea").await;
    let bad = json!({ "title": "  ", "category": "x".repeat(65), "priceFen": 10_000_001,
        "coverUrl": "javascript:alert(1)", "subtitle": "s".repeat(257) });
    let payload = app.mutate(&token, CREATE_COURSE, json!({ "i": bad })).await;
    assert_eq!(payload["course"], Value::Null);
    let mut fields: Vec<(String, String)> = payload["userErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"][1].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            ("category".into(), "TOO_LONG".into()),
            ("coverUrl".into(), "INVALID".into()),
            ("priceFen".into(), "OUT_OF_RANGE".into()),
            ("subtitle".into(), "TOO_LONG".into()),
            ("title".into(), "REQUIRED".into()),
        ]
    );
    assert_eq!(course::Entity::find().count(&app.db).await.unwrap(), 0);

    let livestream = app
        .mutate(
            &token,
            r#"mutation($i: ScheduleLivestreamInput!) { scheduleLivestream(input: $i) { livestream { id } userErrors { field code } } }"#,
            json!({ "i": { "title": "直播", "scheduledStart": (Utc::now() - Duration::hours(1)).to_rfc3339(), "priceFen": -1 } }),
        )
        .await;
    let codes: Vec<&str> = livestream["userErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["OUT_OF_RANGE", "OUT_OF_RANGE"], "{livestream}");
    assert_eq!(livestream::Entity::find().count(&app.db).await.unwrap(), 0);

    // An ID of the wrong type is a user error on its field.
    let wrong = app
        .mutate(&token, PUBLISH, json!({ "c": gid("User", 1) }))
        .await;
    assert_eq!(wrong["userErrors"][0]["field"], json!(["input", "course"]));
    assert_eq!(wrong["userErrors"][0]["code"], "INVALID");
}

#[tokio::test]
async fn only_the_owner_or_an_admin_changes_a_course() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (_, owner_profile, _) = creator(&app, "Owner").await;
    let (_, _, other_token) = creator(&app, "Other").await;
    let learner = fixture.user("learner", Role::Learner).await;
    let banned = fixture.user("banned", Role::Creator).await;
    let admin = fixture.user("admin", Role::Admin).await;
    let target = fixture
        .course(
            &owner_profile,
            1,
            "Original",
            "编程开发",
            100,
            CourseStatus::Draft,
        )
        .await;
    let mut banned_model = banned.clone().into_active_model();
    banned_model.banned_at = sea_orm::ActiveValue::Set(Some(t0()));
    banned_model.update(&app.db).await.unwrap();

    let change = json!({ "i": { "course": gid("Course", target.id), "title": "Hijacked" } });
    let cases = [
        (
            "another creator",
            Some(other_token.clone()),
            200,
            "FORBIDDEN",
        ),
        ("a learner", Some(app.token(learner.id)), 200, "FORBIDDEN"),
        (
            "an admin's mini-program token",
            Some(app.token_for(admin.id, zhiku::auth::tokens::Audience::MiniProgram)),
            200,
            "FORBIDDEN",
        ),
        (
            "a banned user",
            Some(app.token(banned.id)),
            401,
            "UNAUTHENTICATED",
        ),
        ("anonymous", None, 200, "UNAUTHENTICATED"),
    ];
    for (name, token, status, code) in cases {
        let (got_status, body) = match token {
            Some(token) => app.gql_as(&token, UPDATE_COURSE, change.clone()).await,
            None => (200, app.gql(UPDATE_COURSE, change.clone()).await),
        };
        assert_eq!(
            (got_status, error_code(&body)),
            (status, code),
            "case {name}: {body}"
        );
    }
    let stored = course::Entity::find_by_id(target.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.title, "Original");

    // An admin on the console may, and may suspend it for good.
    let admin_token = app.token(admin.id);
    let done = app
        .mutate(&admin_token, UPDATE_COURSE, change.clone())
        .await;
    assert_eq!(done["course"]["title"], "Hijacked");
    let suspend = r#"mutation($c: ID!) { suspendCourse(input: {course: $c}) { course { status } userErrors { code } } }"#;
    let (_, body) = app
        .gql_as(
            &other_token,
            suspend,
            json!({ "c": gid("Course", target.id) }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let suspended = app
        .mutate(
            &admin_token,
            suspend,
            json!({ "c": gid("Course", target.id) }),
        )
        .await;
    assert_eq!(suspended["course"]["status"], "ARCHIVED");
    let owner_token = app.token(owner_profile.user_id);
    fixture.lesson(&target, 1, true).await;
    let republish = app
        .mutate(
            &owner_token,
            PUBLISH,
            json!({ "c": gid("Course", target.id) }),
        )
        .await;
    assert_eq!(
        republish["userErrors"][0]["code"], "INVALID_STATE",
        "{republish}"
    );
}

#[tokio::test]
async fn lessons_reorder_as_a_checked_permutation_even_under_concurrency() {
    let app = TestApp::spawn().await;
    let (_, profile, token) = creator(&app, "Order").await;
    let fixture = Fixture::new(&app.db);
    let target = fixture
        .course(&profile, 1, "Ordered", "编程开发", 100, CourseStatus::Draft)
        .await;
    let mut ids = Vec::new();
    for position in 1..=5 {
        ids.push(fixture.lesson(&target, position, false).await.id);
    }
    let reorder = r#"mutation($c: ID!, $l: [ID!]!) { reorderLessons(input: {course: $c, lessons: $l}) { course { lessons { id position } } userErrors { code field } } }"#;
    let as_ids = |order: &[i64]| {
        order
            .iter()
            .map(|id| gid("Lesson", *id))
            .collect::<Vec<_>>()
    };

    for (name, order) in [
        ("missing one", vec![ids[0], ids[1], ids[2], ids[3]]),
        ("duplicate", vec![ids[0], ids[0], ids[1], ids[2], ids[3]]),
        (
            "foreign lesson",
            vec![ids[0], ids[1], ids[2], ids[3], 999_999],
        ),
    ] {
        let payload = app
            .mutate(
                &token,
                reorder,
                json!({ "c": gid("Course", target.id), "l": as_ids(&order) }),
            )
            .await;
        assert_eq!(payload["userErrors"][0]["code"], "INVALID", "case {name}");
    }

    // Twenty concurrent reorders: every one succeeds or waits its turn, and the result is
    // one of the permutations asked for, with positions 1..=5.
    let permutations: Vec<Vec<i64>> = (0..20)
        .map(|n| {
            let mut order = ids.clone();
            order.rotate_left(n % 5);
            if n % 2 == 1 {
                order.reverse();
            }
            order
        })
        .collect();
    let runs = permutations.iter().map(|order| {
        let app = &app;
        let token = token.clone();
        let variables = json!({ "c": gid("Course", target.id), "l": as_ids(order) });
        async move { app.mutate(&token, reorder, variables).await }
    });
    for payload in futures_util::future::join_all(runs).await {
        assert_eq!(payload["userErrors"], json!([]), "{payload}");
    }
    let stored = lesson::Entity::find()
        .filter(lesson::Column::CourseId.eq(target.id))
        .order_by_asc(lesson::Column::Position)
        .all(&app.db)
        .await
        .unwrap();
    let positions: Vec<i32> = stored.iter().map(|l| l.position).collect();
    assert_eq!(positions, vec![1, 2, 3, 4, 5]);
    let final_order: Vec<i64> = stored.iter().map(|l| l.id).collect();
    assert!(permutations.contains(&final_order), "{final_order:?}");

    // Deleting closes the gap.
    let delete = r#"mutation($l: ID!) { deleteLesson(input: {lesson: $l}) { course { lessons { position } } userErrors { code } } }"#;
    let after = app
        .mutate(
            &token,
            delete,
            json!({ "l": gid("Lesson", final_order[1]) }),
        )
        .await;
    assert_eq!(
        after["course"]["lessons"],
        json!([{"position":1},{"position":2},{"position":3},{"position":4}])
    );
}

#[tokio::test]
async fn paid_content_opens_to_the_entitled_the_owner_and_admins_only() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (_, profile, owner_token) = creator(&app, "Seller").await;
    let buyer = fixture.user("buyer", Role::Learner).await;
    let other = fixture.user("other", Role::Learner).await;
    let admin = fixture.user("admin", Role::Admin).await;
    let paid = fixture
        .course(
            &profile,
            1,
            "Paid",
            "编程开发",
            9900,
            CourseStatus::Published,
        )
        .await;
    fixture.lesson(&paid, 1, false).await;
    fixture.entitlement(buyer.id, paid.id).await;
    let query = r#"query($c: ID!) { node(id: $c) { ... on Course { viewerHasAccess lessons { locked content } } } }"#;
    let vars = json!({ "c": gid("Course", paid.id) });
    let cases = [
        ("buyer", Some(app.token(buyer.id)), true),
        ("owner", Some(owner_token.clone()), true),
        ("admin", Some(app.token(admin.id)), true),
        ("other learner", Some(app.token(other.id)), false),
        ("anonymous", None, false),
    ];
    for (name, token, open) in cases {
        let body = match token {
            Some(token) => app.gql_as(&token, query, vars.clone()).await.1,
            None => app.gql(query, vars.clone()).await,
        };
        let node = &body["data"]["node"];
        assert_eq!(node["viewerHasAccess"], open, "case {name}: {body}");
        assert_eq!(node["lessons"][0]["locked"], !open, "case {name}");
        assert_eq!(
            node["lessons"][0]["content"].is_string(),
            open,
            "case {name}"
        );
    }
    // Archived courses stay open to their buyers (and hidden from everyone else), from
    // the next request on: the archive goes through the API, as the owner would.
    let archived = app
        .mutate(
            &owner_token,
            r#"mutation($c: ID!) { archiveCourse(input: {course: $c}) { course { status } userErrors { code } } }"#,
            vars.clone(),
        )
        .await;
    assert_eq!(archived["course"]["status"], "ARCHIVED", "{archived}");
    let body = app
        .gql_as(&app.token(buyer.id), query, vars.clone())
        .await
        .1;
    assert_eq!(body["data"]["node"]["viewerHasAccess"], true, "{body}");
    let body = app
        .gql_as(&app.token(other.id), query, vars.clone())
        .await
        .1;
    assert_eq!(body["data"]["node"], Value::Null, "{body}");
    // A revoked entitlement opens nothing.
    entitlement::Entity::update_many()
        .col_expr(
            entitlement::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(t0()),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let body = app.gql_as(&app.token(buyer.id), query, vars).await.1;
    assert_eq!(
        body["data"]["node"],
        Value::Null,
        "an archived course is gone for a refunded buyer"
    );
}

/// Every row the write API can touch, printed: equal snapshots mean nothing was written.
async fn snapshot(app: &TestApp) -> String {
    format!(
        "{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}",
        user::Entity::find()
            .order_by_asc(user::Column::Id)
            .all(&app.db)
            .await
            .unwrap(),
        creator::Entity::find()
            .order_by_asc(creator::Column::Id)
            .all(&app.db)
            .await
            .unwrap(),
        course::Entity::find()
            .order_by_asc(course::Column::Id)
            .all(&app.db)
            .await
            .unwrap(),
        lesson::Entity::find()
            .order_by_asc(lesson::Column::Id)
            .all(&app.db)
            .await
            .unwrap(),
        livestream::Entity::find()
            .order_by_asc(livestream::Column::Id)
            .all(&app.db)
            .await
            .unwrap(),
        entity::community_group::Entity::find()
            .all(&app.db)
            .await
            .unwrap(),
        group_membership::Entity::find().all(&app.db).await.unwrap(),
        group_post::Entity::find().all(&app.db).await.unwrap(),
        follow::Entity::find().all(&app.db).await.unwrap(),
    )
}

#[tokio::test]
async fn forbidden_writes_answer_their_code_and_change_nothing() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (_, owner, owner_token) = creator(&app, "Owner").await;
    let (_, _, other_token) = creator(&app, "Other").await;
    let learner = fixture.user("learner", Role::Learner).await;
    let target = fixture
        .course(&owner, 1, "Mine", "编程开发", 100, CourseStatus::Draft)
        .await;
    let first_lesson = fixture.lesson(&target, 1, false).await;
    let stream = app
        .mutate(
            &owner_token,
            r#"mutation($i: ScheduleLivestreamInput!) { scheduleLivestream(input: $i) { livestream { id } } }"#,
            json!({ "i": { "title": "t", "scheduledStart": (Utc::now() + Duration::days(1)).to_rfc3339(), "priceFen": 0 } }),
        )
        .await["livestream"]["id"]
        .clone();
    let group = app
        .mutate(
            &owner_token,
            r#"mutation { createGroup(input: {name: "g"}) { group { id } } }"#,
            json!({}),
        )
        .await["group"]["id"]
        .clone();
    let post = app
        .mutate(
            &owner_token,
            r#"mutation($g: ID!) { createPost(input: {group: $g, body: "b"}) { post { id } } }"#,
            json!({ "g": group }),
        )
        .await["post"]["id"]
        .clone();
    let course_id = gid("Course", target.id);
    let lesson_id = gid("Lesson", first_lesson.id);
    let mutations: Vec<(&str, String, Value)> = vec![
        ("updateCourse", r#"mutation($c: ID!) { updateCourse(input: {course: $c, title: "x"}) { userErrors { code } } }"#.into(), json!({ "c": course_id })),
        ("publishCourse", r#"mutation($c: ID!) { publishCourse(input: {course: $c}) { userErrors { code } } }"#.into(), json!({ "c": course_id })),
        ("archiveCourse", r#"mutation($c: ID!) { archiveCourse(input: {course: $c}) { userErrors { code } } }"#.into(), json!({ "c": course_id })),
        ("addLesson", r#"mutation($c: ID!) { addLesson(input: {course: $c, title: "x", kind: ARTICLE, durationSeconds: 1}) { userErrors { code } } }"#.into(), json!({ "c": course_id })),
        ("updateLesson", r#"mutation($l: ID!) { updateLesson(input: {lesson: $l, title: "x"}) { userErrors { code } } }"#.into(), json!({ "l": lesson_id })),
        ("reorderLessons", r#"mutation($c: ID!, $l: ID!) { reorderLessons(input: {course: $c, lessons: [$l]}) { userErrors { code } } }"#.into(), json!({ "c": course_id, "l": lesson_id })),
        ("deleteLesson", r#"mutation($l: ID!) { deleteLesson(input: {lesson: $l}) { userErrors { code } } }"#.into(), json!({ "l": lesson_id })),
        ("updateLivestream", r#"mutation($s: ID!) { updateLivestream(input: {livestream: $s, title: "x"}) { userErrors { code } } }"#.into(), json!({ "s": stream })),
        ("startLivestream", r#"mutation($s: ID!) { startLivestream(input: {livestream: $s}) { userErrors { code } } }"#.into(), json!({ "s": stream })),
        ("cancelLivestream", r#"mutation($s: ID!) { cancelLivestream(input: {livestream: $s}) { userErrors { code } } }"#.into(), json!({ "s": stream })),
        ("updateGroup", r#"mutation($g: ID!) { updateGroup(input: {group: $g, name: "x"}) { userErrors { code } } }"#.into(), json!({ "g": group })),
        ("pinPost", r#"mutation($p: ID!) { pinPost(input: {post: $p}) { userErrors { code } } }"#.into(), json!({ "p": post })),
        ("deletePost", r#"mutation($p: ID!) { deletePost(input: {post: $p}) { userErrors { code } } }"#.into(), json!({ "p": post })),
        ("suspendCourse", r#"mutation($c: ID!) { suspendCourse(input: {course: $c}) { userErrors { code } } }"#.into(), json!({ "c": course_id })),
        ("banUser", r#"mutation($u: ID!) { banUser(input: {user: $u}) { userErrors { code } } }"#.into(), json!({ "u": gid("User", learner.id) })),
    ];
    let before = snapshot(&app).await;
    let actors = [
        ("another creator", Some(other_token.clone()), "FORBIDDEN"),
        ("a learner", Some(app.token(learner.id)), "FORBIDDEN"),
        ("anonymous", None, "UNAUTHENTICATED"),
    ];
    for (mutation, query, variables) in &mutations {
        for (actor, token, code) in &actors {
            let body = match token {
                Some(token) => app.gql_as(token, query, variables.clone()).await.1,
                None => app.gql(query, variables.clone()).await,
            };
            assert_eq!(error_code(&body), *code, "{mutation} by {actor}: {body}");
        }
    }
    // Creating needs a creator profile; anonymous visitors need to sign in first.
    let create = r#"mutation { createCourse(input: {title: "t", category: "c", priceFen: 0}) { userErrors { code } } }"#;
    assert_eq!(
        error_code(
            &app.gql_as(&app.token(learner.id), create, json!({}))
                .await
                .1
        ),
        "FORBIDDEN"
    );
    assert_eq!(
        error_code(&app.gql(create, json!({})).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "a refused mutation wrote something"
    );
}
