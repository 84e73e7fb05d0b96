//! The money ledger: double-entry accounts and journals. Every journal's entries sum
//! to zero; entries are never changed or deleted (triggers refuse it), corrections are
//! new journals. A creator may have a fee rate of their own (`creators.fee_bps`).

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

/// Adds the ledger tables and the per-creator fee rate.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Ledger foreign keys restrict deletes: money history outlives nothing it names.
fn fk(table: &str, column: &str, to: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(Alias::new(table), Alias::new(column))
        .to(Alias::new(to), Alias::new("id"))
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}

fn index(table: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index
        .name(format!(
            "{}_{table}_{}",
            if unique { "uq" } else { "ix" },
            columns.join("_")
        ))
        .table(Alias::new(table));
    for column in columns {
        index.col(Alias::new(*column));
    }
    if unique {
        index.unique();
    }
    index.take()
}

/// The tables whose rows are never updated or deleted.
const APPEND_ONLY: [&str; 2] = ["ledger_journals", "ledger_entries"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("creators")
                    .add_column(
                        integer_null("fee_bps")
                            .check(Expr::col("fee_bps").between(0, 10_000))
                            .take(),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("ledger_accounts")
                    .col(big_pk_auto("id"))
                    .col(
                        string_len("kind", 16)
                            .check(Expr::col("kind").is_in([
                                "PLATFORM_CASH",
                                "PLATFORM_FEES",
                                "CREATOR",
                                "PROMOTER",
                            ]))
                            .take(),
                    )
                    // The creator or user the account is owed to; 0 for the platform's.
                    .col(big_integer("owner_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("ledger_accounts", &["kind", "owner_id"], true))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("ledger_journals")
                    .col(big_pk_auto("id"))
                    .col(
                        string_len("kind", 16)
                            .check(Expr::col("kind").is_in([
                                "SALE",
                                "REFUND",
                                "PAYOUT",
                                "PAYOUT_RETURN",
                            ]))
                            .take(),
                    )
                    // What the journal records, once: `order:12`, `refund:7`, `payout:3`.
                    .col(string_len("reference", 64))
                    .col(big_integer_null("order_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("ledger_journals", "order_id", "orders"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("ledger_journals", &["kind", "reference"], true))
            .await?;
        manager
            .create_index(index("ledger_journals", &["order_id"], false))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("ledger_entries")
                    .col(big_pk_auto("id"))
                    .col(big_integer("journal_id"))
                    .col(big_integer("account_id"))
                    // Signed fen: positive debits, negative credits; a journal sums to 0.
                    .col(big_integer("amount_fen"))
                    // When a creator's or promoter's earning can be paid out.
                    .col(timestamp_with_time_zone("available_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("ledger_entries", "journal_id", "ledger_journals"))
                    .foreign_key(&mut fk("ledger_entries", "account_id", "ledger_accounts"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("ledger_entries", &["account_id", "id"], false))
            .await?;
        manager
            .create_index(index("ledger_entries", &["journal_id"], false))
            .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN RAISE EXCEPTION 'ledger rows are never changed or deleted'; END $$",
                )
                .await?;
                for table in APPEND_ONLY {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} \
                         FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
                    ))
                    .await?;
                }
            }
            _ => {
                for table in APPEND_ONLY {
                    for action in ["UPDATE", "DELETE"] {
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER {table}_no_{} BEFORE {action} ON {table} BEGIN \
                             SELECT RAISE(ABORT, 'ledger rows are never changed or deleted'); END",
                            action.to_lowercase()
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["ledger_entries", "ledger_journals", "ledger_accounts"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).take())
                .await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS ledger_append_only()")
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("creators")
                    .drop_column("fee_bps")
                    .take(),
            )
            .await
    }
}
