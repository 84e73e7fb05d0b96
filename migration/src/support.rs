//! Building blocks the migrations share: foreign keys named as the schema names them,
//! one added column at a time (SQLite adds one per statement), and the widening of a
//! `product_kind` CHECK on both databases.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::prelude::*;

/// A foreign key `fk_{table}_{column}` from `table.column` to `to.id`.
pub fn fk(
    table: &str,
    column: &str,
    to: &str,
    action: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(Alias::new(table), Alias::new(column))
        .to(Alias::new(to), Alias::new("id"))
        .on_delete(action)
        .take()
}

/// Adds one column to `table`.
pub async fn add_column(
    manager: &SchemaManager<'_>,
    table: &str,
    column: ColumnDef,
) -> Result<(), DbErr> {
    let mut column = column;
    manager
        .alter_table(
            Table::alter()
                .table(Alias::new(table))
                .add_column(&mut column)
                .to_owned(),
        )
        .await
}

/// The SQLite script that rebuilds `table` with the `old` list of its CHECK replaced by
/// `new`, the way SQLite documents (a new table from the stored definition, rows
/// copied, the old one dropped, the new one renamed, indexes recreated).
async fn sqlite_rebuild(
    db: &SchemaManagerConnection<'_>,
    table: &str,
    old: &str,
    new: &str,
) -> Result<String, DbErr> {
    let stored = |kind: &str| {
        Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE type = ? AND tbl_name = ? AND sql IS NOT NULL",
            [kind.into(), table.into()],
        )
    };
    let definition: String = db
        .query_one_raw(stored("table"))
        .await?
        .ok_or_else(|| DbErr::Migration(format!("no table {table}")))?
        .try_get("", "sql")?;
    if !definition.contains(old) {
        return Err(DbErr::Migration(format!(
            "{table}: the product_kind CHECK is not the one this migration widens"
        )));
    }
    let rebuilt = format!("{table}_rebuilt");
    let definition = definition
        .replacen(
            &format!("CREATE TABLE \"{table}\""),
            &format!("CREATE TABLE \"{rebuilt}\""),
            1,
        )
        .replace(old, new);
    let mut indexes = Vec::new();
    for row in db.query_all_raw(stored("index")).await? {
        indexes.push(row.try_get::<String>("", "sql")?);
    }
    Ok(format!(
        "{definition};\nINSERT INTO \"{rebuilt}\" SELECT * FROM \"{table}\";\n\
         DROP TABLE \"{table}\";\nALTER TABLE \"{rebuilt}\" RENAME TO \"{table}\";\n{};\n",
        indexes.join(";\n")
    ))
}

/// Widens the `product_kind` CHECK of each of `tables` from the list `old` to `new`
/// (both written as SQL, `('COURSE', …)`): PostgreSQL replaces the constraint; SQLite,
/// which cannot alter a CHECK, rebuilds the tables with foreign keys off, in one
/// transaction.
pub async fn widen_product_kinds(
    manager: &SchemaManager<'_>,
    tables: &[&str],
    old: &str,
    new: &str,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Sqlite => {
            let mut script = String::from("PRAGMA foreign_keys = OFF;\nBEGIN;\n");
            for table in tables {
                script.push_str(&sqlite_rebuild(db, table, old, new).await?);
            }
            script.push_str("COMMIT;\nPRAGMA foreign_keys = ON;\n");
            db.execute_unprepared(&script).await?;
        }
        _ => {
            for table in tables {
                db.execute_unprepared(&format!(
                    "ALTER TABLE {table} DROP CONSTRAINT {table}_product_kind_check; \
                     ALTER TABLE {table} ADD CONSTRAINT {table}_product_kind_check \
                     CHECK (product_kind IN {new})"
                ))
                .await?;
            }
        }
    }
    Ok(())
}
