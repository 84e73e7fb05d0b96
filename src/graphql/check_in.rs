//! Check-in challenges on the API: a TASK post's `task` (its days, the viewer's
//! standing, the leaderboard) and `checkIn`.

use async_graphql::{Context, ID, InputObject, Object};

use crate::error::AppError;
use crate::graphql::context::ContextExt;
use crate::graphql::ids::type_name;
use crate::graphql::loaders::{GroupById, UserById};
use crate::graphql::objects::User;
use crate::graphql::payload::{input_id, payload};
use crate::graphql::series::Date;
use crate::service::community::check_ins::{self, Standing};

/// A check-in challenge: a TASK post with days.
pub struct Task {
    /// The post.
    pub post: entity::group_post::Model,
    /// Its days.
    pub days: check_ins::TaskDays,
}

impl Task {
    /// The post's group, which must still be readable by the viewer.
    async fn group(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<entity::community_group::Model> {
        let group = ctx
            .loader()?
            .load_one(GroupById(self.post.group_id))
            .await?
            .ok_or(AppError::NotFound("group"))?;
        // Batched through the request's loader (a removed member's paid access is
        // revoked, so this refuses them too).
        let product = crate::service::access::ProductRef::group(&group);
        if !crate::graphql::access::can_open(ctx, &product).await? {
            return Err(AppError::Forbidden("the group's challenges are for its members").into());
        }
        Ok(group)
    }
}

/// A check-in challenge (打卡): a TASK post running over days of its group's time zone.
#[Object]
impl Task {
    /// Its first day.
    async fn starts_on(&self) -> Date {
        Date(self.days.starts_on)
    }
    /// Its last day.
    async fn ends_on(&self) -> Date {
        Date(self.days.ends_on)
    }
    /// The group's day now, in its time zone (the day a check-in counts for).
    async fn today(&self, ctx: &Context<'_>) -> async_graphql::Result<Date> {
        let group = self.group(ctx).await?;
        Ok(Date(check_ins::today(&group, ctx.now())))
    }
    /// The viewer's standing; null before their first check-in or when signed out.
    async fn viewer_standing(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<TaskStanding>> {
        let Some(user_id) = ctx.actor()?.user_id() else {
            return Ok(None);
        };
        let group = self.group(ctx).await?;
        let standing =
            check_ins::standing(ctx.db()?, &self.post, &group, user_id, ctx.now()).await?;
        Ok(standing.map(|standing| TaskStanding {
            standing,
            rank: None,
        }))
    }
    /// The most check-ins first, then the longest current streak (at most `first`,
    /// 1 to 100).
    async fn leaderboard(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: i32,
    ) -> async_graphql::Result<Vec<TaskStanding>> {
        let group = self.group(ctx).await?;
        let limit = usize::try_from(first.clamp(1, 100)).unwrap_or(10);
        let standings =
            check_ins::leaderboard(ctx.db()?, &self.post, &group, ctx.now(), limit).await?;
        // The page's users in one query, for `user` below.
        ctx.loader()?
            .load_many(standings.iter().map(|s| UserById(s.user_id)))
            .await?;
        Ok(standings
            .into_iter()
            .enumerate()
            .map(|(index, standing)| TaskStanding {
                standing,
                rank: Some(index as i32 + 1),
            })
            .collect())
    }
}

/// A member's place in a challenge.
pub struct TaskStanding {
    standing: Standing,
    rank: Option<i32>,
}

/// A member's place in a challenge.
#[Object]
impl TaskStanding {
    /// The member.
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        ctx.loader()?
            .load_one(UserById(self.standing.user_id))
            .await?
            .map(User)
            .ok_or_else(|| AppError::NotFound("user").into())
    }
    /// Place on the leaderboard, from 1 (null outside it).
    async fn rank(&self) -> Option<i32> {
        self.rank
    }
    /// Days checked in.
    async fn check_ins(&self) -> i64 {
        self.standing.check_ins
    }
    /// Days in a row up to today (or up to yesterday while today is still open).
    async fn current_streak(&self) -> i64 {
        self.standing.current_streak
    }
    /// The longest run of days in a row.
    async fn longest_streak(&self) -> i64 {
        self.standing.longest_streak
    }
    /// Their last day checked in.
    async fn last_check_in_on(&self) -> Date {
        Date(self.standing.last_day)
    }
}

/// The days of a new check-in challenge, in the group's time zone.
#[derive(InputObject)]
pub struct TaskInput {
    /// Its first day.
    pub starts_on: Date,
    /// Its last day (at most 366 days after the first).
    pub ends_on: Date,
}

/// Input of `checkIn`.
#[derive(InputObject)]
pub struct CheckInInput {
    /// The challenge (a TASK post).
    pub task: ID,
    /// What they did today, up to 2,000 characters.
    pub note: Option<String>,
}

payload!(
    /// Result of `checkIn`: the viewer's standing after it.
    CheckInPayload, standing: TaskStanding
);

/// Check-in mutations.
#[derive(Default)]
pub struct CheckInMutation;

/// Check-in mutations.
#[Object]
impl CheckInMutation {
    /// Checks the viewer in to a challenge for the group's today: members, once a day
    /// (ALREADY_CHECKED_IN after), on its days (OUT_OF_RANGE otherwise), not while muted.
    async fn check_in(
        &self,
        ctx: &Context<'_>,
        input: CheckInInput,
    ) -> async_graphql::Result<CheckInPayload> {
        let result = async {
            let id = input_id(&input.task, type_name::GROUP_POST, "task")?;
            let standing = check_ins::check_in(
                ctx.db()?,
                ctx.actor()?,
                id,
                input.note.as_deref(),
                ctx.now(),
            )
            .await?;
            Ok(TaskStanding {
                standing,
                rank: None,
            })
        }
        .await;
        CheckInPayload::from_result(result)
    }
}
