//! The creator dashboard: a creator's sales, buyers, views, ratings, followers, group
//! members and live rooms over a range, bucket by bucket, and the live funnel (each
//! livestream's viewers, and who of them bought anything of the creator's within seven
//! days of entering the room).

use sea_orm::ConnectionTrait;

use super::buckets::epoch_sql;
use super::{
    Buckets, ProductRevenue, Ratio, SALE, Series, Sql, count_per_bucket, fill, int, sales, sum,
    top_products,
};
use crate::auth::Actor;
use crate::error::{AppError, AppResult};

/// How long after entering a live room a purchase still counts for it (seven days).
pub const LIVE_FUNNEL_WINDOW_SECS: i64 = 7 * 24 * 3600;

/// A creator's figures over a range.
#[derive(Debug, Clone)]
pub struct CreatorDashboard {
    /// The creator.
    pub creator_id: i64,
    /// The buckets every series follows.
    pub buckets: Buckets,
    /// List prices of sales.
    pub gross_sales: Series,
    /// Taken off sales by discounts.
    pub discounts: Series,
    /// Refunded, when refunded.
    pub refunds: Series,
    /// Gross − discounts − refunds.
    pub net_revenue: Series,
    /// The platform's fees on their sales, net of refunds (from the ledger).
    pub fees: Series,
    /// Paid out to them (transfers and profit sharing, net of failed ones).
    pub payouts: Series,
    /// Sales (paid orders).
    pub sales: Series,
    /// Distinct buyers.
    pub unique_buyers: Series,
    /// Buyers whose first purchase from this creator was in the bucket.
    pub new_buyers: Series,
    /// The other buyers.
    pub returning_buyers: Series,
    /// Product views (once per viewer, product and day).
    pub views: Series,
    /// Sales ÷ views.
    pub conversion: Ratio,
    /// Ratings written of their courses (hidden ones left out).
    pub ratings: Series,
    /// Their average stars.
    pub average_rating: Ratio,
    /// New followers.
    pub new_followers: Series,
    /// New members of their groups.
    pub new_group_members: Series,
    /// Viewers entering their live rooms (once per viewer and livestream).
    pub livestream_attendance: Series,
    /// Each livestream that went live in the range.
    pub live_funnel: Vec<LiveFunnelRow>,
    /// Their products with the most net revenue.
    pub top_products: Vec<ProductRevenue>,
}

/// One livestream in the live funnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveFunnelRow {
    /// The livestream.
    pub livestream_id: i64,
    /// Most viewers at once.
    pub peak_viewers: i64,
    /// Distinct viewers who entered the room.
    pub viewers: i64,
    /// Of them, those who bought anything of the creator's within seven days of entering.
    pub buyers: i64,
    /// What those purchases paid, in fen.
    pub revenue_fen: i64,
}

/// Which creator's dashboard: the one named (the creator themself or an admin), else
/// the viewer's own creator profile.
pub fn dashboard_owner(actor: &Actor, creator_id: Option<i64>) -> AppResult<i64> {
    actor.require_user()?;
    match creator_id.or(actor.creator_id()) {
        Some(id) if actor.is_admin() || actor.creator_id() == Some(id) => Ok(id),
        Some(_) => Err(AppError::Forbidden(
            "only the creator and admins see a creator's dashboard",
        )),
        None => Err(AppError::Forbidden("the dashboard is for creators")),
    }
}

/// `AND <column> = $n`, binding the creator.
fn of_creator(column: &'static str, creator_id: i64) -> impl Fn(&mut Sql) -> String {
    move |sql: &mut Sql| format!(" AND {column} = {}", sql.bind(creator_id))
}

/// The dashboard of `creator_id` (already authorised by [`dashboard_owner`]).
pub async fn creator_dashboard(
    db: &impl ConnectionTrait,
    creator_id: i64,
    buckets: Buckets,
) -> AppResult<CreatorDashboard> {
    let (seller, viewed, rated_course, followed, group_owner, host) = (
        of_creator("o.seller_id", creator_id),
        of_creator("v.seller_id", creator_id),
        of_creator("c.creator_id", creator_id),
        of_creator("f.creator_id", creator_id),
        of_creator("g.creator_id", creator_id),
        of_creator("l.creator_id", creator_id),
    );
    // Independent statements, run at once on the pool.
    let (
        sold,
        views,
        (ratings, stars),
        new_followers,
        new_group_members,
        livestream_attendance,
        live_funnel,
        top_products,
        fees,
        payouts,
    ) = tokio::try_join!(
        sales(db, &buckets, &seller),
        count_per_bucket(db, &buckets, "product_views v", "v.viewed_at", &viewed),
        ratings(db, &buckets, &rated_course),
        count_per_bucket(db, &buckets, "follows f", "f.created_at", &followed),
        count_per_bucket(
            db,
            &buckets,
            "group_memberships m JOIN community_groups g ON g.id = m.group_id",
            "m.joined_at",
            &group_owner,
        ),
        count_per_bucket(
            db,
            &buckets,
            "livestream_attendances a JOIN livestreams l ON l.id = a.livestream_id \
             JOIN creators c ON c.id = l.creator_id AND a.user_id <> c.user_id",
            "a.first_seen_at",
            &host,
        ),
        live_funnel(db, &buckets, creator_id),
        top_products(db, &buckets, &seller, 10),
        super::fee_series(db, &buckets, Some(creator_id)),
        payouts(db, &buckets, creator_id),
    )?;
    Ok(CreatorDashboard {
        creator_id,
        conversion: Ratio::of(&sold.sales, &views),
        average_rating: Ratio::of(&stars, &ratings),
        gross_sales: sold.gross,
        discounts: sold.discounts,
        refunds: sold.refunds,
        net_revenue: sold.net_revenue,
        fees,
        payouts,
        sales: sold.sales,
        unique_buyers: sold.unique_buyers,
        new_buyers: sold.new_buyers,
        returning_buyers: sold.returning_buyers,
        views,
        ratings,
        new_followers,
        new_group_members,
        livestream_attendance,
        live_funnel,
        top_products,
        buckets,
    })
}

