//! Table `user_coupons`: one copy of a coupon a learner holds; reserved by one pending
//! order (`order_id`, unique) and spent when it is paid.

use crate::enums::UserCouponStatus;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_coupons")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub coupon_id: i64,
    pub user_id: i64,
    pub status: UserCouponStatus,
    /// The order holding it (RESERVED) or that spent it (USED).
    pub order_id: Option<i64>,
    pub obtained_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    #[sea_orm(belongs_to, from = "coupon_id", to = "id")]
    pub coupon: BelongsTo<super::coupon::Entity>,
    #[sea_orm(belongs_to, from = "user_id", to = "id")]
    pub user: BelongsTo<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
