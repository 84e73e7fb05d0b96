//! Message settings: templates per kind and app, the outbox worker's pace.

use clap::Args;

use super::defaults;

/// Messages that bring learners back: the template of each kind in each app (empty: that
/// kind is not sent there) and the outbox worker's pace.
#[derive(Debug, Clone, Args)]
pub struct MessagesConfig {
    /// Mini-program subscribe-message templates, `KIND=template id` pairs separated by
    /// commas (`PAYMENT_SUCCEEDED=abc,REFUND_DONE=def`; a kind not named is not sent
    /// there). Each kind's values are listed in the README.
    #[arg(long, env = "ZHIKU_MP_TEMPLATES", default_value = "")]
    pub mp_templates: String,

    /// Official-account template messages, the same `KIND=template id` pairs.
    #[arg(long, env = "ZHIKU_OA_TEMPLATES", default_value = "")]
    pub oa_templates: String,

    /// How often reminders are looked for (livestreams starting in 15 minutes,
    /// memberships ending in 3 days), in milliseconds (0: never).
    #[arg(long, env = "ZHIKU_REMINDER_INTERVAL_MS", default_value_t = 60_000)]
    pub reminder_interval_ms: u64,

    /// How often the outbox worker looks for due messages, in milliseconds (0: never).
    #[arg(long, env = "ZHIKU_OUTBOX_INTERVAL_MS", default_value_t = 500)]
    pub outbox_interval_ms: u64,

    /// Messages the worker claims at once.
    #[arg(long, env = "ZHIKU_OUTBOX_BATCH", default_value_t = 500)]
    pub outbox_batch: u64,

    /// Sends in flight at once.
    #[arg(long, env = "ZHIKU_OUTBOX_CONCURRENCY", default_value_t = 64)]
    pub outbox_concurrency: usize,

    /// Attempts before a message that keeps failing is given up (FAILED).
    #[arg(long, env = "ZHIKU_OUTBOX_MAX_ATTEMPTS", default_value_t = 8)]
    pub outbox_max_attempts: i32,
}

impl Default for MessagesConfig {
    /// The defaults written on the options above (the environment is not read).
    fn default() -> Self {
        defaults()
    }
}
