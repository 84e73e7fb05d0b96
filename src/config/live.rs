//! Live-room settings: the CDN's push and play addresses and keys, WebSocket limits.

use clap::Args;

use super::{Secret, defaults};

/// Live rooms: the CDN's push and play domains and anti-leech keys (Tencent Cloud CSS
/// style `txSecret`/`txTime`), and the WebSocket limits.
#[derive(Debug, Clone, Args)]
pub struct LiveConfig {
    /// Domain creators push RTMP to.
    #[arg(
        long,
        env = "ZHIKU_LIVE_PUSH_DOMAIN",
        default_value = "push.live.zhiku.localhost"
    )]
    pub live_push_domain: String,

    /// Domain viewers play from (RTMP, FLV, HLS, WebRTC).
    #[arg(
        long,
        env = "ZHIKU_LIVE_PLAY_DOMAIN",
        default_value = "play.live.zhiku.localhost"
    )]
    pub live_play_domain: String,

    /// The CDN application name, the first path segment of every stream address.
    #[arg(long, env = "ZHIKU_LIVE_APP_NAME", default_value = "live")]
    pub live_app_name: String,

    /// Push anti-leech key (the CDN's primary push key); unset: push URLs unsigned.
    #[arg(long, env = "ZHIKU_LIVE_PUSH_KEY", hide_env_values = true)]
    pub live_push_key: Option<Secret>,

    /// The push domain's backup key, still accepted while keys rotate.
    #[arg(long, env = "ZHIKU_LIVE_PUSH_BACKUP_KEY", hide_env_values = true)]
    pub live_push_backup_key: Option<Secret>,

    /// Play anti-leech key (the CDN's primary play key); unset: play URLs unsigned.
    #[arg(long, env = "ZHIKU_LIVE_PLAY_KEY", hide_env_values = true)]
    pub live_play_key: Option<Secret>,

    /// The play domain's backup key, still accepted while keys rotate.
    #[arg(long, env = "ZHIKU_LIVE_PLAY_BACKUP_KEY", hide_env_values = true)]
    pub live_play_backup_key: Option<Secret>,

    /// Seconds a push URL stays valid (long, so a host who drops can push again).
    #[arg(long, env = "ZHIKU_LIVE_PUSH_TTL_SECS", default_value_t = 86_400)]
    pub live_push_ttl_secs: u64,

    /// Seconds a play URL stays valid (the CDN checks it when a player connects).
    #[arg(long, env = "ZHIKU_LIVE_PLAY_TTL_SECS", default_value_t = 7_200)]
    pub live_play_ttl_secs: u64,

    /// Most WebSocket connections one server holds (upgrades beyond it get 503).
    #[arg(long, env = "ZHIKU_WS_MAX_CONNECTIONS", default_value_t = 20_000)]
    pub ws_max_connections: usize,

    /// Most subscriptions running at once on one WebSocket.
    #[arg(long, env = "ZHIKU_WS_MAX_SUBSCRIPTIONS", default_value_t = 8)]
    pub ws_max_subscriptions: usize,
}

impl Default for LiveConfig {
    /// The defaults written on the options above (the environment is not read).
    fn default() -> Self {
        defaults()
    }
}
