//! An app's server access token (`/cgi-bin/stable_token`), shared by every send.
//!
//! - It is fetched once and kept until shortly before `expires_in` runs out.
//! - One fetch is in flight at a time: callers that find no good token wait for the one
//!   fetch under way instead of each starting their own (WeChat limits fetches per day).
//! - When a send reports the token invalid (40001) or expired (42001),
//!   [`AccessTokens::refresh_after`] replaces it once, with `force_refresh`; other sends
//!   that saw the same stale token get the replacement instead of refreshing again.
//!
//! The token is a secret: never logged, and URLs carrying it are logged without their
//! query.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::config::Secret;

/// A token is renewed this long before WeChat says it expires.
pub const RENEW_BEFORE_SECS: i64 = 300;

/// Why no token could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The app id or secret is missing or wrong (WeChat's 40013, 40125...): sending
    /// cannot work until an operator fixes it.
    #[error("the app's credentials are missing or refused (errcode {0})")]
    Credentials(i64),
    /// WeChat was unreachable, busy or answered something unexpected: try later.
    #[error("WeChat did not give an access token: {0}")]
    Unavailable(String),
}

#[derive(Debug, Clone)]
struct Cached {
    token: Secret,
    renew_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct StableTokenResponse {
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
}

/// The access token of one app (its appid and secret), cached and shared.
pub struct AccessTokens {
    http: reqwest::Client,
    api_base: String,
    appid: String,
    secret: Option<Secret>,
    cached: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokens")
            .field("appid", &self.appid)
            .finish_non_exhaustive()
    }
}

impl AccessTokens {
    /// Tokens of the app `appid` from the WeChat API at `api_base`.
    pub fn new(http: reqwest::Client, api_base: &str, appid: &str, secret: Option<Secret>) -> Self {
        AccessTokens {
            http,
            api_base: api_base.trim_end_matches('/').to_owned(),
            appid: appid.to_owned(),
            secret,
            cached: Mutex::new(None),
        }
    }

    /// A good token: the cached one, or a fresh one (one fetch at a time).
    pub async fn get(&self) -> Result<Secret, TokenError> {
        let mut cached = self.cached.lock().await;
        if let Some(current) = cached.as_ref()
            && current.renew_at > Utc::now()
        {
            return Ok(current.token.clone());
        }
        let fresh = self.fetch(false).await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// A replacement for `stale`, which WeChat refused: fetched with `force_refresh`
    /// unless another caller replaced it already.
    pub async fn refresh_after(&self, stale: &Secret) -> Result<Secret, TokenError> {
        let mut cached = self.cached.lock().await;
        if let Some(current) = cached.as_ref()
            && current.token.expose() != stale.expose()
            && current.renew_at > Utc::now()
        {
            return Ok(current.token.clone());
        }
        let fresh = self.fetch(true).await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    async fn fetch(&self, force_refresh: bool) -> Result<Cached, TokenError> {
        let Some(secret) = &self.secret else {
            return Err(TokenError::Credentials(0));
        };
        let body = serde_json::json!({
            "grant_type": "client_credential",
            "appid": self.appid,
            "secret": secret.expose(),
            "force_refresh": force_refresh,
        });
        let response = self
            .http
            .post(format!("{}/cgi-bin/stable_token", self.api_base))
            .json(&body)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|error| TokenError::Unavailable(error.without_url().to_string()))?;
        let text = response
            .text()
            .await
            .map_err(|error| TokenError::Unavailable(error.without_url().to_string()))?;
        let answer: StableTokenResponse = serde_json::from_str(&text)
            .map_err(|_| TokenError::Unavailable("an answer that is not JSON".into()))?;
        match (answer.errcode, answer.access_token, answer.expires_in) {
            (None | Some(0), Some(token), Some(expires_in)) if !token.is_empty() => {
                let renew_at =
                    Utc::now() + chrono::Duration::seconds((expires_in - RENEW_BEFORE_SECS).max(0));
                Ok(Cached {
                    token: Secret::new(token),
                    renew_at,
                })
            }
            (Some(code @ (40013 | 40125 | 40164 | 41002 | 41004)), _, _) => {
                tracing::error!(errcode = code, appid = %self.appid, "stable_token refused the app's credentials");
                Err(TokenError::Credentials(code))
            }
            (Some(code), _, _) => Err(TokenError::Unavailable(format!("errcode {code}"))),
            _ => Err(TokenError::Unavailable("an answer without a token".into())),
        }
    }
}
