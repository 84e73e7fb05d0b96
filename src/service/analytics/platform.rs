//! The platform's statistics for admins: money (GMV, net revenue, refund rate), orders,
//! buyers, new users and creators, views, top creators and products, and sales by
//! course category, over a range and bucket by bucket.

use sea_orm::ConnectionTrait;

use super::buckets::epoch_sql;
use super::creator::LIVE_FUNNEL_WINDOW_SECS as WINDOW_SECS;
use super::{
    Buckets, ProductRevenue, Ratio, SALE, Series, Sql, count_per_bucket, fill, int, sales, sum,
    top_products,
};
use crate::auth::Actor;
use crate::error::AppResult;

/// The platform over a range.
#[derive(Debug, Clone)]
pub struct PlatformStats {
    /// The buckets every series follows.
    pub buckets: Buckets,
    /// What buyers paid (gross − discounts), when paid.
    pub gmv: Series,
    /// List prices of sales.
    pub gross_sales: Series,
    /// Taken off sales by discounts.
    pub discounts: Series,
    /// Refunded, when refunded.
    pub refunds: Series,
    /// GMV − refunds.
    pub net_revenue: Series,
    /// The platform's own revenue: fees on sales, net of refunds (from the ledger).
    pub fee_revenue: Series,
    /// Refunds ÷ GMV.
    pub refund_rate: Ratio,
    /// Sales (paid orders).
    pub sales: Series,
    /// Distinct buyers in each bucket (daily active buyers with DAY buckets).
    pub active_buyers: Series,
    /// Buyers whose first purchase on the platform was in the bucket.
    pub new_buyers: Series,
    /// Users who signed up.
    pub new_users: Series,
    /// Creator profiles opened.
    pub new_creators: Series,
    /// Product views.
    pub views: Series,
    /// Sales ÷ views.
    pub conversion: Ratio,
    /// The creators with the most net revenue from sales in the range.
    pub top_creators: Vec<CreatorRevenue>,
    /// The products with the most net revenue from sales in the range.
    pub top_products: Vec<ProductRevenue>,
    /// Course sales by category, most net revenue first.
    pub categories: Vec<CategoryRevenue>,
    /// Recommended courses shown (once per learner, course and day).
    pub recommendations_shown: Series,
    /// Of those, opened by the learner within seven days (a product view).
    pub recommendations_clicked: Series,
    /// Of those, bought by the learner within seven days.
    pub recommendations_bought: Series,
}

/// A creator's sales over the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorRevenue {
    /// The creator.
    pub creator_id: i64,
    /// Their sales paid in the range.
    pub sales: i64,
    /// What those sales brought, less what of them was refunded, in fen.
    pub net_revenue_fen: i64,
}

/// A course category's sales over the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRevenue {
    /// The category.
    pub category: String,
    /// Course sales in it paid in the range.
    pub sales: i64,
    /// What those sales brought, less what of them was refunded, in fen.
    pub net_revenue_fen: i64,
}

/// No condition: the whole platform.
fn everything(_: &mut Sql) -> String {
    String::new()
}

/// The platform's statistics (admins only).
pub async fn platform_stats(
    db: &impl ConnectionTrait,
    actor: &Actor,
    buckets: Buckets,
) -> AppResult<PlatformStats> {
    actor.require_console_admin()?;
    // Independent statements, run at once on the pool. Sales come from the daily
    // totals when the buckets are whole platform days (China's zone), else from the
    // orders themselves.
    let sold = async {
        match buckets.platform_days("day") {
            Some(days) => super::rollup::platform_sales(db, &buckets, days).await,
            None => {
                let (sales, top_creators, categories, top_products) = tokio::try_join!(
                    sales(db, &buckets, &everything),
                    top_creators(db, &buckets),
                    categories(db, &buckets),
                    top_products(db, &buckets, &everything, 10),
                )?;
                Ok(super::rollup::PlatformSales {
                    sales,
                    top_creators,
                    top_products,
                    categories,
                })
            }
        }
    };
    let (sold, views, new_users, new_creators, funnel, fee_revenue) = tokio::try_join!(
        sold,
        count_per_bucket(db, &buckets, "product_views v", "v.viewed_at", &everything),
        count_per_bucket(db, &buckets, "users u", "u.created_at", &everything),
        count_per_bucket(db, &buckets, "creators c", "c.created_at", &everything),
        recommendation_funnel(db, &buckets),
        super::fee_series(db, &buckets, None),
    )?;
    let super::rollup::PlatformSales {
        sales: sold,
        top_creators,
        top_products,
        categories,
    } = sold;
    let gmv = sold.gross.minus(&sold.discounts);
    let [shown, clicked, bought] = funnel;
    Ok(PlatformStats {
        recommendations_shown: shown,
        recommendations_clicked: clicked,
        recommendations_bought: bought,
        refund_rate: Ratio::of(&sold.refunds, &gmv),
        net_revenue: gmv.minus(&sold.refunds),
        fee_revenue,
        conversion: Ratio::of(&sold.sales, &views),
        gmv,
        gross_sales: sold.gross,
        discounts: sold.discounts,
        refunds: sold.refunds,
        sales: sold.sales,
        active_buyers: sold.unique_buyers,
        new_buyers: sold.new_buyers,
        new_users,
        new_creators,
        views,
        top_creators,
        top_products,
        categories,
        buckets,
    })
}

