//! The demo data planned in memory. Plain rows (people, the catalogue, follows, posts,
//! paid orders) are planned with their ids; what the API's writers derive (entitlements,
//! memberships, sales and rating counters) is not planned at all: the plan says who
//! bought, joined and rated what, and `seed::demo` hands that to the same writers the
//! API uses.

use std::collections::HashSet;

use chrono::{DateTime, Duration, DurationRound, TimeZone, Utc};
use entity::enums::{CourseStatus, LessonKind, LivestreamStatus, OrderStatus, ProductKind, Role};
use entity::{
    community_group, course, creator, follow, group_post, lesson, livestream, order, user,
};
use rand::distr::{Distribution, weighted::WeightedIndex};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::text::{CATEGORIES, SUFFIXES, TOPICS};

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
    /// The planned `follows` rows.
    pub(super) follows: Vec<follow::Model>,
    /// The planned `orders` rows.
    pub(super) orders: Vec<order::Model>,
    /// Buyers rating courses they bought.
    pub(super) ratings: Vec<PlannedRating>,
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
    price_fen: i64,
    category: usize,
}

/// Plans the demo data. `now` places livestreams around the present; everything else
/// hangs off a fixed start date, so two plans made the same hour are identical.
pub fn plan(seed: u64, now: DateTime<Utc>) -> DemoPlan {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let epoch = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    let now = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    let mut plan = DemoPlan::default();

    // Users: one admin, the creators, the learners.
    let mut next_user = 0i64;
    let mut add_user = |plan: &mut DemoPlan, role: Role, nickname: String, at: DateTime<Utc>| {
        next_user += 1;
        plan.users.push(user::Model {
            id: next_user,
            openid: format!("demo-openid-{next_user:05}"),
            unionid: None,
            nickname: Some(nickname),
            avatar_url: Some(format!("https://img.zhiku.example/avatars/{next_user}.png")),
            role,
            banned_at: None,
            tokens_valid_after: None,
            created_at: at,
            updated_at: at,
        });
        next_user
    };
    add_user(&mut plan, Role::Admin, "知库管理员".into(), epoch);

    // Creators, each with a home category.
    let mut creator_category = Vec::with_capacity(CREATORS);
    for index in 0..CREATORS {
        let at = epoch + Duration::hours(index as i64 * 7);
        let category = index % CATEGORIES.len();
        let user_id = add_user(
            &mut plan,
            Role::Creator,
            format!("老师{:02}", index + 1),
            at,
        );
        plan.creators.push(creator::Model {
            id: index as i64 + 1,
            user_id,
            display_name: format!("{}·{}老师", CATEGORIES[category], index + 1),
            bio: Some(format!(
                "专注{}领域多年，已帮助上万名学员。",
                CATEGORIES[category]
            )),
            created_at: at,
        });
        creator_category.push(category);
    }

    // Courses: published ones with Zipf-like popularity, plus drafts and archived ones.
    let total_courses = PUBLISHED_COURSES + DRAFT_COURSES + ARCHIVED_COURSES;
    let mut sellables: Vec<Sellable> = Vec::new();
    let mut course_weight = Vec::new();
    let mut course_quality = Vec::new();
    for index in 0..total_courses {
        let creator_index = rng.random_range(0..CREATORS);
        let category = if rng.random_bool(0.85) {
            creator_category[creator_index]
        } else {
            rng.random_range(0..CATEGORIES.len())
        };
        let status = if index < PUBLISHED_COURSES {
            CourseStatus::Published
        } else if index < PUBLISHED_COURSES + DRAFT_COURSES {
            CourseStatus::Draft
        } else {
            CourseStatus::Archived
        };
        let id = index as i64 + 1;
        let created = epoch + Duration::days(10) + Duration::hours(index as i64 * 17);
        let price_fen = *[0, 990, 1990, 4900, 9900, 19900, 29900, 49900, 99900]
            .choose(&mut rng)
            .unwrap_or(&9900);
        let topic = TOPICS[category][rng.random_range(0..6)];
        let suffix = SUFFIXES[rng.random_range(0..SUFFIXES.len())];
        plan.courses.push(course::Model {
            id,
            creator_id: creator_index as i64 + 1,
            title: format!("{topic}{suffix}（第{}期）", index % 9 + 1),
            subtitle: Some(format!("{}：从零开始的{}", CATEGORIES[category], topic)),
            description: Some(format!(
                "这门课系统讲解{topic}的核心知识与实战方法，适合想在{}方向提升的学员。",
                CATEGORIES[category]
            )),
            cover_url: Some(format!("https://img.zhiku.example/covers/{id}.jpg")),
            category: CATEGORIES[category].to_owned(),
            price_fen,
            status,
            // Counters start at zero: the writers move them as purchases and ratings land.
            sales_count: 0,
            rating_count: 0,
            rating_sum: 0,
            published_at: (status != CourseStatus::Draft).then_some(created + Duration::days(2)),
            suspended_at: None,
            created_at: created,
            updated_at: created,
        });
        let lesson_count = rng.random_range(3..=12);
        for position in 1..=lesson_count {
            let kind =
                [LessonKind::Video, LessonKind::Audio, LessonKind::Article][rng.random_range(0..3)];
            let lesson_id = plan.lessons.len() as i64 + 1;
            plan.lessons.push(lesson::Model {
                id: lesson_id,
                course_id: id,
                position,
                title: format!("第{position}讲：{topic}要点{position}"),
                kind,
                duration_seconds: rng.random_range(300..3600),
                free_preview: position == 1,
                content: Some(match kind {
                    LessonKind::Article => format!("{topic}第{position}讲正文……"),
                    _ => format!("https://media.zhiku.example/lessons/{lesson_id}.m3u8"),
                }),
                created_at: created,
            });
        }
        // Archived courses still sell through earlier purchases only; drafts never sell.
        if status == CourseStatus::Published && price_fen > 0 {
            sellables.push(Sellable {
                kind: ProductKind::Course,
                id,
                price_fen,
                category,
            });
            let rank = sellables.len() as f64;
            course_weight.push(1.0 / rank.powf(0.9));
            course_quality.push(rng.random_range(-1.0f64..1.0));
        }
    }
    // Shuffle which courses are popular so it is not simply the oldest ones.
    {
        use rand::seq::SliceRandom;
        course_weight.shuffle(&mut rng);
    }

    // Livestreams: fifty in each status around the present.
    let statuses = [
        LivestreamStatus::Scheduled,
        LivestreamStatus::Live,
        LivestreamStatus::Ended,
        LivestreamStatus::Cancelled,
    ];
    for (s, status) in statuses.iter().enumerate() {
        for n in 0..LIVESTREAMS_PER_STATUS {
            let id = plan.livestreams.len() as i64 + 1;
            let creator_index = rng.random_range(0..CREATORS);
            let category = creator_category[creator_index];
            let start = match status {
                LivestreamStatus::Scheduled => now + Duration::hours(2 + n as i64 * 5),
                LivestreamStatus::Live => now - Duration::minutes(10 + n as i64),
                LivestreamStatus::Ended => now - Duration::days(1 + n as i64),
                LivestreamStatus::Cancelled => now + Duration::days(1 + n as i64),
            };
            let price_fen = *[0, 990, 2990, 4990].choose(&mut rng).unwrap_or(&990);
            plan.livestreams.push(livestream::Model {
                id,
                creator_id: creator_index as i64 + 1,
                title: format!(
                    "{}直播：{}答疑 #{}",
                    CATEGORIES[category],
                    TOPICS[category][n % 6],
                    s * 100 + n + 1
                ),
                description: Some("直播互动答疑，欢迎提问。".into()),
                status: *status,
                scheduled_start: start,
                started_at: matches!(status, LivestreamStatus::Live | LivestreamStatus::Ended)
                    .then_some(start),
                ended_at: (*status == LivestreamStatus::Ended)
                    .then_some(start + Duration::minutes(90)),
                price_fen,
                play_url: Some(format!("https://live.zhiku.example/streams/{id}.flv")),
                replay_url: (*status == LivestreamStatus::Ended && n % 3 != 0)
                    .then(|| format!("https://media.zhiku.example/replays/{id}.m3u8")),
                peak_viewers: match status {
                    LivestreamStatus::Live | LivestreamStatus::Ended => rng.random_range(20..5000),
                    _ => 0,
                },
                created_at: start - Duration::days(7),
            });
            if price_fen > 0
                && matches!(
                    status,
                    LivestreamStatus::Scheduled | LivestreamStatus::Live | LivestreamStatus::Ended
                )
            {
                sellables.push(Sellable {
                    kind: ProductKind::Livestream,
                    id,
                    price_fen,
                    category,
                });
            }
        }
    }

    // Groups: half free, half paid.
    for index in 0..GROUPS {
        let id = index as i64 + 1;
        let creator_index = index % CREATORS;
        let category = creator_category[creator_index];
        let paid = index % 2 == 1;
        let price_fen = if paid {
            [9900, 19900, 36500][index % 3]
        } else {
            0
        };
        let membership_days = paid.then_some([30, 90, 365][index % 3]);
        plan.groups.push(community_group::Model {
            id,
            creator_id: creator_index as i64 + 1,
            name: format!("{}学习圈 {}", CATEGORIES[category], index + 1),
            description: Some(format!(
                "和同伴一起学习{}，每周打卡。",
                CATEGORIES[category]
            )),
            price_fen,
            membership_days,
            created_at: epoch + Duration::days(5) + Duration::hours(index as i64 * 13),
        });
        if paid {
            sellables.push(Sellable {
                kind: ProductKind::Group,
                id,
                price_fen,
                category,
            });
        }
    }

    // Learners with one or two favourite categories.
    let first_learner = plan.users.len() as i64 + 1;
    let mut learner_taste = Vec::with_capacity(LEARNERS);
    for index in 0..LEARNERS {
        let at = epoch + Duration::days(20) + Duration::minutes(index as i64 * 97);
        add_user(
            &mut plan,
            Role::Learner,
            format!("学员{:04}", index + 1),
            at,
        );
        let favourite = rng.random_range(0..CATEGORIES.len());
        let second = rng.random_range(0..CATEGORIES.len());
        learner_taste.push((favourite, second));
    }
    let learner_id = |index: usize| first_learner + index as i64;

    // Follows: learners follow creators of their favourite category.
    let mut follow_pairs = HashSet::new();
    for (index, &(favourite, _)) in learner_taste.iter().enumerate() {
        for _ in 0..rng.random_range(0..4) {
            let candidates: Vec<usize> = (0..CREATORS)
                .filter(|&c| creator_category[c] == favourite)
                .collect();
            if let Some(&creator_index) = candidates.choose(&mut rng)
                && follow_pairs.insert((learner_id(index), creator_index as i64 + 1))
            {
                plan.follows.push(follow::Model {
                    id: plan.follows.len() as i64 + 1,
                    user_id: learner_id(index),
                    creator_id: creator_index as i64 + 1,
                    created_at: epoch
                        + Duration::days(30)
                        + Duration::minutes(plan.follows.len() as i64),
                });
            }
        }
    }

    // Purchases: heavy-tailed counts per learner, products drawn by popularity and taste.
    let course_sellables: Vec<Sellable> = sellables
        .iter()
        .copied()
        .filter(|s| s.kind == ProductKind::Course)
        .collect();
    let other_sellables: Vec<Sellable> = sellables
        .iter()
        .copied()
        .filter(|s| s.kind != ProductKind::Course)
        .collect();
    let mut owned: HashSet<(i64, ProductKind, i64)> = HashSet::new();
    let activity: Vec<f64> = (0..LEARNERS)
        .map(|_| {
            let u: f64 = rng.random_range(0.05..1.0);
            u.powf(-0.8)
        })
        .collect();
    let learner_picker = WeightedIndex::new(&activity).ok();
    let mut purchases: Vec<(usize, Sellable)> = Vec::with_capacity(PAID_ORDERS);
    let mut attempts = 0;
    while purchases.len() < PAID_ORDERS && attempts < PAID_ORDERS * 50 {
        attempts += 1;
        let Some(picker) = &learner_picker else { break };
        let learner = picker.sample(&mut rng);
        let (favourite, second) = learner_taste[learner];
        let product = if rng.random_bool(0.88) {
            // Course: popularity times taste (favourite categories weigh far more).
            let index = sample_course(
                &mut rng,
                &course_weight,
                &course_sellables,
                favourite,
                second,
            );
            course_sellables[index]
        } else {
            match other_sellables.choose(&mut rng) {
                Some(product) => *product,
                None => continue,
            }
        };
        if owned.insert((learner_id(learner), product.kind, product.id)) {
            purchases.push((learner, product));
        }
    }

    // Paid orders, in time order (their entitlements, memberships and sales counters
    // are the writers' business); `members` tracks who is in which group, for the posts.
    let mut membership_pairs = HashSet::new();
    let mut members: Vec<(i64, i64)> = Vec::new();
    for (n, (learner, product)) in purchases.iter().enumerate() {
        let id = n as i64 + 1;
        let buyer = learner_id(*learner);
        let created = epoch + Duration::days(40) + Duration::minutes(n as i64 * 13);
        let paid = created + Duration::seconds(rng.random_range(20..600));
        plan.orders.push(order::Model {
            id,
            out_trade_no: format!("ZK{id:012}"),
            buyer_id: buyer,
            product_kind: product.kind,
            product_id: product.id,
            amount_fen: product.price_fen,
            currency: "CNY".into(),
            status: OrderStatus::Paid,
            idempotency_key: format!("demo-{id}"),
            transaction_id: Some(format!("42000{id:015}")),
            prepay_id: None,
            created_at: created,
            expires_at: created + Duration::minutes(30),
            paid_at: Some(paid),
            refunded_at: None,
            closed_at: None,
            updated_at: paid,
        });
        if product.kind == ProductKind::Group && membership_pairs.insert((product.id, buyer)) {
            members.push((product.id, buyer));
        }
    }

    // Free groups: learners of the group's category join.
    for group in plan.groups.iter().filter(|g| g.price_fen == 0) {
        let category = creator_category[group.creator_id as usize - 1];
        for (index, &(favourite, second)) in learner_taste.iter().enumerate() {
            let interested = favourite == category || second == category;
            if interested
                && rng.random_bool(0.3)
                && membership_pairs.insert((group.id, learner_id(index)))
            {
                members.push((group.id, learner_id(index)));
                plan.joins.push(PlannedJoin {
                    group_id: group.id,
                    user_id: learner_id(index),
                    joined_at: group.created_at + Duration::days(rng.random_range(1..200)),
                });
            }
        }
    }

    // Posts by the group's creator and its members.
    let members_of = |group_id: i64| -> Vec<i64> {
        members
            .iter()
            .filter(|(group, _)| *group == group_id)
            .map(|(_, user)| *user)
            .collect()
    };
    for group_index in 0..plan.groups.len() {
        let group = plan.groups[group_index].clone();
        let members = members_of(group.id);
        let owner = plan.creators[group.creator_id as usize - 1].user_id;
        for n in 0..rng.random_range(8..30) {
            let author = if n % 4 == 0 || members.is_empty() {
                owner
            } else {
                *members.choose(&mut rng).unwrap_or(&owner)
            };
            plan.posts.push(group_post::Model {
                id: plan.posts.len() as i64 + 1,
                group_id: group.id,
                author_id: author,
                body: format!("第{}天打卡：今天学习了新内容，收获很大！", n + 1),
                pinned: n == 0,
                created_at: group.created_at + Duration::days(n as i64 + 1),
            });
        }
    }

    // Ratings by buyers of courses: quality plus the buyer's taste decides the stars.
    let mut course_purchases: Vec<(usize, usize, i64)> = plan
        .orders
        .iter()
        .zip(purchases.iter())
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
        course_purchases.shuffle(&mut rng);
    }
    for (learner, sellable_index, order_id) in course_purchases.into_iter().take(RATINGS) {
        let product = course_sellables[sellable_index];
        let (favourite, second) = learner_taste[learner];
        let taste = if product.category == favourite {
            0.6
        } else if product.category == second {
            0.3
        } else {
            -0.4
        };
        let score = 3.6 + course_quality[sellable_index] + taste + rng.random_range(-0.9..0.9);
        let stars = score.round().clamp(1.0, 5.0) as i32;
        let at = plan.orders[order_id as usize - 1].paid_at.unwrap_or(epoch) + Duration::days(3);
        plan.ratings.push(PlannedRating {
            user_id: learner_id(learner),
            course_id: product.id,
            stars,
            review: (stars >= 4 || rng.random_bool(0.5)).then(|| review_text(stars).to_owned()),
            at,
        });
    }
    plan
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
