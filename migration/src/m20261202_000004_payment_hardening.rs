//! Money and access under faults: at most one PENDING order per buyer and product (two
//! open orders could both be paid), and a per-user time before which access tokens are
//! void (moved by logout everywhere and by refresh-token reuse detection).

use sea_orm_migration::{prelude::*, schema::*};

/// Adds the one-pending-order index and `users.tokens_valid_after`.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Name of the partial unique index over pending orders.
const ONE_PENDING: &str = "ux_orders_one_pending_per_buyer_product";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Older duplicates are closed first (the newest stays open). A payment that
        // still arrives for one of them is applied to the closed order, which the
        // service completes or refunds.
        db.execute_unprepared(
            "UPDATE orders SET status = 'CLOSED', closed_at = updated_at \
             WHERE status = 'PENDING' AND id NOT IN \
             (SELECT MAX(id) FROM orders WHERE status = 'PENDING' \
              GROUP BY buyer_id, product_kind, product_id)",
        )
        .await?;
        // A partial index: SQLite and PostgreSQL both take this statement as written.
        db.execute_unprepared(&format!(
            "CREATE UNIQUE INDEX {ONE_PENDING} ON orders (buyer_id, product_kind, product_id) \
             WHERE status = 'PENDING'"
        ))
        .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .add_column(timestamp_with_time_zone_null("tokens_valid_after"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .drop_column("tokens_valid_after")
                    .take(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(&format!("DROP INDEX {ONE_PENDING}"))
            .await?;
        Ok(())
    }
}
