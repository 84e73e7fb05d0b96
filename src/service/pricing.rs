//! What a viewer pays for a product now, in one place: the list price, then a
//! limited-time price if one is active, then the best applicable coupon of the viewer's
//! (or the one they chose), never below 0 (a 0-fen result is a free order, granted at
//! once; a coupon never brings a paid price below 1 fen, see [`coupons::apply`]). `viewerPrice` shows this quote and `createOrder` charges it and
//! stores it on the order, so what a learner sees is what they pay, and a later price
//! change never changes an order already made.
//!
//! A sale is active from `starts_at` (inclusive) to `ends_at` (exclusive): at its end
//! instant the list price is back.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::enums::{DiscountKind, ProductKind};
use entity::product_sale;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter,
};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::access::ProductRef;
use crate::service::coupons;
use crate::service::coupons::apply::{Held, Refusal};
use crate::service::validation::{FieldError, UserErrorCode};

/// The label of a limited-time price.
pub const SALE_LABEL: &str = "限时折扣";
/// Longest sale.
const MAX_SALE: Duration = Duration::days(366);

/// One reason the price is lower.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discount {
    /// What kind.
    pub kind: DiscountKind,
    /// What the buyer is shown.
    pub label: String,
    /// Fen off, above 0.
    pub amount_fen: i64,
    /// The coupon, for COUPON.
    pub coupon_id: Option<i64>,
}

/// The price of a product for one viewer at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The list price.
    pub list_fen: i64,
    /// What to pay: the list price less the discounts, at least 0.
    pub amount_fen: i64,
    /// Each discount in the order applied.
    pub discounts: Vec<Discount>,
    /// When this price stops holding (the active sale's end), if it does.
    pub ends_at: Option<DateTime<Utc>>,
}

impl Quote {
    /// Takes up to `amount_fen` off (never below 0); a discount worth nothing is left out.
    fn take_off(
        &mut self,
        kind: DiscountKind,
        label: &str,
        amount_fen: i64,
        coupon_id: Option<i64>,
    ) {
        let amount_fen = amount_fen.clamp(0, self.amount_fen);
        if amount_fen == 0 {
            return;
        }
        self.amount_fen -= amount_fen;
        self.discounts.push(Discount {
            kind,
            label: label.to_owned(),
            amount_fen,
            coupon_id,
        });
    }
}

/// Whether a sale holds at `now`.
pub fn is_active(sale: &product_sale::Model, now: DateTime<Utc>) -> bool {
    sale.starts_at <= now && now < sale.ends_at
}

/// The price of a product listed at `list_fen` with this sale (if any) at `now`.
pub fn price(list_fen: i64, sale: Option<&product_sale::Model>, now: DateTime<Utc>) -> Quote {
    let mut quote = Quote {
        list_fen,
        amount_fen: list_fen.max(0),
        discounts: Vec::new(),
        ends_at: None,
    };
    if let Some(sale) = sale.filter(|s| is_active(s, now)) {
        let before = quote.amount_fen;
        quote.take_off(
            DiscountKind::Sale,
            SALE_LABEL,
            before - sale.price_fen,
            None,
        );
        if quote.amount_fen < before {
            quote.ends_at = Some(sale.ends_at);
        }
    }
    quote
}

/// The sales (current, upcoming or past) of some products, by product.
pub async fn sales_of(
    db: &impl ConnectionTrait,
    products: &[(ProductKind, i64)],
) -> AppResult<HashMap<(ProductKind, i64), product_sale::Model>> {
    if products.is_empty() {
        return Ok(HashMap::new());
    }
    let mut any = Condition::any();
    for kind in [
        ProductKind::Course,
        ProductKind::Livestream,
        ProductKind::Group,
    ] {
        let ids: Vec<i64> = products
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| *id)
            .collect();
        if !ids.is_empty() {
            any = any.add(
                Condition::all()
                    .add(product_sale::Column::ProductKind.eq(kind))
                    .add(product_sale::Column::ProductId.is_in(ids)),
            );
        }
    }
    Ok(product_sale::Entity::find()
        .filter(any)
        .all(db)
        .await?
        .into_iter()
        .map(|s| ((s.product_kind, s.product_id), s))
        .collect())
}

/// Which coupon to price with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CouponChoice {
    /// The best of the viewer's that applies (none when none does).
    Best,
    /// This copy of the viewer's (`user_coupons.id`); refused when it does not apply.
    Copy(i64),
}

