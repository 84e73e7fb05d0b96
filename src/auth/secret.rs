//! Where the JWT secret comes from: `ZHIKU_JWT_SECRET`, or, in development only, a
//! random secret generated on first start and kept in the database beside the data it
//! protects (so restarts keep tokens valid and no secret is ever built in).

use chrono::Utc;
use entity::server_setting;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

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
    if let Some(stored) = server_setting::Entity::find_by_id(SETTING.to_owned())
        .one(db)
        .await?
    {
        return Ok(Secret::new(stored.value));
    }
    tracing::warn!(
        "ZHIKU_JWT_SECRET is not set: generated a development secret and stored it in the \
         database; set ZHIKU_JWT_SECRET in production"
    );
    // Two servers starting at once may both generate one: the first insert wins and
    // both read it back.
    server_setting::Entity::insert(server_setting::ActiveModel {
        name: Set(SETTING.to_owned()),
        value: Set(tokens::new_secret().expose().to_owned()),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(server_setting::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let stored = server_setting::Entity::find_by_id(SETTING.to_owned())
        .one(db)
        .await?
        .ok_or(AppError::NotFound("jwt secret"))?;
    Ok(Secret::new(stored.value))
}
