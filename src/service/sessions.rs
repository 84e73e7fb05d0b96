//! Sessions: WeChat login, refresh-token rotation, logout, tokens for operators.
//!
//! Refresh tokens are single use: exchanging one marks it used (a conditional update,
//! so two concurrent refreshes cannot both succeed) and returns a new pair. Presenting
//! a spent token again means it leaked: every refresh token of that user is revoked.

use chrono::{DateTime, Utc};
use entity::enums::{IdentityApp, Role};
use entity::{oauth_state, refresh_token, user};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter,
};

use crate::auth::official_account::{MAX_CLIENT_STATE, OaLoginError, OfficialAccount, Scope};
use crate::auth::tokens::{self, Audience};
use crate::auth::wechat::WechatLoginError;
use crate::auth::{Actor, AuthState};
use crate::error::{AppError, AppResult};
use crate::service::effects::{Effects, Event};
use crate::service::identities::{self, AppIdentity};
use crate::service::validation::{Checks, FieldError, UserErrorCode};

/// A signed-in session as handed to a client.
#[derive(Debug, Clone)]
pub struct Session {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// When the access token expires.
    pub access_token_expires_at: DateTime<Utc>,
    /// Single-use token to get the next pair.
    pub refresh_token: String,
    /// The signed-in user.
    pub user: user::Model,
}

fn login_error(error: WechatLoginError) -> AppError {
    let code = match error {
        WechatLoginError::InvalidCode => UserErrorCode::InvalidCode,
        WechatLoginError::RateLimited => UserErrorCode::RateLimited,
        WechatLoginError::RiskyUser => UserErrorCode::RiskyUser,
        WechatLoginError::Busy => UserErrorCode::WechatBusy,
        WechatLoginError::Unavailable => UserErrorCode::WechatUnavailable,
    };
    FieldError::new("code", code, error.to_string()).into()
}

/// Signs a mini-program user in with the code from `wx.login()`, creating the user on
/// first sight (matched by unionid when WeChat gives one, else by openid; see
/// [`identities::sign_in`]).
pub async fn login_with_wechat(
    db: &DatabaseConnection,
    effects: &Effects,
    auth: &AuthState,
    code: &str,
) -> AppResult<Session> {
    let mut checks = Checks::new();
    let code = checks.text("code", code, 128);
    checks.finish()?;
    let identity = auth
        .wechat
        .code_to_session(&code)
        .await
        .map_err(login_error)?;
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let identity = AppIdentity {
        app: IdentityApp::MiniProgram,
        openid: identity.openid,
        unionid: identity.unionid,
    };
    let (user, absorbed) = identities::sign_in(&txn, &identity, now).await?;
    let signed_in = SignedIn {
        user,
        absorbed,
        audience: Audience::MiniProgram,
    };
    open_session(db, effects, auth, txn, signed_in, now).await
}

/// Who a sign-in found, for [`open_session`].
struct SignedIn {
    user: user::Model,
    /// The user merged into `user` by this sign-in, if any.
    absorbed: Option<i64>,
    audience: Audience,
}

/// Ends a sign-in: refuses a banned user, opens the session in the sign-in's
/// transaction, commits, and tells the caches of a user merged away.
async fn open_session(
    db: &DatabaseConnection,
    effects: &Effects,
    auth: &AuthState,
    txn: sea_orm::DatabaseTransaction,
    signed_in: SignedIn,
    now: DateTime<Utc>,
) -> AppResult<Session> {
    if signed_in.user.banned_at.is_some() {
        return Err(AppError::Forbidden("this account is banned"));
    }
    let session = new_session(&txn, auth, signed_in.user, signed_in.audience, now).await?;
    txn.commit().await?;
    if let Some(user_id) = signed_in.absorbed {
        // Its tokens name a user that is gone: the actor cache must not vouch for it.
        effects.publish(db, Event::UserChanged { user_id }).await;
    }
    Ok(session)
}

/// The address that starts official-account sign-in: WeChat's authorize page for an
/// allow-listed `redirect_uri`, with a signed state carrying `client_state`.
pub fn official_account_authorize_url(
    auth: &AuthState,
    redirect_uri: &str,
    scope: Scope,
    client_state: Option<&str>,
) -> AppResult<String> {
    let allow_list = "ZHIKU_OA_REDIRECT_URIS";
    authorize_url(
        &auth.official_account,
        allow_list,
        redirect_uri,
        scope,
        client_state,
    )
}

