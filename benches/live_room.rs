//! Load run: one live room with many subscribers, through the real `zhiku serve`
//! process (release build) on SQLite, with the WebSocket clients in this process.
//!
//! 1. `ZHIKU_BENCH_SUBSCRIBERS` (10,000) users subscribe to one livestream over
//!    graphql-transport-ws; the server's resident memory before and after gives the
//!    memory per idle subscriber.
//! 2. The creator sends 5 chat messages, 2 s apart; each subscriber notes when each
//!    arrived: p50/p99/max delivery latency over all deliveries, and how many arrived.
//! 3. A room of `ZHIKU_BENCH_ROOM` (2,000) subscribers gets `ZHIKU_BENCH_RATE` (200)
//!    messages a second for 10 s from 200 senders (each within the 1/s chat limit):
//!    the rate achieved, deliveries and their latency.
//!
//! Run: `cargo bench --bench live_room` (needs `ulimit -n` above the subscriber count).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::Utc;
use entity::enums::{LivestreamStatus, Role};
use entity::{creator, livestream, user};
use futures_util::{SinkExt, StreamExt};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::json;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use zhiku::auth::tokens::{Audience, TokenKeys};
use zhiku::config::{DatabaseConfig, Secret};

const SECRET: &str = "bench-secret-bench-secret-bench-secret-01";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[u128], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index] as f64 / 1000.0
}

