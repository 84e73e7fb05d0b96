//! The outbox worker: claims due messages in batches and sends them.
//!
//! - [`Outbox::deliver_due`] claims due rows, decides each (the kind switched off, no
//!   template, no identity, no consent: SKIPPED; a mini-program message spends one of
//!   the user's one-time consents, once), sends them with a bounded number in flight,
//!   and records each outcome as it comes: SENT; FAILED for a final refusal (43101, the
//!   user has not subscribed, is never retried) or after the last attempt; otherwise
//!   PENDING again with exponential backoff.
//! - Outcomes are committed as they arrive (in small groups), not at the end of the
//!   batch, so a worker killed mid-batch has marked every message WeChat answered.
//! - A claim lasts [`CLAIM_SECS`]: rows of a worker that died mid-batch are claimed again
//!   after it, and sent unless they were marked SENT. (Only a send whose answer was on
//!   the wire when the worker died goes again: WeChat has no idempotency key for
//!   messages.)

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use entity::enums::{IdentityApp, MessageKind, OutboxStatus};
use entity::{message_consent, notification_opt_out, outbox_message};
use futures_util::StreamExt;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::Templates;
use crate::config::MessagesConfig;
use crate::error::AppResult;
use crate::messaging::{Channel, Messenger, OutgoingMessage, SendOutcome};
use crate::service::identities;

/// How long a worker holds the messages it claimed.
pub const CLAIM_SECS: i64 = 60;
/// Longest wait between two attempts.
const MAX_BACKOFF_SECS: i64 = 3_600;
/// Most outcomes committed together.
const MARK_GROUP: usize = 64;

/// The outbox worker's means: the database, the sender, the templates, its pace.
#[derive(Clone)]
pub struct Outbox {
    db: DatabaseConnection,
    messenger: Arc<Messenger>,
    templates: Templates,
    batch: u64,
    concurrency: usize,
    max_attempts: i32,
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivered {
    /// Messages claimed.
    pub claimed: usize,
    /// Sent.
    pub sent: usize,
    /// Skipped by rule.
    pub skipped: usize,
    /// Refused for good or out of attempts.
    pub failed: usize,
    /// To be tried again.
    pub retried: usize,
}

/// A claimed message, decided.
enum Plan {
    Send(OutgoingMessage),
    Skip(&'static str),
}

/// Seconds before attempt `attempts + 1`: 2, 4, 8... up to an hour.
fn backoff(attempts: i32) -> Duration {
    Duration::seconds(Ord::min(1_i64 << attempts.clamp(1, 12), MAX_BACKOFF_SECS))
}

impl Outbox {
    /// The worker over `db`, sending through `messenger`.
    pub fn new(
        db: DatabaseConnection,
        messenger: Arc<Messenger>,
        templates: Templates,
        config: &MessagesConfig,
    ) -> Self {
        Outbox {
            db,
            messenger,
            templates,
            batch: Ord::max(config.outbox_batch, 1),
            concurrency: Ord::max(config.outbox_concurrency, 1),
            max_attempts: Ord::max(config.outbox_max_attempts, 1),
        }
    }

