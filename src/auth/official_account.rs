//! WeChat's web OAuth, for two apps of the same shape: the official account (公众号),
//! signing in H5 pages opened inside WeChat, and the website app (网站应用), signing in
//! to the console by scanning a QR code (`/connect/qrconnect`, scope `snsapi_login`).
//!
//! 1. [`OfficialAccount::authorize_url`] builds the `open.weixin.qq.com/connect/oauth2/authorize`
//!    address for a redirect URI on the configured allow-list, with a signed,
//!    short-lived `state` that carries the caller's own state.
//! 2. WeChat sends the user back with `code` and that `state`;
//!    [`OfficialAccount::exchange`] trades the code at `/sns/oauth2/access_token` and,
//!    for the USER_INFO scope, reads `/sns/userinfo`.
//!
//! The web access token WeChat returns is used for the userinfo call and dropped: never
//! stored, returned or logged (URLs carrying it or the secret are logged without
//! their query).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ring::hmac;
use serde::Deserialize;

use crate::config::{AuthConfig, Secret};

/// How long a signed state stays good: the user has this long to consent.
pub const STATE_TTL_SECS: i64 = 600;
/// Longest caller state carried inside ours (WeChat allows 128 bytes in all).
pub const MAX_CLIENT_STATE: usize = 48;

/// What the user is asked to consent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `snsapi_base`: silent, the openid (and unionid when bound) only.
    Base,
    /// `snsapi_userinfo`: asks, and gives nickname and avatar too.
    UserInfo,
    /// `snsapi_login`: the website app's QR sign-in (with the profile).
    Login,
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Scope::Base => "snsapi_base",
            Scope::UserInfo => "snsapi_userinfo",
            Scope::Login => "snsapi_login",
        }
    }
}

/// Why an official-account sign-in failed, in terms the page can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OaLoginError {
    /// 40029 or 41008: the code is invalid or missing.
    #[error("the sign-in code is invalid or expired; open the sign-in page again")]
    InvalidCode,
    /// 40163: the code was used already.
    #[error("this sign-in code was used already; open the sign-in page again")]
    CodeUsed,
    /// `is_snapshotuser`: a snapshot page's virtual account, not the user.
    #[error("this is a page snapshot; open the page in full to sign in")]
    SnapshotUser,
    /// -1: WeChat is busy.
    #[error("WeChat is busy; try again shortly")]
    Busy,
    /// Timeouts, malformed answers, unknown error codes, no configuration.
    #[error("WeChat sign-in is unavailable right now; try again later")]
    Unavailable,
}

/// Who WeChat says signed in, with what the USER_INFO scope adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OaProfile {
    /// Openid within the official account.
    pub openid: String,
    /// Unionid, when the account is bound to an open platform.
    pub unionid: Option<String>,
    /// Nickname (USER_INFO only).
    pub nickname: Option<String>,
    /// Avatar URL (USER_INFO only).
    pub avatar_url: Option<String>,
}

#[derive(Deserialize)]
struct GrantResponse {
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    openid: Option<String>,
    #[serde(default)]
    unionid: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    is_snapshotuser: Option<i64>,
}

#[derive(Deserialize)]
struct UserInfoResponse {
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    nickname: Option<String>,
    #[serde(default)]
    headimgurl: Option<String>,
    #[serde(default)]
    unionid: Option<String>,
}

/// One app's web sign-in: URL building, state signing, the code exchange.
#[derive(Clone)]
pub struct OfficialAccount {
    http: reqwest::Client,
    api_base: String,
    authorize_base: String,
    /// `/connect/oauth2/authorize` (official account) or `/connect/qrconnect` (website).
    authorize_path: &'static str,
    appid: String,
    secret: Option<Secret>,
    redirect_uris: Vec<String>,
    state_key: hmac::Key,
}

impl std::fmt::Debug for OfficialAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfficialAccount")
            .field("appid", &self.appid)
            .field("redirect_uris", &self.redirect_uris)
            .finish_non_exhaustive()
    }
}

