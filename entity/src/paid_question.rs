//! Table `paid_questions`: a member's paid question to a group's creator (付费提问), a
//! product of kind QUESTION bought through an order.

use crate::enums::QuestionStatus;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "paid_questions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub group_id: i64,
    pub asker_id: i64,
    pub body: String,
    /// The price when asked (the group's question price then), in fen.
    pub price_fen: i64,
    pub status: QuestionStatus,
    /// The creator's answer.
    pub answer: Option<String>,
    /// Whether every reader of the group may see the question and its answer.
    pub answer_public: bool,
    /// The order that paid for it.
    pub order_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
    /// The answer is due by then, or the payment is refunded.
    pub answer_due_at: Option<DateTimeUtc>,
    pub answered_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
