//! Paid questions (付费提问): a group's creator sets a price and an answer window; a
//! member's question is a product of its own (kind `QUESTION`) bought through the
//! usual order flow, answered within the window or refunded automatically.
//!
//! The `orders.product_kind` CHECK is widened with `QUESTION` as migration 13 widened
//! it: PostgreSQL replaces the constraint; SQLite rebuilds the table from its stored
//! definition (foreign keys off, rows copied, indexes recreated), in one transaction.
//! Entitlements keep their CHECK: a question grants no entitlement.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::{prelude::*, schema::*};

/// Adds `paid_questions`, the groups' question settings, and the `QUESTION` order kind.
#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD_KINDS: &str = "('COURSE', 'LIVESTREAM', 'GROUP', 'BUNDLE', 'MEMBERSHIP')";
const NEW_KINDS: &str = "('COURSE', 'LIVESTREAM', 'GROUP', 'BUNDLE', 'MEMBERSHIP', 'QUESTION')";

/// The SQLite script that rebuilds `orders` with the wider CHECK.
async fn sqlite_rebuild(db: &SchemaManagerConnection<'_>) -> Result<String, DbErr> {
    let table = "orders";
    let stored = |kind: &str| {
        Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE type = ? AND tbl_name = ? AND sql IS NOT NULL",
            [kind.into(), table.into()],
        )
    };
    let definition: String = db
        .query_one_raw(stored("table"))
        .await?
        .ok_or_else(|| DbErr::Migration(format!("no table {table}")))?
        .try_get("", "sql")?;
    if !definition.contains(OLD_KINDS) {
        return Err(DbErr::Migration(format!(
            "{table}: the product_kind CHECK is not the one this migration widens"
        )));
    }
    let rebuilt = format!("{table}_rebuilt");
    let definition = definition
        .replacen(
            &format!("CREATE TABLE \"{table}\""),
            &format!("CREATE TABLE \"{rebuilt}\""),
            1,
        )
        .replace(OLD_KINDS, NEW_KINDS);
    let mut indexes = Vec::new();
    for row in db.query_all_raw(stored("index")).await? {
        indexes.push(row.try_get::<String>("", "sql")?);
    }
    Ok(format!(
        "{definition};\nINSERT INTO \"{rebuilt}\" SELECT * FROM \"{table}\";\n\
         DROP TABLE \"{table}\";\nALTER TABLE \"{rebuilt}\" RENAME TO \"{table}\";\n{};\n",
        indexes.join(";\n")
    ))
}

/// Adds one column (SQLite adds one per statement).
async fn add_column(
    manager: &SchemaManager<'_>,
    table: &str,
    column: ColumnDef,
) -> Result<(), DbErr> {
    let mut column = column;
    manager
        .alter_table(
            Table::alter()
                .table(Alias::new(table))
                .add_column(&mut column)
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                let script = format!(
                    "PRAGMA foreign_keys = OFF;\nBEGIN;\n{}COMMIT;\nPRAGMA foreign_keys = ON;\n",
                    sqlite_rebuild(db).await?
                );
                db.execute_unprepared(&script).await?;
            }
            _ => {
                db.execute_unprepared(&format!(
                    "ALTER TABLE orders DROP CONSTRAINT orders_product_kind_check; \
                     ALTER TABLE orders ADD CONSTRAINT orders_product_kind_check \
                     CHECK (product_kind IN {NEW_KINDS})"
                ))
                .await?;
            }
        }
        // The price of a question (none: questions are off) and the answer window.
        add_column(
            manager,
            "community_groups",
            big_integer_null("question_price_fen")
                .check(Expr::col("question_price_fen").gt(0))
                .take(),
        )
        .await?;
        add_column(
            manager,
            "community_groups",
            integer("question_answer_hours")
                .default(48)
                .check(Expr::col("question_answer_hours").between(1, 720))
                .take(),
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("paid_questions")
                    .col(big_pk_auto("id"))
                    .col(big_integer("group_id"))
                    .col(big_integer("asker_id"))
                    .col(text("body"))
                    .col(big_integer("price_fen").check(Expr::col("price_fen").gt(0)))
                    .col(string_len("status", 16).check(Expr::col("status").is_in([
                        "AWAITING_PAYMENT",
                        "OPEN",
                        "ANSWERED",
                        "EXPIRED",
                        "REFUNDED",
                    ])))
                    .col(text_null("answer"))
                    .col(boolean("answer_public").default(false))
                    .col(big_integer_null("order_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("paid_at"))
                    .col(timestamp_with_time_zone_null("answer_due_at"))
                    .col(timestamp_with_time_zone_null("answered_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_paid_questions_group_id")
                            .from(Alias::new("paid_questions"), Alias::new("group_id"))
                            .to(Alias::new("community_groups"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_paid_questions_asker_id")
                            .from(Alias::new("paid_questions"), Alias::new("asker_id"))
                            .to(Alias::new("users"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("ix_paid_questions_group_id_id", ["group_id", "id"]),
            // The sweep of unanswered questions: OPEN ones by due time.
            (
                "ix_paid_questions_status_answer_due_at",
                ["status", "answer_due_at"],
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Alias::new("paid_questions"))
                        .col(Alias::new(columns[0]))
                        .col(Alias::new(columns[1]))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The wider CHECK stays: narrowing it would refuse the question orders kept.
        manager
            .drop_table(Table::drop().table("paid_questions").to_owned())
            .await?;
        for column in ["question_answer_hours", "question_price_fen"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("community_groups")
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