/// What tells one app's sign-in from another's.
struct AppKeys<'a> {
    authorize_path: &'static str,
    appid: &'a String,
    secret: Option<&'a Secret>,
    redirect_uris: &'a [String],
    state_label: &'static [u8],
}

/// Why a state was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateError {
    /// Not ours, or altered.
    Forged,
    /// Ours, but too old.
    Expired,
}

/// A state that checked out: its nonce (spent once) and the caller's own state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedState {
    /// The nonce, recorded when spent so the state works once.
    pub nonce: String,
    /// When it stops being good.
    pub expires_at: DateTime<Utc>,
    /// What the caller put in.
    pub client_state: String,
}

fn is_state_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

impl OfficialAccount {
    /// The client configured from `ZHIKU_OA_*` (and the WeChat API base and timeout),
    /// signing states with a key derived from `signing_secret`.
    pub fn new(config: &AuthConfig, signing_secret: &[u8]) -> Result<Self, reqwest::Error> {
        Self::build(
            config,
            signing_secret,
            AppKeys {
                authorize_path: "/connect/oauth2/authorize",
                appid: &config.oa_appid,
                secret: config.oa_secret.as_ref(),
                redirect_uris: &config.oa_redirect_uris,
                state_label: b"zhiku official-account oauth state",
            },
        )
    }

    /// The website app's QR sign-in for the console, configured from `ZHIKU_WEB_*`;
    /// its states are signed with a key of their own.
    pub fn website(config: &AuthConfig, signing_secret: &[u8]) -> Result<Self, reqwest::Error> {
        Self::build(
            config,
            signing_secret,
            AppKeys {
                authorize_path: "/connect/qrconnect",
                appid: &config.web_appid,
                secret: config.web_secret.as_ref(),
                redirect_uris: &config.web_redirect_uris,
                state_label: b"zhiku website oauth state",
            },
        )
    }

