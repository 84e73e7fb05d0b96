//! Reminders that time writes: a livestream starting within [`STARTING_AHEAD`] (to the
//! creator's followers and its buyers) and a paid membership ending within
//! [`ENDING_AHEAD`]. A pass ([`enqueue_due`]) runs every `ZHIKU_REMINDER_INTERVAL_MS`;
//! the outbox keys make each reminder once, however many passes see it (and a
//! follower who arrives during the 15 minutes is still told).

use chrono::{DateTime, Duration, Utc};
use entity::enums::{LivestreamStatus, MessageKind};
use entity::{community_group, group_membership, livestream, outbox_message};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::{HashMap, HashSet};

use super::{Message, compose, enqueue};
use crate::error::AppResult;

/// How long before its start a livestream is announced.
pub const STARTING_AHEAD: Duration = Duration::minutes(15);
/// How long before its end a membership is reminded.
pub const ENDING_AHEAD: Duration = Duration::days(3);
/// Memberships read at once.
const MEMBERSHIP_PAGE: u64 = 500;

/// What one pass wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reminded {
    /// Livestream reminders written.
    pub starting: u64,
    /// Membership reminders written.
    pub ending: u64,
}

/// Writes the reminders due at `now` that are not written yet.
pub async fn enqueue_due(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<Reminded> {
    let mut reminded = Reminded::default();
    let soon = livestream::Entity::find()
        .filter(livestream::Column::Status.eq(LivestreamStatus::Scheduled))
        .filter(livestream::Column::ScheduledStart.gt(now))
        .filter(livestream::Column::ScheduledStart.lte(now + STARTING_AHEAD))
        .all(db)
        .await?;
    for room in soon {
        let txn = crate::db::begin_write(db).await?;
        reminded.starting +=
            compose::livestream(&txn, MessageKind::LivestreamStarting, &room, now).await?;
        txn.commit().await?;
    }
    reminded.ending = memberships_ending(db, now).await?;
    Ok(reminded)
}

/// Reminds members of paid groups whose membership ends within [`ENDING_AHEAD`],
/// reading those memberships a page at a time and writing only the missing rows.
async fn memberships_ending(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<u64> {
    let mut written = 0;
    let mut after = 0_i64;
    let mut groups: HashMap<i64, Option<String>> = HashMap::new();
    loop {
        let page = group_membership::Entity::find()
            .filter(group_membership::Column::ExpiresAt.gt(now))
            .filter(group_membership::Column::ExpiresAt.lte(now + ENDING_AHEAD))
            .filter(group_membership::Column::Id.gt(after))
            .order_by_asc(group_membership::Column::Id)
            .limit(MEMBERSHIP_PAGE)
            .all(db)
            .await?;
        let Some(last) = page.last() else {
            return Ok(written);
        };
        after = last.id;
        let missing: Vec<i64> = page
            .iter()
            .map(|m| m.group_id)
            .filter(|id| !groups.contains_key(id))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if !missing.is_empty() {
            for group in community_group::Entity::find()
                .filter(community_group::Column::Id.is_in(missing.iter().copied()))
                .all(db)
                .await?
            {
                // Only paid groups end in a way worth a message.
                let name = (group.price_fen > 0).then_some(group.name);
                groups.insert(group.id, name);
            }
        }
        let due: Vec<(Message, i64)> = page
            .iter()
            .filter_map(|membership| {
                let name = groups.get(&membership.group_id)?.as_deref()?;
                let ends_at = membership.expires_at?;
                Some((
                    compose::membership_ending(membership.group_id, name, ends_at),
                    membership.user_id,
                ))
            })
            .collect();
        let keys: Vec<String> = due.iter().map(|(m, user)| m.key_for(*user)).collect();
        let written_before: HashSet<String> = outbox_message::Entity::find()
            .select_only()
            .column(outbox_message::Column::IdempotencyKey)
            .filter(outbox_message::Column::IdempotencyKey.is_in(keys))
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let fresh: Vec<&(Message, i64)> = due
            .iter()
            .filter(|(m, user)| !written_before.contains(&m.key_for(*user)))
            .collect();
        if fresh.is_empty() {
            continue;
        }
        let txn = crate::db::begin_write(db).await?;
        for (message, user_id) in fresh {
            enqueue(&txn, message, *user_id, now).await?;
            written += 1;
        }
        txn.commit().await?;
    }
}
