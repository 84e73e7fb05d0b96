//! Load run: the `recommendations` resolver end to end over HTTP, with the model in memory.
//!
//! Seeds the demo data into a fresh SQLite file, starts the real app on loopback, then
//! drives `recommendations(first: 10)` as 200 seeded learners (each with their own token)
//! from 64 concurrent keep-alive connections, 10 seconds per selection: the course and
//! score; plus the predicted rating; plus the explanations (three more courses per
//! recommendation). Prints requests per second and latency percentiles of each.
//!
//! The client and the server set-up are in `support` (shared with `read_path`).
//!
//! Run: `cargo bench --bench recommend_http`.

mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use entity::entitlement;
use entity::enums::Role;
use sea_orm::{EntityTrait, QuerySelect};
use zhiku::auth::tokens::Audience;
use zhiku::config::DatabaseConfig;
use zhiku::startup::Application;

/// The allocator the `zhiku` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The selections measured, from what a course card needs to everything.
const QUERIES: [(&str, &str); 3] = [
    (
        "course and score",
        "{ recommendations(first: 10) { score course { id title } } }",
    ),
    (
        "with predictedRating",
        "{ recommendations(first: 10) { score predictedRating course { id title } } }",
    ),
    (
        "with predictedRating and because",
        "{ recommendations(first: 10) { score predictedRating course { id title category } because { id title } } }",
    ),
];
const CONNECTIONS: usize = 64;
const DURATION: Duration = Duration::from_secs(10);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = DatabaseConfig {
        database_url: format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()),
        db_max_connections: 8,
    };
    support::seed(&database).await;
    // The server as `zhiku serve` builds it, on port 0, without scheduled work.
    let settings = support::settings(database);
    let application = Application::build(&settings).await.expect("build");
    println!("model: {:?}", application.recommendations.stats());
    let buyers: Vec<i64> = entitlement::Entity::find()
        .select_only()
        .column(entitlement::Column::UserId)
        .distinct()
        .limit(200)
        .into_tuple()
        .all(&application.db)
        .await
        .expect("buyers");
    let tokens: Arc<Vec<String>> = Arc::new(
        buyers
            .iter()
            .map(|&id| {
                application
                    .auth
                    .keys
                    .issue(id, Role::Learner, Audience::MiniProgram, Utc::now())
                    .expect("token")
            })
            .collect(),
    );
    let listener_address = application.address().expect("address");
    tokio::spawn(application.run_until_stopped(std::future::pending()));

    let address = listener_address;
    let full_selection = QUERIES[QUERIES.len() - 1].1;
    let (status, sample) = support::post(
        &mut support::connect(address).await,
        support::request(full_selection, Some(&tokens[0])),
    )
    .await;
    println!(
        "sample answer ({status}): {}",
        String::from_utf8_lossy(&sample)
            .chars()
            .take(400)
            .collect::<String>()
    );
    for (name, query) in QUERIES {
        let requests = tokens
            .iter()
            .map(|token| support::request(query, Some(token)))
            .collect();
        let figures = support::load_run(address, requests, CONNECTIONS, DURATION).await;
        println!("recommendations over HTTP, {name}: {figures}");
    }
}
