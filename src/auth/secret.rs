//! Where the JWT secret comes from: `ZHIKU_JWT_SECRET`, or, in development only, a
//! random secret generated on first start and kept in the database beside the data it
//! protects (so restarts keep tokens valid and no secret is ever built in).

use sea_orm::ConnectionTrait;

use crate::auth::tokens::{self, MIN_SECRET_BYTES};
use crate::config::{Environment, Secret};
use crate::error::{AppError, AppResult};

const SETTING: &str = "jwt_secret";

/// The secret to sign access tokens with.
pub async fn jwt_secret(
    db: &impl ConnectionTrait,
    configured: Option<&Secret>,
    environment: Environment,
) -> AppResult<Secret> {
    if let Some(secret) = configured {
        if secret.expose().len() < MIN_SECRET_BYTES {
            return Err(AppError::BadUserInput(format!(
                "ZHIKU_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes"
            )));
        }
        return Ok(secret.clone());
    }
    if environment == Environment::Production {
        return Err(AppError::BadUserInput(
            "ZHIKU_JWT_SECRET must be set in production".into(),
        ));
    }
    let stored = crate::server_settings::get_or_create(db, SETTING, || {
        tracing::warn!(
            "ZHIKU_JWT_SECRET is not set: generated a development secret and stored it in \
             the database; set ZHIKU_JWT_SECRET in production"
        );
        Ok(tokens::new_secret().expose().to_owned())
    })
    .await?;
    Ok(Secret::new(stored))
}
