//! Paid questions (付费提问): a member asks a group's creator a question at the price the
//! creator set. The question is a product of its own (kind QUESTION): the asker buys it
//! with `createOrder` like anything else, and its payment opens it with an answer due
//! within the group's window (48 hours by default). The creator answers in time, or
//! the sweep ([`refund_overdue`]) refunds the payment automatically. The asker, the
//! creator and admins see the question and its answer; every reader of the group does
//! once the creator makes the answer public.
//!
//! The answer and the sweep race for an OPEN question with one conditional UPDATE each
//! (`status = 'OPEN'`), so exactly one of them wins.

use chrono::{DateTime, Duration, Utc};
use entity::enums::QuestionStatus;
use entity::{community_group, order, paid_question};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};

use super::{moderation, posts};
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::access::ProductRef;
use crate::service::page::{self, Counted, Page, PageRequest, SortKey};
use crate::service::validation::{Checks, FieldError, UserErrorCode};
use crate::service::{groups, not_found, require_owner};

/// A question as a product: its price, sold by the group's creator.
pub fn product(question: &paid_question::Model, group: &community_group::Model) -> ProductRef {
    ProductRef {
        kind: entity::enums::ProductKind::Question,
        id: question.id,
        creator_id: group.creator_id,
        price_fen: question.price_fen,
    }
}

/// A question with its group.
pub async fn get(
    db: &impl ConnectionTrait,
    id: i64,
) -> AppResult<Option<(paid_question::Model, community_group::Model)>> {
    let Some(question) = paid_question::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(groups::get(db, question.group_id)
        .await?
        .map(|group| (question, group)))
}

/// A question's title for orders and statements: its first words.
pub fn title(question: &paid_question::Model) -> String {
    let words: String = question.body.chars().take(20).collect();
    format!("付费提问：{words}")
}

/// Whether the actor may see the question and its answer: its asker, the group's
/// creator and admins always; the group's readers once the answer is public.
pub async fn can_see(
    db: &impl ConnectionTrait,
    actor: &Actor,
    question: &paid_question::Model,
    group: &community_group::Model,
) -> AppResult<bool> {
    if actor.user_id() == Some(question.asker_id)
        || actor.is_admin()
        || actor.creator_id() == Some(group.creator_id)
    {
        return Ok(true);
    }
    Ok(question.answer_public
        && question.status == QuestionStatus::Answered
        && posts::can_read(db, actor, group).await?)
}

