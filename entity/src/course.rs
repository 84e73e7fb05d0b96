//! Table `courses`: what creators sell most: an ordered set of lessons.

use crate::enums::CourseStatus;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "courses")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub creator_id: i64,
    pub title: String,
    pub subtitle: Option<String>,
    pub description: Option<String>,
    pub cover_url: Option<String>,
    pub category: String,
    /// Price in fen (1 yuan = 100 fen); 0 means free.
    pub price_fen: i64,
    pub status: CourseStatus,
    /// Paid orders counted when they are paid (kept in the same transaction); used for sorting.
    pub sales_count: i64,
    /// Visible ratings counted and summed in the same transaction as the rating; used for sorting.
    pub rating_count: i64,
    pub rating_sum: i64,
    pub published_at: Option<DateTimeUtc>,
    /// Set when an admin suspends the course: unlisted, unsellable, not republishable.
    pub suspended_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "creator_id", to = "id")]
    pub creator: BelongsTo<super::creator::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
