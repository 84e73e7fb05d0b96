//! Orders and entitlements are personal data: never readable anonymously.
//!
//! Admins see every order; a signed-in user sees their own orders and entitlements.
//! (Creators' view of what they sold arrives with the orders work.)

use entity::{entitlement, order};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::page::{self, Counted, Page, PageRequest, SortKey};

const PRIVATE: AppError =
    AppError::Forbidden("orders and entitlements are visible only to their owner and admins");

/// One page of orders visible to the actor, newest first: all of them (or one buyer's)
/// for admins, the actor's own otherwise.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    buyer_id: Option<i64>,
    page: &PageRequest,
) -> AppResult<(Page<order::Model>, Counted<order::Entity>)> {
    let user_id = actor.user_id().ok_or(PRIVATE)?;
    let buyer_id = match buyer_id {
        Some(buyer) if actor.is_admin() || buyer == user_id => Some(buyer),
        Some(_) => return Err(PRIVATE),
        None if actor.is_admin() => None,
        None => Some(user_id),
    };
    let mut query = order::Entity::find();
    if let Some(buyer_id) = buyer_id {
        query = query.filter(order::Column::BuyerId.eq(buyer_id));
    }
    let sort = SortKey {
        key: None,
        id: order::Column::Id,
        descending: true,
    };
    page::fetch(db, query, &sort, page, |o| o.id).await
}

/// One order, if the actor may see it.
pub async fn get(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> AppResult<order::Model> {
    if actor.user_id().is_none() {
        return Err(PRIVATE);
    }
    let row = order::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("order"))?;
    if actor.is_admin() || actor.user_id() == Some(row.buyer_id) {
        Ok(row)
    } else {
        Err(PRIVATE)
    }
}

/// A user's entitlements, if the actor is that user or an admin.
pub async fn entitlements_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    user_id: i64,
    page: &PageRequest,
) -> AppResult<(Page<entitlement::Model>, Counted<entitlement::Entity>)> {
    if !(actor.is_admin() || actor.user_id() == Some(user_id)) {
        return Err(PRIVATE);
    }
    let query = entitlement::Entity::find()
        .filter(entitlement::Column::UserId.eq(user_id))
        .filter(entitlement::Column::RevokedAt.is_null());
    let sort = SortKey {
        key: None,
        id: entitlement::Column::Id,
        descending: true,
    };
    page::fetch(db, query, &sort, page, |e| e.id).await
}

/// One entitlement, if the actor owns it or is an admin.
pub async fn entitlement(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> AppResult<entitlement::Model> {
    if actor.user_id().is_none() {
        return Err(PRIVATE);
    }
    let row = entitlement::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("entitlement"))?;
    if actor.is_admin() || actor.user_id() == Some(row.user_id) {
        Ok(row)
    } else {
        Err(PRIVATE)
    }
}
