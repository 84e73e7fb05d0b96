//! The composition root: the one place where the server is put together from its
//! settings. `zhiku serve` and the test harness both build an [`Application`] here, so
//! what the tests drive is what production runs, background tasks included.
//!
//! Order of assembly: refuse a production setup that cannot take money, open and
//! migrate the database (every statement counted), sign-in keys and the WeChat client,
//! the payment provider, the recommendation model (built once before serving), the
//! post-commit effects every service publishes to, the background tasks
//! (reconciliation, scheduled model rebuilds), the routers and their listeners.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::auth::AuthState;
use crate::config::{
    AuthConfig, DatabaseConfig, Environment, PaymentConfig, RecommendConfig, ServerConfig,
};
use crate::graphql::SharedData;
use crate::graphql::response_cache::ResponseCache;
use crate::http::{AppState, Routers};
use crate::live::signing::StreamSigner;
use crate::messaging::{AppCredentials, Messenger};
use crate::realtime::Hub;
use crate::service::effects::Effects;
use crate::service::live_chat::ChatRateLimiter;
use crate::service::live_rooms::LiveRooms;
use crate::service::messages::{Outbox, Templates};
use crate::service::orders::Payments;
use crate::service::read_cache::ReadCache;
use crate::service::recommendations::Recommendations;
use crate::service::views::ViewCounter;
use crate::telemetry::Metrics;

/// What can go wrong while starting.
pub type StartupError = Box<dyn std::error::Error + Send + Sync>;

/// Everything the server is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Development or production.
    pub environment: Environment,
    /// The database.
    pub database: DatabaseConfig,
    /// Sign-in: JWT secret, token lifetimes, the WeChat login API.
    pub auth: AuthConfig,
    /// Payments: provider, merchant keys, order rules, reconciliation.
    pub payments: PaymentConfig,
    /// The recommendation engine and its rebuild schedule.
    pub recommend: RecommendConfig,
    /// Listen addresses and HTTP options.
    pub server: ServerConfig,
}

/// A built server, listening but not yet serving.
pub struct Application {
    /// The database pool.
    pub db: DatabaseConnection,
    /// Sign-in keys, the WeChat client, the actor cache.
    pub auth: AuthState,
    /// The payment provider and order rules.
    pub payments: Payments,
    /// The metrics registry.
    pub metrics: Arc<Metrics>,
    /// The recommendation model being served.
    pub recommendations: Recommendations,
    /// The subscribers to committed changes.
    pub effects: Effects,
    /// Live rooms: the hub, the stream signer, the chat limiter.
    pub live: LiveRooms,
    /// Buffered product views and live-room attendance (flushed on a timer and at stop).
    pub views: ViewCounter,
    /// The time time-bound rules act at (tests set it).
    pub clock: crate::clock::Clock,
    closing: tokio::sync::watch::Sender<bool>,
    routers: Routers,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    tasks: Vec<JoinHandle<()>>,
}