    /// Claims up to a batch of due messages (and those of a worker whose claim ran out).
    async fn claim(&self, now: DateTime<Utc>) -> AppResult<Vec<outbox_message::Model>> {
        let due = Condition::any()
            .add(
                Condition::all()
                    .add(outbox_message::Column::Status.eq(OutboxStatus::Pending))
                    .add(outbox_message::Column::NextAttemptAt.lte(now)),
            )
            .add(
                Condition::all()
                    .add(outbox_message::Column::Status.eq(OutboxStatus::Sending))
                    .add(outbox_message::Column::ClaimedUntil.lt(now)),
            );
        let ids: Vec<i64> = outbox_message::Entity::find()
            .select_only()
            .column(outbox_message::Column::Id)
            .filter(due.clone())
            .order_by_asc(outbox_message::Column::NextAttemptAt)
            .order_by_asc(outbox_message::Column::Id)
            .limit(self.batch)
            .into_tuple()
            .all(&self.db)
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Unique to this claim, so rows another worker claimed meanwhile are not ours.
        let until = now
            + Duration::seconds(CLAIM_SECS)
            + Duration::microseconds(rand::random_range(0..1_000_000));
        outbox_message::Entity::update_many()
            .col_expr(
                outbox_message::Column::Status,
                Expr::value(OutboxStatus::Sending),
            )
            .col_expr(outbox_message::Column::ClaimedUntil, Expr::value(until))
            .col_expr(
                outbox_message::Column::Attempts,
                Expr::col(outbox_message::Column::Attempts).add(1),
            )
            .filter(outbox_message::Column::Id.is_in(ids.clone()))
            .filter(due)
            .exec(&self.db)
            .await?;
        Ok(outbox_message::Entity::find()
            .filter(outbox_message::Column::Id.is_in(ids))
            .filter(outbox_message::Column::Status.eq(OutboxStatus::Sending))
            .filter(outbox_message::Column::ClaimedUntil.eq(until))
            .all(&self.db)
            .await?)
    }

    /// Decides how a claimed message goes out, spending a mini-program consent on its
    /// first attempt there (the channel it is decided for is kept on the row, so a
    /// retry spends none).
    async fn plan(
        &self,
        txn: &impl ConnectionTrait,
        message: &outbox_message::Model,
        now: DateTime<Utc>,
    ) -> AppResult<(Plan, Option<&'static str>)> {
        let switched_off = notification_opt_out::Entity::find()
            .filter(notification_opt_out::Column::UserId.eq(message.user_id))
            .filter(notification_opt_out::Column::Kind.eq(message.kind))
            .one(txn)
            .await?
            .is_some();
        if switched_off {
            return Ok((Plan::Skip("the user switched this kind off"), None));
        }
        let values: BTreeMap<String, String> =
            serde_json::from_str(&message.values).unwrap_or_default();
        let decided = message.channel.as_deref();
        for (channel, app, name) in [
            (
                Channel::MiniProgram,
                IdentityApp::MiniProgram,
                "MINI_PROGRAM",
            ),
            (
                Channel::OfficialAccount,
                IdentityApp::OfficialAccount,
                "OFFICIAL_ACCOUNT",
            ),
        ] {
            if decided.is_some_and(|d| d != name) {
                continue;
            }
            let Some(template_id) = self.templates.of(channel, message.kind) else {
                continue;
            };
            let Some(openid) = identities::openid(txn, message.user_id, app).await? else {
                continue;
            };
            if channel == Channel::MiniProgram && decided.is_none() {
                let spent = message_consent::Entity::update_many()
                    .col_expr(
                        message_consent::Column::Remaining,
                        Expr::col(message_consent::Column::Remaining).sub(1),
                    )
                    .col_expr(message_consent::Column::UpdatedAt, Expr::value(now))
                    .filter(message_consent::Column::UserId.eq(message.user_id))
                    .filter(message_consent::Column::TemplateId.eq(template_id))
                    .filter(message_consent::Column::Remaining.gt(0))
                    .exec(txn)
                    .await?;
                if spent.rows_affected != 1 {
                    continue;
                }
            }
            let outgoing = OutgoingMessage {
                channel,
                openid,
                template_id: template_id.to_owned(),
                page: page_of(message),
                values: values.clone(),
            };
            return Ok((Plan::Send(outgoing), Some(name)));
        }
        Ok((
            Plan::Skip("no app the user can be reached in (template, identity, consent)"),
            None,
        ))
    }

