//! A buyer's orders (`viewer.orders`) are listed newest first by id alone, which the
//! `(buyer_id, created_at, id)` index of `m20261202_000005` does not serve on
//! PostgreSQL: every page sorted all of the buyer's orders (`EXPLAIN ANALYZE`: a top-N
//! heapsort after a bitmap scan). `(buyer_id, id)` is walked backwards and stops after
//! the page; it replaces the old index, which no query uses.

use sea_orm_migration::prelude::*;

/// Replaces the buyer index.
#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "orders";
const OLD: &str = "ix_orders_buyer_id_created_at_id";
const NEW: &str = "ix_orders_buyer_id_id";

fn create(name: &str, columns: &[&str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(Alias::new(TABLE));
    for column in columns {
        index.col(Alias::new(*column));
    }
    index.take()
}

fn drop(name: &str) -> IndexDropStatement {
    Index::drop().name(name).table(Alias::new(TABLE)).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(create(NEW, &["buyer_id", "id"]))
            .await?;
        manager.drop_index(drop(OLD)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(create(OLD, &["buyer_id", "created_at", "id"]))
            .await?;
        manager.drop_index(drop(NEW)).await
    }
}
