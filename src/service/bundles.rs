//! Bundles (专栏 / 组合课): several of a creator's courses sold together at their own
//! price. Paying for one grants the bundle and each of its courses the buyer does not
//! hold (each course entitlement points at the bundle's order, so a refund of the
//! bundle revokes exactly what it granted); with `includes_future`, a course added later
//! is granted to every holder at once. With `credit_owned`, what a buyer paid for
//! courses of the bundle they already own comes off its price (`BUNDLE_CREDIT`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::enums::{CourseStatus, OrderStatus, ProductKind};
use entity::{bundle, bundle_course, course, entitlement, order};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::access::ProductRef;
use crate::service::validation::{Checks, FieldError, UserErrorCode};

/// Most courses in one bundle.
const MAX_COURSES: usize = 50;
/// The label of the credit for courses already bought.
pub const CREDIT_LABEL: &str = "已购课程抵扣";

impl ProductRef {
    /// A bundle.
    pub fn bundle(row: &bundle::Model) -> Self {
        ProductRef {
            kind: ProductKind::Bundle,
            id: row.id,
            creator_id: row.creator_id,
            price_fen: row.price_fen,
        }
    }
}

/// Whether the bundle can be bought.
pub fn is_on_sale(row: &bundle::Model) -> bool {
    row.status == CourseStatus::Published
}

/// A bundle by id.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> AppResult<Option<bundle::Model>> {
    Ok(bundle::Entity::find_by_id(id).one(db).await?)
}

/// The course ids of a bundle, in order.
pub async fn course_ids(db: &impl ConnectionTrait, bundle_id: i64) -> AppResult<Vec<i64>> {
    Ok(bundle_course::Entity::find()
        .select_only()
        .column(bundle_course::Column::CourseId)
        .filter(bundle_course::Column::BundleId.eq(bundle_id))
        .order_by_asc(bundle_course::Column::Position)
        .into_tuple()
        .all(db)
        .await?)
}

