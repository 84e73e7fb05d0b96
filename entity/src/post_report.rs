//! Table `post_reports`: a member's report of a group post; (post_id, reporter_id) is
//! unique; open until an admin resolves it.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "post_reports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub post_id: i64,
    pub reporter_id: i64,
    /// What is wrong with the post, in the reporter's words.
    pub reason: String,
    pub created_at: DateTimeUtc,
    /// When an admin dealt with it; None while open.
    pub resolved_at: Option<DateTimeUtc>,
    pub resolved_by_id: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
