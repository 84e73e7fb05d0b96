//! Zhiku (知库): a GraphQL API for a knowledge-payment platform in the WeChat ecosystem.
//!
//! Layout, one room per concern:
//!
//! - [`cli`] parses the command line (`serve`, `migrate`, `schema`, `seed`) and runs it;
//!   `main.rs` only calls it.
//! - [`config`] is the typed configuration from flags and `ZHIKU_*` variables.
//! - [`db`] opens the pool (SQLite or PostgreSQL), migrates, and begins write
//!   transactions the way each backend needs; [`server_settings`] keeps values generated
//!   once (the development JWT secret, the simulated payment keys) in the database.
//! - [`error`] holds the one error type, the user-error types and the stable
//!   `extensions.code` strings.
//! - [`auth`] says who is acting ([`auth::Actor`]).
//! - [`service`] holds the domain rules, one module per domain, free of GraphQL types;
//!   authorisation is enforced there, and committed changes are published through
//!   [`service::effects`].
//! - [`realtime`] carries live-room events to subscribers: the event log, an
//!   in-process fan-out per room, PostgreSQL LISTEN/NOTIFY between replicas, presence;
//!   [`live`] signs the CDN's push and play addresses.
//! - [`messaging`] sends WeChat subscribe and template messages (the shared access
//!   token, WeChat's field rules, which refusals are final).
//! - [`payments`] is WeChat Pay API v3 (signing, verification, the client, the
//!   simulated provider); it knows nothing of orders.
//! - [`graphql`] assembles the schema: one query part per domain, global IDs, Relay
//!   pagination, Money, DataLoaders, limits. The object types are declared once in
//!   [`graphql::objects`] (and list orderings in [`graphql::ordering`]) and resolved in
//!   their domain's file, so no domain file imports another.
//! - [`http`] serves `/graphql`, `/healthz`, `/metrics` and the payment notifications,
//!   with request ids and metrics.
//! - [`telemetry`] sets up logs and the Prometheus registry.
//! - [`recommend`] is the recommendation engine (no GraphQL, no database).
//! - [`seed`] writes deterministic demo data.
//! - [`startup`] is the composition root: [`startup::Application::build`] puts the
//!   server together from its settings (database, auth, payments, recommendations,
//!   background tasks, routers); `zhiku serve` and the test harness both use it, so
//!   tests drive exactly what production serves.

// The merged root Mutation nests one type per domain; proving its futures Send goes
// deeper than the default limit of 128.
#![recursion_limit = "256"]

pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod graphql;
pub mod http;
pub mod live;
pub mod messaging;
pub mod payments;
pub mod realtime;
pub mod recommend;
pub mod seed;
pub mod server_settings;
pub mod service;
pub mod startup;
pub mod telemetry;

use std::sync::Arc;

use sea_orm::{DatabaseConnection, DbErr};

use crate::config::DatabaseConfig;
use crate::telemetry::Metrics;

pub use crate::graphql::schema;

/// Opens and migrates the database, with every statement counted in `metrics`.
pub async fn open_database(
    config: &DatabaseConfig,
    metrics: &Arc<Metrics>,
) -> Result<DatabaseConnection, DbErr> {
    let mut db = db::connect_and_migrate(config).await?;
    let metrics = Arc::clone(metrics);
    db.set_metric_callback(move |info| metrics.observe_statement(info.elapsed, info.failed));
    Ok(db)
}
