//! The whole data model of the first release: users and creators, the three kinds of
//! product (courses with lessons, livestreams, community groups), follows, orders with
//! refunds, payment events, entitlements and ratings.
//!
//! Rules the database can hold are held here: foreign keys, the uniqueness that money
//! and access depend on, CHECK constraints on enums, prices and stars.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates every table, constraint and index of the first release.
#[derive(DeriveMigrationName)]
pub struct Migration;

const ROLES: [&str; 3] = ["LEARNER", "CREATOR", "ADMIN"];
const COURSE_STATUSES: [&str; 3] = ["DRAFT", "PUBLISHED", "ARCHIVED"];
const LESSON_KINDS: [&str; 3] = ["VIDEO", "AUDIO", "ARTICLE"];
const LIVESTREAM_STATUSES: [&str; 4] = ["SCHEDULED", "LIVE", "ENDED", "CANCELLED"];
const ORDER_STATUSES: [&str; 5] = ["PENDING", "PAID", "REFUNDING", "REFUNDED", "CLOSED"];
const PRODUCT_KINDS: [&str; 3] = ["COURSE", "LIVESTREAM", "GROUP"];
const REFUND_STATUSES: [&str; 4] = ["PROCESSING", "SUCCESS", "ABNORMAL", "CLOSED"];

/// A short string column limited to the given values.
fn enum_col(name: &'static str, values: &[&'static str]) -> ColumnDef {
    string_len(name, 16)
        .check(Expr::col(name).is_in(values.iter().copied()))
        .take()
}

/// A non-negative amount of money in fen.
fn fen_col(name: &'static str) -> ColumnDef {
    big_integer(name).check(Expr::col(name).gte(0)).take()
}

/// A non-negative counter starting at zero.
fn counter_col(name: &'static str) -> ColumnDef {
    big_integer(name)
        .default(0)
        .check(Expr::col(name).gte(0))
        .take()
}

/// A foreign key from `table.column` to `target.id`.
fn fk(
    table: &'static str,
    column: &'static str,
    target: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, "id")
        .on_delete(on_delete)
        .take()
}

/// An index named after its table and columns.
fn index(table: &'static str, columns: &[&'static str], unique: bool) -> IndexCreateStatement {
    let mut statement = Index::create();
    statement
        .name(format!(
            "{}_{table}_{}",
            if unique { "uq" } else { "ix" },
            columns.join("_")
        ))
        .table(table);
    for column in columns {
        statement.col(*column);
    }
    if unique {
        statement.unique();
    }
    statement.take()
}

