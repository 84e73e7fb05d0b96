//! Live rooms across replicas: a second `zhiku serve` process on the same PostgreSQL
//! database shares the room (messages and viewer counts) through LISTEN/NOTIFY.

use std::time::Duration;

use entity::enums::Role;
use serde_json::json;

use crate::helpers::{Fixture, TestApp};
use crate::live::{WsClient, live_app, paid_livestream, send, ticket};

/// A second `zhiku serve` process on the app's database, killed when dropped.
struct SecondServer {
    child: std::process::Child,
    addr: std::net::SocketAddr,
}

impl SecondServer {
    async fn start(app: &TestApp) -> SecondServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_zhiku"))
            .env("RUST_LOG", "warn")
            .env("ZHIKU_JWT_SECRET", crate::helpers::TEST_JWT_SECRET)
            .env("ZHIKU_RECOMMEND_REBUILD_SECONDS", "0")
            .env("ZHIKU_RECONCILE_INTERVAL_SECS", "0")
            .args(["--database-url", &app.database_url, "serve", "--listen"])
            .arg(addr.to_string())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start a second server");
        let server = SecondServer { child, addr };
        let health = format!("http://{addr}/healthz");
        for _ in 0..200 {
            if let Ok(response) = app.client.get(&health).send().await
                && response.status().is_success()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the second server did not come up");
    }
}

impl Drop for SecondServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two server processes on one PostgreSQL database: a message sent through one reaches
/// a subscriber of the other (LISTEN/NOTIFY), and the viewer count adds both. On SQLite
/// (one process by design) there is nothing to share, and the test says so.
#[tokio::test]
async fn two_server_processes_share_a_room_through_postgres() {
    let app = live_app().await;
    if !app.is_postgres() {
        eprintln!("skipped: fan-out across processes needs PostgreSQL (ZHIKU_TEST_DATABASE_URL)");
        return;
    }
    let other = SecondServer::start(&app).await;
    let (id, host_token, row_id) = paid_livestream(&app).await;
    let fixture = Fixture::new(&app.db);
    let alice = fixture.user("alice", Role::Learner).await;
    let bob = fixture.user("bob", Role::Learner).await;
    ticket(&app, alice.id, row_id).await;
    ticket(&app, bob.id, row_id).await;
    app.mutate(
        &host_token,
        "mutation($l: ID!) { startLivestream(input: {livestream: $l}) { livestream { status } } }",
        json!({ "l": id }),
    )
    .await;

    // Alice watches on the other process, Bob on this one.
    let mut on_other = WsClient::connect_to(other.addr, Some(&app.token(alice.id)))
        .await
        .unwrap();
    on_other.subscribe("room", &id, Some(0)).await;
    let first = on_other.next_event(false).await;
    assert_eq!(
        first["status"], "LIVE",
        "the replay comes from the shared log"
    );
    let mut here = WsClient::connect(&app, Some(&app.token(bob.id)))
        .await
        .unwrap();
    here.subscribe("room", &id, None).await;
    on_other.until_viewers(2).await;
    here.until_viewers(2).await;

    // Bob talks through this process; Alice hears it on the other.
    send(&app, &app.token(bob.id), &id, "来自另一台服务器", "x1").await;
    let heard = on_other.next_event(false).await;
    assert_eq!(heard["kind"], "MESSAGE_POSTED");
    assert_eq!(heard["message"]["body"], "来自另一台服务器");
    assert_eq!(heard["sequence"], 2);

    // The other process dies (SIGKILL: no goodbye): its heartbeat stops, and its viewer
    // leaves the count within the presence window (20 s) and a heartbeat (5 s).
    let died = std::time::Instant::now();
    drop(other);
    here.until_viewers_within(1, Duration::from_secs(35)).await;
    assert!(
        died.elapsed() < Duration::from_secs(30),
        "{:?}",
        died.elapsed()
    );
}
