//! Check-in challenges (打卡): a TASK post that runs from one local day to another in
//! its group's time zone (Asia/Shanghai unless the group says otherwise). Members check
//! in once per day of it; the unique (post, member, day) index settles two taps at
//! once. Standings count check-ins and streaks: the current streak is the run of days
//! that ends today, or yesterday while today is still open; the longest is the longest
//! run of the challenge.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use entity::{community_group, group_post, task_check_in};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::{moderation, posts};
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::validation::{Checks, FieldError, UserErrorCode};
use crate::service::{groups, not_found};

/// The longest challenge, in days.
pub const MAX_TASK_DAYS: u64 = 366;

/// A challenge's days, first and last included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDays {
    /// Its first local day.
    pub starts_on: NaiveDate,
    /// Its last local day.
    pub ends_on: NaiveDate,
}

/// A member's place in a challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The member.
    pub user_id: i64,
    /// Days checked in.
    pub check_ins: i64,
    /// The run of days up to today (or yesterday, while today is open).
    pub current_streak: i64,
    /// The longest run of days.
    pub longest_streak: i64,
    /// Their last day checked in.
    pub last_day: NaiveDate,
}

/// Checks a challenge's days: the end not before the start, at most a year long.
pub fn check_days(checks: &mut Checks, days: TaskDays) {
    let too_long = days
        .starts_on
        .checked_add_days(Days::new(MAX_TASK_DAYS - 1))
        .is_none_or(|last| days.ends_on > last);
    if days.ends_on < days.starts_on || too_long {
        checks.fail(
            "task",
            UserErrorCode::OutOfRange,
            format!("a challenge ends on or after its first day, within {MAX_TASK_DAYS} days"),
        );
    }
}

/// The group's time zone (Asia/Shanghai if it holds a name no longer known).
pub fn zone(group: &community_group::Model) -> Tz {
    group.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai)
}

/// The group's local day at `now`.
pub fn today(group: &community_group::Model, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&zone(group)).date_naive()
}

/// A post's challenge days, if it is a TASK with days.
pub fn days_of(post: &group_post::Model) -> Option<TaskDays> {
    match (post.kind, post.task_starts_on, post.task_ends_on) {
        (entity::enums::PostKind::Task, Some(starts_on), Some(ends_on)) => {
            Some(TaskDays { starts_on, ends_on })
        }
        _ => None,
    }
}

