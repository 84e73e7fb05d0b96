//! Memberships (会员): a creator's plan grants, for its period, all their courses (or a
//! chosen set) and optionally their paid groups. A member holds one entitlement of kind
//! MEMBERSHIP per plan whose `expires_at` is the end; access checks read it
//! ([`covered`]), so a lapsed membership locks the content at once.
//!
//! Renewing extends from the current end while the membership runs, from the payment
//! once it lapsed; months are calendar months (31 January + 1 month = 28 or 29
//! February). The plan may price renewals lower: `early_renewal_price_fen` for a member
//! renewing before the end, `lapsed_renewal_price_fen` for a former member (a `RENEWAL`
//! discount). Refunding a membership order takes its period back: the end moves one
//! period earlier, and a membership whose end is then past ends at once.

use std::collections::HashSet;

use chrono::{DateTime, Months, Utc};
use entity::enums::{CourseStatus, ProductKind};
use entity::{course, entitlement, membership_plan, membership_plan_course};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, QuerySelect,
};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::access::ProductRef;
use crate::service::validation::{Checks, FieldError, UserErrorCode};

/// The label of a renewal price.
pub const RENEWAL_LABEL: &str = "续费优惠";

impl ProductRef {
    /// A membership plan.
    pub fn membership(row: &membership_plan::Model) -> Self {
        ProductRef {
            kind: ProductKind::Membership,
            id: row.id,
            creator_id: row.creator_id,
            price_fen: row.price_fen,
        }
    }
}

/// Whether the plan can be bought.
pub fn is_on_sale(row: &membership_plan::Model) -> bool {
    row.status == CourseStatus::Published
}

/// A plan by id.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> AppResult<Option<membership_plan::Model>> {
    Ok(membership_plan::Entity::find_by_id(id).one(db).await?)
}

/// The end of a membership bought (or renewed) at `now` whose current end is
/// `current_end`: a period after the current end while it runs, after `now` otherwise.
pub fn new_end(
    current_end: Option<DateTime<Utc>>,
    period_months: i32,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let from = current_end.filter(|end| *end > now).unwrap_or(now);
    from.checked_add_months(Months::new(period_months.max(1) as u32))
        .unwrap_or(from)
}

/// The member's entitlement to a plan (live or not), if they ever had one.
pub async fn membership_of(
    db: &impl ConnectionTrait,
    user_id: i64,
    plan_id: i64,
) -> AppResult<Option<entitlement::Model>> {
    Ok(entitlement::Entity::find()
        .filter(entitlement::Column::UserId.eq(user_id))
        .filter(entitlement::Column::ProductKind.eq(ProductKind::Membership))
        .filter(entitlement::Column::ProductId.eq(plan_id))
        .one(db)
        .await?)
}

/// Takes back the period a refunded membership order bought, in the caller's
/// transaction: the end moves one period earlier (calendar months), and the
/// membership ends now when that is past.
pub async fn take_back_period(
    db: &impl ConnectionTrait,
    order: &entity::order::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(held) = membership_of(db, order.buyer_id, order.product_id)
        .await?
        .filter(|e| e.revoked_at.is_none())
    else {
        return Ok(());
    };
    let months = find(db, order.product_id)
        .await?
        .map_or(1, |plan| plan.period_months.max(1) as u32);
    let end = held
        .expires_at
        .and_then(|end| end.checked_sub_months(Months::new(months)));
    let mut model = held.into_active_model();
    match end {
        Some(end) if end > now => model.expires_at = Set(Some(end)),
        _ => model.revoked_at = Set(Some(now)),
    }
    model.update(db).await?;
    Ok(())
}

/// What the plan's renewal price takes off for `user_id` at `now` (0 for a first
/// purchase or a plan without renewal prices).
pub async fn renewal_discount(
    db: &impl ConnectionTrait,
    plan: &membership_plan::Model,
    user_id: i64,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let Some(held) = membership_of(db, user_id, plan.id).await? else {
        return Ok(0);
    };
    let running = held.revoked_at.is_none() && held.expires_at.is_some_and(|end| end > now);
    let renewal = if running {
        plan.early_renewal_price_fen
    } else if held.revoked_at.is_none() {
        plan.lapsed_renewal_price_fen
    } else {
        None
    };
    Ok(renewal.map_or(0, |price| (plan.price_fen - price).max(0)))
}

