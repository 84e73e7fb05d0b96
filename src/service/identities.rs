//! One person, many apps. WeChat gives a person a different openid in each app (the
//! mini-program, the official account); when the apps share an open-platform account
//! it also gives the same unionid everywhere. A user has one identity per app
//! (`user_identities`), and the unionid joins them:
//!
//! - signing in from a second app with a unionid already known is the same user;
//! - without a unionid the two are separate users until one arrives; when a sign-in
//!   then shows that two users are one person, they merge in that sign-in's
//!   transaction ([`merge`]): everything of the absorbed user moves to the kept one,
//!   nothing lost and nothing twice.
//!
//! Openids and unionids never leave the service layer (no GraphQL field reads them).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::enums::{IdentityApp, OrderStatus, Role};
use entity::{
    creator, entitlement, follow, group_membership, group_post, livestream_message,
    livestream_mute, order, rating, refresh_token, refund, user, user_coupon, user_identity,
};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter,
};

use crate::error::{AppError, AppResult};
use crate::service::validation::{FieldError, UserErrorCode};

/// Who WeChat says is signing in, in one app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppIdentity {
    /// The app.
    pub app: IdentityApp,
    /// The openid there.
    pub openid: String,
    /// The unionid, when WeChat gave one.
    pub unionid: Option<String>,
}

/// The user's openid in `app`, when they signed in there.
pub async fn openid(
    db: &impl ConnectionTrait,
    user_id: i64,
    app: IdentityApp,
) -> AppResult<Option<String>> {
    Ok(user_identity::Entity::find()
        .filter(user_identity::Column::UserId.eq(user_id))
        .filter(user_identity::Column::App.eq(app))
        .one(db)
        .await?
        .map(|identity| identity.openid))
}

/// The user who has this openid in `app`.
pub async fn user_by_openid(
    db: &impl ConnectionTrait,
    app: IdentityApp,
    openid: &str,
) -> AppResult<Option<user::Model>> {
    let Some(identity) = user_identity::Entity::find()
        .filter(user_identity::Column::App.eq(app))
        .filter(user_identity::Column::Openid.eq(openid))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(user::Entity::find_by_id(identity.user_id).one(db).await?)
}

/// The user signing in as `identity`, inside the caller's write transaction: found by
/// unionid, else by the app's openid, else created. A unionid seen for the first time
/// is kept on the user; one that shows two users are one person merges them. Returns
/// the user and, after a merge, the id of the user absorbed (whose caches are stale).
pub async fn sign_in(
    txn: &impl ConnectionTrait,
    identity: &AppIdentity,
    now: DateTime<Utc>,
) -> AppResult<(user::Model, Option<i64>)> {
    let by_unionid = match &identity.unionid {
        Some(unionid) => {
            user::Entity::find()
                .filter(user::Column::Unionid.eq(unionid.as_str()))
                .one(txn)
                .await?
        }
        None => None,
    };
    let by_openid = user_by_openid(txn, identity.app, &identity.openid).await?;
    let (user, absorbed) = match (by_unionid, by_openid) {
        (Some(joined), Some(here)) if joined.id != here.id => {
            // Two users, one person: the one that holds the unionid stays.
            let absorbed = here.id;
            (merge(txn, joined, here, now).await?, Some(absorbed))
        }
        (Some(user), _) => (user, None),
        (None, Some(user)) => match &identity.unionid {
            Some(unionid) => {
                let mut active = user.into_active_model();
                active.unionid = Set(Some(unionid.clone()));
                active.updated_at = Set(now);
                (active.update(txn).await?, None)
            }
            None => (user, None),
        },
        (None, None) => (create(txn, identity.unionid.as_deref(), now).await?, None),
    };
    let owner = attach(txn, user.id, identity, now).await?;
    if owner != user.id {
        // A concurrent first sign-in of the same person created the user first: ours
        // is empty, holds nothing yet, and goes.
        user::Entity::delete_by_id(user.id).exec(txn).await?;
    }
    let user = user::Entity::find_by_id(owner)
        .one(txn)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    Ok((user, absorbed))
}

