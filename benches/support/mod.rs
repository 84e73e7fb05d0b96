//! What the HTTP load runs share: the server as `zhiku serve` builds it on the seeded
//! demo data, and a client of bare keep-alive HTTP/1.1 connections.
//!
//! The client is hyper's bare HTTP/1.1 connection with each request's bytes prepared
//! up front, so that as little as possible of the two cores goes to the client (which
//! shares them with the server): the figures are floors. `wrk` against `zhiku serve`
//! gives the same picture (see README).

#![allow(dead_code)] // each bench uses its own part of this module

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, header};
use hyper_util::rt::TokioIo;
use zhiku::config::{
    AuthConfig, DatabaseConfig, Environment, PaymentConfig, RecommendConfig, Secret, ServerConfig,
};
use zhiku::startup::Settings;

/// The server's settings for a load run on `database`: port 0, no scheduled work, and
/// the read cache's time to live from `ZHIKU_READ_CACHE_TTL_MS` when set (0 measures
/// every request reading the database and resolving every field).
pub fn settings(database: DatabaseConfig) -> Settings {
    let defaults = ServerConfig::default();
    let read_cache_ttl_ms = std::env::var("ZHIKU_READ_CACHE_TTL_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(defaults.read_cache_ttl_ms);
    Settings {
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
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            read_cache_ttl_ms,
            ..defaults
        },
    }
}

/// Migrates `database` and writes the demo data into it.
pub async fn seed(database: &DatabaseConfig) {
    let db = zhiku::db::connect_and_migrate(database)
        .await
        .expect("database");
    zhiku::seed::demo(&db).await.expect("seed");
    db.close().await.expect("close");
}

/// A keep-alive HTTP/1.1 connection to the server.
pub async fn connect(address: SocketAddr) -> SendRequest<Full<Bytes>> {
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

/// The GraphQL request for `query`, as the holder of `token` when given.
pub fn request(query: &str, token: Option<&str>) -> Request<Full<Bytes>> {
    let body = serde_json::to_vec(&serde_json::json!({ "query": query })).expect("json");
    let mut builder = Request::post("/graphql")
        .header(header::HOST, "127.0.0.1")
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder.body(Full::new(Bytes::from(body))).expect("request")
}

/// Sends one request and reads the whole answer.
pub async fn post(
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

/// What one load run measured.
#[derive(Debug, Clone, Copy)]
pub struct Figures {
    /// Requests answered.
    pub requests: usize,
    /// Requests per second.
    pub per_second: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th-percentile latency.
    pub p99: Duration,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>8.0} req/s  p50 {:>9.2?}  p99 {:>9.2?}  ({} requests)",
            self.per_second, self.p50, self.p99, self.requests
        )
    }
}

/// Sends the prepared `requests` in turn from `connections` keep-alive connections for
/// `duration`; every answer must be a 200 without errors.
pub async fn load_run(
    address: SocketAddr,
    requests: Vec<Request<Full<Bytes>>>,
    connections: usize,
    duration: Duration,
) -> Figures {
    let requests = Arc::new(requests);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|worker| {
            let (requests, stop) = (Arc::clone(&requests), Arc::clone(&stop));
            tokio::spawn(async move {
                let mut sender = connect(address).await;
                let mut latencies = Vec::new();
                let mut n = worker;
                while !stop.load(Ordering::Relaxed) {
                    // What a request costs the client is a clone of shared bytes.
                    let prepared = &requests[n % requests.len()];
                    let mut request = Request::new(prepared.body().clone());
                    *request.method_mut() = prepared.method().clone();
                    *request.uri_mut() = prepared.uri().clone();
                    *request.headers_mut() = prepared.headers().clone();
                    let begun = Instant::now();
                    let (status, body) = post(&mut sender, request).await;
                    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                    assert!(
                        !body.windows(10).any(|w| w == b"\"errors\":["),
                        "{}",
                        String::from_utf8_lossy(&body)
                    );
                    latencies.push(begun.elapsed());
                    n += connections;
                }
                latencies
            })
        })
        .collect();
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("worker"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Figures {
        requests: latencies.len(),
        per_second: latencies.len() as f64 / elapsed,
        p50: at(0.50),
        p99: at(0.99),
    }
}
