//! Orders keep the provider's prepay id, so a retried createOrder hands back the same
//! payment parameters without a second prepay call.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `orders.prepay_id`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("orders")
                    .add_column(string_len_null("prepay_id", 64))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("orders")
                    .drop_column("prepay_id")
                    .take(),
            )
            .await
    }
}
