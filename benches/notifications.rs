//! Throughput of WeChat Pay notifications on this machine.
//!
//! - `verify_and_decrypt`: signature check over the raw body (RSA-2048) and AES-256-GCM
//!   decryption, the CPU part of every notification;
//! - `handle_notification/sqlite`: the whole path of a first notification for a pending
//!   order (verify, decrypt, check against the order, record the event, mark paid, grant
//!   the entitlement) on a SQLite file.
//!
//! Run: `cargo bench --bench notifications`.

use chrono::Utc;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use entity::enums::{OrderStatus, ProductKind, Role};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};
use zhiku::config::{DatabaseConfig, PaymentConfig};
use zhiku::payments::crypto;
use zhiku::payments::notification::{SignatureHeaders, verify_and_decrypt};
use zhiku::payments::simulated::Simulated;
use zhiku::service::orders::Payments;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/wechatpay/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

struct Bench {
    db: DatabaseConnection,
    payments: Payments,
    simulated: Simulated,
    buyer_id: i64,
    _dir: tempfile::TempDir,
}

async fn setup() -> Bench {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = DatabaseConfig {
        database_url: format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        ),
        db_max_connections: 4,
    };
    let db = zhiku::db::connect_and_migrate(&config).await.expect("db");
    zhiku::server_settings::get_or_create(&db, zhiku::payments::SIMULATED_KEY_SETTING, || {
        Ok(fixture("platform_key.pem"))
    })
    .await
    .expect("key");
    let payments = Payments::new(&db, &PaymentConfig::default(), "wx-bench", "")
        .await
        .expect("payments");
    let keys = payments.provider.notification_keys();
    let simulated = Simulated::new(
        crypto::private_key_from_pem(&fixture("platform_key.pem")).expect("key"),
        keys.apiv3_key,
        &keys.appid,
    );
    let now = Utc::now();
    let buyer = entity::user::ActiveModel {
        role: Set(Role::Learner),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .expect("user");
    entity::user_identity::ActiveModel {
        user_id: Set(buyer.id),
        app: Set(entity::enums::IdentityApp::MiniProgram),
        openid: Set("bench-buyer".into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .expect("identity");
    Bench {
        db,
        payments,
        simulated,
        buyer_id: buyer.id,
        _dir: dir,
    }
}

/// A pending order (for a livestream ticket, which needs no product row updates) and its
/// success notification.
async fn pending_order(bench: &Bench, n: u64) -> (SignatureHeaders, String) {
    let now = Utc::now();
    let out_trade_no = format!("ZKBENCH{n:016}");
    entity::order::ActiveModel {
        out_trade_no: Set(out_trade_no.clone()),
        buyer_id: Set(bench.buyer_id),
        product_kind: Set(ProductKind::Livestream),
        product_id: Set(n as i64 + 1),
        amount_fen: Set(990),
        currency: Set("CNY".into()),
        status: Set(OrderStatus::Pending),
        idempotency_key: Set(format!("bench-{n}")),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::minutes(30)),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&bench.db)
    .await
    .expect("order");
    bench
        .simulated
        .payment_success(&out_trade_no, 990, "bench-buyer", now)
}

fn notifications(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let bench = runtime.block_on(setup());
    let keys = bench.payments.provider.notification_keys().clone();

    let mut group = c.benchmark_group("notifications");
    group.throughput(Throughput::Elements(1));
    let (headers, body) = runtime.block_on(pending_order(&bench, u64::MAX / 2));
    group.bench_function("verify_and_decrypt", |b| {
        b.iter(|| verify_and_decrypt(&keys, &headers, body.as_bytes(), Utc::now()).expect("valid"))
    });

    // Each measured notification is the first for a fresh pending order; making the
    // order is left out of the time.
    let next = std::cell::Cell::new(0u64);
    group.bench_function("handle_notification/sqlite", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let bench = &bench;
            let next = &next;
            async move {
                let mut measured = std::time::Duration::ZERO;
                for _ in 0..iters {
                    next.set(next.get() + 1);
                    let (headers, body) = pending_order(bench, next.get()).await;
                    let started = std::time::Instant::now();
                    zhiku::service::orders::handle_notification(
                        &bench.db,
                        &zhiku::service::effects::Effects::default(),
                        &bench.payments,
                        &headers,
                        body.as_bytes(),
                    )
                    .await
                    .expect("applied");
                    measured += started.elapsed();
                }
                measured
            }
        })
    });
    group.finish();
}

criterion_group!(benches, notifications);
criterion_main!(benches);
