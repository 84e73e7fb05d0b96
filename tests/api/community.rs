//! Conversation in groups through the real API: likes on posts, exact under concurrent
//! likes and repeats, only for members.

use entity::enums::Role;
use entity::post_like;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{Fixture, TestApp};
use crate::writes::creator;

const LIKE: &str = r#"mutation($p: ID!) { likePost(input: {post: $p}) { post { likeCount viewerHasLiked } userErrors { code } } }"#;
const UNLIKE: &str = r#"mutation($p: ID!) { unlikePost(input: {post: $p}) { post { likeCount viewerHasLiked } userErrors { code } } }"#;

#[tokio::test]
async fn likes_are_counted_exactly_once_per_member() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (_, _, owner_token) = creator(&app, "Host").await;
    let group = app
        .mutate(
            &owner_token,
            r#"mutation { createGroup(input: {name: "读书会"}) { group { id } } }"#,
            json!({}),
        )
        .await["group"]["id"]
        .clone();
    let post = app
        .mutate(
            &owner_token,
            r#"mutation($g: ID!) { createPost(input: {group: $g, body: "今天读什么？"}) { post { id } } }"#,
            json!({ "g": group }),
        )
        .await["post"]["id"]
        .clone();
    let mut members = Vec::new();
    for n in 0..20 {
        let user = fixture.user(&format!("member-{n}"), Role::Learner).await;
        let token = app.token(user.id);
        app.mutate(
            &token,
            r#"mutation($g: ID!) { joinGroup(input: {group: $g}) { userErrors { code } } }"#,
            json!({ "g": group }),
        )
        .await;
        members.push(token);
    }

    // Twenty members like at once, and the first likes three more times at once.
    let mut likes: Vec<_> = members
        .iter()
        .map(|token| app.mutate(token, LIKE, json!({ "p": post })))
        .collect();
    for _ in 0..3 {
        likes.push(app.mutate(&members[0], LIKE, json!({ "p": post })));
    }
    let answers: Vec<Value> = futures_util::future::join_all(likes).await;
    assert!(answers.iter().all(|a| a["userErrors"] == json!([])));
    let count = |answer: &Value| answer["post"]["likeCount"].as_i64().unwrap();
    let seen = app.mutate(&members[0], LIKE, json!({ "p": post })).await;
    assert_eq!(count(&seen), 20, "{seen}");
    assert_eq!(seen["post"]["viewerHasLiked"], true);
    assert_eq!(post_like::Entity::find().count(&app.db).await.unwrap(), 20);

    // Half of them unlike at once, twice each: ten likes are left.
    let unlikes: Vec<_> = members[..10]
        .iter()
        .flat_map(|token| {
            [
                app.mutate(token, UNLIKE, json!({ "p": post })),
                app.mutate(token, UNLIKE, json!({ "p": post })),
            ]
        })
        .collect();
    futures_util::future::join_all(unlikes).await;
    let after = app.mutate(&members[0], UNLIKE, json!({ "p": post })).await;
    assert_eq!(count(&after), 10, "{after}");
    assert_eq!(after["post"]["viewerHasLiked"], false);
    assert_eq!(post_like::Entity::find().count(&app.db).await.unwrap(), 10);
    let stored = entity::group_post::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.like_count, 10);

    // Only members like; nobody signed out does.
    let stranger = fixture.user("stranger", Role::Learner).await;
    let (_, refused) = app
        .gql_as(&app.token(stranger.id), LIKE, json!({ "p": post }))
        .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let anonymous = app.gql(LIKE, json!({ "p": post })).await;
    assert_eq!(
        anonymous["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    assert_eq!(post_like::Entity::find().count(&app.db).await.unwrap(), 10);
}
