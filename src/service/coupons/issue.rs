//! Handing out copies: claimed from a page, redeemed by code, granted by the creator.

use chrono::{DateTime, Utc};
use entity::enums::{CouponDistribution, ProductKind, UserCouponStatus};
use entity::{coupon, follow, user_coupon};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::{MAX_GRANT, error, find, require_manager};
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::access::ProductRef;
use crate::service::validation::UserErrorCode;

/// Hands `count` copies of `coupon` to each of `user_ids` in the caller's
/// transaction; refused whole when the coupon is over, switched off or would be
/// oversold. The caller checked the per-person limit.
pub(super) async fn issue(
    txn: &impl ConnectionTrait,
    coupon: &coupon::Model,
    user_ids: &[i64],
    now: DateTime<Utc>,
) -> AppResult<()> {
    if now >= coupon.ends_at {
        return Err(error(
            "coupon",
            UserErrorCode::CouponExpired,
            "this coupon has expired",
        ));
    }
    let n = user_ids.len() as i64;
    let raised = coupon::Entity::update_many()
        .col_expr(
            coupon::Column::Issued,
            Expr::col(coupon::Column::Issued).add(n),
        )
        .filter(coupon::Column::Id.eq(coupon.id))
        .filter(coupon::Column::Disabled.eq(false))
        .filter(
            Expr::col(coupon::Column::Issued)
                .add(n)
                .lte(Expr::col(coupon::Column::TotalQuantity)),
        )
        .exec(txn)
        .await?;
    if raised.rows_affected != 1 {
        return Err(error(
            "coupon",
            UserErrorCode::CouponExhausted,
            "every copy of this coupon is taken",
        ));
    }
    let rows = user_ids.iter().map(|&user_id| user_coupon::ActiveModel {
        coupon_id: Set(coupon.id),
        user_id: Set(user_id),
        status: Set(UserCouponStatus::Available),
        order_id: Set(None),
        obtained_at: Set(now),
        used_at: Set(None),
        ..Default::default()
    });
    for chunk in rows.collect::<Vec<_>>().chunks(500) {
        user_coupon::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Copies of `coupon_id` that `user_id` holds (any state).
pub(super) async fn held_by(
    txn: &impl ConnectionTrait,
    coupon_id: i64,
    user_id: i64,
) -> AppResult<u64> {
    Ok(user_coupon::Entity::find()
        .filter(user_coupon::Column::CouponId.eq(coupon_id))
        .filter(user_coupon::Column::UserId.eq(user_id))
        .count(txn)
        .await?)
}

/// Gives the signed-in user one copy, within the per-person limit, in one
/// transaction.
async fn take_one(
    db: &DatabaseConnection,
    actor: &Actor,
    coupon: coupon::Model,
) -> AppResult<user_coupon::Model> {
    let user_id = actor.require_user()?;
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    issue(&txn, &coupon, &[user_id], now).await?;
    // Counted after the coupon row is locked, so two claims of one person are in line.
    if held_by(&txn, coupon.id, user_id).await? > coupon.per_user_limit as u64 {
        return Err(error(
            "coupon",
            UserErrorCode::CouponLimitReached,
            "you hold as many of this coupon as one person may",
        ));
    }
    let copy = user_coupon::Entity::find()
        .filter(user_coupon::Column::CouponId.eq(coupon.id))
        .filter(user_coupon::Column::UserId.eq(user_id))
        .order_by_desc(user_coupon::Column::Id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("coupon"))?;
    txn.commit().await?;
    Ok(copy)
}

/// Claims a copy of a coupon offered on product pages (CLAIM).
pub async fn claim(
    db: &DatabaseConnection,
    actor: &Actor,
    coupon_id: i64,
) -> AppResult<user_coupon::Model> {
    actor.require_user()?;
    let coupon = find(db, coupon_id).await?;
    if coupon.distribution != CouponDistribution::Claim {
        return Err(error(
            "coupon",
            UserErrorCode::CouponNotApplicable,
            "this coupon is not claimed from a page",
        ));
    }
    take_one(db, actor, coupon).await
}

/// The copy of `coupon_id` an order of the signed-in user uses: one they hold and can
/// use now, or one claimed now (CLAIM coupons only; a CODE coupon needs its code).
pub async fn copy_for_order(
    db: &DatabaseConnection,
    actor: &Actor,
    coupon_id: i64,
) -> AppResult<i64> {
    let user_id = actor.require_user()?;
    let held = user_coupon::Entity::find()
        .filter(user_coupon::Column::CouponId.eq(coupon_id))
        .filter(user_coupon::Column::UserId.eq(user_id))
        .filter(user_coupon::Column::Status.eq(UserCouponStatus::Available))
        .order_by_asc(user_coupon::Column::Id)
        .one(db)
        .await?;
    match held {
        Some(copy) => Ok(copy.id),
        None => claim(db, actor, coupon_id).await.map(|copy| copy.id),
    }
}

/// Redeems a public code (CODE coupons; letter case does not matter).
pub async fn redeem_code(
    db: &DatabaseConnection,
    actor: &Actor,
    code: &str,
) -> AppResult<user_coupon::Model> {
    actor.require_user()?;
    let code = code.trim().to_uppercase();
    let coupon = coupon::Entity::find()
        .filter(coupon::Column::Code.eq(code))
        .filter(coupon::Column::Distribution.eq(CouponDistribution::Code))
        .one(db)
        .await?
        .ok_or_else(|| error("code", UserErrorCode::NotFound, "no coupon has this code"))?;
    take_one(db, actor, coupon).await
}

/// Who a grant goes to.
#[derive(Debug, Clone, Copy)]
pub enum Audience {
    /// The creator's followers.
    Followers,
    /// Holders of one of the creator's products.
    BuyersOf(ProductKind, i64),
}

/// Grants one copy to each learner of `audience` below the per-person limit, in one
/// transaction (all or none, refused when too few copies are left); returns how many
/// got one.
pub async fn grant(
    db: &DatabaseConnection,
    actor: &Actor,
    coupon_id: i64,
    audience: Audience,
) -> AppResult<u64> {
    let coupon = find(db, coupon_id).await?;
    require_manager(actor, &coupon)?;
    let Some(creator_id) = coupon.creator_id else {
        return Err(error(
            "coupon",
            UserErrorCode::Invalid,
            "platform coupons are handed out by code or claim",
        ));
    };
    let now = Utc::now();
    let recipients: Vec<i64> = match audience {
        Audience::Followers => {
            follow::Entity::find()
                .select_only()
                .column(follow::Column::UserId)
                .filter(follow::Column::CreatorId.eq(creator_id))
                .limit(MAX_GRANT)
                .into_tuple()
                .all(db)
                .await?
        }
        Audience::BuyersOf(kind, id) => {
            let product = ProductRef::find(db, kind, id)
                .await?
                .filter(|p| p.creator_id == creator_id)
                .ok_or_else(|| {
                    error(
                        "product",
                        UserErrorCode::NotFound,
                        "no such product of this creator",
                    )
                })?;
            entity::entitlement::Entity::find()
                .select_only()
                .column(entity::entitlement::Column::UserId)
                .distinct()
                .filter(entity::entitlement::Column::ProductKind.eq(product.kind))
                .filter(entity::entitlement::Column::ProductId.eq(product.id))
                .filter(entity::entitlement::Column::RevokedAt.is_null())
                .limit(MAX_GRANT)
                .into_tuple()
                .all(db)
                .await?
        }
    };
    let txn = crate::db::begin_write(db).await?;
    let at_limit: Vec<i64> = user_coupon::Entity::find()
        .select_only()
        .column(user_coupon::Column::UserId)
        .filter(user_coupon::Column::CouponId.eq(coupon.id))
        .group_by(user_coupon::Column::UserId)
        .having(
            Expr::col(user_coupon::Column::Id)
                .count()
                .gte(coupon.per_user_limit),
        )
        .into_tuple()
        .all(&txn)
        .await?;
    let fresh: Vec<i64> = recipients
        .into_iter()
        .filter(|u| !at_limit.contains(u))
        .collect();
    if fresh.is_empty() {
        return Ok(0);
    }
    issue(&txn, &coupon, &fresh, now).await?;
    txn.commit().await?;
    Ok(fresh.len() as u64)
}
