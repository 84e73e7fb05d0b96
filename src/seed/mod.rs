//! Deterministic demo data at the scale of a small real platform.
//!
//! The same seed always gives the same rows: 36 creators, 300 published courses
//! (plus drafts and archived ones) with lessons, 50 livestreams in each status, 40
//! groups with members and posts, 2,000 learners with follows, 20,000 paid orders with
//! their entitlements and 8,000 ratings by buyers.
//!
//! Popularity is long-tailed (Zipf-like weights over courses) and learners have
//! favourite categories, so purchases carry the co-occurrence structure a
//! recommendation engine should find. The plan is made in memory ([`plan`], by stage:
//! people, catalogue, activity); plain rows are written with explicit ids in multi-row
//! inserts, and what the API derives (entitlements, memberships, sales and rating
//! counters) is written by the API's own writers (`entitlements::grant`,
//! `groups::add_free_member`, `ratings::save_verified`), all in one transaction: seconds
//! on SQLite, under a minute on PostgreSQL (a round trip per write).

pub mod bulk;
mod ledger;
mod plan;
mod text;

use std::fmt;

use chrono::Utc;
use entity::user;

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, IntoActiveModel,
    PaginatorTrait, Statement,
};

use crate::error::{AppError, AppResult};
use crate::service::orders::OrderRules;
use crate::service::{entitlements, groups, ratings};

pub use plan::{DemoPlan, plan};

/// Seed of the demo data's random generator.
pub const DEMO_SEED: u64 = 42;

/// How many rows of each kind were written (counted in the database).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedCounts {
    /// Users of every role.
    pub users: usize,
    /// Creator profiles.
    pub creators: usize,
    /// Courses in every status.
    pub courses: usize,
    /// Lessons.
    pub lessons: usize,
    /// Livestreams in every status.
    pub livestreams: usize,
    /// Community groups.
    pub groups: usize,
    /// Group memberships.
    pub memberships: usize,
    /// Group posts.
    pub posts: usize,
    /// Follows.
    pub follows: usize,
    /// Paid orders.
    pub orders: usize,
    /// Entitlements.
    pub entitlements: usize,
    /// Ratings.
    pub ratings: usize,
}

impl fmt::Display for SeedCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} users, {} creators, {} courses, {} lessons, {} livestreams, {} groups, \
             {} memberships, {} posts, {} follows, {} orders, {} entitlements, {} ratings",
            self.users,
            self.creators,
            self.courses,
            self.lessons,
            self.livestreams,
            self.groups,
            self.memberships,
            self.posts,
            self.follows,
            self.orders,
            self.entitlements,
            self.ratings
        )
    }
}

/// Writes the demo plan into an empty database, in one transaction: plain rows in
/// multi-row inserts, then every purchase, free join and rating through the API's own
/// writers, which keep entitlements, memberships and counters.
pub async fn demo(db: &DatabaseConnection) -> AppResult<SeedCounts> {
    if user::Entity::find().count(db).await? > 0 {
        return Err(AppError::BadUserInput(
            "the database already has users; seed an empty database".into(),
        ));
    }
    let plan = plan(DEMO_SEED, Utc::now());
    // The demo's sales at the default fee and refund window.
    let rules = OrderRules::from_config(&crate::config::PaymentConfig::default());
    let ledger = ledger::ledger_rows(&plan, &rules, Utc::now());
    let txn = crate::db::begin_write(db).await?;
    insert_all(&txn, plan.users).await?;
    insert_all(&txn, plan.identities).await?;
    insert_all(&txn, plan.creators).await?;
    insert_all(&txn, plan.courses).await?;
    insert_all(&txn, plan.lessons).await?;
    insert_all(&txn, plan.livestreams).await?;
    insert_all(&txn, plan.groups).await?;
    insert_all(&txn, plan.questions).await?;
    insert_all(&txn, plan.follows).await?;
    insert_all(&txn, plan.orders.clone()).await?;
    for paid in &plan.orders {
        // As the payment notification grants: entitlement, membership, sales counter.
        entitlements::grant(&txn, paid, paid.paid_at.unwrap_or(paid.created_at)).await?;
    }
    for join in &plan.joins {
        groups::add_free_member(&txn, join.group_id, join.user_id, join.joined_at).await?;
    }
    insert_all(&txn, plan.posts).await?;
    insert_all(&txn, plan.replies).await?;
    insert_all(&txn, plan.likes).await?;
    insert_all(&txn, plan.hashtags).await?;
    insert_all(&txn, plan.check_ins).await?;
    insert_all(&txn, plan.sales).await?;
    insert_all(&txn, plan.coupons).await?;
    insert_all(&txn, plan.bundles).await?;
    insert_all(&txn, plan.bundle_courses).await?;
    insert_all(&txn, plan.plans).await?;
    insert_all(&txn, plan.views).await?;
    insert_all(&txn, plan.attendances).await?;
    insert_all(&txn, plan.impressions).await?;
    insert_all(&txn, ledger.accounts).await?;
    insert_all(&txn, ledger.journals).await?;
    insert_all(&txn, ledger.entries).await?;
    for rating in plan.ratings {
        ratings::save_verified(
            &txn,
            rating.user_id,
            rating.course_id,
            rating.stars,
            rating.review,
            rating.at,
        )
        .await?;
    }
    // These tables' ids were given explicitly; move each sequence past them.
    reset_sequences(
        &txn,
        &[
            "users",
            "creators",
            "courses",
            "lessons",
            "livestreams",
            "community_groups",
            "group_posts",
            "group_replies",
            "post_likes",
            "post_hashtags",
            "task_check_ins",
            "paid_questions",
            "follows",
            "orders",
            "product_sales",
            "coupons",
            "bundles",
            "bundle_courses",
            "membership_plans",
            "ledger_accounts",
            "ledger_journals",
            "ledger_entries",
            "product_views",
            "livestream_attendances",
            "recommendation_impressions",
        ],
    )
    .await?;
    // The platform's daily totals, from the orders written above.
    crate::service::analytics::rollup::rebuild(&txn).await?;
    let counts = SeedCounts::written(&txn).await?;
    txn.commit().await?;
    refresh_statistics(db).await?;
    Ok(counts)
}

