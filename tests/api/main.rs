//! Integration tests: the real app over HTTP on port 0, one fresh database per test.
//! SQLite by default; PostgreSQL when `ZHIKU_TEST_DATABASE_URL` names a server.

mod helpers;

mod access_rules;
mod analytics;
mod bundles;
mod catalogue;
mod cli;
mod community;
mod community_moderation;
mod community_threads;
mod community_writes;
mod console_lists;
mod coupons;
mod database;
mod graphql_over_http;
mod http_limits;
mod identities;
mod ledger;
mod live;
mod live_refunds;
mod live_replicas;
mod login;
mod memberships;
mod message_kinds;
mod messages;
mod n_plus_one;
mod official_account;
mod payment_faults;
mod payments;
mod payouts;
mod privacy;
mod promoters;
mod purchases;
mod ratings;
mod read_cache;
mod recommendations;
mod refund_faults;
mod schema;
mod seed;
mod selling;
mod tokens;
mod wechatpay;
mod wechatpay_fake;
mod writes;
mod ws_protocol;
