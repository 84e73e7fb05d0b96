//! Conversation in groups (社群): posts ([`posts`]), replies to them and likes on them,
//! and moderation ([`moderation`]). Likes are one per member and post; the post's
//! `reply_count` and `like_count` are kept exact in the same transaction as the reply or
//! like (an atomic increment after an insert the unique index admitted, a decrement
//! after a delete or removal that changed a row), so concurrent members never lose or
//! double a count.

pub mod check_ins;
pub mod moderation;
pub mod posts;
pub mod questions;

use chrono::Utc;
use entity::{group_post, group_reply, post_like};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::page::{self, Counted, Page, PageRequest, SortKey};
use crate::service::{groups, not_found};

/// Likes (`like: true`) or unlikes a post as the actor, a member of its group (or its
/// creator or an admin); doing it twice changes nothing. Answers the post as it is now.
pub async fn set_like(
    db: &DatabaseConnection,
    actor: &Actor,
    post_id: i64,
    like: bool,
) -> AppResult<(group_post::Model, entity::community_group::Model)> {
    let user_id = actor.require_user()?;
    let (post, group) = posts::get(db, post_id)
        .await?
        .ok_or_else(|| not_found("post"))?;
    if !groups::is_member(db, actor, &group).await? {
        return Err(AppError::Forbidden("join the group to like its posts"));
    }
    let txn = crate::db::begin_write(db).await?;
    let changed = if like {
        post_like::Entity::insert(post_like::ActiveModel {
            post_id: Set(post.id),
            user_id: Set(user_id),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([post_like::Column::PostId, post_like::Column::UserId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?
    } else {
        post_like::Entity::delete_many()
            .filter(post_like::Column::PostId.eq(post.id))
            .filter(post_like::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?
            .rows_affected
    };
    if changed == 1 {
        let step = if like { 1 } else { -1 };
        group_post::Entity::update_many()
            .col_expr(
                group_post::Column::LikeCount,
                Expr::col(group_post::Column::LikeCount).add(step),
            )
            .filter(group_post::Column::Id.eq(post.id))
            .exec(&txn)
            .await?;
    }
    let now = group_post::Entity::find_by_id(post.id)
        .one(&txn)
        .await?
        .ok_or_else(|| not_found("post"))?;
    txn.commit().await?;
    Ok((now, group))
}

/// Of `post_ids`, those `user_id` likes (one query).
pub async fn liked(
    db: &impl sea_orm::ConnectionTrait,
    user_id: i64,
    post_ids: &[i64],
) -> AppResult<std::collections::HashSet<i64>> {
    use sea_orm::QuerySelect;
    let rows: Vec<i64> = post_like::Entity::find()
        .select_only()
        .column(post_like::Column::PostId)
        .filter(post_like::Column::PostId.is_in(post_ids.iter().copied()))
        .filter(post_like::Column::UserId.eq(user_id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Replies to a post as the actor, a member of its group (or its creator or an admin),
/// optionally answering another reply of the same post; the post's `reply_count` goes
/// up in the same transaction. Answers the reply.
pub async fn reply(
    db: &DatabaseConnection,
    actor: &Actor,
    post_id: i64,
    body: &str,
    reply_to: Option<i64>,
) -> AppResult<group_reply::Model> {
    use crate::service::validation::{Checks, FieldError, UserErrorCode};
    use sea_orm::ActiveModelTrait;
    let user_id = actor.require_user()?;
    let (post, group) = posts::get(db, post_id)
        .await?
        .ok_or_else(|| not_found("post"))?;
    if !groups::is_member(db, actor, &group).await? {
        return Err(AppError::Forbidden("join the group to reply"));
    }
    moderation::refuse_if_muted(db, group.id, user_id, "post").await?;
    let mut checks = Checks::new();
    let body = checks.text("body", body, 2_000);
    checks.finish()?;
    let mut answered_author = None;
    if let Some(answered) = reply_to {
        let answered = group_reply::Entity::find_by_id(answered)
            .one(db)
            .await?
            .filter(|r| r.post_id == post.id && r.deleted_at.is_none());
        answered_author = answered.as_ref().map(|r| r.author_id);
        if answered.is_none() {
            return Err(FieldError::new(
                "replyTo",
                UserErrorCode::NotFound,
                "no such reply to this post",
            )
            .into());
        }
    }
    let txn = crate::db::begin_write(db).await?;
    let written = group_reply::ActiveModel {
        post_id: Set(post.id),
        author_id: Set(user_id),
        reply_to_id: Set(reply_to),
        body: Set(body),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    group_post::Entity::update_many()
        .col_expr(
            group_post::Column::ReplyCount,
            Expr::col(group_post::Column::ReplyCount).add(1),
        )
        .filter(group_post::Column::Id.eq(post.id))
        .exec(&txn)
        .await?;
    // The author hears of it, in the same transaction: a message exactly when a reply.
    crate::service::messages::compose::post_reply(
        &txn,
        &post,
        &written,
        answered_author,
        Utc::now(),
    )
    .await?;
    txn.commit().await?;
    Ok(written)
}

/// One page of a post's replies in time order, for those who may open the group
/// (anyone for a free group; members of a paid one, its creator and admins).
pub async fn replies(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    post_id: i64,
    request: &PageRequest,
) -> AppResult<(Page<group_reply::Model>, Counted<group_reply::Entity>)> {
    let (_, group) = posts::get(db, post_id)
        .await?
        .ok_or_else(|| not_found("post"))?;
    if !posts::can_read(db, actor, &group).await? {
        return Err(AppError::Forbidden(
            "the group's conversation is for its members",
        ));
    }
    let sort = SortKey {
        key: None,
        id: group_reply::Column::Id,
        descending: false,
    };
    let query = group_reply::Entity::find()
        .filter(group_reply::Column::PostId.eq(post_id))
        .filter(group_reply::Column::DeletedAt.is_null());
    page::fetch(db, query, &sort, request, |r| r.id).await
}

/// Removes a reply (a soft delete, kept with who and why) and takes it off the post's
/// `reply_count` in the same transaction. Its author may delete their own; the group's
/// creator and admins may remove any, giving a reason. Answers the reply's post id.
pub async fn remove_reply(
    db: &DatabaseConnection,
    actor: &Actor,
    reply_id: i64,
    reason: Option<&str>,
) -> AppResult<i64> {
    let user_id = actor.require_user()?;
    let reply = group_reply::Entity::find_by_id(reply_id)
        .filter(group_reply::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| not_found("reply"))?;
    let (_, group) = posts::get(db, reply.post_id)
        .await?
        .ok_or_else(|| not_found("reply"))?;
    let reason = moderation::removal_reason(actor, reply.author_id, &group, reason)?;
    let txn = crate::db::begin_write(db).await?;
    let removed = group_reply::Entity::update_many()
        .col_expr(group_reply::Column::DeletedAt, Expr::value(Utc::now()))
        .col_expr(group_reply::Column::DeletedById, Expr::value(user_id))
        .col_expr(group_reply::Column::DeleteReason, Expr::value(reason))
        .filter(group_reply::Column::Id.eq(reply.id))
        .filter(group_reply::Column::DeletedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if removed == 0 {
        // Another request removed it first.
        return Err(not_found("reply"));
    }
    group_post::Entity::update_many()
        .col_expr(
            group_post::Column::ReplyCount,
            Expr::col(group_post::Column::ReplyCount).sub(1),
        )
        .filter(group_post::Column::Id.eq(reply.post_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(reply.post_id)
}
