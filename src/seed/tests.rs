//! The plan's determinism, scale and internal consistency.

use std::collections::HashSet;

use chrono::{TimeZone, Utc};
use entity::enums::{CourseStatus, ProductKind, Role};

use super::plan::{PAID_ORDERS, RATINGS};
use super::*;

#[test]
fn plan_is_deterministic_and_at_scale() {
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
    let a = plan(DEMO_SEED, now);
    let b = plan(DEMO_SEED, now);
    assert_eq!(a.counts(), b.counts());
    assert_eq!(a.orders, b.orders);
    assert_eq!(a.ratings, b.ratings);
    let counts = a.counts();
    assert!(counts.creators >= 30);
    assert!(
        a.courses
            .iter()
            .filter(|c| c.status == CourseStatus::Published)
            .count()
            >= 300
    );
    assert!(counts.livestreams >= 200);
    assert_eq!(counts.groups, 40);
    assert!(a.users.iter().filter(|u| u.role == Role::Learner).count() >= 2_000);
    assert_eq!(counts.orders, PAID_ORDERS);
    assert_eq!(counts.entitlements, PAID_ORDERS);
    assert_eq!(counts.ratings, RATINGS);
}

#[test]
fn popularity_is_long_tailed_and_counters_match() {
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
    let plan = plan(DEMO_SEED, now);
    let mut sales: Vec<i64> = plan.courses.iter().map(|c| c.sales_count).collect();
    sales.sort_unstable_by(|a, b| b.cmp(a));
    let top_decile: i64 = sales.iter().take(sales.len() / 10).sum();
    let total: i64 = sales.iter().sum();
    assert!(
        top_decile * 10 > total * 3,
        "top 10% of courses sell {top_decile} of {total}"
    );
    for course in &plan.courses {
        let ratings: Vec<_> = plan
            .ratings
            .iter()
            .filter(|r| r.course_id == course.id)
            .collect();
        assert_eq!(course.rating_count, ratings.len() as i64);
        assert_eq!(
            course.rating_sum,
            ratings.iter().map(|r| i64::from(r.stars)).sum::<i64>()
        );
    }
}

#[test]
fn every_rating_is_by_a_buyer() {
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
    let plan = plan(DEMO_SEED, now);
    let bought: HashSet<(i64, i64)> = plan
        .orders
        .iter()
        .filter(|o| o.product_kind == ProductKind::Course)
        .map(|o| (o.buyer_id, o.product_id))
        .collect();
    assert!(
        plan.ratings
            .iter()
            .all(|r| bought.contains(&(r.user_id, r.course_id)))
    );
}
