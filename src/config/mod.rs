//! Typed configuration from command-line flags and `ZHIKU_*` / `DATABASE_URL` variables.
//!
//! Every variable is listed in the README. Secrets (the JWT secret, the WeChat app
//! secret, the APIv3 key) are [`Secret`]s: `Debug` never prints them, and clap hides
//! their values from `--help`. Each default is written once, on its option; `Default`
//! reads those (see `defaults`).

use std::net::SocketAddr;

use clap::{Args, FromArgMatches, ValueEnum};

mod live;
mod messages;
mod recommend;

pub use live::LiveConfig;
pub use messages::MessagesConfig;
pub use recommend::{RecommendConfig, SimilarityChoice};

/// A set of options with the defaults written on their attributes, and nothing else:
/// no environment variable is read, so `Default` means the same in tests as in docs,
/// and each default is written once.
fn defaults<T: Args + FromArgMatches>() -> T {
    let command = T::augment_args(clap::Command::new("zhiku")).mut_args(|arg| arg.env(None));
    command
        .try_get_matches_from(["zhiku"])
        .and_then(|matches| T::from_arg_matches(&matches))
        .expect("every option has a default") // a unit test parses each set
}

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

    /// Serve schema introspection (default: on in development, off in production).
    #[arg(long, env = "ZHIKU_INTROSPECTION")]
    pub introspection: Option<bool>,

    /// Serve `/metrics` on this address instead of the public one (e.g. a private
    /// interface the scraper reaches).
    #[arg(long, env = "ZHIKU_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Longest time, in milliseconds, a catalogue row read for one request is reused
    /// for others (course and creator pages, courses, lessons, creators); 0 turns the read cache
    /// off. Writes through this process are seen at once; writes through another
    /// replica within this time.
    #[arg(long, env = "ZHIKU_READ_CACHE_TTL_MS", default_value_t = 1_000)]
    pub read_cache_ttl_ms: u64,

    /// How often, in milliseconds, buffered product views and live-room attendance are
    /// written to the database (a crash loses at most this much); 0 writes them only
    /// when the server stops.
    #[arg(long, env = "ZHIKU_VIEW_FLUSH_MS", default_value_t = 5_000)]
    pub view_flush_ms: u64,

    /// Live rooms: stream addresses and WebSocket limits.
    #[command(flatten)]
    pub live: LiveConfig,

    /// Messages: templates and the outbox worker.
    #[command(flatten)]
    pub messages: MessagesConfig,
}

impl ServerConfig {
    /// Whether introspection queries are answered in this environment.
    pub fn introspection_enabled(&self, environment: Environment) -> bool {
        self.introspection
            .unwrap_or(environment == Environment::Development)
    }
}

impl Default for ServerConfig {
    /// The defaults written on the options above (the environment is not read).
    fn default() -> Self {
        defaults()
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

    /// Official account (公众号) app id, for web sign-in on H5 pages.
    #[arg(long, env = "ZHIKU_OA_APPID", default_value = "", global = true)]
    pub oa_appid: String,

    /// Official account app secret.
    #[arg(long, env = "ZHIKU_OA_SECRET", hide_env_values = true, global = true)]
    pub oa_secret: Option<Secret>,

    /// Where official-account sign-in may return to: comma-separated URL prefixes
    /// (`https://h5.example.com/`); any other redirect URI is refused.
    #[arg(
        long,
        env = "ZHIKU_OA_REDIRECT_URIS",
        value_delimiter = ',',
        global = true
    )]
    pub oa_redirect_uris: Vec<String>,

    /// Base URL of WeChat's OAuth authorize page (tests point it elsewhere).
    #[arg(
        long,
        env = "ZHIKU_OA_AUTHORIZE_BASE",
        default_value = "https://open.weixin.qq.com",
        global = true
    )]
    pub oa_authorize_base: String,

    /// Website app (网站应用) id on the WeChat open platform, for the console's QR
    /// sign-in.
    #[arg(long, env = "ZHIKU_WEB_APPID", default_value = "", global = true)]
    pub web_appid: String,

    /// Website app secret.
    #[arg(long, env = "ZHIKU_WEB_SECRET", hide_env_values = true, global = true)]
    pub web_secret: Option<Secret>,

    /// Where the console's QR sign-in may return to: comma-separated URL prefixes
    /// (`https://console.example.com/console/`); any other redirect URI is refused.
    #[arg(
        long,
        env = "ZHIKU_WEB_REDIRECT_URIS",
        value_delimiter = ',',
        global = true
    )]
    pub web_redirect_uris: Vec<String>,
}

