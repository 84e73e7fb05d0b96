//! Table `coupons`: an offer of money off, by a creator for their products (or by an
//! admin, `creator_id` NULL, for every product); `code` is unique; `issued` never
//! exceeds `total_quantity` (a CHECK).

use crate::enums::{CouponDistribution, CouponScope, ProductKind};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "coupons")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub creator_id: Option<i64>,
    /// What learners are shown (the discount's label).
    pub name: String,
    pub distribution: CouponDistribution,
    /// The public code, for CODE coupons.
    pub code: Option<String>,
    /// Fen off (a fixed-amount coupon), or
    pub amount_off_fen: Option<i64>,
    /// percent off, 1 to 99.
    pub percent_off: Option<i32>,
    /// The least the price must be (after any sale) for it to apply.
    pub min_spend_fen: i64,
    pub scope: CouponScope,
    /// The kind, for KIND scope.
    pub scope_kind: Option<ProductKind>,
    pub starts_at: DateTimeUtc,
    /// It can be used until then (exclusive).
    pub ends_at: DateTimeUtc,
    pub total_quantity: i64,
    /// Copies handed out so far.
    pub issued: i64,
    pub per_user_limit: i32,
    /// Switched off by its creator: no more copies, and held ones no longer apply.
    pub disabled: bool,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
