//! The creators' community writes: livestream lifecycle, groups, posts, follows and
//! profiles.

use chrono::{Duration, Utc};
use entity::enums::{LivestreamStatus, Role};
use entity::{follow, group_membership, group_post, livestream};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

use crate::helpers::{Fixture, TestApp, error_code, gid};

use crate::writes::creator;

#[tokio::test]
async fn livestreams_follow_their_lifecycle() {
    let app = TestApp::spawn().await;
    let (_, _, token) = creator(&app, "Live").await;
    let scheduled = app
        .mutate(
            &token,
            r#"mutation($i: ScheduleLivestreamInput!) { scheduleLivestream(input: $i) { livestream { id status } userErrors { code } } }"#,
            json!({ "i": { "title": "答疑", "scheduledStart": (Utc::now() + Duration::days(1)).to_rfc3339(), "priceFen": 990, "playUrl": "https://live.example/1.flv" } }),
        )
        .await;
    let id = scheduled["livestream"]["id"].clone();
    let step = |name: &str| {
        format!(
            r#"mutation($l: ID!) {{ {name}(input: {{livestream: $l}}) {{ livestream {{ status playUrl }} userErrors {{ code }} }} }}"#
        )
    };
    let end = r#"mutation($l: ID!) { endLivestream(input: {livestream: $l, replayUrl: "https://media.example/r.m3u8"}) { livestream { status replayUrl } userErrors { code } } }"#;
    // Cannot end what has not started.
    let early = app.mutate(&token, end, json!({ "l": id })).await;
    assert_eq!(early["userErrors"][0]["code"], "INVALID_STATE");
    let live = app
        .mutate(&token, &step("startLivestream"), json!({ "l": id }))
        .await;
    assert_eq!(live["livestream"]["status"], "LIVE");
    assert_eq!(
        live["livestream"]["playUrl"], "https://live.example/1.flv",
        "the host sees the stream"
    );
    let cancel = app
        .mutate(&token, &step("cancelLivestream"), json!({ "l": id }))
        .await;
    assert_eq!(cancel["userErrors"][0]["code"], "INVALID_STATE");
    let ended = app.mutate(&token, end, json!({ "l": id })).await;
    assert_eq!(ended["livestream"]["status"], "ENDED");
    let stored = livestream::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, LivestreamStatus::Ended);
    assert!(stored.started_at.is_some() && stored.ended_at.is_some());
    assert_eq!(
        stored.replay_url.as_deref(),
        Some("https://media.example/r.m3u8")
    );
}

