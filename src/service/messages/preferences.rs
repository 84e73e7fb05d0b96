//! What each user agreed to receive: one-time mini-program consents per template
//! (from `wx.requestSubscribeMessage`) and the kinds they switched off.

use chrono::Utc;
use entity::enums::MessageKind;
use entity::{message_consent, notification_opt_out};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Iterable,
    QueryFilter,
};

use super::Templates;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::validation::{FieldError, UserErrorCode};

/// Most one-time consents of one template a user can bank.
pub const MAX_CONSENTS: i32 = 50;
/// Most answers in one report (WeChat asks for at most 3 templates at once; a page
/// may report several prompts together).
const MAX_ANSWERS: usize = 20;

/// The user's answer for one template in `wx.requestSubscribeMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentAnswer {
    /// The template.
    pub template_id: String,
    /// `accept` (anything else, `reject`, `ban`, `filter`, allows nothing).
    pub accepted: bool,
}

/// A template the user may be sent, with how many one-time sends they banked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// The kind of message the template is for.
    pub kind: MessageKind,
    /// The mini-program template.
    pub template_id: String,
    /// Sends left.
    pub remaining: i32,
}

/// Records what the signed-in user answered in `wx.requestSubscribeMessage`: one more
/// one-time send for each accepted template (at most [`MAX_CONSENTS`] banked per
/// template). Every template named must be one of ours. Returns how many were
/// recorded.
pub async fn record_consent(
    db: &DatabaseConnection,
    templates: &Templates,
    actor: &Actor,
    answers: &[ConsentAnswer],
) -> AppResult<usize> {
    let user_id = actor.require_user()?;
    if answers.is_empty() || answers.len() > MAX_ANSWERS {
        return Err(FieldError::new(
            "templates",
            UserErrorCode::OutOfRange,
            format!("give 1 to {MAX_ANSWERS} answers"),
        )
        .into());
    }
    if let Some(unknown) = answers
        .iter()
        .find(|a| !templates.is_mini_program_template(a.template_id.trim()))
    {
        return Err(FieldError::new(
            "templates",
            UserErrorCode::Invalid,
            format!(
                "{} is not one of this platform's message templates",
                unknown.template_id
            ),
        )
        .into());
    }
    let accepted: Vec<&str> = answers
        .iter()
        .filter(|a| a.accepted)
        .map(|a| a.template_id.trim())
        .collect();
    if accepted.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    for template_id in &accepted {
        message_consent::Entity::insert(message_consent::ActiveModel {
            user_id: Set(user_id),
            template_id: Set((*template_id).to_owned()),
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
    Ok(accepted.len())
}

/// The user themself, or an admin on the console (else FORBIDDEN).
pub fn require_self(actor: &Actor, user_id: i64) -> AppResult<()> {
    if actor.require_user()? == user_id {
        return Ok(());
    }
    actor
        .require_console_admin()
        .map_err(|_| AppError::Forbidden("notification settings are the user's own"))
}

/// Every message kind with whether `user_id` receives it (all are on until switched
/// off); the user themself and admins only.
pub async fn settings(
    db: &impl ConnectionTrait,
    actor: &Actor,
    user_id: i64,
) -> AppResult<Vec<(MessageKind, bool)>> {
    require_self(actor, user_id)?;
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

/// The mini-program templates `user_id` may be sent and the one-time sends banked for
/// each (0 when none): what a page looks at before asking again.
pub async fn consents(
    db: &impl ConnectionTrait,
    templates: &Templates,
    actor: &Actor,
    user_id: i64,
) -> AppResult<Vec<Consent>> {
    require_self(actor, user_id)?;
    let banked: Vec<(String, i32)> = message_consent::Entity::find()
        .filter(message_consent::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.template_id, c.remaining))
        .collect();
    let mut consents: Vec<Consent> = templates
        .mini_program
        .iter()
        .map(|(kind, template_id)| Consent {
            kind: *kind,
            template_id: template_id.clone(),
            remaining: banked
                .iter()
                .find(|(t, _)| t == template_id)
                .map_or(0, |(_, n)| *n),
        })
        .collect();
    consents.sort_by_key(|c| MessageKind::iter().position(|k| k == c.kind));
    Ok(consents)
}

/// Switches kinds of message on or off for the signed-in user, in one transaction;
/// returns every setting.
pub async fn update_settings(
    db: &DatabaseConnection,
    actor: &Actor,
    changes: &[(MessageKind, bool)],
) -> AppResult<Vec<(MessageKind, bool)>> {
    let user_id = actor.require_user()?;
    let txn = crate::db::begin_write(db).await?;
    for &(kind, enabled) in changes {
        if enabled {
            notification_opt_out::Entity::delete_many()
                .filter(notification_opt_out::Column::UserId.eq(user_id))
                .filter(notification_opt_out::Column::Kind.eq(kind))
                .exec(&txn)
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
            .exec_without_returning(&txn)
            .await?;
        }
    }
    txn.commit().await?;
    settings(db, actor, user_id).await
}
