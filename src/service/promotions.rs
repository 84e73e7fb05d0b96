//! Distribution (分销): creators pay users who bring buyers.
//!
//! - A creator (or an admin) enables promotion on a product with a commission rate and,
//!   optionally, a second-level rate for whoever recruited the promoter (as 小鹅通 does).
//! - Any signed-in user becomes a promoter of it and gets a share code; a promoter may
//!   say who recruited them by that promoter's code.
//! - A learner opening a share link records a referral (`recordReferral`), kept 7 days
//!   from the first opening; an order made with a code, or within those days, is made
//!   through that promoter. Nobody is credited for their own purchase, and an order has
//!   one promoter.
//! - When the order is paid the commissions come out of the creator's share, computed
//!   on the amount actually paid (`ledger::record_sale`); a refund takes them back.

use chrono::{DateTime, Duration, Utc};
use entity::enums::ProductKind;
use entity::{promoter, promotion, referral};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::access::ProductRef;
use crate::service::ledger::split::Commission;
use crate::service::validation::{FieldError, UserErrorCode};

/// How long a referral counts after the learner first opened the link.
pub const REFERRAL_DAYS: i64 = 7;
/// Highest commission rate a creator may offer, per level (50 %).
pub const MAX_RATE_BPS: i32 = 5_000;

fn product_error(code: UserErrorCode, message: &str) -> AppError {
    FieldError::new("product", code, message).into()
}

async fn product(db: &impl ConnectionTrait, kind: ProductKind, id: i64) -> AppResult<ProductRef> {
    ProductRef::find(db, kind, id)
        .await?
        .ok_or_else(|| product_error(UserErrorCode::NotFound, "no such product"))
}

