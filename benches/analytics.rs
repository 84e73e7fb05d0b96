//! Load run: the analytics over HTTP, end to end, against the real server.
//!
//! Answers how long `creatorDashboard` and `platformStats` take (every figure selected)
//! for a month by day and a year by month, one request at a time (p50, p99, max of 20
//! after 2 warm-ups), and how fast `GET /exports/orders.csv` streams every order (rows
//! per second, and how much the process's resident memory grew meanwhile).
//!
//! Run on the demo data in a fresh SQLite file: `cargo bench --bench analytics`.
//! On a database seeded beforehand (PostgreSQL with a million orders, say):
//! `zhiku seed --demo --orders 1000000` with `DATABASE_URL` set, then
//! `ZHIKU_BENCH_DATABASE_URL=postgres://… cargo bench --bench analytics`.

mod support;

use std::time::{Duration, Instant};

use chrono::Utc;
use entity::enums::Role;
use futures_util::StreamExt;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};
use zhiku::auth::tokens::Audience;
use zhiku::config::DatabaseConfig;
use zhiku::startup::Application;

/// The allocator the `zhiku` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DASHBOARD: &str = r#"query($c: ID, $from: Date!, $to: Date!, $g: Granularity!) {
  creatorDashboard(creator: $c, range: {from: $from, to: $to}, granularity: $g) {
    buckets { date } grossSales { total { amount } series { value { amount } } }
    discounts { total { amount } } refunds { total { amount } } netRevenue { total { amount } series { value { amount } } }
    paidOrders { total series { value } } uniqueBuyers { total series { value } }
    newBuyers { total series { value } } returningBuyers { total series { value } }
    views { total series { value } } conversion { total series { value } }
    ratings { total } averageRating { total series { value } } newFollowers { total series { value } }
    newGroupMembers { total } livestreamAttendance { total }
    liveFunnel { livestream { id } viewers buyers revenue { amount } }
    topProducts { product { ... on Course { title } } sales netRevenue { amount } } } }"#;

const PLATFORM: &str = r#"query($from: Date!, $to: Date!, $g: Granularity!) {
  platformStats(range: {from: $from, to: $to}, granularity: $g) {
    gmv { total { amount } series { value { amount } } } netRevenue { total { amount } }
    refundRate { total } paidOrders { total series { value } } activeBuyers { total series { value } }
    newBuyers { total } newUsers { total } newCreators { total } views { total } conversion { total }
    topCreators { creator { displayName } sales netRevenue { amount } }
    topProducts { sales netRevenue { amount } } categories { category sales }
    recommendationFunnel { shown { total } clicked { total } bought { total } } } }"#;

/// The process's resident memory in KiB (Linux), or 0 where unknown.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn timed(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    variables: &Value,
) -> Duration {
    let begun = Instant::now();
    let body: Value = client
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let elapsed = begun.elapsed();
    assert!(body.get("errors").is_none(), "{body}");
    elapsed
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let (database, _dir) = match std::env::var("ZHIKU_BENCH_DATABASE_URL") {
        Ok(url) => (
            DatabaseConfig {
                database_url: url,
                db_max_connections: 10,
            },
            None,
        ),
        Err(_) => {
            let dir = tempfile::tempdir().expect("tempdir");
            let database = DatabaseConfig {
                database_url: format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("bench.db").display()
                ),
                db_max_connections: 10,
            };
            support::seed(&database).await;
            (database, Some(dir))
        }
    };
    let application = Application::build(&support::settings(database))
        .await
        .expect("build");
    let address = application.address().expect("address");
    let db = application.db.clone();
    let keys = application.auth.keys.clone();
    tokio::spawn(application.run_until_stopped(std::future::pending()));

    let admin: i64 = entity::user::Entity::find()
        .select_only()
        .column(entity::user::Column::Id)
        .filter(entity::user::Column::Role.eq(Role::Admin))
        .into_tuple()
        .one(&db)
        .await
        .expect("admin")
        .expect("an admin: seed the demo data");
    let token = keys
        .issue(admin, Role::Admin, Audience::Console, Utc::now())
        .expect("token");
    let orders = entity::order::Entity::find()
        .select_only()
        .column(entity::order::Column::SellerId)
        .column_as(sea_orm::sea_query::Expr::cust("COUNT(*)"), "n")
        .group_by(entity::order::Column::SellerId)
        .into_tuple::<(i64, i64)>()
        .all(&db)
        .await
        .expect("sellers");
    let total_orders: i64 = orders.iter().map(|(_, n)| n).sum();
    let (busiest, _) = orders
        .iter()
        .max_by_key(|(_, n)| *n)
        .copied()
        .expect("orders");
    let creator = zhiku::graphql::ids::encode(zhiku::graphql::ids::type_name::CREATOR, busiest);
    println!(
        "{total_orders} orders; the busiest creator sold {}",
        orders
            .iter()
            .find(|(c, _)| *c == busiest)
            .map(|(_, n)| n)
            .unwrap_or(&0)
    );

    let client = reqwest::Client::new();
    let url = format!("http://{address}/graphql");
    let today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
    let month_ago = today - chrono::Duration::days(29);
    let year_ago = today - chrono::Duration::days(364);
    let ranges = [
        ("30 days by day", month_ago, today, "DAY"),
        ("365 days by month", year_ago, today, "MONTH"),
        (
            "demo year 2026 by week",
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
            "WEEK",
        ),
    ];
    for (name, query, with_creator) in [
        ("creatorDashboard", DASHBOARD, true),
        ("platformStats", PLATFORM, false),
    ] {
        for (label, from, to, granularity) in ranges {
            let mut variables =
                json!({ "from": from.to_string(), "to": to.to_string(), "g": granularity });
            if with_creator {
                variables["c"] = json!(creator);
            }
            for _ in 0..2 {
                timed(&client, &url, &token, query, &variables).await;
            }
            let mut times: Vec<Duration> = Vec::new();
            for _ in 0..20 {
                times.push(timed(&client, &url, &token, query, &variables).await);
            }
            times.sort_unstable();
            println!(
                "{name:<17} {label:<24} p50 {:>9.2?}  p99 {:>9.2?}  max {:>9.2?}",
                times[10], times[19], times[19]
            );
        }
    }

    let before = rss_kib();
    let begun = Instant::now();
    let response = client
        .get(format!("http://{address}/exports/orders.csv"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), 200);
    let (mut rows, mut peak) = (0usize, before);
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        rows += chunk
            .expect("chunk")
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        peak = peak.max(rss_kib());
    }
    let elapsed = begun.elapsed().as_secs_f64();
    println!(
        "orders.csv: {} rows in {elapsed:.2}s = {:.0} rows/s; resident memory {} MiB before, {} MiB at most while streaming",
        rows - 1,
        (rows - 1) as f64 / elapsed,
        before / 1024,
        peak / 1024
    );
}
