//! Table `livestream_attendances`: a user who entered a live room (subscribed to its
//! events); (livestream_id, user_id) is unique.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "livestream_attendances")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub livestream_id: i64,
    pub user_id: i64,
    /// When they first entered.
    pub first_seen_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
