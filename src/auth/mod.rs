//! Who is acting. Every request resolves to an [`Actor`]: anonymous, or a user read
//! from the database, whatever the token says (reused for at most [`ACTOR_TTL`]; a ban,
//! a new creator profile or a sign-out everywhere made through this server takes effect
//! on the next request). A token issued before the user's `tokens_valid_after` is void.
//! Services take the actor explicitly and decide what it may do.

pub mod official_account;
pub mod secret;
pub mod tokens;
pub mod wechat;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use entity::enums::Role;
use entity::{creator, user};
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::error::{AppError, AppResult};
use tokens::{Audience, TokenKeys};

/// The acting user of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Actor {
    /// Nobody signed in.
    #[default]
    Anonymous,
    /// A signed-in user.
    User {
        /// Database id of the user.
        id: i64,
        /// Current role.
        role: Role,
        /// Their creator profile, if they have one.
        creator_id: Option<i64>,
        /// The client their token was issued to.
        audience: Audience,
    },
}

impl Actor {
    /// The user's id, when signed in.
    pub fn user_id(&self) -> Option<i64> {
        match self {
            Actor::Anonymous => None,
            Actor::User { id, .. } => Some(*id),
        }
    }

    /// The client the actor's token was issued to, when signed in.
    pub fn audience(&self) -> Option<Audience> {
        match self {
            Actor::Anonymous => None,
            Actor::User { audience, .. } => Some(*audience),
        }
    }

    /// The actor's creator profile id, if any.
    pub fn creator_id(&self) -> Option<i64> {
        match self {
            Actor::Anonymous => None,
            Actor::User { creator_id, .. } => *creator_id,
        }
    }

    /// Whether the actor is an admin (from any client).
    pub fn is_admin(&self) -> bool {
        matches!(
            self,
            Actor::User {
                role: Role::Admin,
                ..
            }
        )
    }

    /// Whether the actor is an admin signed in to the console: only then do admin powers
    /// (reading everyone's orders, cancelling them) apply; an admin on the mini-program
    /// is treated like any user.
    pub fn is_console_admin(&self) -> bool {
        matches!(
            self,
            Actor::User {
                role: Role::Admin,
                audience: Audience::Console,
                ..
            }
        )
    }

    /// The signed-in user's id, or UNAUTHENTICATED.
    pub fn require_user(&self) -> AppResult<i64> {
        self.user_id().ok_or(AppError::Unauthenticated)
    }

    /// Admin actions need an admin signed in to the console: a mini-program token,
    /// even an admin's, is refused.
    pub fn require_console_admin(&self) -> AppResult<()> {
        match self {
            Actor::Anonymous => Err(AppError::Unauthenticated),
            Actor::User {
                role: Role::Admin,
                audience: Audience::Console,
                ..
            } => Ok(()),
            Actor::User { .. } => Err(AppError::Forbidden(
                "only admins signed in to the console may do this",
            )),
        }
    }
}

/// How long a resolved user (role, creator profile, ban) is reused across requests.
/// Changes made through this server (ban, becoming a creator) take effect at once; other
/// processes (`zhiku user promote`, other replicas) within this time.
pub const ACTOR_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// What authentication reads about a user.
#[derive(Clone, Copy, Debug)]
struct KnownUser {
    role: Role,
    creator_id: Option<i64>,
    banned: bool,
    /// Tokens issued at or before this Unix millisecond are void.
    tokens_valid_after_ms: Option<i64>,
}

/// Users resolved in the last [`ACTOR_TTL`], so a burst of requests costs one query.
#[derive(Clone, Debug, Default)]
pub struct ActorCache {
    users: Arc<RwLock<HashMap<i64, (Instant, KnownUser)>>>,
}

impl ActorCache {
    fn get(&self, user_id: i64) -> Option<KnownUser> {
        let users = self.users.read().unwrap_or_else(|e| e.into_inner());
        users
            .get(&user_id)
            .filter(|(read_at, _)| read_at.elapsed() < ACTOR_TTL)
            .map(|(_, known)| *known)
    }

