//! Conversation in groups through the real API: likes on posts, exact under concurrent
//! likes and repeats, only for members.

use entity::enums::Role;
use entity::post_like;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{Fixture, TestApp};
use crate::writes::creator;

/// A creator's free group: the creator's token and the group's ID.
pub(crate) async fn free_group(app: &TestApp) -> (String, Value) {
    let (_, _, owner_token) = creator(app, "Host").await;
    let group = app
        .mutate(
            &owner_token,
            r#"mutation { createGroup(input: {name: "读书会"}) { group { id } } }"#,
            json!({}),
        )
        .await["group"]["id"]
        .clone();
    (owner_token, group)
}

/// A new learner who joined `group`: their token.
pub(crate) async fn member_of(
    app: &TestApp,
    fixture: &Fixture<'_>,
    name: &str,
    group: &Value,
) -> String {
    let user = fixture.user(name, Role::Learner).await;
    let token = app.token(user.id);
    app.mutate(
        &token,
        r#"mutation($g: ID!) { joinGroup(input: {group: $g}) { userErrors { code } } }"#,
        json!({ "g": group }),
    )
    .await;
    token
}

const LIKE: &str = r#"mutation($p: ID!) { likePost(input: {post: $p}) { post { likeCount viewerHasLiked } userErrors { code } } }"#;
const UNLIKE: &str = r#"mutation($p: ID!) { unlikePost(input: {post: $p}) { post { likeCount viewerHasLiked } userErrors { code } } }"#;

#[tokio::test]
async fn likes_are_counted_exactly_once_per_member() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (owner_token, group) = free_group(&app).await;
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
        members.push(member_of(&app, &fixture, &format!("member-{n}"), &group).await);
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

const REPLY: &str = r#"mutation($p: ID!, $b: String!, $r: ID) { replyToPost(input: {post: $p, body: $b, replyTo: $r}) { reply { id body replyTo author { nickname } } userErrors { field code } } }"#;
const REPLIES: &str = r#"query($p: ID!, $after: String) { node(id: $p) { ... on GroupPost { replyCount replies(first: 4, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { body replyTo } } } } } }"#;

