//! Identity: refresh tokens (stored hashed, single use, rotated), server settings (the
//! development JWT secret is kept here, with the data it protects), and course
//! suspension by admins.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds refresh tokens, server settings and `courses.suspended_at`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("refresh_tokens")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    // SHA-256 of the token, hex: the token itself is never stored.
                    .col(string_len_uniq("token_hash", 64))
                    .col(
                        string_len("audience", 16)
                            .check(Expr::col("audience").is_in(["miniprogram", "console"])),
                    )
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_tokens_user_id")
                            .from("refresh_tokens", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_refresh_tokens_user_id")
                    .table("refresh_tokens")
                    .col("user_id")
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("server_settings")
                    .col(string_len("name", 64).primary_key())
                    .col(text("value"))
                    .col(timestamp_with_time_zone("created_at"))
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("courses")
                    .add_column(timestamp_with_time_zone_null("suspended_at"))
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("courses")
                    .drop_column("suspended_at")
                    .take(),
            )
            .await?;
        for table in ["server_settings", "refresh_tokens"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
