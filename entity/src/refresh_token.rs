//! Table `refresh_tokens`: single-use refresh tokens, stored as SHA-256 hashes.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// Hex SHA-256 of the token; unique.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// `miniprogram` or `console`: the audience of the access tokens it refreshes.
    pub audience: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Set when exchanged for a new pair (single use).
    pub used_at: Option<DateTimeUtc>,
    /// Set by logout or when reuse of a spent token is detected.
    pub revoked_at: Option<DateTimeUtc>,
    #[sea_orm(belongs_to, from = "user_id", to = "id")]
    pub user: BelongsTo<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
