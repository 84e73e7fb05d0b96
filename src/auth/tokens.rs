//! Access tokens (JWT, HS256) and refresh tokens (random, stored hashed).
//!
//! Validation is built for the one configured algorithm, never from the token's
//! header, and requires `exp`, `iss`, `aud` and `sub` to be present: jsonwebtoken
//! accepts a token without `iss`/`aud` unless they are listed as required.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Secret;
use crate::error::{AppError, AppResult};
use entity::enums::Role;

/// Issuer of every access token.
pub const ISSUER: &str = "zhiku";
/// Seconds of clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 30;
/// Shortest accepted HS256 secret.
pub const MIN_SECRET_BYTES: usize = 32;

/// Which client a token was issued to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// The WeChat mini-program (learners, creators on the go).
    MiniProgram,
    /// The admin and creator web console.
    Console,
    /// H5 pages opened inside WeChat from the official account.
    H5,
}

impl Audience {
    /// The `aud` claim value.
    pub fn claim(self) -> &'static str {
        match self {
            Audience::MiniProgram => "zhiku-miniprogram",
            Audience::Console => "zhiku-console",
            Audience::H5 => "zhiku-h5",
        }
    }

    /// The short name used on the command line and in the refresh-token table.
    pub fn name(self) -> &'static str {
        match self {
            Audience::MiniProgram => "miniprogram",
            Audience::Console => "console",
            Audience::H5 => "h5",
        }
    }

    /// Reads a short name (`miniprogram`, `console`, `h5`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "miniprogram" => Some(Audience::MiniProgram),
            "console" => Some(Audience::Console),
            "h5" => Some(Audience::H5),
            _ => None,
        }
    }

    fn from_claim(claim: &str) -> Option<Self> {
        [Audience::MiniProgram, Audience::Console, Audience::H5]
            .into_iter()
            .find(|a| a.claim() == claim)
    }
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Role when issued (the database's current role is what counts).
    pub role: String,
    /// Always [`ISSUER`].
    pub iss: String,
    /// [`Audience::claim`].
    pub aud: String,
    /// Issued at (seconds).
    pub iat: i64,
    /// Issued at in milliseconds, so a token issued in the same second as a revocation
    /// (`users.tokens_valid_after`) is told apart; absent: `iat` in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat_ms: Option<i64>,
    /// Not before (seconds).
    pub nbf: i64,
    /// Expires at (seconds).
    pub exp: i64,
}

/// What a valid access token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The user it was issued to.
    pub user_id: i64,
    /// The client it was issued to.
    pub audience: Audience,
    /// When it was issued, in Unix milliseconds.
    pub issued_at_ms: i64,
    /// Its `exp` claim, in Unix seconds (a WebSocket signed in with it closes then).
    pub expires_at: i64,
}

/// Access tokens recently verified, kept so a client's every request does not pay for
/// the HMAC and two JSON parses again.
pub const VERIFIED_TOKENS_KEPT: usize = 4096;

/// Recently verified tokens with the Unix second after which each stops being valid
/// (`exp` plus the leeway). Only tokens that passed every check are kept, and a token's
/// claims cannot change without changing its text, so a hit means what a fresh check
/// would say, until that second.
type VerifiedTokens = std::sync::Mutex<lru::LruCache<String, (VerifiedToken, u64)>>;

