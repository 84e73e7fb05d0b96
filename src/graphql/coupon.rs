//! Coupons on the API: what creators offer, the copies learners hold, and the
//! mutations that make, hand out and claim them.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{coupon, user_coupon};

use crate::error::AppResult;
use crate::graphql::context::ContextExt;
use crate::graphql::enums::ProductKind;
use crate::graphql::ids::{self, type_name};
use crate::graphql::loaders::CreatorById;
use crate::graphql::money::Money;
use crate::graphql::objects::{Creator, Order};
use crate::graphql::order::product_of;
use crate::graphql::pagination::{self, Conn};
use crate::graphql::payload::{input_id, payload, split};
use crate::service::coupons::{self, Audience, CopyState, CouponChanges, NewCoupon, Off};
use crate::service::orders::CouponInput;
use crate::service::validation::{FieldError, UserErrorCode};

/// How learners get a coupon.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::CouponDistribution")]
pub enum CouponDistribution {
    /// By typing its public code (`redeemCouponCode`).
    Code,
    /// From a product page (`claimCoupon`).
    Claim,
    /// Given by the creator to followers or buyers (`grantCoupon`).
    Grant,
}

/// Which products a coupon applies to.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::CouponScope")]
pub enum CouponScope {
    /// Every product of its creator (every product, for a platform coupon).
    All,
    /// The products listed.
    Products,
    /// Every product of one kind.
    Kind,
}

/// Where a learner's coupon is.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::service::coupons::CopyState")]
pub enum UserCouponStatus {
    /// Usable (now, or once the coupon starts).
    Available,
    /// Held by a pending order; back to AVAILABLE if it closes unpaid.
    Reserved,
    /// Spent by a paid order (a refund does not return it).
    Used,
    /// Unused, and the coupon ended.
    Expired,
}

/// An offer of money off.
pub struct Coupon(pub coupon::Model);

/// An offer of money off, by a creator for their products or by the platform.
#[Object]
impl Coupon {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(type_name::COUPON, self.0.id)
    }
    /// What learners see.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// How learners get it.
    async fn distribution(&self) -> CouponDistribution {
        self.0.distribution.into()
    }
    /// The public code of a CODE coupon (its creator and admins only).
    async fn code(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        let manages = coupons::manages(ctx.actor()?, &self.0);
        Ok(manages.then_some(self.0.code.as_deref()).flatten())
    }
    /// A fixed amount off, for amount coupons.
    async fn amount_off(&self) -> Option<Money> {
        self.0.amount_off_fen.map(Money::cny)
    }
    /// Percent off (1 to 99), for percent coupons; rounded to the fen in the buyer's
    /// favour.
    async fn percent_off(&self) -> Option<i32> {
        self.0.percent_off
    }
    /// The least a price must be for it to apply.
    async fn min_spend(&self) -> Money {
        Money::cny(self.0.min_spend_fen)
    }
    /// Which products it covers.
    async fn scope(&self) -> CouponScope {
        self.0.scope.into()
    }
    /// The kind it covers, for KIND scope.
    async fn scope_kind(&self) -> Option<ProductKind> {
        self.0.scope_kind.map(Into::into)
    }
    /// Usable from.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    /// Usable until (exclusive).
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    /// Copies in all.
    async fn total_quantity(&self) -> i64 {
        self.0.total_quantity
    }
    /// Copies not handed out yet.
    async fn remaining(&self) -> i64 {
        self.0.total_quantity - self.0.issued
    }
    /// Copies one learner may hold.
    async fn per_user_limit(&self) -> i32 {
        self.0.per_user_limit
    }
    /// Switched off by its creator.
    async fn disabled(&self) -> bool {
        self.0.disabled
    }
    /// Its creator; null for a platform coupon.
    async fn creator(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Creator>> {
        let Some(creator_id) = self.0.creator_id else {
            return Ok(None);
        };
        Ok(ctx
            .loader()?
            .load_one(CreatorById(creator_id))
            .await?
            .map(Creator))
    }
}

/// A learner's copy of a coupon.
pub struct UserCoupon(pub user_coupon::Model, pub coupon::Model);

