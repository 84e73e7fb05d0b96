//! Creators: the public profiles of sellers, and their followers.

use std::collections::HashMap;

use entity::{creator, follow};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, Select,
};

use crate::error::AppResult;
use crate::service::Direction;
use crate::service::page::{self, Page, PageRequest, SortKey, SortValue};
use crate::service::validation::{FieldError, UserErrorCode};

/// Filters of the creator list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CreatorFilter {
    /// Case-insensitive text contained in the display name.
    pub name_contains: Option<String>,
}

/// Orderings of the creator list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CreatorSort {
    /// By when the profile was created.
    #[default]
    Newest,
    /// By display name.
    Name,
}

/// The creators a list with `filter` holds (the same for everyone who asks, so its
/// pages may be shared: `service::read_cache`).
pub fn listed(filter: &CreatorFilter) -> Select<creator::Entity> {
    let mut query = creator::Entity::find();
    if let Some(text) = filter
        .name_contains
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        query = query.filter(page::column_contains(
            creator::Column::DisplayName,
            text.trim(),
        ));
    }
    query
}

/// One page of a list [`listed`] made, in the given order.
pub async fn fetch_page(
    db: &impl ConnectionTrait,
    listed: Select<creator::Entity>,
    sort: CreatorSort,
    direction: Direction,
    page: &PageRequest,
) -> AppResult<Page<creator::Model>> {
    let key: (_, fn(&creator::Model) -> SortValue) = match sort {
        CreatorSort::Newest => (Expr::col(creator::Column::CreatedAt), |c| {
            SortValue::Time(c.created_at)
        }),
        CreatorSort::Name => (Expr::col(creator::Column::DisplayName), |c| {
            SortValue::Text(c.display_name.clone())
        }),
    };
    let sort = SortKey {
        key: Some(key),
        id: creator::Column::Id,
        descending: direction.descending(),
    };
    let (rows, _) = page::fetch(db, listed, &sort, page, |c| c.id).await?;
    Ok(rows)
}

/// Creators by id in one query.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, creator::Model>> {
    Ok(creator::Entity::find()
        .filter(creator::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect())
}

/// Creator profiles by their user's id in one query.
pub async fn by_user_ids(
    db: &impl ConnectionTrait,
    user_ids: &[i64],
) -> AppResult<HashMap<i64, creator::Model>> {
    Ok(creator::Entity::find()
        .filter(creator::Column::UserId.is_in(user_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.user_id, c))
        .collect())
}

#[derive(Debug, FromQueryResult)]
struct FollowerCount {
    creator_id: i64,
    followers: i64,
}

/// Ids of the creators a user follows.
pub async fn followed_by(db: &impl ConnectionTrait, user_id: i64) -> AppResult<Vec<i64>> {
    Ok(follow::Entity::find()
        .select_only()
        .column(follow::Column::CreatorId)
        .filter(follow::Column::UserId.eq(user_id))
        .into_tuple::<i64>()
        .all(db)
        .await?)
}

/// Follower counts of several creators in one query (absent creators have none).
pub async fn follower_counts(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, i64>> {
    let rows = follow::Entity::find()
        .select_only()
        .column(follow::Column::CreatorId)
        .column_as(follow::Column::Id.count(), "followers")
        .filter(follow::Column::CreatorId.is_in(ids.iter().copied()))
        .group_by(follow::Column::CreatorId)
        .into_model::<FollowerCount>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.creator_id, r.followers))
        .collect())
}

async fn creator_or_not_found(
    db: &sea_orm::DatabaseConnection,
    creator_id: i64,
) -> AppResult<creator::Model> {
    creator::Entity::find_by_id(creator_id)
        .one(db)
        .await?
        .ok_or_else(|| crate::service::not_found("creator"))
}

/// Follows a creator (following twice changes nothing; nobody follows themself).
pub async fn follow(
    db: &sea_orm::DatabaseConnection,
    actor: &crate::auth::Actor,
    creator_id: i64,
) -> AppResult<creator::Model> {
    use sea_orm::ActiveValue::Set;
    use sea_orm::sea_query::OnConflict;
    let user_id = actor.require_user()?;
    let target = creator_or_not_found(db, creator_id).await?;
    if target.user_id == user_id {
        return Err(FieldError::new(
            "creator",
            UserErrorCode::Invalid,
            "you cannot follow yourself",
        )
        .into());
    }
    follow::Entity::insert(follow::ActiveModel {
        user_id: Set(user_id),
        creator_id: Set(target.id),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([follow::Column::UserId, follow::Column::CreatorId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(target)
}

/// Stops following a creator.
pub async fn unfollow(
    db: &sea_orm::DatabaseConnection,
    actor: &crate::auth::Actor,
    creator_id: i64,
) -> AppResult<creator::Model> {
    let user_id = actor.require_user()?;
    let target = creator_or_not_found(db, creator_id).await?;
    follow::Entity::delete_many()
        .filter(follow::Column::UserId.eq(user_id))
        .filter(follow::Column::CreatorId.eq(target.id))
        .exec(db)
        .await?;
    Ok(target)
}
