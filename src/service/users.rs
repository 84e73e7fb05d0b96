//! Users: public profiles (nickname, avatar, role). Openids and other personal data
//! are never read out through the API.

use std::collections::HashMap;

use entity::user;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::error::AppResult;

/// Users by id in one query.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect())
}

// ---------------------------------------------------------------------------------
// Writes: profiles, becoming a creator, roles and bans.
// ---------------------------------------------------------------------------------

use chrono::Utc;
use entity::creator;
use entity::enums::Role;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, IntoActiveModel, QuerySelect,
};

use crate::auth::Actor;
use crate::error::AppError;
use crate::service::effects::{Effects, Event};
use crate::service::validation::{Checks, FieldError, UserErrorCode};

/// Changes to the viewer's profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    /// New nickname (1..=32 characters).
    pub nickname: Option<String>,
    /// New avatar URL (empty clears it).
    pub avatar_url: Option<String>,
}

/// Updates the signed-in user's own profile.
pub async fn update_profile(
    db: &DatabaseConnection,
    actor: &Actor,
    changes: ProfileChanges,
) -> AppResult<user::Model> {
    let user_id = actor.require_user()?;
    let row = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let mut checks = Checks::new();
    let mut model = row.into_active_model();
    if let Some(nickname) = changes.nickname {
        model.nickname = Set(Some(checks.text("nickname", &nickname, 32)));
    }
    if let Some(avatar_url) = changes.avatar_url {
        model.avatar_url = Set(checks.optional_url("avatarUrl", Some(&avatar_url)));
    }
    checks.finish()?;
    model.updated_at = Set(Utc::now());
    Ok(model.update(db).await?)
}

/// Gives the signed-in user a creator profile (learners become creators; admins keep
/// their role). A second call is refused.
pub async fn become_creator(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    display_name: &str,
    bio: Option<&str>,
) -> AppResult<creator::Model> {
    let user_id = actor.require_user()?;
    let mut checks = Checks::new();
    let display_name = checks.text("displayName", display_name, 64);
    let bio = checks.optional_text("bio", bio, 2_000);
    checks.finish()?;
    let txn = crate::db::begin_write(db).await?;
    let user = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let existing = creator::Entity::find()
        .filter(creator::Column::UserId.eq(user_id))
        .one(&txn)
        .await?;
    if existing.is_some() {
        return Err(FieldError::new(
            "displayName",
            UserErrorCode::InvalidState,
            "you are a creator already",
        )
        .into());
    }
    let now = Utc::now();
    let profile = creator::ActiveModel {
        user_id: Set(user_id),
        display_name: Set(display_name),
        bio: Set(bio),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if user.role == Role::Learner {
        let mut model = user.into_active_model();
        model.role = Set(Role::Creator);
        model.updated_at = Set(now);
        model.update(&txn).await?;
    }
    txn.commit().await?;
    // May sell from the next request on.
    announce(db, effects, profile.user_id).await;
    Ok(profile)
}

/// Admin: bans a user. Their tokens stop working at once (every request reads the
/// user) and their refresh tokens are revoked. Admins cannot be banned.
pub async fn ban(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    user_id: i64,
) -> AppResult<user::Model> {
    actor.require_console_admin()?;
    let txn = crate::db::begin_write(db).await?;
    let row = find_named(&txn, user_id).await?;
    if row.role == Role::Admin {
        return Err(FieldError::new(
            "user",
            UserErrorCode::InvalidState,
            "admins cannot be banned",
        )
        .into());
    }
    let now = Utc::now();
    let banned_at = row.banned_at.unwrap_or(now);
    let mut model = row.into_active_model();
    model.banned_at = Set(Some(banned_at));
    model.updated_at = Set(now);
    let updated = model.update(&txn).await?;
    crate::service::sessions::revoke_all(&txn, user_id, now).await?;
    txn.commit().await?;
    // The ban bites on the next request.
    announce(db, effects, updated.id).await;
    Ok(updated)
}

/// Admin: lifts a ban. The user signs in again to get new tokens (the ban revoked the
/// old ones). Lifting no ban is not an error: the answer is the same.
pub async fn unban(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    user_id: i64,
) -> AppResult<user::Model> {
    actor.require_console_admin()?;
    let txn = crate::db::begin_write(db).await?;
    let row = find_named(&txn, user_id).await?;
    let updated = if row.banned_at.is_some() {
        let mut model = row.into_active_model();
        model.banned_at = Set(None);
        model.updated_at = Set(Utc::now());
        model.update(&txn).await?
    } else {
        row
    };
    txn.commit().await?;
    announce(db, effects, updated.id).await;
    Ok(updated)
}

/// Admin: makes a user an admin (`admin: true`) or takes that back, when they return to
/// creator if they have a creator profile and to learner otherwise. Banned users cannot
/// become admins, and no admin can demote themself, so the platform is never left
/// without the person who asked.
pub async fn set_admin(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    user_id: i64,
    admin: bool,
) -> AppResult<user::Model> {
    actor.require_console_admin()?;
    if !admin && actor.user_id() == Some(user_id) {
        return Err(FieldError::new(
            "user",
            UserErrorCode::InvalidState,
            "you cannot take your own admin role away",
        )
        .into());
    }
    let txn = crate::db::begin_write(db).await?;
    let row = find_named(&txn, user_id).await?;
    if admin && row.banned_at.is_some() {
        return Err(FieldError::new(
            "user",
            UserErrorCode::InvalidState,
            "a banned user cannot become an admin",
        )
        .into());
    }
    let role = if admin {
        Role::Admin
    } else if row.role != Role::Admin {
        row.role
    } else if creator::Entity::find()
        .filter(creator::Column::UserId.eq(user_id))
        .one(&txn)
        .await?
        .is_some()
    {
        Role::Creator
    } else {
        Role::Learner
    };
    let updated = if role == row.role {
        row
    } else {
        let mut model = row.into_active_model();
        model.role = Set(role);
        model.updated_at = Set(Utc::now());
        model.update(&txn).await?
    };
    txn.commit().await?;
    // The new role counts from the next request (each request reads the user).
    announce(db, effects, updated.id).await;
    Ok(updated)
}

/// Tells the caches (the actor cache above all) that a user changed: their next
/// request reads them again.
async fn announce(db: &DatabaseConnection, effects: &Effects, user_id: i64) {
    effects.publish(db, Event::UserChanged { user_id }).await;
}

/// The user an admin named in the input, locked for the admin's transaction so that a
/// ban and a promotion of one user cannot both pass their checks (a banned admin), or
/// a `user` field error.
async fn find_named(db: &impl ConnectionTrait, user_id: i64) -> AppResult<user::Model> {
    user::Entity::find_by_id(user_id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::from(FieldError::new(
                "user",
                UserErrorCode::NotFound,
                "no such user",
            ))
        })
}

