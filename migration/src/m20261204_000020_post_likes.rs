//! Likes on group posts: one per user and post (a unique index), and the post's
//! `like_count`, kept by the same transaction that adds or removes a like.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `post_likes` and `group_posts.like_count`.
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
                        big_integer("like_count")
                            .default(0)
                            .check(Expr::col("like_count").gte(0))
                            .take(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("post_likes")
                    .col(big_pk_auto("id"))
                    .col(big_integer("post_id"))
                    .col(big_integer("user_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_post_likes_post_id")
                            .from(Alias::new("post_likes"), Alias::new("post_id"))
                            .to(Alias::new("group_posts"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_post_likes_user_id")
                            .from(Alias::new("post_likes"), Alias::new("user_id"))
                            .to(Alias::new("users"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_post_likes_post_id_user_id")
                    .table(Alias::new("post_likes"))
                    .col(Alias::new("post_id"))
                    .col(Alias::new("user_id"))
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("post_likes").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("group_posts")
                    .drop_column("like_count")
                    .to_owned(),
            )
            .await
    }
}