impl Default for AuthConfig {
    /// The defaults written on the options above (the environment is not read).
    fn default() -> Self {
        defaults()
    }
}

/// Which payment provider takes the money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum PaymentProviderKind {
    /// Local use: notifications made and signed here (`zhiku pay simulate`).
    #[default]
    Simulated,
    /// The real WeChat Pay API v3.
    Wechatpay,
}

/// Payment settings: provider, merchant keys, order and refund rules.
#[derive(Debug, Clone, Args)]
pub struct PaymentConfig {
    /// `simulated` (default) or `wechatpay`.
    #[arg(long, env = "ZHIKU_PAYMENT_PROVIDER", value_enum, default_value_t = PaymentProviderKind::Simulated, global = true)]
    pub payment_provider: PaymentProviderKind,

    /// WeChat Pay merchant id.
    #[arg(long, env = "ZHIKU_WECHATPAY_MCHID", default_value = "", global = true)]
    pub wechatpay_mchid: String,

    /// App id the payments are made in (defaults to ZHIKU_WECHAT_APPID).
    #[arg(long, env = "ZHIKU_WECHATPAY_APPID", default_value = "", global = true)]
    pub wechatpay_appid: String,

    /// Serial number of the merchant API certificate.
    #[arg(
        long,
        env = "ZHIKU_WECHATPAY_MERCHANT_SERIAL",
        default_value = "",
        global = true
    )]
    pub wechatpay_merchant_serial: String,

    /// Path of the merchant API private key (PEM).
    #[arg(long, env = "ZHIKU_WECHATPAY_MERCHANT_KEY", global = true)]
    pub wechatpay_merchant_key: Option<std::path::PathBuf>,

    /// The APIv3 key (32 characters).
    #[arg(
        long,
        env = "ZHIKU_WECHATPAY_APIV3_KEY",
        hide_env_values = true,
        global = true
    )]
    pub wechatpay_apiv3_key: Option<Secret>,

    /// Platform keys: `SERIAL=PATH,...` (PEM public key or certificate; serial may be `PUB_KEY_ID_...`).
    #[arg(
        long,
        env = "ZHIKU_WECHATPAY_PLATFORM_KEYS",
        default_value = "",
        global = true
    )]
    pub wechatpay_platform_keys: String,

    /// Where WeChat Pay sends notifications (our `/payments/wechat/notify`).
    #[arg(
        long,
        env = "ZHIKU_WECHATPAY_NOTIFY_URL",
        default_value = "https://example.com/payments/wechat/notify",
        global = true
    )]
    pub wechatpay_notify_url: String,

    /// WeChat Pay API base URL.
    #[arg(
        long,
        env = "ZHIKU_WECHATPAY_API_BASE",
        default_value = "https://api.mch.weixin.qq.com",
        global = true
    )]
    pub wechatpay_api_base: String,

    /// Minutes an unpaid order stays open (WeChat Pay `time_expire`).
    #[arg(
        long,
        env = "ZHIKU_ORDER_TIMEOUT_MINUTES",
        default_value_t = 30,
        global = true
    )]
    pub order_timeout_minutes: i64,

    /// Days after payment during which the selling creator may refund.
    #[arg(
        long,
        env = "ZHIKU_REFUND_WINDOW_DAYS",
        default_value_t = 7,
        global = true
    )]
    pub refund_window_days: i64,

    /// The platform's fee on a sale, in basis points of the amount paid (1000 = 10 %),
    /// unless the creator has a rate of their own. Earnings stay pending for the refund
    /// window, then become available for payout.
    #[arg(
        long,
        env = "ZHIKU_PLATFORM_FEE_BPS",
        default_value_t = 1000,
        value_parser = clap::value_parser!(i64).range(0..=10_000),
        global = true
    )]
    pub platform_fee_bps: i64,

    /// The least available balance a payout run pays, in fen (WeChat Pay transfers
    /// start at 0.1 yuan).
    #[arg(
        long,
        env = "ZHIKU_PAYOUT_MINIMUM_FEN",
        default_value_t = 100,
        value_parser = clap::value_parser!(i64).range(10..),
        global = true
    )]
    pub payout_minimum_fen: i64,

    /// Seconds between scheduled payout runs (0, the default, leaves payouts to the
    /// admins' `runPayouts`).
    #[arg(
        long,
        env = "ZHIKU_PAYOUT_INTERVAL_SECS",
        default_value_t = 0,
        global = true
    )]
    pub payout_interval_secs: u64,

    /// Seconds between sweeps that refund paid questions not answered in time (0
    /// turns the background task off).
    #[arg(
        long,
        env = "ZHIKU_QUESTION_SWEEP_SECS",
        default_value_t = 60,
        global = true
    )]
    pub question_sweep_secs: u64,

    /// Seconds between reconciliation runs (0 turns the background task off).
    #[arg(
        long,
        env = "ZHIKU_RECONCILE_INTERVAL_SECS",
        default_value_t = 60,
        global = true
    )]
    pub reconcile_interval_secs: u64,

    /// Minutes a pending order waits before reconciliation asks the provider about it.
    #[arg(
        long,
        env = "ZHIKU_RECONCILE_AFTER_MINUTES",
        default_value_t = 5,
        global = true
    )]
    pub reconcile_after_minutes: i64,
}

