//! Indexes that serve each list's filter and ORDER BY as written, so a page is a walk
//! down an index instead of a sort of the whole filtered table on every request.
//!
//! Lists order by `(key, id)`: the key the client chose, then the id to break ties
//! (keyset pagination needs a total order). Each index ends in `id` so PostgreSQL can
//! stop after the page; SQLite appends the rowid (`id`) to every index anyway. The
//! rating order sorts by a computed Bayesian average and is left to a sort: it needs an
//! expression index the two backends write differently, over a few hundred courses.

use sea_orm_migration::prelude::*;

/// Adds the read-path indexes.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, columns) of every index added; names are `ix_<table>_<columns>`.
const INDEXES: [(&str, &[&str]); 10] = [
    // The catalogue: published courses, newest / best-selling / cheapest first.
    ("courses", &["status", "created_at", "id"]),
    ("courses", &["status", "sales_count", "id"]),
    ("courses", &["status", "price_fen", "id"]),
    // A creator's courses (`creator.courses`), newest first.
    ("courses", &["creator_id", "status", "created_at", "id"]),
    // The creator list, newest first or by name.
    ("creators", &["created_at", "id"]),
    ("creators", &["display_name", "id"]),
    // A buyer's orders (`viewer.orders`), newest first.
    ("orders", &["buyer_id", "created_at", "id"]),
    // The group list and a creator's groups, newest first.
    ("community_groups", &["created_at", "id"]),
    ("community_groups", &["creator_id", "created_at", "id"]),
    // Rating distributions: counted from the index alone, without reading the ratings.
    ("ratings", &["course_id", "hidden_at", "stars"]),
];

fn name(table: &str, columns: &[&str]) -> String {
    format!("ix_{table}_{}", columns.join("_"))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, columns) in INDEXES {
            let mut index = Index::create();
            index.name(name(table, columns)).table(Alias::new(table));
            for column in columns {
                index.col(Alias::new(*column));
            }
            manager.create_index(index.take()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, columns) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(name(table, columns))
                        .table(Alias::new(table))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
