//! Coupons (优惠券): what a creator (or an admin, platform-wide) offers (`coupons`, with
//! the products it is limited to in `coupon_products`), and each copy a learner holds
//! (`user_coupons`), reserved by one pending order at a time and spent when it is paid.
//!
//! The database keeps the counts honest: `issued <= total_quantity` is a CHECK, so a
//! claim that would oversell fails however the requests race.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds the coupon tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(table: &str, column: &str, to: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(Alias::new(table), Alias::new(column))
        .to(Alias::new(to), Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

fn index(table: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    let prefix = if unique { "uq" } else { "ix" };
    index
        .name(format!("{prefix}_{table}_{}", columns.join("_")))
        .table(Alias::new(table));
    if unique {
        index.unique();
    }
    for column in columns {
        index.col(Alias::new(*column));
    }
    index.take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("coupons")
                    .col(big_pk_auto("id"))
                    // NULL: the platform's (made by an admin, for every product).
                    .col(big_integer_null("creator_id"))
                    .col(string_len("name", 32))
                    .col(
                        string_len("distribution", 16)
                            .check(Expr::col("distribution").is_in(["CODE", "CLAIM", "GRANT"]))
                            .take(),
                    )
                    .col(string_len_null("code", 32))
                    .col(big_integer_null("amount_off_fen"))
                    .col(integer_null("percent_off"))
                    .col(big_integer("min_spend_fen").default(0))
                    .col(
                        string_len("scope", 16)
                            .check(Expr::col("scope").is_in(["ALL", "PRODUCTS", "KIND"]))
                            .take(),
                    )
                    .col(string_len_null("scope_kind", 16))
                    .col(timestamp_with_time_zone("starts_at"))
                    .col(timestamp_with_time_zone("ends_at"))
                    .col(big_integer("total_quantity"))
                    .col(big_integer("issued").default(0))
                    .col(integer("per_user_limit").default(1))
                    .col(boolean("disabled").default(false))
                    .col(timestamp_with_time_zone("created_at"))
                    .check(Expr::col("issued").gte(0))
                    .check(Expr::col("issued").lte(Expr::col("total_quantity")))
                    .check(Expr::col("per_user_limit").gte(1))
                    .check(Expr::col("min_spend_fen").gte(0))
                    .check(Expr::col("ends_at").gt(Expr::col("starts_at")))
                    // Exactly one of the two ways to take money off.
                    .check(Expr::cust(
                        "(amount_off_fen IS NOT NULL AND amount_off_fen > 0 AND percent_off IS NULL) \
                         OR (percent_off IS NOT NULL AND percent_off BETWEEN 1 AND 99 AND amount_off_fen IS NULL)",
                    ))
                    .foreign_key(&mut fk("coupons", "creator_id", "creators"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("coupons", &["code"], true))
            .await?;
        manager
            .create_index(index("coupons", &["creator_id"], false))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("coupon_products")
                    .col(big_pk_auto("id"))
                    .col(big_integer("coupon_id"))
                    .col(string_len("product_kind", 16))
                    .col(big_integer("product_id"))
                    .foreign_key(&mut fk("coupon_products", "coupon_id", "coupons"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "coupon_products",
                &["coupon_id", "product_kind", "product_id"],
                true,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("user_coupons")
                    .col(big_pk_auto("id"))
                    .col(big_integer("coupon_id"))
                    .col(big_integer("user_id"))
                    .col(
                        string_len("status", 16)
                            .default("AVAILABLE")
                            .check(Expr::col("status").is_in(["AVAILABLE", "RESERVED", "USED"]))
                            .take(),
                    )
                    // The order holding it (RESERVED) or that spent it (USED).
                    .col(big_integer_null("order_id"))
                    .col(timestamp_with_time_zone("obtained_at"))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .check(Expr::cust(
                        "(status = 'AVAILABLE' AND order_id IS NULL) \
                         OR (status <> 'AVAILABLE' AND order_id IS NOT NULL)",
                    ))
                    .foreign_key(&mut fk("user_coupons", "coupon_id", "coupons"))
                    .foreign_key(&mut fk("user_coupons", "user_id", "users"))
                    .foreign_key(&mut fk("user_coupons", "order_id", "orders"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("user_coupons", &["user_id", "status"], false))
            .await?;
        manager
            .create_index(index("user_coupons", &["coupon_id", "user_id"], false))
            .await?;
        // One coupon per order: an order reserves at most one.
        manager
            .create_index(index("user_coupons", &["order_id"], true))
            .await
    }
}
