//! Typed configuration from command-line flags and `ZHIKU_*` / `DATABASE_URL` variables.
//!
//! Every variable is listed in the README. Nothing here is secret yet; when secrets
//! arrive they are wrapped so that `Debug` never prints them.

use std::net::SocketAddr;

use clap::{Args, ValueEnum};

/// The SQLite file created and migrated on first start when no URL is given.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://zhiku.db?mode=rwc";

/// Where the service runs; development turns on conveniences that production must not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Environment {
    /// Local use: introspection and field suggestions on.
    #[default]
    Development,
    /// Production: introspection off unless asked for, no suggestions.
    Production,
}

/// Options shared by every command that touches the database.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// Database URL: `sqlite://FILE?mode=rwc` (default `./zhiku.db`) or `postgres://...`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Largest number of pooled database connections.
    #[arg(
        long,
        env = "ZHIKU_DB_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    pub db_max_connections: u32,
}

/// Options of the HTTP server.
#[derive(Debug, Clone, Args)]
pub struct ServerConfig {
    /// Address to listen on.
    #[arg(long, env = "ZHIKU_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Deployment environment.
    #[arg(long, env = "ZHIKU_ENV", value_enum, default_value_t = Environment::Development)]
    pub environment: Environment,

    /// Serve schema introspection (default: on in development, off in production).
    #[arg(long, env = "ZHIKU_INTROSPECTION")]
    pub introspection: Option<bool>,
}

impl ServerConfig {
    /// Whether introspection queries are answered.
    pub fn introspection_enabled(&self) -> bool {
        self.introspection
            .unwrap_or(self.environment == Environment::Development)
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            environment: Environment::Development,
            introspection: None,
        }
    }
}
