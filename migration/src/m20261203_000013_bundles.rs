//! Bundles (专栏): several courses of one creator sold together (`bundles`,
//! `bundle_courses`). Orders and entitlements gain the product kinds `BUNDLE` and
//! `MEMBERSHIP` (membership plans come next): their `product_kind` CHECKs are widened.
//!
//! PostgreSQL replaces the two CHECK constraints. SQLite cannot alter a CHECK, so each
//! table is rebuilt the way SQLite documents (foreign keys off, a new table from the
//! stored definition with the wider list, rows copied, old table dropped, new one
//! renamed, indexes recreated from their stored definitions), in one transaction.

use sea_orm_migration::{prelude::*, schema::*};

use crate::support::fk;

/// Adds bundles and widens the product kinds.
#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD_KINDS: &str = "('COURSE', 'LIVESTREAM', 'GROUP')";
const NEW_KINDS: &str = "('COURSE', 'LIVESTREAM', 'GROUP', 'BUNDLE', 'MEMBERSHIP')";

/// The tables whose `product_kind` CHECK is widened.
const TABLES: [&str; 2] = ["orders", "entitlements"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::support::widen_product_kinds(manager, &TABLES, OLD_KINDS, NEW_KINDS).await?;
        manager
            .create_table(
                Table::create()
                    .table("bundles")
                    .col(big_pk_auto("id"))
                    .col(big_integer("creator_id"))
                    .col(string_len("title", 128))
                    .col(text_null("description"))
                    .col(string_len_null("cover_url", 512))
                    .col(big_integer("price_fen").check(Expr::col("price_fen").gte(0)))
                    .col(
                        string_len("status", 16)
                            .default("DRAFT")
                            .check(Expr::col("status").is_in(["DRAFT", "PUBLISHED", "ARCHIVED"]))
                            .take(),
                    )
                    // Courses added later are granted to earlier buyers too.
                    .col(boolean("includes_future").default(false))
                    // A buyer's price is reduced by what they paid for courses they own.
                    .col(boolean("credit_owned").default(true))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "bundles",
                        "creator_id",
                        "creators",
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_bundles_creator_id")
                    .table("bundles")
                    .col("creator_id")
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("bundle_courses")
                    .col(big_pk_auto("id"))
                    .col(big_integer("bundle_id"))
                    .col(big_integer("course_id"))
                    .col(integer("position"))
                    .col(timestamp_with_time_zone("added_at"))
                    .foreign_key(&mut fk(
                        "bundle_courses",
                        "bundle_id",
                        "bundles",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "bundle_courses",
                        "course_id",
                        "courses",
                        ForeignKeyAction::Restrict,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_bundle_courses_bundle_id_course_id")
                    .table("bundle_courses")
                    .col("bundle_id")
                    .col("course_id")
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_bundle_courses_course_id")
                    .table("bundle_courses")
                    .col("course_id")
                    .take(),
            )
            .await
    }
}
