//! Activity: who bought what (paid orders), who joined which free group, what members
//! posted and how buyers rated.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use entity::enums::{OrderStatus, ProductKind};
use entity::{group_post, order};
use rand::Rng;
use rand::distr::{Distribution, weighted::WeightedIndex};
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use super::{LEARNERS, PAID_ORDERS, PlannedJoin, PlannedRating, Planner, RATINGS, Sellable};

impl Planner {
    /// The courses on sale, in the order of `course_weight` and `course_quality`.
    fn course_sellables(&self) -> Vec<Sellable> {
        self.sellables
            .iter()
            .copied()
            .filter(|s| s.kind == ProductKind::Course)
            .collect()
    }

    /// Purchases: heavy-tailed counts per learner, products drawn by popularity and taste.
    pub(super) fn purchases(&mut self) {
        let first_learner = self.first_learner;
        let learner_id = |index: usize| first_learner + index as i64;
        let course_sellables = self.course_sellables();
        let other_sellables: Vec<Sellable> = self
            .sellables
            .iter()
            .copied()
            .filter(|s| s.kind != ProductKind::Course)
            .collect();
        let mut owned: HashSet<(i64, ProductKind, i64)> = HashSet::new();
        let activity: Vec<f64> = (0..LEARNERS)
            .map(|_| {
                let u: f64 = self.rng.random_range(0.05..1.0);
                u.powf(-0.8)
            })
            .collect();
        let learner_picker = WeightedIndex::new(&activity).ok();
        let mut attempts = 0;
        while self.purchases.len() < PAID_ORDERS && attempts < PAID_ORDERS * 50 {
            attempts += 1;
            let Some(picker) = &learner_picker else { break };
            let learner = picker.sample(&mut self.rng);
            let (favourite, second) = self.learner_taste[learner];
            let product = if self.rng.random_bool(0.88) {
                // Course: popularity times taste (favourite categories weigh far more).
                let index = sample_course(
                    &mut self.rng,
                    &self.course_weight,
                    &course_sellables,
                    favourite,
                    second,
                );
                course_sellables[index]
            } else {
                match other_sellables.choose(&mut self.rng) {
                    Some(product) => *product,
                    None => continue,
                }
            };
            if owned.insert((learner_id(learner), product.kind, product.id)) {
                self.purchases.push((learner, product));
            }
        }
    }

    /// Paid orders, in time order.
    pub(super) fn orders(&mut self) {
        let first_learner = self.first_learner;
        let learner_id = |index: usize| first_learner + index as i64;
        // Paid orders, in time order (their entitlements, memberships and sales counters
        // are the writers' business); `members` tracks who is in which group, for the posts.
        for (n, (learner, product)) in self.purchases.iter().enumerate() {
            let id = n as i64 + 1;
            let buyer = learner_id(*learner);
            let created = self.epoch + Duration::days(40) + Duration::minutes(n as i64 * 13);
            let paid = created + Duration::seconds(self.rng.random_range(20..600));
            self.plan.orders.push(order::Model {
                id,
                out_trade_no: format!("ZK{id:012}"),
                buyer_id: buyer,
                product_kind: product.kind,
                product_id: product.id,
                amount_fen: product.price_fen,
                list_price_fen: product.price_fen,
                currency: "CNY".into(),
                status: OrderStatus::Paid,
                idempotency_key: format!("demo-{id}"),
                transaction_id: Some(format!("42000{id:015}")),
                prepay_id: None,
                pay_app: entity::enums::IdentityApp::MiniProgram,
                created_at: created,
                expires_at: created + Duration::minutes(30),
                paid_at: Some(paid),
                refunded_at: None,
                closed_at: None,
                updated_at: paid,
                promoter_id: None,
                profit_sharing: false,
                seller_id: product.creator_id,
            });
            if product.kind == ProductKind::Group
                && self.membership_pairs.insert((product.id, buyer))
            {
                self.members.push((product.id, buyer));
            }
        }
    }

