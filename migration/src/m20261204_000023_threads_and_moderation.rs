//! Threads that can be curated and moderated: post images, hashtags, digest, edits and
//! soft deletes (the reason kept) of posts and replies, mutes and removals of group
//! members, and members' reports of posts.

use sea_orm_migration::{prelude::*, schema::*};

use crate::support::{add_column, fk};

/// Adds the post and reply columns and `post_hashtags`, `group_mutes`, `group_removals`
/// and `post_reports`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Posts: images and hashtags (JSON arrays of strings, shown with the post), digest (精华), edits and soft deletes.
        add_column(manager, "group_posts", text("images").default("[]").take()).await?;
        add_column(
            manager,
            "group_posts",
            text("hashtags").default("[]").take(),
        )
        .await?;
        add_column(
            manager,
            "group_posts",
            boolean("digest").default(false).take(),
        )
        .await?;
        add_column(
            manager,
            "group_posts",
            timestamp_with_time_zone_null("edited_at").take(),
        )
        .await?;
        add_column(
            manager,
            "group_posts",
            timestamp_with_time_zone_null("deleted_at").take(),
        )
        .await?;
        add_column(
            manager,
            "group_posts",
            big_integer_null("deleted_by_id").take(),
        )
        .await?;
        add_column(
            manager,
            "group_posts",
            string_len_null("delete_reason", 200).take(),
        )
        .await?;
        add_column(
            manager,
            "group_replies",
            timestamp_with_time_zone_null("deleted_at").take(),
        )
        .await?;
        add_column(
            manager,
            "group_replies",
            big_integer_null("deleted_by_id").take(),
        )
        .await?;
        add_column(
            manager,
            "group_replies",
            string_len_null("delete_reason", 200).take(),
        )
        .await?;

        // A post's hashtags, one row each, so a group's posts can be listed by tag.
        manager
            .create_table(
                Table::create()
                    .table("post_hashtags")
                    .col(big_pk_auto("id"))
                    .col(big_integer("post_id"))
                    .col(big_integer("group_id"))
                    .col(string_len("tag", 32))
                    .foreign_key(&mut fk(
                        "post_hashtags",
                        "post_id",
                        "group_posts",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "post_hashtags",
                        "group_id",
                        "community_groups",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_post_hashtags_post_id_tag")
                    .table(Alias::new("post_hashtags"))
                    .col(Alias::new("post_id"))
                    .col(Alias::new("tag"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_post_hashtags_group_id_tag")
                    .table(Alias::new("post_hashtags"))
                    .col(Alias::new("group_id"))
                    .col(Alias::new("tag"))
                    .col(Alias::new("post_id"))
                    .to_owned(),
            )
            .await?;

        // Mutes: one row per (group, member), its end moved by each new mute.
        manager
            .create_table(
                Table::create()
                    .table("group_mutes")
                    .col(big_pk_auto("id"))
                    .col(big_integer("group_id"))
                    .col(big_integer("user_id"))
                    .col(timestamp_with_time_zone("muted_until"))
                    .col(string_len_null("reason", 200))
                    .col(big_integer_null("muted_by_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "group_mutes",
                        "group_id",
                        "community_groups",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "group_mutes",
                        "user_id",
                        "users",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "group_mutes",
                        "muted_by_id",
                        "users",
                        ForeignKeyAction::SetNull,
                    ))
                    .index(
                        Index::create()
                            .name("ux_group_mutes_group_id_user_id")
                            .col(Alias::new("group_id"))
                            .col(Alias::new("user_id"))
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;

        // Removals: a member removed for abuse may not rejoin or post.
        manager
            .create_table(
                Table::create()
                    .table("group_removals")
                    .col(big_pk_auto("id"))
                    .col(big_integer("group_id"))
                    .col(big_integer("user_id"))
                    .col(string_len_null("reason", 200))
                    .col(big_integer_null("removed_by_id"))
                    .col(timestamp_with_time_zone("removed_at"))
                    .foreign_key(&mut fk(
                        "group_removals",
                        "group_id",
                        "community_groups",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "group_removals",
                        "user_id",
                        "users",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "group_removals",
                        "removed_by_id",
                        "users",
                        ForeignKeyAction::SetNull,
                    ))
                    .index(
                        Index::create()
                            .name("ux_group_removals_group_id_user_id")
                            .col(Alias::new("group_id"))
                            .col(Alias::new("user_id"))
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;

        // Reports: one per (post, reporter); open until an admin resolves it.
        manager
            .create_table(
                Table::create()
                    .table("post_reports")
                    .col(big_pk_auto("id"))
                    .col(big_integer("post_id"))
                    .col(big_integer("reporter_id"))
                    .col(string_len("reason", 500))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("resolved_at"))
                    .col(big_integer_null("resolved_by_id"))
                    .foreign_key(&mut fk(
                        "post_reports",
                        "post_id",
                        "group_posts",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "post_reports",
                        "reporter_id",
                        "users",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "post_reports",
                        "resolved_by_id",
                        "users",
                        ForeignKeyAction::SetNull,
                    ))
                    .index(
                        Index::create()
                            .name("ux_post_reports_post_id_reporter_id")
                            .col(Alias::new("post_id"))
                            .col(Alias::new("reporter_id"))
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_post_reports_resolved_at_id")
                    .table(Alias::new("post_reports"))
                    .col(Alias::new("resolved_at"))
                    .col(Alias::new("id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "post_reports",
            "group_removals",
            "group_mutes",
            "post_hashtags",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        for (table, column) in [
            ("group_replies", "delete_reason"),
            ("group_replies", "deleted_by_id"),
            ("group_replies", "deleted_at"),
            ("group_posts", "delete_reason"),
            ("group_posts", "deleted_by_id"),
            ("group_posts", "deleted_at"),
            ("group_posts", "edited_at"),
            ("group_posts", "digest"),
            ("group_posts", "hashtags"),
            ("group_posts", "images"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
