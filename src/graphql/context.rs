//! What resolvers read from the GraphQL context: the database, the acting user, the
//! request's loader. A missing value is a wiring bug, reported as INTERNAL.

use async_graphql::Context;
use sea_orm::DatabaseConnection;

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::graphql::loaders::RequestLoader;
use crate::service::effects::Effects;
use crate::service::live_rooms::LiveRooms;
use crate::service::read_cache::ReadCache;
use crate::service::recommendations::Recommendations;

/// Typed access to the request data every resolver needs.
pub trait ContextExt {
    /// The database pool.
    fn db(&self) -> AppResult<&DatabaseConnection>;
    /// The acting user.
    fn actor(&self) -> AppResult<&Actor>;
    /// The request's batching loader.
    fn loader(&self) -> AppResult<&RequestLoader>;
    /// The recommendation service.
    fn recommendations(&self) -> AppResult<&Recommendations>;
    /// Where services publish what they committed.
    fn effects(&self) -> AppResult<&Effects>;
    /// The process's short-lived copies of catalogue rows.
    fn read_cache(&self) -> AppResult<&ReadCache>;
    /// Live rooms: the hub, the stream signer, the chat limiter.
    fn live(&self) -> AppResult<&LiveRooms>;
    /// The time time-bound rules act at (the system's unless a test set it).
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
}

/// The error of a context value that was never put there.
#[derive(Debug, thiserror::Error)]
#[error("request data missing: {0}")]
struct MissingData(&'static str);

fn missing(what: &'static str) -> impl FnOnce(async_graphql::Error) -> AppError {
    move |_| AppError::internal(MissingData(what))
}

impl ContextExt for Context<'_> {
    fn db(&self) -> AppResult<&DatabaseConnection> {
        self.data::<DatabaseConnection>()
            .map_err(missing("database"))
    }

    fn actor(&self) -> AppResult<&Actor> {
        self.data::<Actor>().map_err(missing("actor"))
    }

    fn loader(&self) -> AppResult<&RequestLoader> {
        self.data::<RequestLoader>().map_err(missing("loader"))
    }

    fn recommendations(&self) -> AppResult<&Recommendations> {
        self.data::<Recommendations>()
            .map_err(missing("recommendations"))
    }

    fn effects(&self) -> AppResult<&Effects> {
        self.data::<Effects>().map_err(missing("effects"))
    }

    fn read_cache(&self) -> AppResult<&ReadCache> {
        self.data::<ReadCache>().map_err(missing("read cache"))
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.data::<crate::clock::Clock>()
            .map(crate::clock::Clock::now)
            .unwrap_or_else(|_| chrono::Utc::now())
    }

    fn live(&self) -> AppResult<&LiveRooms> {
        self.data::<LiveRooms>().map_err(missing("live rooms"))
    }
}
