//! Table `outbox_messages`: a message to one user, written in the same transaction as
//! the event that causes it and sent by the outbox worker; `idempotency_key` (event and
//! recipient) is unique.

use crate::enums::{MessageKind, OutboxStatus};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub idempotency_key: String,
    pub user_id: i64,
    pub kind: MessageKind,
    /// What the message is about (the order, livestream, lesson...).
    pub subject_id: i64,
    /// The template values, a JSON object of strings by role (`title`, `amount`...).
    pub values: String,
    pub status: OutboxStatus,
    /// `MINI_PROGRAM` or `OFFICIAL_ACCOUNT` once the worker chose.
    pub channel: Option<String>,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// A worker holds it until then (a dead worker's claim runs out).
    pub claimed_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    #[sea_orm(belongs_to, from = "user_id", to = "id")]
    pub user: BelongsTo<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
