//! Moderation and access of groups through the real API: mutes refuse posts, replies
//! and edits with MUTED until they end; removed members lose their membership and paid
//! access and may not rejoin; reports reach admins; a paid group's conversation is for
//! active members, the owner and admins, and a lapsed member sees the digest titles.

use chrono::{DateTime, Duration, Utc};
use entity::enums::{ProductKind, Role};
use entity::{entitlement, group_membership, group_removal, post_report};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::community::{free_group, member_of};
use crate::helpers::{Fixture, TestApp, error_code, gid};
use crate::writes::creator;

const POST: &str = r#"mutation($g: ID!, $b: String!) { createPost(input: {group: $g, body: $b}) { post { id } userErrors { field code message } } }"#;
const REPLY: &str = r#"mutation($p: ID!) { replyToPost(input: {post: $p, body: "回复"}) { reply { id } userErrors { field code } } }"#;
const MUTE: &str = r#"mutation($g: ID!, $u: ID!, $until: DateTime) { muteMember(input: {group: $g, user: $u, until: $until, reason: "刷屏"}) { group { id } userErrors { field code } } }"#;
const REMOVE: &str = r#"mutation($g: ID!, $u: ID!) { removeMember(input: {group: $g, user: $u, reason: "骚扰其他成员"}) { group { id } userErrors { field code } } }"#;

/// The database id of a group's global ID.
fn group_key(id: &Value) -> i64 {
    let id = async_graphql::ID(id.as_str().unwrap().to_owned());
    zhiku::graphql::ids::decode(&id, "CommunityGroup").unwrap()
}

