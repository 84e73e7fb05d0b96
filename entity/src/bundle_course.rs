//! Table `bundle_courses`: the courses of a bundle in order; (bundle_id, course_id) is
//! unique.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bundle_courses")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub bundle_id: i64,
    pub course_id: i64,
    pub position: i32,
    pub added_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "bundle_id", to = "id")]
    pub bundle: BelongsTo<super::bundle::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
