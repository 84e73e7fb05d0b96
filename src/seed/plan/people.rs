//! People: the admin, creators with their home categories, learners with their
//! tastes, and who follows whom.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use entity::enums::Role;
use entity::{creator, follow, user};
use rand::Rng;
use rand::seq::IndexedRandom;

use super::{CREATORS, LEARNERS, Planner};
use crate::seed::text::CATEGORIES;

impl Planner {
    /// A user with the next id.
    pub(super) fn add_user(&mut self, role: Role, nickname: String, at: DateTime<Utc>) -> i64 {
        self.next_user += 1;
        let id = self.next_user;
        self.plan.users.push(user::Model {
            id,
            // Every demo person is bound to the open platform, as a real mini-program
            // and official account are: the console's QR sign-in finds them by it.
            unionid: Some(format!("demo-unionid-{id:05}")),
            nickname: Some(nickname),
            avatar_url: Some(format!("https://img.zhiku.example/avatars/{id}.png")),
            role,
            banned_at: None,
            tokens_valid_after: None,
            created_at: at,
            updated_at: at,
        });
        self.plan.identities.push(entity::user_identity::Model {
            id,
            user_id: id,
            app: entity::enums::IdentityApp::MiniProgram,
            openid: format!("demo-openid-{id:05}"),
            created_at: at,
        });
        id
    }

    /// Creators, each with a home category (and a user each).
    pub(super) fn creators(&mut self) {
        for index in 0..CREATORS {
            let at = self.epoch + Duration::hours(index as i64 * 7);
            let category = index % CATEGORIES.len();
            let user_id = self.add_user(Role::Creator, format!("老师{:02}", index + 1), at);
            self.plan.creators.push(creator::Model {
                id: index as i64 + 1,
                user_id,
                display_name: format!("{}·{}老师", CATEGORIES[category], index + 1),
                bio: Some(format!(
                    "专注{}领域多年，已帮助上万名学员。",
                    CATEGORIES[category]
                )),
                created_at: at,
                fee_bps: None,
                wechat_mchid: None,
            });
            self.creator_category.push(category);
        }
    }

    /// Learners with one or two favourite categories.
    pub(super) fn learners(&mut self) {
        self.first_learner = self.plan.users.len() as i64 + 1;
        for index in 0..LEARNERS {
            let at = self.epoch + Duration::days(20) + Duration::minutes(index as i64 * 97);
            self.add_user(Role::Learner, format!("学员{:04}", index + 1), at);
            let favourite = self.rng.random_range(0..CATEGORIES.len());
            let second = self.rng.random_range(0..CATEGORIES.len());
            self.learner_taste.push((favourite, second));
        }
    }

    /// Follows: learners follow creators of their favourite category.
    pub(super) fn follows(&mut self) {
        let first_learner = self.first_learner;
        let learner_id = |index: usize| first_learner + index as i64;
        let mut follow_pairs = HashSet::new();
        for (index, &(favourite, _)) in self.learner_taste.iter().enumerate() {
            for _ in 0..self.rng.random_range(0..4) {
                let candidates: Vec<usize> = (0..CREATORS)
                    .filter(|&c| self.creator_category[c] == favourite)
                    .collect();
                if let Some(&creator_index) = candidates.choose(&mut self.rng)
                    && follow_pairs.insert((learner_id(index), creator_index as i64 + 1))
                {
                    self.plan.follows.push(follow::Model {
                        id: self.plan.follows.len() as i64 + 1,
                        user_id: learner_id(index),
                        creator_id: creator_index as i64 + 1,
                        created_at: self.epoch
                            + Duration::days(30)
                            + Duration::minutes(self.plan.follows.len() as i64),
                    });
                }
            }
        }
    }
}
