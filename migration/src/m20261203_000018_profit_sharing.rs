//! Profit sharing (分账) for creators with a WeChat Pay merchant id of their own: the id
//! on the creator, whether an order's funds were frozen for sharing at prepay, and one
//! profit-sharing order per paid order that sends the creator's share to their merchant.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `creators.wechat_mchid`, `orders.profit_sharing` and `profit_shares`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("creators")
                    .add_column(string_len_null("wechat_mchid", 32))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("orders")
                    .add_column(boolean("profit_sharing").default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("profit_shares")
                    .col(big_pk_auto("id"))
                    .col(big_integer_uniq("order_id"))
                    .col(big_integer("creator_id"))
                    // No merchant: the order's frozen funds were only unfrozen to us.
                    .col(string_len_null("mchid", 32))
                    .col(string_len("transaction_id", 64))
                    .col(string_len_uniq("out_order_no", 64))
                    .col(
                        big_integer("amount_fen")
                            .check(Expr::col("amount_fen").gte(0))
                            .take(),
                    )
                    .col(
                        string_len("state", 16)
                            .check(Expr::col("state").is_in([
                                "REQUESTED",
                                "PROCESSING",
                                "FINISHED",
                                "CLOSED",
                            ]))
                            .take(),
                    )
                    .col(string_len_null("fail_reason", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_profit_shares_order_id")
                            .from(Alias::new("profit_shares"), Alias::new("order_id"))
                            .to(Alias::new("orders"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("profit_shares").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("orders")
                    .drop_column("profit_sharing")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("creators")
                    .drop_column("wechat_mchid")
                    .to_owned(),
            )
            .await
    }
}
