//! Memberships (会员) on the API: a creator's plans, a learner's memberships, and the
//! mutations that make and change a plan.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use entity::{entitlement, membership_plan};

use crate::error::AppResult;
use crate::graphql::context::ContextExt;
use crate::graphql::enums::CourseStatus;
use crate::graphql::ids::{self, type_name};
use crate::graphql::loaders::CreatorById;
use crate::graphql::money::Money;
use crate::graphql::objects::Creator;
use crate::graphql::payload::{input_id, input_ids, payload};
use crate::service::access::ProductRef;
use crate::service::memberships::{self, PlanFields};

/// A creator's membership plan (会员).
pub struct MembershipPlan(pub membership_plan::Model);

impl MembershipPlan {
    /// The plan if the actor may see it: published and archived ones to everyone,
    /// drafts to its creator and admins.
    pub async fn load_visible(
        ctx: &Context<'_>,
        id: i64,
    ) -> async_graphql::Result<Option<MembershipPlan>> {
        let Some(row) = memberships::find(ctx.db()?, id).await? else {
            return Ok(None);
        };
        let visible = crate::service::access::may_see(ctx.actor()?, row.status, row.creator_id);
        Ok(visible.then_some(MembershipPlan(row)))
    }
}

/// A creator's membership plan (会员): for its period, their courses (all or a chosen
/// set) and optionally their paid groups.
#[Object]
impl MembershipPlan {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(type_name::MEMBERSHIP_PLAN, self.0.id)
    }
    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Months one purchase lasts (1, 3 or 12).
    async fn period_months(&self) -> i32 {
        self.0.period_months
    }
    /// Price of one period.
    async fn price(&self) -> Money {
        Money::cny(self.0.price_fen)
    }
    /// Price for a member renewing before their end, if lower.
    async fn early_renewal_price(&self) -> Option<Money> {
        self.0.early_renewal_price_fen.map(Money::cny)
    }
    /// Price for a former member whose membership ended, if lower.
    async fn lapsed_renewal_price(&self) -> Option<Money> {
        self.0.lapsed_renewal_price_fen.map(Money::cny)
    }
    /// Whether it covers all the creator's courses (else a chosen set).
    async fn covers_all_courses(&self) -> bool {
        self.0.covers_all_courses
    }
    /// Whether it covers the creator's paid groups too.
    async fn includes_groups(&self) -> bool {
        self.0.includes_groups
    }
    /// Lifecycle state (on sale when PUBLISHED).
    async fn status(&self) -> CourseStatus {
        self.0.status.into()
    }
    /// Its creator.
    async fn creator(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Creator>> {
        Ok(ctx
            .loader()?
            .load_one(CreatorById(self.0.creator_id))
            .await?
            .map(Creator))
    }
    /// What the viewer pays for a period now (a renewal price for members and former
    /// members), and why.
    async fn viewer_price(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<crate::graphql::pricing::ViewerPrice> {
        crate::graphql::pricing::viewer_price(ctx, &ProductRef::membership(&self.0)).await
    }
}

/// A learner's membership of a plan.
pub struct Membership(pub entitlement::Model, pub membership_plan::Model);

/// A learner's membership of a plan.
#[Object]
impl Membership {
    /// The plan.
    async fn plan(&self) -> MembershipPlan {
        MembershipPlan(self.1.clone())
    }
    /// When it ends (renewing before then extends it from here).
    async fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// Whether it runs now.
    async fn active(&self) -> bool {
        self.0.expires_at.is_some_and(|end| end > Utc::now())
    }
}

/// A user's memberships, running or ended (the user themself and admins).
pub async fn memberships_of(
    ctx: &Context<'_>,
    user_id: i64,
) -> async_graphql::Result<Vec<Membership>> {
    Ok(
        memberships::memberships_of(ctx.db()?, ctx.actor()?, user_id)
            .await?
            .into_iter()
            .map(|(held, plan)| Membership(held, plan))
            .collect(),
    )
}

/// Input of `createMembershipPlan`.
#[derive(InputObject)]
pub struct CreateMembershipPlanInput {
    /// Name, 1 to 64 characters.
    pub name: String,
    /// 1, 3 or 12 months.
    pub period_months: i32,
    /// Price of one period in fen.
    pub price_fen: i64,
    /// A lower price for members renewing early.
    pub early_renewal_price_fen: Option<i64>,
    /// A lower price for former members.
    pub lapsed_renewal_price_fen: Option<i64>,
    /// The courses it covers; omitted, all the creator's courses.
    pub courses: Option<Vec<ID>>,
    /// Cover the creator's paid groups too.
    #[graphql(default)]
    pub includes_groups: bool,
}

/// Input of `updateMembershipPlan`; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateMembershipPlanInput {
    /// The plan.
    pub plan: ID,
    /// New name.
    pub name: Option<String>,
    /// New price in fen (orders already made keep theirs).
    pub price_fen: Option<i64>,
    /// New early-renewal price; null clears it.
    pub early_renewal_price_fen: MaybeUndefined<i64>,
    /// New lapsed-renewal price; null clears it.
    pub lapsed_renewal_price_fen: MaybeUndefined<i64>,
    /// The courses it covers; null covers all the creator's courses.
    pub courses: MaybeUndefined<Vec<ID>>,
    /// Cover the creator's paid groups too.
    pub includes_groups: Option<bool>,
    /// PUBLISHED puts it on sale; ARCHIVED takes it off (members keep their time).
    pub status: Option<CourseStatus>,
}

