//! Coupons (优惠券): creators make them for their own products (admins, platform-wide
//! ones), learners get copies by code (`redeem_code`), from a product page (`claim`) or
//! from the creator (`grant`), and orders use them ([`apply`]).
//!
//! Handing out a copy raises `coupons.issued` with a conditional UPDATE, which both
//! serialises claims of one coupon (a row lock on PostgreSQL, the one writer on SQLite)
//! and, with the CHECK `issued <= total_quantity`, makes overselling impossible; the
//! per-person limit is counted after that lock, so it holds under races too.

pub mod apply;
mod issue;
mod queries;

pub use issue::{Audience, claim, copy_for_order, grant, redeem_code};
pub use queries::{CopyState, by_ids, claimable_for, copies_of, copy, managed, state_of, visible};

use chrono::{DateTime, Duration, Utc};
use entity::enums::{CouponDistribution, CouponScope, ProductKind};
use entity::{coupon, coupon_product};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, SqlErr,
};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::access::ProductRef;
use crate::service::validation::{Checks, FieldError, UserErrorCode};

/// Most products a coupon can be limited to.
const MAX_PRODUCTS: usize = 50;
/// Most copies a coupon can have.
const MAX_QUANTITY: i64 = 1_000_000;
/// Most learners one grant reaches.
pub(super) const MAX_GRANT: u64 = 10_000;
/// Longest a coupon lasts.
const MAX_VALIDITY: Duration = Duration::days(366);

/// How much a coupon takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Off {
    /// A fixed amount in fen.
    Amount(i64),
    /// A percentage, 1 to 99.
    Percent(i32),
}

/// A coupon to make.
#[derive(Debug, Clone)]
pub struct NewCoupon {
    /// What learners see, 1 to 32 characters.
    pub name: String,
    /// How learners get it.
    pub distribution: CouponDistribution,
    /// The public code (CODE coupons): 4 to 32 letters, digits, `-` or `_`, kept in
    /// capitals.
    pub code: Option<String>,
    /// How much it takes off.
    pub off: Off,
    /// The least the price must be for it to apply.
    pub min_spend_fen: i64,
    /// Which products.
    pub scope: CouponScope,
    /// The kind, for KIND scope.
    pub scope_kind: Option<ProductKind>,
    /// The products, for PRODUCTS scope.
    pub products: Vec<(ProductKind, i64)>,
    /// Usable from.
    pub starts_at: DateTime<Utc>,
    /// Usable until (exclusive).
    pub ends_at: DateTime<Utc>,
    /// Copies in all.
    pub total_quantity: i64,
    /// Copies one learner may hold.
    pub per_user_limit: i32,
    /// A platform coupon (admins), for every creator's products.
    pub platform: bool,
}

/// Changes to a coupon; omitted fields stay.
#[derive(Debug, Clone, Default)]
pub struct CouponChanges {
    /// New name.
    pub name: Option<String>,
    /// New end (in the future).
    pub ends_at: Option<DateTime<Utc>>,
    /// New total (at least the copies handed out).
    pub total_quantity: Option<i64>,
    /// Switched off (no more copies; held ones no longer apply) or on again.
    pub disabled: Option<bool>,
}

pub(super) fn error(field: &str, code: UserErrorCode, message: &str) -> AppError {
    FieldError::new(field, code, message).into()
}

/// The creator profile a coupon is made for (None: the platform's).
fn owner_for(actor: &Actor, platform: bool) -> AppResult<Option<i64>> {
    actor.require_user()?;
    if platform {
        actor.require_console_admin()?;
        return Ok(None);
    }
    actor
        .creator_id()
        .map(Some)
        .ok_or(AppError::Forbidden("only creators make coupons"))
}

/// Whether the actor manages `coupon`: its creator, or an admin on the console.
pub fn manages(actor: &Actor, coupon: &coupon::Model) -> bool {
    actor.is_console_admin()
        || (coupon.creator_id.is_some() && actor.creator_id() == coupon.creator_id)
}

/// The coupon's creator or an admin on the console, else FORBIDDEN.
pub(super) fn require_manager(actor: &Actor, coupon: &coupon::Model) -> AppResult<()> {
    actor.require_user()?;
    if manages(actor, coupon) {
        return Ok(());
    }
    Err(AppError::Forbidden(
        "only the coupon's creator and admins manage it",
    ))
}

fn normalize_code(checks: &mut Checks, code: Option<&str>, needed: bool) -> Option<String> {
    let code = code
        .map(|c| c.trim().to_uppercase())
        .filter(|c| !c.is_empty());
    match (&code, needed) {
        (None, true) => {
            checks.fail(
                "code",
                UserErrorCode::Required,
                "a CODE coupon needs its code",
            );
            None
        }
        (Some(_), false) => {
            checks.fail(
                "code",
                UserErrorCode::Invalid,
                "only CODE coupons have a code",
            );
            None
        }
        (Some(code), true) => {
            let ok = (4..=32).contains(&code.len())
                && code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                checks.fail(
                    "code",
                    UserErrorCode::Invalid,
                    "4 to 32 letters, digits, `-` or `_`",
                );
            }
            Some(code.clone())
        }
        (None, false) => None,
    }
}

