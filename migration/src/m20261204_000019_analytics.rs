//! Analytics: who viewed which product on which day (`product_views`), who entered which
//! live room (`livestream_attendances`), which recommended courses a learner was shown
//! on which day (`recommendation_impressions`), and the seller of every order
//! (`orders.seller_id`, copied from its product, which never changes hands), so a
//! creator's figures are index range scans over `(seller_id, paid_at)` instead of a
//! union over every product table.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds the view and attendance tables, `orders.seller_id` (filled in) and the indexes
/// the dashboards read through.
#[derive(DeriveMigrationName)]
pub struct Migration;

fn index(table: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index
        .name(format!(
            "{}_{table}_{}",
            if unique { "uq" } else { "ix" },
            columns.join("_")
        ))
        .table(Alias::new(table));
    for column in columns {
        index.col(Alias::new(*column));
    }
    if unique {
        index.unique();
    }
    index.take()
}

/// Each product kind's table, by the value `orders.product_kind` holds.
const PRODUCT_TABLES: [(&str, &str); 5] = [
    ("COURSE", "courses"),
    ("LIVESTREAM", "livestreams"),
    ("GROUP", "community_groups"),
    ("BUNDLE", "bundles"),
    ("MEMBERSHIP", "membership_plans"),
];

/// The orders indexes the sales figures are read through: a creator's sales by time,
/// the platform's by time, and each buyer's first purchase from a creator.
const SALES_INDEXES: [(&str, &[&str]); 3] = [
    (
        "ix_orders_seller_sales",
        &[
            "seller_id",
            "paid_at",
            "status",
            "amount_fen",
            "list_price_fen",
            "buyer_id",
            "product_kind",
            "product_id",
        ],
    ),
    (
        "ix_orders_paid_sales",
        &[
            "paid_at",
            "status",
            "amount_fen",
            "list_price_fen",
            "buyer_id",
            "seller_id",
            "product_kind",
            "product_id",
        ],
    ),
    (
        "ix_orders_seller_buyers",
        &["seller_id", "buyer_id", "paid_at", "status", "amount_fen"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("product_views")
                    .col(big_pk_auto("id"))
                    .col(string_len("product_kind", 16))
                    .col(big_integer("product_id"))
                    .col(big_integer("seller_id"))
                    // `u<user id>` for a signed-in viewer, `d<device id>` otherwise.
                    .col(string_len("viewer_key", 80))
                    // The platform day (Asia/Shanghai) of the view, YYYY-MM-DD.
                    .col(string_len("day", 10))
                    .col(timestamp_with_time_zone("viewed_at"))
                    .to_owned(),
            )
            .await?;
        for (columns, unique) in [
            (
                &["product_kind", "product_id", "viewer_key", "day"][..],
                true,
            ),
            (&["seller_id", "viewed_at"][..], false),
            (&["viewed_at"][..], false),
        ] {
            manager
                .create_index(index("product_views", columns, unique))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("livestream_attendances")
                    .col(big_pk_auto("id"))
                    .col(big_integer("livestream_id"))
                    .col(big_integer("user_id"))
                    .col(timestamp_with_time_zone("first_seen_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_livestream_attendances_livestream_id")
                            .from(
                                Alias::new("livestream_attendances"),
                                Alias::new("livestream_id"),
                            )
                            .to(Alias::new("livestreams"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "livestream_attendances",
                &["livestream_id", "user_id"],
                true,
            ))
            .await?;
        manager
            .create_index(index("livestream_attendances", &["first_seen_at"], false))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("recommendation_impressions")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(big_integer("course_id"))
                    // The platform day (Asia/Shanghai) it was shown, YYYY-MM-DD.
                    .col(string_len("day", 10))
                    .col(timestamp_with_time_zone("shown_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "recommendation_impressions",
                &["user_id", "course_id", "day"],
                true,
            ))
            .await?;
        manager
            .create_index(index("recommendation_impressions", &["shown_at"], false))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("orders")
                    .add_column(big_integer("seller_id").default(0))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for (kind, table) in PRODUCT_TABLES {
            db.execute_unprepared(&format!(
                "UPDATE orders SET seller_id = COALESCE((SELECT {table}.creator_id FROM {table} \
                 WHERE {table}.id = orders.product_id), 0) WHERE product_kind = '{kind}'"
            ))
            .await?;
        }
        for columns in [
            &["seller_id", "refunded_at"][..],
            &["refunded_at"][..],
            &["created_at"][..],
        ] {
            manager
                .create_index(index("orders", columns, false))
                .await?;
        }
        // Covering indexes: a dashboard's sales are read from the index alone.
        for (name, columns) in SALES_INDEXES {
            let mut covering = Index::create();
            covering.name(name).table(Alias::new("orders"));
            for column in columns.iter() {
                covering.col(Alias::new(*column));
            }
            manager.create_index(covering.take()).await?;
        }
        manager
            .create_index(index("follows", &["creator_id", "created_at"], false))
            .await?;
        manager
            .create_index(index("users", &["created_at"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in SALES_INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(Alias::new("orders"))
                        .to_owned(),
                )
                .await?;
        }
        for (table, columns) in [
            ("users", &["created_at"][..]),
            ("follows", &["creator_id", "created_at"][..]),
            ("orders", &["created_at"][..]),
            ("orders", &["refunded_at"][..]),
            ("orders", &["seller_id", "refunded_at"][..]),
        ] {
            manager
                .drop_index(
                    Index::drop()
                        .name(format!("ix_{table}_{}", columns.join("_")))
                        .table(Alias::new(table))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("orders")
                    .drop_column("seller_id")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("recommendation_impressions").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("livestream_attendances").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("product_views").to_owned())
            .await
    }
}
