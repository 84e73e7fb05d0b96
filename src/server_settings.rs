//! Server settings: values generated once and kept in the database (development JWT
//! secret, simulated payment keys). Concurrent first starts agree on one value.

use chrono::Utc;
use entity::server_setting;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::error::{AppError, AppResult};

/// The stored value of `name`, or `make()`'s, stored first (the first writer wins).
pub async fn get_or_create(
    db: &impl ConnectionTrait,
    name: &str,
    make: impl FnOnce() -> Result<String, String>,
) -> AppResult<String> {
    if let Some(stored) = server_setting::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
    {
        return Ok(stored.value);
    }
    let value = make().map_err(|e| AppError::internal(std::io::Error::other(e)))?;
    server_setting::Entity::insert(server_setting::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(value),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(server_setting::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let stored = server_setting::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .ok_or(AppError::NotFound("server setting"))?;
    Ok(stored.value)
}
