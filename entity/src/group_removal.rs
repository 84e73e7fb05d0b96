//! Table `group_removals`: a member removed from a group by its owner or an admin, who
//! may not rejoin or post; (group_id, user_id) is unique.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "group_removals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub group_id: i64,
    pub user_id: i64,
    /// Why, kept for the moderators.
    pub reason: Option<String>,
    /// The owner or admin who removed them.
    pub removed_by_id: Option<i64>,
    pub removed_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
