//! Reading coupons: a learner's copies, a creator's coupons, a page's offers.

use chrono::{DateTime, Utc};
use entity::enums::{CouponDistribution, CouponScope, ProductKind, UserCouponStatus};
use entity::{coupon, coupon_product, user_coupon};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::issue::held_by;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::access::ProductRef;
use crate::service::page::{self, Counted, Page, PageRequest, SortKey};

/// A learner's copies, newest first, by state (EXPIRED: available but past the end).
pub async fn copies_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    user_id: i64,
    status: Option<CopyState>,
    request: &PageRequest,
) -> AppResult<(Page<user_coupon::Model>, Counted<user_coupon::Entity>)> {
    crate::service::messages::preferences::require_self(actor, user_id)?;
    let now = Utc::now();
    let live = sea_orm::sea_query::Query::select()
        .column(coupon::Column::Id)
        .from(coupon::Entity)
        .and_where(coupon::Column::EndsAt.gt(now))
        .to_owned();
    let mut query = user_coupon::Entity::find().filter(user_coupon::Column::UserId.eq(user_id));
    query = match status {
        None => query,
        Some(CopyState::Available) => query
            .filter(user_coupon::Column::Status.eq(UserCouponStatus::Available))
            .filter(user_coupon::Column::CouponId.in_subquery(live)),
        Some(CopyState::Expired) => query
            .filter(user_coupon::Column::Status.eq(UserCouponStatus::Available))
            .filter(user_coupon::Column::CouponId.not_in_subquery(live)),
        Some(CopyState::Reserved) => {
            query.filter(user_coupon::Column::Status.eq(UserCouponStatus::Reserved))
        }
        Some(CopyState::Used) => {
            query.filter(user_coupon::Column::Status.eq(UserCouponStatus::Used))
        }
    };
    let sort = SortKey {
        key: None,
        id: user_coupon::Column::Id,
        descending: true,
    };
    page::fetch(db, query, &sort, request, |c| c.id).await
}

/// A learner's copy as they see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyState {
    /// Usable (now or once the coupon starts).
    Available,
    /// Held by a pending order.
    Reserved,
    /// Spent.
    Used,
    /// Unused, and the coupon ended.
    Expired,
}

/// The state of a copy at `now`.
pub fn state_of(
    copy: &user_coupon::Model,
    coupon: &coupon::Model,
    now: DateTime<Utc>,
) -> CopyState {
    match copy.status {
        UserCouponStatus::Used => CopyState::Used,
        UserCouponStatus::Reserved => CopyState::Reserved,
        UserCouponStatus::Available if now >= coupon.ends_at => CopyState::Expired,
        UserCouponStatus::Available => CopyState::Available,
    }
}

/// Coupons by id.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, coupon::Model>> {
    Ok(coupon::Entity::find()
        .filter(coupon::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect())
}

/// The coupons a creator manages, newest first (admins: any creator's, or the
/// platform's with `creator_id` None).
pub async fn managed(
    db: &impl ConnectionTrait,
    actor: &Actor,
    creator_id: Option<i64>,
    request: &PageRequest,
) -> AppResult<(Page<coupon::Model>, Counted<coupon::Entity>)> {
    actor.require_user()?;
    let mut query = coupon::Entity::find();
    if actor.is_console_admin() {
        query = match creator_id {
            Some(creator) => query.filter(coupon::Column::CreatorId.eq(creator)),
            None => query,
        };
    } else {
        let own = actor.creator_id().ok_or(AppError::Forbidden(
            "only creators and admins manage coupons",
        ))?;
        if creator_id.is_some_and(|c| c != own) {
            return Err(AppError::Forbidden(
                "only the coupon's creator and admins manage it",
            ));
        }
        query = query.filter(coupon::Column::CreatorId.eq(own));
    }
    let sort = SortKey {
        key: None,
        id: coupon::Column::Id,
        descending: true,
    };
    page::fetch(db, query, &sort, request, |c| c.id).await
}

/// The CLAIM coupons a product page offers: live, with copies left, covering it.
pub async fn claimable_for(
    db: &impl ConnectionTrait,
    product: &ProductRef,
) -> AppResult<Vec<coupon::Model>> {
    let now = Utc::now();
    let offered = coupon::Entity::find()
        .filter(coupon::Column::Distribution.eq(CouponDistribution::Claim))
        .filter(coupon::Column::Disabled.eq(false))
        .filter(coupon::Column::EndsAt.gt(now))
        .filter(Expr::col(coupon::Column::Issued).lt(Expr::col(coupon::Column::TotalQuantity)))
        .filter(
            sea_orm::Condition::any()
                .add(coupon::Column::CreatorId.eq(product.creator_id))
                .add(coupon::Column::CreatorId.is_null()),
        )
        .all(db)
        .await?;
    let ids: Vec<i64> = offered.iter().map(|c| c.id).collect();
    let listed: Vec<(i64, ProductKind, i64)> = coupon_product::Entity::find()
        .filter(coupon_product::Column::CouponId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.coupon_id, p.product_kind, p.product_id))
        .collect();
    Ok(offered
        .into_iter()
        .filter(|c| match c.scope {
            CouponScope::All => true,
            CouponScope::Kind => c.scope_kind == Some(product.kind),
            CouponScope::Products => listed.contains(&(c.id, product.kind, product.id)),
        })
        .collect())
}

/// A coupon by id, if the actor may see it: its manager, a holder, or anyone for a
/// coupon offered on product pages (CLAIM).
pub async fn visible(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> AppResult<Option<coupon::Model>> {
    let Some(row) = coupon::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    if super::manages(actor, &row) || row.distribution == CouponDistribution::Claim {
        return Ok(Some(row));
    }
    let holds = match actor.user_id() {
        Some(user_id) => held_by(db, row.id, user_id).await? > 0,
        None => false,
    };
    Ok(holds.then_some(row))
}

/// A learner's copy by id with its coupon: the learner and admins only.
pub async fn copy(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> AppResult<Option<(user_coupon::Model, coupon::Model)>> {
    let Some(copy) = user_coupon::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    if actor.user_id() != Some(copy.user_id) && !actor.is_console_admin() {
        return Ok(None);
    }
    let offer = coupon::Entity::find_by_id(copy.coupon_id).one(db).await?;
    Ok(offer.map(|offer| (copy, offer)))
}
