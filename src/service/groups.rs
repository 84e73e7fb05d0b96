//! Community groups, their members and posts.

use entity::{community_group, group_membership, group_post};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::error::AppResult;
use crate::service::Direction;
use crate::service::page::{self, Counted, Page, PageRequest, SortKey, SortValue};

/// Filters of the group list.
#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    /// Only this creator's groups.
    pub creator_id: Option<i64>,
    /// Only free (true) or only paid (false) groups.
    pub free: Option<bool>,
    /// Case-insensitive text contained in the name.
    pub name_contains: Option<String>,
}

/// One page of groups, newest first unless asked otherwise.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: GroupFilter,
    direction: Direction,
    page: &PageRequest,
) -> AppResult<(
    Page<community_group::Model>,
    Counted<community_group::Entity>,
)> {
    let mut query = community_group::Entity::find();
    if let Some(creator_id) = filter.creator_id {
        query = query.filter(community_group::Column::CreatorId.eq(creator_id));
    }
    match filter.free {
        Some(true) => query = query.filter(community_group::Column::PriceFen.eq(0)),
        Some(false) => query = query.filter(community_group::Column::PriceFen.gt(0)),
        None => {}
    }
    if let Some(text) = filter.name_contains.filter(|t| !t.trim().is_empty()) {
        query = query.filter(page::column_contains(
            community_group::Column::Name,
            text.trim(),
        ));
    }
    let sort = SortKey {
        key: Some((
            Expr::col(community_group::Column::CreatedAt),
            |g: &community_group::Model| SortValue::Time(g.created_at),
        )),
        id: community_group::Column::Id,
        descending: direction.descending(),
    };
    page::fetch(db, query, &sort, page, |g| g.id).await
}

/// One group.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> AppResult<Option<community_group::Model>> {
    Ok(community_group::Entity::find_by_id(id).one(db).await?)
}

/// One page of a group's memberships, most recent first.
pub async fn members(
    db: &impl ConnectionTrait,
    group_id: i64,
    page: &PageRequest,
) -> AppResult<(
    Page<group_membership::Model>,
    Counted<group_membership::Entity>,
)> {
    let query =
        group_membership::Entity::find().filter(group_membership::Column::GroupId.eq(group_id));
    let sort = SortKey {
        key: None,
        id: group_membership::Column::Id,
        descending: true,
    };
    page::fetch(db, query, &sort, page, |m| m.id).await
}

/// One page of a group's posts, newest first; `pinned` keeps only (un)pinned posts.
pub async fn posts(
    db: &impl ConnectionTrait,
    group_id: i64,
    pinned: Option<bool>,
    page: &PageRequest,
) -> AppResult<(Page<group_post::Model>, Counted<group_post::Entity>)> {
    let mut query = group_post::Entity::find().filter(group_post::Column::GroupId.eq(group_id));
    if let Some(pinned) = pinned {
        query = query.filter(group_post::Column::Pinned.eq(pinned));
    }
    let sort = SortKey {
        key: Some((
            Expr::col(group_post::Column::CreatedAt),
            |p: &group_post::Model| SortValue::Time(p.created_at),
        )),
        id: group_post::Column::Id,
        descending: true,
    };
    page::fetch(db, query, &sort, page, |p| p.id).await
}

/// One post with its group.
pub async fn post(
    db: &impl ConnectionTrait,
    id: i64,
) -> AppResult<Option<(group_post::Model, community_group::Model)>> {
    let Some(post) = group_post::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(get(db, post.group_id).await?.map(|group| (post, group)))
}

/// Groups by id in one query.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, community_group::Model>> {
    Ok(community_group::Entity::find()
        .filter(community_group::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.id, g))
        .collect())
}