    fn build(
        config: &AuthConfig,
        signing_secret: &[u8],
        app: AppKeys<'_>,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.wechat_timeout_ms))
            .build()?;
        // A key of its own: a state can never pass for anything else signed with the secret.
        let derived = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, signing_secret),
            app.state_label,
        );
        Ok(OfficialAccount {
            http,
            api_base: config.wechat_api_base.trim_end_matches('/').to_owned(),
            authorize_base: config.oa_authorize_base.trim_end_matches('/').to_owned(),
            authorize_path: app.authorize_path,
            appid: app.appid.clone(),
            secret: app.secret.cloned(),
            redirect_uris: app
                .redirect_uris
                .iter()
                .map(|uri| uri.trim().to_owned())
                .filter(|uri| !uri.is_empty())
                .collect(),
            state_key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        })
    }

    /// Whether sign-in may return to `redirect_uri`: an http(s) URL starting with an
    /// allow-listed prefix, with no fragment and no user info.
    pub fn allows(&self, redirect_uri: &str) -> bool {
        let Ok(url) = url::Url::parse(redirect_uri) else {
            return false;
        };
        matches!(url.scheme(), "https" | "http")
            && url.fragment().is_none()
            && url.username().is_empty()
            && url.password().is_none()
            && self
                .redirect_uris
                .iter()
                .any(|prefix| url.as_str().starts_with(prefix.as_str()))
    }

    fn mac(&self, message: &str) -> String {
        let tag = hmac::sign(&self.state_key, message.as_bytes());
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    }

    /// A signed state carrying `client_state` (up to [`MAX_CLIENT_STATE`] of
    /// `A-Z a-z 0-9 - _`), good until `now` plus [`STATE_TTL_SECS`]:
    /// `<client>.<expiry hex>.<nonce>.<HMAC-SHA256, base64url>`, at most 118 bytes.
    pub fn sign_state(&self, client_state: &str, now: DateTime<Utc>) -> Option<String> {
        if client_state.len() > MAX_CLIENT_STATE || !client_state.chars().all(is_state_char) {
            return None;
        }
        let expires = now.timestamp() + STATE_TTL_SECS;
        let nonce = hex::encode(rand::random::<[u8; 8]>());
        let body = format!("{client_state}.{expires:x}.{nonce}");
        let mac = self.mac(&body);
        Some(format!("{body}.{mac}"))
    }

    /// Checks a state from [`sign_state`](Self::sign_state).
    pub fn verify_state(
        &self,
        state: &str,
        now: DateTime<Utc>,
    ) -> Result<VerifiedState, StateError> {
        let (body, mac) = state.rsplit_once('.').ok_or(StateError::Forged)?;
        let mac = URL_SAFE_NO_PAD
            .decode(mac)
            .map_err(|_| StateError::Forged)?;
        // ring compares in constant time: a guess learns nothing from how long it took.
        hmac::verify(&self.state_key, body.as_bytes(), &mac).map_err(|_| StateError::Forged)?;
        let mut parts = body.split('.');
        let (Some(client_state), Some(expires), Some(nonce), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(StateError::Forged);
        };
        let expires = i64::from_str_radix(expires, 16).map_err(|_| StateError::Forged)?;
        let expires_at = DateTime::from_timestamp(expires, 0).ok_or(StateError::Forged)?;
        if expires_at <= now {
            return Err(StateError::Expired);
        }
        Ok(VerifiedState {
            nonce: nonce.to_owned(),
            expires_at,
            client_state: client_state.to_owned(),
        })
    }

    /// The authorize URL (`#wechat_redirect` included) for an allowed redirect URI.
    pub fn authorize_url(&self, redirect_uri: &str, scope: Scope, state: &str) -> String {
        // WeChat wants the parameters in this order.
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("appid", &self.appid)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", scope.name())
            .append_pair("state", state)
            .finish();
        format!(
            "{}{}?{query}#wechat_redirect",
            self.authorize_base, self.authorize_path
        )
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, OaLoginError> {
        let response = self
            .http
            .get(format!("{}{path}", self.api_base))
            .query(query)
            .send()
            .await
            .map_err(|error| {
                // Without the URL: it carries the secret, the code or the token.
                tracing::warn!(error = %error.without_url(), path, "official-account call failed");
                OaLoginError::Unavailable
            })?;
        let body = response.text().await.map_err(|error| {
            tracing::warn!(error = %error.without_url(), path, "official-account body unreadable");
            OaLoginError::Unavailable
        })?;
        serde_json::from_str(&body).map_err(|_| {
            tracing::warn!(
                path,
                "official-account API answered something other than JSON"
            );
            OaLoginError::Unavailable
        })
    }

    /// Trades a code for the user's identity (and, with the USER_INFO scope, profile).
    pub async fn exchange(&self, code: &str) -> Result<OaProfile, OaLoginError> {
        let Some(secret) = &self.secret else {
            tracing::error!(
                appid = %self.appid,
                "the app secret (ZHIKU_OA_SECRET or ZHIKU_WEB_SECRET) is not set; web sign-in cannot work"
            );
            return Err(OaLoginError::Unavailable);
        };
        let grant: GrantResponse = self
            .get_json(
                "/sns/oauth2/access_token",
                &[
                    ("appid", self.appid.as_str()),
                    ("secret", secret.expose()),
                    ("code", code),
                    ("grant_type", "authorization_code"),
                ],
            )
            .await?;
        errcode(grant.errcode, "oauth2/access_token")?;
        if grant.is_snapshotuser == Some(1) {
            return Err(OaLoginError::SnapshotUser);
        }
        let (Some(openid), Some(access_token)) = (
            grant.openid.filter(|o| !o.is_empty()),
            grant.access_token.filter(|t| !t.is_empty()),
        ) else {
            tracing::warn!("oauth2/access_token succeeded without an openid or token");
            return Err(OaLoginError::Unavailable);
        };
        let mut profile = OaProfile {
            openid,
            unionid: grant.unionid.filter(|u| !u.is_empty()),
            nickname: None,
            avatar_url: None,
        };
        let scopes = grant.scope.unwrap_or_default();
        let with_profile = [Scope::UserInfo.name(), Scope::Login.name()];
        if scopes.split(',').any(|s| with_profile.contains(&s.trim())) {
            let info: UserInfoResponse = self
                .get_json(
                    "/sns/userinfo",
                    &[
                        ("access_token", access_token.as_str()),
                        ("openid", profile.openid.as_str()),
                        ("lang", "zh_CN"),
                    ],
                )
                .await?;
            errcode(info.errcode, "sns/userinfo")?;
            profile.nickname = info.nickname.filter(|n| !n.is_empty());
            profile.avatar_url = info.headimgurl.filter(|a| !a.is_empty());
            profile.unionid = profile.unionid.or(info.unionid.filter(|u| !u.is_empty()));
        }
        Ok(profile)
    }
}

