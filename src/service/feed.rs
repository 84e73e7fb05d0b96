//! The mini-program home feed: recommended courses, upcoming livestreams of creators the
//! viewer follows, and new posts in the viewer's groups (fresh ones, and those members
//! reply to or like), interleaved in a fixed pattern.
//!
//! Stable paging: each stream keeps its own position in the cursor (the courses already
//! shown, the last livestream and the last post by their sort keys) along with the slot
//! in the pattern. A later page never repeats an entry and never skips one that was
//! there before, even when recommendations or posts change in between.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use entity::enums::LivestreamStatus;
use entity::{community_group, group_membership, group_post, livestream};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::recommendations::{
    CourseRecommendation, MAX_RECOMMENDATIONS, Recommendations, Wanted, page_size,
};
use crate::service::{creators, groups};

/// Largest feed page.
pub const MAX_FEED_PAGE: usize = 50;
/// How far back posts count as new.
const NEW_POST_DAYS: i64 = 14;
/// Posts this young are shown whatever their conversation.
const FRESH_POST_HOURS: i64 = 48;
/// Older posts are shown once members talk about them: a reply, or this many likes.
const TALKED_ABOUT_LIKES: i64 = 3;

/// Which stream a slot of the pattern takes from.
#[derive(Clone, Copy)]
enum Stream {
    Course,
    Livestream,
    Post,
}

/// The interleaving: three courses, one livestream, one post, repeated; a slot whose
/// stream is exhausted is skipped.
const PATTERN: [Stream; 5] = [
    Stream::Course,
    Stream::Course,
    Stream::Livestream,
    Stream::Course,
    Stream::Post,
];

/// One feed entry.
pub enum FeedEntry {
    /// A recommended course.
    Course(CourseRecommendation),
    /// A livestream by a followed creator, live or upcoming.
    Livestream(livestream::Model),
    /// A post in one of the viewer's groups.
    Post {
        /// The post.
        post: group_post::Model,
        /// Its group.
        group: community_group::Model,
    },
}

/// A page of the feed: entries with the cursor after each.
pub struct FeedPage {
    /// (cursor, entry) in feed order.
    pub entries: Vec<(String, FeedEntry)>,
    /// Whether more entries follow.
    pub has_next_page: bool,
}

/// Position in every stream; the opaque `after` cursor.
#[derive(Clone, Default, Serialize, Deserialize)]
struct Position {
    /// Next slot of [`PATTERN`].
    slot: u64,
    /// Courses shown so far.
    courses: Vec<i64>,
    /// Last livestream shown: (scheduled start, id); full precision, as stored.
    livestream: Option<(DateTime<Utc>, i64)>,
    /// Last post shown: (created, id).
    post: Option<(DateTime<Utc>, i64)>,
}

impl Position {
    fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    fn decode(cursor: &str) -> AppResult<Position> {
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(AppError::BadUserInput("after: not a feed cursor".into()))
    }
}

/// One page of the viewer's feed.
pub async fn page(
    db: &DatabaseConnection,
    recommendations: &Recommendations,
    actor: &Actor,
    first: i32,
    after: Option<&str>,
) -> AppResult<FeedPage> {
    let first = page_size(first, MAX_FEED_PAGE)?;
    let mut position = after.map(Position::decode).transpose()?.unwrap_or_default();
    let wanted = first + 1; // one more tells whether a next page exists
    let now = Utc::now();

    let mut courses: std::collections::VecDeque<CourseRecommendation> = recommendations
        .recommend(db, actor, MAX_RECOMMENDATIONS as i32, None, Wanted::ALL)
        .await?
        .into_iter()
        .filter(|r| !position.courses.contains(&r.course.id))
        .collect();
    let (mut livestreams, mut posts) = match actor.user_id() {
        // Independent reads: issued together rather than one after the other.
        Some(user) => tokio::try_join!(
            upcoming_livestreams(db, user, position.livestream, wanted, now),
            new_posts(db, user, position.post, wanted, now),
        )?,
        None => Default::default(),
    };

    let mut entries = Vec::new();
    while entries.len() < wanted
        && !(courses.is_empty() && livestreams.is_empty() && posts.is_empty())
    {
        let stream = PATTERN[(position.slot % PATTERN.len() as u64) as usize];
        position.slot += 1;
        let entry = match stream {
            Stream::Course => courses.pop_front().map(|r| {
                position.courses.push(r.course.id);
                FeedEntry::Course(r)
            }),
            Stream::Livestream => livestreams.pop_front().map(|l| {
                position.livestream = Some((l.scheduled_start, l.id));
                FeedEntry::Livestream(l)
            }),
            Stream::Post => posts.pop_front().map(|(post, group)| {
                position.post = Some((post.created_at, post.id));
                FeedEntry::Post { post, group }
            }),
        };
        if let Some(entry) = entry {
            entries.push((position.encode(), entry));
        }
    }
    let has_next_page = entries.len() > first;
    entries.truncate(first);
    Ok(FeedPage {
        entries,
        has_next_page,
    })
}

