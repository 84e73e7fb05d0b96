//! Schema migrations of Zhiku. An applied migration is never edited: a change to the
//! schema is a new migration appended to [`Migrator::migrations`].

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_initial_schema;
mod m20261127_000002_identity;
mod m20261127_000003_order_prepay;
mod m20261202_000004_payment_hardening;
mod m20261202_000005_read_path_indexes;
mod m20261202_000006_orders_by_buyer_index;
mod m20261202_000007_live_rooms;
mod m20261203_000008_user_identities;
mod m20261203_000009_outbox;
mod m20261203_000010_membership_ends_index;
mod m20261203_000011_pricing;
mod m20261203_000012_coupons;
mod m20261203_000013_bundles;
mod m20261203_000014_membership_plans;
mod m20261203_000015_ledger;
mod m20261203_000016_distribution;
mod m20261203_000017_payouts;
mod m20261203_000018_profit_sharing;
mod m20261204_000019_analytics;
mod m20261204_000020_post_likes;
mod m20261204_000021_group_replies;
mod m20261204_000022_post_kinds;
mod m20261204_000023_threads_and_moderation;
mod m20261204_000024_check_ins;
mod m20261204_000025_paid_questions;
mod m20261204_000026_sales_days;
mod m20261204_000027_orders_by_buyer_product;
mod support;

/// Runs every migration of Zhiku in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_initial_schema::Migration),
            Box::new(m20261127_000002_identity::Migration),
            Box::new(m20261127_000003_order_prepay::Migration),
            Box::new(m20261202_000004_payment_hardening::Migration),
            Box::new(m20261202_000005_read_path_indexes::Migration),
            Box::new(m20261202_000006_orders_by_buyer_index::Migration),
            Box::new(m20261202_000007_live_rooms::Migration),
            Box::new(m20261203_000008_user_identities::Migration),
            Box::new(m20261203_000009_outbox::Migration),
            Box::new(m20261203_000010_membership_ends_index::Migration),
            Box::new(m20261203_000011_pricing::Migration),
            Box::new(m20261203_000012_coupons::Migration),
            Box::new(m20261203_000013_bundles::Migration),
            Box::new(m20261203_000014_membership_plans::Migration),
            Box::new(m20261203_000015_ledger::Migration),
            Box::new(m20261203_000016_distribution::Migration),
            Box::new(m20261203_000017_payouts::Migration),
            Box::new(m20261203_000018_profit_sharing::Migration),
            Box::new(m20261204_000019_analytics::Migration),
            Box::new(m20261204_000020_post_likes::Migration),
            Box::new(m20261204_000021_group_replies::Migration),
            Box::new(m20261204_000022_post_kinds::Migration),
            Box::new(m20261204_000023_threads_and_moderation::Migration),
            Box::new(m20261204_000024_check_ins::Migration),
            Box::new(m20261204_000025_paid_questions::Migration),
            Box::new(m20261204_000026_sales_days::Migration),
            Box::new(m20261204_000027_orders_by_buyer_product::Migration),
        ]
    }
}