    /// Free groups: learners of the group's category join.
    pub(super) fn free_joins(&mut self) {
        let first_learner = self.first_learner;
        let learner_id = |index: usize| first_learner + index as i64;
        for group in self.plan.groups.iter().filter(|g| g.price_fen == 0) {
            let category = self.creator_category[group.creator_id as usize - 1];
            for (index, &(favourite, second)) in self.learner_taste.iter().enumerate() {
                let interested = favourite == category || second == category;
                if interested
                    && self.rng.random_bool(0.3)
                    && self.membership_pairs.insert((group.id, learner_id(index)))
                {
                    self.members.push((group.id, learner_id(index)));
                    self.plan.joins.push(PlannedJoin {
                        group_id: group.id,
                        user_id: learner_id(index),
                        joined_at: group.created_at + Duration::days(self.rng.random_range(1..200)),
                    });
                }
            }
        }
    }

    /// Posts by each group's creator and its members.
    pub(super) fn posts(&mut self) {
        // Authors: the owner for every fourth post, members for the rest.
        let members_of = |group_id: i64| -> Vec<i64> {
            self.members
                .iter()
                .filter(|(group, _)| *group == group_id)
                .map(|(_, user)| *user)
                .collect()
        };
        for group_index in 0..self.plan.groups.len() {
            let group = self.plan.groups[group_index].clone();
            let members = members_of(group.id);
            let owner = self.plan.creators[group.creator_id as usize - 1].user_id;
            for n in 0..self.rng.random_range(8..30) {
                let author = if n % 4 == 0 || members.is_empty() {
                    owner
                } else {
                    *members.choose(&mut self.rng).unwrap_or(&owner)
                };
                self.plan.posts.push(group_post::Model {
                    id: self.plan.posts.len() as i64 + 1,
                    group_id: group.id,
                    author_id: author,
                    body: format!("第{}天打卡：今天学习了新内容，收获很大！", n + 1),
                    pinned: n == 0,
                    created_at: group.created_at + Duration::days(n as i64 + 1),
                    like_count: 0,
                    reply_count: 0,
                    kind: entity::enums::PostKind::Talk,
                    images: "[]".to_owned(),
                    hashtags: "[]".to_owned(),
                    digest: false,
                    edited_at: None,
                    deleted_at: None,
                    deleted_by_id: None,
                    delete_reason: None,
                    task_starts_on: None,
                    task_ends_on: None,
                });
            }
        }
    }

    /// Ratings by buyers of courses: quality plus the buyer's taste decides the stars.
    pub(super) fn ratings(&mut self) {
        let first_learner = self.first_learner;
        let learner_id = |index: usize| first_learner + index as i64;
        let course_sellables = self.course_sellables();
        let mut course_purchases: Vec<(usize, usize, i64)> = self
            .plan
            .orders
            .iter()
            .zip(self.purchases.iter())
            .filter(|(o, _)| o.product_kind == ProductKind::Course)
            .filter_map(|(o, (learner, product))| {
                course_sellables
                    .iter()
                    .position(|s| s.id == product.id)
                    .map(|index| (*learner, index, o.id))
            })
            .collect();
        {
            use rand::seq::SliceRandom;
            course_purchases.shuffle(&mut self.rng);
        }
        for (learner, sellable_index, order_id) in course_purchases.into_iter().take(RATINGS) {
            let product = course_sellables[sellable_index];
            let (favourite, second) = self.learner_taste[learner];
            let taste = if product.category == favourite {
                0.6
            } else if product.category == second {
                0.3
            } else {
                -0.4
            };
            let score = 3.6
                + self.course_quality[sellable_index]
                + taste
                + self.rng.random_range(-0.9..0.9);
            let stars = score.round().clamp(1.0, 5.0) as i32;
            let at = self.plan.orders[order_id as usize - 1]
                .paid_at
                .unwrap_or(self.epoch)
                + Duration::days(3);
            self.plan.ratings.push(PlannedRating {
                user_id: learner_id(learner),
                course_id: product.id,
                stars,
                review: (stars >= 4 || self.rng.random_bool(0.5))
                    .then(|| review_text(stars).to_owned()),
                at,
            });
        }
    }
}

fn sample_course(
    rng: &mut ChaCha8Rng,
    weights: &[f64],
    courses: &[Sellable],
    favourite: usize,
    second: usize,
) -> usize {
    // Rejection sampling: draw by popularity, keep by taste.
    loop {
        let index = rng.random_range(0..courses.len());
        let taste = if courses[index].category == favourite {
            1.0
        } else if courses[index].category == second {
            0.5
        } else {
            0.05
        };
        if rng.random_bool((weights[index] * taste).clamp(0.0, 1.0)) {
            return index;
        }
    }
}

