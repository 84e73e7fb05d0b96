//! Community groups, their members and posts.

use entity::{community_group, group_membership};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::error::AppResult;
use crate::service::Direction;
use crate::service::page::{self, Counted, Page, PageRequest, SortKey, SortValue};

/// Whether a group's membership can be bought now: always, as groups have no draft or
/// suspended state (yet); the rule lives here so that the day they do, orders follow.
pub fn is_on_sale(_row: &community_group::Model) -> bool {
    true
}

/// Filters of the group list.
#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    /// Only this creator's groups.
    pub creator_id: Option<i64>,
    /// Only free (true) or only paid (false) groups.
    pub free: Option<bool>,
    /// Case-insensitive text contained in the name.
    pub name_contains: Option<String>,
}

/// One page of groups, newest first unless asked otherwise.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: GroupFilter,
    direction: Direction,
    page: &PageRequest,
) -> AppResult<(
    Page<community_group::Model>,
    Counted<community_group::Entity>,
)> {
    let mut query = community_group::Entity::find();
    if let Some(creator_id) = filter.creator_id {
        query = query.filter(community_group::Column::CreatorId.eq(creator_id));
    }
    match filter.free {
        Some(true) => query = query.filter(community_group::Column::PriceFen.eq(0)),
        Some(false) => query = query.filter(community_group::Column::PriceFen.gt(0)),
        None => {}
    }
    if let Some(text) = filter.name_contains.filter(|t| !t.trim().is_empty()) {
        query = query.filter(page::column_contains(
            community_group::Column::Name,
            text.trim(),
        ));
    }
    let sort = SortKey {
        key: Some((
            Expr::col(community_group::Column::CreatedAt),
            |g: &community_group::Model| SortValue::Time(g.created_at),
        )),
        id: community_group::Column::Id,
        descending: direction.descending(),
    };
    page::fetch(db, query, &sort, page, |g| g.id).await
}

/// One group.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> AppResult<Option<community_group::Model>> {
    Ok(community_group::Entity::find_by_id(id).one(db).await?)
}

/// One page of a group's memberships, most recent first. Who belongs to a paid group
/// is who bought it: visible only to its owner, admins and its current members.
pub async fn members(
    db: &impl ConnectionTrait,
    actor: &Actor,
    group: &community_group::Model,
    page: &PageRequest,
) -> AppResult<(
    Page<group_membership::Model>,
    Counted<group_membership::Entity>,
)> {
    if !crate::service::community::posts::can_read(db, actor, group).await? {
        return Err(AppError::Forbidden(
            "the members of a paid group are visible to its members only",
        ));
    }
    let query =
        group_membership::Entity::find().filter(group_membership::Column::GroupId.eq(group.id));
    let sort = SortKey {
        key: None,
        id: group_membership::Column::Id,
        descending: true,
    };
    page::fetch(db, query, &sort, page, |m| m.id).await
}

/// A user's membership rows (running or lapsed) of the groups among `group_ids`, in
/// one query.
pub async fn memberships_of(
    db: &impl ConnectionTrait,
    user_id: i64,
    group_ids: &[i64],
) -> AppResult<Vec<group_membership::Model>> {
    Ok(group_membership::Entity::find()
        .filter(group_membership::Column::UserId.eq(user_id))
        .filter(group_membership::Column::GroupId.is_in(group_ids.iter().copied()))
        .all(db)
        .await?)
}

/// Groups by id in one query.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, community_group::Model>> {
    Ok(community_group::Entity::find()
        .filter(community_group::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.id, g))
        .collect())
}

// ---------------------------------------------------------------------------------
// Writes: groups, memberships of free groups, posts.
// ---------------------------------------------------------------------------------

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, IntoActiveModel};

use crate::auth::Actor;
use crate::error::AppError;
use crate::service::access::{self, ProductRef};
use crate::service::community::moderation;
use crate::service::effects::{Effects, Event};
use crate::service::validation::{Checks, FieldError, UserErrorCode};
use crate::service::{not_found, owned_for_change, require_creator};

/// A new group (fields as in `CreateGroupInput`).
#[derive(Debug, Clone)]
pub struct NewGroup {
    /// Name, 1..=64 characters.
    pub name: String,
    /// Optional description, up to 5,000 characters.
    pub description: Option<String>,
    /// Membership price in fen; 0 makes a free group.
    pub price_fen: i64,
    /// Length of a paid membership (1..=3650 days); none means for ever.
    pub membership_days: Option<i32>,
    /// The IANA zone of its days (check-ins); Asia/Shanghai when none.
    pub time_zone: Option<String>,
}

/// Changes to a group; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct GroupChanges {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New price in fen.
    pub price_fen: Option<i64>,
    /// New membership length in days (0 clears it: for ever).
    pub membership_days: Option<i32>,
    /// New time zone of its days.
    pub time_zone: Option<String>,
    /// New price of a paid question in fen (0 stops taking questions).
    pub question_price_fen: Option<i64>,
    /// New answer window of paid questions, in hours (1 to 720).
    pub question_answer_hours: Option<i32>,
}

/// Checks an IANA zone name (on `timeZone`).
fn check_zone(checks: &mut Checks, name: &str) -> String {
    let name = name.trim();
    if name.parse::<chrono_tz::Tz>().is_err() {
        checks.fail(
            "timeZone",
            UserErrorCode::Invalid,
            "an IANA time zone name, such as Asia/Shanghai",
        );
    }
    name.to_owned()
}

fn check_days(checks: &mut Checks, days: Option<i32>) -> Option<i32> {
    let days = days.filter(|d| *d != 0)?;
    checks.range("membershipDays", days.into(), 1, 3650);
    Some(days)
}

