//! Membership plans (会员): a creator's subscription to all their courses (or a chosen
//! set, `membership_plan_courses`) and optionally their paid groups, for a period of
//! 1, 3 or 12 months, with optional early- and lapsed-renewal prices. A member holds an
//! entitlement of kind MEMBERSHIP whose `expires_at` is the membership's end.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds the plan tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(table: &str, column: &str, to: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(Alias::new(table), Alias::new(column))
        .to(Alias::new(to), Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let price = |name: &'static str| big_integer(name).check(Expr::col(name).gte(0)).take();
        let optional_price =
            |name: &'static str| big_integer_null(name).check(Expr::col(name).gte(0)).take();
        manager
            .create_table(
                Table::create()
                    .table("membership_plans")
                    .col(big_pk_auto("id"))
                    .col(big_integer("creator_id"))
                    .col(string_len("name", 64))
                    .col(
                        integer("period_months")
                            .check(Expr::col("period_months").is_in([1, 3, 12]))
                            .take(),
                    )
                    .col(price("price_fen"))
                    .col(optional_price("early_renewal_price_fen"))
                    .col(optional_price("lapsed_renewal_price_fen"))
                    .col(boolean("covers_all_courses").default(true))
                    .col(boolean("includes_groups").default(false))
                    .col(
                        string_len("status", 16)
                            .default("DRAFT")
                            .check(Expr::col("status").is_in(["DRAFT", "PUBLISHED", "ARCHIVED"]))
                            .take(),
                    )
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk("membership_plans", "creator_id", "creators"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("membership_plan_courses")
                    .col(big_pk_auto("id"))
                    .col(big_integer("plan_id"))
                    .col(big_integer("course_id"))
                    .foreign_key(&mut fk(
                        "membership_plan_courses",
                        "plan_id",
                        "membership_plans",
                    ))
                    .foreign_key(&mut fk("membership_plan_courses", "course_id", "courses"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_membership_plan_courses_plan_id_course_id")
                    .table("membership_plan_courses")
                    .col("plan_id")
                    .col("course_id")
                    .unique()
                    .take(),
            )
            .await?;
        // Access checks look up a member's plans by entitlement, then plans by creator.
        manager
            .create_index(
                Index::create()
                    .name("ix_membership_plans_creator_id")
                    .table("membership_plans")
                    .col("creator_id")
                    .take(),
            )
            .await
    }
}