impl Default for PaymentConfig {
    /// The defaults written on the options above (the environment is not read).
    fn default() -> Self {
        defaults()
    }
}

impl PaymentConfig {
    /// Why this configuration cannot take real money, if it cannot: production refuses
    /// to start with the simulated provider (anyone holding its keys could mark orders
    /// paid), or with a notify URL that WeChat Pay cannot reach or would not call (the
    /// placeholder default, a reserved example or local host, or anything but https).
    pub fn production_problem(&self) -> Option<String> {
        if self.payment_provider == PaymentProviderKind::Simulated {
            return Some(
                "production needs ZHIKU_PAYMENT_PROVIDER=wechatpay (the simulated provider takes no money)"
                    .into(),
            );
        }
        let Ok(url) = url::Url::parse(&self.wechatpay_notify_url) else {
            return Some("ZHIKU_WECHATPAY_NOTIFY_URL is not a URL".into());
        };
        if url.scheme() != "https" {
            return Some("ZHIKU_WECHATPAY_NOTIFY_URL must be an https URL".into());
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let placeholder = ["example.com", "example.net", "example.org", "localhost"]
            .iter()
            .any(|reserved| host == *reserved || host.ends_with(&format!(".{reserved}")))
            || host.ends_with(".example")
            || host.ends_with(".invalid")
            || host.ends_with(".test")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified());
        if placeholder {
            return Some(format!(
                "ZHIKU_WECHATPAY_NOTIFY_URL points at {host}, a placeholder WeChat Pay cannot reach; set the public URL of /payments/wechat/notify"
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_ones_written_on_the_options() {
        let server = ServerConfig::default();
        assert_eq!(server.listen, SocketAddr::from(([127, 0, 0, 1], 8080)));
        let auth = AuthConfig::default();
        assert_eq!(auth.access_token_ttl_secs, 7200);
        assert_eq!(auth.wechat_api_base, "https://api.weixin.qq.com");
        assert!(auth.jwt_secret.is_none());
        let payments = PaymentConfig::default();
        assert_eq!(payments.payment_provider, PaymentProviderKind::Simulated);
        assert_eq!(payments.order_timeout_minutes, 30);
        assert_eq!(payments.reconcile_interval_secs, 60);
        assert_eq!(RecommendConfig::default().rebuild_seconds, 600);
        assert_eq!(server.live.live_app_name, "live");
        assert!(server.live.live_play_key.is_none());
        assert_eq!(LiveConfig::default().ws_max_subscriptions, 8);
    }
}
