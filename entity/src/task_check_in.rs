//! Table `task_check_ins`: a member's check-in to a TASK post's challenge for one local
//! day of the group; (post_id, user_id, day) is unique.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "task_check_ins")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub post_id: i64,
    pub user_id: i64,
    /// The local day it counts for, in the group's time zone.
    pub day: Date,
    /// What they did, optionally.
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
