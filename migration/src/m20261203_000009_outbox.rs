//! Messages that bring learners back: what each user agreed to receive
//! (`message_consents`, one-time subscribe-message consents per template), the kinds they
//! switched off (`notification_opt_outs`), and the outbox (`outbox_messages`): one row
//! per message, written in the same transaction as the event that causes it and sent
//! by a background worker, unique per event and recipient.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds the messaging tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Message kinds (the SCREAMING_CASE names of `MessageKind`).
const KINDS: [&str; 7] = [
    "PAYMENT_SUCCEEDED",
    "REFUND_DONE",
    "LIVESTREAM_STARTING",
    "LIVESTREAM_LIVE",
    "NEW_LESSON",
    "MEMBERSHIP_ENDING",
    "POST_REPLY",
];
/// Outbox states (the names of `OutboxStatus`).
const STATUSES: [&str; 5] = ["PENDING", "SENDING", "SENT", "FAILED", "SKIPPED"];

fn user_fk(table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_user_id"))
        .from(Alias::new(table), Alias::new("user_id"))
        .to(Alias::new("users"), Alias::new("id"))
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("message_consents")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(string_len("template_id", 64))
                    .col(integer("remaining").check(Expr::col("remaining").gte(0)))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut user_fk("message_consents"))
                    .take(),
            )
            .await?;
        manager
            .create_index(unique("message_consents", &["user_id", "template_id"]))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("notification_opt_outs")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(
                        string_len("kind", 32)
                            .check(Expr::col("kind").is_in(KINDS))
                            .take(),
                    )
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut user_fk("notification_opt_outs"))
                    .take(),
            )
            .await?;
        manager
            .create_index(unique("notification_opt_outs", &["user_id", "kind"]))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("outbox_messages")
                    .col(big_pk_auto("id"))
                    .col(string_len("idempotency_key", 128))
                    .col(big_integer("user_id"))
                    .col(
                        string_len("kind", 32)
                            .check(Expr::col("kind").is_in(KINDS))
                            .take(),
                    )
                    .col(big_integer("subject_id"))
                    .col(text("values"))
                    .col(
                        string_len("status", 16)
                            .default("PENDING")
                            .check(Expr::col("status").is_in(STATUSES))
                            .take(),
                    )
                    .col(string_len_null("channel", 16))
                    .col(integer("attempts").default(0))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("claimed_until"))
                    .col(text_null("last_error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("sent_at"))
                    .foreign_key(&mut user_fk("outbox_messages"))
                    .take(),
            )
            .await?;
        // One message per event and recipient: a retried event writes none twice.
        manager
            .create_index(unique("outbox_messages", &["idempotency_key"]))
            .await?;
        // The worker's scan: due messages in order.
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_messages_status_next_attempt_at")
                    .table("outbox_messages")
                    .col("status")
                    .col("next_attempt_at")
                    .take(),
            )
            .await?;
        Ok(())
    }
}
