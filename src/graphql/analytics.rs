//! Analytics on the API: `creatorDashboard`, `platformStats`, and `recordView`. Every
//! figure is a total plus one point per time bucket (zeros, not gaps), bucketed in
//! the requested time zone; the definitions are in `service::analytics`.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::error::AppError;
use crate::graphql::context::ContextExt;
use crate::graphql::ids::{self, type_name};
use crate::graphql::loaders::{CreatorById, LivestreamById};
use crate::graphql::money::Money;
use crate::graphql::objects::{Creator, Livestream};
use crate::graphql::order::{Product, load_product, product_of};
use crate::graphql::payload::{input_ids, payload};
use crate::graphql::series::{
    CountFigure, DEFAULT_TIME_ZONE, DateRangeInput, Granularity, MoneyFigure, RatioFigure,
    TimeBucket, buckets_of, count, money, ratio,
};
use crate::service::analytics as figures;
use crate::service::analytics::creator::{self as dashboard, LiveFunnelRow};
use crate::service::analytics::platform::{self, CategoryRevenue, CreatorRevenue};
use crate::service::views::{self, ViewCounter};

/// A product's sales over the range.
pub struct ProductRevenue(figures::ProductRevenue);

/// A product's sales over the range.
#[Object]
impl ProductRevenue {
    /// The product; null when the viewer may no longer see it.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        load_product(ctx, self.0.kind, self.0.product_id).await
    }
    /// Its sales paid in the range.
    async fn sales(&self) -> i64 {
        self.0.sales
    }
    /// What those sales paid, less what of them was refunded.
    async fn net_revenue(&self) -> Money {
        Money::cny(self.0.net_revenue_fen)
    }
}

/// One livestream of the live funnel: its viewers and who of them bought.
pub struct LiveFunnelEntry(LiveFunnelRow);