/// The price with a sale and a coupon of `held` as `choice` says; a chosen copy that
/// does not apply is refused.
pub fn price_with(
    product: &ProductRef,
    sale: Option<&product_sale::Model>,
    credit: Credit,
    held: &[Held],
    choice: CouponChoice,
    now: DateTime<Utc>,
) -> Result<Quote, Refusal> {
    let mut quote = price(product.price_fen, sale, now);
    // A bundle's credit or a renewal price; like a coupon, it leaves a paid price at 1
    // fen at least.
    let room = (quote.amount_fen - 1).max(0);
    quote.take_off(
        credit.kind,
        credit.label(),
        credit.amount_fen.min(room),
        None,
    );
    let picked = match choice {
        CouponChoice::Best => coupons::apply::best(held, product, quote.amount_fen, now),
        CouponChoice::Copy(id) => {
            let held = held
                .iter()
                .find(|h| h.copy.id == id && h.free_for(product))
                .ok_or(Refusal::NotApplicable(
                    "this is not a coupon you can use now",
                ))?;
            let off = coupons::apply::discount(
                &held.coupon,
                &held.products,
                product,
                quote.amount_fen,
                now,
            )?;
            Some((held, off))
        }
    };
    if let Some((held, off)) = picked {
        quote.take_off(
            DiscountKind::Coupon,
            &held.coupon.name,
            off,
            Some(held.copy.id),
        );
    }
    Ok(quote)
}

/// What `buyer` (None: an anonymous viewer) pays for `product` now.
pub async fn quote(
    db: &impl ConnectionTrait,
    product: &ProductRef,
    buyer: Option<i64>,
    choice: CouponChoice,
    now: DateTime<Utc>,
) -> AppResult<Quote> {
    let sales = sales_of(db, &[(product.kind, product.id)]).await?;
    let held = match buyer {
        Some(user_id) => coupons::apply::usable(db, user_id, now).await?,
        None => Vec::new(),
    };
    if let CouponChoice::Copy(id) = choice
        && !held.iter().any(|h| h.copy.id == id && h.free_for(product))
    {
        return Err(coupons::apply::why_unusable(db, buyer, id, now)
            .await?
            .into_error());
    }
    let credit = match buyer {
        Some(user_id) => history_credit(db, product, user_id, now).await?,
        None => Credit::NONE,
    };
    price_with(
        product,
        sales.get(&(product.kind, product.id)),
        credit,
        &held,
        choice,
        now,
    )
    .map_err(Refusal::into_error)
}

/// What `user_id`'s history takes off `product`: a `credit_owned` bundle's credit for
/// courses they paid for, or a membership plan's renewal price; 0 otherwise.
pub async fn history_credit(
    db: &impl ConnectionTrait,
    product: &ProductRef,
    user_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Credit> {
    Ok(match product.kind {
        ProductKind::Bundle => match crate::service::bundles::find(db, product.id).await? {
            Some(bundle) if bundle.credit_owned => Credit {
                kind: DiscountKind::BundleCredit,
                amount_fen: crate::service::bundles::credit(db, user_id, bundle.id, now).await?,
            },
            _ => Credit::NONE,
        },
        ProductKind::Membership => match crate::service::memberships::find(db, product.id).await? {
            Some(plan) => Credit {
                kind: DiscountKind::Renewal,
                amount_fen: crate::service::memberships::renewal_discount(db, &plan, user_id, now)
                    .await?,
            },
            None => Credit::NONE,
        },
        _ => Credit::NONE,
    })
}

/// A discount from the buyer's history: a bundle's credit or a renewal price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credit {
    /// BUNDLE_CREDIT or RENEWAL.
    pub kind: DiscountKind,
    /// Fen off (0: none).
    pub amount_fen: i64,
}

impl Credit {
    /// No credit.
    pub const NONE: Credit = Credit {
        kind: DiscountKind::BundleCredit,
        amount_fen: 0,
    };

    fn label(&self) -> &'static str {
        match self.kind {
            DiscountKind::Renewal => crate::service::memberships::RENEWAL_LABEL,
            _ => crate::service::bundles::CREDIT_LABEL,
        }
    }
}

