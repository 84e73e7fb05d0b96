//! Load run: the `recommendations` resolver end to end over HTTP, with the model in memory.
//!
//! Seeds the demo data into a fresh SQLite file, starts the real app on loopback, then
//! drives `recommendations(first: 10)` (courses, scores, predicted ratings, explanations)
//! as seeded learners from 64 concurrent keep-alive connections for 10 seconds, and prints
//! requests per second and latency percentiles. Client and server share this machine's
//! cores, so the figure is a floor. `wrk` against `zhiku serve` measures the server alone
//! (see README).
//!
//! Run: `cargo bench --bench recommend_http`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use entity::entitlement;
use entity::enums::Role;
use sea_orm::{EntityTrait, QuerySelect};
use zhiku::auth::AuthState;
use zhiku::auth::tokens::Audience;
use zhiku::config::{
    AuthConfig, DatabaseConfig, Environment, PaymentConfig, RecommendConfig, Secret, ServerConfig,
};
use zhiku::payments::Payments;
use zhiku::service::recommendations::Recommendations;
use zhiku::telemetry::Metrics;

/// The allocator the `zhiku` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const QUERY: &str = "{ recommendations(first: 10) { score predictedRating course { id title category } because { id title } } }";
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
    let metrics = Metrics::new();
    let db = zhiku::open_database(&database, &metrics)
        .await
        .expect("database");
    zhiku::seed::demo(&db).await.expect("seed");
    let auth_config = AuthConfig {
        jwt_secret: Some(Secret::new("bench-secret-bench-secret-bench-secret!")),
        ..AuthConfig::default()
    };
    let auth = AuthState::new(&db, &auth_config, Environment::Development)
        .await
        .expect("auth");
    let payments = Payments::new(&db, &PaymentConfig::default(), "wx-bench")
        .await
        .expect("payments");
    let recommendations = Recommendations::start(&db, RecommendConfig::default().engine())
        .await
        .expect("recommendations");
    println!("model: {:?}", recommendations.stats());
    let buyers: Vec<i64> = entitlement::Entity::find()
        .select_only()
        .column(entitlement::Column::UserId)
        .distinct()
        .limit(200)
        .into_tuple()
        .all(&db)
        .await
        .expect("buyers");
    let tokens: Arc<Vec<String>> = Arc::new(
        buyers
            .iter()
            .map(|&id| {
                auth.keys
                    .issue(id, Role::Learner, Audience::MiniProgram, Utc::now())
                    .expect("token")
            })
            .collect(),
    );
    let app = zhiku::app(
        db,
        auth,
        payments,
        &ServerConfig::default(),
        metrics,
        recommendations,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = reqwest::Client::new();
    let sample = client
        .post(&url)
        .bearer_auth(&tokens[0])
        .json(&serde_json::json!({ "query": QUERY }))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    println!(
        "sample answer: {}",
        sample.chars().take(400).collect::<String>()
    );

    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|worker| {
            let (client, url, tokens, stop) = (
                client.clone(),
                url.clone(),
                Arc::clone(&tokens),
                Arc::clone(&stop),
            );
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut n = worker;
                while !stop.load(Ordering::Relaxed) {
                    let begun = Instant::now();
                    let response = client
                        .post(&url)
                        .bearer_auth(&tokens[n % tokens.len()])
                        .json(&serde_json::json!({ "query": QUERY }))
                        .send()
                        .await
                        .expect("request");
                    assert!(response.status().is_success());
                    let body = response.bytes().await.expect("body");
                    assert!(!body.starts_with(b"{\"errors\""));
                    latencies.push(begun.elapsed());
                    n += CONNECTIONS;
                }
                latencies
            })
        })
        .collect();
    tokio::time::sleep(DURATION).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("worker"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "recommendations over HTTP: {} requests in {:.1}s = {:.0} req/s; latency p50 {:?}, p99 {:?}",
        latencies.len(),
        elapsed,
        latencies.len() as f64 / elapsed,
        at(0.50),
        at(0.99)
    );
}