impl Application {
    /// Builds everything from the settings and binds the listeners (port 0 picks a free
    /// port: see [`Application::address`]). Background tasks start here.
    pub async fn build(settings: &Settings) -> Result<Self, StartupError> {
        if settings.environment == Environment::Production
            && let Some(problem) = settings.payments.production_problem()
        {
            return Err(format!("refusing to start in production: {problem}").into());
        }
        let metrics = Metrics::new();
        let db = crate::open_database(&settings.database, &metrics).await?;
        let auth = AuthState::new(&db, &settings.auth, settings.environment).await?;
        let payments = Payments::new(
            &db,
            &settings.payments,
            &settings.auth.wechat_appid,
            &settings.auth.oa_appid,
        )
        .await?;
        tracing::info!(provider = payments.provider.name(), "payments ready");
        let recommendations = Recommendations::start(&db, settings.recommend.engine()).await?;
        // Every subscriber to committed changes, registered once (see `service::effects`).
        let read_cache = ReadCache::new(std::time::Duration::from_millis(
            settings.server.read_cache_ttl_ms,
        ));
        let live = LiveRooms {
            hub: Hub::new(db.clone()),
            signer: Arc::new(StreamSigner::new(&settings.server.live)),
            limiter: ChatRateLimiter::default(),
        };
        let effects = Effects::new(vec![
            Arc::new(recommendations.clone()),
            Arc::new(auth.actors.clone()),
            Arc::new(read_cache.clone()),
            Arc::new(crate::service::live_rooms::RefundedTickets(
                live.hub.clone(),
            )),
        ]);
        if settings.environment == Environment::Production && !live.signer.signs() {
            tracing::warn!(
                "ZHIKU_LIVE_PUSH_KEY or ZHIKU_LIVE_PLAY_KEY is not set: stream addresses go out unsigned"
            );
        }
        let mut tasks = Vec::new();
        tasks.push(tokio::spawn(live.hub.clone().run_presence()));
        let views = ViewCounter::new();
        if settings.server.view_flush_ms > 0 {
            tasks.push(tokio::spawn(views.clone().flush_forever(
                db.clone(),
                std::time::Duration::from_millis(settings.server.view_flush_ms),
            )));
        }
        if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            tasks.push(tokio::spawn(crate::realtime::postgres::listen(
                db.clone(),
                live.hub.clone(),
            )));
        }
        if settings.recommend.rebuild_seconds > 0 {
            tasks.push(tokio::spawn(rebuild_forever(
                db.clone(),
                recommendations.clone(),
                std::time::Duration::from_secs(settings.recommend.rebuild_seconds),
            )));
        }
        if settings.payments.reconcile_interval_secs > 0 {
            tasks.push(tokio::spawn(reconcile_forever(
                db.clone(),
                effects.clone(),
                payments.clone(),
                std::time::Duration::from_secs(settings.payments.reconcile_interval_secs),
                chrono::Duration::minutes(settings.payments.reconcile_after_minutes.max(1)),
            )));
        }
        if settings.payments.payout_interval_secs > 0 {
            tasks.push(tokio::spawn(pay_out_forever(
                db.clone(),
                payments.clone(),
                std::time::Duration::from_secs(settings.payments.payout_interval_secs),
            )));
        }
        let clock = crate::clock::Clock::default();
        if settings.payments.question_sweep_secs > 0 {
            tasks.push(tokio::spawn(
                crate::service::community::questions::refund_overdue_forever(
                    db.clone(),
                    effects.clone(),
                    payments.clone(),
                    clock.clone(),
                    std::time::Duration::from_secs(settings.payments.question_sweep_secs),
                ),
            ));
        }
        let templates = Templates::from_config(&settings.server.messages)?;
        if settings.server.messages.outbox_interval_ms > 0 {
            let messenger = Messenger::new(
                &settings.auth.wechat_api_base,
                std::time::Duration::from_millis(settings.auth.wechat_timeout_ms),
                AppCredentials {
                    appid: settings.auth.wechat_appid.clone(),
                    secret: settings.auth.wechat_secret.clone(),
                },
                AppCredentials {
                    appid: settings.auth.oa_appid.clone(),
                    secret: settings.auth.oa_secret.clone(),
                },
            )
            .map_err(|error| format!("the WeChat message client: {error}"))?;
            let outbox = Outbox::new(
                db.clone(),
                Arc::new(messenger),
                templates.clone(),
                &settings.server.messages,
            );
            tasks.push(tokio::spawn(deliver_forever(
                outbox,
                settings.server.messages.outbox_batch,
                std::time::Duration::from_millis(settings.server.messages.outbox_interval_ms),
            )));
        }
        if settings.server.messages.reminder_interval_ms > 0 {
            tasks.push(tokio::spawn(remind_forever(
                db.clone(),
                std::time::Duration::from_millis(settings.server.messages.reminder_interval_ms),
            )));
        }
        let closing = tokio::sync::watch::Sender::new(false);
        let schema = crate::graphql::schema(
            SharedData {
                db: db.clone(),
                auth: auth.clone(),
                payments: payments.clone(),
                recommendations: recommendations.clone(),
                effects: effects.clone(),
                read_cache: read_cache.clone(),
                live: live.clone(),
                templates: templates.clone(),
                views: views.clone(),
                clock: clock.clone(),
            },
            &settings.server,
            settings.environment,
        );
        let routers = crate::http::router(
            AppState {
                db: db.clone(),
                auth: auth.clone(),
                payments: payments.clone(),
                schema,
                documents: Arc::default(),
                responses: Arc::new(ResponseCache::new(read_cache.clone())),
                metrics: Arc::clone(&metrics),
                recommendations: recommendations.clone(),
                effects: effects.clone(),
                read_cache,
                sockets: Arc::new(tokio::sync::Semaphore::new(
                    settings.server.live.ws_max_connections,
                )),
                ws_max_subscriptions: settings.server.live.ws_max_subscriptions.max(1),
                closing: closing.subscribe(),
            },
            settings.server.metrics_listen.is_some(),
        );
        let listener = TcpListener::bind(settings.server.listen).await?;
        let metrics_listener = match settings.server.metrics_listen {
            Some(address) => Some(TcpListener::bind(address).await?),
            None => None,
        };
        Ok(Application {
            db,
            auth,
            payments,
            metrics,
            recommendations,
            effects,
            live,
            views,
            clock,
            closing,
            routers,
            listener,
            metrics_listener,
            tasks,
        })
    }

    /// Where the public router listens.
    pub fn address(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish and stops
    /// the background tasks.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let address = self.listener.local_addr()?;
        tracing::info!(%address, "serving GraphQL at http://{address}/graphql");
        if let Some(listener) = self.metrics_listener {
            tracing::info!(address = %listener.local_addr()?, "serving /metrics");
            let metrics_router = self.routers.metrics;
            tokio::spawn(async move {
                if let Err(error) = axum::serve(listener, metrics_router).await {
                    tracing::error!(%error, "the metrics listener stopped");
                }
            });
        }
        let closing = self.closing.clone();
        let shutdown = async move {
            shutdown.await;
            // WebSockets never finish by themselves: tell them to close.
            closing.send_replace(true);
        };
        let served = axum::serve(self.listener, self.routers.public)
            .with_graceful_shutdown(shutdown)
            .await;
        for task in self.tasks {
            task.abort();
        }
        // Our viewers leave every count now rather than when the heartbeat goes stale.
        self.live.hub.withdraw().await;
        if let Err(error) = self.views.flush(&self.db).await {
            tracing::error!(?error, "the last views could not be written");
        }
        served
    }
}

