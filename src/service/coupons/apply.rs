//! Using coupons: whether one applies to a product, what it takes off, the best of a
//! learner's, and its life with an order (reserved by the pending order, back when
//! the order closes unpaid, spent when it is paid; a refund does not return it).
//!
//! Rounding: a percent coupon takes off `ceil(price × percent / 100)` fen, rounding in
//! the buyer's favour. A coupon never brings a paid price below 1 fen (only a sale
//! price of 0 makes a product free), and never applies to a price of 0.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::enums::{CouponScope, ProductKind, UserCouponStatus};
use entity::{coupon, coupon_product, order, user_coupon};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use crate::error::{AppError, AppResult};
use crate::service::access::ProductRef;
use crate::service::validation::{FieldError, UserErrorCode};

/// A learner's copy of a coupon with the coupon and, for PRODUCTS scope, its products.
#[derive(Debug, Clone)]
pub struct Held {
    /// The learner's copy.
    pub copy: user_coupon::Model,
    /// The offer.
    pub coupon: coupon::Model,
    /// The products it is limited to (PRODUCTS scope).
    pub products: Vec<(ProductKind, i64)>,
    /// The product of the holder's own pending order that reserves it, if one does: it
    /// applies to that product only (the order is reused or replaced).
    pub reserved_for: Option<(ProductKind, i64)>,
}

impl Held {
    /// Whether this copy may price an order for `product`.
    pub fn free_for(&self, product: &ProductRef) -> bool {
        self.reserved_for
            .is_none_or(|reserved| reserved == (product.kind, product.id))
    }
}

/// Why a coupon does not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its window has passed.
    Expired,
    /// Another product, kind or creator; below the minimum spend; not started;
    /// switched off; nothing to take off.
    NotApplicable(&'static str),
}

impl Refusal {
    /// The user error for the `coupon` input field.
    pub fn into_error(self) -> AppError {
        match self {
            Refusal::Expired => FieldError::new(
                "coupon",
                UserErrorCode::CouponExpired,
                "this coupon has expired",
            ),
            Refusal::NotApplicable(why) => {
                FieldError::new("coupon", UserErrorCode::CouponNotApplicable, why)
            }
        }
        .into()
    }
}

/// Fen a coupon takes off a price of `price_fen` for `product` at `now`.
pub fn discount(
    coupon: &coupon::Model,
    products: &[(ProductKind, i64)],
    product: &ProductRef,
    price_fen: i64,
    now: DateTime<Utc>,
) -> Result<i64, Refusal> {
    if now >= coupon.ends_at {
        return Err(Refusal::Expired);
    }
    if coupon.disabled {
        return Err(Refusal::NotApplicable("this coupon was switched off"));
    }
    if now < coupon.starts_at {
        return Err(Refusal::NotApplicable("this coupon cannot be used yet"));
    }
    if coupon
        .creator_id
        .is_some_and(|creator| creator != product.creator_id)
    {
        return Err(Refusal::NotApplicable(
            "this coupon is for another creator's products",
        ));
    }
    let in_scope = match coupon.scope {
        CouponScope::All => true,
        CouponScope::Kind => coupon.scope_kind == Some(product.kind),
        CouponScope::Products => products.contains(&(product.kind, product.id)),
    };
    if !in_scope {
        return Err(Refusal::NotApplicable(
            "this coupon does not cover this product",
        ));
    }
    if price_fen <= 1 {
        return Err(Refusal::NotApplicable(
            "there is nothing to take off this price",
        ));
    }
    if price_fen < coupon.min_spend_fen {
        return Err(Refusal::NotApplicable(
            "the price is below this coupon's minimum spend",
        ));
    }
    let off = match (coupon.amount_off_fen, coupon.percent_off) {
        (Some(amount), _) => amount,
        (None, Some(percent)) => (price_fen * i64::from(percent) + 99) / 100,
        (None, None) => 0,
    };
    Ok(off.clamp(0, price_fen - 1))
}