/// Operators (`zhiku user promote`): sets a user's role; a creator also gets a creator
/// profile named after their nickname when they have none.
pub async fn promote(db: &DatabaseConnection, user_id: i64, role: Role) -> AppResult<user::Model> {
    let txn = crate::db::begin_write(db).await?;
    let row = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let now = Utc::now();
    if role == Role::Creator {
        let has_profile = creator::Entity::find()
            .filter(creator::Column::UserId.eq(user_id))
            .one(&txn)
            .await?
            .is_some();
        if !has_profile {
            creator::ActiveModel {
                user_id: Set(user_id),
                display_name: Set(row
                    .nickname
                    .clone()
                    .unwrap_or_else(|| format!("creator {user_id}"))),
                bio: Set(None),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    let mut model = row.into_active_model();
    model.role = Set(role);
    model.updated_at = Set(now);
    let updated = model.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Finds a user by database id or mini-program openid (for operators' commands).
pub async fn find_for_operator(
    db: &impl ConnectionTrait,
    id: Option<i64>,
    openid: Option<&str>,
) -> AppResult<user::Model> {
    let found = match (id, openid) {
        (Some(id), _) => user::Entity::find_by_id(id).one(db).await?,
        (None, Some(openid)) => {
            crate::service::identities::user_by_openid(
                db,
                entity::enums::IdentityApp::MiniProgram,
                openid,
            )
            .await?
        }
        (None, None) => return Err(AppError::BadUserInput("pass --user or --openid".into())),
    };
    found.ok_or(AppError::NotFound("user"))
}

/// Filters of the console's user list; every one given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserListFilter {
    /// With this role.
    pub role: Option<entity::enums::Role>,
    /// Banned (true) or not (false).
    pub banned: Option<bool>,
    /// Signed up at or after this instant.
    pub created_from: Option<chrono::DateTime<chrono::Utc>>,
    /// Signed up before this instant.
    pub created_before: Option<chrono::DateTime<chrono::Utc>>,
    /// Text the nickname contains (case-insensitive).
    pub nickname_contains: Option<String>,
}

/// Orderings of the user list (then by id).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UserSort {
    /// Sign-up order.
    #[default]
    Newest,
    /// Nickname.
    Nickname,
}

/// One page of users for admins on the console, filtered and ordered.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &crate::auth::Actor,
    filter: &UserListFilter,
    sort: UserSort,
    direction: crate::service::Direction,
    request: &crate::service::page::PageRequest,
) -> AppResult<(
    crate::service::page::Page<user::Model>,
    crate::service::page::Counted<user::Entity>,
)> {
    use crate::service::page::{self, SortKey, SortValue};
    use sea_orm::sea_query::Expr;
    actor.require_console_admin()?;
    let mut query = user::Entity::find();
    if let Some(role) = filter.role {
        query = query.filter(user::Column::Role.eq(role));
    }
    match filter.banned {
        Some(true) => query = query.filter(user::Column::BannedAt.is_not_null()),
        Some(false) => query = query.filter(user::Column::BannedAt.is_null()),
        None => {}
    }
    if let Some(from) = filter.created_from {
        query = query.filter(user::Column::CreatedAt.gte(from));
    }
    if let Some(before) = filter.created_before {
        query = query.filter(user::Column::CreatedAt.lt(before));
    }
    if let Some(text) = filter
        .nickname_contains
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        query = query.filter(page::column_contains(user::Column::Nickname, text));
    }
    let key: Option<page::KeyExpr<user::Model>> = match sort {
        UserSort::Newest => None,
        // COALESCE: a keyset cursor cannot compare NULLs.
        UserSort::Nickname => Some((Expr::cust("COALESCE(users.nickname, '')"), |u| {
            SortValue::Text(u.nickname.clone().unwrap_or_default())
        })),
    };
    let sort = SortKey {
        key,
        id: user::Column::Id,
        descending: direction.descending(),
    };
    page::fetch(db, query, &sort, request, |u| u.id).await
}
