//! Table `lessons`: the ordered parts of a course; (course_id, position) is unique.

use crate::enums::LessonKind;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lessons")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub course_id: i64,
    /// 1-based place in the course.
    pub position: i32,
    pub title: String,
    pub kind: LessonKind,
    pub duration_seconds: i32,
    /// Free-preview lessons are open to everyone.
    pub free_preview: bool,
    /// A media URL (video, audio) or the article body; paid content.
    pub content: Option<String>,
    pub created_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "course_id", to = "id")]
    pub course: BelongsTo<super::course::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
