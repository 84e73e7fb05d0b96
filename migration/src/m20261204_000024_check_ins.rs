//! Check-in challenges (打卡): a group keeps a time zone (its days), a TASK post may run
//! from one local day to another, and members check in once per day of it.

use sea_orm_migration::{prelude::*, schema::*};

use crate::support::{add_column, fk};

/// Adds `community_groups.time_zone`, `group_posts.task_starts_on` / `task_ends_on` and
/// `task_check_ins`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            "community_groups",
            string_len("time_zone", 64).default("Asia/Shanghai").take(),
        )
        .await?;
        add_column(manager, "group_posts", date_null("task_starts_on").take()).await?;
        add_column(manager, "group_posts", date_null("task_ends_on").take()).await?;
        manager
            .create_table(
                Table::create()
                    .table("task_check_ins")
                    .col(big_pk_auto("id"))
                    .col(big_integer("post_id"))
                    .col(big_integer("user_id"))
                    // The local day (in the group's time zone) it counts for.
                    .col(date("day"))
                    .col(text_null("note"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "task_check_ins",
                        "post_id",
                        "group_posts",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "task_check_ins",
                        "user_id",
                        "users",
                        ForeignKeyAction::Cascade,
                    ))
                    // One check-in per member and day: the race of two taps is the index's.
                    .index(
                        Index::create()
                            .name("ux_task_check_ins_post_id_user_id_day")
                            .col(Alias::new("post_id"))
                            .col(Alias::new("user_id"))
                            .col(Alias::new("day"))
                            .unique(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("task_check_ins").to_owned())
            .await?;
        for (table, column) in [
            ("group_posts", "task_ends_on"),
            ("group_posts", "task_starts_on"),
            ("community_groups", "time_zone"),
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