/// `app`'s authorize address for an allow-listed `redirect_uri` (`allow_list` names the
/// setting in the refusal), with a signed state carrying `client_state`.
fn authorize_url(
    app: &OfficialAccount,
    allow_list: &str,
    redirect_uri: &str,
    scope: Scope,
    client_state: Option<&str>,
) -> AppResult<String> {
    if !app.allows(redirect_uri) {
        return Err(AppError::BadUserInput(format!(
            "redirectUri is not on this server's allow-list ({allow_list})"
        )));
    }
    let state = app
        .sign_state(client_state.unwrap_or_default(), Utc::now())
        .ok_or_else(|| {
            AppError::BadUserInput(format!(
                "state is at most {MAX_CLIENT_STATE} of A-Z, a-z, 0-9, - and _"
            ))
        })?;
    Ok(app.authorize_url(redirect_uri, scope, &state))
}

fn oa_login_error(error: OaLoginError) -> AppError {
    let code = match error {
        OaLoginError::InvalidCode => UserErrorCode::InvalidCode,
        OaLoginError::CodeUsed => UserErrorCode::CodeUsed,
        OaLoginError::SnapshotUser => UserErrorCode::SnapshotUser,
        OaLoginError::Busy => UserErrorCode::WechatBusy,
        OaLoginError::Unavailable => UserErrorCode::WechatUnavailable,
    };
    FieldError::new("code", code, error.to_string()).into()
}

fn refused_state() -> AppError {
    FieldError::new(
        "state",
        UserErrorCode::InvalidToken,
        "the sign-in state is invalid, expired or used already; start signing in again",
    )
    .into()
}

/// Signs a user in from an official-account page with the `code` and `state` WeChat
/// returned: the state must be ours, fresh and unspent (it is spent now, whatever
/// follows); the user is found or created through [`identities::sign_in`]. Tokens are
/// for the H5 audience.
pub async fn login_with_official_account(
    db: &DatabaseConnection,
    effects: &Effects,
    auth: &AuthState,
    code: &str,
    state: &str,
) -> AppResult<Session> {
    let now = Utc::now();
    let (code, _) = spend_state(db, &auth.official_account, code, state, now).await?;
    let profile = auth
        .official_account
        .exchange(&code)
        .await
        .map_err(oa_login_error)?;
    let txn = crate::db::begin_write(db).await?;
    let identity = AppIdentity {
        app: IdentityApp::OfficialAccount,
        openid: profile.openid,
        unionid: profile.unionid,
    };
    let (mut user, absorbed) = identities::sign_in(&txn, &identity, now).await?;
    if user.nickname.is_none() && profile.nickname.is_some()
        || user.avatar_url.is_none() && profile.avatar_url.is_some()
    {
        let mut active = user.clone().into_active_model();
        active.nickname = Set(user.nickname.clone().or(profile.nickname));
        active.avatar_url = Set(user.avatar_url.clone().or(profile.avatar_url));
        active.updated_at = Set(now);
        user = active.update(&txn).await?;
    }
    let signed_in = SignedIn {
        user,
        absorbed,
        audience: Audience::H5,
    };
    open_session(db, effects, auth, txn, signed_in, now).await
}

