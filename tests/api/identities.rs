//! One person, many apps: the identities migration keeps every user and openid.

use migration::MigratorTrait;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

use crate::helpers::empty_database;

/// The migrations before `user_identities`.
const BEFORE_IDENTITIES: u32 = 7;

#[tokio::test]
async fn the_identities_migration_moves_every_openid_and_keeps_every_reference() {
    let (url, _dir) = empty_database().await;
    let db = Database::connect(url.as_str()).await.expect("connect");
    migration::Migrator::up(&db, Some(BEFORE_IDENTITIES))
        .await
        .expect("migrate to the live rooms");
    let backend = db.get_database_backend();
    let run = |sql: String| {
        let db = db.clone();
        async move {
            db.execute_raw(Statement::from_string(backend, sql))
                .await
                .expect("statement")
        }
    };
    for n in 1..=50 {
        let unionid = if n % 2 == 0 {
            format!("'u-{n}'")
        } else {
            "NULL".to_owned()
        };
        run(format!(
            "INSERT INTO users (openid, unionid, nickname, role, created_at, updated_at) \
             VALUES ('o-{n}', {unionid}, 'n{n}', 'LEARNER', '2026-11-0{}T00:00:00Z', '2026-11-01T00:00:00Z')",
            n % 9 + 1
        ))
        .await;
    }
    run("INSERT INTO creators (user_id, display_name, created_at) VALUES (7, 'c', '2026-11-01T00:00:00Z')".into()).await;
    migration::Migrator::up(&db, None).await.expect("migrate");

    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT u.id, u.unionid, u.nickname, i.app, i.openid FROM users u \
             JOIN user_identities i ON i.user_id = u.id ORDER BY u.id",
        ))
        .await
        .expect("identities");
    assert_eq!(rows.len(), 50, "one identity per user");
    for (n, row) in (1..=50).zip(&rows) {
        let id: i64 = row.try_get("", "id").expect("id");
        let openid: String = row.try_get("", "openid").expect("openid");
        let app: String = row.try_get("", "app").expect("app");
        let unionid: Option<String> = row.try_get("", "unionid").expect("unionid");
        let nickname: String = row.try_get("", "nickname").expect("nickname");
        assert_eq!(
            (id, openid.as_str(), app.as_str(), nickname.as_str()),
            (
                n,
                format!("o-{n}").as_str(),
                "MINI_PROGRAM",
                format!("n{n}").as_str()
            )
        );
        assert_eq!(unionid, (n % 2 == 0).then(|| format!("u-{n}")));
    }
    // The column is gone; the references to users still hold (and still refuse).
    let old_column = db
        .execute_raw(Statement::from_string(backend, "SELECT openid FROM users"))
        .await;
    assert!(old_column.is_err(), "users.openid is gone");
    let orphan = db
        .execute_raw(Statement::from_string(
            backend,
            "INSERT INTO creators (user_id, display_name, created_at) VALUES (9999, 'x', '2026-11-01T00:00:00Z')",
        ))
        .await;
    assert!(orphan.is_err(), "a creator of no user is refused");
    if backend == DbBackend::Sqlite {
        let broken = db
            .query_all_raw(Statement::from_string(backend, "PRAGMA foreign_key_check"))
            .await
            .expect("check");
        assert!(broken.is_empty(), "every reference resolves");
    }
    run("DELETE FROM users WHERE id = 3".into()).await;
    let left = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM user_identities",
        ))
        .await
        .expect("count")
        .expect("row");
    assert_eq!(
        left.try_get::<i64>("", "n").expect("n"),
        49,
        "identities go with their user"
    );
    // A new user's id follows the old ones.
    run("INSERT INTO users (nickname, role, created_at, updated_at) VALUES ('new', 'LEARNER', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z')".into()).await;
    let newest = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT MAX(id) AS id FROM users",
        ))
        .await
        .expect("max")
        .expect("row");
    assert_eq!(newest.try_get::<i64>("", "id").expect("id"), 51);
}
