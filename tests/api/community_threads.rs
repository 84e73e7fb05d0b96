//! Threads through the real API: images and hashtags, edits within a day, digest and
//! at most three pins (also when pinned at once), the post filters and orders, and
//! removed posts and replies, hidden but kept with their reason.

use chrono::{Duration, Utc};
use entity::{group_post, group_reply, post_hashtag};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set,
};
use serde_json::{Value, json};

use crate::community::{free_group, member_of};
use crate::helpers::{Fixture, TestApp, error_code};

const POST: &str = r#"mutation($g: ID!, $b: String!, $i: [String!], $h: [String!], $k: PostKind) {
  createPost(input: {group: $g, body: $b, images: $i, hashtags: $h, kind: $k}) {
    post { id title body images hashtags digest pinned editedAt } userErrors { field code } } }"#;
const EDIT: &str = r#"mutation($p: ID!, $b: String, $h: [String!]) {
  editPost(input: {post: $p, body: $b, hashtags: $h}) { post { body hashtags editedAt } userErrors { field code } } }"#;
const LIST: &str = r#"query($g: ID!, $f: GroupPostFilter, $o: PostOrder) { node(id: $g) { ... on CommunityGroup {
  posts(first: 20, filter: $f, orderBy: $o) { totalCount edges { node { id title body replyCount } } } } } }"#;

/// Writes a post as `token` and answers the payload.
async fn post(app: &TestApp, token: &str, group: &Value, body: &str, hashtags: Value) -> Value {
    app.mutate(token, POST, json!({ "g": group, "b": body, "h": hashtags }))
        .await
}

/// The database id of a global ID.
fn key(id: &Value) -> i64 {
    let id = async_graphql::ID(id.as_str().unwrap().to_owned());
    zhiku::graphql::ids::decode(&id, "GroupPost")
        .or_else(|_| zhiku::graphql::ids::decode(&id, "GroupReply"))
        .unwrap()
}