payload!(
    /// Result of `createMembershipPlan` and `updateMembershipPlan`.
    MembershipPlanPayload, plan: MembershipPlan
);

fn course_keys(ids: &[ID]) -> AppResult<Vec<i64>> {
    input_ids(ids, type_name::COURSE, "courses")
}

fn maybe<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

/// Membership mutations.
#[derive(Default)]
pub struct MembershipMutation;

/// Membership mutations.
#[Object]
impl MembershipMutation {
    /// Makes a membership plan of the viewer's creator profile, as a draft
    /// (`updateMembershipPlan` with status PUBLISHED puts it on sale).
    async fn create_membership_plan(
        &self,
        ctx: &Context<'_>,
        input: CreateMembershipPlanInput,
    ) -> async_graphql::Result<MembershipPlanPayload> {
        let result = async {
            let fields = PlanFields {
                name: Some(input.name),
                period_months: Some(input.period_months),
                price_fen: Some(input.price_fen),
                early_renewal_price_fen: Some(input.early_renewal_price_fen),
                lapsed_renewal_price_fen: Some(input.lapsed_renewal_price_fen),
                courses: Some(input.courses.as_deref().map(course_keys).transpose()?),
                includes_groups: Some(input.includes_groups),
                status: None,
            };
            memberships::create(ctx.db()?, ctx.actor()?, fields)
                .await
                .map(MembershipPlan)
        }
        .await;
        MembershipPlanPayload::from_result(result)
    }

    /// Changes a membership plan (its creator or an admin).
    async fn update_membership_plan(
        &self,
        ctx: &Context<'_>,
        input: UpdateMembershipPlanInput,
    ) -> async_graphql::Result<MembershipPlanPayload> {
        let result = async {
            let id = input_id(&input.plan, type_name::MEMBERSHIP_PLAN, "plan")?;
            let courses = match maybe(input.courses) {
                None => None,
                Some(None) => Some(None),
                Some(Some(ids)) => Some(Some(course_keys(&ids)?)),
            };
            let fields = PlanFields {
                name: input.name,
                period_months: None,
                price_fen: input.price_fen,
                early_renewal_price_fen: maybe(input.early_renewal_price_fen),
                lapsed_renewal_price_fen: maybe(input.lapsed_renewal_price_fen),
                courses,
                includes_groups: input.includes_groups,
                status: input.status.map(Into::into),
            };
            memberships::update(ctx.db()?, ctx.actor()?, id, fields)
                .await
                .map(MembershipPlan)
        }
        .await;
        MembershipPlanPayload::from_result(result)
    }
}
