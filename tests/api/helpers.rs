//! The test harness: [`TestApp`] starts the app on a fresh database and talks to it.

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use entity::enums::{CourseStatus, LessonKind, Role};
use entity::{course, creator, lesson, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, Database, DatabaseConnection, DbBackend,
    IntoActiveModel, Statement,
};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use zhiku::auth::AuthState;
use zhiku::config::{
    AuthConfig, DatabaseConfig, Environment, PaymentConfig, RecommendConfig, Secret, ServerConfig,
};
use zhiku::service::orders::Payments;
use zhiku::startup::{Application, Settings};

/// Path of a WeChat Pay test fixture.
pub fn fixture_path(name: &str) -> String {
    format!(
        "{}/tests/fixtures/wechatpay/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The JWT secret of test apps (tests forge tokens with it and with others).
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";
use zhiku::telemetry::Metrics;

/// A running app on a database of its own.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Direct access to its database, to arrange and to check effects.
    pub db: DatabaseConnection,
    /// Its metrics (statement counts).
    pub metrics: Arc<Metrics>,
    /// Its token keys (to mint and forge tokens in tests).
    pub auth: AuthState,
    /// Its payment provider.
    pub payments: Payments,
    /// Its subscribers to committed changes (for calling services directly).
    pub effects: zhiku::service::effects::Effects,
    /// Its buffered views (tests flush them by hand).
    pub views: zhiku::service::views::ViewCounter,
    /// Its clock, which tests set to drive time-bound rules through the API.
    pub clock: zhiku::clock::Clock,
    /// HTTP client.
    pub client: reqwest::Client,
    /// Its database's URL (for a second server process on the same database).
    pub database_url: String,
    _sqlite_dir: Option<tempfile::TempDir>,
}

/// Serialises template creation and cloning on PostgreSQL (CREATE DATABASE ... TEMPLATE
/// fails while another session uses the template).
static PG_LOCK: Mutex<bool> = Mutex::const_new(false);

/// Prefix of every database this test process makes: `zhiku_test_<pid>_`, so the
/// sweep of leftovers can tell another live run's databases (left alone) from those
/// of runs that have ended (dropped).
fn run_prefix() -> String {
    format!("zhiku_test_{}_", std::process::id())
}

/// Whether a test database belongs to a run that is still going (its process lives).
fn belongs_to_a_live_run(name: &str) -> bool {
    name.strip_prefix("zhiku_test_")
        .and_then(|rest| rest.split('_').next())
        .and_then(|pid| pid.parse::<u32>().ok())
        .is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
}

fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("ZHIKU_TEST_DATABASE_URL is a URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

/// A fresh database URL: a temp SQLite file, or a PostgreSQL clone of a migrated template.
async fn fresh_database() -> (String, Option<tempfile::TempDir>) {
    database(true).await
}

/// An empty database (no tables), for tests of migrations themselves.
pub async fn empty_database() -> (String, Option<tempfile::TempDir>) {
    database(false).await
}

async fn database(migrated: bool) -> (String, Option<tempfile::TempDir>) {
    let Ok(server) = std::env::var("ZHIKU_TEST_DATABASE_URL") else {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("zhiku.db").display()
        );
        return (url, Some(dir));
    };
    let mut ready = PG_LOCK.lock().await;
    let admin = Database::connect(server.as_str())
        .await
        .expect("connect to PostgreSQL");
    let run = |sql: String| {
        let admin = admin.clone();
        async move {
            admin
                .execute_raw(Statement::from_string(DbBackend::Postgres, sql))
                .await
                .expect("admin statement")
        }
    };
    let template = format!("{}template", run_prefix());
    if !*ready {
        // Once per test process: drop what ended runs left behind (never a live run's),
        // build this run's template.
        let leftovers = admin
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT datname FROM pg_database WHERE datname LIKE 'zhiku\\_test\\_%'",
            ))
            .await
            .expect("list databases");
        for row in leftovers {
            let name: String = row.try_get("", "datname").expect("datname");
            if !belongs_to_a_live_run(&name) {
                // Housekeeping: a leftover an autovacuum worker holds (a superuser's
                // backend, which FORCE may not end) is left for the next run.
                let dropped = admin
                    .execute_raw(Statement::from_string(
                        DbBackend::Postgres,
                        format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                    ))
                    .await;
                if let Err(error) = dropped {
                    eprintln!("left {name} for later: {error}");
                }
            }
        }
        run(format!("CREATE DATABASE \"{template}\"")).await;
        let template_db = Database::connect(with_database(&server, &template).as_str())
            .await
            .expect("connect template");
        use migration::MigratorTrait;
        migration::Migrator::up(&template_db, None)
            .await
            .expect("migrate template");
        template_db.close().await.expect("close template");
        *ready = true;
    }
    let name = format!("{}{}", run_prefix(), uuid::Uuid::new_v4().simple());
    if migrated {
        run(format!(
            "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
        ))
        .await;
    } else {
        run(format!("CREATE DATABASE \"{name}\"")).await;
    }
    admin.close().await.ok();
    (with_database(&server, &name), None)
}

