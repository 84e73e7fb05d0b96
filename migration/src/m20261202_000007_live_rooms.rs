//! Live rooms: each livestream gets a stream name that cannot be guessed from its id, an
//! event sequence, a pinned chat message; chat messages, the room's event log (what a
//! reconnecting client replays), muted viewers, and each replica's viewer count.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds the live-room columns and tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Event kinds the log holds (the SCREAMING_CASE names of `LiveEventKind`).
const EVENT_KINDS: [&str; 5] = [
    "STATUS_CHANGED",
    "MESSAGE_POSTED",
    "MESSAGE_DELETED",
    "MESSAGE_PINNED",
    "VIEWER_MUTED",
];

fn fk(table: &str, column: &str, target: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(Alias::new(table), Alias::new(column))
        .to(Alias::new(target), Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

fn index(table: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
    let mut statement = Index::create();
    statement
        .name(format!(
            "{}_{table}_{}",
            if unique { "uq" } else { "ix" },
            columns.join("_")
        ))
        .table(Alias::new(table));
    for column in columns {
        statement.col(Alias::new(*column));
    }
    if unique {
        statement.unique();
    }
    statement.take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [
            string_len_null("stream_name", 48),
            big_integer("last_event_sequence").default(0).take(),
            big_integer_null("pinned_message_id"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("livestreams")
                        .add_column(column)
                        .take(),
                )
                .await?;
        }
        // Existing livestreams get their random stream name here; new ones at scheduling.
        let random_hex = match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Postgres => {
                "substr(md5(random()::text || id::text), 1, 16)"
            }
            _ => "lower(hex(randomblob(8)))",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "UPDATE livestreams SET stream_name = 'zk' || id || '_' || {random_hex}"
            ))
            .await?;
        manager
            .create_index(index("livestreams", &["stream_name"], true))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("livestream_messages")
                    .col(big_pk_auto("id"))
                    .col(big_integer("livestream_id"))
                    .col(big_integer("user_id"))
                    .col(text("body"))
                    .col(string_len("client_message_id", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("deleted_at"))
                    .col(big_integer_null("deleted_by"))
                    .foreign_key(&mut fk(
                        "livestream_messages",
                        "livestream_id",
                        "livestreams",
                    ))
                    .foreign_key(&mut fk("livestream_messages", "user_id", "users"))
                    .take(),
            )
            .await?;
        // A retried send finds the first message; the room's chat is read by id.
        manager
            .create_index(index(
                "livestream_messages",
                &["livestream_id", "user_id", "client_message_id"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "livestream_messages",
                &["livestream_id", "id"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("livestream_events")
                    .col(big_pk_auto("id"))
                    .col(big_integer("livestream_id"))
                    .col(big_integer("sequence").check(Expr::col("sequence").gt(0)))
                    .col(
                        string_len("kind", 16)
                            .check(Expr::col("kind").is_in(EVENT_KINDS))
                            .take(),
                    )
                    .col(string_len_null("status", 16))
                    .col(big_integer_null("message_id"))
                    .col(big_integer_null("user_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("livestream_events", "livestream_id", "livestreams"))
                    .take(),
            )
            .await?;
        // One event per sequence number: the log a reconnecting client replays.
        manager
            .create_index(index(
                "livestream_events",
                &["livestream_id", "sequence"],
                true,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("livestream_mutes")
                    .col(big_pk_auto("id"))
                    .col(big_integer("livestream_id"))
                    .col(big_integer("user_id"))
                    .col(big_integer("muted_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("livestream_mutes", "livestream_id", "livestreams"))
                    .foreign_key(&mut fk("livestream_mutes", "user_id", "users"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "livestream_mutes",
                &["livestream_id", "user_id"],
                true,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("live_presence")
                    .col(string_len("instance_id", 64))
                    .col(big_integer("livestream_id"))
                    .col(big_integer("viewers").check(Expr::col("viewers").gte(0)))
                    .col(timestamp_with_time_zone("heartbeat_at"))
                    .primary_key(
                        Index::create()
                            .col(Alias::new("instance_id"))
                            .col(Alias::new("livestream_id")),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(index("live_presence", &["livestream_id"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "live_presence",
            "livestream_mutes",
            "livestream_events",
            "livestream_messages",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("uq_livestreams_stream_name")
                    .table(Alias::new("livestreams"))
                    .to_owned(),
            )
            .await?;
        for column in ["pinned_message_id", "last_event_sequence", "stream_name"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("livestreams")
                        .drop_column(Alias::new(column))
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