/// Gives `user_id` a paid membership of the group ending at `ends` (as a paid order
/// would: the entitlement and the membership row).
async fn paid_member(app: &TestApp, group_id: i64, user_id: i64, ends: DateTime<Utc>) {
    entitlement::ActiveModel {
        user_id: Set(user_id),
        product_kind: Set(ProductKind::Group),
        product_id: Set(group_id),
        granted_at: Set(Utc::now() - Duration::days(30)),
        expires_at: Set(Some(ends)),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    group_membership::ActiveModel {
        group_id: Set(group_id),
        user_id: Set(user_id),
        joined_at: Set(Utc::now() - Duration::days(30)),
        expires_at: Set(Some(ends)),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
}

#[tokio::test]
async fn muted_members_are_refused_until_the_mute_ends() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (owner, group) = free_group(&app).await;
    let loud = fixture.user("loud", Role::Learner).await;
    let loud_token = member_of_user(&app, &loud, &group).await;
    let quiet = member_of(&app, &fixture, "quiet", &group).await;
    let post = app
        .mutate(&quiet, POST, json!({ "g": group, "b": "大家好" }))
        .await["post"]["id"]
        .clone();
    let own = app
        .mutate(&loud_token, POST, json!({ "g": group, "b": "我的帖子" }))
        .await["post"]["id"]
        .clone();
    let loud_id = gid("User", loud.id);

    // Members cannot mute; a mute must end in the future; the owner cannot be muted.
    let later = (Utc::now() + Duration::hours(2)).to_rfc3339();
    let (_, body) = app
        .gql_as(
            &quiet,
            MUTE,
            json!({ "g": group, "u": loud_id, "until": later }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let past = (Utc::now() - Duration::hours(1)).to_rfc3339();
    let refused = app
        .mutate(
            &owner,
            MUTE,
            json!({ "g": group, "u": loud_id, "until": past }),
        )
        .await;
    assert_eq!(refused["userErrors"][0]["code"], "OUT_OF_RANGE");

    let muted = app
        .mutate(
            &owner,
            MUTE,
            json!({ "g": group, "u": loud_id, "until": later }),
        )
        .await;
    assert_eq!(muted["userErrors"], json!([]), "{muted}");
    let posted = app
        .mutate(&loud_token, POST, json!({ "g": group, "b": "再发一条" }))
        .await;
    assert_eq!(posted["userErrors"][0]["code"], "MUTED", "{posted}");
    let replied = app.mutate(&loud_token, REPLY, json!({ "p": post })).await;
    assert_eq!(replied["userErrors"][0]["code"], "MUTED");
    let edit =
        r#"mutation($p: ID!) { editPost(input: {post: $p, body: "改"}) { userErrors { code } } }"#;
    let edited = app.mutate(&loud_token, edit, json!({ "p": own })).await;
    assert_eq!(edited["userErrors"][0]["code"], "MUTED");
    let others = app.mutate(&quiet, REPLY, json!({ "p": post })).await;
    assert_eq!(others["userErrors"], json!([]), "the others still talk");
    assert_eq!(
        entity::group_post::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        2
    );

    // Unmuted, they talk again.
    let unmuted = app
        .mutate(
            &owner,
            MUTE,
            json!({ "g": group, "u": loud_id, "until": null }),
        )
        .await;
    assert_eq!(unmuted["userErrors"], json!([]));
    let posted = app
        .mutate(&loud_token, POST, json!({ "g": group, "b": "我会注意" }))
        .await;
    assert_eq!(posted["userErrors"], json!([]));
}

/// Joins `user` to the free group and answers their token.
async fn member_of_user(app: &TestApp, user: &entity::user::Model, group: &Value) -> String {
    let token = app.token(user.id);
    let join = r#"mutation($g: ID!) { joinGroup(input: {group: $g}) { userErrors { code } } }"#;
    app.mutate(&token, join, json!({ "g": group })).await;
    token
}

#[tokio::test]
async fn removed_members_lose_their_membership_and_may_not_come_back() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (_, _, owner) = creator(&app, "Host").await;
    let create = r#"mutation($p: Int!) { createGroup(input: {name: "私董会", priceFen: $p, membershipDays: 365}) { group { id } } }"#;
    let free = app.mutate(&owner, create, json!({ "p": 0 })).await["group"]["id"].clone();
    let paid = app.mutate(&owner, create, json!({ "p": 99_900 })).await["group"]["id"].clone();
    let troll = fixture.user("troll", Role::Learner).await;
    let troll_token = member_of_user(&app, &troll, &free).await;
    paid_member(
        &app,
        group_key(&paid),
        troll.id,
        Utc::now() + Duration::days(300),
    )
    .await;
    let post = app
        .mutate(&owner, POST, json!({ "g": paid, "b": "本周话题" }))
        .await["post"]["id"]
        .clone();
    assert_eq!(
        app.mutate(&troll_token, REPLY, json!({ "p": post })).await["userErrors"],
        json!([])
    );

    let (_, body) = app
        .gql_as(
            &troll_token,
            REMOVE,
            json!({ "g": free, "u": gid("User", troll.id) }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "members cannot remove");
    for group in [&free, &paid] {
        let removed = app
            .mutate(
                &owner,
                REMOVE,
                json!({ "g": group, "u": gid("User", troll.id) }),
            )
            .await;
        assert_eq!(removed["userErrors"], json!([]), "{removed}");
    }

    // In the database: no membership, the paid access revoked (not refunded), two removals.
    let memberships = group_membership::Entity::find()
        .filter(group_membership::Column::UserId.eq(troll.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(memberships, 0);
    let access = entitlement::Entity::find()
        .filter(entitlement::Column::UserId.eq(troll.id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(access.revoked_at.is_some());
    assert_eq!(
        entity::refund::Entity::find().count(&app.db).await.unwrap(),
        0
    );
    assert_eq!(
        group_removal::Entity::find().count(&app.db).await.unwrap(),
        2
    );

    // Through the API: no rejoining, posting or reading the paid group.
    let join = r#"mutation($g: ID!) { joinGroup(input: {group: $g}) { userErrors { code } } }"#;
    let (_, body) = app.gql_as(&troll_token, join, json!({ "g": free })).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let (_, body) = app
        .gql_as(&troll_token, POST, json!({ "g": free, "b": "我又来了" }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let read = r#"query($p: ID!) { node(id: $p) { ... on GroupPost { body locked } } }"#;
    let (_, body) = app.gql_as(&troll_token, read, json!({ "p": post })).await;
    assert_eq!(body["data"]["node"]["locked"], true, "{body}");
    assert_eq!(body["data"]["node"]["body"], Value::Null);
    let replies = r#"query($p: ID!) { node(id: $p) { ... on GroupPost { replies(first: 5) { totalCount } } } }"#;
    let (_, body) = app
        .gql_as(&troll_token, replies, json!({ "p": post }))
        .await;
    assert_eq!(
        error_code(&body),
        "FORBIDDEN",
        "replies are for members: {body}"
    );
}

#[tokio::test]
async fn members_report_posts_and_admins_resolve_them() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (_, group) = free_group(&app).await;
    let member = member_of(&app, &fixture, "member", &group).await;
    let author = member_of(&app, &fixture, "author", &group).await;
    let post = app
        .mutate(&author, POST, json!({ "g": group, "b": "加我微信" }))
        .await["post"]["id"]
        .clone();
    let report = r#"mutation($p: ID!, $r: String!) { reportPost(input: {post: $p, reason: $r}) { report { id reason } userErrors { code } } }"#;
    let blank = app
        .mutate(&member, report, json!({ "p": post, "r": "" }))
        .await;
    assert_eq!(blank["userErrors"][0]["code"], "REQUIRED");
    let first = app
        .mutate(&member, report, json!({ "p": post, "r": "广告" }))
        .await;
    let again = app
        .mutate(&member, report, json!({ "p": post, "r": "还是广告" }))
        .await;
    assert_eq!(
        first["report"]["id"], again["report"]["id"],
        "one report per reader"
    );
    assert_eq!(again["report"]["reason"], "广告");
    assert_eq!(post_report::Entity::find().count(&app.db).await.unwrap(), 1);

    let list = r#"query($open: Boolean) { postReports(first: 10, open: $open) { totalCount edges { node { id reason reporter { nickname } post { body } resolvedAt } } } }"#;
    let (_, body) = app.gql_as(&member, list, json!({ "open": true })).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "reports are for admins");
    let admin = fixture.user("admin", Role::Admin).await;
    let console = app.token_for(admin.id, zhiku::auth::tokens::Audience::Console);
    let (_, body) = app.gql_as(&console, list, json!({ "open": true })).await;
    let node = &body["data"]["postReports"]["edges"][0]["node"];
    assert_eq!(node["post"]["body"], "加我微信", "{body}");
    assert_eq!(node["reporter"]["nickname"], "nick-member");
    let resolve = r#"mutation($r: ID!) { resolveReport(input: {report: $r}) { report { resolvedAt } userErrors { code } } }"#;
    let resolved = app
        .mutate(&console, resolve, json!({ "r": node["id"] }))
        .await;
    assert!(resolved["report"]["resolvedAt"].is_string(), "{resolved}");
    let (_, body) = app.gql_as(&console, list, json!({ "open": true })).await;
    assert_eq!(body["data"]["postReports"]["totalCount"], 0);
}

#[tokio::test]
async fn a_paid_group_is_for_members_and_a_lapsed_member_sees_the_digest_titles() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (_, _, owner) = creator(&app, "Host").await;
    let create = r#"mutation { createGroup(input: {name: "投资圈", priceFen: 36500, membershipDays: 365}) { group { id } } }"#;
    let group = app.mutate(&owner, create, json!({})).await["group"]["id"].clone();
    let digest_post = app
        .mutate(
            &owner,
            POST,
            json!({ "g": group, "b": "精华：如何读财报\n第一步……" }),
        )
        .await["post"]["id"]
        .clone();
    app.mutate(&owner, POST, json!({ "g": group, "b": "日常闲聊" }))
        .await;
    let mark = r#"mutation($p: ID!) { markDigest(input: {post: $p}) { userErrors { code } } }"#;
    app.mutate(&owner, mark, json!({ "p": digest_post })).await;

    let active = fixture.user("active", Role::Learner).await;
    let lapsed = fixture.user("lapsed", Role::Learner).await;
    paid_member(
        &app,
        group_key(&group),
        active.id,
        Utc::now() + Duration::days(100),
    )
    .await;
    let ended = Utc::now() - Duration::days(3);
    paid_member(&app, group_key(&group), lapsed.id, ended).await;

    let page = r#"query($g: ID!) { node(id: $g) { ... on CommunityGroup { description
        viewerMembership { expiresAt active renewPrice { amount } }
        posts(first: 10) { totalCount edges { node { title body locked } } } } } }"#;
    let members = r#"query($g: ID!) { node(id: $g) { ... on CommunityGroup { members(first: 5) { totalCount } } } }"#;

    // The active member reads everything.
    let (_, body) = app
        .gql_as(&app.token(active.id), page, json!({ "g": group }))
        .await;
    let node = &body["data"]["node"];
    assert_eq!(node["posts"]["totalCount"], 2, "{body}");
    assert_eq!(node["viewerMembership"]["active"], true);
    let (_, body) = app
        .gql_as(&app.token(active.id), members, json!({ "g": group }))
        .await;
    assert_eq!(body["data"]["node"]["members"]["totalCount"], 2);

    // The lapsed member sees the digest's title, their membership's end and the renewal price.
    let (_, body) = app
        .gql_as(&app.token(lapsed.id), page, json!({ "g": group }))
        .await;
    let node = &body["data"]["node"];
    assert_eq!(node["posts"]["totalCount"], 1, "{body}");
    let preview = &node["posts"]["edges"][0]["node"];
    assert_eq!(preview["title"], "精华：如何读财报");
    assert_eq!(preview["body"], Value::Null);
    assert_eq!(preview["locked"], true);
    assert_eq!(node["viewerMembership"]["active"], false);
    assert_eq!(node["viewerMembership"]["renewPrice"]["amount"], 36500);
    let expires: DateTime<Utc> = node["viewerMembership"]["expiresAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((expires - ended).num_seconds().abs() < 2);
    let (_, body) = app
        .gql_as(&app.token(lapsed.id), members, json!({ "g": group }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let reply = app
        .gql_as(&app.token(lapsed.id), REPLY, json!({ "p": digest_post }))
        .await
        .1;
    assert_eq!(error_code(&reply), "FORBIDDEN");

    // Anonymous: the same preview, no membership; the owner sees all.
    let body = app.gql(page, json!({ "g": group })).await;
    assert_eq!(body["data"]["node"]["posts"]["totalCount"], 1);
    assert_eq!(body["data"]["node"]["viewerMembership"], Value::Null);
    let (_, body) = app.gql_as(&owner, page, json!({ "g": group })).await;
    assert_eq!(body["data"]["node"]["posts"]["totalCount"], 2);
}
