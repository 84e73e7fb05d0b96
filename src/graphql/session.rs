//! Sign-in: `viewer`, `loginWithWechat`, official-account sign-in, `refreshToken`, `logout`.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::auth::AuthState;
use crate::auth::official_account::Scope;
use crate::error::{AppError, AppResult};
use crate::graphql::context::ContextExt;
use crate::graphql::loaders::UserById;
use crate::graphql::objects::User;
use crate::graphql::payload::{UserError, split};
use crate::graphql::prefetch;
use crate::service::sessions::{self, Session};

/// Input of `loginWithWechat`.
#[derive(InputObject)]
pub struct LoginWithWechatInput {
    /// The code from `wx.login()` (valid once, for five minutes).
    pub code: String,
}

/// Input of `loginWithOfficialAccount`.
#[derive(InputObject)]
pub struct LoginWithOfficialAccountInput {
    /// The `code` WeChat added to the redirect URI (valid once, for five minutes).
    pub code: String,
    /// The `state` WeChat added to the redirect URI, as it came.
    pub state: String,
}

/// Input of `loginWithWebsite`.
#[derive(InputObject)]
pub struct LoginWithWebsiteInput {
    /// The `code` WeChat added to the redirect URI (valid once, for ten minutes).
    pub code: String,
    /// The `state` WeChat added to the redirect URI, as it came.
    pub state: String,
}

/// What official-account sign-in asks the user for.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfficialAccountScope {
    /// `snsapi_base`: silent; who the user is, nothing more.
    Base,
    /// `snsapi_userinfo`: asks the user, and adds nickname and avatar.
    UserInfo,
}

/// Input of `refreshToken`.
#[derive(InputObject)]
pub struct RefreshTokenInput {
    /// The refresh token of the last login or refresh (single use).
    pub refresh_token: String,
}

/// Input of `logout`.
#[derive(InputObject)]
pub struct LogoutInput {
    /// The refresh token to revoke.
    pub refresh_token: Option<String>,
    /// Also revoke every other refresh token of the signed-in user.
    #[graphql(default)]
    pub all_devices: bool,
}

/// A new session, or why none was made.
#[derive(SimpleObject, Default)]
pub struct LoginPayload {
    /// JWT for `Authorization: Bearer ...`; short-lived.
    pub access_token: Option<String>,
    /// When the access token expires.
    pub access_token_expires_at: Option<DateTime<Utc>>,
    /// Single-use token for `refreshToken`.
    pub refresh_token: Option<String>,
    /// The signed-in user.
    pub viewer: Option<User>,
    /// Each refused input field; empty on success.
    pub user_errors: Vec<UserError>,
}

impl LoginPayload {
    fn from_result(result: AppResult<Session>) -> async_graphql::Result<Self> {
        let (session, user_errors) = split(result)?;
        Ok(match session {
            Some(session) => LoginPayload {
                access_token: Some(session.access_token),
                access_token_expires_at: Some(session.access_token_expires_at),
                refresh_token: Some(session.refresh_token),
                viewer: Some(User(session.user)),
                user_errors,
            },
            None => LoginPayload {
                user_errors,
                ..Default::default()
            },
        })
    }
}

/// Result of `logout`.
#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// True once the tokens are revoked.
    pub ok: bool,
    /// Each refused input field; empty on success.
    pub user_errors: Vec<UserError>,
}

fn auth<'a>(ctx: &'a Context<'_>) -> AppResult<&'a AuthState> {
    ctx.data::<AuthState>()
        .map_err(|_| AppError::internal(std::io::Error::other("auth state missing")))
}

/// Session queries.
#[derive(Default)]
pub struct SessionQuery;

