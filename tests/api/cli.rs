//! The `zhiku` binary itself: schema, migrate, serve with graceful shutdown.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn zhiku() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zhiku"));
    command.env_remove("DATABASE_URL").env("RUST_LOG", "warn");
    command
}

#[test]
fn schema_command_prints_the_checked_in_sdl() {
    let output = zhiku().arg("schema").output().unwrap();
    assert!(output.status.success());
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert!(
        String::from_utf8(output.stdout).unwrap() == checked_in,
        "regenerate with: cargo run -- schema > schema.graphql"
    );
}

#[test]
fn migrate_creates_the_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fresh.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let output = zhiku()
        .args(["--database-url", &url, "migrate"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(file.exists());
    // Running it again is a no-op.
    let again = zhiku()
        .args(["--database-url", &url, "migrate"])
        .output()
        .unwrap();
    assert!(again.status.success(), "{again:?}");
}

#[test]
fn serve_answers_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("serve.db").display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = zhiku()
        .args([
            "--database-url",
            &url,
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let healthy = loop {
        let probe = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut stream| {
            use std::io::{Read, Write};
            stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
            let mut response = String::new();
            stream.read_to_string(&mut response)?;
            Ok(response)
        });
        match probe {
            Ok(response) => break response.starts_with("HTTP/1.1 200"),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(_) => break false,
        }
    };
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = server.wait().unwrap();
    assert!(healthy, "the server never answered /healthz");
    assert!(status.success(), "exit after SIGTERM: {status:?}");
}

#[tokio::test]
async fn token_and_promote_work_on_a_real_database() {
    use entity::enums::Role;
    use sea_orm::EntityTrait;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("ops.db").display());
    let config = zhiku::config::DatabaseConfig {
        database_url: url.clone(),
        db_max_connections: 2,
    };
    let db = zhiku::db::connect_and_migrate(&config).await.unwrap();
    let user = crate::helpers::Fixture::new(&db)
        .user("ops-user", Role::Learner)
        .await;
    let secret = "cli-secret-cli-secret-cli-secret-0123";
    let run = |args: Vec<String>| {
        let output = zhiku()
            .env("ZHIKU_JWT_SECRET", secret)
            .args(["--database-url", &url])
            .args(&args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let keys = zhiku::auth::tokens::TokenKeys::new(
        &zhiku::config::Secret::new(secret),
        chrono::Duration::hours(2),
    )
    .unwrap();
    // By database id, by global ID, by openid: only the token is printed.
    for args in [
        vec!["token".to_owned(), "--user".to_owned(), user.id.to_string()],
        vec![
            "token".to_owned(),
            "--user".to_owned(),
            crate::helpers::gid("User", user.id),
        ],
        vec![
            "token".to_owned(),
            "--openid".to_owned(),
            "ops-user".to_owned(),
            "--audience".to_owned(),
            "miniprogram".to_owned(),
        ],
    ] {
        let printed = run(args.clone());
        let token = printed.trim_end();
        assert_eq!(printed.lines().count(), 1, "{args:?}");
        assert_eq!(keys.verify(token).unwrap().user_id, user.id, "{args:?}");
    }
    run(vec![
        "user".into(),
        "promote".into(),
        "--user".into(),
        user.id.to_string(),
        "--role".into(),
        "CREATOR".into(),
    ]);
    let promoted = entity::user::Entity::find_by_id(user.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(promoted.role, Role::Creator);
    let profile = entity::creator::Entity::find().one(&db).await.unwrap();
    assert_eq!(profile.map(|c| c.user_id), Some(user.id));
}

#[test]
fn production_refuses_to_start_without_a_real_payment_setup() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("prod.db").display());
    /// (case, extra environment, what the refusal names)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 3] = [
        (
            "simulated provider",
            &[],
            "ZHIKU_PAYMENT_PROVIDER=wechatpay",
        ),
        (
            "placeholder notify URL",
            &[("ZHIKU_PAYMENT_PROVIDER", "wechatpay")],
            "placeholder",
        ),
        (
            "plain http notify URL",
            &[
                ("ZHIKU_PAYMENT_PROVIDER", "wechatpay"),
                (
                    "ZHIKU_WECHATPAY_NOTIFY_URL",
                    "http://pay.zhiku.cn/payments/wechat/notify",
                ),
            ],
            "https",
        ),
    ];
    for (name, env, expected) in cases {
        let mut server = zhiku()
            .env("ZHIKU_ENV", "production")
            .env("ZHIKU_JWT_SECRET", "prod-secret-prod-secret-prod-secret-01")
            .envs(env.iter().copied())
            .args(["--database-url", &url, "serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A refusal comes at once; a server still running after this has started.
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            match server.try_wait().unwrap() {
                Some(status) => break Some(status),
                None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
                None => break None,
            }
        };
        if status.is_none() {
            let _ = server.kill();
            let _ = server.wait();
        }
        let output = server.wait_with_output().unwrap();
        assert!(status.is_some_and(|s| !s.success()), "{name}: it started");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("refusing to start in production") && stderr.contains(expected),
            "{name}: {stderr}"
        );
    }
}

/// A free port on loopback (bound and released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET `path` on a local port; the whole answer, or None while nothing listens.
fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[test]
fn metrics_can_live_on_an_address_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
    let (public, private) = (free_port(), free_port());
    let mut server = zhiku()
        .env("ZHIKU_METRICS_LISTEN", format!("127.0.0.1:{private}"))
        .args([
            "--database-url",
            &url,
            "serve",
            "--listen",
            &format!("127.0.0.1:{public}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http_get(public, "/healthz").is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let on_public = http_get(public, "/metrics").unwrap_or_default();
    let on_private = http_get(private, "/metrics").unwrap_or_default();
    let _ = server.kill();
    let _ = server.wait();
    assert!(on_public.starts_with("HTTP/1.1 404"), "{on_public}");
    assert!(on_private.starts_with("HTTP/1.1 200"), "{on_private}");
    assert!(
        on_private.contains("zhiku_http_requests_total"),
        "{on_private}"
    );
}