/// Makes a coupon.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewCoupon,
) -> AppResult<coupon::Model> {
    let creator_id = owner_for(actor, input.platform)?;
    let now = Utc::now();
    let mut checks = Checks::new();
    let name = checks.text("name", &input.name, 32);
    let code = normalize_code(
        &mut checks,
        input.code.as_deref(),
        input.distribution == CouponDistribution::Code,
    );
    let (amount_off, percent_off) = match input.off {
        Off::Amount(fen) => (Some(checks.range("amountOffFen", fen, 1, 10_000_000)), None),
        Off::Percent(p) => (
            None,
            Some(checks.range("percentOff", p.into(), 1, 99) as i32),
        ),
    };
    let min_spend = checks.range("minSpendFen", input.min_spend_fen, 0, 10_000_000);
    let total = checks.range("totalQuantity", input.total_quantity, 1, MAX_QUANTITY);
    let per_user = checks.range("perUserLimit", input.per_user_limit.into(), 1, 100) as i32;
    if input.ends_at <= input.starts_at || input.ends_at <= now {
        checks.fail(
            "endsAt",
            UserErrorCode::OutOfRange,
            "a coupon ends after it starts, and in the future",
        );
    } else if input.ends_at - input.starts_at > MAX_VALIDITY {
        checks.fail(
            "endsAt",
            UserErrorCode::OutOfRange,
            "a coupon lasts at most a year",
        );
    }
    match input.scope {
        CouponScope::Kind if input.scope_kind.is_none() => {
            checks.fail(
                "scopeKind",
                UserErrorCode::Required,
                "a KIND coupon names its kind",
            );
        }
        CouponScope::Products
            if input.products.is_empty() || input.products.len() > MAX_PRODUCTS =>
        {
            checks.fail(
                "products",
                UserErrorCode::OutOfRange,
                "a PRODUCTS coupon lists 1 to 50 products",
            );
        }
        _ => {}
    }
    checks.finish()?;
    let products = if input.scope == CouponScope::Products {
        let mut listed = Vec::with_capacity(input.products.len());
        for (kind, id) in &input.products {
            let product = ProductRef::find(db, *kind, *id)
                .await?
                .ok_or_else(|| error("products", UserErrorCode::NotFound, "no such product"))?;
            if creator_id.is_some_and(|c| c != product.creator_id) {
                return Err(error(
                    "products",
                    UserErrorCode::Invalid,
                    "a coupon covers only its creator's products",
                ));
            }
            if !listed.contains(&(*kind, *id)) {
                listed.push((*kind, *id));
            }
        }
        listed
    } else {
        Vec::new()
    };
    let txn = crate::db::begin_write(db).await?;
    let created = coupon::ActiveModel {
        creator_id: Set(creator_id),
        name: Set(name),
        distribution: Set(input.distribution),
        code: Set(code),
        amount_off_fen: Set(amount_off),
        percent_off: Set(percent_off),
        min_spend_fen: Set(min_spend),
        scope: Set(input.scope),
        scope_kind: Set((input.scope == CouponScope::Kind)
            .then_some(input.scope_kind)
            .flatten()),
        starts_at: Set(input.starts_at),
        ends_at: Set(input.ends_at),
        total_quantity: Set(total),
        issued: Set(0),
        per_user_limit: Set(per_user),
        disabled: Set(false),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let created = match created {
        Ok(created) => created,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(error(
                "code",
                UserErrorCode::Taken,
                "another coupon has this code",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    for (kind, id) in products {
        coupon_product::ActiveModel {
            coupon_id: Set(created.id),
            product_kind: Set(kind),
            product_id: Set(id),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(created)
}

/// Changes a coupon (its creator or an admin).
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    coupon_id: i64,
    changes: CouponChanges,
) -> AppResult<coupon::Model> {
    let row = find(db, coupon_id).await?;
    require_manager(actor, &row)?;
    let mut checks = Checks::new();
    let mut model = row.clone().into_active_model();
    if let Some(name) = changes.name {
        model.name = Set(checks.text("name", &name, 32));
    }
    if let Some(ends_at) = changes.ends_at {
        if ends_at <= row.starts_at
            || ends_at <= Utc::now()
            || ends_at - row.starts_at > MAX_VALIDITY
        {
            checks.fail(
                "endsAt",
                UserErrorCode::OutOfRange,
                "in the future, after the start, within a year of it",
            );
        }
        model.ends_at = Set(ends_at);
    }
    if let Some(total) = changes.total_quantity
        && (total < row.issued || total > MAX_QUANTITY)
    {
        checks.fail(
            "totalQuantity",
            UserErrorCode::OutOfRange,
            "at least the copies handed out",
        );
    }
    if let Some(disabled) = changes.disabled {
        model.disabled = Set(disabled);
    }
    checks.finish()?;
    let txn = crate::db::begin_write(db).await?;
    if let Some(total) = changes.total_quantity {
        // Conditional: a claim may have raised `issued` since the row was read.
        let lowered = coupon::Entity::update_many()
            .col_expr(coupon::Column::TotalQuantity, Expr::value(total))
            .filter(coupon::Column::Id.eq(coupon_id))
            .filter(coupon::Column::Issued.lte(total))
            .exec(&txn)
            .await?;
        if lowered.rows_affected != 1 {
            return Err(error(
                "totalQuantity",
                UserErrorCode::OutOfRange,
                "at least the copies handed out",
            ));
        }
    }
    let updated = model.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

pub(super) async fn find(db: &impl ConnectionTrait, coupon_id: i64) -> AppResult<coupon::Model> {
    coupon::Entity::find_by_id(coupon_id)
        .one(db)
        .await?
        .ok_or_else(|| error("coupon", UserErrorCode::NotFound, "no such coupon"))
}