/// Users, a creator and two live, free livestreams; returns (creator user, users, rooms).
async fn arrange(database: &DatabaseConfig, users: usize) -> (i64, Vec<i64>, [i64; 2]) {
    let db = zhiku::db::connect_and_migrate(database)
        .await
        .expect("database");
    let now = Utc::now();
    let rows: Vec<user::ActiveModel> = (0..=users)
        .map(|n| user::ActiveModel {
            nickname: Set(Some(format!("观众{n}"))),
            role: Set(if n == 0 { Role::Creator } else { Role::Learner }),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(500) {
        user::Entity::insert_many(chunk.to_vec())
            .exec(&db)
            .await
            .expect("users");
    }
    let ids: Vec<i64> = (1..=users as i64 + 1).collect();
    let host = creator::ActiveModel {
        user_id: Set(ids[0]),
        display_name: Set("主播".into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .expect("creator");
    let mut rooms = [0; 2];
    for (n, room) in rooms.iter_mut().enumerate() {
        *room = livestream::ActiveModel {
            creator_id: Set(host.id),
            title: Set(format!("压测直播 {n}")),
            status: Set(LivestreamStatus::Live),
            scheduled_start: Set(now),
            started_at: Set(Some(now)),
            price_fen: Set(0),
            peak_viewers: Set(0),
            created_at: Set(now),
            stream_name: Set(Some(format!("zkbench{n}"))),
            ..Default::default()
        }
        .insert(&db)
        .await
        .expect("livestream")
        .id;
    }
    (ids[0], ids[1..].to_vec(), rooms)
}

/// One subscriber: connects, subscribes, and reports the latency of every chat message
/// (whose body is its send time in microseconds) until `stop`.
async fn subscriber(
    address: std::net::SocketAddr,
    token: String,
    livestream: String,
    subscribed: Arc<AtomicUsize>,
    latencies: mpsc::UnboundedSender<(u128, u128)>,
) {
    let mut request = format!("ws://{address}/graphql")
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let Ok((mut socket, _)) = tokio_tungstenite::connect_async(request).await else {
        eprintln!("a connection failed");
        return;
    };
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription($l: ID!) { livestreamEvents(livestream: $l) { sequence kind ... on LivestreamMessagePosted { message { body author { nickname } } } } }",
        "variables": { "l": livestream } } });
    for message in [init, subscribe] {
        if socket
            .send(Message::Text(message.to_string().into()))
            .await
            .is_err()
        {
            return;
        }
    }
    subscribed.fetch_add(1, Ordering::Relaxed);
    while let Some(Ok(frame)) = socket.next().await {
        if let Message::Text(text) = frame
            && let Some(start) = text.find("\"body\":\"")
        {
            let rest = &text[start + 8..];
            if let Some(sent) = rest.split('"').next().and_then(|b| b.parse::<u128>().ok()) {
                let _ = latencies.send((sent, now_micros().saturating_sub(sent)));
            }
        }
    }
}

async fn send_message(
    client: &reqwest::Client,
    address: std::net::SocketAddr,
    token: &str,
    livestream: &str,
    id: &str,
) -> bool {
    let body = json!({
        "query": "mutation($l: ID!, $b: String!, $c: String!) { sendLivestreamMessage(input: {livestream: $l, body: $b, clientMessageId: $c}) { message { id } userErrors { code } } }",
        "variables": { "l": livestream, "b": now_micros().to_string(), "c": id }
    });
    match client
        .post(format!("http://{address}/graphql"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
    {
        Ok(response) => response
            .json::<serde_json::Value>()
            .await
            .map(|v| v["data"]["sendLivestreamMessage"]["message"]["id"].is_string())
            .unwrap_or(false),
        Err(_) => false,
    }
}

async fn viewer_count(
    client: &reqwest::Client,
    address: std::net::SocketAddr,
    token: &str,
    livestream: &str,
) -> i64 {
    let body = json!({ "query": "query($id: ID!) { node(id: $id) { ... on Livestream { viewerCount } } }", "variables": { "id": livestream } });
    let Ok(response) = client
        .post(format!("http://{address}/graphql"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
    else {
        return -1;
    };
    response
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|v| v["data"]["node"]["viewerCount"].as_i64())
        .unwrap_or(-1)
}

/// Opens `users.len()` subscriptions to a room and waits until the server counts them.
async fn fill_room(
    address: std::net::SocketAddr,
    keys: &TokenKeys,
    users: &[i64],
    room: &str,
    host_token: &str,
    client: &reqwest::Client,
) -> (
    Vec<tokio::task::JoinHandle<()>>,
    mpsc::UnboundedReceiver<(u128, u128)>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let subscribed = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    let started = Instant::now();
    for chunk in users.chunks(250) {
        for &user in chunk {
            let token = keys
                .issue(user, Role::Learner, Audience::MiniProgram, Utc::now())
                .expect("token");
            tasks.push(tokio::spawn(subscriber(
                address,
                token,
                room.to_owned(),
                Arc::clone(&subscribed),
                tx.clone(),
            )));
        }
        while subscribed.load(Ordering::Relaxed) < tasks.len() * 95 / 100 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let counted = viewer_count(client, address, host_token, room).await;
        if counted >= users.len() as i64 || Instant::now() > deadline {
            println!(
                "  {} subscribers connected and counted ({} by the server) in {:.1} s",
                users.len(),
                counted,
                started.elapsed().as_secs_f64()
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    (tasks, rx)
}

/// The deliveries received so far: (send time, latency) in microseconds.
fn drain_timed(rx: &mut mpsc::UnboundedReceiver<(u128, u128)>) -> Vec<(u128, u128)> {
    let mut all = Vec::new();
    while let Ok(delivery) = rx.try_recv() {
        all.push(delivery);
    }
    all
}

/// The latencies of the deliveries received so far, sorted.
fn drain(rx: &mut mpsc::UnboundedReceiver<(u128, u128)>) -> Vec<u128> {
    let mut all: Vec<u128> = drain_timed(rx).into_iter().map(|(_, l)| l).collect();
    all.sort_unstable();
    all
}

/// Latency by the second the message was sent in: a backlog that grows shows here.
fn report_by_second(deliveries: &[(u128, u128)], started_micros: u128) {
    let mut seconds: Vec<Vec<u128>> = vec![Vec::new(); 11];
    for &(sent, latency) in deliveries {
        let second = (sent.saturating_sub(started_micros) / 1_000_000) as usize;
        seconds[second.min(10)].push(latency);
    }
    for (second, latencies) in seconds.iter_mut().enumerate() {
        if latencies.is_empty() {
            continue;
        }
        latencies.sort_unstable();
        println!(
            "    sent in second {second}: {} deliveries, p50 {:.0} ms, p99 {:.0} ms",
            latencies.len(),
            percentile(latencies, 0.50),
            percentile(latencies, 0.99)
        );
    }
}

fn report(label: &str, latencies: &[u128], expected: usize) {
    println!(
        "  {label}: {} of {} deliveries, latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        expected,
        percentile(latencies, 0.50),
        percentile(latencies, 0.99),
        percentile(latencies, 1.0)
    );
}

#[tokio::main]
async fn main() {
    let subscribers = env_usize("ZHIKU_BENCH_SUBSCRIBERS", 10_000);
    let room_size = env_usize("ZHIKU_BENCH_ROOM", 2_000).min(subscribers);
    let rate = env_usize("ZHIKU_BENCH_RATE", 200).min(room_size);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    let database = DatabaseConfig {
        database_url: url.clone(),
        db_max_connections: 10,
    };
    let (host, users, rooms) = arrange(&database, subscribers).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_zhiku"))
        .env("RUST_LOG", "warn")
        .env("ZHIKU_JWT_SECRET", SECRET)
        .env("ZHIKU_RECOMMEND_REBUILD_SECONDS", "0")
        .args([
            "--database-url",
            &url,
            "serve",
            "--listen",
            &address.to_string(),
        ])
        .spawn()
        .expect("zhiku serve");
    let client = reqwest::Client::new();
    let keys = TokenKeys::new(&Secret::new(SECRET), chrono::Duration::hours(2)).expect("keys");
    let host_token = keys
        .issue(host, Role::Creator, Audience::Console, Utc::now())
        .expect("token");
    while client
        .get(format!("http://{address}/healthz"))
        .send()
        .await
        .is_err()
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let room = |n: usize| zhiku::graphql::ids::encode("Livestream", rooms[n]).to_string();

    println!(
        "live_room: one room of {subscribers} subscribers (server pid {})",
        server.id()
    );
    let before = rss_kib(server.id());
    let (tasks, mut rx) = fill_room(address, &keys, &users, &room(0), &host_token, &client).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(server.id());
    println!(
        "  server memory: {} MiB before, {} MiB with them: {:.1} KiB per idle subscriber",
        before / 1024,
        after / 1024,
        (after.saturating_sub(before)) as f64 / subscribers as f64
    );
    let _ = drain(&mut rx);
    let mut all = Vec::new();
    for n in 0..5 {
        assert!(
            send_message(
                &client,
                address,
                &host_token,
                &room(0),
                &format!("fanout-{n}")
            )
            .await,
            "send"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        let latencies = drain(&mut rx);
        report(&format!("message {}", n + 1), &latencies, subscribers);
        all.extend(latencies);
    }
    all.sort_unstable();
    report("all 5 messages", &all, subscribers * 5);
    for task in tasks {
        task.abort();
    }
    tokio::time::sleep(Duration::from_secs(3)).await;

    println!("live_room: {rate} messages/s for 10 s into a room of {room_size}");
    let members = &users[..room_size];
    let (tasks, mut rx) = fill_room(address, &keys, members, &room(1), &host_token, &client).await;
    let senders: Vec<String> = members[..rate]
        .iter()
        .map(|&user| {
            keys.issue(user, Role::Learner, Audience::MiniProgram, Utc::now())
                .expect("token")
        })
        .collect();
    let sent = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let started_micros = now_micros();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let mut sends = Vec::new();
    for second in 0..10 {
        ticker.tick().await;
        for (n, token) in senders.iter().enumerate() {
            let (client, token, sent, room) =
                (client.clone(), token.clone(), Arc::clone(&sent), room(1));
            sends.push(tokio::spawn(async move {
                // Spread over the second, as independent senders would be.
                tokio::time::sleep(Duration::from_micros((n as u64 * 1_000_000) / rate as u64))
                    .await;
                if send_message(&client, address, &token, &room, &format!("s{second}-{n}")).await {
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
    }
    for send in sends {
        let _ = send.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let deliveries = drain_timed(&mut rx);
    let mut latencies: Vec<u128> = deliveries.iter().map(|&(_, l)| l).collect();
    latencies.sort_unstable();
    let sent = sent.load(Ordering::Relaxed);
    let last_arrival = deliveries
        .iter()
        .map(|&(s, l)| s + l)
        .max()
        .unwrap_or(started_micros);
    let span = (last_arrival.saturating_sub(started_micros)) as f64 / 1e6;
    println!(
        "  {sent} of {} messages accepted; the last send answered after {elapsed:.1} s",
        rate * 10
    );
    println!(
        "  {} deliveries in {span:.1} s from the first send to the last arrival ({:.0}/s)",
        deliveries.len(),
        deliveries.len() as f64 / span
    );
    report("deliveries", &latencies, sent * room_size);
    report_by_second(&deliveries, started_micros);
    for task in tasks {
        task.abort();
    }
    let _ = server.kill();
    let _ = server.wait();
}
