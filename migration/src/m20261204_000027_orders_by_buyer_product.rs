//! The recommendation funnel asks, for each impression, whether the learner bought that
//! course within seven days. No index led with the buyer and the product: PostgreSQL
//! walked `ix_orders_paid_sales` over seven days of paid orders for each of them
//! (`EXPLAIN ANALYZE`, demo data, half a year: 21,499 probes at 0.019 ms, 400 of the
//! query's 517 ms). `(buyer_id, product_kind, product_id, paid_at)` answers each probe
//! from a handful of index entries: the same query took 116 ms with it.

use sea_orm_migration::prelude::*;

/// Adds the buyer-and-product index of orders.
#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "orders";
const NAME: &str = "ix_orders_buyer_id_product_kind_product_id_paid_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut index = Index::create();
        index.name(NAME).table(Alias::new(TABLE));
        for column in ["buyer_id", "product_kind", "product_id", "paid_at"] {
            index.col(Alias::new(column));
        }
        manager.create_index(index.take()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NAME).table(Alias::new(TABLE)).to_owned())
            .await
    }
}
