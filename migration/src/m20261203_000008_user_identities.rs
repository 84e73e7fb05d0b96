//! One person, many apps: a user's WeChat openids move from `users.openid` to
//! `user_identities`, one row per app the user signed in from (the mini-program, the
//! official account), each `(app, openid)` unique and at most one per user and app.
//! Every existing user keeps their mini-program openid as an identity row; then the
//! column goes. `users.unionid` stays: it is what joins a person's identities.
//!
//! With the official account come H5 sessions (refresh-token audience `h5`),
//! `oauth_states` (the sign-in states already spent) and `orders.pay_app`, the app an
//! order is paid in.
//!
//! SQLite can neither drop a UNIQUE column nor change a CHECK, so there the two tables
//! are rebuilt the way SQLite's documentation prescribes (foreign keys off, copy, drop,
//! rename, in one transaction); PostgreSQL alters them.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `user_identities` and moves the openids into it.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Apps a user signs in from (the SCREAMING_CASE names of `IdentityApp`).
const APPS: [&str; 2] = ["MINI_PROGRAM", "OFFICIAL_ACCOUNT"];

const COPY_OPENIDS: &str = "INSERT INTO user_identities (user_id, app, openid, created_at) \
     SELECT id, 'MINI_PROGRAM', openid, created_at FROM users";

/// `users` without `openid`, as SQLite's table rebuild needs it (the same columns and
/// constraints as before, in the same order otherwise).
const SQLITE_REBUILD: &str = r#"
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE "users_rebuilt" (
  "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "unionid" varchar(64) NULL UNIQUE,
  "nickname" varchar(64) NULL,
  "avatar_url" varchar(512) NULL,
  "role" varchar(16) NOT NULL CHECK ("role" IN ('LEARNER', 'CREATOR', 'ADMIN')),
  "banned_at" timestamp_with_timezone_text NULL,
  "created_at" timestamp_with_timezone_text NOT NULL,
  "updated_at" timestamp_with_timezone_text NOT NULL,
  "tokens_valid_after" timestamp_with_timezone_text NULL
);
INSERT INTO "users_rebuilt" (id, unionid, nickname, avatar_url, role, banned_at, created_at, updated_at, tokens_valid_after)
  SELECT id, unionid, nickname, avatar_url, role, banned_at, created_at, updated_at, tokens_valid_after FROM "users";
DROP TABLE "users";
ALTER TABLE "users_rebuilt" RENAME TO "users";
CREATE TABLE "refresh_tokens_rebuilt" (
  "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "user_id" integer NOT NULL,
  "token_hash" varchar(64) NOT NULL UNIQUE,
  "audience" varchar(16) NOT NULL CHECK ("audience" IN ('miniprogram', 'console', 'h5')),
  "created_at" timestamp_with_timezone_text NOT NULL,
  "expires_at" timestamp_with_timezone_text NOT NULL,
  "used_at" timestamp_with_timezone_text NULL,
  "revoked_at" timestamp_with_timezone_text NULL,
  FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);
INSERT INTO "refresh_tokens_rebuilt" SELECT id, user_id, token_hash, audience, created_at, expires_at, used_at, revoked_at FROM "refresh_tokens";
DROP TABLE "refresh_tokens";
ALTER TABLE "refresh_tokens_rebuilt" RENAME TO "refresh_tokens";
CREATE INDEX "ix_refresh_tokens_user_id" ON "refresh_tokens" ("user_id");
COMMIT;
PRAGMA foreign_keys = ON;
"#;

/// Refresh tokens of H5 sessions (`h5`) join the audiences the CHECK allows.
const POSTGRES_AUDIENCES: &str = "ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_audience_check; \
     ALTER TABLE refresh_tokens ADD CONSTRAINT refresh_tokens_audience_check \
     CHECK (audience IN ('miniprogram', 'console', 'h5'))";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("user_identities")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(
                        string_len("app", 16)
                            .check(Expr::col("app").is_in(APPS))
                            .take(),
                    )
                    .col(string_len("openid", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_identities_user_id")
                            .from("user_identities", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        for (name, columns) in [
            // An openid names one identity of one app.
            ("uq_user_identities_app_openid", ["app", "openid"]),
            // A person has one openid per app.
            ("uq_user_identities_user_id_app", ["user_id", "app"]),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("user_identities")
                        .col(Alias::new(columns[0]))
                        .col(Alias::new(columns[1]))
                        .unique()
                        .take(),
                )
                .await?;
        }
        // Orders remember the app they are paid in (H5 pages pay in the official account).
        manager
            .alter_table(
                Table::alter()
                    .table("orders")
                    .add_column(
                        string_len("pay_app", 16)
                            .default("MINI_PROGRAM")
                            .check(Expr::col("pay_app").is_in(APPS))
                            .take(),
                    )
                    .take(),
            )
            .await?;
        // Official-account sign-in states already spent (each works once).
        manager
            .create_table(
                Table::create()
                    .table("oauth_states")
                    .col(string_len("nonce", 32).primary_key())
                    .col(timestamp_with_time_zone("expires_at"))
                    .take(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(COPY_OPENIDS).await?;
        match manager.get_database_backend() {
            sea_orm::DbBackend::Sqlite => {
                db.execute_unprepared(SQLITE_REBUILD).await?;
            }
            _ => {
                manager
                    .alter_table(Table::alter().table("users").drop_column("openid").take())
                    .await?;
                db.execute_unprepared(POSTGRES_AUDIENCES).await?;
            }
        }
        Ok(())
    }
}
