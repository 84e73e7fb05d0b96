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

/// A secret value: usable, never printed (`Debug` shows `***`).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(Secret(value.to_owned()))
    }
}

/// Sign-in settings: JWT signing, token lifetimes, the WeChat login API.
#[derive(Debug, Clone, Args)]
pub struct AuthConfig {
    /// HS256 secret for access tokens, at least 32 bytes. When unset in development a
    /// random one is generated once and kept in the database; production requires it.
    #[arg(long, env = "ZHIKU_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<Secret>,

    /// Lifetime of access tokens, in seconds.
    #[arg(
        long,
        env = "ZHIKU_ACCESS_TOKEN_TTL_SECS",
        default_value_t = 7200,
        global = true
    )]
    pub access_token_ttl_secs: i64,

    /// Lifetime of refresh tokens, in days.
    #[arg(
        long,
        env = "ZHIKU_REFRESH_TOKEN_TTL_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub refresh_token_ttl_days: i64,

    /// Mini-program app id used for code2Session.
    #[arg(long, env = "ZHIKU_WECHAT_APPID", default_value = "", global = true)]
    pub wechat_appid: String,

    /// Mini-program app secret used for code2Session.
    #[arg(
        long,
        env = "ZHIKU_WECHAT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub wechat_secret: Option<Secret>,

    /// Base URL of the WeChat API (tests point it at a local server).
    #[arg(
        long,
        env = "ZHIKU_WECHAT_API_BASE",
        default_value = "https://api.weixin.qq.com",
        global = true
    )]
    pub wechat_api_base: String,

    /// Timeout of one WeChat API call, in milliseconds.
    #[arg(
        long,
        env = "ZHIKU_WECHAT_TIMEOUT_MS",
        default_value_t = 5000,
        global = true
    )]
    pub wechat_timeout_ms: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            jwt_secret: None,
            access_token_ttl_secs: 7200,
            refresh_token_ttl_days: 30,
            wechat_appid: String::new(),
            wechat_secret: None,
            wechat_api_base: "https://api.weixin.qq.com".into(),
            wechat_timeout_ms: 5000,
        }
    }
}