impl TestApp {
    /// Starts the app with development settings.
    pub async fn spawn() -> Self {
        Self::spawn_configured(|_| {}).await
    }

    /// Starts the app with a WeChat API at `wechat_base`.
    pub async fn spawn_with_wechat(wechat_base: String) -> Self {
        Self::spawn_configured(|settings| settings.auth.wechat_api_base = wechat_base).await
    }

    /// Starts the app with payment settings of the test's choosing.
    pub async fn spawn_with_payments(payment_config: PaymentConfig) -> Self {
        Self::spawn_configured(|settings| settings.payments = payment_config).await
    }

    /// Starts the app as production does, through [`Application::build`], with test
    /// settings (a fresh database, a known JWT secret, WeChat at an address that answers
    /// nothing, port 0, no scheduled reconciliation or rebuilds) changed by `edit`.
    pub async fn spawn_configured(edit: impl FnOnce(&mut Settings)) -> Self {
        let (url, dir) = fresh_database().await;
        let database_url = url.clone();
        let database = DatabaseConfig {
            database_url: url,
            db_max_connections: 5,
        };
        // The simulated provider keeps its keys in the database; storing the fixture key
        // first saves generating an RSA key per test (the read path is the real one).
        {
            let db = zhiku::db::connect_and_migrate(&database)
                .await
                .expect("open database");
            zhiku::server_settings::get_or_create(
                &db,
                zhiku::payments::SIMULATED_KEY_SETTING,
                || {
                    Ok(std::fs::read_to_string(fixture_path("platform_key.pem"))
                        .expect("fixture key"))
                },
            )
            .await
            .expect("simulated key");
            db.close().await.expect("close");
        }
        let mut settings = Settings {
            environment: Environment::Development,
            database,
            auth: AuthConfig {
                jwt_secret: Some(Secret::new(TEST_JWT_SECRET)),
                wechat_appid: "wx-test-app".into(),
                wechat_secret: Some(Secret::new("wechat-test-secret")),
                wechat_api_base: "http://127.0.0.1:9".into(),
                wechat_timeout_ms: 500,
                ..AuthConfig::default()
            },
            payments: PaymentConfig {
                // Tests that exercise the background passes turn them on (or call
                // them with the clock's time).
                reconcile_interval_secs: 0,
                question_sweep_secs: 0,
                ..PaymentConfig::default()
            },
            recommend: RecommendConfig {
                rebuild_seconds: 0,
                ..RecommendConfig::default()
            },
            server: ServerConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                // Tests that send messages turn the outbox worker on.
                messages: zhiku::config::MessagesConfig {
                    outbox_interval_ms: 0,
                    reminder_interval_ms: 0,
                    ..zhiku::config::MessagesConfig::default()
                },
                // Views are flushed by the tests that count them.
                view_flush_ms: 0,
                ..ServerConfig::default()
            },
        };
        edit(&mut settings);
        let application = Application::build(&settings).await.expect("build the app");
        let addr = application.address().expect("address");
        let clock = application.clock.clone();
        let (db, auth, payments, metrics, effects, views) = (
            application.db.clone(),
            application.auth.clone(),
            application.payments.clone(),
            application.metrics.clone(),
            application.effects.clone(),
            application.views.clone(),
        );
        tokio::spawn(async move {
            application
                .run_until_stopped(std::future::pending())
                .await
                .expect("serve");
        });
        TestApp {
            addr,
            db,
            auth,
            payments,
            effects,
            metrics,
            views,
            clock,
            client: reqwest::Client::new(),
            database_url,
            _sqlite_dir: dir,
        }
    }

    /// URL of a path on the app.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Posts a GraphQL operation and returns the JSON response (any status).
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request");
        response.json().await.expect("JSON response")
    }

    /// The text `/metrics` answers now.
    pub async fn metrics_text(&self) -> String {
        let response = self.client.get(self.url("/metrics")).send().await;
        response
            .expect("request")
            .text()
            .await
            .expect("metrics text")
    }

    /// Posts a GraphQL operation and returns `data`, failing on any error.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// Whether the app runs on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.db.get_database_backend() == DbBackend::Postgres
    }
}