/// The product ids of `kind` among `ids` that `user_id`'s running memberships cover.
pub async fn covered(
    db: &impl ConnectionTrait,
    user_id: i64,
    kind: ProductKind,
    ids: &[i64],
    now: DateTime<Utc>,
) -> AppResult<HashSet<i64>> {
    if ids.is_empty() || !matches!(kind, ProductKind::Course | ProductKind::Group) {
        return Ok(HashSet::new());
    }
    let plan_ids: Vec<i64> = entitlement::Entity::find()
        .select_only()
        .column(entitlement::Column::ProductId)
        .filter(entitlement::Column::UserId.eq(user_id))
        .filter(entitlement::Column::ProductKind.eq(ProductKind::Membership))
        .filter(entitlement::Column::RevokedAt.is_null())
        .filter(entitlement::Column::ExpiresAt.gt(now))
        .into_tuple()
        .all(db)
        .await?;
    if plan_ids.is_empty() {
        return Ok(HashSet::new());
    }
    let plans = membership_plan::Entity::find()
        .filter(membership_plan::Column::Id.is_in(plan_ids))
        .all(db)
        .await?;
    let mut covered = HashSet::new();
    match kind {
        ProductKind::Course => {
            let courses = course::Entity::find()
                .filter(course::Column::Id.is_in(ids.iter().copied()))
                .all(db)
                .await?;
            let chosen: Vec<(i64, i64)> = membership_plan_course::Entity::find()
                .filter(
                    membership_plan_course::Column::PlanId
                        .is_in(plans.iter().filter(|p| !p.covers_all_courses).map(|p| p.id)),
                )
                .all(db)
                .await?
                .into_iter()
                .map(|row| (row.plan_id, row.course_id))
                .collect();
            for c in courses {
                let in_plan = plans.iter().any(|p| {
                    p.creator_id == c.creator_id
                        && (p.covers_all_courses || chosen.contains(&(p.id, c.id)))
                });
                if in_plan {
                    covered.insert(c.id);
                }
            }
        }
        _ => {
            let groups = entity::community_group::Entity::find()
                .filter(entity::community_group::Column::Id.is_in(ids.iter().copied()))
                .all(db)
                .await?;
            for g in groups {
                if plans
                    .iter()
                    .any(|p| p.includes_groups && p.creator_id == g.creator_id)
                {
                    covered.insert(g.id);
                }
            }
        }
    }
    Ok(covered)
}

/// A plan to make, or what to change of one (None: unchanged).
#[derive(Debug, Clone, Default)]
pub struct PlanFields {
    /// 1 to 64 characters.
    pub name: Option<String>,
    /// 1, 3 or 12.
    pub period_months: Option<i32>,
    /// In fen.
    pub price_fen: Option<i64>,
    /// For members renewing early (Some(None) clears it).
    pub early_renewal_price_fen: Option<Option<i64>>,
    /// For former members (Some(None) clears it).
    pub lapsed_renewal_price_fen: Option<Option<i64>>,
    /// The chosen courses (None: all the creator's courses, when making a plan).
    pub courses: Option<Option<Vec<i64>>>,
    /// With the creator's paid groups.
    pub includes_groups: Option<bool>,
    /// DRAFT, PUBLISHED or ARCHIVED.
    pub status: Option<CourseStatus>,
}

