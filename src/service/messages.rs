//! Messages that bring learners back, through an outbox.
//!
//! - An event that should tell someone something ([`enqueue`]) writes one
//!   `outbox_messages` row in its own transaction: if the event commits, the message is
//!   there; if not, neither is. The row's key is the event and the recipient, so an
//!   event applied twice (a repeated notification) writes it once.
//! - The worker ([`Outbox::deliver_due`]) claims due rows in batches, decides each
//!   (the kind switched off, no template, no identity, no consent: SKIPPED; a
//!   mini-program message spends one of the user's one-time consents, once), sends them
//!   with a bounded number in flight, and records each outcome: SENT; FAILED for a final
//!   refusal (43101, the user has not subscribed, is never retried) or after the last
//!   attempt; otherwise PENDING again with exponential backoff.
//! - A claim lasts [`CLAIM_SECS`]: rows of a worker that died mid-batch are claimed again
//!   after it, and sent unless they were marked SENT. (A send WeChat took whose mark was
//!   lost with the worker goes again: WeChat has no idempotency key for messages, and the
//!   window is one send.)

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use entity::enums::{IdentityApp, MessageKind, OutboxStatus};
use entity::{message_consent, notification_opt_out, outbox_message};
use futures_util::StreamExt;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    EntityTrait, Iterable, QueryFilter, QueryOrder, QuerySelect,
};

use crate::auth::Actor;
use crate::config::MessagesConfig;
use crate::error::{AppError, AppResult};
use crate::messaging::{Channel, Messenger, OutgoingMessage, SendOutcome};
use crate::service::identities;
use crate::service::validation::{FieldError, UserErrorCode};

/// How long a worker holds the messages it claimed.
pub const CLAIM_SECS: i64 = 60;
/// Longest wait between two attempts.
const MAX_BACKOFF_SECS: i64 = 3_600;
/// Most one-time consents of one template a user can bank.
pub const MAX_CONSENTS: i32 = 50;

/// The configured templates of each kind, per app.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    mini_program: HashMap<MessageKind, String>,
    official_account: HashMap<MessageKind, String>,
}

impl Templates {
    /// The templates of `ZHIKU_MP_TEMPLATE_*` and `ZHIKU_OA_TEMPLATE_*` (empty: not sent).
    pub fn from_config(config: &MessagesConfig) -> Self {
        let pick = |pairs: [(MessageKind, &String); 1]| {
            pairs
                .into_iter()
                .filter(|(_, template)| !template.trim().is_empty())
                .map(|(kind, template)| (kind, template.trim().to_owned()))
                .collect()
        };
        Templates {
            mini_program: pick([(
                MessageKind::PaymentSucceeded,
                &config.mp_template_payment_succeeded,
            )]),
            official_account: pick([(
                MessageKind::PaymentSucceeded,
                &config.oa_template_payment_succeeded,
            )]),
        }
    }

    fn of(&self, channel: Channel, kind: MessageKind) -> Option<&str> {
        match channel {
            Channel::MiniProgram => self.mini_program.get(&kind),
            Channel::OfficialAccount => self.official_account.get(&kind),
        }
        .map(String::as_str)
    }

    fn is_mini_program_template(&self, template_id: &str) -> bool {
        self.mini_program.values().any(|t| t == template_id)
    }
}

/// Writes a message to `user_id` about `subject_id` into the outbox, inside the
/// caller's transaction (nothing when this event already wrote it). `values` are the
/// template values by key.
pub async fn enqueue(
    txn: &impl ConnectionTrait,
    kind: MessageKind,
    user_id: i64,
    subject_id: i64,
    values: &BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    outbox_message::Entity::insert(outbox_message::ActiveModel {
        idempotency_key: Set(format!("{}:{subject_id}:{user_id}", kind.to_value())),
        user_id: Set(user_id),
        kind: Set(kind),
        subject_id: Set(subject_id),
        values: Set(serde_json::to_string(values).map_err(AppError::internal)?),
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

/// Records what the signed-in user accepted in `wx.requestSubscribeMessage`: one more
/// one-time send for each template id (configured ones only; at most
/// [`MAX_CONSENTS`] banked per template). Returns how many were recorded.
pub async fn record_consent(
    db: &DatabaseConnection,
    templates: &Templates,
    actor: &Actor,
    template_ids: &[String],
) -> AppResult<usize> {
    let user_id = actor.require_user()?;
    if template_ids.is_empty() || template_ids.len() > 20 {
        return Err(FieldError::new(
            "templates",
            UserErrorCode::OutOfRange,
            "give 1 to 20 template ids",
        )
        .into());
    }
    if let Some(unknown) = template_ids
        .iter()
        .find(|t| !templates.is_mini_program_template(t.trim()))
    {
        return Err(FieldError::new(
            "templates",
            UserErrorCode::Invalid,
            format!("{unknown} is not one of this platform's message templates"),
        )
        .into());
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    for template_id in template_ids {
        message_consent::Entity::insert(message_consent::ActiveModel {
            user_id: Set(user_id),
            template_id: Set(template_id.trim().to_owned()),
            remaining: Set(1),
            updated_at: Set(now),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([
                message_consent::Column::UserId,
                message_consent::Column::TemplateId,
            ])
            .value(
                message_consent::Column::Remaining,
                Expr::cust(format!(
                    "CASE WHEN message_consents.remaining < {MAX_CONSENTS} \
                     THEN message_consents.remaining + 1 ELSE message_consents.remaining END"
                )),
            )
            .value(message_consent::Column::UpdatedAt, Expr::value(now))
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(template_ids.len())
}

/// Every message kind with whether the signed-in user receives it (all are on until
/// switched off).
pub async fn settings(
    db: &impl ConnectionTrait,
    actor: &Actor,
) -> AppResult<Vec<(MessageKind, bool)>> {
    let user_id = actor.require_user()?;
    let off: Vec<MessageKind> = notification_opt_out::Entity::find()
        .filter(notification_opt_out::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|o| o.kind)
        .collect();
    Ok(MessageKind::iter()
        .map(|kind| (kind, !off.contains(&kind)))
        .collect())
}

/// Switches one kind of message on or off for the signed-in user; returns every
/// setting.
pub async fn set_setting(
    db: &DatabaseConnection,
    actor: &Actor,
    kind: MessageKind,
    enabled: bool,
) -> AppResult<Vec<(MessageKind, bool)>> {
    let user_id = actor.require_user()?;
    if enabled {
        notification_opt_out::Entity::delete_many()
            .filter(notification_opt_out::Column::UserId.eq(user_id))
            .filter(notification_opt_out::Column::Kind.eq(kind))
            .exec(db)
            .await?;
    } else {
        notification_opt_out::Entity::insert(notification_opt_out::ActiveModel {
            user_id: Set(user_id),
            kind: Set(kind),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([
                notification_opt_out::Column::UserId,
                notification_opt_out::Column::Kind,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    }
    settings(db, actor).await
}

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

        let outcomes: Vec<(outbox_message::Model, Result<SendOutcome, &'static str>)> =
            futures_util::stream::iter(plans)
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
                .collect()
                .await;

        let txn = crate::db::begin_write(&self.db).await?;
        for (message, outcome) in outcomes {
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
        Ok(done)
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
