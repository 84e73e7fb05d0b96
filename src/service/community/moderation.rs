//! Moderation of groups: the group's creator and admins mute a member for a while or
//! remove them (a removed member may not rejoin, post or read a paid group; their paid
//! membership ends with no refund unless the owner refunds the order), and members
//! report posts for admins to review.

use chrono::{DateTime, Utc};
use entity::{
    community_group, entitlement, enums::ProductKind, group_membership, group_mute, group_removal,
    post_report,
};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, Set,
};

use super::posts;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::effects::{Effects, Event};
use crate::service::page::{self, Counted, Page, PageRequest, SortKey};
use crate::service::validation::{Checks, FieldError, UserErrorCode};
use crate::service::{groups, not_found, require_owner};

/// The longest mute, in days.
const MAX_MUTE_DAYS: i64 = 365;

/// Refuses (a MUTED user error on `field`) when the user is muted in the group now.
pub async fn refuse_if_muted(
    db: &impl ConnectionTrait,
    group_id: i64,
    user_id: i64,
    field: &str,
) -> AppResult<()> {
    let mute = group_mute::Entity::find()
        .filter(group_mute::Column::GroupId.eq(group_id))
        .filter(group_mute::Column::UserId.eq(user_id))
        .filter(group_mute::Column::MutedUntil.gt(Utc::now()))
        .one(db)
        .await?;
    match mute {
        Some(mute) => Err(FieldError::new(
            field,
            UserErrorCode::Muted,
            format!(
                "you are muted in this group until {}",
                mute.muted_until.to_rfc3339()
            ),
        )
        .into()),
        None => Ok(()),
    }
}

/// Who may remove a post or reply, and the reason kept with it: its author their own
/// without one; the group's creator and admins anything, with a reason (1 to 200
/// characters). A refusal is FORBIDDEN, a missing reason a REQUIRED user error.
pub fn removal_reason(
    actor: &Actor,
    author_id: i64,
    group: &community_group::Model,
    reason: Option<&str>,
) -> AppResult<Option<String>> {
    if actor.user_id() == Some(author_id) && reason.is_none() {
        return Ok(None);
    }
    require_owner(actor, group.creator_id)?;
    let mut checks = Checks::new();
    let reason = checks.text("reason", reason.unwrap_or_default(), 200);
    checks.finish()?;
    Ok(Some(reason))
}

/// Whether the user was removed from the group.
pub async fn removed(db: &impl ConnectionTrait, group_id: i64, user_id: i64) -> AppResult<bool> {
    Ok(group_removal::Entity::find()
        .filter(group_removal::Column::GroupId.eq(group_id))
        .filter(group_removal::Column::UserId.eq(user_id))
        .count(db)
        .await?
        > 0)
}

/// The group, once the actor is checked to be its creator or an admin.
async fn moderated_group(
    db: &impl ConnectionTrait,
    actor: &Actor,
    group_id: i64,
) -> AppResult<community_group::Model> {
    actor.require_user()?;
    let group = groups::get(db, group_id)
        .await?
        .ok_or_else(|| not_found("group"))?;
    require_owner(actor, group.creator_id)?;
    Ok(group)
}

/// Refuses to act on the group's own creator (they run it).
async fn refuse_owner(
    db: &impl ConnectionTrait,
    group: &community_group::Model,
    user_id: i64,
) -> AppResult<()> {
    let owner = entity::creator::Entity::find_by_id(group.creator_id)
        .one(db)
        .await?
        .map(|c| c.user_id);
    if owner == Some(user_id) {
        return Err(FieldError::new(
            "user",
            UserErrorCode::InvalidState,
            "the group's creator cannot be muted or removed",
        )
        .into());
    }
    if entity::user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .is_none()
    {
        return Err(not_found("user"));
    }
    Ok(())
}