/// Creates a group of the actor's creator profile.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewGroup,
) -> AppResult<community_group::Model> {
    let creator_id = require_creator(actor)?;
    let mut checks = Checks::new();
    let name = checks.text("name", &input.name, 64);
    let description = checks.optional_text("description", input.description.as_deref(), 5_000);
    let price_fen = checks.price("priceFen", input.price_fen);
    let membership_days = check_days(&mut checks, input.membership_days);
    let time_zone = check_zone(
        &mut checks,
        input.time_zone.as_deref().unwrap_or("Asia/Shanghai"),
    );
    checks.finish()?;
    Ok(community_group::ActiveModel {
        creator_id: Set(creator_id),
        name: Set(name),
        description: Set(description),
        price_fen: Set(price_fen),
        membership_days: Set(membership_days),
        time_zone: Set(time_zone),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

async fn group_for_change(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> AppResult<community_group::Model> {
    owned_for_change::<community_group::Entity>(txn, actor, id, "group", |g| g.creator_id).await
}

/// Updates a group.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    changes: GroupChanges,
) -> AppResult<community_group::Model> {
    let txn = crate::db::begin_write(db).await?;
    let row = group_for_change(&txn, actor, id).await?;
    let mut checks = Checks::new();
    let mut model = row.into_active_model();
    if let Some(name) = changes.name {
        model.name = Set(checks.text("name", &name, 64));
    }
    if let Some(description) = changes.description {
        model.description = Set(checks.optional_text("description", Some(&description), 5_000));
    }
    if let Some(price_fen) = changes.price_fen {
        model.price_fen = Set(checks.price("priceFen", price_fen));
    }
    if let Some(days) = changes.membership_days {
        model.membership_days = Set(check_days(&mut checks, Some(days)));
    }
    if let Some(zone) = changes.time_zone {
        model.time_zone = Set(check_zone(&mut checks, &zone));
    }
    if let Some(price_fen) = changes.question_price_fen {
        let price_fen = checks.price("questionPriceFen", price_fen);
        model.question_price_fen = Set((price_fen > 0).then_some(price_fen));
    }
    if let Some(hours) = changes.question_answer_hours {
        let hours = checks.range("questionAnswerHours", hours.into(), 1, 720);
        model.question_answer_hours = Set(i32::try_from(hours).unwrap_or(48));
    }
    checks.finish()?;
    let updated = model.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Writes a free membership (one without an end), in the caller's transaction if it
/// has one: the one writer of free memberships, used by `join` and the demo seed (paid
/// memberships are written by `entitlements::grant`). The (group, user) unique index
/// makes a repeated or concurrent join a no-op, and an existing paid membership keeps
/// its end.
pub async fn add_free_member(
    db: &impl ConnectionTrait,
    group_id: i64,
    user_id: i64,
    joined_at: DateTime<Utc>,
) -> AppResult<()> {
    group_membership::Entity::insert(group_membership::ActiveModel {
        group_id: Set(group_id),
        user_id: Set(user_id),
        joined_at: Set(joined_at),
        expires_at: Set(None),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            group_membership::Column::GroupId,
            group_membership::Column::UserId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Joins a free group (paid groups are bought). Joining twice changes nothing.
pub async fn join(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    id: i64,
) -> AppResult<community_group::Model> {
    let user_id = actor.require_user()?;
    let group = get(db, id).await?.ok_or_else(|| not_found("group"))?;
    if group.price_fen > 0 {
        return Err(FieldError::new(
            "group",
            UserErrorCode::PaymentRequired,
            "this group is paid: buy a membership with createOrder",
        )
        .into());
    }
    if moderation::removed(db, group.id, user_id).await? {
        return Err(AppError::Forbidden(
            "you were removed from this group and may not rejoin",
        ));
    }
    add_free_member(db, group.id, user_id, Utc::now()).await?;
    effects
        .publish(
            db,
            Event::MembershipChanged {
                user_id,
                group_id: group.id,
            },
        )
        .await;
    Ok(group)
}

/// Leaves a group (a paid membership's entitlement is not refunded by leaving).
pub async fn leave(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    id: i64,
) -> AppResult<community_group::Model> {
    let user_id = actor.require_user()?;
    let group = get(db, id).await?.ok_or_else(|| not_found("group"))?;
    group_membership::Entity::delete_many()
        .filter(group_membership::Column::GroupId.eq(group.id))
        .filter(group_membership::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    effects
        .publish(
            db,
            Event::MembershipChanged {
                user_id,
                group_id: group.id,
            },
        )
        .await;
    Ok(group)
}

/// Whether the user may read and write in the group: its owner, an admin, a member of
/// a free group, or the holder of a live entitlement to a paid one.
pub(crate) async fn is_member(
    db: &impl ConnectionTrait,
    actor: &Actor,
    group: &community_group::Model,
) -> AppResult<bool> {
    let product = ProductRef::group(group);
    if actor.is_admin() || actor.creator_id() == Some(group.creator_id) {
        return Ok(true);
    }
    let Some(user_id) = actor.user_id() else {
        return Ok(false);
    };
    if moderation::removed(db, group.id, user_id).await? {
        return Ok(false);
    }
    if group.price_fen > 0 {
        return access::can_open(db, actor, &product).await;
    }
    Ok(group_membership::Entity::find()
        .filter(group_membership::Column::GroupId.eq(group.id))
        .filter(group_membership::Column::UserId.eq(user_id))
        .count(db)
        .await?
        > 0)
}
