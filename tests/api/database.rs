//! The migrated schema matches the entities, and the database itself holds the rules
//! money and access depend on.

use entity::enums::{CourseStatus, ProductKind, Role};
use entity::*;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityName, EntityTrait, IdenStatic,
    IntoActiveModel, Iterable, QueryFilter, Statement,
};

use crate::helpers::{Fixture, ResetId, TestApp, t0};

/// (column name, nullable) of a table as the database sees it.
async fn columns_in_database(app: &TestApp, table: &str) -> Vec<(String, bool)> {
    let (sql, name_col, null_col) = if app.is_postgres() {
        (
            format!(
                "SELECT column_name, CASE WHEN is_nullable = 'YES' THEN 1 ELSE 0 END AS nullable \
                 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table}'"
            ),
            "column_name",
            "nullable",
        )
    } else {
        (
            format!(
                "SELECT name, CASE WHEN \"notnull\" = 1 OR pk = 1 THEN 0 ELSE 1 END AS nullable FROM pragma_table_info('{table}')"
            ),
            "name",
            "nullable",
        )
    };
    let rows = app
        .db
        .query_all_raw(Statement::from_string(app.db.get_database_backend(), sql))
        .await
        .unwrap();
    let mut columns: Vec<(String, bool)> = rows
        .iter()
        .map(|row| {
            let name: String = row.try_get("", name_col).unwrap();
            let nullable: i32 = row.try_get("", null_col).unwrap();
            (name, nullable == 1)
        })
        .collect();
    columns.sort();
    columns
}

fn columns_of_entity<E: EntityTrait>() -> Vec<(String, bool)> {
    let mut columns: Vec<(String, bool)> = E::Column::iter()
        .map(|c| (c.as_str().to_owned(), c.def().is_null()))
        .collect();
    columns.sort();
    columns
}

macro_rules! assert_tables_match {
    ($app:expr, $($module:ident),* $(,)?) => {$(
        let table = $module::Entity.table_name();
        assert_eq!(
            columns_in_database($app, table).await,
            columns_of_entity::<$module::Entity>(),
            "table {table} differs from entity {}", stringify!($module)
        );
    )*};
}

#[tokio::test]
async fn migrated_schema_matches_the_entities() {
    let app = TestApp::spawn().await;
    assert_tables_match!(
        &app,
        user,
        creator,
        course,
        lesson,
        livestream,
        community_group,
        group_membership,
        group_post,
        follow,
        order,
        refund,
        entitlement,
        payment_event,
        rating,
        refresh_token,
        server_setting,
    );
}

#[tokio::test]
async fn the_database_enforces_uniqueness_checks_and_keys() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::new(&app.db);
    let creator = fixture.creator("Eve").await;
    let learner = fixture.user("learner", Role::Learner).await;
    let course = fixture
        .course(
            &creator,
            1,
            "Rules",
            "编程开发",
            100,
            CourseStatus::Published,
        )
        .await;
    fixture.lesson(&course, 1, true).await;

    let rating = |stars: i32| rating::Model {
        id: 0,
        user_id: learner.id,
        course_id: course.id,
        stars,
        review: None,
        hidden_at: None,
        created_at: t0(),
        updated_at: t0(),
    };
    rating(5)
        .into_active_model()
        .reset_id()
        .insert(&app.db)
        .await
        .unwrap();
    let entitlement = entitlement::Model {
        id: 0,
        user_id: learner.id,
        product_kind: ProductKind::Course,
        product_id: course.id,
        order_id: None,
        granted_at: t0(),
        expires_at: None,
        revoked_at: None,
    };
    entitlement
        .clone()
        .into_active_model()
        .reset_id()
        .insert(&app.db)
        .await
        .unwrap();

    let backend = app.db.get_database_backend();
    let raw = |sql: &str| Statement::from_string(backend, sql.to_owned());
    let violations: Vec<(&str, Result<(), sea_orm::DbErr>)> = vec![
        (
            "second rating of the same course by the same user",
            rating(4).into_active_model().reset_id().insert(&app.db).await.map(|_| ()),
        ),
        (
            "second entitlement to the same product",
            entitlement.into_active_model().reset_id().insert(&app.db).await.map(|_| ()),
        ),
        ("six stars", app.db.execute_raw(raw(&format!("UPDATE ratings SET stars = 6 WHERE course_id = {}", course.id))).await.map(|_| ())),
        ("zero stars", app.db.execute_raw(raw("UPDATE ratings SET stars = 0")).await.map(|_| ())),
        ("negative price", app.db.execute_raw(raw("UPDATE courses SET price_fen = -1")).await.map(|_| ())),
        ("unknown status", app.db.execute_raw(raw("UPDATE courses SET status = 'BOGUS'")).await.map(|_| ())),
        ("unknown role", app.db.execute_raw(raw("UPDATE users SET role = 'ROOT'")).await.map(|_| ())),
        (
            "two lessons in one place",
            app.db.execute_raw(raw(&format!(
                "INSERT INTO lessons (course_id, position, title, kind, duration_seconds, free_preview, created_at) \
                 VALUES ({}, 1, 'dup', 'VIDEO', 1, {}, '2026-01-01T00:00:00Z')",
                course.id,
                if backend == DbBackend::Postgres { "false" } else { "0" }
            ))).await.map(|_| ()),
        ),
        (
            "course of a creator that does not exist",
            app.db.execute_raw(raw("UPDATE courses SET creator_id = 999999")).await.map(|_| ()),
        ),
        ("duplicate openid", app.db.execute_raw(raw(&format!("UPDATE user_identities SET openid = 'learner' WHERE user_id = {}", creator.user_id))).await.map(|_| ())),
        ("second identity in one app", app.db.execute_raw(raw(&format!("INSERT INTO user_identities (user_id, app, openid, created_at) VALUES ({}, 'MINI_PROGRAM', 'another', '2026-01-01T00:00:00Z')", creator.user_id))).await.map(|_| ())),
        ("identity of an unknown app", app.db.execute_raw(raw(&format!("INSERT INTO user_identities (user_id, app, openid, created_at) VALUES ({}, 'WEBSITE', 'another', '2026-01-01T00:00:00Z')", creator.user_id))).await.map(|_| ())),
    ];
    for (name, result) in violations {
        assert!(result.is_err(), "case {name}: the database accepted it");
    }
    // Nothing changed.
    let stored = course::Entity::find_by_id(course.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.price_fen, stored.status, stored.creator_id),
        (100, CourseStatus::Published, creator.id)
    );
    assert_eq!(
        rating::Entity::find()
            .filter(rating::Column::CourseId.eq(course.id))
            .all(&app.db)
            .await
            .unwrap()
            .iter()
            .map(|r| r.stars)
            .collect::<Vec<_>>(),
        vec![5]
    );
}

#[tokio::test]
async fn sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout() {
    let app = TestApp::spawn().await;
    if app.is_postgres() {
        return;
    }
    let pragma = |name: &'static str| {
        let db = app.db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    format!("PRAGMA {name}"),
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|v| v.to_string()))
                .unwrap()
        }
    };
    assert_eq!(pragma("journal_mode").await, "wal");
    assert_eq!(pragma("foreign_keys").await, "1");
    assert_eq!(pragma("busy_timeout").await, "10000");
}