/// Live and scheduled livestreams of followed creators, soonest first, after `after`.
async fn upcoming_livestreams(
    db: &DatabaseConnection,
    user: i64,
    after: Option<(DateTime<Utc>, i64)>,
    limit: usize,
    now: DateTime<Utc>,
) -> AppResult<std::collections::VecDeque<livestream::Model>> {
    let followed = creators::followed_by(db, user).await?;
    if followed.is_empty() {
        return Ok(Default::default());
    }
    let mut query = livestream::Entity::find()
        .filter(livestream::Column::CreatorId.is_in(followed))
        .filter(
            Condition::any()
                .add(livestream::Column::Status.eq(LivestreamStatus::Live))
                .add(
                    Condition::all()
                        .add(livestream::Column::Status.eq(LivestreamStatus::Scheduled))
                        .add(livestream::Column::ScheduledStart.gte(now - Duration::hours(1))),
                ),
        );
    if let Some((start, id)) = after {
        query = query.filter(
            Condition::any()
                .add(livestream::Column::ScheduledStart.gt(start))
                .add(
                    Condition::all()
                        .add(livestream::Column::ScheduledStart.eq(start))
                        .add(livestream::Column::Id.gt(id)),
                ),
        );
    }
    Ok(query
        .order_by_asc(livestream::Column::ScheduledStart)
        .order_by_asc(livestream::Column::Id)
        .limit(limit as u64)
        .all(db)
        .await?
        .into())
}

/// Posts by others in the viewer's current groups from the last two weeks, newest first,
/// older than `after`: the last two days' posts, and older ones members talk about (a
/// reply, or three likes), so quiet posts drop out of the feed and conversations stay.
async fn new_posts(
    db: &DatabaseConnection,
    user: i64,
    after: Option<(DateTime<Utc>, i64)>,
    limit: usize,
    now: DateTime<Utc>,
) -> AppResult<std::collections::VecDeque<(group_post::Model, community_group::Model)>> {
    let group_ids = group_membership::Entity::find()
        .select_only()
        .column(group_membership::Column::GroupId)
        .filter(group_membership::Column::UserId.eq(user))
        .filter(
            Condition::any()
                .add(group_membership::Column::ExpiresAt.is_null())
                .add(group_membership::Column::ExpiresAt.gt(now)),
        )
        .into_tuple::<i64>()
        .all(db)
        .await?;
    if group_ids.is_empty() {
        return Ok(Default::default());
    }
    let mut query = group_post::Entity::find()
        .filter(group_post::Column::GroupId.is_in(group_ids))
        .filter(group_post::Column::AuthorId.ne(user))
        .filter(group_post::Column::DeletedAt.is_null())
        .filter(group_post::Column::CreatedAt.gte(now - Duration::days(NEW_POST_DAYS)))
        .filter(
            Condition::any()
                .add(group_post::Column::CreatedAt.gte(now - Duration::hours(FRESH_POST_HOURS)))
                .add(group_post::Column::ReplyCount.gt(0))
                .add(group_post::Column::LikeCount.gte(TALKED_ABOUT_LIKES)),
        );
    if let Some((created, id)) = after {
        query = query.filter(
            Condition::any()
                .add(group_post::Column::CreatedAt.lt(created))
                .add(
                    Condition::all()
                        .add(group_post::Column::CreatedAt.eq(created))
                        .add(group_post::Column::Id.lt(id)),
                ),
        );
    }
    let rows = query
        .order_by_desc(group_post::Column::CreatedAt)
        .order_by_desc(group_post::Column::Id)
        .limit(limit as u64)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|p| p.group_id).collect();
    let groups = groups::by_ids(db, &ids).await?;
    Ok(rows
        .into_iter()
        .filter_map(|post| {
            let group = groups.get(&post.group_id)?.clone();
            Some((post, group))
        })
        .collect())
}
