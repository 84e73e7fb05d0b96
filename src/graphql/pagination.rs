//! Relay connections on top of [`crate::service::page`]: every list field returns a
//! `XConnection { edges { cursor node } nodes pageInfo totalCount }`.
//!
//! `totalCount` runs its COUNT query only when a client asks for it, once however
//! many aliases ask.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use async_graphql::connection::{Edge, EmptyFields, PageInfo};
use async_graphql::{Object, OutputType, TypeName};
use sea_orm::{DatabaseConnection, EntityTrait};
use tokio::sync::OnceCell;

use crate::error::{AppError, AppResult};
use crate::service::page::{Counted, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest};

/// How a connection's `totalCount` is found, run only when the field is selected.
pub type CountFuture = Pin<Box<dyn Future<Output = AppResult<i64>> + Send>>;

/// A Relay connection: one page of a list with cursors, page info and total count.
pub struct Conn<N: OutputType> {
    edges: Vec<Edge<String, N, EmptyFields>>,
    has_previous_page: bool,
    has_next_page: bool,
    total: OnceCell<i64>,
    count_query: Mutex<Option<CountFuture>>,
}

/// Each connection is named after its items (`CourseConnection`, `OrderConnection`...),
/// so a new list type needs no entry here.
impl<N: OutputType> TypeName for Conn<N> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Connection", N::type_name()).into()
    }
}

/// A page of a list (Relay connection): edges with cursors, the nodes alone, page
/// information and the number of items across all pages.
#[Object(name_type)]
impl<N: OutputType> Conn<N> {
    /// The items of this page, each with its cursor.
    async fn edges(&self) -> &[Edge<String, N, EmptyFields>] {
        &self.edges
    }

    /// The items of this page, without cursors.
    async fn nodes(&self) -> Vec<&N> {
        self.edges.iter().map(|edge| &edge.node).collect()
    }

    /// Information to aid in pagination.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            start_cursor: self.edges.first().map(|edge| edge.cursor.clone()),
            end_cursor: self.edges.last().map(|edge| edge.cursor.clone()),
        }
    }

    /// Number of items matching the filters, across all pages.
    #[graphql(complexity = 5)]
    async fn total_count(&self) -> async_graphql::Result<i64> {
        let value = self
            .total
            .get_or_try_init(|| async {
                let query = self.count_query.lock().ok().and_then(|mut q| q.take());
                match query {
                    Some(query) => query.await,
                    None => Err(AppError::BadUserInput("totalCount is not available".into())),
                }
            })
            .await?;
        Ok(*value)
    }
}

/// Validates Relay arguments into a page request.
pub fn page_request(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> AppResult<PageRequest> {
    PageRequest::new(first, after, last, before)
}

/// Complexity of a connection field: its page size times the cost of one item.
pub fn cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first
        .or(last)
        .map(|n| n.clamp(0, MAX_PAGE_SIZE as i32) as usize)
        .unwrap_or(DEFAULT_PAGE_SIZE as usize);
    size.max(1).saturating_mul(child_complexity)
}

/// Wraps a page of rows (owned or shared) as a connection, each row turned into its
/// GraphQL object.
pub fn connection<E, M, N>(
    db: &DatabaseConnection,
    rows: (Page<M>, Counted<E>),
    mut wrap: impl FnMut(M) -> N,
) -> Conn<N>
where
    E: EntityTrait,
    E::Model: Sync,
    N: OutputType,
{
    connection_filter_map(db, rows, |row| Some(wrap(row)))
}

/// Like [`connection`], dropping rows whose object cannot be made (a row whose
/// referenced user vanished between two queries, say).
pub fn connection_filter_map<E, M, N>(
    db: &DatabaseConnection,
    (page, counted): (Page<M>, Counted<E>),
    wrap: impl FnMut(M) -> Option<N>,
) -> Conn<N>
where
    E: EntityTrait,
    E::Model: Sync,
    N: OutputType,
{
    let db = db.clone();
    connection_counted_by(
        page,
        Box::pin(async move { counted.count(&db).await }),
        wrap,
    )
}

/// Like [`connection_filter_map`], with `totalCount` answered by `count` (run only when
/// the field is selected): for counts that come from somewhere else than the database,
/// such as the read cache.
pub fn connection_counted_by<M, N>(
    page: Page<M>,
    count: CountFuture,
    mut wrap: impl FnMut(M) -> Option<N>,
) -> Conn<N>
where
    N: OutputType,
{
    Conn {
        edges: page
            .items
            .into_iter()
            .filter_map(|(cursor, row)| wrap(row).map(|node| Edge::new(cursor.encode(), node)))
            .collect(),
        has_previous_page: page.has_previous_page,
        has_next_page: page.has_next_page,
        total: OnceCell::new(),
        count_query: Mutex::new(Some(count)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_scales_with_page_size() {
        assert_eq!(cost(None, None, 3), 60);
        assert_eq!(cost(Some(100), None, 3), 300);
        assert_eq!(cost(Some(10_000), None, 3), 300);
        assert_eq!(cost(None, Some(0), 3), 3);
    }
}