/// Mutes a member in a group until `until` (in the future, within a year), or ends a
/// mute when `until` is `None`: the group's creator or an admin. A new mute replaces
/// the old one.
pub async fn mute(
    db: &DatabaseConnection,
    actor: &Actor,
    group_id: i64,
    user_id: i64,
    until: Option<DateTime<Utc>>,
    reason: Option<&str>,
) -> AppResult<community_group::Model> {
    let group = moderated_group(db, actor, group_id).await?;
    refuse_owner(db, &group, user_id).await?;
    let now = Utc::now();
    let Some(until) = until else {
        group_mute::Entity::delete_many()
            .filter(group_mute::Column::GroupId.eq(group.id))
            .filter(group_mute::Column::UserId.eq(user_id))
            .exec(db)
            .await?;
        return Ok(group);
    };
    let mut checks = Checks::new();
    if until <= now || until > now + chrono::Duration::days(MAX_MUTE_DAYS) {
        checks.fail(
            "until",
            UserErrorCode::OutOfRange,
            "a mute ends in the future, within a year",
        );
    }
    let reason = checks.optional_text("reason", reason, 200);
    checks.finish()?;
    group_mute::Entity::insert(group_mute::ActiveModel {
        group_id: Set(group.id),
        user_id: Set(user_id),
        muted_until: Set(until),
        reason: Set(reason),
        muted_by_id: Set(actor.user_id()),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([group_mute::Column::GroupId, group_mute::Column::UserId])
            .update_columns([
                group_mute::Column::MutedUntil,
                group_mute::Column::Reason,
                group_mute::Column::MutedById,
                group_mute::Column::CreatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(group)
}

/// Removes a member from a group for good: the group's creator or an admin, with a
/// reason. Their membership and their paid access to the group end in one
/// transaction; nothing is refunded (the owner may refund the order).
pub async fn remove_member(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    group_id: i64,
    user_id: i64,
    reason: &str,
) -> AppResult<community_group::Model> {
    let group = moderated_group(db, actor, group_id).await?;
    refuse_owner(db, &group, user_id).await?;
    let mut checks = Checks::new();
    let reason = checks.text("reason", reason, 200);
    checks.finish()?;
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    group_removal::Entity::insert(group_removal::ActiveModel {
        group_id: Set(group.id),
        user_id: Set(user_id),
        reason: Set(Some(reason)),
        removed_by_id: Set(actor.user_id()),
        removed_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            group_removal::Column::GroupId,
            group_removal::Column::UserId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    group_membership::Entity::delete_many()
        .filter(group_membership::Column::GroupId.eq(group.id))
        .filter(group_membership::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    entitlement::Entity::update_many()
        .col_expr(entitlement::Column::RevokedAt, Expr::value(now))
        .filter(entitlement::Column::UserId.eq(user_id))
        .filter(entitlement::Column::ProductKind.eq(ProductKind::Group))
        .filter(entitlement::Column::ProductId.eq(group.id))
        .filter(entitlement::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    effects
        .publish(
            db,
            Event::MembershipChanged {
                user_id,
                group_id: group.id,
            },
        )
        .await;
    Ok(group)
}

/// Reports a post as a reader of its group (one report per reader and post; a repeat
/// keeps the first). Answers the report.
pub async fn report(
    db: &DatabaseConnection,
    actor: &Actor,
    post_id: i64,
    reason: &str,
) -> AppResult<post_report::Model> {
    let user_id = actor.require_user()?;
    let (post, group) = posts::get(db, post_id)
        .await?
        .ok_or_else(|| not_found("post"))?;
    if !posts::can_read(db, actor, &group).await? {
        return Err(AppError::Forbidden(
            "only readers of the group may report its posts",
        ));
    }
    let mut checks = Checks::new();
    let reason = checks.text("reason", reason, 500);
    checks.finish()?;
    post_report::Entity::insert(post_report::ActiveModel {
        post_id: Set(post.id),
        reporter_id: Set(user_id),
        reason: Set(reason),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([post_report::Column::PostId, post_report::Column::ReporterId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    post_report::Entity::find()
        .filter(post_report::Column::PostId.eq(post.id))
        .filter(post_report::Column::ReporterId.eq(user_id))
        .one(db)
        .await?
        .ok_or_else(|| not_found("post"))
}

/// Reports for admins on the console, oldest first; `open` keeps only unresolved
/// (true) or resolved (false) ones.
pub async fn reports(
    db: &impl ConnectionTrait,
    actor: &Actor,
    open: Option<bool>,
    page: &PageRequest,
) -> AppResult<(Page<post_report::Model>, Counted<post_report::Entity>)> {
    actor.require_console_admin()?;
    let mut query = post_report::Entity::find();
    match open {
        Some(true) => query = query.filter(post_report::Column::ResolvedAt.is_null()),
        Some(false) => query = query.filter(post_report::Column::ResolvedAt.is_not_null()),
        None => {}
    }
    let sort = SortKey {
        key: None,
        id: post_report::Column::Id,
        descending: false,
    };
    page::fetch(db, query, &sort, page, |r| r.id).await
}

/// Marks a report as dealt with (admins); resolving twice keeps the first time.
pub async fn resolve_report(
    db: &DatabaseConnection,
    actor: &Actor,
    report_id: i64,
) -> AppResult<post_report::Model> {
    actor.require_console_admin()?;
    post_report::Entity::update_many()
        .col_expr(post_report::Column::ResolvedAt, Expr::value(Utc::now()))
        .col_expr(
            post_report::Column::ResolvedById,
            Expr::value(actor.user_id()),
        )
        .filter(post_report::Column::Id.eq(report_id))
        .filter(post_report::Column::ResolvedAt.is_null())
        .exec(db)
        .await?;
    post_report::Entity::find_by_id(report_id)
        .one(db)
        .await?
        .ok_or_else(|| not_found("report"))
}

/// Posts by id in one query, removed ones included (what the reports are about).
pub async fn reported_posts(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, entity::group_post::Model>> {
    Ok(entity::group_post::Entity::find()
        .filter(entity::group_post::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect())
}
