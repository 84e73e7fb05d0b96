//! Analytics (数据分析): the creator dashboard and the platform's statistics, computed
//! with GROUP BY in the database and bucketed in the caller's time zone ([`buckets`]).
//!
//! Definitions, the same everywhere (README "Analytics"):
//! - a **sale** is an order that was paid with money (amount above 0; PAID, REFUNDING or
//!   REFUNDED now), counted when it was paid; free grants are not sales;
//! - **gross sales** are their list prices, **discounts** what sales, coupons, credits
//!   and renewals took off, **refunds** the amounts refunded, counted when refunded,
//!   and **net revenue** = gross − discounts − refunds;
//! - a **new buyer** made their first sale (from this creator, or on the platform) in
//!   the bucket; the other buyers are **returning**;
//! - **conversion** is sales ÷ product views (each viewer counted once per product per
//!   day, see [`crate::service::views`]), null without views.

pub mod buckets;
pub mod creator;
pub mod platform;
pub mod rollup;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};

pub use buckets::{Buckets, Granularity};

use crate::error::AppResult;

/// One figure: its total over the range and its value in each bucket (zeros, not gaps).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Series {
    /// Over the whole range (for distinct counts, not the sum of the buckets).
    pub total: i64,
    /// One value per bucket, in bucket order.
    pub points: Vec<i64>,
}

impl Series {
    fn zeros(buckets: usize) -> Self {
        Series {
            total: 0,
            points: vec![0; buckets],
        }
    }

    /// Adds `value` to bucket `index` and the total (rows outside the range are ignored).
    fn add(&mut self, index: i64, value: i64) {
        if let Some(point) = usize::try_from(index)
            .ok()
            .and_then(|i| self.points.get_mut(i))
        {
            *point += value;
            self.total += value;
        }
    }

    /// `self - other`, bucket by bucket.
    fn minus(&self, other: &Series) -> Series {
        Series {
            total: self.total - other.total,
            points: self
                .points
                .iter()
                .zip(&other.points)
                .map(|(a, b)| a - b)
                .collect(),
        }
    }
}

/// A ratio per bucket and over the range; null where the denominator is zero.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ratio {
    /// Over the whole range.
    pub total: Option<f64>,
    /// One value per bucket.
    pub points: Vec<Option<f64>>,
}

impl Ratio {
    /// `numerator / denominator`, bucket by bucket.
    fn of(numerator: &Series, denominator: &Series) -> Ratio {
        let divide = |n: i64, d: i64| (d != 0).then(|| n as f64 / d as f64);
        Ratio {
            total: divide(numerator.total, denominator.total),
            points: numerator
                .points
                .iter()
                .zip(&denominator.points)
                .map(|(n, d)| divide(*n, *d))
                .collect(),
        }
    }
}

/// A product's sales over the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRevenue {
    /// What kind of product.
    pub kind: entity::enums::ProductKind,
    /// Its id.
    pub product_id: i64,
    /// Its sales paid in the range.
    pub sales: i64,
    /// What those sales brought, less what of them was refunded, in fen.
    pub net_revenue_fen: i64,
}

/// SQL text with its bound values, written in order: `bind` answers the placeholder
/// (`$1`, `$2`, … on both databases) and keeps the value.
struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn new() -> Self {
        Sql {
            text: String::new(),
            values: Vec::new(),
        }
    }

    /// Keeps a value and answers its placeholder.
    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        format!("${}", self.values.len())
    }

    async fn rows(self, db: &impl ConnectionTrait) -> AppResult<Vec<QueryResult>> {
        let backend = db.get_database_backend();
        Ok(db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                self.text,
                self.values,
            ))
            .await?)
    }
}

/// Reads column `index` of a row as an integer (0 for NULL).
fn int(row: &QueryResult, index: usize) -> AppResult<i64> {
    Ok(row.try_get_by_index::<Option<i64>>(index)?.unwrap_or(0))
}

/// Runs a query whose first column is a bucket index and whose next `N` columns are
/// integers, and adds each row into `series` (one per column).
async fn fill<const N: usize>(
    db: &impl ConnectionTrait,
    sql: Sql,
    series: [&mut Series; N],
) -> AppResult<()> {
    fill_from(sql.rows(db).await?, series)
}

/// Adds rows of (bucket index, `N` integers) into `series` (one per column).
fn fill_from<const N: usize>(rows: Vec<QueryResult>, series: [&mut Series; N]) -> AppResult<()> {
    let mut series = series;
    for row in rows {
        let bucket = int(&row, 0)?;
        for (column, figure) in series.iter_mut().enumerate() {
            figure.add(bucket, int(&row, column + 1)?);
        }
    }
    Ok(())
}