/// A learner's copy of a coupon.
#[Object]
impl UserCoupon {
    /// Global ID (give it as `createOrder(input: {coupon})`).
    pub async fn id(&self) -> ID {
        ids::encode(type_name::USER_COUPON, self.0.id)
    }
    /// The offer.
    async fn coupon(&self) -> Coupon {
        Coupon(self.1.clone())
    }
    /// Where it is.
    async fn status(&self) -> UserCouponStatus {
        coupons::state_of(&self.0, &self.1, Utc::now()).into()
    }
    /// When the learner got it.
    async fn obtained_at(&self) -> DateTime<Utc> {
        self.0.obtained_at
    }
    /// When it was spent.
    async fn used_at(&self) -> Option<DateTime<Utc>> {
        self.0.used_at
    }
    /// The order holding or having spent it.
    async fn order(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Order>> {
        let Some(order_id) = self.0.order_id else {
            return Ok(None);
        };
        Ok(Some(Order(
            crate::service::orders::get(ctx.db()?, ctx.actor()?, order_id).await?,
        )))
    }
}

/// The coupon an order is asked to use: a copy (`UserCoupon`) or an offer (`Coupon`).
pub fn coupon_input(id: &ID) -> AppResult<CouponInput> {
    let refused = || {
        FieldError::new(
            "coupon",
            UserErrorCode::Invalid,
            "a coupon is a UserCoupon or a Coupon ID",
        )
    };
    let (kind, key) = ids::decode_any(id).map_err(|_| refused())?;
    match kind.as_str() {
        type_name::USER_COUPON => Ok(CouponInput::Copy(key)),
        type_name::COUPON => Ok(CouponInput::Offer(key)),
        _ => Err(refused().into()),
    }
}

/// Copies joined with their coupons (copies whose coupon vanished are dropped).
pub async fn copies(
    db: &sea_orm::DatabaseConnection,
    rows: Vec<user_coupon::Model>,
) -> AppResult<Vec<UserCoupon>> {
    let ids: Vec<i64> = rows.iter().map(|c| c.coupon_id).collect();
    let offers = coupons::by_ids(db, &ids).await?;
    Ok(rows
        .into_iter()
        .filter_map(|copy| {
            let offer = offers.get(&copy.coupon_id)?.clone();
            Some(UserCoupon(copy, offer))
        })
        .collect())
}

/// Which copies to list.
#[derive(InputObject, Default)]
pub struct UserCouponFilter {
    /// In this state.
    pub status: Option<UserCouponStatus>,
}

/// A user's copies, newest first (the user themself and admins).
pub async fn copies_of(
    ctx: &Context<'_>,
    user_id: i64,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<UserCouponFilter>,
) -> async_graphql::Result<Conn<UserCoupon>> {
    let db = ctx.db()?;
    let request = pagination::page_request(first, after, None, None)?;
    let status: Option<CopyState> = filter.and_then(|f| f.status).map(Into::into);
    let (page, counted) = coupons::copies_of(db, ctx.actor()?, user_id, status, &request).await?;
    let rows: Vec<user_coupon::Model> = page.items.iter().map(|(_, c)| c.clone()).collect();
    let joined = copies(db, rows).await?;
    let mut by_id: std::collections::HashMap<i64, UserCoupon> =
        joined.into_iter().map(|c| (c.0.id, c)).collect();
    Ok(pagination::connection_filter_map(
        db,
        (page, counted),
        |row| by_id.remove(&row.id),
    ))
}

/// The CLAIM coupons a product page offers.
pub async fn claimable(
    ctx: &Context<'_>,
    product: &crate::service::access::ProductRef,
) -> async_graphql::Result<Vec<Coupon>> {
    Ok(coupons::claimable_for(ctx.db()?, product)
        .await?
        .into_iter()
        .map(Coupon)
        .collect())
}

/// Coupon queries.
#[derive(Default)]
pub struct CouponQuery;

/// Coupon queries.
#[Object]
impl CouponQuery {
    /// The coupons the viewer's creator profile made, newest first (admins: every
    /// coupon, or one creator's).
    #[graphql(complexity = "pagination::cost(first, None, child_complexity)")]
    async fn coupons(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        creator: Option<ID>,
    ) -> async_graphql::Result<Conn<Coupon>> {
        let db = ctx.db()?;
        let request = pagination::page_request(first, after, None, None)?;
        let creator_id = match &creator {
            Some(id) => Some(ids::decode(id, type_name::CREATOR)?),
            None => None,
        };
        let rows = coupons::managed(db, ctx.actor()?, creator_id, &request).await?;
        Ok(pagination::connection(db, rows, Coupon))
    }
}

/// Input of `createCoupon`: exactly one of `amountOffFen` and `percentOff`.
#[derive(InputObject)]
pub struct CreateCouponInput {
    /// What learners see, 1 to 32 characters.
    pub name: String,
    /// How learners get it.
    pub distribution: CouponDistribution,
    /// The public code of a CODE coupon: 4 to 32 letters, digits, `-` or `_` (case does
    /// not matter).
    pub code: Option<String>,
    /// A fixed amount off, in fen.
    pub amount_off_fen: Option<i64>,
    /// Percent off, 1 to 99.
    pub percent_off: Option<i32>,
    /// The least the price (after any sale) must be, in fen.
    #[graphql(default)]
    pub min_spend_fen: i64,
    /// Which products it covers.
    pub scope: CouponScope,
    /// The kind, for KIND scope.
    pub scope_kind: Option<ProductKind>,
    /// The products (Course, Livestream, CommunityGroup IDs), for PRODUCTS scope.
    #[graphql(default)]
    pub products: Vec<ID>,
    /// Usable from.
    pub starts_at: DateTime<Utc>,
    /// Usable until (exclusive; at most a year after the start).
    pub ends_at: DateTime<Utc>,
    /// Copies in all, 1 to 1,000,000.
    pub total_quantity: i64,
    /// Copies one learner may hold, 1 to 100.
    #[graphql(default = 1)]
    pub per_user_limit: i32,
    /// A platform coupon for every creator's products (admins only).
    #[graphql(default)]
    pub platform: bool,
}

/// Input of `updateCoupon`; omitted fields stay.
#[derive(InputObject)]
pub struct UpdateCouponInput {
    /// The coupon.
    pub coupon: ID,
    /// New name.
    pub name: Option<String>,
    /// New end.
    pub ends_at: Option<DateTime<Utc>>,
    /// New total (at least the copies handed out).
    pub total_quantity: Option<i64>,
    /// Switch it off (held copies no longer apply) or on again.
    pub disabled: Option<bool>,
}

/// Input of `claimCoupon`.
#[derive(InputObject)]
pub struct ClaimCouponInput {
    /// A CLAIM coupon from a product page.
    pub coupon: ID,
}

/// Input of `redeemCouponCode`.
#[derive(InputObject)]
pub struct RedeemCouponCodeInput {
    /// The public code (case does not matter).
    pub code: String,
}

/// Who `grantCoupon` gives copies to.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantAudience {
    /// The creator's followers.
    Followers,
    /// Holders of `product`.
    Buyers,
}

