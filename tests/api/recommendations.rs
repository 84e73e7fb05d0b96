//! Recommendations over HTTP: personal, explained, never owned / own / unpublished;
//! cold start by followed categories; immediate update after a purchase; similar
//! courses; the admin rebuild; the feed's stable paging.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use entity::enums::{CourseStatus, LivestreamStatus, Role};
use entity::{
    community_group, course, creator, entitlement, follow, group_membership, group_post, livestream,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{Fixture, TestApp, error_code, gid, t0};

const RECOMMEND: &str = r#"query($first: Int, $category: String) {
  recommendations(first: $first, category: $category) {
    score predictedRating course { id title category status } because { id }
  }
}"#;

/// Two tastes: design buyers have D1..D3, code buyers C1..C3 and the free course F.
struct Shop {
    alice: creator::Model,
    bob: creator::Model,
    design: Vec<course::Model>,
    code: Vec<course::Model>,
    draft: course::Model,
    free: course::Model,
    admin: String,
}

async fn shop(app: &TestApp) -> Shop {
    let fixture = Fixture::new(&app.db);
    let alice = fixture.creator("alice").await;
    let bob = fixture.creator("bob").await;
    let mut design = Vec::new();
    let mut code = Vec::new();
    for n in 1..=4 {
        let d = fixture
            .course(
                &alice,
                n,
                &format!("D{n}"),
                "design",
                9_900,
                CourseStatus::Published,
            )
            .await;
        design.push(d);
        let c = fixture
            .course(
                &bob,
                n,
                &format!("C{n}"),
                "code",
                9_900,
                CourseStatus::Published,
            )
            .await;
        code.push(c);
    }
    let draft = fixture
        .course(&alice, 9, "D-draft", "design", 9_900, CourseStatus::Draft)
        .await;
    let free = fixture
        .course(&bob, 10, "F", "code", 0, CourseStatus::Published)
        .await;
    for i in 0..8 {
        let fan = fixture
            .user(&format!("design-fan-{i}"), Role::Learner)
            .await;
        for course in design.iter().take(3).skip(i % 2) {
            fixture.entitlement(fan.id, course.id).await;
        }
        fixture.entitlement(fan.id, draft.id).await;
        let coder = fixture.user(&format!("code-fan-{i}"), Role::Learner).await;
        for course in code.iter().take(3).skip(i % 2) {
            fixture.entitlement(coder.id, course.id).await;
        }
        fixture.entitlement(coder.id, free.id).await;
    }
    let admin = fixture.user("admin", Role::Admin).await;
    let admin = app.token(admin.id);
    Shop {
        alice,
        bob,
        design,
        code,
        draft,
        free,
        admin,
    }
}

async fn rebuild(app: &TestApp, admin: &str) -> Value {
    let body = app
        .mutate(
            admin,
            "mutation { rebuildRecommendations { stats { items users interactions nonZeroSimilarities similarity buildSeconds } userErrors { code } } }",
            json!({}),
        )
        .await;
    body["stats"].clone()
}

