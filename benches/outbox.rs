//! Load run: the outbox worker drains 10,000 queued "payment succeeded" messages against a
//! local server that answers as WeChat's stable_token and subscribe-message APIs do, on a
//! SQLite file, with the production batch size and concurrency. Prints the time taken,
//! the rate, and how many access tokens were fetched (the target: under 10 s, one token).
//!
//! Run: `cargo bench --bench outbox` (`ZHIKU_BENCH_MESSAGES` to change the count).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;
use chrono::Utc;
use entity::enums::{IdentityApp, MessageKind, OutboxStatus, Role};
use entity::{message_consent, outbox_message, user, user_identity};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use zhiku::config::{DatabaseConfig, MessagesConfig, Secret};
use zhiku::messaging::{AppCredentials, Messenger};
use zhiku::service::messages::{Outbox, Templates};

const TEMPLATE: &str = "TPL-PAID";

#[tokio::main]
async fn main() {
    let count: usize = std::env::var("ZHIKU_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let database = DatabaseConfig {
        database_url: format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("outbox.db").display()
        ),
        db_max_connections: 10,
    };
    let db = zhiku::db::connect_and_migrate(&database)
        .await
        .expect("database");
    let now = Utc::now();
    let ids: Vec<i64> = (1..=count as i64).collect();
    for chunk in ids.chunks(500) {
        user::Entity::insert_many(chunk.iter().map(|_| user::ActiveModel {
            role: Set(Role::Learner),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }))
        .exec(&db)
        .await
        .expect("users");
        user_identity::Entity::insert_many(chunk.iter().map(|&id| user_identity::ActiveModel {
            user_id: Set(id),
            app: Set(IdentityApp::MiniProgram),
            openid: Set(format!("openid-{id}")),
            created_at: Set(now),
            ..Default::default()
        }))
        .exec(&db)
        .await
        .expect("identities");
        message_consent::Entity::insert_many(chunk.iter().map(|&id| {
            message_consent::ActiveModel {
                user_id: Set(id),
                template_id: Set(TEMPLATE.into()),
                remaining: Set(1),
                updated_at: Set(now),
                ..Default::default()
            }
        }))
        .exec(&db)
        .await
        .expect("consents");
        let values = serde_json::to_string(&BTreeMap::from([
            ("thing1", "从零开始的 Rust 异步编程"),
            ("amount2", "99.00元"),
        ]))
        .expect("values");
        outbox_message::Entity::insert_many(chunk.iter().map(|&id| outbox_message::ActiveModel {
            idempotency_key: Set(format!("PAYMENT_SUCCEEDED:{id}:{id}")),
            user_id: Set(id),
            kind: Set(MessageKind::PaymentSucceeded),
            subject_id: Set(id),
            values: Set(values.clone()),
            status: Set(OutboxStatus::Pending),
            attempts: Set(0),
            next_attempt_at: Set(now),
            created_at: Set(now),
            ..Default::default()
        }))
        .exec(&db)
        .await
        .expect("outbox");
    }

    let tokens = Arc::new(AtomicUsize::new(0));
    let sends = Arc::new(AtomicUsize::new(0));
    let (token_count, send_count) = (Arc::clone(&tokens), Arc::clone(&sends));
    let fake = Router::new()
        .route(
            "/cgi-bin/stable_token",
            post(move || {
                token_count.fetch_add(1, Ordering::Relaxed);
                async { r#"{"access_token":"TOKEN","expires_in":7200}"#.to_owned() }
            }),
        )
        .route(
            "/cgi-bin/message/subscribe/send",
            post(move || {
                send_count.fetch_add(1, Ordering::Relaxed);
                async { r#"{"errcode":0,"errmsg":"ok","msgid":1}"#.to_owned() }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, fake).await.expect("fake") });

    let config = MessagesConfig {
        mp_templates: format!("PAYMENT_SUCCEEDED={TEMPLATE}"),
        ..MessagesConfig::default()
    };
    let credentials = AppCredentials {
        appid: "wx-bench".into(),
        secret: Some(Secret::new("bench-secret")),
    };
    let messenger = Messenger::new(
        &base,
        Duration::from_secs(5),
        credentials.clone(),
        credentials,
    )
    .expect("messenger");
    let outbox = Outbox::new(
        db.clone(),
        Arc::new(messenger),
        Templates::from_config(&config).expect("templates"),
        &config,
    );

    let started = Instant::now();
    let mut passes = 0;
    loop {
        let done = outbox.deliver_due(Utc::now()).await.expect("deliver");
        passes += 1;
        if done.claimed == 0 {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let sent = outbox_message::Entity::find()
        .filter(outbox_message::Column::Status.eq(OutboxStatus::Sent))
        .count(&db)
        .await
        .expect("count");
    println!(
        "outbox: {sent} of {count} messages sent in {elapsed:.2} s ({:.0}/s) in {passes} passes; \
         {} sends reached WeChat; {} access-token requests",
        sent as f64 / elapsed,
        sends.load(Ordering::Relaxed),
        tokens.load(Ordering::Relaxed)
    );
}