/// A limited-time price to set.
#[derive(Debug, Clone)]
pub struct NewSale {
    /// The sale price in fen: 0 (free for a while) up to below the list price.
    pub price_fen: i64,
    /// From when.
    pub starts_at: DateTime<Utc>,
    /// Until when (exclusive), in the future, at most a year after the start.
    pub ends_at: DateTime<Utc>,
}

/// The product to price, for its creator or an admin.
async fn product_to_price(
    db: &impl ConnectionTrait,
    actor: &Actor,
    kind: ProductKind,
    id: i64,
) -> AppResult<ProductRef> {
    actor.require_user()?;
    let product = ProductRef::find(db, kind, id)
        .await?
        .ok_or_else(|| FieldError::new("product", UserErrorCode::NotFound, "no such product"))?;
    crate::service::access::require_seller(
        actor,
        product.creator_id,
        "only the product's creator and admins may price it",
    )?;
    Ok(product)
}

/// Sets (or replaces) a product's limited-time price; returns it with the product.
pub async fn set_sale(
    db: &DatabaseConnection,
    actor: &Actor,
    kind: ProductKind,
    id: i64,
    sale: NewSale,
) -> AppResult<(product_sale::Model, ProductRef)> {
    let product = product_to_price(db, actor, kind, id).await?;
    let now = Utc::now();
    if sale.price_fen < 0 || sale.price_fen >= product.price_fen {
        return Err(FieldError::new(
            "priceFen",
            UserErrorCode::OutOfRange,
            format!(
                "a sale price is 0 up to below the list price ({} fen)",
                product.price_fen
            ),
        )
        .into());
    }
    if sale.ends_at <= sale.starts_at || sale.ends_at <= now {
        return Err(FieldError::new(
            "endsAt",
            UserErrorCode::OutOfRange,
            "a sale ends after it starts, and in the future",
        )
        .into());
    }
    if sale.ends_at - sale.starts_at > MAX_SALE {
        return Err(FieldError::new(
            "endsAt",
            UserErrorCode::OutOfRange,
            "a sale lasts at most a year",
        )
        .into());
    }
    product_sale::Entity::insert(product_sale::ActiveModel {
        product_kind: Set(product.kind),
        product_id: Set(product.id),
        price_fen: Set(sale.price_fen),
        starts_at: Set(sale.starts_at),
        ends_at: Set(sale.ends_at),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            product_sale::Column::ProductKind,
            product_sale::Column::ProductId,
        ])
        .update_columns([
            product_sale::Column::PriceFen,
            product_sale::Column::StartsAt,
            product_sale::Column::EndsAt,
            product_sale::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let saved = sales_of(db, &[(product.kind, product.id)])
        .await?
        .remove(&(product.kind, product.id))
        .ok_or(AppError::NotFound("sale"))?;
    Ok((saved, product))
}

/// Ends a product's limited-time price now (nothing when it has none); returns the
/// product.
pub async fn end_sale(
    db: &DatabaseConnection,
    actor: &Actor,
    kind: ProductKind,
    id: i64,
) -> AppResult<ProductRef> {
    let product = product_to_price(db, actor, kind, id).await?;
    product_sale::Entity::delete_many()
        .filter(product_sale::Column::ProductKind.eq(product.kind))
        .filter(product_sale::Column::ProductId.eq(product.id))
        .exec(db)
        .await?;
    Ok(product)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn sale(price_fen: i64, from: i64, to: i64) -> product_sale::Model {
        product_sale::Model {
            id: 1,
            product_kind: ProductKind::Course,
            product_id: 1,
            price_fen,
            starts_at: at(from),
            ends_at: at(to),
            updated_at: at(0),
        }
    }

    #[test]
    fn each_rule_gives_the_amount_computed_by_hand() {
        /// (list, sale (price, from, to), at, amount, sale discount)
        type Case = (i64, Option<(i64, i64, i64)>, i64, i64, i64);
        let cases: [Case; 8] = [
            (9900, None, 0, 9900, 0),
            (9900, Some((6900, -10, 10)), 0, 6900, 3000),
            // Boundaries: active at the start instant, over at the end instant.
            (9900, Some((6900, 0, 10)), 0, 6900, 3000),
            (9900, Some((6900, -10, 0)), 0, 9900, 0),
            (9900, Some((6900, 1, 10)), 0, 9900, 0),
            // Free for a while: 0 fen, a free order.
            (9900, Some((0, -10, 10)), 0, 0, 9900),
            // A list price lowered below the sale price: the sale takes nothing off.
            (5000, Some((6900, -10, 10)), 0, 5000, 0),
            (0, Some((0, -10, 10)), 0, 0, 0),
        ];
        for (list, window, now, amount, off) in cases {
            let sale = window.map(|(p, from, to)| sale(p, from, to));
            let quote = price(list, sale.as_ref(), at(now));
            assert_eq!(quote.amount_fen, amount, "{list} {window:?}");
            assert_eq!(quote.list_fen, list);
            let taken: i64 = quote.discounts.iter().map(|d| d.amount_fen).sum();
            assert_eq!(taken, off, "{list} {window:?}");
            assert_eq!(quote.list_fen - taken, quote.amount_fen);
            assert_eq!(quote.ends_at.is_some(), off > 0);
        }
    }

    fn held(amount: Option<i64>, percent: Option<i32>, min_spend: i64) -> Held {
        use entity::enums::{CouponDistribution, CouponScope, UserCouponStatus};
        Held {
            copy: entity::user_coupon::Model {
                id: 9,
                coupon_id: 3,
                user_id: 1,
                status: UserCouponStatus::Available,
                order_id: None,
                obtained_at: at(-10),
                used_at: None,
            },
            coupon: entity::coupon::Model {
                id: 3,
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
                total_quantity: 1,
                issued: 1,
                per_user_limit: 1,
                disabled: false,
                created_at: at(-100),
            },
            products: Vec::new(),
            reserved_for: None,
        }
    }

    #[test]
    fn the_rules_combined_give_the_amounts_computed_by_hand() {
        let product = |price_fen| ProductRef {
            kind: ProductKind::Bundle,
            id: 1,
            creator_id: 7,
            price_fen,
        };
        let credit = |amount_fen| Credit {
            kind: DiscountKind::BundleCredit,
            amount_fen,
        };
        /// (list, sale price, credit, coupon (amount, percent, min spend), pays, off per step)
        type Case = (
            i64,
            Option<i64>,
            i64,
            Option<(Option<i64>, Option<i32>, i64)>,
            i64,
            Vec<i64>,
        );
        let cases: Vec<Case> = vec![
            // The README's example: 19,900 on sale at 13,930, then 15% → 2,090 off.
            (
                19_900,
                Some(13_930),
                0,
                Some((None, Some(15), 0)),
                11_840,
                vec![5_970, 2_090],
            ),
            // The minimum spend is met by the sale price or not at all.
            (
                9_900,
                Some(4_900),
                0,
                Some((Some(1_000), None, 5_000)),
                4_900,
                vec![5_000],
            ),
            (
                9_900,
                Some(5_000),
                0,
                Some((Some(1_000), None, 5_000)),
                4_000,
                vec![4_900, 1_000],
            ),
            // A bundle: 12,000 less a 9,900 credit, then 10% of 2,100 = 210.
            (
                12_000,
                None,
                9_900,
                Some((None, Some(10), 0)),
                1_890,
                vec![9_900, 210],
            ),
            // Credit and coupon stop at 1 fen.
            (
                12_000,
                None,
                11_999,
                Some((Some(500), None, 0)),
                1,
                vec![11_999],
            ),
            (12_000, None, 20_000, None, 1, vec![11_999]),
            // A free sale price takes no credit or coupon.
            (
                9_900,
                Some(0),
                5_000,
                Some((Some(500), None, 0)),
                0,
                vec![9_900],
            ),
        ];
        for (list, sale_price, credited, coupon, pays, steps) in cases {
            let sale = sale_price.map(|p| sale(p, -10, 10));
            let held: Vec<Held> = coupon
                .map(|(amount, percent, min)| held(amount, percent, min))
                .into_iter()
                .collect();
            let quote = price_with(
                &product(list),
                sale.as_ref(),
                credit(credited),
                &held,
                CouponChoice::Best,
                at(0),
            )
            .unwrap();
            let offs: Vec<i64> = quote.discounts.iter().map(|d| d.amount_fen).collect();
            assert_eq!(
                (quote.amount_fen, offs),
                (pays, steps),
                "{list} {sale_price:?} {credited} {coupon:?}"
            );
            assert_eq!(
                quote.list_fen - quote.discounts.iter().map(|d| d.amount_fen).sum::<i64>(),
                quote.amount_fen
            );
        }
    }
}