/// Enables (or changes) promotion of one of the creator's products (admins: any).
pub async fn enable(
    db: &DatabaseConnection,
    actor: &Actor,
    kind: ProductKind,
    product_id: i64,
    rate_bps: i32,
    second_level_bps: i32,
) -> AppResult<promotion::Model> {
    let item = product(db, kind, product_id).await?;
    crate::service::require_owner(actor, item.creator_id)?;
    for (field, rate, least) in [
        ("rateBps", rate_bps, 1),
        ("secondLevelBps", second_level_bps, 0),
    ] {
        if !(least..=MAX_RATE_BPS).contains(&rate) {
            return Err(FieldError::new(
                field,
                UserErrorCode::OutOfRange,
                format!("a commission is {least} to {MAX_RATE_BPS} basis points (up to 50 %)"),
            )
            .into());
        }
    }
    let now = Utc::now();
    promotion::Entity::insert(promotion::ActiveModel {
        product_kind: Set(kind),
        product_id: Set(product_id),
        rate_bps: Set(rate_bps),
        second_level_bps: Set(second_level_bps),
        enabled: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([promotion::Column::ProductKind, promotion::Column::ProductId])
            .update_columns([
                promotion::Column::RateBps,
                promotion::Column::SecondLevelBps,
                promotion::Column::Enabled,
                promotion::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    promotion_of(db, kind, product_id)
        .await?
        .ok_or(AppError::NotFound("promotion"))
}

/// The product's promotion, enabled or not.
pub async fn promotion_of(
    db: &impl ConnectionTrait,
    kind: ProductKind,
    product_id: i64,
) -> AppResult<Option<promotion::Model>> {
    Ok(promotion::Entity::find()
        .filter(promotion::Column::ProductKind.eq(kind))
        .filter(promotion::Column::ProductId.eq(product_id))
        .one(db)
        .await?)
}

fn new_code() -> String {
    // No 0/O or 1/I: codes are read aloud and typed.
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut bytes = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// The promoter with this share code.
pub async fn by_code(db: &impl ConnectionTrait, code: &str) -> AppResult<Option<promoter::Model>> {
    Ok(promoter::Entity::find()
        .filter(promoter::Column::Code.eq(code.trim().to_ascii_uppercase()))
        .one(db)
        .await?)
}

/// Makes the viewer a promoter of a product whose promotion is enabled (the same
/// promoter again when they already are), recruited by the holder of `recruited_by`.
pub async fn become_promoter(
    db: &DatabaseConnection,
    actor: &Actor,
    kind: ProductKind,
    product_id: i64,
    recruited_by: Option<&str>,
) -> AppResult<promoter::Model> {
    let user_id = actor.require_user()?;
    let item = product(db, kind, product_id).await?;
    if !promotion_of(db, kind, product_id)
        .await?
        .is_some_and(|p| p.enabled)
    {
        return Err(product_error(
            UserErrorCode::InvalidState,
            "this product is not promoted",
        ));
    }
    if actor.creator_id() == Some(item.creator_id) {
        return Err(product_error(
            UserErrorCode::Invalid,
            "creators do not promote their own products",
        ));
    }
    let recruiter = match recruited_by.filter(|c| !c.trim().is_empty()) {
        None => None,
        Some(code) => match by_code(db, code).await? {
            Some(r)
                if r.product_kind == kind && r.product_id == product_id && r.user_id != user_id =>
            {
                Some(r.id)
            }
            _ => {
                return Err(FieldError::new(
                    "recruitedBy",
                    UserErrorCode::Invalid,
                    "not another promoter's code for this product",
                )
                .into());
            }
        },
    };
    // A unique code, tried again on the rare clash; one promoter per user and product.
    for _ in 0..4 {
        promoter::Entity::insert(promoter::ActiveModel {
            user_id: Set(user_id),
            product_kind: Set(kind),
            product_id: Set(product_id),
            code: Set(new_code()),
            recruited_by_id: Set(recruiter),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
        if let Some(mine) = promoter_of(db, user_id, kind, product_id).await? {
            return Ok(mine);
        }
    }
    Err(AppError::internal(std::io::Error::other(
        "no free promoter code",
    )))
}

async fn promoter_of(
    db: &impl ConnectionTrait,
    user_id: i64,
    kind: ProductKind,
    product_id: i64,
) -> AppResult<Option<promoter::Model>> {
    Ok(promoter::Entity::find()
        .filter(promoter::Column::UserId.eq(user_id))
        .filter(promoter::Column::ProductKind.eq(kind))
        .filter(promoter::Column::ProductId.eq(product_id))
        .one(db)
        .await?)
}

/// The viewer's promoter codes, newest first.
pub async fn codes_of(db: &impl ConnectionTrait, user_id: i64) -> AppResult<Vec<promoter::Model>> {
    Ok(promoter::Entity::find()
        .filter(promoter::Column::UserId.eq(user_id))
        .order_by_desc(promoter::Column::Id)
        .all(db)
        .await?)
}

/// Records that the viewer opened a share link: its promoter is credited for the
/// viewer's order of that product within 7 days of the first opening. A later link of
/// another promoter does not replace a live referral; one's own link records nothing.
pub async fn record_referral(
    db: &DatabaseConnection,
    actor: &Actor,
    code: &str,
) -> AppResult<Option<referral::Model>> {
    let user_id = actor.require_user()?;
    let Some(promoter) = by_code(db, code).await? else {
        return Err(
            FieldError::new("code", UserErrorCode::NotFound, "no such promoter code").into(),
        );
    };
    if promoter.user_id == user_id {
        return Ok(None);
    }
    let now = Utc::now();
    let current = referral::Entity::find()
        .filter(referral::Column::UserId.eq(user_id))
        .filter(referral::Column::ProductKind.eq(promoter.product_kind))
        .filter(referral::Column::ProductId.eq(promoter.product_id))
        .one(db)
        .await?;
    let fresh = referral::ActiveModel {
        user_id: Set(user_id),
        promoter_id: Set(promoter.id),
        product_kind: Set(promoter.product_kind),
        product_id: Set(promoter.product_id),
        opened_at: Set(now),
        expires_at: Set(now + Duration::days(REFERRAL_DAYS)),
        ..Default::default()
    };
    let kept = match current {
        Some(live) if live.expires_at > now => live,
        Some(expired) => {
            let mut change = fresh;
            change.id = Set(expired.id);
            change.update(db).await?
        }
        None => {
            referral::Entity::insert(fresh)
                .on_conflict(OnConflict::new().do_nothing().to_owned())
                .exec_without_returning(db)
                .await?;
            referral::Entity::find()
                .filter(referral::Column::UserId.eq(user_id))
                .filter(referral::Column::ProductKind.eq(promoter.product_kind))
                .filter(referral::Column::ProductId.eq(promoter.product_id))
                .one(db)
                .await?
                .ok_or(AppError::NotFound("referral"))?
        }
    };
    Ok(Some(kept))
}

/// The promoter an order of `product` by `buyer_id` is made through: the one named by
/// `code` (refused when it is not a promoter of this product's enabled promotion, or
/// the buyer's own), else the buyer's live referral for it, else none.
pub async fn for_order(
    db: &impl ConnectionTrait,
    buyer_id: i64,
    product: &ProductRef,
    code: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Option<i64>> {
    let enabled = promotion_of(db, product.kind, product.id)
        .await?
        .is_some_and(|p| p.enabled);
    let refused = |message: &str| -> AppError {
        FieldError::new("promoterCode", UserErrorCode::Invalid, message).into()
    };
    if let Some(code) = code.filter(|c| !c.trim().is_empty()) {
        let promoter = by_code(db, code)
            .await?
            .filter(|p| p.product_kind == product.kind && p.product_id == product.id);
        return match promoter {
            None => Err(refused("not a promoter code of this product")),
            Some(_) if !enabled => Err(refused("this product is no longer promoted")),
            Some(p) if p.user_id == buyer_id => Err(refused("your own code cannot be used")),
            Some(p) => Ok(Some(p.id)),
        };
    }
    if !enabled {
        return Ok(None);
    }
    let live = referral::Entity::find()
        .filter(referral::Column::UserId.eq(buyer_id))
        .filter(referral::Column::ProductKind.eq(product.kind))
        .filter(referral::Column::ProductId.eq(product.id))
        .filter(referral::Column::ExpiresAt.gt(now))
        .one(db)
        .await?;
    Ok(live.map(|r| r.promoter_id))
}

/// The commissions a paid order owes: its promoter at the promotion's rate and, when
/// the promoter was recruited and the promotion pays a second level, the recruiter at
/// that rate. None when the order has no promoter or the promotion is off.
pub async fn commissions(
    db: &impl ConnectionTrait,
    promoter_id: Option<i64>,
    kind: ProductKind,
    product_id: i64,
) -> AppResult<Vec<Commission>> {
    let Some(promoter_id) = promoter_id else {
        return Ok(Vec::new());
    };
    let Some(promotion) = promotion_of(db, kind, product_id)
        .await?
        .filter(|p| p.enabled)
    else {
        return Ok(Vec::new());
    };
    let Some(first) = promoter::Entity::find_by_id(promoter_id).one(db).await? else {
        return Ok(Vec::new());
    };
    let mut owed = vec![Commission {
        promoter_id: first.user_id,
        rate_bps: i64::from(promotion.rate_bps),
    }];
    if promotion.second_level_bps > 0
        && let Some(recruiter_id) = first.recruited_by_id
        && let Some(recruiter) = promoter::Entity::find_by_id(recruiter_id).one(db).await?
    {
        owed.push(Commission {
            promoter_id: recruiter.user_id,
            rate_bps: i64::from(promotion.second_level_bps),
        });
    }
    Ok(owed)
}

/// Turns a product's promotion off (its promoters keep what they earned).
pub async fn disable(
    db: &DatabaseConnection,
    actor: &Actor,
    kind: ProductKind,
    product_id: i64,
) -> AppResult<promotion::Model> {
    let item = product(db, kind, product_id).await?;
    crate::service::require_owner(actor, item.creator_id)?;
    let Some(row) = promotion_of(db, kind, product_id).await? else {
        return Err(product_error(
            UserErrorCode::InvalidState,
            "this product is not promoted",
        ));
    };
    let mut change = row.into_active_model();
    change.enabled = Set(false);
    change.updated_at = Set(Utc::now());
    Ok(change.update(db).await?)
}