/// Session queries: who is signed in.
#[Object]
impl SessionQuery {
    /// The signed-in user, with their creator profile; null when anonymous.
    async fn viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let Some(id) = ctx.actor()?.user_id() else {
            return Ok(None);
        };
        // A root field with nothing to batch with: fetched at once (and cached for the
        // rest of the request) rather than after the DataLoader's batching window.
        let loader = ctx.loader()?;
        prefetch::prime(loader, [UserById(id)]).await?;
        Ok(loader.load_one(UserById(id)).await?.map(User))
    }

    /// The WeChat address that starts sign-in on an official-account (H5) page: open it
    /// inside WeChat; WeChat returns to `redirectUri` (which must be on the server's
    /// allow-list) with `code` and `state` for `loginWithOfficialAccount`. `state` (up to
    /// 48 of `A-Z a-z 0-9 - _`) is carried inside a signed state good for 10 minutes,
    /// once.
    async fn official_account_authorize_url(
        &self,
        ctx: &Context<'_>,
        redirect_uri: String,
        #[graphql(default_with = "Some(OfficialAccountScope::Base)")] scope: Option<
            OfficialAccountScope,
        >,
        state: Option<String>,
    ) -> async_graphql::Result<String> {
        // An absent variable reaches here as null: the default then too.
        let scope = match scope {
            None | Some(OfficialAccountScope::Base) => Scope::Base,
            Some(OfficialAccountScope::UserInfo) => Scope::UserInfo,
        };
        Ok(sessions::official_account_authorize_url(
            auth(ctx)?,
            &redirect_uri,
            scope,
            state.as_deref(),
        )?)
    }

    /// The WeChat address that starts the console's QR sign-in (the website app's
    /// `qrconnect` page, scope `snsapi_login`), to open from the console's sign-in
    /// page. WeChat returns to `redirectUri` (on the server's allow-list) with `code`
    /// and `state` for `loginWithWebsite`; `state` is carried as for
    /// `officialAccountAuthorizeUrl`.
    async fn website_authorize_url(
        &self,
        ctx: &Context<'_>,
        redirect_uri: String,
        state: Option<String>,
    ) -> async_graphql::Result<String> {
        Ok(sessions::website_authorize_url(
            auth(ctx)?,
            &redirect_uri,
            state.as_deref(),
        )?)
    }
}

/// Session mutations.
#[derive(Default)]
pub struct SessionMutation;

/// Session mutations: sign in, refresh, sign out.
#[Object]
impl SessionMutation {
    /// Signs in from the mini-program with a `wx.login()` code (creates the user on
    /// first sight). Tokens are for the mini-program audience.
    async fn login_with_wechat(
        &self,
        ctx: &Context<'_>,
        input: LoginWithWechatInput,
    ) -> async_graphql::Result<LoginPayload> {
        let result =
            sessions::login_with_wechat(ctx.db()?, ctx.effects()?, auth(ctx)?, &input.code).await;
        LoginPayload::from_result(result)
    }

    /// Signs in on an official-account (H5) page with the `code` and `state` WeChat
    /// returned (creates the user on first sight; the same person as in the
    /// mini-program when WeChat links the two apps). Tokens are for the H5 audience.
    async fn login_with_official_account(
        &self,
        ctx: &Context<'_>,
        input: LoginWithOfficialAccountInput,
    ) -> async_graphql::Result<LoginPayload> {
        let result = sessions::login_with_official_account(
            ctx.db()?,
            ctx.effects()?,
            auth(ctx)?,
            &input.code,
            &input.state,
        )
        .await;
        LoginPayload::from_result(result)
    }

    /// Signs an admin or creator in to the console with the `code` and `state` the QR
    /// sign-in returned; anyone else gets `NOT_STAFF` (the console makes no accounts).
    /// Tokens are for the console audience.
    async fn login_with_website(
        &self,
        ctx: &Context<'_>,
        input: LoginWithWebsiteInput,
    ) -> async_graphql::Result<LoginPayload> {
        let result = sessions::login_with_website(
            ctx.db()?,
            ctx.effects()?,
            auth(ctx)?,
            &input.code,
            &input.state,
        )
        .await;
        LoginPayload::from_result(result)
    }

    /// Exchanges a refresh token for a new access and refresh token (the old one is spent).
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        input: RefreshTokenInput,
    ) -> async_graphql::Result<LoginPayload> {
        let result =
            sessions::refresh(ctx.db()?, ctx.effects()?, auth(ctx)?, &input.refresh_token).await;
        LoginPayload::from_result(result)
    }

    /// Revokes a refresh token (and, with `allDevices`, all of the viewer's).
    async fn logout(
        &self,
        ctx: &Context<'_>,
        input: LogoutInput,
    ) -> async_graphql::Result<LogoutPayload> {
        let result = sessions::logout(
            ctx.db()?,
            ctx.effects()?,
            ctx.actor()?,
            input.refresh_token.as_deref(),
            input.all_devices,
        )
        .await;
        let (done, user_errors) = split(result)?;
        Ok(LogoutPayload {
            ok: done.is_some(),
            user_errors,
        })
    }
}