/// A bucketed query over rows of `table` whose `time` column lies in the range, with
/// `extra` conditions (already bound in `sql`) and the `figures` selected per bucket.
fn bucketed(
    mut sql: Sql,
    buckets: &Buckets,
    backend: DbBackend,
    figures: &str,
    from: &str,
    time: &str,
    extra: &str,
) -> Sql {
    let bucket = buckets.index_sql(backend, time, &mut |at| sql.bind(at));
    let (start, end) = range_binds(&mut sql, buckets);
    sql.text = format!(
        "SELECT CAST({bucket} AS BIGINT) AS b, {figures} FROM {from} \
         WHERE {time} >= {start} AND {time} < {end}{extra} GROUP BY b"
    );
    sql
}

/// Binds the range's first instant and the first instant after it.
fn range_binds(sql: &mut Sql, buckets: &Buckets) -> (String, String) {
    (
        bind_time(sql, buckets.starts_at()),
        bind_time(sql, buckets.ends_at()),
    )
}

fn bind_time(sql: &mut Sql, at: DateTime<Utc>) -> String {
    sql.bind(at)
}

/// A sale: paid with money (see the module's definitions), in SQL over `orders` as `o`.
const SALE: &str = "o.amount_fen > 0 AND o.status IN ('PAID', 'REFUNDING', 'REFUNDED')";

/// `SUM` as a BIGINT on both databases (PostgreSQL sums BIGINT as NUMERIC), 0 for none.
fn sum(expr: &str) -> String {
    format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)")
}

/// Sales figures of the orders matching `scope` (SQL over `o`, bound in `sql`): gross,
/// discounts, sales, unique buyers (per bucket and in total), refunds, new buyers.
struct Sales {
    gross: Series,
    discounts: Series,
    refunds: Series,
    net_revenue: Series,
    sales: Series,
    unique_buyers: Series,
    new_buyers: Series,
    returning_buyers: Series,
}

/// The sales figures of orders where `scope` holds (`o.seller_id = $n`, or nothing for
/// the whole platform). `scope` makes its own binds through the closure.
async fn sales(
    db: &impl ConnectionTrait,
    buckets: &Buckets,
    scope: &(dyn Fn(&mut Sql) -> String + Sync),
) -> AppResult<Sales> {
    let backend = db.get_database_backend();
    let n = buckets.len();
    let (mut gross, mut discounts, mut sales, mut unique_buyers) = (
        Series::zeros(n),
        Series::zeros(n),
        Series::zeros(n),
        Series::zeros(n),
    );
    // Four independent statements, run at once on the pool.
    let mut sql = Sql::new();
    let extra = format!(" AND {SALE}{}", scope(&mut sql));
    let figures = format!(
        "{}, {}, COUNT(*), COUNT(DISTINCT o.buyer_id)",
        sum("o.list_price_fen"),
        sum("o.list_price_fen - o.amount_fen")
    );
    let per_bucket = bucketed(
        sql,
        buckets,
        backend,
        &figures,
        "orders o",
        "o.paid_at",
        &extra,
    );
    // Distinct buyers over the range are not the sum of the buckets' distinct buyers.
    let mut distinct = Sql::new();
    let extra = scope(&mut distinct);
    let (start, end) = range_binds(&mut distinct, buckets);
    distinct.text = format!(
        "SELECT COUNT(DISTINCT o.buyer_id) FROM orders o \
         WHERE o.paid_at >= {start} AND o.paid_at < {end} AND {SALE}{extra}"
    );
    let mut sql = Sql::new();
    let extra = format!(" AND o.status = 'REFUNDED'{}", scope(&mut sql));
    let refunded = bucketed(
        sql,
        buckets,
        backend,
        &sum("o.amount_fen"),
        "orders o",
        "o.refunded_at",
        &extra,
    );
    // New buyers: those whose first sale in scope ever falls in the bucket.
    let mut sql = Sql::new();
    let extra = scope(&mut sql);
    let firsts = format!(
        "(SELECT o.buyer_id, MIN(o.paid_at) AS first_paid FROM orders o \
         WHERE {SALE}{extra} GROUP BY o.buyer_id) f"
    );
    let first_purchases = bucketed(
        sql,
        buckets,
        backend,
        "COUNT(*)",
        &firsts,
        "f.first_paid",
        "",
    );
    let (per_bucket, distinct, refunded, first_purchases) = tokio::try_join!(
        per_bucket.rows(db),
        distinct.rows(db),
        refunded.rows(db),
        first_purchases.rows(db)
    )?;
    fill_from(
        per_bucket,
        [&mut gross, &mut discounts, &mut sales, &mut unique_buyers],
    )?;
    unique_buyers.total = match distinct.first() {
        Some(row) => int(row, 0)?,
        None => 0,
    };
    let mut refunds = Series::zeros(n);
    fill_from(refunded, [&mut refunds])?;
    let mut new_buyers = Series::zeros(n);
    fill_from(first_purchases, [&mut new_buyers])?;
    let returning_buyers = unique_buyers.minus(&new_buyers);
    let net_revenue = gross.minus(&discounts).minus(&refunds);
    Ok(Sales {
        gross,
        discounts,
        refunds,
        net_revenue,
        sales,
        unique_buyers,
        new_buyers,
        returning_buyers,
    })
}

