//! Deterministic demo data at the scale of a small real platform.
//!
//! The same seed always gives the same rows: 36 creators, 300 published courses
//! (plus drafts and archived ones) with lessons, 50 livestreams in each status, 40
//! groups with members and posts, 2,000 learners with follows, 20,000 paid orders with
//! their entitlements and 8,000 ratings by buyers.
//!
//! Popularity is long-tailed (Zipf-like weights over courses) and learners have
//! favourite categories, so purchases carry the co-occurrence structure a
//! recommendation engine should find. Rows are planned in memory, then written with
//! explicit ids in multi-row inserts inside one transaction, which takes seconds.

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

pub use plan::{DemoPlan, plan};

/// Seed of the demo data's random generator.
pub const DEMO_SEED: u64 = 42;

/// How many rows of each kind were written.
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

/// Writes the demo plan into an empty database, in one transaction.
pub async fn demo(db: &DatabaseConnection) -> AppResult<SeedCounts> {
    if user::Entity::find().count(db).await? > 0 {
        return Err(AppError::BadUserInput(
            "the database already has users; seed an empty database".into(),
        ));
    }
    let plan = plan(DEMO_SEED, Utc::now());
    let counts = plan.counts();
    let txn = crate::db::begin_write(db).await?;
    insert_all(&txn, plan.users).await?;
    insert_all(&txn, plan.creators).await?;
    insert_all(&txn, plan.courses).await?;
    insert_all(&txn, plan.lessons).await?;
    insert_all(&txn, plan.livestreams).await?;
    insert_all(&txn, plan.groups).await?;
    insert_all(&txn, plan.memberships).await?;
    insert_all(&txn, plan.posts).await?;
    insert_all(&txn, plan.follows).await?;
    insert_all(&txn, plan.orders).await?;
    insert_all(&txn, plan.entitlements).await?;
    insert_all(&txn, plan.ratings).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        // Ids were given explicitly; move each sequence past them for later inserts.
        for table in [
            "users",
            "creators",
            "courses",
            "lessons",
            "livestreams",
            "community_groups",
            "group_memberships",
            "group_posts",
            "follows",
            "orders",
            "entitlements",
            "ratings",
        ] {
            txn.execute_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                     COALESCE((SELECT MAX(id) FROM {table}), 1))"
                ),
            ))
            .await?;
        }
    }
    txn.commit().await?;
    Ok(counts)
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
