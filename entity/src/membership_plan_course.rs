//! Table `membership_plan_courses`: the courses a plan covers when it does not cover
//! all its creator's courses.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "membership_plan_courses")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub course_id: i64,
}

impl ActiveModelBehavior for ActiveModel {}