/// The products with the most net revenue from sales paid in the range (at most
/// `limit`), where `scope` holds.
async fn top_products(
    db: &impl ConnectionTrait,
    buckets: &Buckets,
    scope: &(dyn Fn(&mut Sql) -> String + Sync),
    limit: u64,
) -> AppResult<Vec<ProductRevenue>> {
    use entity::enums::ProductKind;
    use sea_orm::ActiveEnum;
    let mut sql = Sql::new();
    let extra = scope(&mut sql);
    let (start, end) = range_binds(&mut sql, buckets);
    let net = sum("CASE WHEN o.status = 'REFUNDED' THEN 0 ELSE o.amount_fen END");
    sql.text = format!(
        "SELECT o.product_kind, o.product_id, COUNT(*) AS sales, {net} AS net FROM orders o \
         WHERE o.paid_at >= {start} AND o.paid_at < {end} AND {SALE}{extra} \
         GROUP BY o.product_kind, o.product_id ORDER BY net DESC, o.product_id ASC LIMIT {limit}"
    );
    let mut top = Vec::new();
    for row in sql.rows(db).await? {
        let kind: String = row.try_get_by_index(0)?;
        let Ok(kind) = ProductKind::try_from_value(&kind) else {
            continue;
        };
        top.push(ProductRevenue {
            kind,
            product_id: int(&row, 1)?,
            sales: int(&row, 2)?,
            net_revenue_fen: int(&row, 3)?,
        });
    }
    Ok(top)
}

/// The platform's fees on one seller's sales, or everyone's (net of those refunds gave
/// back), per bucket of when they were booked: from the daily fee totals when the
/// buckets are whole platform days, else from the ledger.
async fn fee_series(
    db: &impl ConnectionTrait,
    buckets: &Buckets,
    seller: Option<i64>,
) -> AppResult<Series> {
    if let Some(days) = buckets.platform_days("day") {
        return rollup::fees(db, buckets, days, seller).await;
    }
    let scope = move |sql: &mut Sql| match seller {
        Some(id) => format!(" AND o.seller_id = {}", sql.bind(id)),
        None => String::new(),
    };
    fees(db, buckets, &scope).await
}

/// The platform's fees on sales (net of those refunds gave back), per bucket of when
/// they were booked, from the ledger, where `scope` holds over `o`, the order.
async fn fees(
    db: &impl ConnectionTrait,
    buckets: &Buckets,
    scope: &(dyn Fn(&mut Sql) -> String + Sync),
) -> AppResult<Series> {
    let mut series = Series::zeros(buckets.len());
    let mut sql = Sql::new();
    let extra = format!(" AND a.kind = 'PLATFORM_FEES'{}", scope(&mut sql));
    // Fees are credits to the platform's fee account: negative amounts.
    let query = bucketed(
        sql,
        buckets,
        db.get_database_backend(),
        &sum("-e.amount_fen"),
        "ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id \
         JOIN ledger_journals j ON j.id = e.journal_id JOIN orders o ON o.id = j.order_id",
        "e.created_at",
        &extra,
    );
    fill(db, query, [&mut series]).await?;
    Ok(series)
}

/// Counts rows of `from` per bucket of `time`, where `extra` holds.
async fn count_per_bucket(
    db: &impl ConnectionTrait,
    buckets: &Buckets,
    from: &str,
    time: &str,
    scope: &(dyn Fn(&mut Sql) -> String + Sync),
) -> AppResult<Series> {
    let mut series = Series::zeros(buckets.len());
    let mut sql = Sql::new();
    let extra = scope(&mut sql);
    let query = bucketed(
        sql,
        buckets,
        db.get_database_backend(),
        "COUNT(*)",
        from,
        time,
        &extra,
    );
    fill(db, query, [&mut series]).await?;
    Ok(series)
}