fn course_ids(recommendations: &Value) -> Vec<String> {
    recommendations
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| r["course"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn recommendations_follow_taste_explain_themselves_and_skip_owned_own_and_unpublished() {
    let app = TestApp::spawn().await;
    let shop = shop(&app).await;
    let stats = rebuild(&app, &shop.admin).await;
    assert_eq!(stats["users"], 16, "16 fans and nobody else: {stats}");
    assert_eq!(
        stats["items"], 10,
        "9 courses on sale and the draft its buyers have"
    );
    assert_eq!(stats["similarity"], "ease");
    assert!(stats["nonZeroSimilarities"].as_i64().unwrap() > 0);

    let fixture = Fixture::new(&app.db);
    let viewer = fixture.user("viewer", Role::Learner).await;
    fixture.entitlement(viewer.id, shop.design[0].id).await;
    rebuild(&app, &shop.admin).await;
    let token = app.token(viewer.id);
    let (_, body) = app.gql_as(&token, RECOMMEND, json!({"first": 5})).await;
    let list = &body["data"]["recommendations"];
    let ids = course_ids(list);
    assert_eq!(ids.len(), 5, "{body:#}");
    let top_two: HashSet<&str> = ids[..2].iter().map(String::as_str).collect();
    let expected: HashSet<String> = [
        gid("Course", shop.design[1].id),
        gid("Course", shop.design[2].id),
    ]
    .into();
    assert_eq!(
        top_two,
        expected.iter().map(String::as_str).collect(),
        "{body:#}"
    );
    assert_eq!(
        list[0]["because"][0]["id"],
        gid("Course", shop.design[0].id)
    );
    assert!(
        !ids.contains(&gid("Course", shop.design[0].id)),
        "owned course recommended"
    );
    assert!(
        !ids.contains(&gid("Course", shop.draft.id)),
        "draft recommended"
    );
    for r in list.as_array().unwrap() {
        assert_eq!(r["course"]["status"], "PUBLISHED");
        let predicted = r["predictedRating"].as_f64();
        assert!(predicted.is_none_or(|p| (1.0..=5.0).contains(&p)));
    }
    assert!(list[0]["score"].as_f64().unwrap() >= list[1]["score"].as_f64().unwrap());

    // A category narrows the list.
    let (_, body) = app
        .gql_as(&token, RECOMMEND, json!({"first": 10, "category": "code"}))
        .await;
    let list = body["data"]["recommendations"].as_array().unwrap().clone();
    assert!(!list.is_empty());
    assert!(
        list.iter().all(|r| r["course"]["category"] == "code"),
        "{body:#}"
    );

    // A creator never gets their own courses.
    let alice_user = shop.alice.user_id;
    fixture.entitlement(alice_user, shop.code[0].id).await;
    rebuild(&app, &shop.admin).await;
    let (_, body) = app
        .gql_as(&app.token(alice_user), RECOMMEND, json!({"first": 20}))
        .await;
    let ids = course_ids(&body["data"]["recommendations"]);
    assert!(!ids.is_empty());
    for course in shop.design.iter().chain([&shop.draft]) {
        assert!(
            !ids.contains(&gid("Course", course.id)),
            "own course recommended: {body:#}"
        );
    }

    // A course suspended after the build disappears at once.
    let body = app
        .mutate(
            &shop.admin,
            r#"mutation($c: ID!) { suspendCourse(input: {course: $c}) { course { status } userErrors { code } } }"#,
            json!({"c": gid("Course", shop.design[1].id)}),
        )
        .await;
    assert_eq!(body["course"]["status"], "ARCHIVED", "{body}");
    let (_, body) = app.gql_as(&token, RECOMMEND, json!({"first": 5})).await;
    assert!(
        !course_ids(&body["data"]["recommendations"]).contains(&gid("Course", shop.design[1].id))
    );

    // Bad sizes are refused with a typed error.
    let (_, body) = app.gql_as(&token, RECOMMEND, json!({"first": 500})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_purchase_changes_recommendations_at_once_without_a_rebuild() {
    let app = TestApp::spawn().await;
    let shop = shop(&app).await;
    rebuild(&app, &shop.admin).await;
    let fixture = Fixture::new(&app.db);
    let newcomer = fixture.user("newcomer", Role::Learner).await;
    let token = app.token(newcomer.id);

    let (_, before) = app.gql_as(&token, RECOMMEND, json!({"first": 3})).await;
    let before = &before["data"]["recommendations"];
    assert!(
        before
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["because"] == json!([])),
        "cold start explains nothing"
    );

    let body = app
        .mutate(
            &token,
            r#"mutation($p: ID!) { createOrder(input: {product: $p, idempotencyKey: "free-1"}) { order { status } userErrors { code } } }"#,
            json!({"p": gid("Course", shop.free.id)}),
        )
        .await;
    assert_eq!(body["order"]["status"], "PAID", "{body}");
    let granted = entitlement::Entity::find()
        .filter(entitlement::Column::UserId.eq(newcomer.id))
        .filter(entitlement::Column::ProductId.eq(shop.free.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(granted, 1);

    let (_, after) = app.gql_as(&token, RECOMMEND, json!({"first": 3})).await;
    let after = &after["data"]["recommendations"];
    let ids = course_ids(after);
    assert!(
        !ids.contains(&gid("Course", shop.free.id)),
        "owned course still recommended"
    );
    let code_ids: HashSet<String> = shop.code[..3].iter().map(|c| gid("Course", c.id)).collect();
    assert!(code_ids.contains(&ids[0]), "taste not picked up: {after:#}");
    assert_eq!(after[0]["because"][0]["id"], gid("Course", shop.free.id));
}

#[tokio::test]
async fn newcomers_get_followed_creators_categories_first_and_similar_courses_are_co_bought() {
    let app = TestApp::spawn().await;
    let shop = shop(&app).await;
    rebuild(&app, &shop.admin).await;
    let fixture = Fixture::new(&app.db);
    let newcomer = fixture.user("follower", Role::Learner).await;
    follow::ActiveModel {
        user_id: sea_orm::Set(newcomer.id),
        creator_id: sea_orm::Set(shop.alice.id),
        created_at: sea_orm::Set(t0()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let (_, body) = app
        .gql_as(&app.token(newcomer.id), RECOMMEND, json!({"first": 4}))
        .await;
    let list = body["data"]["recommendations"].as_array().unwrap();
    assert_eq!(list.len(), 4, "{body:#}");
    assert!(
        list.iter().all(|r| r["course"]["category"] == "design"),
        "{body:#}"
    );

    let (_, body) = app
        .gql_as(
            &shop.admin,
            r#"query($id: ID!) { node(id: $id) { ... on Course { similarCourses(first: 3) { id } } } }"#,
            json!({"id": gid("Course", shop.code[0].id)}),
        )
        .await;
    let similar: Vec<&str> = body["data"]["node"]["similarCourses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(!similar.is_empty(), "{body:#}");
    let code: Vec<String> = shop
        .code
        .iter()
        .chain([&shop.free])
        .map(|c| gid("Course", c.id))
        .collect();
    assert!(
        similar.iter().all(|id| code.iter().any(|c| c == id)),
        "{body:#}"
    );
    assert!(!similar.contains(&gid("Course", shop.code[0].id).as_str()));
    let _ = &shop.bob;
}

#[tokio::test]
async fn only_console_admins_rebuild() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let learner = fixture.user("learner", Role::Learner).await;
    let (_, body) = app
        .gql_as(
            &app.token(learner.id),
            "mutation { rebuildRecommendations { stats { items } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
}

#[tokio::test]
async fn the_feed_mixes_courses_livestreams_and_posts_without_repeats_across_pages() {
    let app = TestApp::spawn().await;
    let shop = shop(&app).await;
    rebuild(&app, &shop.admin).await;
    let fixture = Fixture::new(&app.db);
    let viewer = fixture.user("feed-viewer", Role::Learner).await;
    let other = fixture.user("poster", Role::Learner).await;
    follow::ActiveModel {
        user_id: sea_orm::Set(viewer.id),
        creator_id: sea_orm::Set(shop.bob.id),
        created_at: sea_orm::Set(t0()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let mut livestreams = Vec::new();
    for n in 0..2 {
        let row = livestream::ActiveModel {
            creator_id: sea_orm::Set(shop.bob.id),
            title: sea_orm::Set(format!("Live {n}")),
            status: sea_orm::Set(LivestreamStatus::Scheduled),
            scheduled_start: sea_orm::Set(Utc::now() + Duration::days(n + 1)),
            price_fen: sea_orm::Set(0),
            peak_viewers: sea_orm::Set(0),
            created_at: sea_orm::Set(Utc::now()),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
        livestreams.push(gid("Livestream", row.id));
    }
    let group = community_group::ActiveModel {
        creator_id: sea_orm::Set(shop.bob.id),
        name: sea_orm::Set("Rustaceans".into()),
        price_fen: sea_orm::Set(0),
        created_at: sea_orm::Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    for user in [viewer.id, other.id] {
        group_membership::ActiveModel {
            group_id: sea_orm::Set(group.id),
            user_id: sea_orm::Set(user),
            joined_at: sea_orm::Set(Utc::now()),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    let mut posts = Vec::new();
    for n in 0..3 {
        let post = group_post::ActiveModel {
            group_id: sea_orm::Set(group.id),
            author_id: sea_orm::Set(other.id),
            body: sea_orm::Set(format!("post {n}")),
            pinned: sea_orm::Set(false),
            created_at: sea_orm::Set(Utc::now() - Duration::minutes(n)),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
        posts.push(gid("GroupPost", post.id));
    }
    // Five days old: shown once members talk about it (a reply), left out when quiet.
    let mut old_posts = Vec::new();
    for (body, replies, likes) in [("talked about", 2, 0), ("quiet", 0, 2)] {
        let post = group_post::ActiveModel {
            group_id: sea_orm::Set(group.id),
            author_id: sea_orm::Set(other.id),
            body: sea_orm::Set(body.into()),
            pinned: sea_orm::Set(false),
            reply_count: sea_orm::Set(replies),
            like_count: sea_orm::Set(likes),
            created_at: sea_orm::Set(Utc::now() - Duration::days(5)),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
        old_posts.push(gid("GroupPost", post.id));
    }
    posts.push(old_posts[0].clone());

    const FEED: &str = r#"query($after: String) { feed(first: 4, after: $after) {
      edges { cursor node { __typename ... on Recommendation { course { id } }
        ... on Livestream { id } ... on GroupPost { id } } }
      pageInfo { hasNextPage endCursor } } }"#;
    let token = app.token(viewer.id);
    let mut seen = Vec::new();
    let mut recommended = 0;
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let (_, body) = app.gql_as(&token, FEED, json!({"after": after})).await;
        let (_, again) = app.gql_as(&token, FEED, json!({"after": after})).await;
        assert_eq!(body, again, "the same page twice differs");
        let feed = &body["data"]["feed"];
        for edge in feed["edges"].as_array().expect("edges") {
            let node = &edge["node"];
            if node["__typename"] == "Recommendation" {
                recommended += 1;
            }
            let id = node["id"]
                .as_str()
                .or(node["course"]["id"].as_str())
                .unwrap();
            seen.push(id.to_owned());
        }
        pages += 1;
        if feed["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = feed["pageInfo"]["endCursor"].clone();
        if pages == 2 {
            // A new post between pages is not squeezed into later pages' past.
            group_post::ActiveModel {
                group_id: sea_orm::Set(group.id),
                author_id: sea_orm::Set(other.id),
                body: sea_orm::Set("late".into()),
                pinned: sea_orm::Set(false),
                created_at: sea_orm::Set(Utc::now()),
                ..Default::default()
            }
            .insert(&app.db)
            .await
            .unwrap();
        }
        assert!(pages < 20, "the feed never ends");
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "repeated entries: {seen:?}");
    for id in livestreams.iter().chain(&posts) {
        assert!(seen.contains(id), "{id} missing from {seen:?}");
    }
    assert!(!seen.contains(&old_posts[1]), "a quiet old post stays out");
    assert!(recommended >= 3 && pages >= 2, "{seen:?}");

    let (_, body) = app
        .gql_as(&token, FEED, json!({"after": "not-a-cursor"}))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
}