    /// One pass: claims due messages, decides and sends them, records the outcomes.
    pub async fn deliver_due(&self, now: DateTime<Utc>) -> AppResult<Delivered> {
        let claimed = self.claim(now).await?;
        let mut done = Delivered {
            claimed: claimed.len(),
            ..Delivered::default()
        };
        if claimed.is_empty() {
            return Ok(done);
        }
        let mut plans = Vec::with_capacity(claimed.len());
        let txn = crate::db::begin_write(&self.db).await?;
        for message in &claimed {
            let (plan, channel) = self.plan(&txn, message, now).await?;
            if let Some(channel) = channel {
                outbox_message::Entity::update_many()
                    .col_expr(outbox_message::Column::Channel, Expr::value(channel))
                    .filter(outbox_message::Column::Id.eq(message.id))
                    .exec(&txn)
                    .await?;
            }
            plans.push((message.clone(), plan));
        }
        txn.commit().await?;

        let mut outcomes = futures_util::stream::iter(plans)
            .map(|(message, plan)| {
                let messenger = Arc::clone(&self.messenger);
                async move {
                    match plan {
                        Plan::Send(outgoing) => (message, Ok(messenger.send(&outgoing).await)),
                        Plan::Skip(reason) => (message, Err(reason)),
                    }
                }
            })
            .buffer_unordered(self.concurrency)
            .ready_chunks(MARK_GROUP);
        while let Some(group) = outcomes.next().await {
            self.mark(group, now, &mut done).await?;
        }
        Ok(done)
    }

    /// Records the outcomes of some sends in one transaction.
    async fn mark(
        &self,
        group: Vec<(outbox_message::Model, Result<SendOutcome, &'static str>)>,
        now: DateTime<Utc>,
        done: &mut Delivered,
    ) -> AppResult<()> {
        let txn = crate::db::begin_write(&self.db).await?;
        for (message, outcome) in group {
            let (status, error, next) = match outcome {
                Err(reason) => {
                    done.skipped += 1;
                    (OutboxStatus::Skipped, Some(reason.to_owned()), None)
                }
                Ok(SendOutcome::Sent) => {
                    done.sent += 1;
                    (OutboxStatus::Sent, None, None)
                }
                Ok(SendOutcome::Refused { errcode, reason }) => {
                    done.failed += 1;
                    (
                        OutboxStatus::Failed,
                        Some(format!("errcode {errcode}: {reason}")),
                        None,
                    )
                }
                Ok(SendOutcome::Retry { reason }) if message.attempts >= self.max_attempts => {
                    done.failed += 1;
                    (OutboxStatus::Failed, Some(reason), None)
                }
                Ok(SendOutcome::Retry { reason }) => {
                    done.retried += 1;
                    (
                        OutboxStatus::Pending,
                        Some(reason),
                        Some(now + backoff(message.attempts)),
                    )
                }
            };
            let mut update = outbox_message::Entity::update_many()
                .col_expr(outbox_message::Column::Status, Expr::value(status))
                .col_expr(outbox_message::Column::LastError, Expr::value(error))
                .col_expr(
                    outbox_message::Column::ClaimedUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                );
            if status == OutboxStatus::Sent {
                update = update.col_expr(outbox_message::Column::SentAt, Expr::value(now));
            }
            if let Some(next) = next {
                update = update.col_expr(outbox_message::Column::NextAttemptAt, Expr::value(next));
            }
            update
                .filter(outbox_message::Column::Id.eq(message.id))
                .filter(outbox_message::Column::ClaimedUntil.eq(message.claimed_until))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }
}

/// Where a tap on the message leads in the mini-program (pages take global IDs).
fn page_of(message: &outbox_message::Model) -> Option<String> {
    use crate::graphql::ids::{encode, type_name};
    let (page, type_name) = match message.kind {
        MessageKind::PaymentSucceeded | MessageKind::RefundDone => {
            ("pages/order/detail", type_name::ORDER)
        }
        MessageKind::LivestreamStarting | MessageKind::LivestreamLive => {
            ("pages/live/room", type_name::LIVESTREAM)
        }
        MessageKind::NewLesson => ("pages/lesson/detail", type_name::LESSON),
        MessageKind::MembershipEnding => ("pages/group/detail", type_name::COMMUNITY_GROUP),
        MessageKind::PostReply => ("pages/post/detail", type_name::GROUP_POST),
    };
    Some(format!(
        "{page}?id={}",
        encode(type_name, message.subject_id).as_str()
    ))
}