/// Makes a plan for the actor's creator profile (a draft unless `status` says so).
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    fields: PlanFields,
) -> AppResult<membership_plan::Model> {
    let creator_id = actor
        .creator_id()
        .ok_or(AppError::Forbidden("only creators make membership plans"))?;
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let draft = membership_plan::ActiveModel {
        creator_id: Set(creator_id),
        name: Set(String::new()),
        period_months: Set(1),
        price_fen: Set(0),
        covers_all_courses: Set(true),
        includes_groups: Set(false),
        status: Set(CourseStatus::Draft),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // A new plan needs a name, a period and a price: missing ones are refused (a
    // missing price as out of range).
    let fields = PlanFields {
        name: Some(fields.name.clone().unwrap_or_default()),
        period_months: Some(fields.period_months.unwrap_or(0)),
        price_fen: Some(fields.price_fen.unwrap_or(-1)),
        ..fields
    };
    let saved = apply(&txn, draft, fields, now).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Changes a plan (its creator or an admin).
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    fields: PlanFields,
) -> AppResult<membership_plan::Model> {
    actor.require_user()?;
    let txn = crate::db::begin_write(db).await?;
    let row = find(&txn, id)
        .await?
        .ok_or_else(|| FieldError::new("plan", UserErrorCode::NotFound, "no such plan"))?;
    crate::service::access::require_seller(
        actor,
        row.creator_id,
        "only the plan's creator and admins change it",
    )?;
    let saved = apply(&txn, row, fields, Utc::now()).await?;
    txn.commit().await?;
    Ok(saved)
}

async fn apply(
    txn: &impl ConnectionTrait,
    row: membership_plan::Model,
    fields: PlanFields,
    now: DateTime<Utc>,
) -> AppResult<membership_plan::Model> {
    let mut checks = Checks::new();
    let mut model = row.clone().into_active_model();
    if let Some(name) = &fields.name {
        model.name = Set(checks.text("name", name, 64));
    }
    if let Some(months) = fields.period_months {
        if ![1, 3, 12].contains(&months) {
            checks.fail(
                "periodMonths",
                UserErrorCode::OutOfRange,
                "1, 3 or 12 months",
            );
        }
        model.period_months = Set(months);
    }
    let price = match fields.price_fen {
        Some(price) => checks.price("priceFen", price),
        None => row.price_fen,
    };
    model.price_fen = Set(price);
    for (field, value, column) in [
        (
            "earlyRenewalPriceFen",
            fields.early_renewal_price_fen,
            &mut model.early_renewal_price_fen,
        ),
        (
            "lapsedRenewalPriceFen",
            fields.lapsed_renewal_price_fen,
            &mut model.lapsed_renewal_price_fen,
        ),
    ] {
        if let Some(value) = value {
            if value.is_some_and(|p| p < 0 || p > price) {
                checks.fail(
                    field,
                    UserErrorCode::OutOfRange,
                    "a renewal price is 0 up to the plan's price",
                );
            }
            *column = Set(value);
        }
    }
    if let Some(flag) = fields.includes_groups {
        model.includes_groups = Set(flag);
    }
    if let Some(status) = fields.status {
        model.status = Set(status);
    }
    checks.finish()?;
    if let Some(courses) = &fields.courses {
        model.covers_all_courses = Set(courses.is_none());
    }
    model.updated_at = Set(now);
    let saved = model.update(txn).await?;
    if let Some(courses) = fields.courses {
        membership_plan_course::Entity::delete_many()
            .filter(membership_plan_course::Column::PlanId.eq(saved.id))
            .exec(txn)
            .await?;
        if let Some(ids) = courses {
            let own = course::Entity::find()
                .filter(course::Column::Id.is_in(ids.iter().copied()))
                .filter(course::Column::CreatorId.eq(saved.creator_id))
                .all(txn)
                .await?;
            let unique: HashSet<i64> = ids.iter().copied().collect();
            if own.len() != unique.len() || unique.is_empty() {
                return Err(FieldError::new(
                    "courses",
                    UserErrorCode::Invalid,
                    "a plan covers 1 or more of its creator's own courses",
                )
                .into());
            }
            let rows = unique
                .into_iter()
                .map(|course_id| membership_plan_course::ActiveModel {
                    plan_id: Set(saved.id),
                    course_id: Set(course_id),
                    ..Default::default()
                });
            membership_plan_course::Entity::insert_many(rows)
                .exec_without_returning(txn)
                .await?;
        }
    }
    Ok(saved)
}

/// A user's memberships (running or ended), each with its plan.
pub async fn memberships_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    user_id: i64,
) -> AppResult<Vec<(entitlement::Model, membership_plan::Model)>> {
    crate::service::messages::preferences::require_self(actor, user_id)?;
    let held = entitlement::Entity::find()
        .filter(entitlement::Column::UserId.eq(user_id))
        .filter(entitlement::Column::ProductKind.eq(ProductKind::Membership))
        .filter(entitlement::Column::RevokedAt.is_null())
        .all(db)
        .await?;
    let plans = membership_plan::Entity::find()
        .filter(membership_plan::Column::Id.is_in(held.iter().map(|e| e.product_id)))
        .all(db)
        .await?;
    Ok(held
        .into_iter()
        .filter_map(|e| {
            let plan = plans.iter().find(|p| p.id == e.product_id)?.clone();
            Some((e, plan))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    #[test]
    fn renewal_extends_from_the_end_while_running_and_months_are_calendar_months() {
        // A first month bought on 31 January ends on the last day of February.
        assert_eq!(new_end(None, 1, day(2027, 1, 31)), day(2027, 2, 28));
        assert_eq!(new_end(None, 1, day(2028, 1, 31)), day(2028, 2, 29));
        // Renewed early on 20 February: a month after the current end, not after today.
        assert_eq!(
            new_end(Some(day(2027, 2, 28)), 1, day(2027, 2, 20)),
            day(2027, 3, 28)
        );
        // Lapsed: from the payment.
        assert_eq!(
            new_end(Some(day(2027, 2, 28)), 3, day(2027, 4, 10)),
            day(2027, 7, 10)
        );
        assert_eq!(new_end(None, 12, day(2027, 2, 28)), day(2028, 2, 28));
    }
}