fn review_text(stars: i32) -> &'static str {
    match stars {
        5 => "干货满满，老师讲得非常清楚，强烈推荐！",
        4 => "内容扎实，收获不少，期待更新。",
        3 => "中规中矩，部分内容有点浅。",
        2 => "和预期有差距，节奏偏慢。",
        _ => "不太适合我，内容比较基础。",
    }
}

impl Planner {
    /// Views and attendance for the dashboards: every buyer viewed the product a few
    /// minutes before paying, two other learners viewed it that day without buying,
    /// and the ticket holders of live and ended livestreams entered their rooms.
    pub(super) fn views(&mut self) {
        let first_learner = self.first_learner;
        let learners = LEARNERS as i64;
        let mut seen = HashSet::new();
        let sellers: std::collections::HashMap<(ProductKind, i64), i64> = self
            .sellables
            .iter()
            .map(|s| ((s.kind, s.id), s.creator_id))
            .collect();
        let orders = self.plan.orders.clone();
        for paid in &orders {
            let Some(&seller_id) = sellers.get(&(paid.product_kind, paid.product_id)) else {
                continue;
            };
            let at = paid.created_at - Duration::minutes(5);
            let day = crate::service::views::platform_day(at);
            let browsers = [
                paid.buyer_id,
                first_learner + self.rng.random_range(0..learners),
                first_learner + self.rng.random_range(0..learners),
            ];
            for viewer in browsers {
                if seen.insert((paid.product_kind, paid.product_id, viewer, day.clone())) {
                    self.plan.views.push(entity::product_view::Model {
                        id: self.plan.views.len() as i64 + 1,
                        product_kind: paid.product_kind,
                        product_id: paid.product_id,
                        seller_id,
                        viewer_key: format!("u{viewer}"),
                        day: day.clone(),
                        viewed_at: at,
                    });
                }
            }
        }
        let entered: Vec<(i64, DateTime<Utc>)> = self
            .plan
            .livestreams
            .iter()
            .filter_map(|l| l.started_at.map(|at| (l.id, at)))
            .collect();
        let started: std::collections::HashMap<i64, DateTime<Utc>> = entered.into_iter().collect();
        for paid in &orders {
            if paid.product_kind != ProductKind::Livestream {
                continue;
            }
            let Some(&at) = started.get(&paid.product_id) else {
                continue;
            };
            self.plan
                .attendances
                .push(entity::livestream_attendance::Model {
                    id: self.plan.attendances.len() as i64 + 1,
                    livestream_id: paid.product_id,
                    user_id: paid.buyer_id,
                    first_seen_at: at + Duration::minutes(self.rng.random_range(0..20)),
                });
        }
    }

    /// Recommendations shown in the feed (the recommendation funnel): a third of the
    /// course purchases followed a recommendation of that course the same day, which the
    /// buyer opened (their view above); each such feed showed three other courses too,
    /// which the learner mostly passed over.
    pub(super) fn impressions(&mut self) {
        let courses: Vec<i64> = self
            .sellables
            .iter()
            .filter(|s| s.kind == ProductKind::Course)
            .map(|s| s.id)
            .collect();
        if courses.is_empty() {
            return;
        }
        let mut shown = HashSet::new();
        let orders = self.plan.orders.clone();
        for paid in orders
            .iter()
            .filter(|o| o.product_kind == ProductKind::Course)
        {
            if !self.rng.random_bool(1.0 / 3.0) {
                continue;
            }
            let at = paid.created_at - Duration::minutes(20);
            let day = crate::service::views::platform_day(at);
            let mut feed = vec![paid.product_id];
            for _ in 0..3 {
                feed.push(courses[self.rng.random_range(0..courses.len())]);
            }
            for course_id in feed {
                if shown.insert((paid.buyer_id, course_id, day.clone())) {
                    self.plan
                        .impressions
                        .push(entity::recommendation_impression::Model {
                            id: self.plan.impressions.len() as i64 + 1,
                            user_id: paid.buyer_id,
                            course_id,
                            day: day.clone(),
                            shown_at: at,
                        });
                }
            }
        }
    }
}
