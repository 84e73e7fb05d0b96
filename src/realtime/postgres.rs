//! The PostgreSQL side of fan-out: one LISTEN connection per replica on
//! [`NOTIFY_CHANNEL`](super::NOTIFY_CHANNEL). Each notice makes the named room read
//! its log (or recount its viewers); notices for rooms without subscribers here are
//! dropped. When the connection drops, sqlx reconnects, and since notices sent
//! meanwhile are lost, every room rereads its log and recounts.

use sea_orm::DatabaseConnection;
use sea_orm::sqlx::postgres::PgListener;

use super::{Hub, NOTIFY_CHANNEL, Notice};

/// Listens until the process stops (PostgreSQL only).
pub async fn listen(db: DatabaseConnection, hub: Hub) {
    let pool = db.get_postgres_connection_pool().clone();
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::error!(%error, "live listener could not connect; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        listener.eager_reconnect(true);
        if let Err(error) = listener.listen(NOTIFY_CHANNEL).await {
            tracing::error!(%error, "LISTEN failed; retrying");
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            continue;
        }
        // Anything logged while we were not listening.
        hub.resync_all().await;
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => match Notice::parse(notification.payload()) {
                    Some(Notice::Event {
                        livestream_id,
                        sequence,
                    }) => hub.announce(livestream_id, sequence),
                    Some(Notice::Presence { livestream_id }) => {
                        let hub = hub.clone();
                        tokio::spawn(async move { hub.presence_notice(livestream_id).await });
                    }
                    Some(Notice::Revoked {
                        livestream_id,
                        user_id,
                    }) => hub.revoke_here(livestream_id, user_id),
                    None => tracing::warn!("unreadable live notice ignored"),
                },
                Ok(None) => {
                    tracing::warn!("live listener lost its connection; resynchronising");
                    hub.resync_all().await;
                    for room in hub.rooms() {
                        hub.presence_notice(room.livestream_id).await;
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "live listener failed; reconnecting");
                    break;
                }
            }
        }
    }
}