/// Input of `grantCoupon`.
#[derive(InputObject)]
pub struct GrantCouponInput {
    /// The coupon.
    pub coupon: ID,
    /// To whom.
    pub audience: GrantAudience,
    /// The product whose holders get it, for BUYERS.
    pub product: Option<ID>,
}

payload!(
    /// Result of `createCoupon` and `updateCoupon`.
    CouponPayload, coupon: Coupon
);

payload!(
    /// Result of `claimCoupon` and `redeemCouponCode`: the copy now held.
    UserCouponPayload, user_coupon: UserCoupon
);

/// Result of `grantCoupon`.
#[derive(SimpleObject)]
pub struct GrantCouponPayload {
    /// Learners who got a copy (those already at the per-person limit get none).
    pub granted: Option<i64>,
    /// Why the input was refused.
    pub user_errors: Vec<crate::graphql::payload::UserError>,
}

/// Coupon mutations.
#[derive(Default)]
pub struct CouponMutation;

async fn copy_payload(
    ctx: &Context<'_>,
    result: AppResult<user_coupon::Model>,
) -> async_graphql::Result<UserCouponPayload> {
    let (copy, user_errors) = split(result)?;
    let user_coupon = match copy {
        Some(copy) => copies(ctx.db()?, vec![copy]).await?.pop(),
        None => None,
    };
    Ok(UserCouponPayload {
        user_coupon,
        user_errors,
    })
}

