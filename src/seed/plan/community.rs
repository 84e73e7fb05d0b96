//! The groups' conversation in the demo: kinds and hashtags on the posts, digest
//! marks, replies and likes (the posts' counters follow them), a check-in challenge
//! running in every group with the days members already checked in, and in each paid
//! group with running memberships a paid question answered in public, with its paid
//! order.

use std::collections::HashMap;

use chrono::{Days, Duration};
use entity::enums::{OrderStatus, PostKind, ProductKind, QuestionStatus};
use entity::{
    group_post, group_reply, order, paid_question, post_hashtag, post_like, task_check_in,
};
use rand::Rng;
use rand::seq::IndexedRandom;

use super::Planner;

/// Replies members write, picked at random.
const REPLIES: [&str; 6] = [
    "同意！",
    "感谢分享，收藏了",
    "我也遇到过这个问题",
    "第二点讲得很清楚",
    "打卡 +1",
    "老师能再展开讲讲吗？",
];

impl Planner {
    /// Shapes the planned posts into threads and adds the challenges and questions.
    pub(super) fn conversation(&mut self) {
        let today = self
            .now
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .date_naive();
        let mut members_by_group: HashMap<i64, Vec<i64>> = HashMap::new();
        for (group, user) in &self.members {
            members_by_group.entry(*group).or_default().push(*user);
        }
        let no_members = Vec::new();
        // Who is still a member now: free groups' members, and paid memberships that
        // have not run out (the challenge and the question are theirs).
        let mut active: HashMap<i64, Vec<i64>> = HashMap::new();
        for join in &self.plan.joins {
            active.entry(join.group_id).or_default().push(join.user_id);
        }
        let days: HashMap<i64, Option<i32>> = self
            .plan
            .groups
            .iter()
            .map(|g| (g.id, g.membership_days))
            .collect();
        for bought in self
            .plan
            .orders
            .iter()
            .filter(|o| o.product_kind == ProductKind::Group)
        {
            let ends = match (days.get(&bought.product_id), bought.paid_at) {
                (Some(Some(days)), Some(paid)) => Some(paid + Duration::days(i64::from(*days))),
                _ => None,
            };
            if ends.is_none_or(|end| end > self.now) {
                active
                    .entry(bought.product_id)
                    .or_default()
                    .push(bought.buyer_id);
            }
        }
        for index in 0..self.plan.posts.len() {
            let (group_id, created_at, n) = {
                let post = &self.plan.posts[index];
                (post.group_id, post.created_at, index as i64)
            };
            let members = members_by_group.get(&group_id).unwrap_or(&no_members);
            let post = &mut self.plan.posts[index];
            post.digest = n % 6 == 1;
            if n % 5 == 2 {
                post.kind = PostKind::Question;
                post.body = format!("请教：{}", post.body);
            }
            let tag = if n % 3 == 0 {
                "学习笔记"
            } else {
                "每日打卡"
            };
            post.hashtags = serde_json::to_string(&[tag]).unwrap_or_else(|_| "[]".into());
            self.plan.hashtags.push(post_hashtag::Model {
                id: self.plan.hashtags.len() as i64 + 1,
                post_id: post.id,
                group_id,
                tag: tag.to_owned(),
            });
            let post_id = post.id;
            // Replies: a few members, in time order after the post.
            let replies = if members.is_empty() {
                0
            } else {
                self.rng.random_range(0..5)
            };
            for r in 0..replies {
                let author = *members.choose(&mut self.rng).unwrap_or(&members[0]);
                let body = REPLIES[self.rng.random_range(0..REPLIES.len())];
                self.plan.replies.push(group_reply::Model {
                    id: self.plan.replies.len() as i64 + 1,
                    post_id,
                    author_id: author,
                    reply_to_id: None,
                    body: body.to_owned(),
                    created_at: created_at + Duration::hours(r as i64 + 1),
                    deleted_at: None,
                    deleted_by_id: None,
                    delete_reason: None,
                });
            }
            // Likes: distinct members.
            let how_many = self.rng.random_range(0..8);
            let likers: Vec<i64> = members
                .choose_multiple(&mut self.rng, how_many)
                .copied()
                .collect();
            for user_id in &likers {
                self.plan.likes.push(post_like::Model {
                    id: self.plan.likes.len() as i64 + 1,
                    post_id,
                    user_id: *user_id,
                    created_at: created_at + Duration::hours(2),
                });
            }
            let post = &mut self.plan.posts[index];
            post.reply_count = replies as i64;
            post.like_count = likers.len() as i64;
        }
        for group_index in 0..self.plan.groups.len() {
            let group = self.plan.groups[group_index].clone();
            let members = active.get(&group.id).unwrap_or(&no_members);
            let owner = self.plan.creators[group.creator_id as usize - 1].user_id;
            // A 21-day challenge that began three days ago, checked in by members.
            let starts_on = today.checked_sub_days(Days::new(3)).unwrap_or(today);
            let ends_on = starts_on.checked_add_days(Days::new(20)).unwrap_or(today);
            let task_id = self.plan.posts.len() as i64 + 1;
            self.plan.posts.push(group_post::Model {
                id: task_id,
                group_id: group.id,
                author_id: owner,
                body: "21天打卡挑战：每天学习30分钟，在这里打卡".to_owned(),
                pinned: false,
                created_at: self.now - Duration::days(4),
                like_count: 0,
                reply_count: 0,
                kind: PostKind::Task,
                images: "[]".to_owned(),
                hashtags: "[]".to_owned(),
                digest: false,
                edited_at: None,
                deleted_at: None,
                deleted_by_id: None,
                delete_reason: None,
                task_starts_on: Some(starts_on),
                task_ends_on: Some(ends_on),
            });
            for user_id in members.iter().take(12) {
                let mut day = starts_on;
                while day <= today {
                    if self.rng.random_bool(0.75) {
                        self.plan.check_ins.push(task_check_in::Model {
                            id: self.plan.check_ins.len() as i64 + 1,
                            post_id: task_id,
                            user_id: *user_id,
                            day,
                            note: Some("今日已完成".to_owned()),
                            created_at: self.now - Duration::days((today - day).num_days()),
                        });
                    }
                    let Some(next) = day.succ_opt() else { break };
                    day = next;
                }
            }
            // A paid question, answered in public, in each paid group with members.
            let (Some(price_fen), Some(&asker)) = (group.question_price_fen, members.first())
            else {
                continue;
            };
            let question_id = self.plan.questions.len() as i64 + 1;
            let order_id = self.plan.orders.len() as i64 + 1;
            let paid = self.now - Duration::days(2);
            self.plan.orders.push(order::Model {
                id: order_id,
                out_trade_no: format!("ZK{order_id:012}"),
                buyer_id: asker,
                product_kind: ProductKind::Question,
                product_id: question_id,
                amount_fen: price_fen,
                list_price_fen: price_fen,
                currency: "CNY".into(),
                status: OrderStatus::Paid,
                idempotency_key: format!("demo-{order_id}"),
                transaction_id: Some(format!("42000{order_id:015}")),
                prepay_id: None,
                pay_app: entity::enums::IdentityApp::MiniProgram,
                created_at: paid - Duration::minutes(1),
                expires_at: paid + Duration::minutes(29),
                paid_at: Some(paid),
                refunded_at: None,
                closed_at: None,
                updated_at: paid,
                promoter_id: None,
                profit_sharing: false,
                seller_id: group.creator_id,
            });
            self.plan.questions.push(paid_question::Model {
                id: question_id,
                group_id: group.id,
                asker_id: asker,
                body: "工作之后每天只有一小时，怎么安排学习最有效？".to_owned(),
                price_fen,
                status: QuestionStatus::Answered,
                answer: Some(
                    "先定一个季度目标，每天一小时里半小时学新内容、半小时练习。".to_owned(),
                ),
                answer_public: true,
                order_id: Some(order_id),
                created_at: paid - Duration::minutes(2),
                paid_at: Some(paid),
                answer_due_at: Some(paid + Duration::hours(i64::from(group.question_answer_hours))),
                answered_at: Some(paid + Duration::hours(5)),
            });
        }
    }
}
