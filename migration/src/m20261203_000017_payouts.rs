//! Payouts: money paid out of the merchant account to a creator or promoter by a
//! WeChat Pay merchant transfer, one row per bill (`out_bill_no` is the idempotency key
//! at WeChat Pay), and at most one open payout per payee (a partial unique index), so
//! two payout runs at once pay a payee once.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `payouts`.
#[derive(DeriveMigrationName)]
pub struct Migration;

const STATES: [&str; 6] = [
    "REQUESTED",
    "ACCEPTED",
    "WAIT_USER_CONFIRM",
    "SUCCESS",
    "FAIL",
    "CANCELLED",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("payouts")
                    .col(big_pk_auto("id"))
                    .col(
                        string_len("payee_kind", 16)
                            .check(Expr::col("payee_kind").is_in(["CREATOR", "PROMOTER"]))
                            .take(),
                    )
                    .col(big_integer("payee_id"))
                    .col(big_integer("user_id"))
                    .col(
                        big_integer("amount_fen")
                            .check(Expr::col("amount_fen").gt(0))
                            .take(),
                    )
                    .col(string_len_uniq("out_bill_no", 32))
                    .col(
                        string_len("state", 20)
                            .check(Expr::col("state").is_in(STATES))
                            .take(),
                    )
                    .col(string_len_null("transfer_bill_no", 64))
                    .col(text_null("package_info"))
                    .col(string_len_null("fail_reason", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_payouts_user_id")
                            .from(Alias::new("payouts"), Alias::new("user_id"))
                            .to(Alias::new("users"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // One open payout per payee: the same statement on both databases.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_payouts_open_payee ON payouts (payee_kind, payee_id) \
                 WHERE state IN ('REQUESTED', 'ACCEPTED', 'WAIT_USER_CONFIRM')",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_payouts_payee")
                    .table(Alias::new("payouts"))
                    .col(Alias::new("payee_kind"))
                    .col(Alias::new("payee_id"))
                    .col(Alias::new("id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("payouts").to_owned())
            .await
    }
}