/// The course ids of several bundles, by bundle, each in order (one query, for lists).
pub async fn course_ids_of(
    db: &impl ConnectionTrait,
    bundle_ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, Vec<i64>>> {
    let rows: Vec<(i64, i64)> = bundle_course::Entity::find()
        .select_only()
        .column(bundle_course::Column::BundleId)
        .column(bundle_course::Column::CourseId)
        .filter(bundle_course::Column::BundleId.is_in(bundle_ids.iter().copied()))
        .order_by_asc(bundle_course::Column::BundleId)
        .order_by_asc(bundle_course::Column::Position)
        .into_tuple()
        .all(db)
        .await?;
    let mut by_bundle: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    for (bundle_id, course_id) in rows {
        by_bundle.entry(bundle_id).or_default().push(course_id);
    }
    Ok(by_bundle)
}

/// A bundle to make, or what to change of one (None: unchanged).
#[derive(Debug, Clone, Default)]
pub struct BundleFields {
    /// 1 to 128 characters.
    pub title: Option<String>,
    /// Up to 5,000 characters.
    pub description: Option<String>,
    /// An http(s) URL.
    pub cover_url: Option<String>,
    /// In fen.
    pub price_fen: Option<i64>,
    /// The creator's courses, in order (1 to 50); replaces the list.
    pub courses: Option<Vec<i64>>,
    /// Grant courses added later to earlier buyers.
    pub includes_future: Option<bool>,
    /// Take what a buyer paid for courses they own off the price.
    pub credit_owned: Option<bool>,
    /// DRAFT, PUBLISHED or ARCHIVED.
    pub status: Option<CourseStatus>,
}

/// Makes a bundle of the actor's courses (a draft unless `status` says otherwise).
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    fields: BundleFields,
) -> AppResult<bundle::Model> {
    let creator_id = actor
        .creator_id()
        .ok_or(AppError::Forbidden("only creators make bundles"))?;
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let draft = bundle::ActiveModel {
        creator_id: Set(creator_id),
        title: Set(String::new()),
        price_fen: Set(0),
        status: Set(CourseStatus::Draft),
        includes_future: Set(false),
        credit_owned: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // A new bundle needs a title and courses: missing ones are checked as empty.
    let fields = BundleFields {
        title: Some(fields.title.clone().unwrap_or_default()),
        courses: Some(fields.courses.clone().unwrap_or_default()),
        ..fields
    };
    let saved = apply(&txn, draft, fields, now).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Changes a bundle (its creator or an admin).
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    fields: BundleFields,
) -> AppResult<bundle::Model> {
    actor.require_user()?;
    let txn = crate::db::begin_write(db).await?;
    let row = find(&txn, id)
        .await?
        .ok_or_else(|| FieldError::new("bundle", UserErrorCode::NotFound, "no such bundle"))?;
    crate::service::access::require_seller(
        actor,
        row.creator_id,
        "only the bundle's creator and admins change it",
    )?;
    let saved = apply(&txn, row, fields, Utc::now()).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Checks and writes `fields` on `row` in the caller's transaction; a course added to
/// a bundle with `includes_future` is granted to its holders there too.
async fn apply(
    txn: &impl ConnectionTrait,
    row: bundle::Model,
    fields: BundleFields,
    now: DateTime<Utc>,
) -> AppResult<bundle::Model> {
    let mut checks = Checks::new();
    let mut model = row.clone().into_active_model();
    if let Some(title) = &fields.title {
        model.title = Set(checks.text("title", title, 128));
    }
    if let Some(description) = &fields.description {
        model.description = Set(checks.optional_text("description", Some(description), 5_000));
    }
    if let Some(cover) = &fields.cover_url {
        model.cover_url = Set(checks.optional_url("coverUrl", Some(cover)));
    }
    if let Some(price) = fields.price_fen {
        model.price_fen = Set(checks.price("priceFen", price));
    }
    if let Some(flag) = fields.includes_future {
        model.includes_future = Set(flag);
    }
    if let Some(flag) = fields.credit_owned {
        model.credit_owned = Set(flag);
    }
    if let Some(status) = fields.status {
        model.status = Set(status);
    }
    let courses = match &fields.courses {
        Some(ids) => {
            let mut unique: Vec<i64> = Vec::with_capacity(ids.len());
            for id in ids {
                if !unique.contains(id) {
                    unique.push(*id);
                }
            }
            if unique.is_empty() || unique.len() > MAX_COURSES {
                checks.fail(
                    "courses",
                    UserErrorCode::OutOfRange,
                    "a bundle has 1 to 50 courses",
                );
            }
            Some(unique)
        }
        None => None,
    };
    checks.finish()?;
    if let Some(ids) = &courses {
        let owned = course::Entity::find()
            .filter(course::Column::Id.is_in(ids.iter().copied()))
            .filter(course::Column::CreatorId.eq(row.creator_id))
            .all(txn)
            .await?;
        if owned.len() != ids.len() {
            return Err(FieldError::new(
                "courses",
                UserErrorCode::Invalid,
                "a bundle holds only its creator's own courses",
            )
            .into());
        }
    }
    model.updated_at = Set(now);
    let saved = model.update(txn).await?;
    if let Some(ids) = courses {
        let before = course_ids(txn, saved.id).await?;
        bundle_course::Entity::delete_many()
            .filter(bundle_course::Column::BundleId.eq(saved.id))
            .exec(txn)
            .await?;
        let rows = ids
            .iter()
            .enumerate()
            .map(|(n, id)| bundle_course::ActiveModel {
                bundle_id: Set(saved.id),
                course_id: Set(*id),
                position: Set(n as i32 + 1),
                added_at: Set(now),
                ..Default::default()
            });
        bundle_course::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
        if saved.includes_future {
            let added: Vec<i64> = ids.into_iter().filter(|id| !before.contains(id)).collect();
            grant_to_holders(txn, saved.id, &added, now).await?;
        }
    }
    Ok(saved)
}

/// Grants courses just added to a bundle to everyone holding it (through their bundle
/// order), keeping any entitlement they already have.
async fn grant_to_holders(
    txn: &impl ConnectionTrait,
    bundle_id: i64,
    course_ids: &[i64],
    now: DateTime<Utc>,
) -> AppResult<()> {
    if course_ids.is_empty() {
        return Ok(());
    }
    let holders: Vec<(i64, Option<i64>)> = entitlement::Entity::find()
        .select_only()
        .column(entitlement::Column::UserId)
        .column(entitlement::Column::OrderId)
        .filter(entitlement::Column::ProductKind.eq(ProductKind::Bundle))
        .filter(entitlement::Column::ProductId.eq(bundle_id))
        .filter(entitlement::Column::RevokedAt.is_null())
        .into_tuple()
        .all(txn)
        .await?;
    for (user_id, order_id) in holders {
        grant_courses(txn, user_id, order_id, course_ids, now).await?;
    }
    Ok(())
}

/// Grants `course_ids` to `user_id` through `order_id`, in the caller's transaction: a
/// course they hold stays as it is; a revoked one comes back through this order.
pub async fn grant_courses(
    txn: &impl ConnectionTrait,
    user_id: i64,
    order_id: Option<i64>,
    course_ids: &[i64],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let held: HashSet<i64> = entitlement::Entity::find()
        .select_only()
        .column(entitlement::Column::ProductId)
        .filter(entitlement::Column::UserId.eq(user_id))
        .filter(entitlement::Column::ProductKind.eq(ProductKind::Course))
        .filter(entitlement::Column::ProductId.is_in(course_ids.iter().copied()))
        .filter(entitlement::Column::RevokedAt.is_null())
        .into_tuple::<i64>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    for course_id in course_ids.iter().filter(|id| !held.contains(id)) {
        crate::service::entitlements::put(
            txn,
            user_id,
            (ProductKind::Course, *course_id),
            order_id,
            None,
            now,
        )
        .await?;
    }
    Ok(())
}

/// What `buyer_id` paid for courses of the bundle they hold through their own course
/// orders (not through another bundle): the credit a `credit_owned` bundle gives.
pub async fn credit(
    db: &impl ConnectionTrait,
    buyer_id: i64,
    bundle_id: i64,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let courses = course_ids(db, bundle_id).await?;
    if courses.is_empty() {
        return Ok(0);
    }
    let through: Vec<Option<i64>> = entitlement::Entity::find()
        .select_only()
        .column(entitlement::Column::OrderId)
        .filter(entitlement::Column::UserId.eq(buyer_id))
        .filter(entitlement::Column::ProductKind.eq(ProductKind::Course))
        .filter(entitlement::Column::ProductId.is_in(courses))
        .filter(entitlement::Column::RevokedAt.is_null())
        .filter(
            Condition::any()
                .add(entitlement::Column::ExpiresAt.is_null())
                .add(entitlement::Column::ExpiresAt.gt(now)),
        )
        .into_tuple()
        .all(db)
        .await?;
    let order_ids: Vec<i64> = through.into_iter().flatten().collect();
    if order_ids.is_empty() {
        return Ok(0);
    }
    let paid: Vec<i64> = order::Entity::find()
        .select_only()
        .column(order::Column::AmountFen)
        .filter(order::Column::Id.is_in(order_ids))
        .filter(order::Column::ProductKind.eq(ProductKind::Course))
        .filter(order::Column::Status.eq(OrderStatus::Paid))
        .into_tuple()
        .all(db)
        .await?;
    Ok(paid.into_iter().sum())
}

/// Whether buying the bundle would give `buyer_id` nothing: they hold every course and
/// none can be added for them later.
pub async fn adds_nothing(
    db: &impl ConnectionTrait,
    buyer_id: i64,
    row: &bundle::Model,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    if row.includes_future {
        return Ok(false);
    }
    let courses = course_ids(db, row.id).await?;
    let held =
        crate::service::access::entitled(db, buyer_id, ProductKind::Course, &courses, now).await?;
    Ok(courses.iter().all(|c| held.contains(c)))
}
