//! Table `payment_events`: every verified WeChat Pay notification, recorded once (notification_id is unique).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The notification's `id` as WeChat Pay sent it; unique.
    #[sea_orm(unique)]
    pub notification_id: String,
    /// e.g. TRANSACTION.SUCCESS, REFUND.SUCCESS.
    pub event_type: String,
    pub order_id: Option<i64>,
    /// The decrypted resource, as received.
    pub payload: String,
    pub received_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "order_id", to = "id")]
    pub order: HasOne<super::order::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
