//! What the console added to the API: lifting bans, making and unmaking admins,
//! restoring suspended courses, and an order's refunds and payment notifications.
//! Each is driven over HTTP and checked in the database.

use chrono::Utc;
use entity::enums::{CourseStatus, Role};
use entity::{course, user};
use sea_orm::EntityTrait;
use serde_json::json;

use crate::helpers::{Fixture, TestApp, gid};
use crate::payments::{CREATE_ORDER, REFUND, notify, order_row, shop, simulated};

const BAN: &str =
    r#"mutation($u: ID!) { banUser(input: {user: $u}) { user { bannedAt } userErrors { code } } }"#;
const UNBAN: &str = r#"mutation($u: ID!) { unbanUser(input: {user: $u}) { user { bannedAt } userErrors { field code } } }"#;
const SET_ADMIN: &str = r#"mutation($u: ID!, $a: Boolean!) {
  setAdmin(input: {user: $u, admin: $a}) { user { role } userErrors { field code message } } }"#;

async fn user_row(app: &TestApp, id: i64) -> user::Model {
    user::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn admins_lift_bans_and_nobody_else_can() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let admin = fixture.user("admin", Role::Admin).await;
    let learner = fixture.user("learner", Role::Learner).await;
    let admin_token = app.token(admin.id);
    let learner_id = gid("User", learner.id);

    let banned = app
        .mutate(&admin_token, BAN, json!({ "u": learner_id }))
        .await;
    assert!(banned["user"]["bannedAt"].is_string(), "{banned}");
    assert!(user_row(&app, learner.id).await.banned_at.is_some());

    // A creator's console token may not lift it.
    let creator = fixture.creator("Someone").await;
    let (_, refused) = app
        .gql_as(
            &app.token(creator.user_id),
            UNBAN,
            json!({ "u": learner_id }),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    assert!(user_row(&app, learner.id).await.banned_at.is_some());

    let lifted = app
        .mutate(&admin_token, UNBAN, json!({ "u": learner_id }))
        .await;
    assert_eq!(lifted["userErrors"], json!([]), "{lifted}");
    assert!(lifted["user"]["bannedAt"].is_null());
    assert!(user_row(&app, learner.id).await.banned_at.is_none());
    // Lifting again answers the same; an unknown user is a field error.
    let again = app
        .mutate(&admin_token, UNBAN, json!({ "u": learner_id }))
        .await;
    assert!(again["user"]["bannedAt"].is_null());
    let unknown = app
        .mutate(&admin_token, UNBAN, json!({ "u": gid("User", 9999) }))
        .await;
    assert_eq!(
        unknown["userErrors"],
        json!([{ "field": ["input", "user"], "code": "NOT_FOUND" }])
    );
}

#[tokio::test]
async fn admins_make_and_unmake_admins_but_never_themselves() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let admin = fixture.user("admin", Role::Admin).await;
    let learner = fixture.user("learner", Role::Learner).await;
    let creator = fixture.creator("Teacher").await;
    let admin_token = app.token(admin.id);

    for (id, expected_back) in [
        (learner.id, Role::Learner),
        (creator.user_id, Role::Creator),
    ] {
        let made = app
            .mutate(
                &admin_token,
                SET_ADMIN,
                json!({ "u": gid("User", id), "a": true }),
            )
            .await;
        assert_eq!(made["user"]["role"], "ADMIN", "{made}");
        assert_eq!(user_row(&app, id).await.role, Role::Admin);
        let unmade = app
            .mutate(
                &admin_token,
                SET_ADMIN,
                json!({ "u": gid("User", id), "a": false }),
            )
            .await;
        assert_eq!(unmade["userErrors"], json!([]), "{unmade}");
        // Back to creator with a creator profile, to learner without.
        assert_eq!(user_row(&app, id).await.role, expected_back);
    }

    let own = app
        .mutate(
            &admin_token,
            SET_ADMIN,
            json!({ "u": gid("User", admin.id), "a": false }),
        )
        .await;
    assert_eq!(own["userErrors"][0]["code"], "INVALID_STATE", "{own}");
    assert_eq!(user_row(&app, admin.id).await.role, Role::Admin);

    // A learner cannot make themself an admin.
    let (_, refused) = app
        .gql_as(
            &app.token(learner.id),
            SET_ADMIN,
            json!({ "u": gid("User", learner.id), "a": true }),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    assert_eq!(user_row(&app, learner.id).await.role, Role::Learner);

    app.mutate(&admin_token, BAN, json!({ "u": gid("User", learner.id) }))
        .await;
    let banned = app
        .mutate(
            &admin_token,
            SET_ADMIN,
            json!({ "u": gid("User", learner.id), "a": true }),
        )
        .await;
    assert_eq!(banned["userErrors"][0]["code"], "INVALID_STATE", "{banned}");
    assert_eq!(user_row(&app, learner.id).await.role, Role::Learner);
}

#[tokio::test]
async fn a_restored_course_can_be_published_again() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let admin = fixture.user("admin", Role::Admin).await;
    let teacher = fixture.creator("Teacher").await;
    let row = fixture
        .course(
            &teacher,
            1,
            "课程",
            "编程开发",
            100,
            CourseStatus::Published,
        )
        .await;
    fixture.lesson(&row, 1, false).await;
    let admin_token = app.token(admin.id);
    let teacher_token = app.token(teacher.user_id);
    let course_id = gid("Course", row.id);
    let moderate = |name: &str| {
        format!(
            r#"mutation($c: ID!) {{ {name}(input: {{course: $c}}) {{ course {{ status suspendedAt }} userErrors {{ code }} }} }}"#
        )
    };
    let stored = || async {
        course::Entity::find_by_id(row.id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
    };

    let suspended = app
        .mutate(
            &admin_token,
            &moderate("suspendCourse"),
            json!({ "c": course_id }),
        )
        .await;
    assert!(
        suspended["course"]["suspendedAt"].is_string(),
        "{suspended}"
    );
    let publish = moderate("publishCourse");
    let refused = app
        .mutate(&teacher_token, &publish, json!({ "c": course_id }))
        .await;
    assert_eq!(
        refused["userErrors"][0]["code"], "INVALID_STATE",
        "{refused}"
    );

    // Only admins restore.
    let (_, forbidden) = app
        .gql_as(
            &teacher_token,
            &moderate("restoreCourse"),
            json!({ "c": course_id }),
        )
        .await;
    assert_eq!(forbidden["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert!(stored().await.suspended_at.is_some());

    let restored = app
        .mutate(
            &admin_token,
            &moderate("restoreCourse"),
            json!({ "c": course_id }),
        )
        .await;
    assert_eq!(
        restored["course"],
        json!({ "status": "ARCHIVED", "suspendedAt": null }),
        "{restored}"
    );
    assert!(stored().await.suspended_at.is_none());
    // Publishing needs a cover, which the fixture course lacks.
    let covered = app
        .mutate(
            &teacher_token,
            r#"mutation($c: ID!) { updateCourse(input: {course: $c, coverUrl: "https://img.example.com/c.png"}) { userErrors { code } } }"#,
            json!({ "c": course_id }),
        )
        .await;
    assert_eq!(covered["userErrors"], json!([]));
    let published = app
        .mutate(&teacher_token, &publish, json!({ "c": course_id }))
        .await;
    assert_eq!(published["course"]["status"], "PUBLISHED", "{published}");
    assert_eq!(stored().await.status, CourseStatus::Published);
}

#[tokio::test]
async fn an_order_shows_its_refunds_to_those_who_see_it_and_its_notifications_to_admins() {
    let app = TestApp::spawn().await;
    let shop = shop(&app, 9900).await;
    let bought = app
        .mutate(
            &shop.buyer_token,
            CREATE_ORDER,
            json!({ "p": gid("Course", shop.course.id), "k": "k1" }),
        )
        .await;
    let out_trade_no = bought["order"]["outTradeNo"].as_str().unwrap().to_owned();
    let (headers, body) =
        simulated(&app).payment_success(&out_trade_no, 9900, "buyer-openid", Utc::now());
    assert_eq!(notify(&app, &headers, body).await, 204);
    let order_id = gid("Order", order_row(&app, &out_trade_no).await.id);
    let refunded = app
        .mutate(
            &shop.admin_token,
            REFUND,
            json!({ "o": order_id, "k": "r1" }),
        )
        .await;
    assert_eq!(refunded["order"]["status"], "REFUNDED", "{refunded}");

    let history = r#"query($o: ID!) { order(id: $o) {
      refunds { outRefundNo amount { amount } reason status succeededAt }
      paymentEvents { eventType receivedAt } } }"#;
    let (_, admin_view) = app
        .gql_as(&shop.admin_token, history, json!({ "o": order_id }))
        .await;
    let order = &admin_view["data"]["order"];
    assert_eq!(
        order["refunds"].as_array().unwrap().len(),
        1,
        "{admin_view}"
    );
    assert_eq!(order["refunds"][0]["amount"]["amount"], 9900);
    assert_eq!(order["refunds"][0]["reason"], "退款");
    assert_eq!(order["refunds"][0]["status"], "SUCCESS");
    assert!(order["refunds"][0]["succeededAt"].is_string());
    let stored = entity::refund::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(order["refunds"][0]["outRefundNo"], stored[0].out_refund_no);
    assert_eq!(
        order["paymentEvents"][0]["eventType"],
        "TRANSACTION.SUCCESS"
    );

    // The buyer sees the refund, not the notifications.
    let (_, buyer_view) = app
        .gql_as(&shop.buyer_token, history, json!({ "o": order_id }))
        .await;
    assert_eq!(
        buyer_view["data"]["order"]["refunds"][0]["status"],
        "SUCCESS"
    );
    assert_eq!(buyer_view["data"]["order"]["paymentEvents"], json!([]));
}

#[tokio::test]
async fn a_creators_bundles_and_plans_are_listed_in_pages_by_who_asks() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let teacher = fixture.creator("Teacher").await;
    let course_row = fixture
        .course(
            &teacher,
            1,
            "课程",
            "编程开发",
            100,
            CourseStatus::Published,
        )
        .await;
    let teacher_token = app.token(teacher.user_id);
    let course_id = gid("Course", course_row.id);
    let mut bundles = Vec::new();
    for title in ["专栏一", "专栏二", "专栏三"] {
        let made = app
            .mutate(
                &teacher_token,
                r#"mutation($c: [ID!]!, $t: String!) { createBundle(input: {title: $t, priceFen: 100, courses: $c}) { bundle { id } userErrors { code } } }"#,
                json!({ "c": [course_id], "t": title }),
            )
            .await;
        bundles.push(made["bundle"]["id"].as_str().unwrap().to_owned());
    }
    let published = app
        .mutate(
            &teacher_token,
            r#"mutation($b: ID!) { updateBundle(input: {bundle: $b, status: PUBLISHED}) { userErrors { code } } }"#,
            json!({ "b": bundles[0] }),
        )
        .await;
    assert_eq!(published["userErrors"], json!([]), "{published}");
    for name in ["月度会员", "年度会员"] {
        let plan = app
            .mutate(
                &teacher_token,
                r#"mutation($n: String!) { createMembershipPlan(input: {name: $n, periodMonths: 1, priceFen: 3000}) { userErrors { code } } }"#,
                json!({ "n": name }),
            )
            .await;
        assert_eq!(plan["userErrors"], json!([]), "{plan}");
    }
    let shelf = r#"query($c: ID!, $s: CourseStatus, $after: String) { node(id: $c) { ... on Creator {
      bundles(first: 2, status: $s, after: $after) { totalCount nodes { title status } pageInfo { hasNextPage endCursor } }
      membershipPlans(status: $s) { totalCount nodes { name } } } } }"#;
    let creator_id = gid("Creator", teacher.id);

    // Everyone else sees what is on sale: one bundle, no plan (plans start as drafts).
    let public = app.data(shelf, json!({ "c": creator_id })).await;
    assert_eq!(
        public["node"]["bundles"]["nodes"],
        json!([{ "title": "专栏一", "status": "PUBLISHED" }])
    );
    assert_eq!(public["node"]["membershipPlans"]["totalCount"], 0);

    // The creator sees every status, newest first, in keyset pages.
    let (_, mine) = app
        .gql_as(&teacher_token, shelf, json!({ "c": creator_id }))
        .await;
    let page = &mine["data"]["node"]["bundles"];
    assert_eq!(page["totalCount"], 3, "{mine}");
    assert_eq!(
        page["nodes"],
        json!([{ "title": "专栏三", "status": "DRAFT" }, { "title": "专栏二", "status": "DRAFT" }])
    );
    let (_, next) = app
        .gql_as(
            &teacher_token,
            shelf,
            json!({ "c": creator_id, "after": page["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        next["data"]["node"]["bundles"]["nodes"],
        json!([{ "title": "专栏一", "status": "PUBLISHED" }])
    );
    assert_eq!(mine["data"]["node"]["membershipPlans"]["totalCount"], 2);
    let (_, drafts) = app
        .gql_as(
            &teacher_token,
            shelf,
            json!({ "c": creator_id, "s": "DRAFT" }),
        )
        .await;
    assert_eq!(drafts["data"]["node"]["bundles"]["totalCount"], 2);
}
