//! Integration tests: the real app over HTTP on port 0, one fresh database per test.
//! SQLite by default; PostgreSQL when `ZHIKU_TEST_DATABASE_URL` names a server.

mod helpers;

mod access_rules;
mod catalogue;
mod cli;
mod database;
mod graphql_over_http;
mod http_limits;
mod login;
mod n_plus_one;
mod payment_faults;
mod payments;
mod privacy;
mod ratings;
mod recommendations;
mod schema;
mod seed;
mod tokens;
mod wechatpay_fake;
mod writes;
