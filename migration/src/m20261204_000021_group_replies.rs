//! Replies to group posts: shown flat in time order, each optionally answering another
//! reply of the same post, and the post's `reply_count`, kept by the reply's own
//! transaction.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `group_replies` and `group_posts.reply_count`.
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
                        big_integer("reply_count")
                            .default(0)
                            .check(Expr::col("reply_count").gte(0))
                            .take(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("group_replies")
                    .col(big_pk_auto("id"))
                    .col(big_integer("post_id"))
                    .col(big_integer("author_id"))
                    // The reply this one answers (same post), if any.
                    .col(big_integer_null("reply_to_id"))
                    .col(text("body"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_group_replies_post_id")
                            .from(Alias::new("group_replies"), Alias::new("post_id"))
                            .to(Alias::new("group_posts"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_group_replies_author_id")
                            .from(Alias::new("group_replies"), Alias::new("author_id"))
                            .to(Alias::new("users"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_group_replies_post_id_id")
                    .table(Alias::new("group_replies"))
                    .col(Alias::new("post_id"))
                    .col(Alias::new("id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("group_replies").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("group_posts")
                    .drop_column("reply_count")
                    .to_owned(),
            )
            .await
    }
}
