//! The catalogue: courses with their lessons, livestreams and groups, and what each
//! sells for.

use chrono::Duration;
use entity::enums::{CourseStatus, LessonKind, LivestreamStatus, ProductKind};
use entity::{community_group, course, lesson, livestream};
use rand::Rng;
use rand::seq::IndexedRandom;

use super::{
    ARCHIVED_COURSES, CREATORS, DRAFT_COURSES, GROUPS, LIVESTREAMS_PER_STATUS, PUBLISHED_COURSES,
    Planner, Sellable,
};
use crate::seed::text::{CATEGORIES, SUFFIXES, TOPICS};

impl Planner {
    /// Courses with their lessons: published ones with Zipf-like popularity, plus drafts and archived ones.
    pub(super) fn courses(&mut self) {
        let total_courses = PUBLISHED_COURSES + DRAFT_COURSES + ARCHIVED_COURSES;
        for index in 0..total_courses {
            let creator_index = self.rng.random_range(0..CREATORS);
            let category = if self.rng.random_bool(0.85) {
                self.creator_category[creator_index]
            } else {
                self.rng.random_range(0..CATEGORIES.len())
            };
            let status = if index < PUBLISHED_COURSES {
                CourseStatus::Published
            } else if index < PUBLISHED_COURSES + DRAFT_COURSES {
                CourseStatus::Draft
            } else {
                CourseStatus::Archived
            };
            let id = index as i64 + 1;
            let created = self.epoch + Duration::days(10) + Duration::hours(index as i64 * 17);
            let price_fen = *[0, 990, 1990, 4900, 9900, 19900, 29900, 49900, 99900]
                .choose(&mut self.rng)
                .unwrap_or(&9900);
            let topic = TOPICS[category][self.rng.random_range(0..6)];
            let suffix = SUFFIXES[self.rng.random_range(0..SUFFIXES.len())];
            self.plan.courses.push(course::Model {
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
                // Counters start at zero: the writers move them as self.purchases and ratings land.
                sales_count: 0,
                rating_count: 0,
                rating_sum: 0,
                published_at: (status != CourseStatus::Draft)
                    .then_some(created + Duration::days(2)),
                suspended_at: None,
                created_at: created,
                updated_at: created,
            });
            let lesson_count = self.rng.random_range(3..=12);
            for position in 1..=lesson_count {
                let kind = [LessonKind::Video, LessonKind::Audio, LessonKind::Article]
                    [self.rng.random_range(0..3)];
                let lesson_id = self.plan.lessons.len() as i64 + 1;
                self.plan.lessons.push(lesson::Model {
                    id: lesson_id,
                    course_id: id,
                    position,
                    title: format!("第{position}讲：{topic}要点{position}"),
                    kind,
                    duration_seconds: self.rng.random_range(300..3600),
                    free_preview: position == 1,
                    content: Some(match kind {
                        LessonKind::Article => format!("{topic}第{position}讲正文……"),
                        _ => format!("https://media.zhiku.example/lessons/{lesson_id}.m3u8"),
                    }),
                    created_at: created,
                });
            }
            // Archived courses still sell through earlier self.purchases only; drafts never sell.
            if status == CourseStatus::Published && price_fen > 0 {
                self.sellables.push(Sellable {
                    kind: ProductKind::Course,
                    id,
                    creator_id: creator_index as i64 + 1,
                    price_fen,
                    category,
                });
                let rank = self.sellables.len() as f64;
                self.course_weight.push(1.0 / rank.powf(0.9));
                self.course_quality
                    .push(self.rng.random_range(-1.0f64..1.0));
            }
        }
        // Shuffle which courses are popular so it is not simply the oldest ones.
        {
            use rand::seq::SliceRandom;
            self.course_weight.shuffle(&mut self.rng);
        }
    }

    /// Livestreams: fifty in each status around the present.
    pub(super) fn livestreams(&mut self) {
        let statuses = [
            LivestreamStatus::Scheduled,
            LivestreamStatus::Live,
            LivestreamStatus::Ended,
            LivestreamStatus::Cancelled,
        ];
        for (s, status) in statuses.iter().enumerate() {
            for n in 0..LIVESTREAMS_PER_STATUS {
                let id = self.plan.livestreams.len() as i64 + 1;
                let creator_index = self.rng.random_range(0..CREATORS);
                let category = self.creator_category[creator_index];
                let start = match status {
                    LivestreamStatus::Scheduled => self.now + Duration::hours(2 + n as i64 * 5),
                    LivestreamStatus::Live => self.now - Duration::minutes(10 + n as i64),
                    LivestreamStatus::Ended => self.now - Duration::days(1 + n as i64),
                    LivestreamStatus::Cancelled => self.now + Duration::days(1 + n as i64),
                };
                let price_fen = *[0, 990, 2990, 4990].choose(&mut self.rng).unwrap_or(&990);
                let stream_name = crate::service::livestreams::stream_name(id, self.rng.random());
                self.plan.livestreams.push(livestream::Model {
                    id,
                    stream_name: Some(stream_name),
                    last_event_sequence: 0,
                    pinned_message_id: None,
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
                        LivestreamStatus::Live | LivestreamStatus::Ended => {
                            self.rng.random_range(20..5000)
                        }
                        _ => 0,
                    },
                    created_at: start - Duration::days(7),
                });
                if price_fen > 0
                    && matches!(
                        status,
                        LivestreamStatus::Scheduled
                            | LivestreamStatus::Live
                            | LivestreamStatus::Ended
                    )
                {
                    self.sellables.push(Sellable {
                        kind: ProductKind::Livestream,
                        id,
                        creator_id: creator_index as i64 + 1,
                        price_fen,
                        category,
                    });
                }
            }
        }
    }

    /// Groups: half free, half paid.
    pub(super) fn groups(&mut self) {
        for index in 0..GROUPS {
            let id = index as i64 + 1;
            let creator_index = index % CREATORS;
            let category = self.creator_category[creator_index];
            let paid = index % 2 == 1;
            let price_fen = if paid {
                [9900, 19900, 36500][index % 3]
            } else {
                0
            };
            let membership_days = paid.then_some([30, 90, 365][index % 3]);
            self.plan.groups.push(community_group::Model {
                id,
                creator_id: creator_index as i64 + 1,
                name: format!("{}学习圈 {}", CATEGORIES[category], index + 1),
                description: Some(format!(
                    "和同伴一起学习{}，每周打卡。",
                    CATEGORIES[category]
                )),
                price_fen,
                membership_days,
                created_at: self.epoch + Duration::days(5) + Duration::hours(index as i64 * 13),
                time_zone: "Asia/Shanghai".to_owned(),
                question_price_fen: paid.then_some(2_000),
                question_answer_hours: 48,
            });
            if paid {
                self.sellables.push(Sellable {
                    kind: ProductKind::Group,
                    id,
                    creator_id: creator_index as i64 + 1,
                    price_fen,
                    category,
                });
            }
        }
    }
}
