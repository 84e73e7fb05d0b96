//! Table `group_mutes`: a member muted in a group until a time; (group_id, user_id) is
//! unique, a new mute moves the end.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "group_mutes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub group_id: i64,
    pub user_id: i64,
    /// Posts and replies are refused until then.
    pub muted_until: DateTimeUtc,
    /// Why, for the member and the moderators.
    pub reason: Option<String>,
    /// The owner or admin who muted them.
    pub muted_by_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
