//! Who may see paid content: lesson content, livestream play and replay addresses,
//! posts of paid groups. Everybody else sees metadata and `locked: true`.
//!
//! Open: free products and free-preview lessons to everyone; everything to its owner
//! (the selling creator) and to admins; a paid product to holders of a live entitlement
//! (not revoked, not expired). Entitlements are the single source of truth: a group
//! membership bought with an order comes with one.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::entitlement;
use entity::enums::ProductKind;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::auth::Actor;
use crate::error::AppResult;

/// A product as the access rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductRef {
    /// What kind of product.
    pub kind: ProductKind,
    /// Its id.
    pub id: i64,
    /// The creator selling it.
    pub creator_id: i64,
    /// Its price in fen.
    pub price_fen: i64,
}

impl ProductRef {
    /// A course.
    pub fn course(row: &entity::course::Model) -> Self {
        ProductRef {
            kind: ProductKind::Course,
            id: row.id,
            creator_id: row.creator_id,
            price_fen: row.price_fen,
        }
    }

    /// A livestream ticket.
    pub fn livestream(row: &entity::livestream::Model) -> Self {
        ProductRef {
            kind: ProductKind::Livestream,
            id: row.id,
            creator_id: row.creator_id,
            price_fen: row.price_fen,
        }
    }

    /// A group membership.
    pub fn group(row: &entity::community_group::Model) -> Self {
        ProductRef {
            kind: ProductKind::Group,
            id: row.id,
            creator_id: row.creator_id,
            price_fen: row.price_fen,
        }
    }

    /// The product of this kind and id, if there is one.
    pub async fn find(
        db: &impl ConnectionTrait,
        kind: ProductKind,
        id: i64,
    ) -> AppResult<Option<Self>> {
        Ok(match kind {
            ProductKind::Course => entity::course::Entity::find_by_id(id)
                .one(db)
                .await?
                .map(|row| Self::course(&row)),
            ProductKind::Livestream => entity::livestream::Entity::find_by_id(id)
                .one(db)
                .await?
                .map(|row| Self::livestream(&row)),
            ProductKind::Group => entity::community_group::Entity::find_by_id(id)
                .one(db)
                .await?
                .map(|row| Self::group(&row)),
            ProductKind::Bundle => entity::bundle::Entity::find_by_id(id)
                .one(db)
                .await?
                .map(|row| Self::bundle(&row)),
            ProductKind::Membership => entity::membership_plan::Entity::find_by_id(id)
                .one(db)
                .await?
                .map(|row| Self::membership(&row)),
            ProductKind::Question => crate::service::community::questions::get(db, id)
                .await?
                .map(|(question, group)| {
                    crate::service::community::questions::product(&question, &group)
                }),
        })
    }
}

/// The creator `creator_id` themself, or an admin on the console; anyone else is
/// refused with FORBIDDEN saying `refusal`.
pub fn require_seller(actor: &Actor, creator_id: i64, refusal: &'static str) -> AppResult<()> {
    actor.require_user()?;
    if actor.creator_id() == Some(creator_id) {
        return Ok(());
    }
    actor
        .require_console_admin()
        .map_err(|_| crate::error::AppError::Forbidden(refusal))
}

/// Whether the actor may see a catalogue item in `status` of `creator_id`: everyone
/// once it is out of DRAFT; a draft, its creator and admins only.
pub fn may_see(actor: &Actor, status: entity::enums::CourseStatus, creator_id: i64) -> bool {
    status != entity::enums::CourseStatus::Draft
        || actor.creator_id() == Some(creator_id)
        || actor.is_admin()
}

/// Whether the product is open to the actor without looking at entitlements: free,
/// their own, or they are an admin.
pub fn open_without_entitlement(actor: &Actor, product: &ProductRef) -> bool {
    product.price_fen == 0 || actor.is_admin() || actor.creator_id() == Some(product.creator_id)
}

/// Among `ids` of one kind, those the user holds a live entitlement to, or that a
/// running membership of theirs covers.
pub async fn entitled(
    db: &impl ConnectionTrait,
    user_id: i64,
    kind: ProductKind,
    ids: &[i64],
    now: DateTime<Utc>,
) -> AppResult<HashSet<i64>> {
    let rows: Vec<i64> = entitlement::Entity::find()
        .select_only()
        .column(entitlement::Column::ProductId)
        .filter(entitlement::Column::UserId.eq(user_id))
        .filter(entitlement::Column::ProductKind.eq(kind))
        .filter(entitlement::Column::ProductId.is_in(ids.iter().copied()))
        .filter(entitlement::Column::RevokedAt.is_null())
        .filter(
            Condition::any()
                .add(entitlement::Column::ExpiresAt.is_null())
                .add(entitlement::Column::ExpiresAt.gt(now)),
        )
        .into_tuple()
        .all(db)
        .await?;
    let mut held: HashSet<i64> = rows.into_iter().collect();
    // What a running membership covers is held too.
    let rest: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| !held.contains(id))
        .collect();
    held.extend(crate::service::memberships::covered(db, user_id, kind, &rest, now).await?);
    Ok(held)
}

/// Whether the actor may open the product (one query at most).
pub async fn can_open(
    db: &impl ConnectionTrait,
    actor: &Actor,
    product: &ProductRef,
) -> AppResult<bool> {
    if open_without_entitlement(actor, product) {
        return Ok(true);
    }
    let Some(user_id) = actor.user_id() else {
        return Ok(false);
    };
    Ok(
        entitled(db, user_id, product.kind, &[product.id], Utc::now())
            .await?
            .contains(&product.id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::tokens::Audience;
    use entity::enums::Role;

    #[test]
    fn owners_admins_and_free_products_need_no_entitlement() {
        let paid = ProductRef {
            kind: ProductKind::Course,
            id: 1,
            creator_id: 9,
            price_fen: 9900,
        };
        let user = |role, creator_id| Actor::User {
            id: 1,
            role,
            creator_id,
            audience: Audience::MiniProgram,
        };
        assert!(!open_without_entitlement(&Actor::Anonymous, &paid));
        assert!(!open_without_entitlement(&user(Role::Learner, None), &paid));
        assert!(!open_without_entitlement(
            &user(Role::Creator, Some(8)),
            &paid
        ));
        assert!(open_without_entitlement(
            &user(Role::Creator, Some(9)),
            &paid
        ));
        assert!(open_without_entitlement(&user(Role::Admin, None), &paid));
        let free = ProductRef {
            price_fen: 0,
            ..paid
        };
        assert!(open_without_entitlement(&Actor::Anonymous, &free));
    }
}