use ForeignKeyAction::{Cascade, Restrict, SetNull};

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table("users")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("openid", 64))
                .col(string_len_null("unionid", 64).unique_key())
                .col(string_len_null("nickname", 64))
                .col(string_len_null("avatar_url", 512))
                .col(enum_col("role", &ROLES))
                .col(timestamp_with_time_zone_null("banned_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .take(),
            Table::create()
                .table("creators")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("user_id"))
                .col(string_len("display_name", 64))
                .col(text_null("bio"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("creators", "user_id", "users", Cascade))
                .take(),
            Table::create()
                .table("courses")
                .col(big_pk_auto("id"))
                .col(big_integer("creator_id"))
                .col(string_len("title", 128))
                .col(string_len_null("subtitle", 256))
                .col(text_null("description"))
                .col(string_len_null("cover_url", 512))
                .col(string_len("category", 64))
                .col(fen_col("price_fen"))
                .col(enum_col("status", &COURSE_STATUSES))
                .col(counter_col("sales_count"))
                .col(counter_col("rating_count"))
                .col(counter_col("rating_sum"))
                .col(timestamp_with_time_zone_null("published_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("courses", "creator_id", "creators", Restrict))
                .take(),
            Table::create()
                .table("lessons")
                .col(big_pk_auto("id"))
                .col(big_integer("course_id"))
                .col(integer("position").check(Expr::col("position").gte(1)))
                .col(string_len("title", 128))
                .col(enum_col("kind", &LESSON_KINDS))
                .col(integer("duration_seconds").check(Expr::col("duration_seconds").gte(0)))
                .col(boolean("free_preview"))
                .col(text_null("content"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("lessons", "course_id", "courses", Cascade))
                .take(),
            Table::create()
                .table("livestreams")
                .col(big_pk_auto("id"))
                .col(big_integer("creator_id"))
                .col(string_len("title", 128))
                .col(text_null("description"))
                .col(enum_col("status", &LIVESTREAM_STATUSES))
                .col(timestamp_with_time_zone("scheduled_start"))
                .col(timestamp_with_time_zone_null("started_at"))
                .col(timestamp_with_time_zone_null("ended_at"))
                .col(fen_col("price_fen"))
                .col(string_len_null("play_url", 512))
                .col(string_len_null("replay_url", 512))
                .col(
                    integer("peak_viewers")
                        .default(0)
                        .check(Expr::col("peak_viewers").gte(0)),
                )
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("livestreams", "creator_id", "creators", Restrict))
                .take(),
            Table::create()
                .table("community_groups")
                .col(big_pk_auto("id"))
                .col(big_integer("creator_id"))
                .col(string_len("name", 64))
                .col(text_null("description"))
                .col(fen_col("price_fen"))
                .col(integer_null("membership_days").check(Expr::col("membership_days").gt(0)))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "community_groups",
                    "creator_id",
                    "creators",
                    Restrict,
                ))
                .take(),
            Table::create()
                .table("group_memberships")
                .col(big_pk_auto("id"))
                .col(big_integer("group_id"))
                .col(big_integer("user_id"))
                .col(timestamp_with_time_zone("joined_at"))
                .col(timestamp_with_time_zone_null("expires_at"))
                .foreign_key(&mut fk(
                    "group_memberships",
                    "group_id",
                    "community_groups",
                    Cascade,
                ))
                .foreign_key(&mut fk("group_memberships", "user_id", "users", Cascade))
                .take(),
            Table::create()
                .table("group_posts")
                .col(big_pk_auto("id"))
                .col(big_integer("group_id"))
                .col(big_integer("author_id"))
                .col(text("body"))
                .col(boolean("pinned").default(false))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "group_posts",
                    "group_id",
                    "community_groups",
                    Cascade,
                ))
                .foreign_key(&mut fk("group_posts", "author_id", "users", Cascade))
                .take(),
            Table::create()
                .table("follows")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(big_integer("creator_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("follows", "user_id", "users", Cascade))
                .foreign_key(&mut fk("follows", "creator_id", "creators", Cascade))
                .take(),
            Table::create()
                .table("orders")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("out_trade_no", 32))
                .col(big_integer("buyer_id"))
                .col(enum_col("product_kind", &PRODUCT_KINDS))
                .col(big_integer("product_id"))
                .col(fen_col("amount_fen"))
                .col(string_len("currency", 3).default("CNY"))
                .col(enum_col("status", &ORDER_STATUSES))
                .col(string_len("idempotency_key", 64))
                .col(string_len_null("transaction_id", 64).unique_key())
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("paid_at"))
                .col(timestamp_with_time_zone_null("refunded_at"))
                .col(timestamp_with_time_zone_null("closed_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("orders", "buyer_id", "users", Restrict))
                .take(),
            Table::create()
                .table("refunds")
                .col(big_pk_auto("id"))
                .col(big_integer("order_id"))
                .col(string_len_uniq("out_refund_no", 64))
                .col(string_len_null("refund_id", 64))
                .col(big_integer("amount_fen").check(Expr::col("amount_fen").gt(0)))
                .col(string_len_null("reason", 80))
                .col(enum_col("status", &REFUND_STATUSES))
                .col(big_integer("requested_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("succeeded_at"))
                .foreign_key(&mut fk("refunds", "order_id", "orders", Restrict))
                .foreign_key(&mut fk("refunds", "requested_by", "users", Restrict))
                .take(),
            Table::create()
                .table("entitlements")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(enum_col("product_kind", &PRODUCT_KINDS))
                .col(big_integer("product_id"))
                .col(big_integer_null("order_id"))
                .col(timestamp_with_time_zone("granted_at"))
                .col(timestamp_with_time_zone_null("expires_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut fk("entitlements", "user_id", "users", Cascade))
                .foreign_key(&mut fk("entitlements", "order_id", "orders", SetNull))
                .take(),
            Table::create()
                .table("payment_events")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("notification_id", 64))
                .col(string_len("event_type", 32))
                .col(big_integer_null("order_id"))
                .col(text("payload"))
                .col(timestamp_with_time_zone("received_at"))
                .foreign_key(&mut fk("payment_events", "order_id", "orders", SetNull))
                .take(),
            Table::create()
                .table("ratings")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(big_integer("course_id"))
                .col(integer("stars").check(Expr::col("stars").between(1, 5)))
                .col(text_null("review"))
                .col(timestamp_with_time_zone_null("hidden_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("ratings", "user_id", "users", Cascade))
                .foreign_key(&mut fk("ratings", "course_id", "courses", Cascade))
                .take(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }

        let indexes = [
            // Catalogue lists: by status and publication, by creator, by category, by price.
            index("courses", &["status", "published_at"], false),
            index("courses", &["creator_id"], false),
            index("courses", &["category"], false),
            index("courses", &["price_fen"], false),
            // One lesson per place in a course; also serves "lessons of a course".
            index("lessons", &["course_id", "position"], true),
            index("livestreams", &["status", "scheduled_start"], false),
            index("livestreams", &["creator_id", "scheduled_start"], false),
            index("community_groups", &["creator_id"], false),
            index("group_memberships", &["group_id", "user_id"], true),
            index("group_memberships", &["user_id"], false),
            index("group_posts", &["group_id", "created_at"], false),
            index("follows", &["user_id", "creator_id"], true),
            index("follows", &["creator_id"], false),
            // A retried createOrder with the same key must find the first order.
            index("orders", &["buyer_id", "idempotency_key"], true),
            index("orders", &["product_kind", "product_id"], false),
            index("orders", &["status", "created_at"], false),
            index("refunds", &["order_id"], false),
            // One entitlement per user and product: the last line against double grants.
            index(
                "entitlements",
                &["user_id", "product_kind", "product_id"],
                true,
            ),
            index("entitlements", &["product_kind", "product_id"], false),
            index("payment_events", &["order_id"], false),
            // One rating per user and course.
            index("ratings", &["user_id", "course_id"], true),
            index("ratings", &["course_id", "created_at"], false),
        ];
        for statement in indexes {
            manager.create_index(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "ratings",
            "payment_events",
            "entitlements",
            "refunds",
            "orders",
            "follows",
            "group_posts",
            "group_memberships",
            "community_groups",
            "livestreams",
            "lessons",
            "courses",
            "creators",
            "users",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
