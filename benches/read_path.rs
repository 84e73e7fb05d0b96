//! Load run: the read path (the lists every client asks for) end to end over HTTP.
//!
//! Seeds the demo data, starts the real server on loopback as `zhiku serve` builds it,
//! and drives each query below from 32 keep-alive connections for 5 seconds, on SQLite
//! and, when `ZHIKU_TEST_DATABASE_URL` names a PostgreSQL server, on a fresh database
//! there too. Prints requests per second, p50 and p99 of each, and each query's rate as
//! a ratio to `{ __typename }` in the same run (what a request costs with no data).
//!
//! Run: `cargo bench --bench read_path` (PostgreSQL too:
//! `ZHIKU_TEST_DATABASE_URL=postgres://zhiku:zhiku@127.0.0.1:54329/zhiku cargo bench --bench read_path`).
//! `ZHIKU_BENCH_SECONDS` changes the time per query, `ZHIKU_BENCH_ONLY=text` runs only
//! the queries whose name contains the text (and `{ __typename }`, the yardstick), and
//! `ZHIKU_DB_MAX_CONNECTIONS` the pool size (10, the server's default), and
//! `ZHIKU_READ_CACHE_TTL_MS=0` turns the read cache and kept answers off (what a request
//! costs when nothing is shared).

mod support;

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use entity::enums::Role;
use entity::order;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QuerySelect, Statement};
use zhiku::auth::tokens::Audience;
use zhiku::config::DatabaseConfig;
use zhiku::graphql::ids::{self, type_name};
use zhiku::startup::Application;

/// The allocator the `zhiku` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONNECTIONS: usize = 32;

/// Who asks a query.
#[derive(Clone, Copy)]
enum Asker {
    Anonymous,
    Admin,
    Learner,
}

/// The queries measured: a bare request, then the lists by how often clients ask them.
const QUERIES: [(&str, Asker, &str); 6] = [
    ("{ __typename }", Asker::Anonymous, "{ __typename }"),
    (
        "courses(first:20) with creator",
        Asker::Anonymous,
        "{ courses(first: 20) { edges { node { title creator { displayName } } } } }",
    ),
    (
        "admin courses(first:100) with creator, lessons, ratingSummary, salesCount",
        Asker::Admin,
        "{ courses(first: 100) { totalCount edges { node { id title salesCount creator { displayName } lessons { id title } ratingSummary { average count } } } } }",
    ),
    (
        "node(id:) course with lessons",
        Asker::Anonymous,
        "{ node(id: \"$COURSE\") { ... on Course { title price { amount } lessons { id title kind durationSeconds } } } }",
    ),
    (
        "creators(first:20) with courses(first:5)",
        Asker::Anonymous,
        "{ creators(first: 20) { edges { node { displayName courses(first: 5) { edges { node { title } } } } } } }",
    ),
    (
        "viewer orders(first:20) with product",
        Asker::Learner,
        "{ viewer { orders(first: 20) { edges { node { amount { amount } product { ... on Course { title } } } } } } }",
    ),
];

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let sqlite = DatabaseConfig {
            database_url: format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()),
            db_max_connections: pool_size(),
        };
        measure("SQLite", sqlite).await;
        if let Ok(url) = std::env::var("ZHIKU_TEST_DATABASE_URL") {
            let (database, drop) = fresh_postgres(&url).await;
            measure("PostgreSQL", database).await;
            drop.await;
        }
    });
}

/// The pool size: `ZHIKU_DB_MAX_CONNECTIONS`, else the server's default.
fn pool_size() -> u32 {
    std::env::var("ZHIKU_DB_MAX_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
}

/// Seeds `database`, serves it and load-runs every query, printing the figures.
async fn measure(backend: &str, database: DatabaseConfig) {
    let seconds = std::env::var("ZHIKU_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    support::seed(&database).await;
    let application = Application::build(&support::settings(database))
        .await
        .expect("build");
    let keys = &application.auth.keys;
    let admin = keys
        .issue(1, Role::Admin, Audience::Console, Utc::now())
        .expect("token");
    // Learners with the most orders, so that their list is a full page.
    let mut orders_of: HashMap<i64, usize> = HashMap::new();
    let buyer_of_each: Vec<i64> = order::Entity::find()
        .select_only()
        .column(order::Column::BuyerId)
        .into_tuple()
        .all(&application.db)
        .await
        .expect("buyers");
    for buyer in buyer_of_each {
        *orders_of.entry(buyer).or_default() += 1;
    }
    let mut buyers: Vec<(i64, usize)> = orders_of.into_iter().collect();
    buyers.sort_unstable_by_key(|&(id, n)| (std::cmp::Reverse(n), id));
    let buyers: Vec<i64> = buyers.into_iter().take(50).map(|(id, _)| id).collect();
    let learners: Vec<String> = buyers
        .iter()
        .map(|&id| {
            keys.issue(id, Role::Learner, Audience::MiniProgram, Utc::now())
                .expect("token")
        })
        .collect();
    let address = application.address().expect("address");
    tokio::spawn(application.run_until_stopped(std::future::pending()));

    println!("\n{backend}, {CONNECTIONS} connections, {seconds} s per query:");
    let only = std::env::var("ZHIKU_BENCH_ONLY").ok();
    let mut bare = None;
    for (name, asker, query) in QUERIES {
        if bare.is_some()
            && only
                .as_ref()
                .is_some_and(|only| !name.contains(only.as_str()))
        {
            continue;
        }
        let requests = match asker {
            Asker::Anonymous => (1..=100)
                .map(|course| {
                    let id = ids::encode(type_name::COURSE, course);
                    support::request(&query.replace("$COURSE", &id), None)
                })
                .collect(),
            Asker::Admin => vec![support::request(query, Some(&admin))],
            Asker::Learner => learners
                .iter()
                .map(|token| support::request(query, Some(token)))
                .collect(),
        };
        let figures =
            support::load_run(address, requests, CONNECTIONS, Duration::from_secs(seconds)).await;
        let base = *bare.get_or_insert(figures.per_second);
        println!(
            "  {name:<76} {figures}  {:.3} × typename",
            figures.per_second / base
        );
    }
}

/// Creates a fresh database on the PostgreSQL server at `url`; answers its settings and
/// a future that drops it.
async fn fresh_postgres(url: &str) -> (DatabaseConfig, impl std::future::Future<Output = ()>) {
    let name = format!("zhiku_bench_{}", std::process::id());
    let admin = sea_orm::Database::connect(url).await.expect("postgres");
    let run = move |sql: String| {
        let admin = admin.clone();
        async move {
            admin
                .execute_raw(Statement::from_string(DbBackend::Postgres, sql))
                .await
                .expect("statement");
        }
    };
    run(format!("DROP DATABASE IF EXISTS {name}")).await;
    run(format!("CREATE DATABASE {name}")).await;
    let base = url.rsplit_once('/').map_or(url, |(base, _)| base);
    let database = DatabaseConfig {
        database_url: format!("{base}/{name}"),
        db_max_connections: pool_size(),
    };
    let drop = async move {
        run(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
    };
    (database, drop)
}
