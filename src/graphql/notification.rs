//! The outbox on the console: every message with its state, and a retry.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::outbox_message;

use crate::graphql::context::ContextExt;
use crate::graphql::ids::{self, type_name};
use crate::graphql::loaders::UserById;
use crate::graphql::messages::MessageKind;
use crate::graphql::objects::User;
use crate::graphql::pagination::{self, Conn};
use crate::graphql::payload::{input_id, payload};
use crate::service::messages::admin::{self, OutboxFilter};

/// Where a message is.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::OutboxStatus")]
pub enum NotificationStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// Being sent by a worker.
    Sending,
    /// WeChat took it.
    Sent,
    /// Refused for good, or out of attempts.
    Failed,
    /// Not sent by rule: no template, no consent, switched off, no identity.
    Skipped,
}

/// The app a message goes out through.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationChannel {
    /// A mini-program subscribe message.
    MiniProgram,
    /// An official-account template message.
    OfficialAccount,
}

/// One template value of a message.
#[derive(SimpleObject)]
pub struct NotificationValue {
    /// The template key (`thing1`, `amount2`...).
    pub key: String,
    /// What it says (before WeChat's length rules are applied).
    pub value: String,
}

/// A message to one user in the outbox.
pub struct Notification(pub outbox_message::Model);

/// A message to one user in the outbox (admins only).
#[Object]
impl Notification {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(type_name::NOTIFICATION, self.0.id)
    }
    /// What it tells.
    async fn kind(&self) -> MessageKind {
        self.0.kind.into()
    }
    /// Where it is.
    async fn status(&self) -> NotificationStatus {
        self.0.status.into()
    }
    /// The app chosen for it, once the worker chose.
    async fn channel(&self) -> Option<NotificationChannel> {
        match self.0.channel.as_deref() {
            Some("MINI_PROGRAM") => Some(NotificationChannel::MiniProgram),
            Some("OFFICIAL_ACCOUNT") => Some(NotificationChannel::OfficialAccount),
            _ => None,
        }
    }
    /// Attempts made since it was queued (or retried).
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// Why the last attempt did not send it (WeChat's error code and message, or the
    /// rule that skipped it).
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// Its template values.
    async fn values(&self) -> Vec<NotificationValue> {
        serde_json::from_str::<std::collections::BTreeMap<String, String>>(&self.0.values)
            .unwrap_or_default()
            .into_iter()
            .map(|(key, value)| NotificationValue { key, value })
            .collect()
    }
    /// Its recipient.
    async fn recipient(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        Ok(ctx
            .loader()?
            .load_one(UserById(self.0.user_id))
            .await?
            .map(User))
    }
    /// When it was queued.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it is (or was) next tried.
    async fn next_attempt_at(&self) -> DateTime<Utc> {
        self.0.next_attempt_at
    }
    /// When WeChat took it.
    async fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.0.sent_at
    }
}

/// Which messages to list; every field narrows.
#[derive(InputObject, Default)]
pub struct NotificationFilter {
    /// In this state.
    pub status: Option<NotificationStatus>,
    /// Of this kind.
    pub kind: Option<MessageKind>,
    /// To this user.
    pub recipient: Option<ID>,
}

/// Outbox queries.
#[derive(Default)]
pub struct NotificationQuery;

/// Outbox queries.
#[Object]
impl NotificationQuery {
    /// The outbox, newest first: every message with its state (admins on the console).
    #[graphql(complexity = "pagination::cost(first, None, child_complexity)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<NotificationFilter>,
    ) -> async_graphql::Result<Conn<Notification>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, None, None)?;
        let filter = filter.unwrap_or_default();
        let user_id = match &filter.recipient {
            Some(id) => Some(ids::decode(id, type_name::USER)?),
            None => None,
        };
        let filter = OutboxFilter {
            status: filter.status.map(Into::into),
            kind: filter.kind.map(Into::into),
            user_id,
        };
        let rows = admin::list(db, ctx.actor()?, filter, &page).await?;
        Ok(pagination::connection(db, rows, Notification))
    }
}

/// Input of `retryNotification`.
#[derive(InputObject)]
pub struct RetryNotificationInput {
    /// The FAILED or SKIPPED message.
    pub notification: ID,
}

payload!(
    /// Result of `retryNotification`.
    RetryNotificationPayload, notification: Option<Notification>
);

/// Outbox mutations.
#[derive(Default)]
pub struct NotificationMutation;

/// Outbox mutations.
#[Object]
impl NotificationMutation {
    /// Queues a FAILED or SKIPPED message again, due now, its attempts counted afresh
    /// (admins on the console). A message pending, on its way or sent is refused with
    /// INVALID_STATE.
    async fn retry_notification(
        &self,
        ctx: &Context<'_>,
        input: RetryNotificationInput,
    ) -> async_graphql::Result<RetryNotificationPayload> {
        let result = match input_id(&input.notification, type_name::NOTIFICATION, "notification") {
            Ok(id) => admin::retry(ctx.db()?, ctx.actor()?, id)
                .await
                .map(|row| Some(Notification(row))),
            Err(error) => Err(error),
        };
        RetryNotificationPayload::from_result(result)
    }
}