/// The outbox worker: every `interval`, delivers what is due, batch after batch while
/// batches come full.
async fn deliver_forever(outbox: Outbox, batch: u64, interval: std::time::Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        loop {
            match outbox.deliver_due(chrono::Utc::now()).await {
                Ok(done) => {
                    if done.claimed > 0 {
                        tracing::info!(
                            sent = done.sent,
                            skipped = done.skipped,
                            failed = done.failed,
                            retried = done.retried,
                            "outbox delivered"
                        );
                    }
                    if (done.claimed as u64) < batch {
                        break;
                    }
                }
                Err(error) => {
                    tracing::error!(?error, "outbox delivery failed");
                    break;
                }
            }
        }
    }
}

/// The reminder task: every `interval`, write the reminders that came due.
async fn remind_forever(db: sea_orm::DatabaseConnection, interval: std::time::Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match crate::service::messages::reminders::enqueue_due(&db, chrono::Utc::now()).await {
            Ok(done) if done.starting + done.ending > 0 => {
                tracing::info!(
                    starting = done.starting,
                    ending = done.ending,
                    "reminders written"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::error!(?error, "writing reminders failed"),
        }
    }
}

/// The reconciliation task: every `interval`, ask the provider about pending orders and
/// processing refunds older than `after` (so a lost notification loses neither money
/// nor access).
/// The scheduled payout run (`ZHIKU_PAYOUT_INTERVAL_SECS`); the first run waits one
/// interval, so a restart does not pay out at once.
async fn pay_out_forever(
    db: DatabaseConnection,
    payments: Payments,
    interval: std::time::Duration,
) {
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    loop {
        ticker.tick().await;
        match crate::service::ledger::payouts::run_payouts(&db, &payments, chrono::Utc::now()).await
        {
            Ok(run) => tracing::info!(
                started = run.started,
                resumed = run.resumed,
                succeeded = run.succeeded,
                failed = run.failed,
                skipped = run.skipped,
                "payout run"
            ),
            Err(error) => tracing::error!(?error, "payout run failed"),
        }
    }
}

async fn reconcile_forever(
    db: DatabaseConnection,
    effects: Effects,
    payments: Payments,
    interval: std::time::Duration,
    after: chrono::Duration,
) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        ticker.tick().await;
        match crate::service::orders::reconcile(&db, &effects, &payments, after, chrono::Utc::now())
            .await
        {
            Ok(done) if done.changed_anything() => tracing::info!(
                completed = done.completed,
                closed = done.closed,
                refunded = done.refunded,
                refunds_settled = done.refunds_settled,
                "reconciled pending orders and refunds"
            ),
            Ok(_) => {}
            Err(error) => tracing::error!(?error, "reconciliation failed"),
        }
    }
}

/// The scheduled full rebuild of the recommendation model (the first ran at startup).
async fn rebuild_forever(
    db: DatabaseConnection,
    recommendations: Recommendations,
    interval: std::time::Duration,
) {
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    loop {
        ticker.tick().await;
        if let Err(error) = recommendations.rebuild(&db).await {
            tracing::error!(?error, "recommendation rebuild failed");
        }
    }
}