#[tokio::test]
async fn replies_are_counted_exactly_and_answer_replies_of_the_same_post() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (owner_token, group) = free_group(&app).await;
    let new_post = r#"mutation($g: ID!) { createPost(input: {group: $g, body: "今天读什么？"}) { post { id } } }"#;
    let post = app
        .mutate(&owner_token, new_post, json!({ "g": group }))
        .await["post"]["id"]
        .clone();
    let member_token = member_of(&app, &fixture, "member", &group).await;

    // Ten replies at once: ten counted.
    let writes: Vec<_> = (0..10)
        .map(|n| {
            app.mutate(
                &member_token,
                REPLY,
                json!({ "p": post, "b": format!("第{n}条") }),
            )
        })
        .collect();
    let written: Vec<Value> = futures_util::future::join_all(writes).await;
    assert!(written.iter().all(|w| w["userErrors"] == json!([])));
    // The owner answers one of them.
    let answered = written
        .iter()
        .map(|w| w["reply"]["id"].clone())
        .min_by_key(|id| id.as_str().unwrap().to_owned())
        .unwrap();
    let answer = app
        .mutate(
            &owner_token,
            REPLY,
            json!({ "p": post, "b": "欢迎！", "r": answered }),
        )
        .await;
    assert_eq!(answer["reply"]["replyTo"], answered, "{answer}");
    assert_eq!(answer["reply"]["author"]["nickname"], "nick-creator-Host");

    // Listed in time order, four at a time; the count is exact.
    let (mut bodies, mut after) = (Vec::new(), Value::Null);
    loop {
        let page = app
            .data(REPLIES, json!({ "p": post, "after": after }))
            .await;
        let node = &page["node"];
        assert_eq!(node["replyCount"], 11);
        assert_eq!(node["replies"]["totalCount"], 11);
        for edge in node["replies"]["edges"].as_array().unwrap() {
            bodies.push(edge["node"]["body"].as_str().unwrap().to_owned());
        }
        if !node["replies"]["pageInfo"]["hasNextPage"]
            .as_bool()
            .unwrap()
        {
            break;
        }
        after = node["replies"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(bodies.len(), 11);
    assert_eq!(bodies.last().map(String::as_str), Some("欢迎！"));
    let stored = entity::group_post::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.reply_count, 11);

    // Refused, with nothing written: a blank body, a reply of another post, a stranger.
    let other = app
        .mutate(&owner_token, new_post, json!({ "g": group }))
        .await["post"]["id"]
        .clone();
    let blank = app
        .mutate(&member_token, REPLY, json!({ "p": post, "b": "  " }))
        .await;
    assert_eq!(blank["userErrors"][0]["code"], "REQUIRED");
    let elsewhere = app
        .mutate(
            &member_token,
            REPLY,
            json!({ "p": other, "b": "跑题", "r": answered }),
        )
        .await;
    assert_eq!(
        elsewhere["userErrors"],
        json!([{ "field": ["input", "replyTo"], "code": "NOT_FOUND" }])
    );
    let stranger = fixture.user("stranger", Role::Learner).await;
    let (_, refused) = app
        .gql_as(
            &app.token(stranger.id),
            REPLY,
            json!({ "p": post, "b": "你好" }),
        )
        .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(
        entity::group_reply::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        11
    );

    // A paid group's replies are for its members.
    let paid = app
        .mutate(
            &owner_token,
            r#"mutation { createGroup(input: {name: "私享会", priceFen: 9900, membershipDays: 30}) { group { id } } }"#,
            json!({}),
        )
        .await["group"]["id"]
        .clone();
    let private = app
        .mutate(&owner_token, new_post, json!({ "g": paid }))
        .await["post"]["id"]
        .clone();
    app.mutate(
        &owner_token,
        REPLY,
        json!({ "p": private, "b": "仅会员可见" }),
    )
    .await;
    let (_, hidden) = app
        .gql_as(&app.token(stranger.id), REPLIES, json!({ "p": private }))
        .await;
    assert_eq!(
        hidden["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{hidden}"
    );
}

#[tokio::test]
async fn posts_have_kinds_and_only_the_creator_announces() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (owner_token, group) = free_group(&app).await;
    let member_token = member_of(&app, &fixture, "member", &group).await;
    const POST: &str = r#"mutation($g: ID!, $k: PostKind) { createPost(input: {group: $g, body: "内容", kind: $k}) { post { kind } userErrors { code } } }"#;
    let talk = app.mutate(&member_token, POST, json!({ "g": group })).await;
    assert_eq!(talk["post"]["kind"], "TALK");
    let question = app
        .mutate(&member_token, POST, json!({ "g": group, "k": "QUESTION" }))
        .await;
    assert_eq!(question["post"]["kind"], "QUESTION");
    let (_, refused) = app
        .gql_as(
            &member_token,
            POST,
            json!({ "g": group, "k": "ANNOUNCEMENT" }),
        )
        .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let announced = app
        .mutate(
            &owner_token,
            POST,
            json!({ "g": group, "k": "ANNOUNCEMENT" }),
        )
        .await;
    assert_eq!(announced["post"]["kind"], "ANNOUNCEMENT");
    const BY_KIND: &str = r#"query($g: ID!, $k: PostKind) { node(id: $g) { ... on CommunityGroup { posts(kind: $k) { totalCount } } } }"#;
    for (kind, expected) in [(Value::Null, 3), (json!("QUESTION"), 1), (json!("TASK"), 0)] {
        let page = app.data(BY_KIND, json!({ "g": group, "k": kind })).await;
        assert_eq!(page["node"]["posts"]["totalCount"], expected, "{kind}");
    }
    assert_eq!(
        entity::group_post::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        3
    );
}