/// What was paid out to the creator per bucket (PAYOUT journals less PAYOUT_RETURN).
async fn payouts(
    db: &impl ConnectionTrait,
    buckets: &Buckets,
    creator_id: i64,
) -> AppResult<Series> {
    let mut series = Series::zeros(buckets.len());
    let mut sql = Sql::new();
    let extra = format!(
        " AND a.kind = 'CREATOR' AND a.owner_id = {} AND j.kind IN ('PAYOUT', 'PAYOUT_RETURN')",
        sql.bind(creator_id)
    );
    // A payout debits the creator's account (positive), a return credits it back.
    let query = super::bucketed(
        sql,
        buckets,
        db.get_database_backend(),
        &sum("e.amount_fen"),
        "ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id \
         JOIN ledger_journals j ON j.id = e.journal_id",
        "e.created_at",
        &extra,
    );
    fill(db, query, [&mut series]).await?;
    Ok(series)
}

/// Ratings (visible ones) of the creator's courses and their stars, per bucket.
async fn ratings(
    db: &impl ConnectionTrait,
    buckets: &Buckets,
    rated_course: &(dyn Fn(&mut Sql) -> String + Sync),
) -> AppResult<(Series, Series)> {
    let (mut ratings, mut stars) = (Series::zeros(buckets.len()), Series::zeros(buckets.len()));
    let mut sql = Sql::new();
    let extra = format!(" AND r.hidden_at IS NULL{}", rated_course(&mut sql));
    let query = super::bucketed(
        sql,
        buckets,
        db.get_database_backend(),
        &format!("COUNT(*), {}", sum("r.stars")),
        "ratings r JOIN courses c ON c.id = r.course_id",
        "r.created_at",
        &extra,
    );
    fill(db, query, [&mut ratings, &mut stars]).await?;
    Ok((ratings, stars))
}

/// The creator's livestreams that went live in the range, in the order they did, each
/// with its viewers and the buyers among them (one query: livestreams, their
/// attendances, and each attendee's purchases from the creator within the window).
async fn live_funnel(
    db: &impl ConnectionTrait,
    buckets: &Buckets,
    creator_id: i64,
) -> AppResult<Vec<LiveFunnelRow>> {
    let backend = db.get_database_backend();
    let paid = epoch_sql(backend, "o.paid_at");
    let entered = epoch_sql(backend, "a.first_seen_at");
    let mut sql = Sql::new();
    let creator = sql.bind(creator_id);
    let (start, end) = super::range_binds(&mut sql, buckets);
    sql.text = format!(
        "SELECT l.id, CAST(l.peak_viewers AS BIGINT), COUNT(DISTINCT a.user_id), COUNT(DISTINCT o.buyer_id), {revenue} \
         FROM livestreams l JOIN creators c ON c.id = l.creator_id \
         LEFT JOIN livestream_attendances a ON a.livestream_id = l.id AND a.user_id <> c.user_id \
         LEFT JOIN orders o ON o.buyer_id = a.user_id AND o.seller_id = l.creator_id AND {SALE} \
           AND {paid} >= {entered} AND {paid} < {entered} + {LIVE_FUNNEL_WINDOW_SECS} \
         WHERE l.creator_id = {creator} AND l.started_at >= {start} AND l.started_at < {end} \
         GROUP BY l.id, l.peak_viewers, l.started_at ORDER BY l.started_at, l.id",
        revenue = sum("o.amount_fen"),
    );
    let mut rows = Vec::new();
    for row in sql.rows(db).await? {
        rows.push(LiveFunnelRow {
            livestream_id: int(&row, 0)?,
            peak_viewers: int(&row, 1)?,
            viewers: int(&row, 2)?,
            buyers: int(&row, 3)?,
            revenue_fen: int(&row, 4)?,
        });
    }
    Ok(rows)
}
