//! Keyset pagination over any SeaORM query.
//!
//! A page is asked for as `first`/`after` (forward) or `last`/`before` (backward) with
//! a default of 20 and a hard maximum of 100. Results are ordered by a sort key and
//! then by id, so the order is total and a cursor `(key, id)` names a position exactly:
//! no offsets, stable under inserts. One extra row is fetched to know whether another
//! page exists.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Value,
};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// Page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

/// The value of the sort key at a position.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SortValue {
    /// An integer key (price, sales, rating in thousandths...).
    Int(i64),
    /// A time key.
    Time(DateTime<Utc>),
    /// A text key (names), compared as the database collates it.
    Text(String),
}

impl From<SortValue> for Value {
    fn from(value: SortValue) -> Self {
        match value {
            SortValue::Int(v) => v.into(),
            SortValue::Time(v) => v.into(),
            SortValue::Text(v) => v.into(),
        }
    }
}

/// A position in an ordered list: the sort key's value and the row id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cursor {
    /// Sort key value; `None` when the list is ordered by id alone.
    #[serde(rename = "k", skip_serializing_if = "Option::is_none", default)]
    pub key: Option<SortValue>,
    /// Row id, the tie-breaker.
    #[serde(rename = "i")]
    pub id: i64,
}

impl Cursor {
    /// The opaque string handed to clients.
    pub fn encode(&self) -> String {
        // Serialising two plain fields cannot fail.
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Reads a cursor given back by a client.
    pub fn decode(text: &str) -> AppResult<Self> {
        URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| AppError::BadUserInput(format!("invalid cursor {text:?}")))
    }
}

/// Which way the page runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Direction {
    Forward,
    Backward,
}

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageRequest {
    direction: Direction,
    limit: u64,
    cursor: Option<Cursor>,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            direction: Direction::Forward,
            limit: DEFAULT_PAGE_SIZE,
            cursor: None,
        }
    }
}

impl PageRequest {
    /// Validates Relay arguments: not both `first` and `last`, sizes within 0..=100,
    /// `after` only with forward paging and `before` only with backward paging.
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> AppResult<Self> {
        let size = |n: i32, name: &str| -> AppResult<u64> {
            if (0..=MAX_PAGE_SIZE as i32).contains(&n) {
                Ok(n as u64)
            } else {
                Err(AppError::BadUserInput(format!(
                    "`{name}` must be between 0 and {MAX_PAGE_SIZE}"
                )))
            }
        };
        match (first, last) {
            (Some(_), Some(_)) => Err(AppError::BadUserInput(
                "pass `first` or `last`, not both".into(),
            )),
            (_, Some(last)) => {
                if after.is_some() {
                    return Err(AppError::BadUserInput(
                        "`after` goes with `first`; use `before` with `last`".into(),
                    ));
                }
                Ok(PageRequest {
                    direction: Direction::Backward,
                    limit: size(last, "last")?,
                    cursor: before.as_deref().map(Cursor::decode).transpose()?,
                })
            }
            (first, None) => {
                if before.is_some() && after.is_none() && first.is_none() {
                    // `before` alone: the page just before the cursor, default size.
                    return Ok(PageRequest {
                        direction: Direction::Backward,
                        limit: DEFAULT_PAGE_SIZE,
                        cursor: before.as_deref().map(Cursor::decode).transpose()?,
                    });
                }
                if before.is_some() {
                    return Err(AppError::BadUserInput(
                        "`before` goes with `last`; use `after` with `first`".into(),
                    ));
                }
                Ok(PageRequest {
                    direction: Direction::Forward,
                    limit: first
                        .map(|n| size(n, "first"))
                        .transpose()?
                        .unwrap_or(DEFAULT_PAGE_SIZE),
                    cursor: after.as_deref().map(Cursor::decode).transpose()?,
                })
            }
        }
    }

    /// Rows the page will hold at most (used for complexity and preallocation).
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Whether this asks for the first page forward (`first` without `after`).
    pub fn is_first_page(&self) -> bool {
        self.direction == Direction::Forward && self.cursor.is_none()
    }
}

/// A sort key: the SQL expression, and the same value read from a loaded row (for cursors).
pub type KeyExpr<M> = (SimpleExpr, fn(&M) -> SortValue);

/// How a list is ordered: an optional key expression, then the id column.
pub struct SortKey<E: EntityTrait> {
    /// The key expression and how to read it from a row; `None` orders by id alone.
    pub key: Option<KeyExpr<E::Model>>,
    /// The id column, the tie-breaker.
    pub id: E::Column,
    /// Largest key first when true.
    pub descending: bool,
}

/// One page of rows with the cursor of each.
#[derive(Debug, Clone)]
pub struct Page<M> {
    /// Rows in list order, each with its cursor.
    pub items: Vec<(Cursor, M)>,
    /// Whether rows exist after the last one of this page.
    pub has_next_page: bool,
    /// Whether rows exist before the first one of this page.
    pub has_previous_page: bool,
}