/// Checks the actor in to a challenge for today (the group's day at `now`): a member
/// of its group, not muted, on a day of the challenge, once. Answers their standing.
pub async fn check_in(
    db: &DatabaseConnection,
    actor: &Actor,
    post_id: i64,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Standing> {
    let user_id = actor.require_user()?;
    let (post, group) = posts::get(db, post_id)
        .await?
        .ok_or_else(|| not_found("task"))?;
    let refuse =
        |code, message: &str| -> AppError { FieldError::new("task", code, message).into() };
    let days = days_of(&post).ok_or_else(|| {
        refuse(
            UserErrorCode::InvalidState,
            "this post is not a check-in challenge",
        )
    })?;
    if !groups::is_member(db, actor, &group).await? {
        return Err(AppError::Forbidden("join the group to check in"));
    }
    moderation::refuse_if_muted(db, group.id, user_id, "task").await?;
    let day = today(&group, now);
    if day < days.starts_on || day > days.ends_on {
        return Err(refuse(
            UserErrorCode::OutOfRange,
            "today is not a day of this challenge",
        ));
    }
    let mut checks = Checks::new();
    let note = checks.optional_text("note", note, 2_000);
    checks.finish()?;
    let written = task_check_in::Entity::insert(task_check_in::ActiveModel {
        post_id: Set(post.id),
        user_id: Set(user_id),
        day: Set(day),
        note: Set(note),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            task_check_in::Column::PostId,
            task_check_in::Column::UserId,
            task_check_in::Column::Day,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    if written == 0 {
        return Err(refuse(
            UserErrorCode::AlreadyCheckedIn,
            "already checked in today: come back tomorrow",
        ));
    }
    standing(db, &post, &group, user_id, now)
        .await?
        .ok_or_else(|| not_found("task"))
}

/// Every member's (member, day) check-ins of a challenge, in member and day order.
async fn days_checked_in(
    db: &impl ConnectionTrait,
    post_id: i64,
    user_id: Option<i64>,
) -> AppResult<BTreeMap<i64, Vec<NaiveDate>>> {
    let mut query = task_check_in::Entity::find()
        .select_only()
        .column(task_check_in::Column::UserId)
        .column(task_check_in::Column::Day)
        .filter(task_check_in::Column::PostId.eq(post_id));
    if let Some(user_id) = user_id {
        query = query.filter(task_check_in::Column::UserId.eq(user_id));
    }
    let rows: Vec<(i64, NaiveDate)> = query
        .order_by_asc(task_check_in::Column::UserId)
        .order_by_asc(task_check_in::Column::Day)
        .into_tuple()
        .all(db)
        .await?;
    let mut by_user: BTreeMap<i64, Vec<NaiveDate>> = BTreeMap::new();
    for (user, day) in rows {
        by_user.entry(user).or_default().push(day);
    }
    Ok(by_user)
}

/// A member's standing from their days (ascending), as of `today` in a challenge
/// ending on `ends_on`.
pub fn standing_of(
    user_id: i64,
    days: &[NaiveDate],
    today: NaiveDate,
    ends_on: NaiveDate,
) -> Option<Standing> {
    let last_day = *days.last()?;
    let (mut longest, mut run) = (0i64, 0i64);
    let mut previous: Option<NaiveDate> = None;
    for day in days {
        run = match previous {
            Some(p) if p.succ_opt() == Some(*day) => run + 1,
            _ => 1,
        };
        longest = longest.max(run);
        previous = Some(*day);
    }
    // The last run counts as current when it reaches today, or yesterday while the
    // challenge still runs today (today can still be checked in).
    let reference = today.min(ends_on);
    let open_today = today <= ends_on;
    let alive = last_day == reference || (open_today && last_day.succ_opt() == Some(reference));
    Some(Standing {
        user_id,
        check_ins: days.len() as i64,
        current_streak: if alive { run } else { 0 },
        longest_streak: longest,
        last_day,
    })
}

/// One member's standing in a challenge (None before their first check-in).
pub async fn standing(
    db: &impl ConnectionTrait,
    post: &group_post::Model,
    group: &community_group::Model,
    user_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Option<Standing>> {
    let Some(days) = days_of(post) else {
        return Ok(None);
    };
    let by_user = days_checked_in(db, post.id, Some(user_id)).await?;
    Ok(by_user
        .get(&user_id)
        .and_then(|list| standing_of(user_id, list, today(group, now), days.ends_on)))
}

/// The challenge's leaderboard: most check-ins first, then the longest current streak,
/// then who reached their last check-in first; at most `limit` members.
pub async fn leaderboard(
    db: &impl ConnectionTrait,
    post: &group_post::Model,
    group: &community_group::Model,
    now: DateTime<Utc>,
    limit: usize,
) -> AppResult<Vec<Standing>> {
    let Some(days) = days_of(post) else {
        return Ok(Vec::new());
    };
    let today = today(group, now);
    let by_user = days_checked_in(db, post.id, None).await?;
    let mut standings: Vec<Standing> = by_user
        .iter()
        .filter_map(|(user, list)| standing_of(*user, list, today, days.ends_on))
        .collect();
    standings.sort_by(|a, b| {
        b.check_ins
            .cmp(&a.check_ins)
            .then(b.current_streak.cmp(&a.current_streak))
            .then(a.last_day.cmp(&b.last_day))
            .then(a.user_id.cmp(&b.user_id))
    });
    standings.truncate(limit);
    Ok(standings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap_or_default()
    }

    #[test]
    fn streaks_run_to_today_or_yesterday_and_the_longest_is_kept() {
        let days = [day(1), day(2), day(3), day(5), day(6)];
        let end = day(31);
        let now = standing_of(1, &days, day(6), end).unwrap_or_else(|| unreachable!());
        assert_eq!(
            (now.check_ins, now.current_streak, now.longest_streak),
            (5, 2, 3)
        );
        // Today (the 7th) is still open: yesterday's run is alive.
        assert_eq!(
            standing_of(1, &days, day(7), end).map(|s| s.current_streak),
            Some(2)
        );
        // A whole day missed breaks it.
        assert_eq!(
            standing_of(1, &days, day(8), end).map(|s| s.current_streak),
            Some(0)
        );
        // After the challenge, the run that reached its last day stays current.
        assert_eq!(
            standing_of(1, &days, day(20), day(6)).map(|s| s.current_streak),
            Some(2)
        );
        assert_eq!(standing_of(1, &[], day(6), end), None);
    }
}
