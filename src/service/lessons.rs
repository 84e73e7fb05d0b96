//! Lessons: the ordered parts of a course, read with their course's visibility and
//! changed by the course's creator (positions stay 1..n, renumbered in one transaction).

use std::collections::HashMap;

use chrono::Utc;
use entity::enums::{CourseStatus, LessonKind};
use entity::{course, lesson};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::auth::Actor;
use crate::error::AppResult;
use crate::service::courses::{course_for_change, get, invalid_state};
use crate::service::effects::{Effects, Event};
use crate::service::not_found;
use crate::service::validation::{Checks, FieldError, UserErrorCode};

/// Longest article body, in characters.
const MAX_ARTICLE: usize = 100_000;
/// Longest lesson (24 hours), in seconds.
const MAX_LESSON_SECONDS: i64 = 86_400;

/// The lessons of several courses in one query, each list in course order.
pub async fn lessons_of(
    db: &impl ConnectionTrait,
    course_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<entity::lesson::Model>>> {
    let rows = lesson::Entity::find()
        .filter(lesson::Column::CourseId.is_in(course_ids.iter().copied()))
        .order_by_asc(lesson::Column::CourseId)
        .order_by_asc(lesson::Column::Position)
        .all(db)
        .await?;
    let mut by_course: HashMap<i64, Vec<lesson::Model>> = HashMap::new();
    for row in rows {
        by_course.entry(row.course_id).or_default().push(row);
    }
    Ok(by_course)
}

/// One lesson, if its course is visible to the actor.
pub async fn lesson(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> AppResult<Option<(entity::lesson::Model, course::Model)>> {
    let Some(row) = entity::lesson::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(get(db, actor, row.course_id)
        .await?
        .map(|course| (row, course)))
}

/// A new lesson (fields as in `AddLessonInput`).
#[derive(Debug, Clone)]
pub struct NewLesson {
    /// Title, 1..=128 characters.
    pub title: String,
    /// Medium.
    pub kind: LessonKind,
    /// Media URL (video, audio) or article body.
    pub content: Option<String>,
    /// Length in seconds, 0..=86,400.
    pub duration_seconds: i32,
    /// Open to everyone.
    pub free_preview: bool,
}

/// Changes to a lesson; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct LessonChanges {
    /// New title.
    pub title: Option<String>,
    /// New medium.
    pub kind: Option<LessonKind>,
    /// New content.
    pub content: Option<String>,
    /// New length.
    pub duration_seconds: Option<i32>,
    /// New preview flag.
    pub free_preview: Option<bool>,
}

/// Content must match the medium: a URL for video and audio, text for articles.
fn check_content(checks: &mut Checks, kind: LessonKind, content: Option<&str>) -> Option<String> {
    match kind {
        LessonKind::Video | LessonKind::Audio => checks.optional_url("content", content),
        LessonKind::Article => checks.optional_text("content", content, MAX_ARTICLE),
    }
}

/// Appends a lesson to a course; returns it with its course.
pub async fn add_lesson(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    course_id: i64,
    input: NewLesson,
) -> AppResult<(lesson::Model, course::Model)> {
    let txn = crate::db::begin_write(db).await?;
    let row = course_for_change(&txn, actor, course_id).await?;
    let mut checks = Checks::new();
    let title = checks.text("title", &input.title, 128);
    let content = check_content(&mut checks, input.kind, input.content.as_deref());
    checks.range(
        "durationSeconds",
        input.duration_seconds.into(),
        0,
        MAX_LESSON_SECONDS,
    );
    checks.finish()?;
    let now = Utc::now();
    // The course row is locked, so the next position cannot be taken concurrently.
    let last: Option<i32> = lesson::Entity::find()
        .select_only()
        .column(lesson::Column::Position)
        .filter(lesson::Column::CourseId.eq(row.id))
        .order_by_desc(lesson::Column::Position)
        .into_tuple()
        .one(&txn)
        .await?;
    let created = lesson::ActiveModel {
        course_id: Set(row.id),
        position: Set(last.unwrap_or(0) + 1),
        title: Set(title),
        kind: Set(input.kind),
        duration_seconds: Set(input.duration_seconds),
        free_preview: Set(input.free_preview),
        content: Set(content),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    crate::service::messages::compose::new_lesson(&txn, &row, &created, now).await?;
    txn.commit().await?;
    course_changed(db, effects, row.id).await;
    Ok((created, row))
}

/// Loads a lesson and its course for a change (course row locked).
async fn lesson_for_change(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    lesson_id: i64,
) -> AppResult<(lesson::Model, course::Model)> {
    actor.require_user()?;
    let row = lesson::Entity::find_by_id(lesson_id)
        .one(txn)
        .await?
        .ok_or_else(|| not_found("lesson"))?;
    let course = course_for_change(txn, actor, row.course_id).await?;
    Ok((row, course))
}

/// Updates a lesson; returns it with its course.
pub async fn update_lesson(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    lesson_id: i64,
    changes: LessonChanges,
) -> AppResult<(lesson::Model, course::Model)> {
    let txn = crate::db::begin_write(db).await?;
    let (row, course) = lesson_for_change(&txn, actor, lesson_id).await?;
    let mut checks = Checks::new();
    let kind = changes.kind.unwrap_or(row.kind);
    let content = match (&changes.content, changes.kind) {
        (Some(content), _) => Some(check_content(&mut checks, kind, Some(content))),
        // A new medium must still fit the content it keeps.
        (None, Some(_)) => Some(check_content(&mut checks, kind, row.content.as_deref())),
        (None, None) => None,
    };
    let mut model = row.into_active_model();
    if let Some(title) = changes.title {
        model.title = Set(checks.text("title", &title, 128));
    }
    if let Some(seconds) = changes.duration_seconds {
        checks.range("durationSeconds", seconds.into(), 0, MAX_LESSON_SECONDS);
        model.duration_seconds = Set(seconds);
    }
    checks.finish()?;
    model.kind = Set(kind);
    if let Some(content) = content {
        model.content = Set(content);
    }
    if let Some(free_preview) = changes.free_preview {
        model.free_preview = Set(free_preview);
    }
    let updated = model.update(&txn).await?;
    txn.commit().await?;
    course_changed(db, effects, course.id).await;
    Ok((updated, course))
}

/// Offset that moves positions out of the way while a course's lessons are renumbered
/// (the (course, position) unique index is checked row by row).
const RENUMBER_OFFSET: i32 = 1_000_000;

/// Puts a course's lessons in the given order, which must name each lesson exactly once.
pub async fn reorder_lessons(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    course_id: i64,
    order: &[i64],
) -> AppResult<Vec<lesson::Model>> {
    let txn = crate::db::begin_write(db).await?;
    let row = course_for_change(&txn, actor, course_id).await?;
    let current: Vec<i64> = lesson::Entity::find()
        .select_only()
        .column(lesson::Column::Id)
        .filter(lesson::Column::CourseId.eq(row.id))
        .into_tuple()
        .all(&txn)
        .await?;
    let mut wanted = order.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut have = current.clone();
    have.sort_unstable();
    if wanted.len() != order.len() || wanted != have {
        return Err(FieldError::new(
            "lessons",
            UserErrorCode::Invalid,
            "list every lesson of the course exactly once",
        )
        .into());
    }
    lesson::Entity::update_many()
        .col_expr(
            lesson::Column::Position,
            Expr::col(lesson::Column::Position).add(RENUMBER_OFFSET),
        )
        .filter(lesson::Column::CourseId.eq(row.id))
        .exec(&txn)
        .await?;
    for (index, id) in order.iter().enumerate() {
        lesson::Entity::update_many()
            .col_expr(lesson::Column::Position, Expr::value(index as i32 + 1))
            .filter(lesson::Column::Id.eq(*id))
            .exec(&txn)
            .await?;
    }
    let lessons = lesson::Entity::find()
        .filter(lesson::Column::CourseId.eq(row.id))
        .order_by_asc(lesson::Column::Position)
        .all(&txn)
        .await?;
    txn.commit().await?;
    course_changed(db, effects, row.id).await;
    Ok(lessons)
}

/// Deletes a lesson and closes the gap; a published course keeps at least one lesson.
pub async fn delete_lesson(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    lesson_id: i64,
) -> AppResult<course::Model> {
    let txn = crate::db::begin_write(db).await?;
    let (row, course) = lesson_for_change(&txn, actor, lesson_id).await?;
    let remaining = lesson::Entity::find()
        .filter(lesson::Column::CourseId.eq(course.id))
        .count(&txn)
        .await?;
    if course.status == CourseStatus::Published && remaining <= 1 {
        return Err(invalid_state(
            "lesson",
            "a published course keeps at least one lesson",
        ));
    }
    lesson::Entity::delete_by_id(row.id).exec(&txn).await?;
    // Close the gap in two steps so the unique index never sees two lessons in one place.
    lesson::Entity::update_many()
        .col_expr(
            lesson::Column::Position,
            Expr::col(lesson::Column::Position).add(RENUMBER_OFFSET - 1),
        )
        .filter(lesson::Column::CourseId.eq(course.id))
        .filter(lesson::Column::Position.gt(row.position))
        .exec(&txn)
        .await?;
    lesson::Entity::update_many()
        .col_expr(
            lesson::Column::Position,
            Expr::col(lesson::Column::Position).sub(RENUMBER_OFFSET),
        )
        .filter(lesson::Column::CourseId.eq(course.id))
        .filter(lesson::Column::Position.gt(RENUMBER_OFFSET))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    course_changed(db, effects, course.id).await;
    Ok(course)
}

/// Lessons are part of their course: a change of them is told as a change of it.
async fn course_changed(db: &DatabaseConnection, effects: &Effects, course_id: i64) {
    effects
        .publish(db, Event::CourseChanged { course_id })
        .await;
}