/// The best of `held` for `product` at `price_fen`: the most off, then the one ending
/// first, then the oldest copy.
pub fn best<'a>(
    held: &'a [Held],
    product: &ProductRef,
    price_fen: i64,
    now: DateTime<Utc>,
) -> Option<(&'a Held, i64)> {
    held.iter()
        .filter(|h| h.free_for(product))
        .filter_map(|h| {
            discount(&h.coupon, &h.products, product, price_fen, now)
                .ok()
                .filter(|off| *off > 0)
                .map(|off| (h, off))
        })
        .min_by_key(|(h, off)| (-off, h.coupon.ends_at, h.copy.id))
}

/// The copies `user_id` may use now: AVAILABLE ones, and those reserved by their own
/// pending orders (for those orders' products only).
pub async fn usable(
    db: &impl ConnectionTrait,
    user_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<Held>> {
    let open_orders = sea_orm::sea_query::Query::select()
        .column(order::Column::Id)
        .from(order::Entity)
        .and_where(order::Column::BuyerId.eq(user_id))
        .and_where(order::Column::Status.eq(entity::enums::OrderStatus::Pending))
        .to_owned();
    let copies = user_coupon::Entity::find()
        .filter(user_coupon::Column::UserId.eq(user_id))
        .filter(
            Condition::any()
                .add(user_coupon::Column::Status.eq(UserCouponStatus::Available))
                .add(
                    Condition::all()
                        .add(user_coupon::Column::Status.eq(UserCouponStatus::Reserved))
                        .add(user_coupon::Column::OrderId.in_subquery(open_orders)),
                ),
        )
        .all(db)
        .await?;
    let reserving: Vec<i64> = copies.iter().filter_map(|c| c.order_id).collect();
    let products: HashMap<i64, (ProductKind, i64)> = if reserving.is_empty() {
        HashMap::new()
    } else {
        order::Entity::find()
            .filter(order::Column::Id.is_in(reserving))
            .all(db)
            .await?
            .into_iter()
            .map(|o| (o.id, (o.product_kind, o.product_id)))
            .collect()
    };
    let mut held = with_coupons(db, copies, now).await?;
    for h in &mut held {
        h.reserved_for = h.copy.order_id.and_then(|o| products.get(&o).copied());
    }
    Ok(held)
}

/// Joins copies with their coupons (live ones only: not switched off, not ended) and
/// the coupons' products.
pub async fn with_coupons(
    db: &impl ConnectionTrait,
    copies: Vec<user_coupon::Model>,
    now: DateTime<Utc>,
) -> AppResult<Vec<Held>> {
    if copies.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = copies.iter().map(|c| c.coupon_id).collect();
    let coupons: HashMap<i64, coupon::Model> = coupon::Entity::find()
        .filter(coupon::Column::Id.is_in(ids.clone()))
        .filter(coupon::Column::Disabled.eq(false))
        .filter(coupon::Column::EndsAt.gt(now))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut products: HashMap<i64, Vec<(ProductKind, i64)>> = HashMap::new();
    for row in coupon_product::Entity::find()
        .filter(coupon_product::Column::CouponId.is_in(ids))
        .all(db)
        .await?
    {
        products
            .entry(row.coupon_id)
            .or_default()
            .push((row.product_kind, row.product_id));
    }
    Ok(copies
        .into_iter()
        .filter_map(|copy| {
            let coupon = coupons.get(&copy.coupon_id)?.clone();
            let products = products.get(&copy.coupon_id).cloned().unwrap_or_default();
            Some(Held {
                copy,
                coupon,
                products,
                reserved_for: None,
            })
        })
        .collect())
}

/// Reserves a copy for a new pending order, in its transaction; refused when another
/// order took it meanwhile.
pub async fn reserve(txn: &impl ConnectionTrait, copy_id: i64, order_id: i64) -> AppResult<()> {
    let taken = user_coupon::Entity::update_many()
        .col_expr(
            user_coupon::Column::Status,
            Expr::value(UserCouponStatus::Reserved),
        )
        .col_expr(user_coupon::Column::OrderId, Expr::value(order_id))
        .filter(user_coupon::Column::Id.eq(copy_id))
        .filter(user_coupon::Column::Status.eq(UserCouponStatus::Available))
        .exec(txn)
        .await?;
    if taken.rows_affected != 1 {
        return Err(Refusal::NotApplicable("this coupon is held by another order").into_error());
    }
    Ok(())
}

/// Returns the copy a closed order held.
pub async fn release(txn: &impl ConnectionTrait, order_id: i64) -> AppResult<()> {
    user_coupon::Entity::update_many()
        .col_expr(
            user_coupon::Column::Status,
            Expr::value(UserCouponStatus::Available),
        )
        .col_expr(
            user_coupon::Column::OrderId,
            Expr::value(Option::<i64>::None),
        )
        .filter(user_coupon::Column::OrderId.eq(order_id))
        .filter(user_coupon::Column::Status.eq(UserCouponStatus::Reserved))
        .exec(txn)
        .await?;
    Ok(())
}

/// Spends the copy of a paid order: the one it holds or, for a late payment of a
/// closed order, the one it was priced with if that is still free.
pub async fn spend(
    txn: &impl ConnectionTrait,
    order_id: i64,
    priced_with: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut whose = Condition::any().add(
        Condition::all()
            .add(user_coupon::Column::OrderId.eq(order_id))
            .add(user_coupon::Column::Status.eq(UserCouponStatus::Reserved)),
    );
    if let Some(copy_id) = priced_with {
        whose = whose.add(
            Condition::all()
                .add(user_coupon::Column::Id.eq(copy_id))
                .add(user_coupon::Column::Status.eq(UserCouponStatus::Available)),
        );
    }
    user_coupon::Entity::update_many()
        .col_expr(
            user_coupon::Column::Status,
            Expr::value(UserCouponStatus::Used),
        )
        .col_expr(user_coupon::Column::OrderId, Expr::value(order_id))
        .col_expr(user_coupon::Column::UsedAt, Expr::value(now))
        .filter(whose)
        .exec(txn)
        .await?;
    Ok(())
}

/// Why copy `copy_id` is not among `user_id`'s usable ones: its coupon ended
/// (Expired), or it is not theirs, used, held elsewhere or switched off.
pub async fn why_unusable(
    db: &impl ConnectionTrait,
    user_id: Option<i64>,
    copy_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Refusal> {
    let Some(user_id) = user_id else {
        return Ok(Refusal::NotApplicable("sign in to use a coupon"));
    };
    let copy = user_coupon::Entity::find_by_id(copy_id)
        .filter(user_coupon::Column::UserId.eq(user_id))
        .one(db)
        .await?;
    let Some(copy) = copy else {
        return Ok(Refusal::NotApplicable("this is not one of your coupons"));
    };
    if copy.status == UserCouponStatus::Used {
        return Ok(Refusal::NotApplicable("this coupon was used"));
    }
    let coupon = coupon::Entity::find_by_id(copy.coupon_id).one(db).await?;
    Ok(match coupon {
        Some(c) if now >= c.ends_at => Refusal::Expired,
        Some(c) if c.disabled => Refusal::NotApplicable("this coupon was switched off"),
        _ => Refusal::NotApplicable("this coupon is held by another order"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::enums::CouponDistribution;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn coupon(amount: Option<i64>, percent: Option<i32>, min_spend: i64) -> coupon::Model {
        coupon::Model {
            id: 1,
            creator_id: Some(7),
            name: "券".into(),
            distribution: CouponDistribution::Claim,
            code: None,
            amount_off_fen: amount,
            percent_off: percent,
            min_spend_fen: min_spend,
            scope: CouponScope::All,
            scope_kind: None,
            starts_at: at(-100),
            ends_at: at(100),
            total_quantity: 10,
            issued: 0,
            per_user_limit: 1,
            disabled: false,
            created_at: at(-100),
        }
    }

    fn course(id: i64, creator_id: i64, price_fen: i64) -> ProductRef {
        ProductRef {
            kind: ProductKind::Course,
            id,
            creator_id,
            price_fen,
        }
    }

    #[test]
    fn amounts_off_computed_by_hand() {
        let product = course(1, 7, 9900);
        // (amount off, percent off, min spend, price the coupon meets, fen off)
        let cases = [
            (Some(1000), None, 0, 9900, Ok(1000)),
            (None, Some(15), 0, 9900, Ok(1485)),
            // 6999 × 15% = 1049.85: 1050 off, in the buyer's favour.
            (None, Some(15), 0, 6999, Ok(1050)),
            // 1 × 99% = 0.99: rounds to 1 off, but a paid price stays at least 1 fen.
            (None, Some(99), 0, 101, Ok(100)),
            (Some(5000), None, 0, 3000, Ok(2999)),
            (Some(1000), None, 5000, 4999, Err(())),
            (Some(1000), None, 5000, 5000, Ok(1000)),
            // A free price has nothing to take off.
            (Some(1000), None, 0, 0, Err(())),
        ];
        for (amount, percent, min, price, expected) in cases {
            let got = discount(&coupon(amount, percent, min), &[], &product, price, at(0));
            assert_eq!(
                got.map_err(|_| ()),
                expected,
                "{amount:?} {percent:?} {min} {price}"
            );
        }
    }

    #[test]
    fn windows_scopes_and_creators() {
        let product = course(1, 7, 9900);
        let c = coupon(Some(100), None, 0);
        assert_eq!(
            discount(&c, &[], &product, 9900, at(100)),
            Err(Refusal::Expired)
        );
        assert!(discount(&c, &[], &product, 9900, at(99)).is_ok());
        assert!(matches!(
            discount(&c, &[], &product, 9900, at(-101)),
            Err(Refusal::NotApplicable(_))
        ));
        let other_creator = course(1, 8, 9900);
        assert!(discount(&c, &[], &other_creator, 9900, at(0)).is_err());
        let platform = coupon::Model {
            creator_id: None,
            ..c.clone()
        };
        assert!(discount(&platform, &[], &other_creator, 9900, at(0)).is_ok());
        let listed = coupon::Model {
            scope: CouponScope::Products,
            ..c.clone()
        };
        assert!(discount(&listed, &[(ProductKind::Course, 2)], &product, 9900, at(0)).is_err());
        assert!(discount(&listed, &[(ProductKind::Course, 1)], &product, 9900, at(0)).is_ok());
        let kind = coupon::Model {
            scope: CouponScope::Kind,
            scope_kind: Some(ProductKind::Livestream),
            ..c.clone()
        };
        assert!(discount(&kind, &[], &product, 9900, at(0)).is_err());
        let off = coupon::Model {
            disabled: true,
            ..c
        };
        assert!(discount(&off, &[], &product, 9900, at(0)).is_err());
    }

    #[test]
    fn the_best_takes_most_then_ends_first() {
        let product = course(1, 7, 9900);
        let held = |id: i64, c: coupon::Model| Held {
            copy: user_coupon::Model {
                id,
                coupon_id: c.id,
                user_id: 1,
                status: UserCouponStatus::Available,
                order_id: None,
                obtained_at: at(0),
                used_at: None,
            },
            coupon: c,
            products: Vec::new(),
            reserved_for: None,
        };
        let small = held(1, coupon(Some(500), None, 0));
        let big_late = held(2, coupon(None, Some(20), 0));
        let big_soon = held(
            3,
            coupon::Model {
                ends_at: at(50),
                ..coupon(Some(1980), None, 0)
            },
        );
        let all = [small, big_late, big_soon];
        let (best_one, off) = best(&all, &product, 9900, at(0)).unwrap();
        assert_eq!(
            (best_one.copy.id, off),
            (3, 1980),
            "1980 = 20% of 9900; the one ending first"
        );
    }
}
