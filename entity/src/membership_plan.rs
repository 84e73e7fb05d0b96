//! Table `membership_plans`: a creator's membership (会员): for `period_months`, all their
//! courses (or those in `membership_plan_courses`) and, with `includes_groups`, their
//! paid groups; optional lower prices to renew early or after lapsing.

use crate::enums::CourseStatus;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "membership_plans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub creator_id: i64,
    pub name: String,
    /// 1, 3 or 12.
    pub period_months: i32,
    pub price_fen: i64,
    /// The price for a member renewing before their end.
    pub early_renewal_price_fen: Option<i64>,
    /// The price for a former member whose membership ended.
    pub lapsed_renewal_price_fen: Option<i64>,
    pub covers_all_courses: bool,
    pub includes_groups: bool,
    /// DRAFT, PUBLISHED (on sale) or ARCHIVED.
    pub status: CourseStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
