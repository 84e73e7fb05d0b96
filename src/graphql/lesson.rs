//! Lessons: the `Lesson` object and the creator's lesson mutations (add, edit,
//! reorder, delete). Paid lesson content is shown only to those who may open it.

use async_graphql::{Context, ID, InputObject, Object};
use entity::course;

use crate::error::AppError;
use crate::graphql::access;
use crate::graphql::context::ContextExt;
use crate::graphql::enums::LessonKind;
use crate::graphql::ids::{self, type_name};
use crate::graphql::loaders::CourseById;
use crate::graphql::objects::{Course, Lesson};
use crate::graphql::payload::{input_id, payload};
use crate::service::access::ProductRef;
use crate::service::courses;
use crate::service::lessons::{self, LessonChanges, NewLesson};

/// One part of a course.
#[Object]
impl Lesson {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(type_name::LESSON, self.lesson.id)
    }
    /// 1-based place in the course.
    async fn position(&self) -> i32 {
        self.lesson.position
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.lesson.title
    }
    /// Medium.
    async fn kind(&self) -> LessonKind {
        self.lesson.kind.into()
    }
    /// Length in seconds.
    async fn duration_seconds(&self) -> i32 {
        self.lesson.duration_seconds
    }
    /// Open to everyone as a taste of the course.
    async fn free_preview(&self) -> bool {
        self.lesson.free_preview
    }
    /// True when the viewer may not see the content.
    async fn locked(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(!self.visible(ctx).await?)
    }
    /// Media URL or article body; null when locked.
    async fn content(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(if self.visible(ctx).await? {
            self.lesson.content.as_deref()
        } else {
            None
        })
    }
    /// The course it belongs to.
    async fn course(&self, ctx: &Context<'_>) -> async_graphql::Result<Course> {
        ctx.loader()?
            .load_one(CourseById(self.lesson.course_id))
            .await?
            .map(Course::from)
            .ok_or_else(|| AppError::NotFound("course").into())
    }
}

impl Lesson {
    async fn visible(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(self.lesson.free_preview || access::can_open(ctx, &self.course).await?)
    }
}

payload!(
    /// Result of `addLesson`.
    AddLessonPayload, lesson: Lesson
);
payload!(
    /// Result of `updateLesson`.
    UpdateLessonPayload, lesson: Lesson
);
payload!(
    /// Result of `reorderLessons`: the course, its lessons in the new order.
    ReorderLessonsPayload, course: Course
);
payload!(
    /// Result of `deleteLesson`: the course it belonged to.
    DeleteLessonPayload, course: Course
);

/// Input of `addLesson`.
#[derive(InputObject)]
pub struct AddLessonInput {
    /// The course to append to.
    pub course: ID,
    /// Title, 1 to 128 characters.
    pub title: String,
    /// Medium.
    pub kind: LessonKind,
    /// Media URL for VIDEO and AUDIO, text for ARTICLE.
    pub content: Option<String>,
    /// Length in seconds, 0 to 86,400.
    pub duration_seconds: i32,
    /// Open to everyone as a preview.
    #[graphql(default)]
    pub free_preview: bool,
}

/// Input of `updateLesson`; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateLessonInput {
    /// The lesson.
    pub lesson: ID,
    /// New title.
    pub title: Option<String>,
    /// New medium.
    pub kind: Option<LessonKind>,
    /// New content.
    pub content: Option<String>,
    /// New length in seconds.
    pub duration_seconds: Option<i32>,
    /// New preview flag.
    pub free_preview: Option<bool>,
}

/// Input of `reorderLessons`.
#[derive(InputObject)]
pub struct ReorderLessonsInput {
    /// The course.
    pub course: ID,
    /// Every lesson of the course, once each, in the new order.
    pub lessons: Vec<ID>,
}

/// Input of `deleteLesson`.
#[derive(InputObject)]
pub struct DeleteLessonInput {
    /// The lesson.
    pub lesson: ID,
}

fn lesson_of(lesson: entity::lesson::Model, course: &course::Model) -> Lesson {
    Lesson {
        lesson: std::sync::Arc::new(lesson),
        course: ProductRef::course(course),
    }
}

/// Lesson mutations.
#[derive(Default)]
pub struct LessonMutation;

/// Lesson mutations: a course's lessons, by its creator.
#[Object]
impl LessonMutation {
    /// Appends a lesson to a course.
    async fn add_lesson(
        &self,
        ctx: &Context<'_>,
        input: AddLessonInput,
    ) -> async_graphql::Result<AddLessonPayload> {
        let result = async {
            let course_id = input_id(&input.course, type_name::COURSE, "course")?;
            let new = NewLesson {
                title: input.title,
                kind: input.kind.into(),
                content: input.content,
                duration_seconds: input.duration_seconds,
                free_preview: input.free_preview,
            };
            let db = ctx.db()?;
            let (lesson, course) =
                lessons::add_lesson(db, ctx.effects()?, ctx.actor()?, course_id, new).await?;
            Ok(lesson_of(lesson, &course))
        }
        .await;
        AddLessonPayload::from_result(result)
    }

    /// Changes a lesson.
    async fn update_lesson(
        &self,
        ctx: &Context<'_>,
        input: UpdateLessonInput,
    ) -> async_graphql::Result<UpdateLessonPayload> {
        let result = async {
            let id = input_id(&input.lesson, type_name::LESSON, "lesson")?;
            let changes = LessonChanges {
                title: input.title,
                kind: input.kind.map(Into::into),
                content: input.content,
                duration_seconds: input.duration_seconds,
                free_preview: input.free_preview,
            };
            let db = ctx.db()?;
            let (lesson, course) =
                lessons::update_lesson(db, ctx.effects()?, ctx.actor()?, id, changes).await?;
            Ok(lesson_of(lesson, &course))
        }
        .await;
        UpdateLessonPayload::from_result(result)
    }

    /// Puts a course's lessons in a new order (a permutation of all of them).
    async fn reorder_lessons(
        &self,
        ctx: &Context<'_>,
        input: ReorderLessonsInput,
    ) -> async_graphql::Result<ReorderLessonsPayload> {
        let result = async {
            let course_id = input_id(&input.course, type_name::COURSE, "course")?;
            let order = input
                .lessons
                .iter()
                .map(|id| input_id(id, type_name::LESSON, "lessons"))
                .collect::<Result<Vec<_>, _>>()?;
            let db = ctx.db()?;
            lessons::reorder_lessons(db, ctx.effects()?, ctx.actor()?, course_id, &order).await?;
            courses::by_ids(db, &[course_id])
                .await?
                .remove(&course_id)
                .map(Course::from)
                .ok_or(AppError::NotFound("course"))
        }
        .await;
        ReorderLessonsPayload::from_result(result)
    }

    /// Deletes a lesson; the others close ranks.
    async fn delete_lesson(
        &self,
        ctx: &Context<'_>,
        input: DeleteLessonInput,
    ) -> async_graphql::Result<DeleteLessonPayload> {
        let result = async {
            let id = input_id(&input.lesson, type_name::LESSON, "lesson")?;
            lessons::delete_lesson(ctx.db()?, ctx.effects()?, ctx.actor()?, id)
                .await
                .map(Course::from)
        }
        .await;
        DeleteLessonPayload::from_result(result)
    }
}