#[tokio::test]
async fn groups_posts_follows_and_profiles() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (_, profile, owner_token) = creator(&app, "Host").await;
    let learner = fixture.user("member", Role::Learner).await;
    let stranger = fixture.user("stranger", Role::Learner).await;
    let learner_token = app.token(learner.id);

    let create = r#"mutation($i: CreateGroupInput!) { createGroup(input: $i) { group { id price { amount } } userErrors { code } } }"#;
    let free = app
        .mutate(&owner_token, create, json!({ "i": { "name": "免费圈" } }))
        .await["group"]["id"]
        .clone();
    let paid = app
        .mutate(
            &owner_token,
            create,
            json!({ "i": { "name": "付费圈", "priceFen": 9900, "membershipDays": 365 } }),
        )
        .await["group"]["id"]
        .clone();

    let join = r#"mutation($g: ID!) { joinGroup(input: {group: $g}) { group { id } userErrors { code } } }"#;
    let refused = app.mutate(&learner_token, join, json!({ "g": paid })).await;
    assert_eq!(refused["userErrors"][0]["code"], "PAYMENT_REQUIRED");
    for _ in 0..2 {
        let joined = app.mutate(&learner_token, join, json!({ "g": free })).await;
        assert_eq!(joined["userErrors"], json!([]));
    }
    assert_eq!(
        group_membership::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1
    );

    let post = r#"mutation($g: ID!, $b: String!) { createPost(input: {group: $g, body: $b}) { post { id body locked } userErrors { code } } }"#;
    let (_, body) = app
        .gql_as(
            &app.token(stranger.id),
            post,
            json!({ "g": free, "b": "hi" }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "strangers cannot post");
    let written = app
        .mutate(
            &learner_token,
            post,
            json!({ "g": free, "b": "第一天打卡" }),
        )
        .await;
    assert_eq!(written["post"]["body"], "第一天打卡");
    let post_id = written["post"]["id"].clone();
    let pin = r#"mutation($p: ID!) { pinPost(input: {post: $p}) { post { pinned } userErrors { code } } }"#;
    let (_, body) = app
        .gql_as(&learner_token, pin, json!({ "p": post_id }))
        .await;
    assert_eq!(
        error_code(&body),
        "FORBIDDEN",
        "only the group's creator pins"
    );
    let pinned = app.mutate(&owner_token, pin, json!({ "p": post_id })).await;
    assert_eq!(pinned["post"]["pinned"], true);
    let delete = r#"mutation($p: ID!) { deletePost(input: {post: $p}) { group { id } userErrors { code } } }"#;
    let (_, body) = app
        .gql_as(&app.token(stranger.id), delete, json!({ "p": post_id }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    app.mutate(&learner_token, delete, json!({ "p": post_id }))
        .await;
    // Deleted posts are kept, hidden, with who deleted them.
    let kept = group_post::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(kept.deleted_at.is_some());
    assert_eq!(kept.deleted_by_id, Some(learner.id));
    let leave = r#"mutation($g: ID!) { leaveGroup(input: {group: $g}) { group { id } userErrors { code } } }"#;
    app.mutate(&learner_token, leave, json!({ "g": free }))
        .await;
    assert_eq!(
        group_membership::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );

    let follow_q = r#"mutation($c: ID!) { followCreator(input: {creator: $c}) { creator { followerCount } userErrors { code } } }"#;
    let followed = app
        .mutate(
            &learner_token,
            follow_q,
            json!({ "c": gid("Creator", profile.id) }),
        )
        .await;
    assert_eq!(followed["creator"]["followerCount"], 1);
    let own = app
        .mutate(
            &owner_token,
            follow_q,
            json!({ "c": gid("Creator", profile.id) }),
        )
        .await;
    assert_eq!(own["userErrors"][0]["code"], "INVALID");
    app.mutate(
        &learner_token,
        r#"mutation($c: ID!) { unfollowCreator(input: {creator: $c}) { creator { id } } }"#,
        json!({ "c": gid("Creator", profile.id) }),
    )
    .await;
    assert_eq!(follow::Entity::find().count(&app.db).await.unwrap(), 0);

    let profile_q = r#"mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { user { nickname avatarUrl } userErrors { field code } } }"#;
    let bad = app
        .mutate(
            &learner_token,
            profile_q,
            json!({ "i": { "nickname": "", "avatarUrl": "ftp://x" } }),
        )
        .await;
    assert_eq!(bad["userErrors"].as_array().unwrap().len(), 2);
    let good = app
        .mutate(
            &learner_token,
            profile_q,
            json!({ "i": { "nickname": "小明", "avatarUrl": "https://img.example/a.png" } }),
        )
        .await;
    assert_eq!(good["user"]["nickname"], "小明");

    let become_q = r#"mutation { becomeCreator(input: {displayName: "小明老师"}) { creator { displayName user { role } } userErrors { code } } }"#;
    let became = app.mutate(&learner_token, become_q, json!({})).await;
    assert_eq!(became["creator"]["user"]["role"], "CREATOR");
    let twice = app.mutate(&learner_token, become_q, json!({})).await;
    assert_eq!(twice["userErrors"][0]["code"], "INVALID_STATE");
    let viewer = app
        .gql_as(
            &learner_token,
            "{ viewer { role creator { displayName } } }",
            json!({}),
        )
        .await
        .1;
    assert_eq!(
        viewer["data"]["viewer"]["creator"]["displayName"],
        "小明老师"
    );
}
