//! Daily sales totals (`sales_days`, `buyer_days`, `fee_days`) for statistics over
//! long ranges. A platform day is a day of Asia/Shanghai (UTC+8 all year): its number
//! is (Unix time + 8 hours) / 86,400. The payment's transaction adds its sale, the
//! refund's takes it back, so the totals always equal the orders they sum; writers
//! that fill orders in bulk (the seeds) call [`rebuild`].

use chrono::{DateTime, Utc};
use entity::order;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use super::SALE;
use super::buckets::epoch_sql;
use crate::error::AppResult;

/// The platform day's offset from UTC, in seconds.
pub const DAY_OFFSET_SECS: i64 = 8 * 3600;

/// The platform day of an instant.
pub fn day_of(at: DateTime<Utc>) -> i64 {
    (at.timestamp() + DAY_OFFSET_SECS).div_euclid(86_400)
}

/// Runs one statement with values bound to `$1`, `$2`, … (on both databases).
async fn run(db: &impl ConnectionTrait, sql: &str, values: Vec<sea_orm::Value>) -> AppResult<()> {
    let backend = db.get_database_backend();
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

/// Adds a paid order to its day's totals, in the payment's transaction (orders paid
/// without money are not sales and add nothing).
pub async fn add_sale(db: &impl ConnectionTrait, paid: &order::Model) -> AppResult<()> {
    let Some(paid_at) = paid.paid_at.filter(|_| paid.amount_fen > 0) else {
        return Ok(());
    };
    let day = day_of(paid_at);
    let kind = sea_orm::ActiveEnum::to_value(&paid.product_kind);
    run(
        db,
        "INSERT INTO sales_days (day, product_kind, product_id, seller_id, sales, gross_fen, \
         discount_fen, kept_fen) VALUES ($1, $2, $3, $4, 1, $5, $6, $7) \
         ON CONFLICT (day, product_kind, product_id) DO UPDATE SET \
         sales = sales_days.sales + 1, gross_fen = sales_days.gross_fen + excluded.gross_fen, \
         discount_fen = sales_days.discount_fen + excluded.discount_fen, \
         kept_fen = sales_days.kept_fen + excluded.kept_fen",
        vec![
            day.into(),
            kind.into(),
            paid.product_id.into(),
            paid.seller_id.into(),
            paid.list_price_fen.into(),
            (paid.list_price_fen - paid.amount_fen).into(),
            paid.amount_fen.into(),
        ],
    )
    .await?;
    run(
        db,
        "INSERT INTO buyer_days (day, buyer_id) VALUES ($1, $2) \
         ON CONFLICT (day, buyer_id) DO NOTHING",
        vec![day.into(), paid.buyer_id.into()],
    )
    .await
}

/// Takes a refunded sale's amount off what its day kept, in the refund's transaction
/// (the sale, its buyer and its list price stay: a refunded sale is still a sale).
pub async fn take_back(db: &impl ConnectionTrait, refunded: &order::Model) -> AppResult<()> {
    let Some(paid_at) = refunded.paid_at.filter(|_| refunded.amount_fen > 0) else {
        return Ok(());
    };
    let kind = sea_orm::ActiveEnum::to_value(&refunded.product_kind);
    run(
        db,
        "UPDATE sales_days SET kept_fen = kept_fen - $1 \
         WHERE day = $2 AND product_kind = $3 AND product_id = $4",
        vec![
            refunded.amount_fen.into(),
            day_of(paid_at).into(),
            kind.into(),
            refunded.product_id.into(),
        ],
    )
    .await
}

/// Adds a change of the platform's fees on a seller's sales to the day it is booked,
/// in the ledger's transaction: a sale's fee, or (negative) what a refund gave back.
pub async fn add_fee(
    db: &impl ConnectionTrait,
    seller_id: i64,
    fee_fen: i64,
    booked_at: DateTime<Utc>,
) -> AppResult<()> {
    if fee_fen == 0 {
        return Ok(());
    }
    run(
        db,
        "INSERT INTO fee_days (day, seller_id, fee_fen) VALUES ($1, $2, $3) \
         ON CONFLICT (day, seller_id) DO UPDATE SET fee_fen = fee_days.fee_fen + excluded.fee_fen",
        vec![day_of(booked_at).into(), seller_id.into(), fee_fen.into()],
    )
    .await
}

/// Recomputes the tables from the orders and the ledger, in the caller's transaction:
/// for writers that fill orders in bulk.
pub async fn rebuild(db: &impl ConnectionTrait) -> AppResult<()> {
    let backend: DbBackend = db.get_database_backend();
    let day_sql = |column: &str| {
        let epoch = epoch_sql(backend, column);
        format!("(({epoch}) + {DAY_OFFSET_SECS}) / 86400")
    };
    let (day, booked) = (day_sql("o.paid_at"), day_sql("e.created_at"));
    for sql in [
        "DELETE FROM sales_days".to_owned(),
        "DELETE FROM buyer_days".to_owned(),
        "DELETE FROM fee_days".to_owned(),
        format!(
            "INSERT INTO fee_days (day, seller_id, fee_fen) \
             SELECT {booked}, o.seller_id, SUM(-e.amount_fen) FROM ledger_entries e \
             JOIN ledger_accounts a ON a.id = e.account_id \
             JOIN ledger_journals j ON j.id = e.journal_id JOIN orders o ON o.id = j.order_id \
             WHERE a.kind = 'PLATFORM_FEES' GROUP BY {booked}, o.seller_id"
        ),
        format!(
            "INSERT INTO sales_days (day, product_kind, product_id, seller_id, sales, gross_fen, \
             discount_fen, kept_fen) \
             SELECT {day}, o.product_kind, o.product_id, MIN(o.seller_id), COUNT(*), \
             SUM(o.list_price_fen), SUM(o.list_price_fen - o.amount_fen), \
             SUM(CASE WHEN o.status = 'REFUNDED' THEN 0 ELSE o.amount_fen END) \
             FROM orders o WHERE {SALE} GROUP BY {day}, o.product_kind, o.product_id"
        ),
        format!(
            "INSERT INTO buyer_days (day, buyer_id) \
             SELECT DISTINCT {day}, o.buyer_id FROM orders o WHERE {SALE}"
        ),
    ] {
        db.execute_raw(Statement::from_string(backend, sql)).await?;
    }
    Ok(())
}

/// The platform's fees per bucket over platform days `start..end` (`index` as in
/// [`platform_sales`]), on one seller's sales or everyone's.
pub(super) async fn fees(
    db: &impl ConnectionTrait,
    buckets: &super::Buckets,
    (start, end, index): (i64, i64, String),
    seller: Option<i64>,
) -> AppResult<super::Series> {
    let mut series = super::Series::zeros(buckets.len());
    let mut sql = super::Sql::new();
    let scope = match seller {
        Some(id) => format!(" AND seller_id = {}", sql.bind(id)),
        None => String::new(),
    };
    sql.text = format!(
        "SELECT {index} AS b, {} FROM fee_days WHERE day >= {start} AND day < {end}{scope} \
         GROUP BY b",
        super::sum("fee_fen")
    );
    super::fill(db, sql, [&mut series]).await?;
    Ok(series)
}

/// The platform's sales figures and top lists over a range, from the daily totals.
pub(super) struct PlatformSales {
    pub(super) sales: super::Sales,
    pub(super) top_creators: Vec<super::platform::CreatorRevenue>,
    pub(super) top_products: Vec<super::ProductRevenue>,
    pub(super) categories: Vec<super::platform::CategoryRevenue>,
}

/// The platform's sales over platform days `start..end`, with `index` the SQL of a
/// row's bucket from its `day` column (see `Buckets::platform_days`). Refunds, counted
/// when refunded, still come from the orders (few, and indexed by refund time).
pub(super) async fn platform_sales(
    db: &impl ConnectionTrait,
    buckets: &super::Buckets,
    (start, end, index): (i64, i64, String),
) -> AppResult<PlatformSales> {
    use super::{Series, Sql, fill_from, int, sum};
    let n = buckets.len();
    let range = format!("day >= {start} AND day < {end}");
    let text = |sql: String| Sql {
        text: sql,
        values: Vec::new(),
    };
    let per_bucket = text(format!(
        "SELECT {index} AS b, {}, {}, {} FROM sales_days WHERE {range} GROUP BY b",
        sum("sales"),
        sum("gross_fen"),
        sum("discount_fen")
    ));
    let active = text(format!(
        "SELECT b, COUNT(*) FROM (SELECT DISTINCT {index} AS b, buyer_id FROM buyer_days \
         WHERE {range}) p GROUP BY b"
    ));
    let distinct = text(format!(
        "SELECT COUNT(DISTINCT buyer_id) FROM buyer_days WHERE {range}"
    ));
    // New buyers: their first day in the range is their first day ever.
    let new = text(format!(
        "SELECT f.b, COUNT(*) FROM (SELECT buyer_id, MIN({index}) AS b FROM buyer_days \
         WHERE {range} GROUP BY buyer_id) f WHERE NOT EXISTS (SELECT 1 FROM buyer_days e \
         WHERE e.buyer_id = f.buyer_id AND e.day < {start}) GROUP BY f.b"
    ));
    let products = text(format!(
        "SELECT product_kind, product_id, MIN(seller_id), {}, {} FROM sales_days \
         WHERE {range} GROUP BY product_kind, product_id",
        sum("sales"),
        sum("kept_fen")
    ));
    let refunded = super::bucketed(
        Sql::new(),
        buckets,
        db.get_database_backend(),
        &sum("o.amount_fen"),
        "orders o",
        "o.refunded_at",
        " AND o.status = 'REFUNDED'",
    );
    let (per_bucket, active, distinct, new, products, refunded) = tokio::try_join!(
        per_bucket.rows(db),
        active.rows(db),
        distinct.rows(db),
        new.rows(db),
        products.rows(db),
        refunded.rows(db),
    )?;
    let (mut sales, mut gross, mut discounts) =
        (Series::zeros(n), Series::zeros(n), Series::zeros(n));
    fill_from(per_bucket, [&mut sales, &mut gross, &mut discounts])?;
    let mut unique_buyers = Series::zeros(n);
    fill_from(active, [&mut unique_buyers])?;
    unique_buyers.total = match distinct.first() {
        Some(row) => int(row, 0)?,
        None => 0,
    };
    let mut new_buyers = Series::zeros(n);
    fill_from(new, [&mut new_buyers])?;
    let mut refunds = Series::zeros(n);
    fill_from(refunded, [&mut refunds])?;
    let returning_buyers = unique_buyers.minus(&new_buyers);
    let net_revenue = gross.minus(&discounts).minus(&refunds);
    let (top_creators, top_products, categories) = rank(db, products).await?;
    Ok(PlatformSales {
        sales: super::Sales {
            gross,
            discounts,
            refunds,
            net_revenue,
            sales,
            unique_buyers,
            new_buyers,
            returning_buyers,
        },
        top_creators,
        top_products,
        categories,
    })
}

/// The top creators and products, and course sales by category, from per-product rows
/// of (kind, id, seller, sales, kept), ordered as the order-based queries order them.
async fn rank(
    db: &impl ConnectionTrait,
    rows: Vec<sea_orm::QueryResult>,
) -> AppResult<(
    Vec<super::platform::CreatorRevenue>,
    Vec<super::ProductRevenue>,
    Vec<super::platform::CategoryRevenue>,
)> {
    use super::platform::{CategoryRevenue, CreatorRevenue};
    use entity::enums::ProductKind;
    use sea_orm::{ActiveEnum, ColumnTrait, EntityTrait, QueryFilter};
    use std::collections::HashMap;
    let mut products = Vec::with_capacity(rows.len());
    let mut creators: HashMap<i64, (i64, i64)> = HashMap::new();
    for row in rows {
        let kind: String = row.try_get_by_index(0)?;
        let Ok(kind) = ProductKind::try_from_value(&kind) else {
            continue;
        };
        let (product_id, seller, sales, kept) = (
            super::int(&row, 1)?,
            super::int(&row, 2)?,
            super::int(&row, 3)?,
            super::int(&row, 4)?,
        );
        let creator = creators.entry(seller).or_default();
        creator.0 += sales;
        creator.1 += kept;
        products.push(super::ProductRevenue {
            kind,
            product_id,
            sales,
            net_revenue_fen: kept,
        });
    }
    // Course sales by category (categories are read now: a course may change one).
    let course_ids: Vec<i64> = products
        .iter()
        .filter(|p| p.kind == ProductKind::Course)
        .map(|p| p.product_id)
        .collect();
    let category_of: HashMap<i64, String> = entity::course::Entity::find()
        .filter(entity::course::Column::Id.is_in(course_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.category))
        .collect();
    let mut by_category: HashMap<String, (i64, i64)> = HashMap::new();
    for product in products.iter().filter(|p| p.kind == ProductKind::Course) {
        if let Some(category) = category_of.get(&product.product_id) {
            let entry = by_category.entry(category.clone()).or_default();
            entry.0 += product.sales;
            entry.1 += product.net_revenue_fen;
        }
    }
    let mut categories: Vec<CategoryRevenue> = by_category
        .into_iter()
        .map(|(category, (sales, net))| CategoryRevenue {
            category,
            sales,
            net_revenue_fen: net,
        })
        .collect();
    categories.sort_by(|a, b| {
        b.net_revenue_fen
            .cmp(&a.net_revenue_fen)
            .then_with(|| a.category.cmp(&b.category))
    });
    let mut top_creators: Vec<CreatorRevenue> = creators
        .into_iter()
        .map(|(creator_id, (sales, net))| CreatorRevenue {
            creator_id,
            sales,
            net_revenue_fen: net,
        })
        .collect();
    top_creators.sort_by(|a, b| {
        b.net_revenue_fen
            .cmp(&a.net_revenue_fen)
            .then(a.creator_id.cmp(&b.creator_id))
    });
    top_creators.truncate(10);
    products.sort_by(|a, b| {
        b.net_revenue_fen
            .cmp(&a.net_revenue_fen)
            .then(a.product_id.cmp(&b.product_id))
    });
    products.truncate(10);
    Ok((top_creators, products, categories))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn platform_days_turn_at_shanghai_midnight() {
        let at = |h, m| {
            Utc.with_ymd_and_hms(2026, 3, 1, h, m, 0)
                .single()
                .unwrap_or_default()
        };
        // 15:59 UTC is 23:59 in Shanghai; 16:00 UTC is the next day there.
        assert_eq!(day_of(at(16, 0)), day_of(at(15, 59)) + 1);
        assert_eq!(day_of(at(0, 0)), day_of(at(15, 59)));
    }
}