/// Asks the group's creator a question: members of the group (not muted), where the
/// creator takes questions. The question waits for its payment (`createOrder` with it
/// as the product), seen by the asker alone until then.
pub async fn ask(
    db: &DatabaseConnection,
    actor: &Actor,
    group_id: i64,
    body: &str,
) -> AppResult<paid_question::Model> {
    let user_id = actor.require_user()?;
    let group = groups::get(db, group_id)
        .await?
        .ok_or_else(|| not_found("group"))?;
    if !groups::is_member(db, actor, &group).await? {
        return Err(AppError::Forbidden("join the group to ask its creator"));
    }
    moderation::refuse_if_muted(db, group.id, user_id, "group").await?;
    let Some(price_fen) = group.question_price_fen else {
        return Err(FieldError::new(
            "group",
            UserErrorCode::NotForSale,
            "this group's creator does not take paid questions",
        )
        .into());
    };
    if actor.creator_id() == Some(group.creator_id) {
        return Err(FieldError::new(
            "group",
            UserErrorCode::NotForSale,
            "you cannot ask yourself",
        )
        .into());
    }
    let mut checks = Checks::new();
    let body = checks.text("body", body, 2_000);
    checks.finish()?;
    Ok(paid_question::ActiveModel {
        group_id: Set(group.id),
        asker_id: Set(user_id),
        body: Set(body),
        price_fen: Set(price_fen),
        status: Set(QuestionStatus::AwaitingPayment),
        answer_public: Set(false),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Refuses an order of the question by anyone but its asker.
pub async fn require_asker(
    db: &impl ConnectionTrait,
    question_id: i64,
    buyer_id: i64,
) -> AppResult<()> {
    let asker = paid_question::Entity::find_by_id(question_id)
        .one(db)
        .await?
        .map(|q| q.asker_id);
    if asker != Some(buyer_id) {
        return Err(FieldError::new(
            "product",
            UserErrorCode::NotForSale,
            "only its asker pays for a question",
        )
        .into());
    }
    Ok(())
}

/// Opens a question its order paid for, in the payment's transaction: the answer is
/// due within the group's window from now.
pub async fn open_paid(
    db: &impl ConnectionTrait,
    order: &order::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let hours = match get(db, order.product_id).await? {
        Some((_, group)) => i64::from(group.question_answer_hours),
        None => return Ok(()),
    };
    paid_question::Entity::update_many()
        .col_expr(
            paid_question::Column::Status,
            Expr::value(QuestionStatus::Open),
        )
        .col_expr(paid_question::Column::OrderId, Expr::value(order.id))
        .col_expr(paid_question::Column::PaidAt, Expr::value(now))
        .col_expr(
            paid_question::Column::AnswerDueAt,
            Expr::value(now + Duration::hours(hours)),
        )
        .filter(paid_question::Column::Id.eq(order.product_id))
        .filter(paid_question::Column::Status.eq(QuestionStatus::AwaitingPayment))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks a question refunded, in the refund's transaction.
pub async fn mark_refunded(db: &impl ConnectionTrait, order: &order::Model) -> AppResult<()> {
    paid_question::Entity::update_many()
        .col_expr(
            paid_question::Column::Status,
            Expr::value(QuestionStatus::Refunded),
        )
        .filter(paid_question::Column::Id.eq(order.product_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Answers an OPEN question before it is due: the group's creator or an admin;
/// `public` shows it to every reader of the group.
pub async fn answer(
    db: &DatabaseConnection,
    actor: &Actor,
    question_id: i64,
    text: &str,
    public: bool,
    now: DateTime<Utc>,
) -> AppResult<paid_question::Model> {
    actor.require_user()?;
    let (question, group) = get(db, question_id)
        .await?
        .ok_or_else(|| not_found("question"))?;
    require_owner(actor, group.creator_id)?;
    let mut checks = Checks::new();
    let text = checks.text("answer", text, 5_000);
    checks.finish()?;
    let answered = paid_question::Entity::update_many()
        .col_expr(
            paid_question::Column::Status,
            Expr::value(QuestionStatus::Answered),
        )
        .col_expr(paid_question::Column::Answer, Expr::value(text))
        .col_expr(paid_question::Column::AnswerPublic, Expr::value(public))
        .col_expr(paid_question::Column::AnsweredAt, Expr::value(now))
        .filter(paid_question::Column::Id.eq(question.id))
        .filter(paid_question::Column::Status.eq(QuestionStatus::Open))
        .filter(paid_question::Column::AnswerDueAt.gt(now))
        .exec(db)
        .await?;
    if answered.rows_affected == 0 {
        let message = match question.status {
            QuestionStatus::AwaitingPayment => "the question is not paid yet",
            QuestionStatus::Answered => "the question was answered already",
            _ => "the answer window has closed and the question is refunded",
        };
        return Err(FieldError::new("question", UserErrorCode::InvalidState, message).into());
    }
    paid_question::Entity::find_by_id(question.id)
        .one(db)
        .await?
        .ok_or_else(|| not_found("question"))
}

/// One page of a group's paid questions, newest first: all paid ones for its creator
/// and admins; for others, their own and the public answers.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    group: &community_group::Model,
    page: &PageRequest,
) -> AppResult<(Page<paid_question::Model>, Counted<paid_question::Entity>)> {
    let mut query =
        paid_question::Entity::find().filter(paid_question::Column::GroupId.eq(group.id));
    let moderator = actor.is_admin() || actor.creator_id() == Some(group.creator_id);
    if moderator {
        query = query.filter(paid_question::Column::Status.ne(QuestionStatus::AwaitingPayment));
    } else {
        let mut visible = Condition::any();
        if posts::can_read(db, actor, group).await? {
            visible = visible.add(
                Condition::all()
                    .add(paid_question::Column::AnswerPublic.eq(true))
                    .add(paid_question::Column::Status.eq(QuestionStatus::Answered)),
            );
        }
        if let Some(user_id) = actor.user_id() {
            visible = visible.add(paid_question::Column::AskerId.eq(user_id));
        }
        if visible.is_empty() {
            return Err(AppError::Forbidden("sign in to see questions"));
        }
        query = query.filter(visible);
    }
    let sort = SortKey {
        key: None,
        id: paid_question::Column::Id,
        descending: true,
    };
    page::fetch(db, query, &sort, page, |q| q.id).await
}

/// Refunds every OPEN question whose answer is overdue at `now`: each is claimed
/// (EXPIRED) and its refund started in one transaction, then sent to the provider (a
/// failed send stays PROCESSING and reconciliation sends it again). Answers how many
/// were claimed.
pub async fn refund_overdue(
    db: &DatabaseConnection,
    effects: &crate::service::effects::Effects,
    payments: &crate::service::orders::Payments,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let overdue = paid_question::Entity::find()
        .filter(paid_question::Column::Status.eq(QuestionStatus::Open))
        .filter(paid_question::Column::AnswerDueAt.lte(now))
        .all(db)
        .await?;
    let mut claimed = 0;
    for question in overdue {
        let Some(order_id) = question.order_id else {
            continue;
        };
        if crate::service::orders::refunds::refund_unanswered(
            db, effects, payments, &question, order_id, now,
        )
        .await?
        {
            claimed += 1;
        }
    }
    Ok(claimed)
}

/// Runs [`refund_overdue`] every `every`, at the clock's time, until the process ends.
pub async fn refund_overdue_forever(
    db: DatabaseConnection,
    effects: crate::service::effects::Effects,
    payments: crate::service::orders::Payments,
    clock: crate::clock::Clock,
    every: std::time::Duration,
) {
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        match refund_overdue(&db, &effects, &payments, clock.now()).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "unanswered paid questions refunded"),
            Err(error) => tracing::warn!(?error, "the sweep of unanswered questions failed"),
        }
    }
}
