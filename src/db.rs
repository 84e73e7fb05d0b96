//! Database connection: pool settings per backend, migrations, write transactions.
//!
//! Both backends run the same service code. SQLite gets WAL (readers never wait for the
//! writer), a busy timeout (writers queue instead of failing), foreign keys (off by
//! default in SQLite) and a real pool. Write transactions begin IMMEDIATE on SQLite:
//! a deferred transaction that reads and then writes fails with SQLITE_BUSY when another
//! writer got there first, and SQLite has no `SELECT ... FOR UPDATE` to prevent it.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::DatabaseConfig;

/// Opens a pool for the configured database (without migrating it).
pub async fn connect(config: &DatabaseConfig) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .max_connections(config.db_max_connections.max(1))
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        // Statements are counted and timed by the metric callback; sqlx's own log would
        // print bound values, which may be personal data.
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    Database::connect(options).await
}

/// Opens the database and brings its schema up to date.
pub async fn connect_and_migrate(config: &DatabaseConfig) -> Result<DatabaseConnection, DbErr> {
    let db = connect(config).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// Begins a transaction meant to write: IMMEDIATE on SQLite, the default elsewhere.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}
