//! Kinds of group posts: talk, question, task (homework or a check-in), announcement.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `group_posts.kind` (TALK for every existing post).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("group_posts")
                    .add_column(
                        string_len("kind", 16)
                            .default("TALK")
                            .check(Expr::col("kind").is_in([
                                "TALK",
                                "QUESTION",
                                "TASK",
                                "ANNOUNCEMENT",
                            ]))
                            .take(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("group_posts")
                    .drop_column("kind")
                    .to_owned(),
            )
            .await
    }
}