/// Net revenue of sales, refunded ones counting nothing.
fn net_revenue() -> String {
    sum("CASE WHEN o.status = 'REFUNDED' THEN 0 ELSE o.amount_fen END")
}

/// The ten creators with the most net revenue from sales paid in the range.
async fn top_creators(
    db: &impl ConnectionTrait,
    buckets: &Buckets,
) -> AppResult<Vec<CreatorRevenue>> {
    let mut sql = Sql::new();
    let (start, end) = super::range_binds(&mut sql, buckets);
    sql.text = format!(
        "SELECT o.seller_id, COUNT(*), {net} AS net FROM orders o \
         WHERE o.paid_at >= {start} AND o.paid_at < {end} AND {SALE} \
         GROUP BY o.seller_id ORDER BY net DESC, o.seller_id ASC LIMIT 10",
        net = net_revenue()
    );
    let mut top = Vec::new();
    for row in sql.rows(db).await? {
        top.push(CreatorRevenue {
            creator_id: int(&row, 0)?,
            sales: int(&row, 1)?,
            net_revenue_fen: int(&row, 2)?,
        });
    }
    Ok(top)
}

/// Course sales paid in the range by category, most net revenue first.
async fn categories(
    db: &impl ConnectionTrait,
    buckets: &Buckets,
) -> AppResult<Vec<CategoryRevenue>> {
    let mut sql = Sql::new();
    let (start, end) = super::range_binds(&mut sql, buckets);
    sql.text = format!(
        "SELECT c.category, COUNT(*), {net} AS net FROM orders o \
         JOIN courses c ON o.product_kind = 'COURSE' AND c.id = o.product_id \
         WHERE o.paid_at >= {start} AND o.paid_at < {end} AND {SALE} \
         GROUP BY c.category ORDER BY net DESC, c.category ASC",
        net = net_revenue()
    );
    let mut categories = Vec::new();
    for row in sql.rows(db).await? {
        categories.push(CategoryRevenue {
            category: row.try_get_by_index(0)?,
            sales: int(&row, 1)?,
            net_revenue_fen: int(&row, 2)?,
        });
    }
    Ok(categories)
}

/// The recommendation funnel per bucket of the impression: shown, then opened (a view
/// of the course by the learner), then bought, each within seven days of being shown.
async fn recommendation_funnel(
    db: &impl ConnectionTrait,
    buckets: &Buckets,
) -> AppResult<[Series; 3]> {
    let backend = db.get_database_backend();
    let shown_at = epoch_sql(backend, "i.shown_at");
    let within = |time: &str| {
        let at = epoch_sql(backend, time);
        format!("{at} >= {shown_at} AND {at} < {shown_at} + {WINDOW_SECS}")
    };
    let clicked = format!(
        "SUM(CASE WHEN EXISTS (SELECT 1 FROM product_views v WHERE v.product_kind = 'COURSE' \
         AND v.product_id = i.course_id AND v.viewer_key = 'u' || i.user_id AND {}) \
         THEN 1 ELSE 0 END)",
        within("v.viewed_at")
    );
    let bought = format!(
        "SUM(CASE WHEN EXISTS (SELECT 1 FROM orders o WHERE o.product_kind = 'COURSE' \
         AND o.product_id = i.course_id AND o.buyer_id = i.user_id AND {SALE} AND {}) \
         THEN 1 ELSE 0 END)",
        within("o.paid_at")
    );
    let mut funnel = [
        Series::zeros(buckets.len()),
        Series::zeros(buckets.len()),
        Series::zeros(buckets.len()),
    ];
    let query = super::bucketed(
        Sql::new(),
        buckets,
        backend,
        &format!("COUNT(*), {clicked}, {bought}"),
        "recommendation_impressions i",
        "i.shown_at",
        "",
    );
    let [shown, opened, paid] = &mut funnel;
    fill(db, query, [shown, opened, paid]).await?;
    Ok(funnel)
}
