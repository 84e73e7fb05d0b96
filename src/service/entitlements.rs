//! Entitlements: the single source of truth for access to paid content. Granted when
//! an order is paid (or a free product is taken), revoked when it is refunded. Group
//! purchases also keep the membership list in step.

use chrono::{DateTime, Duration, Utc};
use entity::enums::ProductKind;
use entity::{community_group, course, entitlement, group_membership, order};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::page::{self, Counted, Page, PageRequest, SortKey};

/// Grants what a paid order buys, inside the caller's transaction (see [`put`]); a
/// bundle's courses too.
pub async fn grant(
    db: &impl ConnectionTrait,
    order: &order::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if order.product_kind == ProductKind::Question {
        // A question grants no access: its payment opens it for an answer.
        return crate::service::community::questions::open_paid(db, order, now).await;
    }
    let expires_at = match order.product_kind {
        ProductKind::Group => community_group::Entity::find_by_id(order.product_id)
            .one(db)
            .await?
            .and_then(|g| g.membership_days)
            .map(|days| now + Duration::days(days.into())),
        ProductKind::Membership => {
            let plan = crate::service::memberships::find(db, order.product_id).await?;
            let held =
                crate::service::memberships::membership_of(db, order.buyer_id, order.product_id)
                    .await?
                    .filter(|e| e.revoked_at.is_none());
            plan.map(|p| {
                crate::service::memberships::new_end(
                    held.and_then(|e| e.expires_at),
                    p.period_months,
                    now,
                )
            })
        }
        _ => None,
    };
    put(
        db,
        order.buyer_id,
        (order.product_kind, order.product_id),
        Some(order.id),
        expires_at,
        now,
    )
    .await?;
    match order.product_kind {
        ProductKind::Course => {
            course::Entity::update_many()
                .col_expr(
                    course::Column::SalesCount,
                    Expr::col(course::Column::SalesCount).add(1),
                )
                .filter(course::Column::Id.eq(order.product_id))
                .exec(db)
                .await?;
        }
        ProductKind::Group => {
            group_membership::Entity::insert(group_membership::ActiveModel {
                group_id: Set(order.product_id),
                user_id: Set(order.buyer_id),
                joined_at: Set(now),
                expires_at: Set(expires_at),
                ..Default::default()
            })
            .on_conflict(
                OnConflict::columns([
                    group_membership::Column::GroupId,
                    group_membership::Column::UserId,
                ])
                .update_column(group_membership::Column::ExpiresAt)
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        }
        ProductKind::Bundle => {
            let courses = crate::service::bundles::course_ids(db, order.product_id).await?;
            crate::service::bundles::grant_courses(
                db,
                order.buyer_id,
                Some(order.id),
                &courses,
                now,
            )
            .await?;
        }
        ProductKind::Livestream | ProductKind::Membership | ProductKind::Question => {}
    }
    Ok(())
}

/// Writes a live entitlement of `user_id` to `product` through `order_id`, in the
/// caller's transaction: a row they had before (a refunded purchase) is re-activated,
/// as the (user, product) unique index allows one row each.
pub(crate) async fn put(
    db: &impl ConnectionTrait,
    user_id: i64,
    (kind, product_id): (ProductKind, i64),
    order_id: Option<i64>,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    entitlement::Entity::insert(entitlement::ActiveModel {
        user_id: Set(user_id),
        product_kind: Set(kind),
        product_id: Set(product_id),
        order_id: Set(order_id),
        granted_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            entitlement::Column::UserId,
            entitlement::Column::ProductKind,
            entitlement::Column::ProductId,
        ])
        .update_columns([
            entitlement::Column::OrderId,
            entitlement::Column::GrantedAt,
            entitlement::Column::ExpiresAt,
            entitlement::Column::RevokedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Takes back what a refunded order bought, inside the caller's transaction: every
/// entitlement granted through it (a bundle's courses too).
pub async fn revoke(
    db: &impl ConnectionTrait,
    order: &order::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if order.product_kind == ProductKind::Membership {
        return crate::service::memberships::take_back_period(db, order, now).await;
    }
    if order.product_kind == ProductKind::Question {
        return crate::service::community::questions::mark_refunded(db, order).await;
    }
    let revoked = entitlement::Entity::update_many()
        .col_expr(entitlement::Column::RevokedAt, Expr::value(now))
        .filter(entitlement::Column::OrderId.eq(order.id))
        .filter(entitlement::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if revoked.rows_affected == 0 {
        return Ok(());
    }
    match order.product_kind {
        ProductKind::Course => {
            course::Entity::update_many()
                .col_expr(
                    course::Column::SalesCount,
                    Expr::col(course::Column::SalesCount).sub(1),
                )
                .filter(course::Column::Id.eq(order.product_id))
                .filter(course::Column::SalesCount.gt(0))
                .exec(db)
                .await?;
        }
        ProductKind::Group => {
            group_membership::Entity::delete_many()
                .filter(group_membership::Column::GroupId.eq(order.product_id))
                .filter(group_membership::Column::UserId.eq(order.buyer_id))
                .exec(db)
                .await?;
        }
        // The courses it granted point at its order, and were revoked with it.
        ProductKind::Livestream
        | ProductKind::Bundle
        | ProductKind::Membership
        | ProductKind::Question => {}
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Reads: entitlements are personal data, like orders.
// ---------------------------------------------------------------------------------

/// A user's entitlements, if the actor is that user or an admin on the console.
pub async fn entitlements_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    user_id: i64,
    page: &PageRequest,
) -> AppResult<(Page<entitlement::Model>, Counted<entitlement::Entity>)> {
    if !(actor.is_console_admin() || actor.user_id() == Some(user_id)) {
        return Err(crate::service::PRIVATE_PURCHASES);
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

/// One entitlement, if the actor owns it or is an admin on the console.
pub async fn entitlement(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> AppResult<entitlement::Model> {
    if actor.user_id().is_none() {
        return Err(crate::service::PRIVATE_PURCHASES);
    }
    let row = entitlement::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("entitlement"))?;
    if actor.is_console_admin() || actor.user_id() == Some(row.user_id) {
        Ok(row)
    } else {
        Err(crate::service::PRIVATE_PURCHASES)
    }
}