/// The `extensions.code` of the first error of a response.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

/// A fixed point in time for fixtures.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap()
}

/// Small hand-made data for tests that need exact expectations.
pub struct Fixture<'a> {
    db: &'a DatabaseConnection,
}

impl<'a> Fixture<'a> {
    /// Fixtures written straight into the app's database.
    pub fn new(db: &'a DatabaseConnection) -> Self {
        Fixture { db }
    }

    /// A user with this role, signed in from the mini-program with this openid.
    pub async fn user(&self, openid: &str, role: Role) -> user::Model {
        let user = user::Model {
            id: 0,
            unionid: None,
            nickname: Some(format!("nick-{openid}")),
            avatar_url: None,
            role,
            banned_at: None,
            tokens_valid_after: None,
            created_at: t0(),
            updated_at: t0(),
        }
        .into_active_model()
        .reset_id()
        .insert(self.db)
        .await
        .expect("insert user");
        entity::user_identity::ActiveModel {
            user_id: Set(user.id),
            app: Set(entity::enums::IdentityApp::MiniProgram),
            openid: Set(openid.into()),
            created_at: Set(t0()),
            ..Default::default()
        }
        .insert(self.db)
        .await
        .expect("insert identity");
        user
    }

    /// A creator profile with its user.
    pub async fn creator(&self, name: &str) -> creator::Model {
        let user = self.user(&format!("creator-{name}"), Role::Creator).await;
        creator::Model {
            id: 0,
            user_id: user.id,
            display_name: name.into(),
            bio: None,
            created_at: t0(),
            fee_bps: None,
            wechat_mchid: None,
        }
        .into_active_model()
        .reset_id()
        .insert(self.db)
        .await
        .expect("insert creator")
    }

    /// A course; `n` spreads creation times so "newest" has a defined order.
    pub async fn course(
        &self,
        creator: &creator::Model,
        n: i64,
        title: &str,
        category: &str,
        price_fen: i64,
        status: CourseStatus,
    ) -> course::Model {
        course::Model {
            id: 0,
            creator_id: creator.id,
            title: title.into(),
            subtitle: None,
            description: None,
            cover_url: None,
            category: category.into(),
            price_fen,
            status,
            sales_count: n % 7,
            rating_count: 0,
            rating_sum: 0,
            published_at: Some(t0()),
            suspended_at: None,
            created_at: t0() + Duration::minutes(n % 5),
            updated_at: t0(),
        }
        .into_active_model()
        .reset_id()
        .insert(self.db)
        .await
        .expect("insert course")
    }

