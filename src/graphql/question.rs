//! Paid questions (付费提问) on the API: `PaidQuestion`, a group's `questions`, and
//! `askQuestion` / `answerQuestion`. A question is paid for with `createOrder` naming
//! it as the product.

use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};

use crate::error::AppError;
use crate::graphql::context::ContextExt;
use crate::graphql::ids::{self, type_name};
use crate::graphql::loaders::{GroupById, UserById};
use crate::graphql::money::Money;
use crate::graphql::objects::{CommunityGroup, User};
use crate::graphql::payload::{input_id, payload};
use crate::service::community::questions;

/// Where a paid question is.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::QuestionStatus")]
pub enum QuestionStatus {
    /// Asked; its order is not paid yet (seen by the asker alone).
    AwaitingPayment,
    /// Paid; waiting for the creator's answer until `answerDueAt`.
    Open,
    /// Answered in time.
    Answered,
    /// Not answered in time: its refund has started.
    Expired,
    /// Its payment was refunded.
    Refunded,
}

/// A member's paid question to a group's creator (付费提问). Seen by its asker, the
/// group's creator and admins; by every reader of the group once the answer is public.
pub struct PaidQuestion(pub entity::paid_question::Model);

impl PaidQuestion {
    /// The question, when the viewer may see it.
    pub async fn load_visible(ctx: &Context<'_>, id: i64) -> async_graphql::Result<Option<Self>> {
        let db = ctx.db()?;
        let Some((question, group)) = questions::get(db, id).await? else {
            return Ok(None);
        };
        Ok(questions::can_see(db, ctx.actor()?, &question, &group)
            .await?
            .then_some(PaidQuestion(question)))
    }
}

/// A member's paid question to a group's creator.
#[Object]
impl PaidQuestion {
    /// Global ID (the product to name in `createOrder`).
    pub async fn id(&self) -> ID {
        ids::encode(type_name::PAID_QUESTION, self.0.id)
    }
    /// The question.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// What it costs (the group's question price when asked).
    async fn price(&self) -> Money {
        Money::cny(self.0.price_fen)
    }
    /// Where it is.
    async fn status(&self) -> QuestionStatus {
        self.0.status.into()
    }
    /// The creator's answer (null until answered).
    async fn answer(&self) -> Option<&str> {
        self.0.answer.as_deref()
    }
    /// Whether every reader of the group may see it.
    async fn answer_public(&self) -> bool {
        self.0.answer_public
    }
    /// When it was asked.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was paid.
    async fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.0.paid_at
    }
    /// The answer is due by then, or the payment is refunded automatically.
    async fn answer_due_at(&self) -> Option<DateTime<Utc>> {
        self.0.answer_due_at
    }
    /// When it was answered.
    async fn answered_at(&self) -> Option<DateTime<Utc>> {
        self.0.answered_at
    }
    /// Who asked.
    async fn asker(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        ctx.loader()?
            .load_one(UserById(self.0.asker_id))
            .await?
            .map(User)
            .ok_or_else(|| AppError::NotFound("user").into())
    }
    /// The group whose creator it asks.
    async fn group(&self, ctx: &Context<'_>) -> async_graphql::Result<CommunityGroup> {
        ctx.loader()?
            .load_one(GroupById(self.0.group_id))
            .await?
            .map(CommunityGroup)
            .ok_or_else(|| AppError::NotFound("group").into())
    }
}

/// Input of `askQuestion`.
#[derive(InputObject)]
pub struct AskQuestionInput {
    /// The group whose creator is asked.
    pub group: ID,
    /// The question, 1 to 2,000 characters.
    pub body: String,
}

/// Input of `answerQuestion`.
#[derive(InputObject)]
pub struct AnswerQuestionInput {
    /// The question.
    pub question: ID,
    /// The answer, 1 to 5,000 characters.
    pub answer: String,
    /// Show the question and answer to every reader of the group.
    #[graphql(default)]
    pub public: bool,
}

payload!(
    /// Result of `askQuestion` and `answerQuestion`.
    PaidQuestionPayload, question: PaidQuestion
);

/// Paid question mutations.
#[derive(Default)]
pub struct QuestionMutation;

/// Paid question mutations.
#[Object]
impl QuestionMutation {
    /// Asks a group's creator a question at their price (members; NOT_FOR_SALE where
    /// the creator takes none). Pay for it with createOrder, naming the question as
    /// the product; it reaches the creator once paid.
    async fn ask_question(
        &self,
        ctx: &Context<'_>,
        input: AskQuestionInput,
    ) -> async_graphql::Result<PaidQuestionPayload> {
        let result = async {
            let group = input_id(&input.group, type_name::COMMUNITY_GROUP, "group")?;
            questions::ask(ctx.db()?, ctx.actor()?, group, &input.body)
                .await
                .map(PaidQuestion)
        }
        .await;
        PaidQuestionPayload::from_result(result)
    }

    /// Answers a paid question before it is due (the group's creator or an admin);
    /// INVALID_STATE once the window has closed.
    async fn answer_question(
        &self,
        ctx: &Context<'_>,
        input: AnswerQuestionInput,
    ) -> async_graphql::Result<PaidQuestionPayload> {
        let result = async {
            let id = input_id(&input.question, type_name::PAID_QUESTION, "question")?;
            questions::answer(
                ctx.db()?,
                ctx.actor()?,
                id,
                &input.answer,
                input.public,
                ctx.now(),
            )
            .await
            .map(PaidQuestion)
        }
        .await;
        PaidQuestionPayload::from_result(result)
    }
}