/// One livestream of the live funnel: its viewers, and who of them bought anything of
/// the creator's within seven days of entering the room.
#[Object]
impl LiveFunnelEntry {
    /// The livestream.
    async fn livestream(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Livestream>> {
        Ok(ctx
            .loader()?
            .load_one(LivestreamById(self.0.livestream_id))
            .await?
            .map(Livestream))
    }
    /// Most viewers at once.
    async fn peak_viewers(&self) -> i64 {
        self.0.peak_viewers
    }
    /// Distinct viewers who entered the room (the creator left out).
    async fn viewers(&self) -> i64 {
        self.0.viewers
    }
    /// Viewers who bought anything of the creator's within seven days of entering.
    async fn buyers(&self) -> i64 {
        self.0.buyers
    }
    /// Buyers ÷ viewers; null without viewers.
    async fn conversion(&self) -> Option<f64> {
        (self.0.viewers > 0).then(|| self.0.buyers as f64 / self.0.viewers as f64)
    }
    /// What those purchases paid.
    async fn revenue(&self) -> Money {
        Money::cny(self.0.revenue_fen)
    }
}

/// A creator's figures over a range, bucket by bucket.
pub struct CreatorDashboard {
    row: dashboard::CreatorDashboard,
    time_zone: String,
}

/// A creator's figures over a range: totals and one point per bucket.
#[Object]
impl CreatorDashboard {
    /// The creator.
    async fn creator(&self, ctx: &Context<'_>) -> async_graphql::Result<Creator> {
        ctx.loader()?
            .load_one(CreatorById(self.row.creator_id))
            .await?
            .map(Creator)
            .ok_or_else(|| AppError::NotFound("creator").into())
    }
    /// The time zone the buckets follow.
    async fn time_zone(&self) -> &str {
        &self.time_zone
    }
    /// The buckets, in order; every series has one point for each.
    async fn buckets(&self) -> Vec<TimeBucket> {
        self.row.buckets.buckets.iter().map(Into::into).collect()
    }
    /// List prices of sales (orders paid with money), when paid.
    async fn gross_sales(&self) -> MoneyFigure {
        money(&self.row.buckets, &self.row.gross_sales)
    }
    /// Taken off those sales by sales, coupons, credits and renewal prices.
    async fn discounts(&self) -> MoneyFigure {
        money(&self.row.buckets, &self.row.discounts)
    }
    /// Refunded, when refunded.
    async fn refunds(&self) -> MoneyFigure {
        money(&self.row.buckets, &self.row.refunds)
    }
    /// Gross sales − discounts − refunds.
    async fn net_revenue(&self) -> MoneyFigure {
        money(&self.row.buckets, &self.row.net_revenue)
    }
    /// The platform's fees on their sales, net of refunds, when booked (the ledger).
    async fn fees(&self) -> MoneyFigure {
        money(&self.row.buckets, &self.row.fees)
    }
    /// Paid out to them, by transfer or profit sharing, net of failed payouts.
    async fn payouts(&self) -> MoneyFigure {
        money(&self.row.buckets, &self.row.payouts)
    }
    /// Sales: orders paid with money.
    async fn paid_orders(&self) -> CountFigure {
        count(&self.row.buckets, &self.row.sales)
    }
    /// Distinct buyers.
    async fn unique_buyers(&self) -> CountFigure {
        count(&self.row.buckets, &self.row.unique_buyers)
    }
    /// Buyers whose first purchase from this creator was in the bucket.
    async fn new_buyers(&self) -> CountFigure {
        count(&self.row.buckets, &self.row.new_buyers)
    }
    /// Buyers who had bought from this creator before the bucket.
    async fn returning_buyers(&self) -> CountFigure {
        count(&self.row.buckets, &self.row.returning_buyers)
    }
    /// Product views, once per viewer, product and day.
    async fn views(&self) -> CountFigure {
        count(&self.row.buckets, &self.row.views)
    }
    /// Paid orders ÷ views.
    async fn conversion(&self) -> RatioFigure {
        ratio(&self.row.buckets, &self.row.conversion)
    }
    /// Ratings written of their courses (hidden ones left out).
    async fn ratings(&self) -> CountFigure {
        count(&self.row.buckets, &self.row.ratings)
    }
    /// The average stars of those ratings: over the range, and per bucket (the trend).
    async fn average_rating(&self) -> RatioFigure {
        ratio(&self.row.buckets, &self.row.average_rating)
    }
    /// New followers.
    async fn new_followers(&self) -> CountFigure {
        count(&self.row.buckets, &self.row.new_followers)
    }
    /// New members of their groups.
    async fn new_group_members(&self) -> CountFigure {
        count(&self.row.buckets, &self.row.new_group_members)
    }
    /// Viewers entering their live rooms, once per viewer and livestream.
    async fn livestream_attendance(&self) -> CountFigure {
        count(&self.row.buckets, &self.row.livestream_attendance)
    }
    /// Each livestream that went live in the range, in order: viewers → buyers.
    async fn live_funnel(&self) -> Vec<LiveFunnelEntry> {
        self.row
            .live_funnel
            .iter()
            .cloned()
            .map(LiveFunnelEntry)
            .collect()
    }
    /// Their ten products with the most net revenue from sales in the range.
    async fn top_products(&self) -> Vec<ProductRevenue> {
        self.row
            .top_products
            .iter()
            .cloned()
            .map(ProductRevenue)
            .collect()
    }
}

/// A creator's sales over the range.
pub struct CreatorSales(CreatorRevenue);

/// A creator's sales over the range.
#[Object]
impl CreatorSales {
    /// The creator.
    async fn creator(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Creator>> {
        Ok(ctx
            .loader()?
            .load_one(CreatorById(self.0.creator_id))
            .await?
            .map(Creator))
    }
    /// Their sales paid in the range.
    async fn sales(&self) -> i64 {
        self.0.sales
    }
    /// What those sales paid, less what of them was refunded.
    async fn net_revenue(&self) -> Money {
        Money::cny(self.0.net_revenue_fen)
    }
}

/// A course category's sales over the range.
#[derive(SimpleObject)]
pub struct CategorySales {
    /// The category.
    pub category: String,
    /// Course sales in it paid in the range.
    pub sales: i64,
    /// What those sales paid, less what of them was refunded.
    pub net_revenue: Money,
}

impl From<&CategoryRevenue> for CategorySales {
    fn from(row: &CategoryRevenue) -> Self {
        CategorySales {
            category: row.category.clone(),
            sales: row.sales,
            net_revenue: Money::cny(row.net_revenue_fen),
        }
    }
}

/// The platform's figures over a range (admins).
pub struct PlatformStats {
    row: platform::PlatformStats,
    time_zone: String,
}

/// The platform's figures over a range: totals and one point per bucket.
#[Object]
impl PlatformStats {
    /// The time zone the buckets follow.
    async fn time_zone(&self) -> &str {
        &self.time_zone
    }
    /// The buckets, in order; every series has one point for each.
    async fn buckets(&self) -> Vec<TimeBucket> {
        self.row.buckets.buckets.iter().map(Into::into).collect()
    }
    /// Gross merchandise value: what buyers paid, when paid.
    async fn gmv(&self) -> MoneyFigure {
        money(&self.row.buckets, &self.row.gmv)
    }
    /// List prices of sales.
    async fn gross_sales(&self) -> MoneyFigure {
        money(&self.row.buckets, &self.row.gross_sales)
    }
    /// Taken off sales by discounts.
    async fn discounts(&self) -> MoneyFigure {
        money(&self.row.buckets, &self.row.discounts)
    }
    /// Refunded, when refunded.
    async fn refunds(&self) -> MoneyFigure {
        money(&self.row.buckets, &self.row.refunds)
    }
    /// GMV − refunds.
    async fn net_revenue(&self) -> MoneyFigure {
        money(&self.row.buckets, &self.row.net_revenue)
    }
    /// The platform's own revenue: fees on sales, net of refunds (the ledger).
    async fn fee_revenue(&self) -> MoneyFigure {
        money(&self.row.buckets, &self.row.fee_revenue)
    }
    /// Refunds ÷ GMV.
    async fn refund_rate(&self) -> RatioFigure {
        ratio(&self.row.buckets, &self.row.refund_rate)
    }
    /// Sales: orders paid with money.
    async fn paid_orders(&self) -> CountFigure {
        count(&self.row.buckets, &self.row.sales)
    }
    /// Distinct buyers per bucket (daily active buyers with DAY buckets).
    async fn active_buyers(&self) -> CountFigure {
        count(&self.row.buckets, &self.row.active_buyers)
    }
    /// Buyers whose first purchase on the platform was in the bucket.
    async fn new_buyers(&self) -> CountFigure {
        count(&self.row.buckets, &self.row.new_buyers)
    }
    /// Users who signed up.
    async fn new_users(&self) -> CountFigure {
        count(&self.row.buckets, &self.row.new_users)
    }
    /// Creator profiles opened.
    async fn new_creators(&self) -> CountFigure {
        count(&self.row.buckets, &self.row.new_creators)
    }
    /// Product views.
    async fn views(&self) -> CountFigure {
        count(&self.row.buckets, &self.row.views)
    }
    /// Paid orders ÷ views.
    async fn conversion(&self) -> RatioFigure {
        ratio(&self.row.buckets, &self.row.conversion)
    }
    /// The ten creators with the most net revenue from sales in the range.
    async fn top_creators(&self) -> Vec<CreatorSales> {
        self.row
            .top_creators
            .iter()
            .cloned()
            .map(CreatorSales)
            .collect()
    }
    /// The ten products with the most net revenue from sales in the range.
    async fn top_products(&self) -> Vec<ProductRevenue> {
        self.row
            .top_products
            .iter()
            .cloned()
            .map(ProductRevenue)
            .collect()
    }
    /// Course sales by category, most net revenue first.
    async fn categories(&self) -> Vec<CategorySales> {
        self.row.categories.iter().map(Into::into).collect()
    }
    /// The recommendation funnel: recommended courses shown (reported by the feed with
    /// `recordRecommendationImpressions`), opened and bought within seven days.
    async fn recommendation_funnel(&self) -> RecommendationFunnel {
        let buckets = &self.row.buckets;
        RecommendationFunnel {
            shown: count(buckets, &self.row.recommendations_shown),
            clicked: count(buckets, &self.row.recommendations_clicked),
            bought: count(buckets, &self.row.recommendations_bought),
        }
    }
}

/// Recommended courses shown, then opened, then bought, by the bucket they were shown in.
#[derive(SimpleObject)]
pub struct RecommendationFunnel {
    /// Shown (once per learner, course and day).
    pub shown: CountFigure,
    /// Of those, opened by the learner within seven days.
    pub clicked: CountFigure,
    /// Of those, bought by the learner within seven days.
    pub bought: CountFigure,
}

/// Analytics queries.
#[derive(Default)]
pub struct AnalyticsQuery;

/// Analytics queries.
#[Object]
impl AnalyticsQuery {
    /// A creator's dashboard over whole days `range` in `timeZone`: the viewer's own
    /// creator profile, or (admins) the `creator` named.
    async fn creator_dashboard(
        &self,
        ctx: &Context<'_>,
        creator: Option<ID>,
        range: DateRangeInput,
        granularity: Granularity,
        #[graphql(default_with = "Some(DEFAULT_TIME_ZONE.to_owned())")] time_zone: Option<String>,
    ) -> async_graphql::Result<CreatorDashboard> {
        let named = creator
            .as_ref()
            .map(|id| ids::decode(id, type_name::CREATOR))
            .transpose()?;
        let creator_id = dashboard::dashboard_owner(ctx.actor()?, named)?;
        let time_zone = time_zone.unwrap_or_else(|| DEFAULT_TIME_ZONE.to_owned());
        let buckets = buckets_of(&range, granularity, &time_zone)?;
        let row = dashboard::creator_dashboard(ctx.db()?, creator_id, buckets).await?;
        Ok(CreatorDashboard { row, time_zone })
    }

