//! Paid questions (付费提问) through the real API: the creator's price and window, the
//! asker buys the question with the usual order flow (simulated WeChat Pay), the answer
//! in time (public to members when the creator says so), and the automatic refund of
//! a question left unanswered past its window, with time driven by the server's clock.

use chrono::{Duration, Utc};
use entity::enums::{OrderStatus, ProductKind, QuestionStatus};
use entity::{order, paid_question, refund};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::community::{free_group, member_of};
use crate::helpers::{Fixture, TestApp, error_code};
use crate::payments::{CREATE_ORDER, notify, order_row, simulated};

const ASK: &str = r#"mutation($g: ID!, $b: String!) { askQuestion(input: {group: $g, body: $b}) {
  question { id status price { amount } } userErrors { field code } } }"#;
const ANSWER: &str = r#"mutation($q: ID!, $a: String!, $p: Boolean!) { answerQuestion(input: {question: $q, answer: $a, public: $p}) {
  question { status answer answerPublic answeredAt } userErrors { field code } } }"#;
const QUESTIONS: &str = r#"query($g: ID!) { node(id: $g) { ... on CommunityGroup {
  questions(first: 10) { totalCount edges { node { body status answer asker { nickname } } } } } } }"#;

/// Asks and pays for a question as `token`; answers its global ID and database row.
async fn ask_and_pay(
    app: &TestApp,
    (token, openid): (&str, &str),
    group: &Value,
    body: &str,
) -> (Value, paid_question::Model) {
    let asked = app
        .mutate(token, ASK, json!({ "g": group, "b": body }))
        .await;
    assert_eq!(asked["question"]["status"], "AWAITING_PAYMENT", "{asked}");
    let id = asked["question"]["id"].clone();
    let bought = app
        .mutate(
            token,
            CREATE_ORDER,
            json!({ "p": id, "k": format!("q-{body}") }),
        )
        .await;
    assert_eq!(bought["userErrors"], json!([]), "{bought}");
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let amount = bought["order"]["amount"]["amount"].as_i64().unwrap();
    let (headers, payload) =
        simulated(app).payment_success(&out_trade_no, amount, openid, Utc::now());
    assert_eq!(notify(app, &headers, payload).await, 204);
    let paid = order_row(app, &out_trade_no).await;
    assert_eq!(
        (paid.product_kind, paid.status, paid.amount_fen),
        (ProductKind::Question, OrderStatus::Paid, 2_000)
    );
    let row = paid_question::Entity::find()
        .filter(paid_question::Column::OrderId.eq(paid.id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the payment opened the question");
    (id, row)
}

#[tokio::test]
async fn a_paid_question_is_answered_in_time_or_refunded_automatically() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let (owner, group) = free_group(&app).await;
    let asker = member_of(&app, &fixture, "asker", &group).await;
    let reader = member_of(&app, &fixture, "reader", &group).await;

    // No price, no questions; the creator sets one and the window.
    let refused = app
        .mutate(&asker, ASK, json!({ "g": group, "b": "怎么入门？" }))
        .await;
    assert_eq!(refused["userErrors"][0]["code"], "NOT_FOR_SALE");
    let set = r#"mutation($g: ID!) { updateGroup(input: {group: $g, questionPriceFen: 2000, questionAnswerHours: 48}) {
      group { questionPrice { amount } questionAnswerHours } userErrors { code } } }"#;
    let settings = app.mutate(&owner, set, json!({ "g": group })).await;
    assert_eq!(
        settings["group"],
        json!({ "questionPrice": { "amount": 2000 }, "questionAnswerHours": 48 })
    );

    // Asked but unpaid: the asker's alone, and only the asker may buy it.
    let asked = app
        .mutate(&asker, ASK, json!({ "g": group, "b": "未付款的问题" }))
        .await;
    let unpaid = asked["question"]["id"].clone();
    let other = app
        .mutate(
            &reader,
            CREATE_ORDER,
            json!({ "p": unpaid, "k": "not-mine" }),
        )
        .await;
    assert_eq!(other["userErrors"][0]["code"], "NOT_FOR_SALE", "{other}");
    let (_, body) = app.gql_as(&owner, QUESTIONS, json!({ "g": group })).await;
    assert_eq!(
        body["data"]["node"]["questions"]["totalCount"], 0,
        "unpaid questions wait: {body}"
    );

    // Paid: open, due in 48 hours; answered in time and made public.
    let (first, row) =
        ask_and_pay(&app, (&asker, "asker"), &group, "Rust 的生命周期怎么理解？").await;
    assert_eq!(row.status, QuestionStatus::Open);
    let due = row.answer_due_at.unwrap() - row.paid_at.unwrap();
    assert_eq!(due, Duration::hours(48));
    let (_, body) = app.gql_as(&reader, QUESTIONS, json!({ "g": group })).await;
    assert_eq!(
        body["data"]["node"]["questions"]["totalCount"], 0,
        "not public yet"
    );
    let (_, body) = app
        .gql_as(&reader, ANSWER, json!({ "q": first, "a": "x", "p": true }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "only the creator answers");
    let answered = app
        .mutate(
            &owner,
            ANSWER,
            json!({ "q": first, "a": "把它看作引用有效的范围。", "p": true }),
        )
        .await;
    assert_eq!(answered["question"]["status"], "ANSWERED", "{answered}");
    let (_, body) = app.gql_as(&reader, QUESTIONS, json!({ "g": group })).await;
    let seen = &body["data"]["node"]["questions"]["edges"][0]["node"];
    assert_eq!(seen["answer"], "把它看作引用有效的范围。", "{body}");
    assert_eq!(seen["asker"]["nickname"], "nick-asker");
    let again = app
        .mutate(
            &owner,
            ANSWER,
            json!({ "q": first, "a": "再答", "p": false }),
        )
        .await;
    assert_eq!(again["userErrors"][0]["code"], "INVALID_STATE");

    // A second question left unanswered: 49 hours later the creator is too late, and
    // the sweep refunds it, once.
    let (second, row) = ask_and_pay(&app, (&asker, "asker"), &group, "第二个问题").await;
    app.clock.set(row.paid_at.unwrap() + Duration::hours(49));
    let late = app
        .mutate(
            &owner,
            ANSWER,
            json!({ "q": second, "a": "晚了", "p": false }),
        )
        .await;
    assert_eq!(late["userErrors"][0]["code"], "INVALID_STATE", "{late}");
    let sweep = || {
        zhiku::service::community::questions::refund_overdue(
            &app.db,
            &app.effects,
            &app.payments,
            app.clock.now(),
        )
    };
    assert_eq!(sweep().await.unwrap(), 1);
    assert_eq!(sweep().await.unwrap(), 0, "refunded once");
    let row = paid_question::Entity::find_by_id(row.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, QuestionStatus::Refunded);
    assert_eq!(row.answer, None);
    let order = order::Entity::find_by_id(row.order_id.unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.status, OrderStatus::Refunded);
    let refunds = refund::Entity::find()
        .filter(refund::Column::OrderId.eq(order.id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].amount_fen, 2_000);
    assert_eq!(
        refunds[0].reason.as_deref(),
        Some(zhiku::service::orders::refunds::UNANSWERED_REASON)
    );
    // The first question, answered, was not touched.
    let first_row = paid_question::Entity::find()
        .filter(paid_question::Column::Status.eq(QuestionStatus::Answered))
        .one(&app.db)
        .await
        .unwrap();
    assert!(first_row.is_some());
    let (_, body) = app.gql_as(&asker, QUESTIONS, json!({ "g": group })).await;
    let statuses: Vec<&str> = body["data"]["node"]["questions"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["REFUNDED", "ANSWERED", "AWAITING_PAYMENT"],
        "the asker sees their own"
    );
}
