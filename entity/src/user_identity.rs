//! Table `user_identities`: who WeChat says a user is in each app they signed in from
//! (their openid there); `(app, openid)` is unique, and a user has at most one per app.

use crate::enums::IdentityApp;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_identities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// The app the openid belongs to.
    pub app: IdentityApp,
    /// The user's openid within that app (never exposed through the API).
    pub openid: String,
    pub created_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "user_id", to = "id")]
    pub user: BelongsTo<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