impl<M> Default for Page<M> {
    fn default() -> Self {
        Page {
            items: Vec::new(),
            has_next_page: false,
            has_previous_page: false,
        }
    }
}

/// A query whose rows can be counted later (for `totalCount`, only when asked for).
pub struct Counted<E: EntityTrait> {
    query: Select<E>,
}

impl<E: EntityTrait> Counted<E>
where
    E::Model: Sync,
{
    /// The rows `query` matches, to be counted when asked.
    pub fn new(query: Select<E>) -> Self {
        Counted { query }
    }

    /// Counts every row the filters match, ignoring paging.
    pub async fn count(self, db: &impl ConnectionTrait) -> AppResult<i64> {
        Ok(self.query.count(db).await? as i64)
    }
}

/// Fetches one page of `query` (already filtered) in the order `sort`, and keeps the
/// filtered query for counting.
pub async fn fetch<E>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    sort: &SortKey<E>,
    page: &PageRequest,
    id_of: fn(&E::Model) -> i64,
) -> AppResult<(Page<E::Model>, Counted<E>)>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let counted = Counted {
        query: query.clone(),
    };
    // Backward pages walk the list in reverse, then flip the rows back.
    let reverse = page.direction == Direction::Backward;
    let descending = sort.descending != reverse;
    let order = if descending { Order::Desc } else { Order::Asc };

    let mut query = query;
    if let Some(cursor) = &page.cursor {
        let id = Expr::col(sort.id);
        let past_id = if descending {
            id.lt(cursor.id)
        } else {
            id.gt(cursor.id)
        };
        let condition = match (&sort.key, &cursor.key) {
            (Some((key, _)), Some(value)) => {
                let value: Value = value.clone().into();
                let key = Expr::expr(key.clone());
                let past_key = if descending {
                    key.clone().lt(value.clone())
                } else {
                    key.clone().gt(value.clone())
                };
                Condition::any()
                    .add(past_key)
                    .add(Condition::all().add(key.eq(value)).add(past_id))
            }
            (None, None) => Condition::all().add(past_id),
            _ => {
                return Err(AppError::BadUserInput(
                    "the cursor belongs to a list in another order".into(),
                ));
            }
        };
        query = query.filter(condition);
    }
    if let Some((key, _)) = &sort.key {
        query = query.order_by(key.clone(), order.clone());
    }
    let rows = query
        .order_by(sort.id, order)
        .limit(page.limit + 1)
        .all(db)
        .await?;

    let more = rows.len() as u64 > page.limit;
    let mut rows: Vec<_> = rows.into_iter().take(page.limit as usize).collect();
    if reverse {
        rows.reverse();
    }
    let items = rows
        .into_iter()
        .map(|row| {
            let cursor = Cursor {
                key: sort.key.as_ref().map(|(_, read)| read(&row)),
                id: id_of(&row),
            };
            (cursor, row)
        })
        .collect();
    let had_cursor = page.cursor.is_some();
    let page = match page.direction {
        Direction::Forward => Page {
            items,
            has_next_page: more,
            has_previous_page: had_cursor,
        },
        Direction::Backward => Page {
            items,
            has_next_page: had_cursor,
            has_previous_page: more,
        },
    };
    Ok((page, counted))
}

/// A `LIKE` pattern matching `text` anywhere, with the wildcards in `text` escaped.
pub fn contains_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{}%", escaped.to_lowercase())
}

/// Case-insensitive "column contains text", the same on SQLite and PostgreSQL.
pub fn column_contains<C: ColumnTrait>(column: C, text: &str) -> SimpleExpr {
    use sea_orm::sea_query::{Func, LikeExpr};
    Expr::expr(Func::lower(Expr::col(column)))
        .like(LikeExpr::new(contains_pattern(text)).escape('\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        for cursor in [
            Cursor { key: None, id: 7 },
            Cursor {
                key: Some(SortValue::Int(-3)),
                id: 1,
            },
            Cursor {
                key: Some(SortValue::Time(
                    DateTime::from_timestamp(1_700_000_000, 5).unwrap(),
                )),
                id: 99,
            },
        ] {
            assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        }
    }

    #[test]
    fn page_arguments_are_checked() {
        type Case = (
            &'static str,
            Option<i32>,
            Option<&'static str>,
            Option<i32>,
            Option<&'static str>,
            bool,
        );
        let cases: [Case; 6] = [
            ("defaults", None, None, None, None, true),
            ("first 100", Some(100), None, None, None, true),
            ("first 101", Some(101), None, None, None, false),
            ("negative", Some(-1), None, None, None, false),
            ("first and last", Some(1), None, Some(1), None, false),
            ("garbage cursor", Some(1), Some("%%%"), None, None, false),
        ];
        for (name, first, after, last, before, ok) in cases {
            let result = PageRequest::new(
                first,
                after.map(str::to_owned),
                last,
                before.map(str::to_owned),
            );
            assert_eq!(result.is_ok(), ok, "case {name}");
        }
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(contains_pattern("50%_Off"), "%50\\%\\_off%");
    }
}