    /// The platform's statistics over whole days `range` in `timeZone` (admins).
    async fn platform_stats(
        &self,
        ctx: &Context<'_>,
        range: DateRangeInput,
        granularity: Granularity,
        #[graphql(default_with = "Some(DEFAULT_TIME_ZONE.to_owned())")] time_zone: Option<String>,
    ) -> async_graphql::Result<PlatformStats> {
        let time_zone = time_zone.unwrap_or_else(|| DEFAULT_TIME_ZONE.to_owned());
        let buckets = buckets_of(&range, granularity, &time_zone)?;
        let row = platform::platform_stats(ctx.db()?, ctx.actor()?, buckets).await?;
        Ok(PlatformStats { row, time_zone })
    }
}

/// Input of `recordView`.
#[derive(InputObject)]
pub struct RecordViewInput {
    /// The product viewed (Course, Livestream, CommunityGroup, Bundle or MembershipPlan).
    pub product: ID,
    /// The id the client keeps for its device; needed when nobody is signed in.
    pub device_id: Option<String>,
}

payload!(
    /// Result of `recordView`.
    RecordViewPayload, counted: bool
);

/// Input of `recordRecommendationImpressions`.
#[derive(InputObject)]
pub struct RecordRecommendationImpressionsInput {
    /// The recommended courses the feed showed (1 to 100).
    pub courses: Vec<ID>,
}

payload!(
    /// Result of `recordRecommendationImpressions`: how many courses were counted.
    RecordRecommendationImpressionsPayload, counted: i32
);

/// Analytics mutations.
#[derive(Default)]
pub struct AnalyticsMutation;

/// Analytics mutations.
#[Object]
impl AnalyticsMutation {
    /// Counts a view of a product page: once per viewer (the signed-in user, else the
    /// device), product and day (Asia/Shanghai). `counted` is false for a product not on
    /// sale. Views are buffered and written within `ZHIKU_VIEW_FLUSH_MS`.
    async fn record_view(
        &self,
        ctx: &Context<'_>,
        input: RecordViewInput,
    ) -> async_graphql::Result<RecordViewPayload> {
        let result = async {
            let (kind, id) = product_of(&input.product)?;
            let counter = ctx.data::<ViewCounter>().map_err(|_| {
                AppError::internal(std::io::Error::other("the view counter is missing"))
            })?;
            views::record_view(
                ctx.db()?,
                counter,
                ctx.actor()?,
                kind,
                id,
                input.device_id.as_deref(),
            )
            .await
        }
        .await;
        RecordViewPayload::from_result(result)
    }

    /// Counts the recommended courses the signed-in learner was shown (by the feed or
    /// `recommendations`), once per course and day, for the recommendation funnel.
    async fn record_recommendation_impressions(
        &self,
        ctx: &Context<'_>,
        input: RecordRecommendationImpressionsInput,
    ) -> async_graphql::Result<RecordRecommendationImpressionsPayload> {
        let result = async {
            let course_ids = input_ids(&input.courses, type_name::COURSE, "courses")?;
            let counter = ctx.data::<ViewCounter>().map_err(|_| {
                AppError::internal(std::io::Error::other("the view counter is missing"))
            })?;
            let counted =
                views::record_impressions(ctx.db()?, counter, ctx.actor()?, &course_ids).await?;
            Ok(i32::try_from(counted).unwrap_or(i32::MAX))
        }
        .await;
        RecordRecommendationImpressionsPayload::from_result(result)
    }
}
