//! Table `orders`: one purchase of one product; out_trade_no and (buyer, idempotency key) are unique.

use crate::enums::{IdentityApp, OrderStatus, ProductKind};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Our order number sent to WeChat Pay (6..32 of [0-9A-Za-z_-]); unique.
    #[sea_orm(unique)]
    pub out_trade_no: String,
    pub buyer_id: i64,
    pub product_kind: ProductKind,
    pub product_id: i64,
    /// Amount to pay in fen: the list price less the order's discounts, fixed when the
    /// order was made.
    pub amount_fen: i64,
    /// The product's list price when the order was made.
    pub list_price_fen: i64,
    pub currency: String,
    pub status: OrderStatus,
    /// The client's key for retries; unique per buyer.
    pub idempotency_key: String,
    /// WeChat Pay's transaction id once paid; unique.
    #[sea_orm(unique)]
    pub transaction_id: Option<String>,
    /// The provider's prepay id, once prepay succeeded.
    pub prepay_id: Option<String>,
    /// The app the buyer pays in: its appid and the buyer's openid there go to prepay.
    pub pay_app: IdentityApp,
    pub created_at: DateTimeUtc,
    /// When an unpaid order closes (WeChat Pay time_expire).
    pub expires_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
    pub refunded_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    /// The promoter (a `promoters` row) the order was made through, if any.
    pub promoter_id: Option<i64>,
    /// Whether its funds were frozen for profit sharing at prepay (the seller had a
    /// merchant id).
    pub profit_sharing: bool,
    /// The creator selling the product (products never change hands).
    pub seller_id: i64,
    #[sea_orm(belongs_to, from = "buyer_id", to = "id")]
    pub buyer: BelongsTo<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