fn errcode(code: Option<i64>, path: &'static str) -> Result<(), OaLoginError> {
    match code {
        None | Some(0) => Ok(()),
        Some(40029 | 41008) => Err(OaLoginError::InvalidCode),
        Some(40163) => Err(OaLoginError::CodeUsed),
        Some(-1) => Err(OaLoginError::Busy),
        Some(other) => {
            tracing::warn!(errcode = other, path, "official-account call failed");
            Err(OaLoginError::Unavailable)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> OfficialAccount {
        let config = crate::config::AuthConfig {
            oa_appid: "wx-oa".into(),
            oa_redirect_uris: vec!["https://h5.zhiku.example/".into()],
            ..Default::default()
        };
        OfficialAccount::new(&config, b"a-signing-secret-of-32-bytes-or-more!").expect("client")
    }

    #[test]
    fn states_verify_once_signed_and_refuse_edits_and_age() {
        let oa = account();
        let now = Utc::now();
        let state = oa.sign_state("course-42", now).expect("signed");
        assert!(state.len() <= 128, "WeChat's limit");
        let verified = oa.verify_state(&state, now).expect("good");
        assert_eq!(verified.client_state, "course-42");
        let edited = state.replacen("course-42", "course-43", 1);
        assert_eq!(oa.verify_state(&edited, now), Err(StateError::Forged));
        assert_eq!(oa.verify_state("nonsense", now), Err(StateError::Forged));
        let later = now + chrono::Duration::seconds(STATE_TTL_SECS + 1);
        assert_eq!(oa.verify_state(&state, later), Err(StateError::Expired));
        assert!(oa.sign_state("has.dot", now).is_none());
        assert!(
            oa.sign_state(&"x".repeat(MAX_CLIENT_STATE + 1), now)
                .is_none()
        );
    }

    #[test]
    fn only_allow_listed_redirects_pass() {
        let oa = account();
        assert!(oa.allows("https://h5.zhiku.example/course/1?x=1"));
        for bad in [
            "https://h5.zhiku.example.evil.com/",
            "https://evil.com/?https://h5.zhiku.example/",
            "https://user@h5.zhiku.example/",
            "https://h5.zhiku.example/#frag",
            "javascript:alert(1)",
            "not a url",
        ] {
            assert!(!oa.allows(bad), "{bad}");
        }
    }

    #[test]
    fn the_authorize_url_is_the_documented_shape() {
        let oa = account();
        let url = oa.authorize_url("https://h5.zhiku.example/cb", Scope::UserInfo, "s.1.2.3");
        assert_eq!(
            url,
            "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx-oa&redirect_uri=https%3A%2F%2Fh5.zhiku.example%2Fcb&response_type=code&scope=snsapi_userinfo&state=s.1.2.3#wechat_redirect"
        );
    }
}