/// A new learner; with a unionid that a concurrent sign-in just gave its own new user,
/// that user (the unique unionid decides, and both go on with one).
async fn create(
    txn: &impl ConnectionTrait,
    unionid: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<user::Model> {
    let row = user::ActiveModel {
        unionid: Set(unionid.map(str::to_owned)),
        role: Set(Role::Learner),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let Some(unionid) = unionid else {
        return Ok(row.insert(txn).await?);
    };
    user::Entity::insert(row)
        .on_conflict(
            OnConflict::column(user::Column::Unionid)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    user::Entity::find()
        .filter(user::Column::Unionid.eq(unionid))
        .one(txn)
        .await?
        .ok_or(AppError::NotFound("user"))
}

/// Records the user's openid in the app: a new identity, or the openid WeChat now gives
/// the person there (an app moved to a new account). Returns the user the identity
/// belongs to, which is another one only when a concurrent first sign-in of the same
/// person won the race.
async fn attach(
    txn: &impl ConnectionTrait,
    user_id: i64,
    identity: &AppIdentity,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let current = user_identity::Entity::find()
        .filter(user_identity::Column::UserId.eq(user_id))
        .filter(user_identity::Column::App.eq(identity.app))
        .one(txn)
        .await?;
    match current {
        Some(current) if current.openid == identity.openid => return Ok(user_id),
        Some(current) => {
            let mut active = current.into_active_model();
            active.openid = Set(identity.openid.clone());
            active.update(txn).await?;
            return Ok(user_id);
        }
        None => {}
    }
    user_identity::Entity::insert(user_identity::ActiveModel {
        user_id: Set(user_id),
        app: Set(identity.app),
        openid: Set(identity.openid.clone()),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([user_identity::Column::App, user_identity::Column::Openid])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    user_identity::Entity::find()
        .filter(user_identity::Column::App.eq(identity.app))
        .filter(user_identity::Column::Openid.eq(identity.openid.as_str()))
        .one(txn)
        .await?
        .map(|identity| identity.user_id)
        .ok_or(AppError::NotFound("user"))
}

fn conflict(reason: &'static str) -> AppError {
    tracing::error!(reason, "two accounts of one person cannot be merged");
    FieldError::new(
        "code",
        UserErrorCode::AccountConflict,
        format!("this WeChat account is linked to two Zhiku accounts that cannot be joined automatically ({reason}); contact support"),
    )
    .into()
}

/// Moves everything of `absorbed` to `kept` and deletes `absorbed`, inside the caller's
/// transaction. Where both hold the same thing once-only, one survives: the earlier
/// entitlement, follow and mute; the newer rating (the course's counters follow); the
/// membership that lasts longer. Orders, refunds, posts, messages and sessions all move.
/// Refused (nothing changes) when both are creators or both have an identity in one app.
pub async fn merge(
    txn: &impl ConnectionTrait,
    kept: user::Model,
    absorbed: user::Model,
    now: DateTime<Utc>,
) -> AppResult<user::Model> {
    let (from, to) = (absorbed.id, kept.id);
    let apps = |user_id| {
        user_identity::Entity::find()
            .filter(user_identity::Column::UserId.eq(user_id))
            .all(txn)
    };
    let kept_apps: HashSet<IdentityApp> = apps(to).await?.into_iter().map(|i| i.app).collect();
    if apps(from).await?.iter().any(|i| kept_apps.contains(&i.app)) {
        return Err(conflict("both accounts have an identity in the same app"));
    }
    let creators = creator::Entity::find()
        .filter(creator::Column::UserId.is_in([from, to]))
        .all(txn)
        .await?;
    if creators.len() > 1 {
        return Err(conflict("both accounts are creators"));
    }

    // Entitlements, follows and mutes: the kept user's copy stays.
    let held: HashSet<_> = entitlement::Entity::find()
        .filter(entitlement::Column::UserId.eq(to))
        .all(txn)
        .await?
        .into_iter()
        .map(|e| (e.product_kind, e.product_id))
        .collect();
    let twice: Vec<i64> = entitlement::Entity::find()
        .filter(entitlement::Column::UserId.eq(from))
        .all(txn)
        .await?
        .into_iter()
        .filter(|e| held.contains(&(e.product_kind, e.product_id)))
        .map(|e| e.id)
        .collect();
    entitlement::Entity::delete_many()
        .filter(entitlement::Column::Id.is_in(twice))
        .exec(txn)
        .await?;
    let followed: HashSet<i64> = follow::Entity::find()
        .filter(follow::Column::UserId.eq(to))
        .all(txn)
        .await?
        .into_iter()
        .map(|f| f.creator_id)
        .collect();
    follow::Entity::delete_many()
        .filter(follow::Column::UserId.eq(from))
        .filter(follow::Column::CreatorId.is_in(followed))
        .exec(txn)
        .await?;
    let muted: HashSet<i64> = livestream_mute::Entity::find()
        .filter(livestream_mute::Column::UserId.eq(to))
        .all(txn)
        .await?
        .into_iter()
        .map(|m| m.livestream_id)
        .collect();
    livestream_mute::Entity::delete_many()
        .filter(livestream_mute::Column::UserId.eq(from))
        .filter(livestream_mute::Column::LivestreamId.is_in(muted))
        .exec(txn)
        .await?;

    // Ratings: the newer of two ratings of one course stays.
    let kept_ratings: HashMap<i64, rating::Model> = rating::Entity::find()
        .filter(rating::Column::UserId.eq(to))
        .all(txn)
        .await?
        .into_iter()
        .map(|r| (r.course_id, r))
        .collect();
    for theirs in rating::Entity::find()
        .filter(rating::Column::UserId.eq(from))
        .all(txn)
        .await?
    {
        let Some(ours) = kept_ratings.get(&theirs.course_id) else {
            continue;
        };
        let older = if theirs.updated_at > ours.updated_at {
            ours
        } else {
            &theirs
        };
        if older.hidden_at.is_none() {
            super::ratings::adjust_counters(txn, older.course_id, -1, -i64::from(older.stars))
                .await?;
        }
        rating::Entity::delete_by_id(older.id).exec(txn).await?;
    }

    // Memberships: the one that lasts longer stays (no end lasts longest).
    let kept_memberships: HashMap<i64, group_membership::Model> = group_membership::Entity::find()
        .filter(group_membership::Column::UserId.eq(to))
        .all(txn)
        .await?
        .into_iter()
        .map(|m| (m.group_id, m))
        .collect();
    for theirs in group_membership::Entity::find()
        .filter(group_membership::Column::UserId.eq(from))
        .all(txn)
        .await?
    {
        let Some(ours) = kept_memberships.get(&theirs.group_id) else {
            continue;
        };
        let lasts = |m: &group_membership::Model| m.expires_at.unwrap_or(DateTime::<Utc>::MAX_UTC);
        let shorter = if lasts(&theirs) > lasts(ours) {
            ours
        } else {
            &theirs
        };
        group_membership::Entity::delete_by_id(shorter.id)
            .exec(txn)
            .await?;
    }

    // Orders: a retry key both used is renamed on the absorbed side (its own retries
    // are over: the user is gone); of two open orders for one product the absorbed one
    // closes (a payment that still arrives for it is applied or refunded as for any
    // closed order).
    let kept_orders = order::Entity::find()
        .filter(order::Column::BuyerId.eq(to))
        .all(txn)
        .await?;
    let kept_keys: HashSet<&str> = kept_orders
        .iter()
        .map(|o| o.idempotency_key.as_str())
        .collect();
    let kept_open: HashSet<_> = kept_orders
        .iter()
        .filter(|o| o.status == OrderStatus::Pending)
        .map(|o| (o.product_kind, o.product_id))
        .collect();
    for theirs in order::Entity::find()
        .filter(order::Column::BuyerId.eq(from))
        .all(txn)
        .await?
    {
        let mut active = theirs.clone().into_active_model();
        let mut changed = false;
        if kept_keys.contains(theirs.idempotency_key.as_str()) {
            let renamed: String = format!("merged{from}-{}", theirs.idempotency_key)
                .chars()
                .take(64)
                .collect();
            active.idempotency_key = Set(renamed);
            changed = true;
        }
        if theirs.status == OrderStatus::Pending
            && kept_open.contains(&(theirs.product_kind, theirs.product_id))
        {
            active.status = Set(OrderStatus::Closed);
            active.closed_at = Set(Some(now));
            active.updated_at = Set(now);
            crate::service::coupons::apply::release(txn, theirs.id).await?;
            changed = true;
        }
        if changed {
            active.update(txn).await?;
        }
    }

    // Everything else moves as it is.
    macro_rules! move_rows {
        ($($table:ident :: $column:ident),* $(,)?) => {$(
            $table::Entity::update_many()
                .col_expr($table::Column::$column, Expr::value(to))
                .filter($table::Column::$column.eq(from))
                .exec(txn)
                .await?;
        )*};
    }
    move_rows!(
        user_coupon::UserId,
        entitlement::UserId,
        follow::UserId,
        livestream_mute::UserId,
        rating::UserId,
        group_membership::UserId,
        order::BuyerId,
        refund::RequestedBy,
        group_post::AuthorId,
        livestream_message::UserId,
        refresh_token::UserId,
        creator::UserId,
        user_identity::UserId,
    );

    let role = [kept.role, absorbed.role]
        .into_iter()
        .max_by_key(|role| match role {
            Role::Learner => 0,
            Role::Creator => 1,
            Role::Admin => 2,
        })
        .unwrap_or(kept.role);
    let banned_at = kept.banned_at.or(absorbed.banned_at);
    let tokens_valid_after = kept.tokens_valid_after.max(absorbed.tokens_valid_after);
    user::Entity::delete_by_id(from).exec(txn).await?;
    let mut active = kept.clone().into_active_model();
    active.role = Set(role);
    active.banned_at = Set(banned_at);
    active.tokens_valid_after = Set(tokens_valid_after);
    active.nickname = Set(kept.nickname.or(absorbed.nickname));
    active.avatar_url = Set(kept.avatar_url.or(absorbed.avatar_url));
    active.created_at = Set(kept.created_at.min(absorbed.created_at));
    active.updated_at = Set(now);
    Ok(active.update(txn).await?)
}
