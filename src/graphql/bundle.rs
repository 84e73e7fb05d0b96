//! Bundles (专栏) on the API: the bundle, its courses and price, and the mutations
//! that make and change one.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::bundle;

use crate::error::AppResult;
use crate::graphql::context::ContextExt;
use crate::graphql::enums::CourseStatus;
use crate::graphql::ids::{self, type_name};
use crate::graphql::loaders::CreatorById;
use crate::graphql::money::Money;
use crate::graphql::objects::{Course, Creator};
use crate::graphql::payload::{input_id, input_ids, payload};
use crate::service::access::ProductRef;
use crate::service::bundles::{self, BundleFields};

/// Several of a creator's courses sold together (专栏).
pub struct Bundle(pub bundle::Model);

impl Bundle {
    /// The bundle if the actor may see it: published ones to everyone, others to its
    /// creator and admins.
    pub async fn load_visible(ctx: &Context<'_>, id: i64) -> async_graphql::Result<Option<Bundle>> {
        let Some(row) = bundles::find(ctx.db()?, id).await? else {
            return Ok(None);
        };
        let visible = crate::service::access::may_see(ctx.actor()?, row.status, row.creator_id);
        Ok(visible.then_some(Bundle(row)))
    }
}

/// Several of a creator's courses sold together (专栏); buying it grants each course.
#[Object]
impl Bundle {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(type_name::BUNDLE, self.0.id)
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Description.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Cover image URL.
    async fn cover_url(&self) -> Option<&str> {
        self.0.cover_url.as_deref()
    }
    /// List price of the whole bundle.
    async fn price(&self) -> Money {
        Money::cny(self.0.price_fen)
    }
    /// Lifecycle state (on sale when PUBLISHED).
    async fn status(&self) -> CourseStatus {
        self.0.status.into()
    }
    /// Whether courses added later are granted to earlier buyers too.
    async fn includes_future(&self) -> bool {
        self.0.includes_future
    }
    /// Whether what a buyer paid for courses of it they own comes off its price.
    async fn credit_owned(&self) -> bool {
        self.0.credit_owned
    }
    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Its creator.
    async fn creator(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Creator>> {
        Ok(ctx
            .loader()?
            .load_one(CreatorById(self.0.creator_id))
            .await?
            .map(Creator))
    }
    /// Its courses, in order (those the viewer may see).
    async fn courses(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Course>> {
        // Batched: a page of bundles reads its courses in one query.
        let ids = ctx
            .loader()?
            .load_one(crate::graphql::loaders::CoursesOfBundle(self.0.id))
            .await?
            .unwrap_or_default();
        // Together, so the loader reads the rows in one batch.
        let loaded = futures_util::future::try_join_all(
            ids.into_iter().map(|id| Course::load_visible(ctx, id)),
        )
        .await?;
        Ok(loaded.into_iter().flatten().collect())
    }
    /// Its limited-time price, current or upcoming (null when none, or once it ended).
    async fn sale(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::graphql::pricing::Sale>> {
        crate::graphql::pricing::sale_of(ctx, &ProductRef::bundle(&self.0)).await
    }
    /// What the viewer pays for the bundle now, and why (with the credit for courses
    /// they already bought).
    async fn viewer_price(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<crate::graphql::pricing::ViewerPrice> {
        crate::graphql::pricing::viewer_price(ctx, &ProductRef::bundle(&self.0)).await
    }
    /// Coupons offered on this bundle's page, to claim (`claimCoupon`).
    async fn claimable_coupons(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::graphql::coupon::Coupon>> {
        crate::graphql::coupon::claimable(ctx, &ProductRef::bundle(&self.0)).await
    }
    /// Whether the viewer holds the bundle.
    async fn viewer_has_access(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        crate::graphql::access::can_open(ctx, &ProductRef::bundle(&self.0)).await
    }
}

/// Input of `createBundle`.
#[derive(InputObject)]
pub struct CreateBundleInput {
    /// Title, 1 to 128 characters.
    pub title: String,
    /// Description, up to 5,000 characters.
    pub description: Option<String>,
    /// Cover image, an http(s) URL.
    pub cover_url: Option<String>,
    /// Price in fen, 0 to 10,000,000.
    pub price_fen: i64,
    /// The creator's own courses, in order (1 to 50).
    pub courses: Vec<ID>,
    /// Grant courses added later to earlier buyers.
    #[graphql(default)]
    pub includes_future: bool,
    /// Take what a buyer paid for courses of it they own off its price.
    #[graphql(default = true)]
    pub credit_owned: bool,
}

/// Input of `updateBundle`; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateBundleInput {
    /// The bundle.
    pub bundle: ID,
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New cover.
    pub cover_url: Option<String>,
    /// New price in fen (orders already made keep theirs).
    pub price_fen: Option<i64>,
    /// The new course list, in order; with `includesFuture`, courses added are granted
    /// to its holders at once.
    pub courses: Option<Vec<ID>>,
    /// Grant courses added later to earlier buyers.
    pub includes_future: Option<bool>,
    /// Take what a buyer paid for courses of it they own off its price.
    pub credit_owned: Option<bool>,
    /// PUBLISHED puts it on sale; ARCHIVED takes it off (buyers keep their courses).
    pub status: Option<CourseStatus>,
}

payload!(
    /// Result of `createBundle` and `updateBundle`.
    BundlePayload, bundle: Bundle
);

fn course_keys(ids: &[ID]) -> AppResult<Vec<i64>> {
    input_ids(ids, type_name::COURSE, "courses")
}

/// Bundle mutations.
#[derive(Default)]
pub struct BundleMutation;

/// Bundle mutations.
#[Object]
impl BundleMutation {
    /// Makes a bundle of the viewer's courses, as a draft (`updateBundle` with status
    /// PUBLISHED puts it on sale).
    async fn create_bundle(
        &self,
        ctx: &Context<'_>,
        input: CreateBundleInput,
    ) -> async_graphql::Result<BundlePayload> {
        let result = async {
            let fields = BundleFields {
                title: Some(input.title),
                description: input.description,
                cover_url: input.cover_url,
                price_fen: Some(input.price_fen),
                courses: Some(course_keys(&input.courses)?),
                includes_future: Some(input.includes_future),
                credit_owned: Some(input.credit_owned),
                status: None,
            };
            bundles::create(ctx.db()?, ctx.actor()?, fields)
                .await
                .map(Bundle)
        }
        .await;
        BundlePayload::from_result(result)
    }

    /// Changes a bundle (its creator or an admin).
    async fn update_bundle(
        &self,
        ctx: &Context<'_>,
        input: UpdateBundleInput,
    ) -> async_graphql::Result<BundlePayload> {
        let result = async {
            let id = input_id(&input.bundle, type_name::BUNDLE, "bundle")?;
            let fields = BundleFields {
                title: input.title,
                description: input.description,
                cover_url: input.cover_url,
                price_fen: input.price_fen,
                courses: input.courses.as_deref().map(course_keys).transpose()?,
                includes_future: input.includes_future,
                credit_owned: input.credit_owned,
                status: input.status.map(Into::into),
            };
            bundles::update(ctx.db()?, ctx.actor()?, id, fields)
                .await
                .map(Bundle)
        }
        .await;
        BundlePayload::from_result(result)
    }
}