/// Signing and verification keys for access tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
    verified: std::sync::Arc<VerifiedTokens>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys").finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// Keys from a secret of at least [`MIN_SECRET_BYTES`].
    pub fn new(secret: &Secret, access_ttl: Duration) -> AppResult<Self> {
        let bytes = secret.expose().as_bytes();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(AppError::BadUserInput(format!(
                "ZHIKU_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes"
            )));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[
            Audience::MiniProgram.claim(),
            Audience::Console.claim(),
            Audience::H5.claim(),
        ]);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        Ok(TokenKeys {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            access_ttl,
            verified: std::sync::Arc::new(std::sync::Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(VERIFIED_TOKENS_KEPT)
                    .unwrap_or(std::num::NonZeroUsize::MIN),
            ))),
        })
    }

    /// Signs an access token for a user.
    pub fn issue(
        &self,
        user_id: i64,
        role: Role,
        audience: Audience,
        now: DateTime<Utc>,
    ) -> AppResult<String> {
        let claims = Claims {
            sub: user_id.to_string(),
            role: role_name(role).to_owned(),
            iss: ISSUER.to_owned(),
            aud: audience.claim().to_owned(),
            iat: now.timestamp(),
            iat_ms: Some(now.timestamp_millis()),
            nbf: now.timestamp(),
            exp: (now + self.access_ttl).timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)
    }

    /// Checks signature, algorithm, `exp`, `nbf`, `iss` and `aud`; any failure is
    /// [`AppError::Unauthenticated`].
    pub fn verify(&self, token: &str) -> AppResult<VerifiedToken> {
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(verified) = self.recently_verified(token, now) {
            return Ok(verified);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| AppError::Unauthenticated)?;
        let user_id = data
            .claims
            .sub
            .parse::<i64>()
            .map_err(|_| AppError::Unauthenticated)?;
        let audience = Audience::from_claim(&data.claims.aud).ok_or(AppError::Unauthenticated)?;
        let verified = VerifiedToken {
            user_id,
            audience,
            issued_at_ms: data
                .claims
                .iat_ms
                .unwrap_or(data.claims.iat.saturating_mul(1000)),
            expires_at: data.claims.exp,
        };
        let valid_until = u64::try_from(data.claims.exp).unwrap_or(0) + LEEWAY_SECS;
        self.lock_verified()
            .put(token.to_owned(), (verified, valid_until));
        Ok(verified)
    }

    fn recently_verified(&self, token: &str, now: u64) -> Option<VerifiedToken> {
        let mut verified = self.lock_verified();
        match verified.get(token) {
            Some(&(token, valid_until)) if now <= valid_until => Some(token),
            Some(_) => {
                verified.pop(token);
                None
            }
            None => None,
        }
    }

    fn lock_verified(
        &self,
    ) -> std::sync::MutexGuard<'_, lru::LruCache<String, (VerifiedToken, u64)>> {
        // Entries are inserted whole, so a panic elsewhere cannot leave one half-written.
        self.verified.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long an access token lives.
    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }
}

/// The claim value of a role.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Learner => "LEARNER",
        Role::Creator => "CREATOR",
        Role::Admin => "ADMIN",
    }
}

/// A new random refresh token (256 bits, URL-safe).
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a refresh token: hex SHA-256.
pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random secret for development (48 random bytes, URL-safe).
pub fn new_secret() -> Secret {
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    Secret::new(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(&Secret::new("k".repeat(32)), Duration::hours(2)).unwrap()
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(TokenKeys::new(&Secret::new("short"), Duration::hours(2)).is_err());
    }

    #[test]
    fn issued_tokens_verify() {
        let keys = keys();
        let now = Utc::now();
        let token = keys
            .issue(7, Role::Learner, Audience::Console, now)
            .unwrap();
        assert_eq!(
            keys.verify(&token).unwrap(),
            VerifiedToken {
                user_id: 7,
                audience: Audience::Console,
                issued_at_ms: now.timestamp_millis(),
                expires_at: (now + keys.access_ttl()).timestamp(),
            }
        );
    }

    #[test]
    fn a_remembered_token_is_trusted_only_as_written_and_until_it_expires() {
        let keys = keys();
        let token = keys
            .issue(7, Role::Learner, Audience::MiniProgram, Utc::now())
            .unwrap();
        let first = keys.verify(&token).unwrap();
        assert_eq!(keys.verify(&token).unwrap(), first);
        // Another text is checked afresh, however close to a remembered one.
        let (head, signature) = token.rsplit_once('.').unwrap();
        let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
        let forged = format!("{head}.{flipped}{}", &signature[1..]);
        assert!(keys.verify(&forged).is_err());
        // Past `exp` plus the leeway the remembered verdict no longer counts.
        let exp = u64::try_from((Utc::now() + Duration::hours(2)).timestamp()).unwrap();
        assert!(
            keys.recently_verified(&token, exp + LEEWAY_SECS + 1)
                .is_none()
        );
        assert!(keys.lock_verified().is_empty());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = new_refresh_token();
        assert_ne!(a, new_refresh_token());
        assert_eq!(hash_refresh_token(&a).len(), 64);
        assert_ne!(hash_refresh_token(&a), a);
    }
}