/// Checks the `code` and `state` WeChat returned to a web sign-in and spends the state:
/// it must be ours (signed by `app`), fresh and unspent, and it is spent before WeChat
/// is asked, so two uses of one state cannot both go on. Returns the code and the
/// caller's own state.
async fn spend_state(
    db: &DatabaseConnection,
    app: &OfficialAccount,
    code: &str,
    state: &str,
    now: DateTime<Utc>,
) -> AppResult<(String, String)> {
    let mut checks = Checks::new();
    let code = checks.text("code", code, 128);
    let state = checks.text("state", state, 128);
    checks.finish()?;
    let verified = app.verify_state(&state, now).map_err(|_| refused_state())?;
    oauth_state::Entity::delete_many()
        .filter(oauth_state::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    let spent = oauth_state::Entity::insert(oauth_state::ActiveModel {
        nonce: Set(verified.nonce),
        expires_at: Set(verified.expires_at),
    })
    .on_conflict(
        OnConflict::column(oauth_state::Column::Nonce)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    if spent != 1 {
        return Err(refused_state());
    }
    Ok((code, verified.client_state))
}

/// The address of the console's QR sign-in: WeChat's `qrconnect` page for the website
/// app, returning to an allow-listed `redirect_uri` with a signed state carrying
/// `client_state`.
pub fn website_authorize_url(
    auth: &AuthState,
    redirect_uri: &str,
    client_state: Option<&str>,
) -> AppResult<String> {
    authorize_url(
        &auth.website,
        "ZHIKU_WEB_REDIRECT_URIS",
        redirect_uri,
        Scope::Login,
        client_state,
    )
}

/// Signs an admin or a creator in to the console with the `code` and `state` the QR
/// sign-in returned. The console makes no accounts: the person is found by the unionid
/// WeChat gives (the one they have in the mini-program and the official account), and
/// anyone else, or a learner, is refused with `NOT_STAFF`. Tokens are for the console
/// audience.
pub async fn login_with_website(
    db: &DatabaseConnection,
    effects: &Effects,
    auth: &AuthState,
    code: &str,
    state: &str,
) -> AppResult<Session> {
    let now = Utc::now();
    let (code, _) = spend_state(db, &auth.website, code, state, now).await?;
    let profile = auth.website.exchange(&code).await.map_err(oa_login_error)?;
    let not_staff = || {
        AppError::from(FieldError::new(
            "code",
            UserErrorCode::NotStaff,
            "this WeChat account is not an admin or creator of this platform",
        ))
    };
    let Some(unionid) = profile.unionid else {
        return Err(not_staff());
    };
    let txn = crate::db::begin_write(db).await?;
    let user = user::Entity::find()
        .filter(user::Column::Unionid.eq(unionid))
        .one(&txn)
        .await?
        .ok_or_else(not_staff)?;
    if user.role == Role::Learner {
        return Err(not_staff());
    }
    let signed_in = SignedIn {
        user,
        absorbed: None,
        audience: Audience::Console,
    };
    open_session(db, effects, auth, txn, signed_in, now).await
}

/// Issues an access token and stores a new refresh token for `user`.
async fn new_session(
    db: &impl ConnectionTrait,
    auth: &AuthState,
    user: user::Model,
    audience: Audience,
    now: DateTime<Utc>,
) -> AppResult<Session> {
    let access_token = auth.keys.issue(user.id, user.role, audience, now)?;
    let refresh_token = tokens::new_refresh_token();
    refresh_token::Entity::insert(refresh_token::ActiveModel {
        user_id: Set(user.id),
        token_hash: Set(tokens::hash_refresh_token(&refresh_token)),
        audience: Set(audience.name().to_owned()),
        created_at: Set(now),
        expires_at: Set(now + auth.refresh_ttl),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(Session {
        access_token,
        access_token_expires_at: now + auth.keys.access_ttl(),
        refresh_token,
        user,
    })
}

fn invalid_token() -> AppError {
    FieldError::new(
        "refreshToken",
        UserErrorCode::InvalidToken,
        "the refresh token is invalid, expired or already used; sign in again",
    )
    .into()
}

/// Exchanges a refresh token for a new pair; the old token is spent.
pub async fn refresh(
    db: &DatabaseConnection,
    effects: &Effects,
    auth: &AuthState,
    token: &str,
) -> AppResult<Session> {
    let hash = tokens::hash_refresh_token(token.trim());
    let now = Utc::now();
    let Some(stored) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .one(db)
        .await?
    else {
        return Err(invalid_token());
    };
    if stored.used_at.is_some() {
        // A spent token came back: someone holds a copy. End every session of the user.
        tracing::warn!(user_id = stored.user_id, "refresh token reuse detected");
        revoke_all(db, stored.user_id, now).await?;
        let user_id = stored.user_id;
        effects.publish(db, Event::UserChanged { user_id }).await;
        return Err(invalid_token());
    }
    if stored.revoked_at.is_some() || stored.expires_at <= now {
        return Err(invalid_token());
    }
    let txn = crate::db::begin_write(db).await?;
    let spent = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(stored.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        // Another request spent it first.
        return Err(invalid_token());
    }
    let user = user::Entity::find_by_id(stored.user_id)
        .one(&txn)
        .await?
        .ok_or_else(invalid_token)?;
    if user.banned_at.is_some() {
        return Err(AppError::Unauthenticated);
    }
    let audience = Audience::from_name(&stored.audience).unwrap_or(Audience::MiniProgram);
    let session = new_session(&txn, auth, user, audience, now).await?;
    txn.commit().await?;
    Ok(session)
}

/// Revokes a refresh token; with `all_devices`, every refresh token of the signed-in
/// user and every access token issued to them so far. (Without it, the access token of
/// this device lives until it expires, at most the access-token lifetime.)
pub async fn logout(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    token: Option<&str>,
    all_devices: bool,
) -> AppResult<()> {
    let now = Utc::now();
    if all_devices {
        let user_id = actor.require_user()?;
        revoke_all(db, user_id, now).await?;
        effects.publish(db, Event::UserChanged { user_id }).await;
    }
    if let Some(token) = token {
        refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
            .filter(refresh_token::Column::TokenHash.eq(tokens::hash_refresh_token(token.trim())))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Revokes every live refresh token of a user and voids the access tokens issued to
/// them until now (logout everywhere, ban, reuse). Callers publish `UserChanged` once
/// this is committed, so the actor cache reads the user afresh.
pub async fn revoke_all(
    db: &impl ConnectionTrait,
    user_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    user::Entity::update_many()
        .col_expr(user::Column::TokensValidAfter, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// An access token for a user, for operators and scripts (`zhiku token`).
pub fn operator_token(
    auth: &AuthState,
    user: &user::Model,
    audience: Audience,
) -> AppResult<String> {
    auth.keys.issue(user.id, user.role, audience, Utc::now())
}
