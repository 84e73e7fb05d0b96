//! The WeChat mini-program login API: `code2Session` exchanges the `code` from
//! `wx.login()` for the user's openid (and unionid when the app is bound to an open
//! platform account).
//!
//! The session_key WeChat also returns never leaves this module: it is not stored,
//! returned or logged (the response type does not even keep it).

use std::time::Duration;

use serde::Deserialize;

use crate::config::{AuthConfig, Secret};

/// Who WeChat says the user is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WechatIdentity {
    /// Openid within our mini-program.
    pub openid: String,
    /// Unionid across the developer's apps, when WeChat gives one.
    pub unionid: Option<String>,
}

/// Why a login failed, in terms the mini-program can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WechatLoginError {
    /// 40029: the code is invalid, expired or already used.
    #[error("the login code is invalid or expired; call wx.login() again")]
    InvalidCode,
    /// 45011: WeChat's rate limit for this user.
    #[error("too many login attempts; try again in a minute")]
    RateLimited,
    /// 40226: WeChat flagged the user as high-risk.
    #[error("WeChat refused this user's login (risk control)")]
    RiskyUser,
    /// -1: WeChat is busy.
    #[error("WeChat is busy; try again shortly")]
    Busy,
    /// Anything else: timeouts, malformed answers, unknown error codes.
    #[error("WeChat login is unavailable right now; try again later")]
    Unavailable,
}

/// The shape of a code2Session answer (errcode absent means success).
#[derive(Deserialize)]
struct SessionResponse {
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    openid: Option<String>,
    #[serde(default)]
    unionid: Option<String>,
}

/// A client of the WeChat login API.
#[derive(Clone)]
pub struct WechatClient {
    http: reqwest::Client,
    base: String,
    appid: String,
    secret: Option<Secret>,
}

impl std::fmt::Debug for WechatClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatClient")
            .field("base", &self.base)
            .field("appid", &self.appid)
            .finish_non_exhaustive()
    }
}

impl WechatClient {
    /// A client configured from `ZHIKU_WECHAT_*`.
    pub fn new(config: &AuthConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.wechat_timeout_ms))
            .build()?;
        Ok(WechatClient {
            http,
            base: config.wechat_api_base.trim_end_matches('/').to_owned(),
            appid: config.wechat_appid.clone(),
            secret: config.wechat_secret.clone(),
        })
    }

    /// Exchanges a `wx.login()` code for the user's identity.
    pub async fn code_to_session(&self, code: &str) -> Result<WechatIdentity, WechatLoginError> {
        let Some(secret) = &self.secret else {
            tracing::error!("ZHIKU_WECHAT_SECRET is not set; WeChat login cannot work");
            return Err(WechatLoginError::Unavailable);
        };
        let response = self
            .http
            .get(format!("{}/sns/jscode2session", self.base))
            .query(&[
                ("appid", self.appid.as_str()),
                ("secret", secret.expose()),
                ("js_code", code),
                ("grant_type", "authorization_code"),
            ])
            .send()
            .await
            .map_err(|error| {
                // Without the URL: it carries the app secret and the code.
                tracing::warn!(error = %error.without_url(), "code2Session call failed");
                WechatLoginError::Unavailable
            })?;
        // WeChat answers JSON with a text/plain content type: read the text, parse it.
        let body = response.text().await.map_err(|error| {
            tracing::warn!(error = %error.without_url(), "code2Session body unreadable");
            WechatLoginError::Unavailable
        })?;
        let parsed: SessionResponse = serde_json::from_str(&body).map_err(|_| {
            tracing::warn!("code2Session answered something other than JSON");
            WechatLoginError::Unavailable
        })?;
        match parsed.errcode {
            None | Some(0) => match parsed.openid.filter(|o| !o.is_empty()) {
                Some(openid) => Ok(WechatIdentity {
                    openid,
                    unionid: parsed.unionid.filter(|u| !u.is_empty()),
                }),
                None => {
                    tracing::warn!("code2Session succeeded without an openid");
                    Err(WechatLoginError::Unavailable)
                }
            },
            Some(40029) => Err(WechatLoginError::InvalidCode),
            Some(45011) => Err(WechatLoginError::RateLimited),
            Some(40226) => Err(WechatLoginError::RiskyUser),
            Some(-1) => Err(WechatLoginError::Busy),
            Some(other) => {
                tracing::warn!(errcode = other, "code2Session failed");
                Err(WechatLoginError::Unavailable)
            }
        }
    }
}
