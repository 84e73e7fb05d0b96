//! Domain rules, free of GraphQL types. Every function takes the acting user where
//! visibility or permission depends on it, so authorisation holds whatever the caller.

pub mod access;
pub mod analytics;
pub mod bundles;
pub mod community;
pub mod coupons;
pub mod course_moderation;
pub mod courses;
pub mod creators;
pub mod effects;
pub mod entitlements;
pub mod feed;
pub mod groups;
pub mod identities;
pub mod ledger;
pub mod lessons;
pub mod live_chat;
pub mod live_rooms;
pub mod livestreams;
pub mod memberships;
pub mod messages;
pub mod orders;
pub mod page;
pub mod pricing;
pub mod promotions;
pub mod ratings;
pub mod read_cache;
pub mod recommendations;
pub mod sessions;
pub mod shelf;
pub mod users;
pub mod validation;
pub mod views;

use crate::auth::Actor;
use crate::error::{AppError, AppResult};

/// The actor may change what belongs to the creator `creator_id`: it is theirs, or they
/// are an admin signed in to the console.
pub fn require_owner(actor: &Actor, creator_id: i64) -> AppResult<()> {
    actor.require_user()?;
    if actor.creator_id() == Some(creator_id) {
        return Ok(());
    }
    if actor.is_admin() {
        return actor.require_console_admin();
    }
    Err(AppError::Forbidden(
        "only the creator who owns this, or an admin, may change it",
    ))
}

/// Loads a row to change inside a write transaction: locks it where the database can
/// (PostgreSQL; SQLite's IMMEDIATE transaction already holds the write lock), answers a
/// NOT_FOUND user error on `field` when it is missing, and checks the actor owns it.
pub async fn owned_for_change<E>(
    txn: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    id: i64,
    field: &str,
    creator_of: fn(&E::Model) -> i64,
) -> AppResult<E::Model>
where
    E: sea_orm::EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<i64>,
{
    use sea_orm::QuerySelect;
    actor.require_user()?;
    let row = E::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| not_found(field))?;
    require_owner(actor, creator_of(&row))?;
    Ok(row)
}

/// The refusal of a read of someone else's orders or entitlements (personal data).
pub(crate) const PRIVATE_PURCHASES: AppError =
    AppError::Forbidden("orders and entitlements are visible only to their owner and admins");

/// The user error of a missing object named by input field `field`.
pub fn not_found(field: &str) -> AppError {
    validation::FieldError::new(
        field,
        validation::UserErrorCode::NotFound,
        format!("no such {field}"),
    )
    .into()
}

/// The actor's own creator profile, which new courses, livestreams and groups belong to.
pub fn require_creator(actor: &Actor) -> AppResult<i64> {
    actor.require_user()?;
    actor.creator_id().ok_or(AppError::Forbidden(
        "become a creator first (becomeCreator)",
    ))
}

/// Sort direction shared by every list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Smallest first.
    Asc,
    /// Largest first.
    #[default]
    Desc,
}

impl Direction {
    /// Whether larger keys come first.
    pub fn descending(self) -> bool {
        self == Direction::Desc
    }
}