    /// A live entitlement of a user to a course (as a paid order would grant).
    pub async fn entitlement(&self, user_id: i64, course_id: i64) -> entity::entitlement::Model {
        entity::entitlement::Model {
            id: 0,
            user_id,
            product_kind: entity::enums::ProductKind::Course,
            product_id: course_id,
            order_id: None,
            granted_at: t0(),
            expires_at: None,
            revoked_at: None,
        }
        .into_active_model()
        .reset_id()
        .insert(self.db)
        .await
        .expect("insert entitlement")
    }

    /// A lesson of a course.
    pub async fn lesson(
        &self,
        course: &course::Model,
        position: i32,
        free_preview: bool,
    ) -> lesson::Model {
        lesson::Model {
            id: 0,
            course_id: course.id,
            position,
            title: format!("lesson {position}"),
            kind: LessonKind::Video,
            duration_seconds: 600,
            free_preview,
            content: Some(format!(
                "https://media.example/{}/{position}.m3u8",
                course.id
            )),
            created_at: t0(),
        }
        .into_active_model()
        .reset_id()
        .insert(self.db)
        .await
        .expect("insert lesson")
    }
}

/// Turns a model's id back into "let the database choose".
pub trait ResetId {
    /// The same active model with its id NotSet.
    fn reset_id(self) -> Self;
}

macro_rules! reset_id {
    ($($module:ident),*) => {$(
        impl ResetId for entity::$module::ActiveModel {
            fn reset_id(mut self) -> Self {
                self.id = sea_orm::ActiveValue::NotSet;
                self
            }
        }
    )*};
}
reset_id!(
    user,
    creator,
    course,
    lesson,
    rating,
    order,
    entitlement,
    livestream,
    community_group
);

impl TestApp {
    /// A console access token for a user.
    pub fn token(&self, user_id: i64) -> String {
        self.token_for(user_id, zhiku::auth::tokens::Audience::Console)
    }

    /// An access token for a user and audience.
    pub fn token_for(&self, user_id: i64, audience: zhiku::auth::tokens::Audience) -> String {
        let role = entity::enums::Role::Learner;
        self.auth
            .keys
            .issue(user_id, role, audience, Utc::now())
            .expect("token")
    }

    /// Posts a GraphQL operation with a bearer token; returns (status, JSON body).
    pub async fn gql_as(&self, token: &str, query: &str, variables: Value) -> (u16, Value) {
        let response = self
            .client
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON response"))
    }

    /// Runs a mutation as a user and returns its payload (`data.<field>`), failing on
    /// GraphQL errors.
    pub async fn mutate(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, body) = self.gql_as(token, query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        let data = body["data"].as_object().expect("data");
        data.values().next().cloned().expect("one field")
    }
}

/// A private key of the WeChat Pay test fixtures.
pub fn fixture_private_key(name: &str) -> rsa::RsaPrivateKey {
    zhiku::payments::crypto::private_key_from_pem(
        &std::fs::read_to_string(fixture_path(name)).unwrap(),
    )
    .unwrap()
}

/// A public key (or certificate) of the WeChat Pay test fixtures.
pub fn fixture_public_key(name: &str) -> rsa::RsaPublicKey {
    zhiku::payments::crypto::public_key_from_pem(
        &std::fs::read_to_string(fixture_path(name)).unwrap(),
    )
    .unwrap()
}

/// A global ID string.
pub fn gid(type_name: &str, id: i64) -> String {
    zhiku::graphql::ids::encode(type_name, id).to_string()
}

#[test]
fn the_leftover_sweep_spares_live_runs() {
    let mine = format!("{}0123abcd", run_prefix());
    assert!(
        belongs_to_a_live_run(&mine),
        "this run's databases are kept"
    );
    assert!(belongs_to_a_live_run(&format!("{}template", run_prefix())));
    assert!(
        !belongs_to_a_live_run("zhiku_test_4294967295_0123abcd"),
        "an ended run's go"
    );
    assert!(
        !belongs_to_a_live_run("zhiku_test_template"),
        "and so do unnamed leftovers"
    );
}
