//! Daily sales totals for the platform's statistics: per platform day (Asia/Shanghai,
//! UTC+8 all year) and product, the sales, list prices, discounts and what was kept
//! (not refunded); which buyers bought on which day; and the platform's fees booked
//! each day on each creator's sales (net of those refunds gave back). A year of platform figures
//! then reads a few hundred thousand rows instead of every order of the year.
//!
//! A day is a number: (Unix time + 8 hours) / 86,400. The tables are filled here from
//! the orders already paid, and kept by the payment and refund transactions after.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

/// Adds `sales_days`, `buyer_days` and `fee_days`, filled from the paid orders and the
/// ledger.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// A sale: paid with money (as the analytics define it).
const SALE: &str = "amount_fen > 0 AND status IN ('PAID', 'REFUNDING', 'REFUNDED')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("sales_days")
                    .col(big_pk_auto("id"))
                    .col(big_integer("day"))
                    .col(string_len("product_kind", 16))
                    .col(big_integer("product_id"))
                    .col(big_integer("seller_id"))
                    .col(big_integer("sales"))
                    .col(big_integer("gross_fen"))
                    .col(big_integer("discount_fen"))
                    // What the day's sales brought, less those refunded since.
                    .col(big_integer("kept_fen"))
                    .index(
                        Index::create()
                            .name("ux_sales_days_day_product")
                            .col(Alias::new("day"))
                            .col(Alias::new("product_kind"))
                            .col(Alias::new("product_id"))
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("buyer_days")
                    .col(big_pk_auto("id"))
                    .col(big_integer("day"))
                    .col(big_integer("buyer_id"))
                    .index(
                        Index::create()
                            .name("ux_buyer_days_day_buyer_id")
                            .col(Alias::new("day"))
                            .col(Alias::new("buyer_id"))
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        // A buyer's earlier days, to tell new buyers from returning ones.
        manager
            .create_index(
                Index::create()
                    .name("ix_buyer_days_buyer_id_day")
                    .table(Alias::new("buyer_days"))
                    .col(Alias::new("buyer_id"))
                    .col(Alias::new("day"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("fee_days")
                    .col(big_pk_auto("id"))
                    .col(big_integer("day"))
                    .col(big_integer("seller_id"))
                    .col(big_integer("fee_fen"))
                    .index(
                        Index::create()
                            .name("ux_fee_days_day_seller_id")
                            .col(Alias::new("day"))
                            .col(Alias::new("seller_id"))
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_fee_days_seller_id_day")
                    .table(Alias::new("fee_days"))
                    .col(Alias::new("seller_id"))
                    .col(Alias::new("day"))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let epoch = |column: &str| match manager.get_database_backend() {
            DbBackend::Postgres => format!("CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"),
            _ => format!("CAST(strftime('%s', {column}) AS INTEGER)"),
        };
        let day = format!("(({}) + 28800) / 86400", epoch("paid_at"));
        let booked = format!("(({}) + 28800) / 86400", epoch("e.created_at"));
        db.execute_unprepared(&format!(
            "INSERT INTO sales_days (day, product_kind, product_id, seller_id, sales, gross_fen, \
             discount_fen, kept_fen) \
             SELECT {day}, product_kind, product_id, MIN(seller_id), COUNT(*), SUM(list_price_fen), \
             SUM(list_price_fen - amount_fen), \
             SUM(CASE WHEN status = 'REFUNDED' THEN 0 ELSE amount_fen END) \
             FROM orders WHERE {SALE} GROUP BY {day}, product_kind, product_id"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "INSERT INTO buyer_days (day, buyer_id) \
             SELECT DISTINCT {day}, buyer_id FROM orders WHERE {SALE}"
        ))
        .await?;
        // Fees are credits to the platform's fee account: negative amounts.
        db.execute_unprepared(&format!(
            "INSERT INTO fee_days (day, seller_id, fee_fen) \
             SELECT {booked}, o.seller_id, SUM(-e.amount_fen) FROM ledger_entries e \
             JOIN ledger_accounts a ON a.id = e.account_id \
             JOIN ledger_journals j ON j.id = e.journal_id JOIN orders o ON o.id = j.order_id \
             WHERE a.kind = 'PLATFORM_FEES' GROUP BY {booked}, o.seller_id"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["fee_days", "buyer_days", "sales_days"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
