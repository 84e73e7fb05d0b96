//! Table `users`: people who sign in through WeChat (learners, creators, admins).

use crate::enums::Role;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// WeChat unionid across the developer account, when WeChat gives one; unique. It
    /// joins the user's identities in each app (`user_identities`).
    #[sea_orm(unique)]
    pub unionid: Option<String>,
    pub nickname: Option<String>,
    pub avatar_url: Option<String>,
    pub role: Role,
    /// Set when an admin bans the user; their tokens stop working.
    pub banned_at: Option<DateTimeUtc>,
    /// Access tokens issued before this moment are void (logout everywhere, a leaked
    /// refresh token); null: none voided.
    pub tokens_valid_after: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The user's creator profile, if any.
    #[sea_orm(has_one)]
    pub creator: HasOne<super::creator::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
