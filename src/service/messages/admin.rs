//! The outbox as admins see it: every message with its state, and a retry for one that
//! failed or was skipped.

use chrono::Utc;
use entity::enums::{MessageKind, OutboxStatus};
use entity::outbox_message;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::page::{self, Counted, Page, PageRequest, SortKey};
use crate::service::validation::{FieldError, UserErrorCode};

/// Which messages to list; every field narrows.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutboxFilter {
    /// In this state.
    pub status: Option<OutboxStatus>,
    /// Of this kind.
    pub kind: Option<MessageKind>,
    /// To this user.
    pub user_id: Option<i64>,
}

/// Messages newest first (admins on the console).
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: OutboxFilter,
    request: &PageRequest,
) -> AppResult<(Page<outbox_message::Model>, Counted<outbox_message::Entity>)> {
    actor.require_console_admin()?;
    let mut query = outbox_message::Entity::find();
    if let Some(status) = filter.status {
        query = query.filter(outbox_message::Column::Status.eq(status));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(outbox_message::Column::Kind.eq(kind));
    }
    if let Some(user_id) = filter.user_id {
        query = query.filter(outbox_message::Column::UserId.eq(user_id));
    }
    let sort = SortKey {
        key: None,
        id: outbox_message::Column::Id,
        descending: true,
    };
    page::fetch(db, query, &sort, request, |m| m.id).await
}

/// One message (admins on the console).
pub async fn get(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> AppResult<Option<outbox_message::Model>> {
    actor.require_console_admin()?;
    Ok(outbox_message::Entity::find_by_id(id).one(db).await?)
}

/// Puts a FAILED or SKIPPED message back in the queue, due now, with its attempts
/// counted afresh (a message already on its way or sent is refused: INVALID_STATE).
/// The app it was decided for stays, so a retry spends no second consent.
pub async fn retry(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> AppResult<outbox_message::Model> {
    actor.require_console_admin()?;
    let now = Utc::now();
    let moved = outbox_message::Entity::update_many()
        .col_expr(
            outbox_message::Column::Status,
            Expr::value(OutboxStatus::Pending),
        )
        .col_expr(outbox_message::Column::Attempts, Expr::value(0))
        .col_expr(outbox_message::Column::NextAttemptAt, Expr::value(now))
        .filter(outbox_message::Column::Id.eq(id))
        .filter(outbox_message::Column::Status.is_in([OutboxStatus::Failed, OutboxStatus::Skipped]))
        .exec(db)
        .await?;
    let row = outbox_message::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("notification"))?;
    if moved.rows_affected == 0 {
        return Err(FieldError::new(
            "notification",
            UserErrorCode::InvalidState,
            "only a FAILED or SKIPPED message can be retried",
        )
        .into());
    }
    Ok(row)
}
