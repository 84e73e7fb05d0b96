//! Conversation in groups (社群): replies to posts and likes on them. Likes are one per
//! member and post; the post's `reply_count` and `like_count` are kept exact in the same transaction as the like (an atomic
//! increment after an insert the unique index admitted, a decrement after a delete that
//! removed a row), so concurrent likes never lose or double a count.

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
    let (post, group) = groups::post(db, post_id)
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

/// Whether `user_id` likes the post.
pub async fn likes(
    db: &impl sea_orm::ConnectionTrait,
    user_id: i64,
    post_id: i64,
) -> AppResult<bool> {
    Ok(post_like::Entity::find()
        .filter(post_like::Column::PostId.eq(post_id))
        .filter(post_like::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .is_some())
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
    let (post, group) = groups::post(db, post_id)
        .await?
        .ok_or_else(|| not_found("post"))?;
    if !groups::is_member(db, actor, &group).await? {
        return Err(AppError::Forbidden("join the group to reply"));
    }
    let mut checks = Checks::new();
    let body = checks.text("body", body, 2_000);
    checks.finish()?;
    if let Some(answered) = reply_to {
        let same_post = group_reply::Entity::find_by_id(answered)
            .one(db)
            .await?
            .is_some_and(|r| r.post_id == post.id);
        if !same_post {
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
    let (_, group) = groups::post(db, post_id)
        .await?
        .ok_or_else(|| not_found("post"))?;
    let product = crate::service::access::ProductRef::group(&group);
    if !crate::service::access::can_open(db, actor, &product).await? {
        return Err(AppError::Forbidden(
            "the group's conversation is for its members",
        ));
    }
    let sort = SortKey {
        key: None,
        id: group_reply::Column::Id,
        descending: false,
    };
    let query = group_reply::Entity::find().filter(group_reply::Column::PostId.eq(post_id));
    page::fetch(db, query, &sort, request, |r| r.id).await
}