/// On PostgreSQL, moves each table's id sequence past the largest id, after rows were
/// written with explicit ids (SQLite needs nothing).
async fn reset_sequences(db: &impl ConnectionTrait, tables: &[&str]) -> AppResult<()> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for table in tables {
        db.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 COALESCE((SELECT MAX(id) FROM {table}), 1))"
            ),
        ))
        .await?;
    }
    Ok(())
}

/// After a bulk load, gives the planner fresh statistics (and, on PostgreSQL, clears
/// the dead row versions the counters' updates left). Without it a freshly seeded
/// PostgreSQL served the 100-course page by a bitmap scan over 24,000 dead index
/// entries and a sort (4.6 ms) instead of walking its index (0.16 ms), until autovacuum
/// came by.
async fn refresh_statistics(db: &DatabaseConnection) -> AppResult<()> {
    let backend = db.get_database_backend();
    let sql = match backend {
        // VACUUM cannot run inside a transaction; this is a statement of its own.
        DbBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    db.execute_raw(Statement::from_string(backend, sql)).await?;
    Ok(())
}

impl SeedCounts {
    /// Counts the rows of every seeded table.
    async fn written(db: &impl ConnectionTrait) -> AppResult<SeedCounts> {
        use entity::{
            community_group, course, creator, entitlement, follow, group_membership, group_post,
            lesson, livestream, order, rating,
        };
        let count = |n: u64| n as usize;
        Ok(SeedCounts {
            users: count(user::Entity::find().count(db).await?),
            creators: count(creator::Entity::find().count(db).await?),
            courses: count(course::Entity::find().count(db).await?),
            lessons: count(lesson::Entity::find().count(db).await?),
            livestreams: count(livestream::Entity::find().count(db).await?),
            groups: count(community_group::Entity::find().count(db).await?),
            memberships: count(group_membership::Entity::find().count(db).await?),
            posts: count(group_post::Entity::find().count(db).await?),
            follows: count(follow::Entity::find().count(db).await?),
            orders: count(order::Entity::find().count(db).await?),
            entitlements: count(entitlement::Entity::find().count(db).await?),
            ratings: count(rating::Entity::find().count(db).await?),
        })
    }
}

/// Inserts rows in multi-row statements small enough for every backend's bound-parameter limit.
async fn insert_all<M, A, E>(db: &impl ConnectionTrait, rows: Vec<M>) -> AppResult<()>
where
    M: IntoActiveModel<A>,
    A: ActiveModelTrait<Entity = E> + Send,
    E: EntityTrait,
{
    const ROWS_PER_STATEMENT: usize = 1_000;
    let mut rows = rows
        .into_iter()
        .map(IntoActiveModel::into_active_model)
        .peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        E::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
