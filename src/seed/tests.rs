//! The plan's determinism, scale and internal consistency.

use std::collections::{HashMap, HashSet};

use chrono::{TimeZone, Utc};
use entity::enums::{CourseStatus, ProductKind, Role};

use super::plan::{PAID_ORDERS, RATINGS};
use super::*;

#[test]
fn plan_is_deterministic_and_at_scale() {
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
    let a = plan(DEMO_SEED, now);
    let b = plan(DEMO_SEED, now);
    assert_eq!(a.users, b.users);
    assert_eq!(a.courses, b.courses);
    assert_eq!(a.orders, b.orders);
    assert_eq!(a.joins, b.joins);
    assert_eq!(a.ratings, b.ratings);
    assert!(a.creators.len() >= 30);
    assert!(
        a.courses
            .iter()
            .filter(|c| c.status == CourseStatus::Published)
            .count()
            >= 300
    );
    assert!(a.livestreams.len() >= 200);
    assert_eq!(a.groups.len(), 40);
    assert!(a.users.iter().filter(|u| u.role == Role::Learner).count() >= 2_000);
    // The purchases, and a paid question in each paid group with members.
    let questions = a.questions.len();
    assert!(questions > 0);
    assert_eq!(a.orders.len(), PAID_ORDERS + questions);
    assert_eq!(a.ratings.len(), RATINGS);
    // One purchase per (buyer, product): each order becomes its own entitlement.
    let purchases: HashSet<_> = a
        .orders
        .iter()
        .filter(|o| o.product_kind != entity::enums::ProductKind::Question)
        .map(|o| (o.buyer_id, o.product_kind, o.product_id))
        .collect();
    assert_eq!(purchases.len(), PAID_ORDERS);
}

#[test]
fn popularity_is_long_tailed() {
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
    let plan = plan(DEMO_SEED, now);
    let mut sales: HashMap<i64, i64> = HashMap::new();
    for order in plan
        .orders
        .iter()
        .filter(|o| o.product_kind == ProductKind::Course)
    {
        *sales.entry(order.product_id).or_default() += 1;
    }
    let mut sales: Vec<i64> = plan
        .courses
        .iter()
        .map(|c| sales.get(&c.id).copied().unwrap_or(0))
        .collect();
    sales.sort_unstable_by(|a, b| b.cmp(a));
    let top_decile: i64 = sales.iter().take(sales.len() / 10).sum();
    let total: i64 = sales.iter().sum();
    assert!(
        top_decile * 10 > total * 3,
        "top 10% of courses sell {top_decile} of {total}"
    );
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

#[test]
fn the_demo_sells_with_sales_and_coupons() {
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
    let plan = plan(DEMO_SEED, now);
    assert!(plan.sales.len() >= 20, "{}", plan.sales.len());
    let courses: HashMap<i64, &entity::course::Model> =
        plan.courses.iter().map(|c| (c.id, c)).collect();
    for sale in &plan.sales {
        let course = courses[&sale.product_id];
        assert!(sale.price_fen < course.price_fen);
        assert!(sale.starts_at <= now && now < sale.ends_at, "active now");
    }
    assert_eq!(plan.coupons.len(), super::plan::CREATORS + 1);
    assert!(plan.bundles.len() >= 3, "{}", plan.bundles.len());
    assert!(plan.bundle_courses.len() >= 2 * plan.bundles.len());
    assert_eq!(plan.plans.len(), 6);
    assert_eq!(
        plan.coupons
            .iter()
            .filter(|c| c.code.as_deref() == Some("ZHIKU2026"))
            .count(),
        1
    );
}
