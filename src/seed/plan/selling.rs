//! The selling tools in the demo: limited-time prices on some courses, a claimable
//! coupon from each creator, a platform-wide code, bundles and membership plans, so the
//! price screens have data.
//! Rule-based (no draws from the generator), after every other stage, so adding it
//! changed nothing else of the plan.

use chrono::Duration;
use entity::enums::{CouponDistribution, CouponScope, CourseStatus, ProductKind};
use entity::{bundle, bundle_course, coupon, membership_plan, product_sale};

use super::{CREATORS, Planner};

/// Every how many published paid courses one is on sale.
const SALE_EVERY: usize = 7;
/// Creators (the first ones) with a bundle and a membership plan.
const BUNDLING_CREATORS: i64 = 6;
/// The platform code the README shows.
const DEMO_CODE: &str = "ZHIKU2026";

impl Planner {
    /// Sales on every 7th published paid course (30% off, from yesterday for a week)
    /// and the coupons.
    pub(super) fn selling(&mut self) {
        let (now, epoch) = (self.now, self.epoch);
        let on_sale: Vec<product_sale::Model> = self
            .plan
            .courses
            .iter()
            .filter(|c| c.status == CourseStatus::Published && c.price_fen >= 100)
            .step_by(SALE_EVERY)
            .enumerate()
            .map(|(n, c)| product_sale::Model {
                id: n as i64 + 1,
                product_kind: ProductKind::Course,
                product_id: c.id,
                price_fen: c.price_fen * 7 / 10,
                starts_at: now - Duration::days(1),
                ends_at: now + Duration::days(7),
                updated_at: now - Duration::days(1),
            })
            .collect();
        self.plan.sales = on_sale;
        let coupon = |id: i64, creator_id: Option<i64>, name: &str| coupon::Model {
            id,
            creator_id,
            name: name.to_owned(),
            distribution: CouponDistribution::Claim,
            code: None,
            amount_off_fen: Some(1_000),
            percent_off: None,
            min_spend_fen: 5_000,
            scope: CouponScope::All,
            scope_kind: None,
            starts_at: epoch,
            ends_at: now + Duration::days(90),
            total_quantity: 500,
            issued: 0,
            per_user_limit: 1,
            disabled: false,
            created_at: epoch,
        };
        let mut coupons: Vec<coupon::Model> = (1..=CREATORS as i64)
            .map(|creator| coupon(creator, Some(creator), "满50减10"))
            .collect();
        coupons.push(coupon::Model {
            distribution: CouponDistribution::Code,
            code: Some(DEMO_CODE.to_owned()),
            amount_off_fen: None,
            percent_off: Some(15),
            min_spend_fen: 0,
            total_quantity: 10_000,
            ..coupon(CREATORS as i64 + 1, None, "知库新人85折")
        });
        self.plan.coupons = coupons;
        self.bundles_and_plans();
    }

    /// A bundle of each of the first creators' first three published paid courses (at
    /// 80% of their sum, courses added later included) and a monthly plan each.
    fn bundles_and_plans(&mut self) {
        let epoch = self.epoch;
        for creator_id in 1..=BUNDLING_CREATORS {
            let courses: Vec<(i64, i64)> = self
                .plan
                .courses
                .iter()
                .filter(|c| {
                    c.creator_id == creator_id
                        && c.status == CourseStatus::Published
                        && c.price_fen > 0
                })
                .take(3)
                .map(|c| (c.id, c.price_fen))
                .collect();
            if courses.len() < 2 {
                continue;
            }
            let id = self.plan.bundles.len() as i64 + 1;
            let total: i64 = courses.iter().map(|(_, price)| price).sum();
            self.plan.bundles.push(bundle::Model {
                id,
                creator_id,
                title: format!("精选专栏·{}门课", courses.len()),
                description: Some("把几门核心课程打包，一次购买，后续新增课程免费获得。".into()),
                cover_url: None,
                price_fen: total * 8 / 10,
                status: CourseStatus::Published,
                includes_future: true,
                credit_owned: true,
                created_at: epoch,
                updated_at: epoch,
            });
            for (position, (course_id, _)) in courses.iter().enumerate() {
                self.plan.bundle_courses.push(bundle_course::Model {
                    id: self.plan.bundle_courses.len() as i64 + 1,
                    bundle_id: id,
                    course_id: *course_id,
                    position: position as i32 + 1,
                    added_at: epoch,
                });
            }
        }
        for creator_id in 1..=BUNDLING_CREATORS {
            self.plan.plans.push(membership_plan::Model {
                id: creator_id,
                creator_id,
                name: "月度会员".into(),
                period_months: 1,
                price_fen: 3_000,
                early_renewal_price_fen: Some(2_500),
                lapsed_renewal_price_fen: Some(2_800),
                covers_all_courses: true,
                includes_groups: true,
                status: CourseStatus::Published,
                created_at: epoch,
                updated_at: epoch,
            });
        }
    }
}
