//! Admin moderation of courses: a suspended course is archived and cannot be published
//! again until an admin restores it. Buyers keep their access throughout.

use chrono::Utc;
use entity::course;
use entity::enums::CourseStatus;
use sea_orm::{
    ActiveValue::Set, DatabaseConnection, DatabaseTransaction, EntityTrait, IntoActiveModel,
    QuerySelect,
};

use crate::auth::Actor;
use crate::error::AppResult;
use crate::service::courses::save_and_announce;
use crate::service::effects::Effects;
use crate::service::not_found;

/// Admin moderation: archives the course and marks it suspended, so its creator cannot
/// publish it again. Buyers keep their access.
pub async fn suspend(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    course_id: i64,
) -> AppResult<course::Model> {
    actor.require_console_admin()?;
    let txn = crate::db::begin_write(db).await?;
    let row = locked(&txn, course_id).await?;
    let now = Utc::now();
    let suspended_at = row.suspended_at.unwrap_or(now);
    let mut model = row.into_active_model();
    model.status = Set(CourseStatus::Archived);
    model.suspended_at = Set(Some(suspended_at));
    model.updated_at = Set(now);
    save_and_announce(db, effects, txn, model).await
}

/// Admin moderation: lifts a suspension. The course stays archived; its creator may
/// publish it again. Restoring a course that is not suspended changes nothing.
pub async fn restore(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    course_id: i64,
) -> AppResult<course::Model> {
    actor.require_console_admin()?;
    let txn = crate::db::begin_write(db).await?;
    let row = locked(&txn, course_id).await?;
    if row.suspended_at.is_none() {
        txn.commit().await?;
        return Ok(row);
    }
    let mut model = row.into_active_model();
    model.suspended_at = Set(None);
    model.updated_at = Set(Utc::now());
    save_and_announce(db, effects, txn, model).await
}

/// The course, locked for the moderation's transaction; NOT_FOUND on `course`.
async fn locked(txn: &DatabaseTransaction, course_id: i64) -> AppResult<course::Model> {
    course::Entity::find_by_id(course_id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| not_found("course"))
}
