//! What each event tells whom: the values of each kind of message and its recipients.
//! Every function here writes into the caller's transaction, the one that applies the
//! event, so the message exists exactly when the event does.
//!
//! Values per kind (the keys the configured templates must have):
//!
//! | kind | values |
//! | --- | --- |
//! | PAYMENT_SUCCEEDED | `thing1` product, `amount2` paid, `time3` paid at, `character_string4` order number |
//! | REFUND_DONE | `thing1` product, `amount2` refunded, `time3` refunded at, `character_string4` order number |
//! | LIVESTREAM_STARTING | `thing1` livestream, `time2` starts at, `thing3` creator |
//! | LIVESTREAM_LIVE | `thing1` livestream, `time2` started at, `thing3` creator |
//! | NEW_LESSON | `thing1` course, `thing2` lesson, `time3` added at |
//! | MEMBERSHIP_ENDING | `thing1` group, `time2` ends at |
//! | POST_REPLY | `thing1` their post, `thing2` who replied, `thing3` the reply, `time4` replied at |
//!
//! Times are Beijing time (UTC+8 all year; China keeps no daylight saving).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::enums::{CourseStatus, MessageKind, ProductKind};
use entity::{course, creator, entitlement, follow, lesson, livestream, order, refund};
use sea_orm::sea_query::{SelectStatement, UnionType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
};

use super::{Message, enqueue, enqueue_all};
use crate::error::AppResult;
use crate::messaging::fields::amount;

/// A time as the templates show it: Beijing time, to the minute.
pub fn beijing_time(at: DateTime<Utc>) -> String {
    (at + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn values<const N: usize>(pairs: [(&str, String); N]) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}

/// Tells the buyer their payment went through.
pub async fn payment_succeeded(
    txn: &impl ConnectionTrait,
    order: &order::Model,
    product_title: String,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let message = Message {
        kind: MessageKind::PaymentSucceeded,
        subject_id: order.id,
        occasion: None,
        values: values([
            ("thing1", product_title),
            ("amount2", amount(order.amount_fen)),
            ("time3", beijing_time(now)),
            ("character_string4", order.out_trade_no.clone()),
        ]),
    };
    enqueue(txn, &message, order.buyer_id, now).await
}

/// Tells the buyer their refund is done (once per refund).
pub async fn refund_done(
    txn: &impl ConnectionTrait,
    order: &order::Model,
    refund: &refund::Model,
    product_title: String,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let message = Message {
        kind: MessageKind::RefundDone,
        subject_id: order.id,
        occasion: Some(refund.id),
        values: values([
            ("thing1", product_title),
            ("amount2", amount(refund.amount_fen)),
            ("time3", beijing_time(now)),
            ("character_string4", order.out_trade_no.clone()),
        ]),
    };
    enqueue(txn, &message, order.buyer_id, now).await
}

/// Users holding a live entitlement to a product.
fn holders(kind: ProductKind, product_id: i64, now: DateTime<Utc>) -> SelectStatement {
    entitlement::Entity::find()
        .select_only()
        .column(entitlement::Column::UserId)
        .filter(entitlement::Column::ProductKind.eq(kind))
        .filter(entitlement::Column::ProductId.eq(product_id))
        .filter(entitlement::Column::RevokedAt.is_null())
        .filter(
            Condition::any()
                .add(entitlement::Column::ExpiresAt.is_null())
                .add(entitlement::Column::ExpiresAt.gt(now)),
        )
        .into_query()
}

/// Tells everyone who bought a published course about a lesson just added.
pub async fn new_lesson(
    txn: &impl ConnectionTrait,
    course: &course::Model,
    lesson: &lesson::Model,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    if course.status != CourseStatus::Published {
        return Ok(0);
    }
    let message = Message {
        kind: MessageKind::NewLesson,
        subject_id: lesson.id,
        occasion: None,
        values: values([
            ("thing1", course.title.clone()),
            ("thing2", lesson.title.clone()),
            ("time3", beijing_time(now)),
        ]),
    };
    let mut buyers = holders(ProductKind::Course, course.id, now);
    buyers.distinct();
    enqueue_all(txn, &message, buyers, now).await
}

/// Tells the creator's followers and the livestream's buyers that it starts soon
/// (`kind` LIVESTREAM_STARTING, at its scheduled start) or is live (LIVESTREAM_LIVE,
/// at `now`). Once per livestream, kind and user.
pub async fn livestream(
    txn: &impl ConnectionTrait,
    kind: MessageKind,
    room: &livestream::Model,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let creator_name = creator::Entity::find_by_id(room.creator_id)
        .one(txn)
        .await?
        .map(|c| c.display_name)
        .unwrap_or_default();
    let at = match kind {
        MessageKind::LivestreamLive => room.started_at.unwrap_or(now),
        _ => room.scheduled_start,
    };
    let message = Message {
        kind,
        subject_id: room.id,
        occasion: None,
        values: values([
            ("thing1", room.title.clone()),
            ("time2", beijing_time(at)),
            ("thing3", creator_name),
        ]),
    };
    let followers = follow::Entity::find()
        .select_only()
        .column(follow::Column::UserId)
        .filter(follow::Column::CreatorId.eq(room.creator_id))
        .into_query();
    let mut audience = holders(ProductKind::Livestream, room.id, now);
    // UNION (not UNION ALL): a follower who also bought is told once.
    audience.union(UnionType::Distinct, followers);
    enqueue_all(txn, &message, audience, now).await
}

/// The message that a member's paid membership of `group_name` ends at `ends_at`; its
/// occasion is the end, so a renewed membership is reminded again before its new end.
pub fn membership_ending(group_id: i64, group_name: &str, ends_at: DateTime<Utc>) -> Message {
    Message {
        kind: MessageKind::MembershipEnding,
        subject_id: group_id,
        occasion: Some(ends_at.timestamp()),
        values: values([
            ("thing1", group_name.to_owned()),
            ("time2", beijing_time(ends_at)),
        ]),
    }
}

/// Cuts a text to what a `thing` value holds (20 characters).
fn thing(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= 20 {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(19).collect();
    cut.push('…');
    cut
}

/// Tells a post's author (and the author of the reply it answers) that someone
/// replied; never the one who replied. Once per reply and recipient.
pub async fn post_reply(
    txn: &impl ConnectionTrait,
    post: &entity::group_post::Model,
    reply: &entity::group_reply::Model,
    answered_author: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let replier = entity::user::Entity::find_by_id(reply.author_id)
        .one(txn)
        .await?
        .and_then(|u| u.nickname)
        .unwrap_or_else(|| "一位成员".to_owned());
    let message = Message {
        kind: MessageKind::PostReply,
        subject_id: post.id,
        occasion: Some(reply.id),
        values: values([
            (
                "thing1",
                thing(post.body.lines().next().unwrap_or_default()),
            ),
            ("thing2", thing(&replier)),
            ("thing3", thing(&reply.body)),
            ("time4", beijing_time(now)),
        ]),
    };
    let mut told = Vec::new();
    for recipient in std::iter::once(post.author_id).chain(answered_author) {
        if recipient != reply.author_id && !told.contains(&recipient) {
            enqueue(txn, &message, recipient, now).await?;
            told.push(recipient);
        }
    }
    Ok(())
}
