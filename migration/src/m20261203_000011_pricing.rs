//! Pricing beyond one list price: limited-time sales (`product_sales`, at most one per
//! product) and what each order was priced at (`orders.list_price_fen` and its
//! `order_discounts`, so the amount to pay is explained and never recomputed).
//!
//! `product_sales.product_kind` carries no CHECK of the kinds: bundles and membership
//! plans become products later, and SQLite cannot change a CHECK without rebuilding the
//! table. The Rust enum is the only writer.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds the pricing tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Discount kinds (the SCREAMING_CASE names of `DiscountKind`).
const DISCOUNT_KINDS: [&str; 4] = ["SALE", "COUPON", "BUNDLE_CREDIT", "RENEWAL"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("product_sales")
                    .col(big_pk_auto("id"))
                    .col(string_len("product_kind", 16))
                    .col(big_integer("product_id"))
                    .col(big_integer("price_fen").check(Expr::col("price_fen").gte(0)))
                    .col(timestamp_with_time_zone("starts_at"))
                    .col(timestamp_with_time_zone("ends_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .check(Expr::col("ends_at").gt(Expr::col("starts_at")))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_product_sales_product_kind_product_id")
                    .table("product_sales")
                    .col("product_kind")
                    .col("product_id")
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("orders")
                    .add_column(big_integer("list_price_fen").default(0))
                    .take(),
            )
            .await?;
        // Every order so far was sold at its list price.
        manager
            .get_connection()
            .execute_unprepared("UPDATE orders SET list_price_fen = amount_fen")
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("order_discounts")
                    .col(big_pk_auto("id"))
                    .col(big_integer("order_id"))
                    .col(integer("position"))
                    .col(
                        string_len("kind", 16)
                            .check(Expr::col("kind").is_in(DISCOUNT_KINDS))
                            .take(),
                    )
                    .col(string_len("label", 64))
                    .col(big_integer("amount_fen").check(Expr::col("amount_fen").gt(0)))
                    .col(big_integer_null("coupon_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_discounts_order_id")
                            .from("order_discounts", "order_id")
                            .to("orders", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_order_discounts_order_id_position")
                    .table("order_discounts")
                    .col("order_id")
                    .col("position")
                    .unique()
                    .take(),
            )
            .await
    }
}
