//! Load run: the `recommendations` resolver end to end over HTTP, with the model in memory.
//!
//! Seeds the demo data into a fresh SQLite file, starts the real app on loopback, then
//! drives `recommendations(first: 10)` as 200 seeded learners (each with their own token)
//! from 64 concurrent keep-alive connections, 10 seconds per selection: the course and
//! score; plus the predicted rating; plus the explanations (three more courses per
//! recommendation). Prints requests per second and latency percentiles of each.
//!
//! The client is hyper's bare HTTP/1.1 connection with each request's bytes prepared
//! up front, so that as little as possible of the two cores goes to the client (which
//! shares them with the server): the figures are still floors. `wrk` against `zhiku serve`
//! gives the same picture (see README).
//!
//! Run: `cargo bench --bench recommend_http`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use entity::entitlement;
use entity::enums::Role;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, header};
use hyper_util::rt::TokioIo;
use sea_orm::{EntityTrait, QuerySelect};
use zhiku::auth::tokens::Audience;
use zhiku::config::{
    AuthConfig, DatabaseConfig, Environment, PaymentConfig, RecommendConfig, Secret, ServerConfig,
};
use zhiku::startup::{Application, Settings};

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
    {
        let db = zhiku::db::connect_and_migrate(&database)
            .await
            .expect("database");
        zhiku::seed::demo(&db).await.expect("seed");
    }
    // The server as `zhiku serve` builds it, on port 0, without scheduled work.
    let settings = Settings {
        environment: Environment::Development,
        database,
        auth: AuthConfig {
            jwt_secret: Some(Secret::new("bench-secret-bench-secret-bench-secret!")),
            ..AuthConfig::default()
        },
        payments: PaymentConfig {
            reconcile_interval_secs: 0,
            ..PaymentConfig::default()
        },
        recommend: RecommendConfig {
            rebuild_seconds: 0,
            ..RecommendConfig::default()
        },
        server: ServerConfig {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            ..ServerConfig::default()
        },
    };
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
    let (status, sample) = post(
        &mut connect(address).await,
        request(full_selection, &tokens[0]),
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
        load_run(address, &tokens, name, query).await;
    }
}

/// A keep-alive HTTP/1.1 connection to the server.
async fn connect(address: SocketAddr) -> SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    sender
}

/// The request for `query` as the holder of `token`.
fn request(query: &str, token: &str) -> Request<Full<Bytes>> {
    let body = serde_json::to_vec(&serde_json::json!({ "query": query })).expect("json");
    Request::post("/graphql")
        .header(header::HOST, "127.0.0.1")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Full::new(Bytes::from(body)))
        .expect("request")
}

/// Sends one request and reads the whole answer.
async fn post(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> (u16, Bytes) {
    sender.ready().await.expect("connection");
    let response = sender.send_request(request).await.expect("response");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, body)
}

/// Drives `query` from [`CONNECTIONS`] connections for [`DURATION`], each request as the
/// next learner in turn, and prints the figures.
async fn load_run(address: SocketAddr, tokens: &[String], name: &str, query: &str) {
    // Prepared once: what a request costs the client is then a clone of shared bytes.
    let requests: Arc<Vec<Request<Full<Bytes>>>> =
        Arc::new(tokens.iter().map(|token| request(query, token)).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|worker| {
            let (requests, stop) = (Arc::clone(&requests), Arc::clone(&stop));
            tokio::spawn(async move {
                let mut sender = connect(address).await;
                let mut latencies = Vec::new();
                let mut n = worker;
                while !stop.load(Ordering::Relaxed) {
                    let prepared = &requests[n % requests.len()];
                    let mut request = Request::new(prepared.body().clone());
                    *request.method_mut() = prepared.method().clone();
                    *request.uri_mut() = prepared.uri().clone();
                    *request.headers_mut() = prepared.headers().clone();
                    let begun = Instant::now();
                    let (status, body) = post(&mut sender, request).await;
                    assert_eq!(status, 200);
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
        "recommendations over HTTP, {name}: {} requests in {:.1}s = {:.0} req/s; latency p50 {:?}, p99 {:?}",
        latencies.len(),
        elapsed,
        latencies.len() as f64 / elapsed,
        at(0.50),
        at(0.99)
    );
}