/// Coupon mutations.
#[Object]
impl CouponMutation {
    /// Makes a coupon for the viewer's products (a platform one, for admins).
    async fn create_coupon(
        &self,
        ctx: &Context<'_>,
        input: CreateCouponInput,
    ) -> async_graphql::Result<CouponPayload> {
        let result = async {
            let off = match (input.amount_off_fen, input.percent_off) {
                (Some(fen), None) => Off::Amount(fen),
                (None, Some(percent)) => Off::Percent(percent),
                _ => {
                    return Err(FieldError::new(
                        "amountOffFen",
                        UserErrorCode::Invalid,
                        "give exactly one of amountOffFen and percentOff",
                    )
                    .into());
                }
            };
            let products = input
                .products
                .iter()
                .map(|id| {
                    product_of(id).map_err(|_| {
                        FieldError::new("products", UserErrorCode::Invalid, "not a product ID")
                            .into()
                    })
                })
                .collect::<AppResult<Vec<_>>>()?;
            let new = NewCoupon {
                name: input.name,
                distribution: input.distribution.into(),
                code: input.code,
                off,
                min_spend_fen: input.min_spend_fen,
                scope: input.scope.into(),
                scope_kind: input.scope_kind.map(Into::into),
                products,
                starts_at: input.starts_at,
                ends_at: input.ends_at,
                total_quantity: input.total_quantity,
                per_user_limit: input.per_user_limit,
                platform: input.platform,
            };
            coupons::create(ctx.db()?, ctx.actor()?, new)
                .await
                .map(Coupon)
        }
        .await;
        CouponPayload::from_result(result)
    }

    /// Changes a coupon (its creator or an admin).
    async fn update_coupon(
        &self,
        ctx: &Context<'_>,
        input: UpdateCouponInput,
    ) -> async_graphql::Result<CouponPayload> {
        let result = async {
            let id = input_id(&input.coupon, type_name::COUPON, "coupon")?;
            let changes = CouponChanges {
                name: input.name,
                ends_at: input.ends_at,
                total_quantity: input.total_quantity,
                disabled: input.disabled,
            };
            coupons::update(ctx.db()?, ctx.actor()?, id, changes)
                .await
                .map(Coupon)
        }
        .await;
        CouponPayload::from_result(result)
    }

    /// Claims a copy of a coupon offered on a product page.
    async fn claim_coupon(
        &self,
        ctx: &Context<'_>,
        input: ClaimCouponInput,
    ) -> async_graphql::Result<UserCouponPayload> {
        let result = async {
            let id = input_id(&input.coupon, type_name::COUPON, "coupon")?;
            coupons::claim(ctx.db()?, ctx.actor()?, id).await
        }
        .await;
        copy_payload(ctx, result).await
    }

    /// Redeems a coupon's public code for a copy.
    async fn redeem_coupon_code(
        &self,
        ctx: &Context<'_>,
        input: RedeemCouponCodeInput,
    ) -> async_graphql::Result<UserCouponPayload> {
        let result = coupons::redeem_code(ctx.db()?, ctx.actor()?, &input.code).await;
        copy_payload(ctx, result).await
    }

    /// Gives a copy to each of the creator's followers, or each holder of one of their
    /// products (all or none, refused when too few copies are left).
    async fn grant_coupon(
        &self,
        ctx: &Context<'_>,
        input: GrantCouponInput,
    ) -> async_graphql::Result<GrantCouponPayload> {
        let result = async {
            let id = input_id(&input.coupon, type_name::COUPON, "coupon")?;
            let audience = match (input.audience, &input.product) {
                (GrantAudience::Followers, _) => Audience::Followers,
                (GrantAudience::Buyers, Some(product)) => {
                    let (kind, product_id) = product_of(product)?;
                    Audience::BuyersOf(kind, product_id)
                }
                (GrantAudience::Buyers, None) => {
                    return Err(FieldError::new(
                        "product",
                        UserErrorCode::Required,
                        "BUYERS needs the product",
                    )
                    .into());
                }
            };
            coupons::grant(ctx.db()?, ctx.actor()?, id, audience).await
        }
        .await;
        let (granted, user_errors) = split(result)?;
        Ok(GrantCouponPayload {
            granted: granted.map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
            user_errors,
        })
    }
}
