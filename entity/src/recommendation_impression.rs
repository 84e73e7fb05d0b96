//! Table `recommendation_impressions`: a recommended course shown to a learner on one
//! platform day (Asia/Shanghai); (user_id, course_id, day) is unique.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recommendation_impressions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub course_id: i64,
    /// The platform day it was shown, `YYYY-MM-DD` in Asia/Shanghai.
    pub day: String,
    /// The first time that day.
    pub shown_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
