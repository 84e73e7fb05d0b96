//! Messages that bring learners back, through an outbox.
//!
//! - An event that should tell someone something writes `outbox_messages` rows in its
//!   own transaction ([`compose`] says what each event writes, to whom): if the event
//!   commits, the messages are there; if not, neither are. A row's key is the event and
//!   the recipient, so an event applied twice (a repeated notification) writes it once.
//! - Time writes the reminders ([`reminders`]): livestreams starting in 15 minutes and
//!   memberships ending in 3 days, once each.
//! - The worker ([`Outbox::deliver_due`]) sends them with retries ([`outbox`]).

pub mod admin;
pub mod compose;
pub mod outbox;
pub mod preferences;
pub mod reminders;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use entity::enums::{MessageKind, OutboxStatus};
use entity::outbox_message;
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query, SelectStatement};
use sea_orm::{ActiveEnum, ActiveValue::Set, ConnectionTrait, EntityTrait, Iterable};

pub use outbox::{CLAIM_SECS, Delivered, Outbox};
pub use preferences::MAX_CONSENTS;

use crate::config::MessagesConfig;
use crate::error::{AppError, AppResult};
use crate::messaging::Channel;

/// The configured templates of each kind, per app.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    mini_program: HashMap<MessageKind, String>,
    official_account: HashMap<MessageKind, String>,
}

/// Reads `KIND=template,KIND=template` (blank: none).
fn parse_templates(variable: &str, text: &str) -> Result<HashMap<MessageKind, String>, String> {
    let mut templates = HashMap::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (kind, template) = pair
            .split_once('=')
            .map(|(k, t)| (k.trim(), t.trim()))
            .filter(|(_, t)| !t.is_empty())
            .ok_or_else(|| format!("{variable}: `{pair}` is not KIND=template"))?;
        let kind = MessageKind::iter()
            .find(|k| k.to_value() == kind)
            .ok_or_else(|| {
                let kinds: Vec<String> = MessageKind::iter().map(|k| k.to_value()).collect();
                format!("{variable}: `{kind}` is not one of {}", kinds.join(", "))
            })?;
        if templates.insert(kind, template.to_owned()).is_some() {
            return Err(format!("{variable}: {} is named twice", kind.to_value()));
        }
    }
    Ok(templates)
}

impl Templates {
    /// The templates of `ZHIKU_MP_TEMPLATES` and `ZHIKU_OA_TEMPLATES`; a malformed
    /// pair or an unknown kind is an error (at startup, not a silent drop).
    pub fn from_config(config: &MessagesConfig) -> Result<Self, String> {
        Ok(Templates {
            mini_program: parse_templates("ZHIKU_MP_TEMPLATES", &config.mp_templates)?,
            official_account: parse_templates("ZHIKU_OA_TEMPLATES", &config.oa_templates)?,
        })
    }

    fn of(&self, channel: Channel, kind: MessageKind) -> Option<&str> {
        match channel {
            Channel::MiniProgram => self.mini_program.get(&kind),
            Channel::OfficialAccount => self.official_account.get(&kind),
        }
        .map(String::as_str)
    }

    pub(crate) fn is_mini_program_template(&self, template_id: &str) -> bool {
        self.mini_program.values().any(|t| t == template_id)
    }
}

/// What a message says and what it is about; the recipients come with it.
#[derive(Debug, Clone)]
pub struct Message {
    /// Its kind.
    pub kind: MessageKind,
    /// What it is about (the order, livestream, lesson, group).
    pub subject_id: i64,
    /// Which time of this subject it is (a membership's end, renewed and ending again),
    /// part of the key; None when the subject happens once.
    pub occasion: Option<i64>,
    /// The template values by key (`thing1`, `amount2`...).
    pub values: BTreeMap<String, String>,
}

impl Message {
    /// The key of this message to `user_id`; one row per key.
    pub fn key_for(&self, user_id: i64) -> String {
        format!("{}{user_id}", self.key_prefix())
    }

    /// The key without its recipient.
    fn key_prefix(&self) -> String {
        match self.occasion {
            Some(occasion) => format!("{}:{}@{occasion}:", self.kind.to_value(), self.subject_id),
            None => format!("{}:{}:", self.kind.to_value(), self.subject_id),
        }
    }
}

/// Writes `message` to `user_id` into the outbox, inside the caller's transaction
/// (nothing when this event already wrote it).
pub async fn enqueue(
    txn: &impl ConnectionTrait,
    message: &Message,
    user_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    outbox_message::Entity::insert(outbox_message::ActiveModel {
        idempotency_key: Set(message.key_for(user_id)),
        user_id: Set(user_id),
        kind: Set(message.kind),
        subject_id: Set(message.subject_id),
        values: Set(serde_json::to_string(&message.values).map_err(AppError::internal)?),
        status: Set(OutboxStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(outbox_message::Column::IdempotencyKey)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Writes `message` to every user `recipients` selects (one `user_id` column, no
/// duplicates needed) in one statement, inside the caller's transaction; returns how
/// many rows were new.
pub async fn enqueue_all(
    txn: &impl ConnectionTrait,
    message: &Message,
    recipients: SelectStatement,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    use outbox_message::Column as C;
    let values = serde_json::to_string(&message.values).map_err(AppError::internal)?;
    let recipient = Alias::new("recipient");
    let user_id = Expr::col((recipient.clone(), Alias::new("user_id")));
    // sea-query's placeholders in custom SQL are the backend's own (`$1` or `?`).
    let key = match txn.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => "$1 || CAST($2 AS TEXT)",
        _ => "? || CAST(? AS TEXT)",
    };
    let rows = Query::select()
        .expr(Expr::cust_with_exprs(
            key,
            [Expr::val(message.key_prefix()), user_id.clone()],
        ))
        .expr(user_id)
        .expr(Expr::val(message.kind.to_value()))
        .expr(Expr::val(message.subject_id))
        .expr(Expr::val(values))
        .expr(Expr::val(OutboxStatus::Pending.to_value()))
        .expr(Expr::val(0))
        .expr(Expr::val(now))
        .expr(Expr::val(now))
        .from_subquery(recipients, recipient)
        // SQLite reads `ON CONFLICT` after a bare FROM as a join; a WHERE ends the FROM.
        .and_where(Expr::cust("1 = 1"))
        .to_owned();
    let insert = Query::insert()
        .into_table(outbox_message::Entity)
        .columns([
            C::IdempotencyKey,
            C::UserId,
            C::Kind,
            C::SubjectId,
            C::Values,
            C::Status,
            C::Attempts,
            C::NextAttemptAt,
            C::CreatedAt,
        ])
        .select_from(rows)
        .map_err(AppError::internal)?
        .on_conflict(
            OnConflict::column(C::IdempotencyKey)
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    let done = txn
        .execute_raw(txn.get_database_backend().build(&insert))
        .await?;
    Ok(done.rows_affected())
}
