//! The demo data planned in memory. Plain rows (people, the catalogue, follows, posts,
//! paid orders) are planned with their ids; what the API's writers derive (entitlements,
//! memberships, sales and rating counters) is not planned at all: the plan says who
//! bought, joined and rated what, and `seed::demo` hands that to the same writers the
//! API uses.
//!
//! A [`Planner`] holds the random generator and what later stages need of earlier ones;
//! each stage plans one part: [`people`] (users, creators, learners, follows),
//! [`catalogue`] (courses with lessons, livestreams, groups) and [`activity`]
//! (purchases, paid orders, free joins, posts, ratings), then [`selling`] (sales and
//! coupons). Stages run in a fixed order, as
//! they draw from the one generator.

use std::collections::HashSet;

use chrono::{DateTime, Duration, DurationRound, TimeZone, Utc};
use entity::enums::{ProductKind, Role};
use entity::{
    community_group, course, creator, follow, group_post, lesson, livestream, order, user,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

mod activity;
mod catalogue;
mod community;
mod people;
mod selling;

pub(super) const CREATORS: usize = 36;
pub(super) const PUBLISHED_COURSES: usize = 300;
pub(super) const DRAFT_COURSES: usize = 12;
pub(super) const ARCHIVED_COURSES: usize = 8;
pub(super) const LIVESTREAMS_PER_STATUS: usize = 50;
pub(super) const GROUPS: usize = 40;
pub(super) const LEARNERS: usize = 2_000;
pub(super) const PAID_ORDERS: usize = 20_000;
pub(super) const RATINGS: usize = 8_000;

/// Every row of the demo data, planned before anything is written.
#[derive(Debug, Default)]
pub struct DemoPlan {
    /// The planned `users` rows.
    pub(super) users: Vec<user::Model>,
    pub(super) identities: Vec<entity::user_identity::Model>,
    /// The planned `creators` rows.
    pub(super) creators: Vec<creator::Model>,
    /// The planned `courses` rows.
    pub(super) courses: Vec<course::Model>,
    /// The planned `lessons` rows.
    pub(super) lessons: Vec<lesson::Model>,
    /// The planned `livestreams` rows.
    pub(super) livestreams: Vec<livestream::Model>,
    /// The planned `groups` rows.
    pub(super) groups: Vec<community_group::Model>,
    /// Learners joining free groups (paid memberships come with their orders).
    pub(super) joins: Vec<PlannedJoin>,
    /// The planned `posts` rows.
    pub(super) posts: Vec<group_post::Model>,
    /// The planned `group_replies` rows.
    pub(super) replies: Vec<entity::group_reply::Model>,
    /// The planned `post_likes` rows.
    pub(super) likes: Vec<entity::post_like::Model>,
    /// The planned `post_hashtags` rows.
    pub(super) hashtags: Vec<entity::post_hashtag::Model>,
    /// The planned `task_check_ins` rows (a running challenge per group).
    pub(super) check_ins: Vec<entity::task_check_in::Model>,
    /// The planned `paid_questions` rows (answered, with their paid orders).
    pub(super) questions: Vec<entity::paid_question::Model>,
    /// The planned `follows` rows.
    pub(super) follows: Vec<follow::Model>,
    /// The planned `orders` rows.
    pub(super) orders: Vec<order::Model>,
    /// Buyers rating courses they bought.
    pub(super) ratings: Vec<PlannedRating>,
    /// The planned `product_sales` rows.
    pub(super) sales: Vec<entity::product_sale::Model>,
    /// The planned `coupons` rows.
    pub(super) coupons: Vec<entity::coupon::Model>,
    /// The planned `bundles` rows.
    pub(super) bundles: Vec<entity::bundle::Model>,
    /// The planned `bundle_courses` rows.
    pub(super) bundle_courses: Vec<entity::bundle_course::Model>,
    /// The planned `membership_plans` rows.
    pub(super) plans: Vec<entity::membership_plan::Model>,
    /// The planned `product_views` rows (the dashboards' views and conversion).
    pub(super) views: Vec<entity::product_view::Model>,
    /// The planned `livestream_attendances` rows (the live funnel).
    pub(super) attendances: Vec<entity::livestream_attendance::Model>,
    /// The planned `recommendation_impressions` rows (the recommendation funnel).
    pub(super) impressions: Vec<entity::recommendation_impression::Model>,
}

/// A learner joining a free group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PlannedJoin {
    /// The group.
    pub group_id: i64,
    /// The learner.
    pub user_id: i64,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
}

/// A buyer's rating of a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PlannedRating {
    /// The buyer.
    pub user_id: i64,
    /// The course bought.
    pub course_id: i64,
    /// 1 to 5.
    pub stars: i32,
    /// Review text, if any.
    pub review: Option<String>,
    /// When it was written.
    pub at: DateTime<Utc>,
}

/// A product a learner can buy, with what the plan needs to know of it.
#[derive(Clone, Copy)]
struct Sellable {
    kind: ProductKind,
    id: i64,
    /// The creator selling it.
    creator_id: i64,
    price_fen: i64,
    category: usize,
}

/// The plan being made, with what later stages need of earlier ones.
struct Planner {
    rng: ChaCha8Rng,
    /// The fixed start date everything but livestreams hangs off.
    epoch: DateTime<Utc>,
    /// The present, to the hour: livestreams are placed around it.
    now: DateTime<Utc>,
    plan: DemoPlan,
    next_user: i64,
    /// Home category of each creator (by index).
    creator_category: Vec<usize>,
    /// Everything that can be bought, courses first.
    sellables: Vec<Sellable>,
    /// Popularity of each course sellable (same order).
    course_weight: Vec<f64>,
    /// Quality of each course sellable, which pulls its stars up or down.
    course_quality: Vec<f64>,
    /// Id of the first learner; learners follow in order.
    first_learner: i64,
    /// (favourite, second) category of each learner.
    learner_taste: Vec<(usize, usize)>,
    /// (learner index, product) of each purchase, in time order.
    purchases: Vec<(usize, Sellable)>,
    /// (group, user) pairs already members.
    membership_pairs: HashSet<(i64, i64)>,
    /// (group, user) of every membership, paid ones first, for the posts' authors.
    members: Vec<(i64, i64)>,
}

/// Plans the demo data. `now` places livestreams around the present; everything else
/// hangs off a fixed start date, so two plans made the same hour are identical.
pub fn plan(seed: u64, now: DateTime<Utc>) -> DemoPlan {
    let epoch = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    let mut planner = Planner {
        rng: ChaCha8Rng::seed_from_u64(seed),
        epoch,
        now: now.duration_trunc(Duration::hours(1)).unwrap_or(now),
        plan: DemoPlan::default(),
        next_user: 0,
        creator_category: Vec::with_capacity(CREATORS),
        sellables: Vec::new(),
        course_weight: Vec::new(),
        course_quality: Vec::new(),
        first_learner: 0,
        learner_taste: Vec::with_capacity(LEARNERS),
        purchases: Vec::with_capacity(PAID_ORDERS),
        membership_pairs: HashSet::new(),
        members: Vec::new(),
    };
    // Users: one admin, the creators, the learners.
    planner.add_user(Role::Admin, "知库管理员".into(), epoch);
    planner.creators();
    planner.courses();
    planner.livestreams();
    planner.groups();
    planner.learners();
    planner.follows();
    planner.purchases();
    planner.orders();
    planner.free_joins();
    planner.posts();
    planner.conversation();
    planner.ratings();
    planner.selling();
    planner.views();
    planner.impressions();
    planner.plan
}
