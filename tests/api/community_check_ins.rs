//! Check-in challenges through the real API, with the server's clock driven by the
//! test: one check-in per day of the group's time zone (Asia/Shanghai, so 16:00 UTC is
//! midnight), on the challenge's days only, exact under simultaneous taps, and streaks
//! and the leaderboard from the check-ins in the database.

use chrono::{DateTime, Utc};
use entity::task_check_in;
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};
use serde_json::{Value, json};

use crate::community::{free_group, member_of};
use crate::helpers::{Fixture, TestApp};

const CHECK_IN: &str = r#"mutation($t: ID!, $n: String) { checkIn(input: {task: $t, note: $n}) {
  standing { checkIns currentStreak longestStreak lastCheckInOn } userErrors { field code } } }"#;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

#[tokio::test]
async fn check_ins_count_once_a_day_across_the_shanghai_midnight() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (owner, group) = free_group(&app).await;
    let ada = member_of(&app, &fixture, "ada", &group).await;
    let bo = member_of(&app, &fixture, "bo", &group).await;
    let create = r#"mutation($g: ID!, $k: PostKind!, $s: Date!, $e: Date!) {
      createPost(input: {group: $g, body: "21天早起打卡", kind: $k, task: {startsOn: $s, endsOn: $e}}) {
        post { id task { startsOn endsOn } } userErrors { field code } } }"#;
    let not_task = app
        .mutate(
            &owner,
            create,
            json!({ "g": group, "k": "TALK", "s": "2026-12-01", "e": "2026-12-07" }),
        )
        .await;
    assert_eq!(not_task["userErrors"][0]["code"], "INVALID");
    let backwards = app
        .mutate(
            &owner,
            create,
            json!({ "g": group, "k": "TASK", "s": "2026-12-07", "e": "2026-12-01" }),
        )
        .await;
    assert_eq!(backwards["userErrors"][0]["code"], "OUT_OF_RANGE");
    let created = app
        .mutate(
            &owner,
            create,
            json!({ "g": group, "k": "TASK", "s": "2026-12-01", "e": "2026-12-07" }),
        )
        .await;
    assert_eq!(
        created["post"]["task"],
        json!({ "startsOn": "2026-12-01", "endsOn": "2026-12-07" })
    );
    let task = created["post"]["id"].clone();
    let tap = |token: &String| {
        let token = token.clone();
        let variables = json!({ "t": task, "n": "6点起床" });
        let app = &app;
        async move { app.mutate(&token, CHECK_IN, variables).await }
    };
    let code = |answer: &Value| {
        answer["userErrors"][0]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };

    // 23:59 on 30 November in Shanghai: the challenge has not started.
    app.clock.set(at("2026-11-30T15:59:00Z"));
    assert_eq!(code(&tap(&ada).await), "OUT_OF_RANGE");
    // 00:30 on 1 December in Shanghai (still 30 November in UTC): day one.
    app.clock.set(at("2026-11-30T16:30:00Z"));
    let first = tap(&ada).await;
    assert_eq!(
        first["standing"],
        json!({ "checkIns": 1, "currentStreak": 1, "longestStreak": 1, "lastCheckInOn": "2026-12-01" }),
        "{first}"
    );
    // 23:59 the same Shanghai day: once a day.
    app.clock.set(at("2026-12-01T15:59:00Z"));
    assert_eq!(code(&tap(&ada).await), "ALREADY_CHECKED_IN");
    // Five taps at once from another member: one check-in.
    let taps = futures_util::future::join_all((0..5).map(|_| tap(&bo))).await;
    assert_eq!(
        taps.iter().filter(|a| a["standing"].is_object()).count(),
        1,
        "{taps:?}"
    );
    assert_eq!(
        taps.iter()
            .filter(|a| code(a) == "ALREADY_CHECKED_IN")
            .count(),
        4
    );
    // Midnight in Shanghai: 2 December, a new day.
    app.clock.set(at("2026-12-01T16:00:00Z"));
    let second = tap(&ada).await;
    assert_eq!(second["standing"]["currentStreak"], 2, "{second}");
    assert_eq!(second["standing"]["lastCheckInOn"], "2026-12-02");
    // 3 December missed; on the 4th the streak starts again, the longest stays 2.
    app.clock.set(at("2026-12-04T01:00:00Z"));
    let fourth = tap(&ada).await;
    assert_eq!(
        fourth["standing"],
        json!({ "checkIns": 3, "currentStreak": 1, "longestStreak": 2, "lastCheckInOn": "2026-12-04" })
    );
    // After the last day, no more check-ins.
    app.clock.set(at("2026-12-07T16:00:00Z"));
    assert_eq!(code(&tap(&bo).await), "OUT_OF_RANGE");

    // In the database: one row per member and day.
    let rows = task_check_in::Entity::find()
        .order_by_asc(task_check_in::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    let days: Vec<String> = rows.iter().map(|r| r.day.to_string()).collect();
    assert_eq!(
        days,
        ["2026-12-01", "2026-12-01", "2026-12-02", "2026-12-04"]
    );
    assert_eq!(
        task_check_in::Entity::find().count(&app.db).await.unwrap(),
        4
    );

    // The leaderboard and the viewer's standing, as of 5 December (the 4th's run alive).
    app.clock.set(at("2026-12-05T02:00:00Z"));
    let board = r#"query($t: ID!) { node(id: $t) { ... on GroupPost { task { today
        viewerStanding { checkIns currentStreak }
        leaderboard(first: 10) { rank user { nickname } checkIns currentStreak longestStreak } } } } }"#;
    let (_, body) = app.gql_as(&ada, board, json!({ "t": task })).await;
    let task_view = &body["data"]["node"]["task"];
    assert_eq!(task_view["today"], "2026-12-05", "{body}");
    assert_eq!(
        task_view["viewerStanding"],
        json!({ "checkIns": 3, "currentStreak": 1 })
    );
    assert_eq!(
        task_view["leaderboard"],
        json!([
            { "rank": 1, "user": { "nickname": "nick-ada" }, "checkIns": 3, "currentStreak": 1, "longestStreak": 2 },
            { "rank": 2, "user": { "nickname": "nick-bo" }, "checkIns": 1, "currentStreak": 0, "longestStreak": 1 },
        ])
    );
}