/// The bodies listed by `filter` and `order`, in order.
async fn listed(
    app: &TestApp,
    token: &str,
    group: &Value,
    filter: Value,
    order: &str,
) -> Vec<String> {
    let (_, body) = app
        .gql_as(token, LIST, json!({ "g": group, "f": filter, "o": order }))
        .await;
    body["data"]["node"]["posts"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["node"]["body"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn posts_carry_images_and_hashtags_and_are_edited_within_a_day() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (_, group) = free_group(&app).await;
    let member = member_of(&app, &fixture, "writer", &group).await;
    let other = member_of(&app, &fixture, "other", &group).await;

    let written = app
        .mutate(
            &member,
            POST,
            json!({ "g": group, "b": "第一周笔记\n所有权和借用", "i": ["https://img.example/1.jpg", "https://img.example/2.jpg"], "h": ["#Rust", "rust", "笔记"] }),
        )
        .await;
    assert_eq!(written["userErrors"], json!([]), "{written}");
    let post = &written["post"];
    assert_eq!(post["title"], "第一周笔记");
    assert_eq!(
        post["images"],
        json!(["https://img.example/1.jpg", "https://img.example/2.jpg"])
    );
    assert_eq!(
        post["hashtags"],
        json!(["rust", "笔记"]),
        "# taken off, repeats once"
    );
    assert_eq!(post["editedAt"], Value::Null);
    let id = post["id"].clone();
    let tags = post_hashtag::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(tags, 2);

    // Bad media is refused on its field, and nothing is written.
    let refused = app
        .mutate(
            &member,
            POST,
            json!({ "g": group, "b": "x", "i": ["javascript:alert(1)"], "h": ["a b", "1", "2", "3", "4", "5", "6"] }),
        )
        .await;
    let codes: Vec<(String, String)> = refused["userErrors"]
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
    assert!(
        codes.contains(&("images".into(), "INVALID".into())),
        "{refused}"
    );
    assert!(
        codes.contains(&("hashtags".into(), "INVALID".into())),
        "{refused}"
    );
    assert!(
        codes.contains(&("hashtags".into(), "OUT_OF_RANGE".into())),
        "{refused}"
    );
    assert_eq!(group_post::Entity::find().count(&app.db).await.unwrap(), 1);

    // Only the author edits; the hashtags' rows follow the edit.
    let (_, body) = app
        .gql_as(&other, EDIT, json!({ "p": id, "b": "改了" }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let edited = app
        .mutate(
            &member,
            EDIT,
            json!({ "p": id, "b": "第一周笔记（修订）", "h": ["生命周期"] }),
        )
        .await;
    assert_eq!(edited["post"]["body"], "第一周笔记（修订）");
    assert_eq!(edited["post"]["hashtags"], json!(["生命周期"]));
    assert!(edited["post"]["editedAt"].is_string());
    let tags: Vec<String> = post_hashtag::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.tag)
        .collect();
    assert_eq!(tags, vec!["生命周期".to_owned()]);

    // A day later the post can no longer be edited.
    let row = group_post::Entity::find_by_id(key(&id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut row = row.into_active_model();
    row.created_at = Set(Utc::now() - Duration::hours(25));
    row.update(&app.db).await.unwrap();
    let late = app
        .mutate(&member, EDIT, json!({ "p": id, "b": "太晚了" }))
        .await;
    assert_eq!(
        late["userErrors"][0]["code"], "EDIT_WINDOW_CLOSED",
        "{late}"
    );
    let row = group_post::Entity::find_by_id(key(&id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.body, "第一周笔记（修订）");
}

#[tokio::test]
async fn digest_pins_filters_and_orders() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (owner, group) = free_group(&app).await;
    let member = member_of(&app, &fixture, "member", &group).await;

    let mut ids = Vec::new();
    for (n, (token, tags)) in [
        (&owner, json!(["公告"])),
        (&member, json!(["rust"])),
        (&member, json!(["rust", "提问"])),
        (&owner, json!([])),
        (&member, json!([])),
    ]
    .into_iter()
    .enumerate()
    {
        let written = post(&app, token, &group, &format!("post-{n}"), tags).await;
        ids.push(written["post"]["id"].clone());
    }
    // Replies: post-2 gets two, post-1 one.
    let reply = r#"mutation($p: ID!) { replyToPost(input: {post: $p, body: "+1"}) { userErrors { code } } }"#;
    for target in [&ids[2], &ids[2], &ids[1]] {
        app.mutate(&member, reply, json!({ "p": target })).await;
    }

    // Digest: the owner marks, a member may not.
    let digest = r#"mutation($p: ID!, $d: Boolean!) { markDigest(input: {post: $p, digest: $d}) { post { digest } userErrors { code } } }"#;
    let (_, body) = app
        .gql_as(&member, digest, json!({ "p": ids[1], "d": true }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let marked = app
        .mutate(&owner, digest, json!({ "p": ids[1], "d": true }))
        .await;
    assert_eq!(marked["post"]["digest"], true);

    // Filters and orders.
    let all = listed(&app, &member, &group, json!({}), "NEWEST").await;
    assert_eq!(all, ["post-4", "post-3", "post-2", "post-1", "post-0"]);
    assert_eq!(
        listed(&app, &member, &group, json!({"digest": true}), "NEWEST").await,
        ["post-1"]
    );
    assert_eq!(
        listed(&app, &member, &group, json!({"hashtag": "#RUST"}), "NEWEST").await,
        ["post-2", "post-1"]
    );
    assert_eq!(
        listed(
            &app,
            &member,
            &group,
            json!({"authorIsOwner": true}),
            "NEWEST"
        )
        .await,
        ["post-3", "post-0"]
    );
    assert_eq!(
        listed(
            &app,
            &member,
            &group,
            json!({"authorIsOwner": false, "hashtag": "提问"}),
            "NEWEST"
        )
        .await,
        ["post-2"]
    );
    assert_eq!(
        listed(&app, &member, &group, json!({}), "MOST_REPLIED").await,
        ["post-2", "post-1", "post-4", "post-3", "post-0"],
        "most replies first, newest first among equals"
    );

    // Five pins at once: three land, two are refused with LIMIT_REACHED.
    let pin = r#"mutation($p: ID!) { pinPost(input: {post: $p}) { post { pinned } userErrors { code } } }"#;
    let answers = futures_util::future::join_all(
        ids.iter()
            .map(|id| app.mutate(&owner, pin, json!({ "p": id }))),
    )
    .await;
    let refused = answers
        .iter()
        .filter(|a| a["userErrors"][0]["code"] == "LIMIT_REACHED")
        .count();
    assert_eq!(refused, 2, "{answers:?}");
    let pinned = group_post::Entity::find()
        .filter(group_post::Column::Pinned.eq(true))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(pinned, 3);
    assert_eq!(
        listed(&app, &member, &group, json!({"pinned": true}), "NEWEST")
            .await
            .len(),
        3
    );
}

#[tokio::test]
async fn removed_posts_and_replies_are_hidden_and_kept_with_their_reason() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (owner, group) = free_group(&app).await;
    let member = member_of(&app, &fixture, "member", &group).await;
    let other = member_of(&app, &fixture, "other", &group).await;
    let spam = post(&app, &member, &group, "加微信领资料", json!([])).await["post"]["id"].clone();
    let kept = post(&app, &other, &group, "好问题", json!([])).await["post"]["id"].clone();

    // A member may not remove someone else's post; the owner must give a reason.
    let remove = r#"mutation($p: ID!, $r: String!) { removePost(input: {post: $p, reason: $r}) { group { id } userErrors { field code } } }"#;
    let (_, body) = app
        .gql_as(&other, remove, json!({ "p": spam, "r": "spam" }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let blank = app
        .mutate(&owner, remove, json!({ "p": spam, "r": "  " }))
        .await;
    assert_eq!(blank["userErrors"][0]["code"], "REQUIRED");
    let removed = app
        .mutate(&owner, remove, json!({ "p": spam, "r": "广告" }))
        .await;
    assert_eq!(removed["userErrors"], json!([]));
    assert_eq!(
        listed(&app, &member, &group, json!({}), "NEWEST").await,
        ["好问题"]
    );
    let node = app
        .data(
            r#"query($p: ID!) { node(id: $p) { id } }"#,
            json!({ "p": spam }),
        )
        .await;
    assert_eq!(
        node["node"],
        Value::Null,
        "a removed post is gone for readers"
    );
    let row = group_post::Entity::find_by_id(key(&spam))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.delete_reason.as_deref(), Some("广告"));
    assert!(row.deleted_at.is_some());

    // Replies: removing one takes it off the count, once, however often it is asked.
    let reply = r#"mutation($p: ID!, $b: String!) { replyToPost(input: {post: $p, body: $b}) { reply { id } userErrors { code } } }"#;
    let first = app
        .mutate(&member, reply, json!({ "p": kept, "b": "一" }))
        .await["reply"]["id"]
        .clone();
    app.mutate(&other, reply, json!({ "p": kept, "b": "二" }))
        .await;
    let remove_reply = r#"mutation($r: ID!, $why: String) { removeReply(input: {reply: $r, reason: $why}) { post { replyCount replies(first: 5) { edges { node { body } } } } userErrors { code } } }"#;
    let (_, body) = app
        .gql_as(&other, remove_reply, json!({ "r": first }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "not theirs");
    let answers = futures_util::future::join_all(
        (0..3).map(|_| app.mutate(&member, remove_reply, json!({ "r": first }))),
    )
    .await;
    let done: Vec<&Value> = answers.iter().filter(|a| a["post"].is_object()).collect();
    assert_eq!(done.len(), 1, "{answers:?}");
    assert_eq!(done[0]["post"]["replyCount"], 1);
    assert_eq!(done[0]["post"]["replies"]["edges"][0]["node"]["body"], "二");
    let post_row = group_post::Entity::find_by_id(key(&kept))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(post_row.reply_count, 1);
    let removed_replies = group_reply::Entity::find()
        .filter(group_reply::Column::DeletedAt.is_not_null())
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(removed_replies, 1);
}

#[tokio::test]
async fn a_reply_tells_the_post_author_and_the_answered_member_through_the_outbox() {
    use entity::enums::MessageKind;
    use entity::outbox_message;
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (_, group) = free_group(&app).await;
    let author = fixture.user("author", entity::enums::Role::Learner).await;
    let author_token = app.token(author.id);
    let join = r#"mutation($g: ID!) { joinGroup(input: {group: $g}) { userErrors { code } } }"#;
    app.mutate(&author_token, join, json!({ "g": group })).await;
    let second = fixture.user("second", entity::enums::Role::Learner).await;
    let second_token = app.token(second.id);
    app.mutate(&second_token, join, json!({ "g": group })).await;
    let third = member_of(&app, &fixture, "third", &group).await;
    let post = post(
        &app,
        &author_token,
        &group,
        "周末一起读《三体》吗？",
        json!([]),
    )
    .await["post"]["id"]
        .clone();
    let reply = r#"mutation($p: ID!, $b: String!, $r: ID) { replyToPost(input: {post: $p, body: $b, replyTo: $r}) { reply { id } userErrors { code } } }"#;

    // Their own reply tells nobody; another member's tells the author, once.
    app.mutate(
        &author_token,
        reply,
        json!({ "p": post, "b": "我先开个头" }),
    )
    .await;
    let answered = app
        .mutate(
            &second_token,
            reply,
            json!({ "p": post, "b": "好呀，算我一个" }),
        )
        .await["reply"]["id"]
        .clone();
    let messages = |user_id: i64| {
        let db = app.db.clone();
        async move {
            outbox_message::Entity::find()
                .filter(outbox_message::Column::UserId.eq(user_id))
                .filter(outbox_message::Column::Kind.eq(MessageKind::PostReply))
                .all(&db)
                .await
                .unwrap()
        }
    };
    let to_author = messages(author.id).await;
    assert_eq!(to_author.len(), 1);
    let values: Value = serde_json::from_str(&to_author[0].values).unwrap();
    assert_eq!(values["thing1"], "周末一起读《三体》吗？");
    assert_eq!(values["thing2"], "nick-second");
    assert_eq!(values["thing3"], "好呀，算我一个");
    assert_eq!(to_author[0].subject_id, key(&post));

    // A reply to a reply tells the post's author and the answered member.
    app.mutate(
        &third,
        reply,
        json!({ "p": post, "b": "我也来", "r": answered }),
    )
    .await;
    assert_eq!(messages(author.id).await.len(), 2);
    assert_eq!(messages(second.id).await.len(), 1);
}
