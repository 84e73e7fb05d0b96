//! Messages that bring learners back: WeChat mini-program subscribe messages
//! (`/cgi-bin/message/subscribe/send`) and official-account template messages
//! (`/cgi-bin/message/template/send`), sent with each app's shared access token
//! ([`access_token`]) and values fitted to WeChat's field rules ([`fields`]).
//!
//! [`Messenger::send`] makes one attempt and says what it means for the message:
//! sent, refused for good (the user has not subscribed, 43101; a wrong template or
//! openid), or worth retrying later (WeChat busy, unreachable, no token). An invalid or
//! expired token (40001, 42001) is replaced once and the send repeated within the
//! attempt.

pub mod access_token;
pub mod fields;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::config::Secret;
use access_token::{AccessTokens, TokenError};

/// Which app a message goes out through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A mini-program subscribe message (needs the user's consent per template).
    MiniProgram,
    /// An official-account template message (to followers of the account).
    OfficialAccount,
}

/// One message to one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The app.
    pub channel: Channel,
    /// The user's openid in that app.
    pub openid: String,
    /// The template configured for this kind of message.
    pub template_id: String,
    /// Where a tap leads: a mini-program page path (`pages/order/detail?id=1`).
    pub page: Option<String>,
    /// Template values by key (`thing1`, `amount2`...), fitted before sending.
    pub values: BTreeMap<String, String>,
}

/// What one attempt means for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// WeChat took it.
    Sent,
    /// Refused for good: retrying would be refused again.
    Refused {
        /// WeChat's error code (43101: the user has not subscribed).
        errcode: i64,
        /// What it means.
        reason: String,
    },
    /// Not sent now; try again later.
    Retry {
        /// Why.
        reason: String,
    },
}

/// Error codes that no retry changes: not subscribed, a wrong openid or template,
/// values WeChat refuses, a user who blocked the account.
const FINAL_ERRCODES: [i64; 7] = [43101, 40003, 40037, 47003, 43004, 43019, 40036];

#[derive(Deserialize)]
struct SendResponse {
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
}

/// The credentials of one app.
#[derive(Debug, Clone)]
pub struct AppCredentials {
    /// Its appid.
    pub appid: String,
    /// Its secret.
    pub secret: Option<Secret>,
}

/// Sends messages through both apps.
#[derive(Debug)]
pub struct Messenger {
    http: reqwest::Client,
    api_base: String,
    mini_program: AccessTokens,
    official_account: AccessTokens,
    /// The mini-program's appid, for template messages that open it.
    mini_program_appid: String,
}

impl Messenger {
    /// A messenger over the WeChat API at `api_base` with each app's credentials.
    pub fn new(
        api_base: &str,
        timeout: Duration,
        mini_program: AppCredentials,
        official_account: AppCredentials,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(Messenger {
            api_base: api_base.trim_end_matches('/').to_owned(),
            mini_program: AccessTokens::new(
                http.clone(),
                api_base,
                &mini_program.appid,
                mini_program.secret,
            ),
            official_account: AccessTokens::new(
                http.clone(),
                api_base,
                &official_account.appid,
                official_account.secret,
            ),
            mini_program_appid: mini_program.appid,
            http,
        })
    }

    fn tokens(&self, channel: Channel) -> &AccessTokens {
        match channel {
            Channel::MiniProgram => &self.mini_program,
            Channel::OfficialAccount => &self.official_account,
        }
    }

    fn body(&self, message: &OutgoingMessage) -> serde_json::Value {
        let data: serde_json::Map<String, serde_json::Value> = message
            .values
            .iter()
            .map(|(key, value)| {
                (
                    key.clone(),
                    serde_json::json!({ "value": fields::fit(key, value) }),
                )
            })
            .collect();
        match message.channel {
            Channel::MiniProgram => serde_json::json!({
                "touser": message.openid,
                "template_id": message.template_id,
                "page": message.page,
                "data": data,
                "miniprogram_state": "formal",
                "lang": "zh_CN",
            }),
            Channel::OfficialAccount => {
                let mut body = serde_json::json!({
                    "touser": message.openid,
                    "template_id": message.template_id,
                    "data": data,
                });
                if let Some(page) = &message.page {
                    body["miniprogram"] = serde_json::json!({
                        "appid": self.mini_program_appid,
                        "pagepath": page,
                    });
                }
                body
            }
        }
    }

    async fn post(
        &self,
        channel: Channel,
        token: &Secret,
        body: &serde_json::Value,
    ) -> Result<SendResponse, String> {
        let path = match channel {
            Channel::MiniProgram => "/cgi-bin/message/subscribe/send",
            Channel::OfficialAccount => "/cgi-bin/message/template/send",
        };
        let response = self
            .http
            .post(format!("{}{path}", self.api_base))
            .query(&[("access_token", token.expose())])
            .json(body)
            .send()
            .await
            // Without the URL: it carries the access token.
            .map_err(|error| error.without_url().to_string())?;
        let text = response
            .text()
            .await
            .map_err(|error| error.without_url().to_string())?;
        serde_json::from_str(&text).map_err(|_| "an answer that is not JSON".to_owned())
    }

    /// One attempt at sending `message` (a refused token replaced once within it).
    pub async fn send(&self, message: &OutgoingMessage) -> SendOutcome {
        let tokens = self.tokens(message.channel);
        let body = self.body(message);
        let mut token = match tokens.get().await {
            Ok(token) => token,
            Err(error) => return token_outcome(error),
        };
        for attempt in 0..2 {
            let answer = match self.post(message.channel, &token, &body).await {
                Ok(answer) => answer,
                Err(reason) => return SendOutcome::Retry { reason },
            };
            match answer.errcode {
                None | Some(0) => return SendOutcome::Sent,
                Some(40001 | 42001) if attempt == 0 => {
                    token = match tokens.refresh_after(&token).await {
                        Ok(token) => token,
                        Err(error) => return token_outcome(error),
                    };
                }
                Some(errcode) if FINAL_ERRCODES.contains(&errcode) => {
                    return SendOutcome::Refused {
                        errcode,
                        reason: answer.errmsg.unwrap_or_default(),
                    };
                }
                Some(errcode) => {
                    return SendOutcome::Retry {
                        reason: format!("errcode {errcode}: {}", answer.errmsg.unwrap_or_default()),
                    };
                }
            }
        }
        SendOutcome::Retry {
            reason: "the access token was refused twice".into(),
        }
    }
}

fn token_outcome(error: TokenError) -> SendOutcome {
    SendOutcome::Retry {
        reason: error.to_string(),
    }
}

#[cfg(test)]
mod tests;
