//! Distribution (分销) on the API: promotions, promoter codes, referrals, and a
//! promoter's earnings.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::enums::LedgerAccountKind;
use entity::{promoter, promotion, referral};

use crate::graphql::context::ContextExt;
use crate::graphql::ledger::Earnings;
use crate::graphql::order::{Product, load_product, product_of};
use crate::graphql::payload::payload;
use crate::service::ledger::balances;
use crate::service::promotions;

/// A product's offer to pay its promoters.
pub struct Promotion(pub promotion::Model);

/// A product's offer to pay its promoters.
#[Object]
impl Promotion {
    /// The product promoted.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        load_product(ctx, self.0.product_kind, self.0.product_id).await
    }
    /// The promoter's commission, in basis points of the amount paid.
    async fn rate_bps(&self) -> i32 {
        self.0.rate_bps
    }
    /// The recruiting promoter's commission, in basis points (0: no second level).
    async fn second_level_bps(&self) -> i32 {
        self.0.second_level_bps
    }
    /// Whether new orders earn commissions.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
}

/// The viewer's share code for one product.
pub struct PromoterCode(pub promoter::Model);

/// The viewer's share code for one product.
#[Object]
impl PromoterCode {
    /// The code to put in a share link (`promoterCode` of `createOrder`, `code` of
    /// `recordReferral`).
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// The product it promotes.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        load_product(ctx, self.0.product_kind, self.0.product_id).await
    }
    /// When the viewer became its promoter.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A share link the viewer opened: its promoter is credited for their order of the
/// product until `expiresAt`.
#[derive(SimpleObject)]
pub struct Referral {
    /// When the link was first opened.
    pub opened_at: DateTime<Utc>,
    /// Until when an order counts.
    pub expires_at: DateTime<Utc>,
}

impl From<referral::Model> for Referral {
    fn from(row: referral::Model) -> Self {
        Referral {
            opened_at: row.opened_at,
            expires_at: row.expires_at,
        }
    }
}

/// A user's promoter earnings (the user themself and admins).
pub async fn promoter_earnings(ctx: &Context<'_>, user_id: i64) -> async_graphql::Result<Earnings> {
    require_self(ctx, user_id)?;
    let earnings =
        balances::earnings(ctx.db()?, LedgerAccountKind::Promoter, user_id, Utc::now()).await?;
    Ok(earnings.into())
}

/// A user's promoter codes, newest first (the user themself and admins).
pub async fn promoter_codes(
    ctx: &Context<'_>,
    user_id: i64,
) -> async_graphql::Result<Vec<PromoterCode>> {
    require_self(ctx, user_id)?;
    let codes = promotions::codes_of(ctx.db()?, user_id).await?;
    Ok(codes.into_iter().map(PromoterCode).collect())
}

fn require_self(ctx: &Context<'_>, user_id: i64) -> async_graphql::Result<()> {
    let actor = ctx.actor()?;
    if actor.user_id() == Some(user_id) || actor.is_admin() {
        Ok(())
    } else {
        Err(crate::error::AppError::Forbidden("a promoter's earnings are their own").into())
    }
}

/// Input of `enablePromotion`.
#[derive(InputObject)]
pub struct EnablePromotionInput {
    /// The Course, Livestream, CommunityGroup, Bundle or MembershipPlan.
    pub product: ID,
    /// The promoter's commission in basis points of the amount paid (1..=5000).
    pub rate_bps: i32,
    /// The recruiting promoter's commission in basis points (0..=5000; 0 is none).
    #[graphql(default)]
    pub second_level_bps: i32,
}

/// Input of `disablePromotion`.
#[derive(InputObject)]
pub struct DisablePromotionInput {
    /// The product.
    pub product: ID,
}

/// Input of `becomePromoter`.
#[derive(InputObject)]
pub struct BecomePromoterInput {
    /// The promoted product.
    pub product: ID,
    /// The code of the promoter who recruited the viewer, if any (the second level).
    pub recruited_by: Option<String>,
}

/// Input of `recordReferral`.
#[derive(InputObject)]
pub struct RecordReferralInput {
    /// The share link's promoter code.
    pub code: String,
}

payload!(
    /// Result of `enablePromotion` and `disablePromotion`.
    PromotionPayload, promotion: Promotion
);

payload!(
    /// Result of `becomePromoter`.
    BecomePromoterPayload, promoter_code: PromoterCode
);

/// Result of `recordReferral`.
#[derive(SimpleObject)]
pub struct RecordReferralPayload {
    /// The referral that counts; null for the viewer's own link or a refused input.
    pub referral: Option<Referral>,
    /// Each refused input field; empty on success.
    pub user_errors: Vec<crate::graphql::payload::UserError>,
}

/// Distribution mutations.
#[derive(Default)]
pub struct PromotionMutation;

/// Distribution mutations.
#[Object]
impl PromotionMutation {
    /// Offers a commission to promoters of one of the viewer's products (admins: any);
    /// again, changes the rates for orders paid from now on.
    async fn enable_promotion(
        &self,
        ctx: &Context<'_>,
        input: EnablePromotionInput,
    ) -> async_graphql::Result<PromotionPayload> {
        let result = async {
            let (kind, id) = product_of(&input.product)?;
            promotions::enable(
                ctx.db()?,
                ctx.actor()?,
                kind,
                id,
                input.rate_bps,
                input.second_level_bps,
            )
            .await
            .map(Promotion)
        }
        .await;
        PromotionPayload::from_result(result)
    }

    /// Stops paying commissions on new orders of the product.
    async fn disable_promotion(
        &self,
        ctx: &Context<'_>,
        input: DisablePromotionInput,
    ) -> async_graphql::Result<PromotionPayload> {
        let result = async {
            let (kind, id) = product_of(&input.product)?;
            promotions::disable(ctx.db()?, ctx.actor()?, kind, id)
                .await
                .map(Promotion)
        }
        .await;
        PromotionPayload::from_result(result)
    }

    /// Makes the viewer a promoter of a promoted product and gives their share code
    /// (the same code when asked again).
    async fn become_promoter(
        &self,
        ctx: &Context<'_>,
        input: BecomePromoterInput,
    ) -> async_graphql::Result<BecomePromoterPayload> {
        let result = async {
            let (kind, id) = product_of(&input.product)?;
            promotions::become_promoter(
                ctx.db()?,
                ctx.actor()?,
                kind,
                id,
                input.recruited_by.as_deref(),
            )
            .await
            .map(PromoterCode)
        }
        .await;
        BecomePromoterPayload::from_result(result)
    }

    /// Records that the viewer opened a share link: its promoter is credited for the
    /// viewer's order of the product within 7 days of the first opening.
    async fn record_referral(
        &self,
        ctx: &Context<'_>,
        input: RecordReferralInput,
    ) -> async_graphql::Result<RecordReferralPayload> {
        let result = promotions::record_referral(ctx.db()?, ctx.actor()?, &input.code).await;
        let (referral, user_errors) = crate::graphql::payload::split(result)?;
        Ok(RecordReferralPayload {
            referral: referral.flatten().map(Into::into),
            user_errors,
        })
    }
}