    fn put(&self, user_id: i64, known: KnownUser) {
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        if users.len() > 100_000 {
            users.retain(|_, (read_at, _)| read_at.elapsed() < ACTOR_TTL);
        }
        users.insert(user_id, (Instant::now(), known));
    }

    /// Forgets a user whose role, creator profile, ban or token revocation just changed.
    pub fn forget(&self, user_id: i64) {
        self.users
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&user_id);
    }
}

/// Resolves the `Authorization` header of a request: none is anonymous; anything else
/// must be a valid bearer token of an existing, unbanned user.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    auth: &AuthState,
    authorization: Option<&str>,
) -> AppResult<Actor> {
    Ok(authenticate_until(db, auth, authorization).await?.0)
}

/// [`authenticate`], with the Unix second the token expires (None: anonymous): what a
/// WebSocket signed in once needs to close when its token does.
pub async fn authenticate_until(
    db: &impl ConnectionTrait,
    auth: &AuthState,
    authorization: Option<&str>,
) -> AppResult<(Actor, Option<i64>)> {
    let Some(header) = authorization else {
        return Ok((Actor::Anonymous, None));
    };
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AppError::Unauthenticated)?;
    let verified = auth.keys.verify(token)?;
    let known = match auth.actors.get(verified.user_id) {
        Some(known) => known,
        None => {
            // One query: the user and their creator profile.
            let (user, creator) = user::Entity::find_by_id(verified.user_id)
                .find_also_related(creator::Entity)
                .one(db)
                .await?
                .ok_or(AppError::Unauthenticated)?;
            let known = KnownUser {
                role: user.role,
                creator_id: creator.map(|c| c.id),
                banned: user.banned_at.is_some(),
                tokens_valid_after_ms: user.tokens_valid_after.map(|t| t.timestamp_millis()),
            };
            auth.actors.put(verified.user_id, known);
            known
        }
    };
    if known.banned {
        return Err(AppError::Unauthenticated);
    }
    if known
        .tokens_valid_after_ms
        .is_some_and(|after| verified.issued_at_ms <= after)
    {
        return Err(AppError::Unauthenticated); // signed out everywhere since
    }
    let actor = Actor::User {
        id: verified.user_id,
        role: known.role,
        creator_id: known.creator_id,
        audience: verified.audience,
    };
    Ok((actor, Some(verified.expires_at)))
}

/// What sign-in needs, built once at start-up and shared.
#[derive(Debug, Clone)]
pub struct AuthState {
    /// Access-token keys.
    pub keys: TokenKeys,
    /// The WeChat login client.
    pub wechat: wechat::WechatClient,
    /// The official account's web sign-in.
    pub official_account: official_account::OfficialAccount,
    /// The website app's QR sign-in, for the console.
    pub website: official_account::OfficialAccount,
    /// Lifetime of refresh tokens.
    pub refresh_ttl: chrono::Duration,
    /// Recently resolved users.
    pub actors: ActorCache,
}

impl AuthState {
    /// Builds the sign-in state: resolves the JWT secret (see [`secret`]) and the
    /// WeChat client.
    pub async fn new(
        db: &impl ConnectionTrait,
        config: &crate::config::AuthConfig,
        environment: crate::config::Environment,
    ) -> AppResult<Self> {
        let secret = secret::jwt_secret(db, config.jwt_secret.as_ref(), environment).await?;
        let keys = TokenKeys::new(
            &secret,
            chrono::Duration::seconds(config.access_token_ttl_secs.max(60)),
        )?;
        let wechat = wechat::WechatClient::new(config).map_err(AppError::internal)?;
        let official_account =
            official_account::OfficialAccount::new(config, secret.expose().as_bytes())
                .map_err(AppError::internal)?;
        let website =
            official_account::OfficialAccount::website(config, secret.expose().as_bytes())
                .map_err(AppError::internal)?;
        Ok(AuthState {
            keys,
            wechat,
            official_account,
            website,
            refresh_ttl: chrono::Duration::days(config.refresh_token_ttl_days.max(1)),
            actors: ActorCache::default(),
        })
    }
}
