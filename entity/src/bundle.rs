//! Table `bundles`: several courses of one creator sold together (专栏), with its own
//! price; `includes_future` grants courses added later to earlier buyers, and
//! `credit_owned` takes what a buyer paid for courses they own off the price.

use crate::enums::CourseStatus;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bundles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub creator_id: i64,
    pub title: String,
    pub description: Option<String>,
    pub cover_url: Option<String>,
    pub price_fen: i64,
    /// DRAFT, PUBLISHED (on sale) or ARCHIVED (off sale; buyers keep their courses).
    pub status: CourseStatus,
    pub includes_future: bool,
    pub credit_owned: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "creator_id", to = "id")]
    pub creator: BelongsTo<super::creator::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
