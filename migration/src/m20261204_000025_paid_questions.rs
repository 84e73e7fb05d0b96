//! Paid questions (付费提问): a group's creator sets a price and an answer window; a
//! member's question is a product of its own (kind `QUESTION`) bought through the
//! usual order flow, answered within the window or refunded automatically.
//!
//! The `orders.product_kind` CHECK is widened with `QUESTION` as migration 13 widened
//! it: PostgreSQL replaces the constraint; SQLite rebuilds the table from its stored
//! definition (foreign keys off, rows copied, indexes recreated), in one transaction.
//! Entitlements keep their CHECK: a question grants no entitlement.

use sea_orm_migration::{prelude::*, schema::*};

use crate::support::{add_column, fk, widen_product_kinds};

/// Adds `paid_questions`, the groups' question settings, and the `QUESTION` order kind.
#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD_KINDS: &str = "('COURSE', 'LIVESTREAM', 'GROUP', 'BUNDLE', 'MEMBERSHIP')";
const NEW_KINDS: &str = "('COURSE', 'LIVESTREAM', 'GROUP', 'BUNDLE', 'MEMBERSHIP', 'QUESTION')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        widen_product_kinds(manager, &["orders"], OLD_KINDS, NEW_KINDS).await?;
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
                    .foreign_key(&mut fk(
                        "paid_questions",
                        "group_id",
                        "community_groups",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "paid_questions",
                        "asker_id",
                        "users",
                        ForeignKeyAction::Cascade,
                    ))
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
