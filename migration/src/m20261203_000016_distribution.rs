//! Distribution (分销): a creator's promotion of a product (commission rates), the users
//! promoting it (each with a share code, and who recruited them), referrals a learner
//! opened (kept 7 days), and the promoter an order was made through.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds promotions, promoters, referrals and `orders.promoter_id`.
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

fn unique(table: &str, columns: &[&str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index
        .name(format!("uq_{table}_{}", columns.join("_")))
        .table(Alias::new(table))
        .unique();
    for column in columns {
        index.col(Alias::new(*column));
    }
    index.take()
}

const KINDS: [&str; 5] = ["COURSE", "LIVESTREAM", "GROUP", "BUNDLE", "MEMBERSHIP"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let kind = || {
            string_len("product_kind", 16)
                .check(Expr::col("product_kind").is_in(KINDS))
                .take()
        };
        manager
            .create_table(
                Table::create()
                    .table("promotions")
                    .col(big_pk_auto("id"))
                    .col(kind())
                    .col(big_integer("product_id"))
                    .col(
                        integer("rate_bps")
                            .check(Expr::col("rate_bps").between(1, 5_000))
                            .take(),
                    )
                    .col(
                        integer("second_level_bps")
                            .default(0)
                            .check(Expr::col("second_level_bps").between(0, 5_000))
                            .take(),
                    )
                    .col(boolean("enabled").default(true))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(unique("promotions", &["product_kind", "product_id"]))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("promoters")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(kind())
                    .col(big_integer("product_id"))
                    .col(string_len("code", 16))
                    .col(big_integer_null("recruited_by_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("promoters", "user_id", "users"))
                    .foreign_key(&mut fk("promoters", "recruited_by_id", "promoters"))
                    .take(),
            )
            .await?;
        manager.create_index(unique("promoters", &["code"])).await?;
        manager
            .create_index(unique(
                "promoters",
                &["user_id", "product_kind", "product_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("referrals")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(big_integer("promoter_id"))
                    .col(kind())
                    .col(big_integer("product_id"))
                    .col(timestamp_with_time_zone("opened_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .foreign_key(&mut fk("referrals", "user_id", "users"))
                    .foreign_key(&mut fk("referrals", "promoter_id", "promoters"))
                    .take(),
            )
            .await?;
        manager
            .create_index(unique(
                "referrals",
                &["user_id", "product_kind", "product_id"],
            ))
            .await?;
        // The promoter an order was made through (a `promoters` id); SQLite cannot add
        // a foreign key to an existing table, so the service checks it on both.
        manager
            .alter_table(
                Table::alter()
                    .table("orders")
                    .add_column(big_integer_null("promoter_id"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("orders")
                    .drop_column("promoter_id")
                    .take(),
            )
            .await?;
        for table in ["referrals", "promoters", "promotions"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).take())
                .await?;
        }
        Ok(())
    }
}
