//! Table `community_groups`: paid or free community groups run by a creator.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "community_groups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub creator_id: i64,
    pub name: String,
    pub description: Option<String>,
    /// Membership price in fen; 0 means free.
    pub price_fen: i64,
    /// How long a paid membership lasts; None means for ever.
    pub membership_days: Option<i32>,
    pub created_at: DateTimeUtc,
    /// The IANA zone whose days its check-ins count in (`Asia/Shanghai` by default).
    pub time_zone: String,
    /// What a member pays to ask the creator a question; None: questions are off.
    pub question_price_fen: Option<i64>,
    /// Hours the creator has to answer a paid question before it is refunded.
    pub question_answer_hours: i32,
    #[sea_orm(belongs_to, from = "creator_id", to = "id")]
    pub creator: BelongsTo<super::creator::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
