//! Creators: the `Creator` object and the creators list.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};

use crate::error::AppError;
use crate::graphql::bundle::Bundle;
use crate::graphql::context::ContextExt;
use crate::graphql::enums::{CourseStatus, LivestreamStatus, OrderDirection};
use crate::graphql::ids::type_name;
use crate::graphql::ledger::{self, Earnings, LedgerEntry};
use crate::graphql::loaders::{FirstCoursesOfCreator, FollowersOfCreator, UserById};
use crate::graphql::membership::MembershipPlan;
use crate::graphql::objects::{CommunityGroup, Course, Creator, Livestream, User};
use crate::graphql::ordering::{CourseOrder, CreatorOrder, CreatorOrderField, LivestreamOrder};
use crate::graphql::pagination::{self, Conn};
use crate::graphql::{ids, prefetch};
use crate::service::page::Counted;
use crate::service::read_cache::CreatorPageKey;
use crate::service::{courses, creators, groups, livestreams, shelf};

/// The public selling profile of a user.
#[Object]
impl Creator {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(type_name::CREATOR, self.0.id)
    }
    /// Name shown to learners.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    /// About the creator.
    async fn bio(&self) -> Option<&str> {
        self.0.bio.as_deref()
    }
    /// When the profile was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The user behind the profile.
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        ctx.loader()?
            .load_one(UserById(self.0.user_id))
            .await?
            .map(User)
            .ok_or_else(|| AppError::NotFound("user").into())
    }
    /// How many users follow this creator.
    async fn follower_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(ctx
            .loader()?
            .load_one(FollowersOfCreator(self.0.id))
            .await?
            .unwrap_or(0))
    }
    /// This creator's courses (published unless a status is given and visible to the viewer).
    #[graphql(complexity = "pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn courses(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        status: Option<CourseStatus>,
        order_by: Option<CourseOrder>,
    ) -> async_graphql::Result<Conn<Course>> {
        let page = pagination::page_request(first, after, last, before)?;
        let order = order_by.unwrap_or_default();
        let published = status.is_none_or(|s| s == CourseStatus::Published);
        if published && page.is_first_page() {
            // The usual case (a list of creators, each with its first courses): batched
            // across the creators of the page into one statement.
            let key = FirstCoursesOfCreator {
                creator_id: self.0.id,
                limit: page.limit(),
                sort: order.field.into(),
                direction: order.direction.into(),
            };
            let found = ctx.loader()?.load_one(key).await?.unwrap_or_default();
            let rows: Vec<_> = found.items.iter().map(|(_, c)| c).collect();
            prefetch::courses(ctx, &rows).await?;
            let counted = courses::published_of_creator(self.0.id);
            return Ok(pagination::connection(
                ctx.db()?,
                (found, counted),
                Course::from,
            ));
        }
        let filter = courses::CourseFilter {
            creator_id: Some(self.0.id),
            status: status.map(Into::into),
            ..Default::default()
        };
        Course::page(ctx, &page, filter, order).await
    }
    /// This creator's livestreams.
    #[graphql(complexity = "pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn livestreams(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        status: Option<Vec<LivestreamStatus>>,
        order_by: Option<LivestreamOrder>,
    ) -> async_graphql::Result<Conn<Livestream>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, last, before)?;
        let filter = livestreams::LivestreamFilter {
            creator_id: Some(self.0.id),
            statuses: status.map(|s| s.into_iter().map(Into::into).collect()),
            ..Default::default()
        };
        let order = order_by.unwrap_or_default();
        let rows = livestreams::list(
            db,
            filter,
            order.field.into(),
            order.direction.into(),
            &page,
        )
        .await?;
        Ok(pagination::connection(db, rows, Livestream))
    }
    /// What the platform owes this creator: pending, available, paid out (the creator
    /// and admins).
    async fn earnings(&self, ctx: &Context<'_>) -> async_graphql::Result<Earnings> {
        ledger::earnings_of(ctx, self).await
    }
    /// This creator's ledger entries, newest first (the creator and admins).
    #[graphql(complexity = "pagination::cost(first, None, child_complexity)")]
    async fn ledger_entries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Conn<LedgerEntry>> {
        ledger::entries_of(ctx, self, first, after).await
    }
    /// This creator's statement for a month (`YYYY-MM`, Asia/Shanghai): opening
    /// balance, sales, fees, commissions, refunds, payouts, closing balance (the
    /// creator and admins).
    async fn statement(
        &self,
        ctx: &Context<'_>,
        month: String,
    ) -> async_graphql::Result<crate::graphql::payout::CreatorStatement> {
        crate::graphql::payout::statement_of(ctx, self, &month).await
    }
    /// Their own WeChat Pay merchant id when they are paid by profit sharing (分账);
    /// null when paid by transfer to their WeChat balance. The creator and admins.
    async fn wechat_merchant_id(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        crate::service::ledger::balances::require_creator_or_admin(ctx.actor()?, self.0.id)?;
        Ok(self.0.wechat_mchid.as_deref())
    }
    /// The platform's fee on this creator's sales in basis points, when an admin set
    /// one of their own; null means the configured default. The creator and admins.
    async fn fee_basis_points(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i32>> {
        crate::service::ledger::balances::require_creator_or_admin(ctx.actor()?, self.0.id)?;
        Ok(self.0.fee_bps)
    }
    /// This creator's community groups, newest first.
    #[graphql(complexity = "pagination::cost(first, last, child_complexity)")]
    async fn groups(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<CommunityGroup>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, last, before)?;
        let filter = groups::GroupFilter {
            creator_id: Some(self.0.id),
            ..Default::default()
        };
        let rows = groups::list(db, filter, OrderDirection::Desc.into(), &page).await?;
        Ok(pagination::connection(db, rows, CommunityGroup))
    }
    /// This creator's bundles, newest first: those on sale, or (for the creator and
    /// admins) those in `status`, every status when it is omitted.
    #[graphql(complexity = "pagination::cost(first, last, child_complexity)")]
    async fn bundles(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        status: Option<CourseStatus>,
    ) -> async_graphql::Result<Conn<Bundle>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, last, before)?;
        let asked = status.map(Into::into);
        let rows = shelf::bundles(db, ctx.actor()?, self.0.id, asked, &page).await?;
        Ok(pagination::connection(db, rows, Bundle))
    }
    /// This creator's membership plans, newest first: those on sale, or (for the
    /// creator and admins) those in `status`, every status when it is omitted.
    #[graphql(complexity = "pagination::cost(first, last, child_complexity)")]
    async fn membership_plans(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        status: Option<CourseStatus>,
    ) -> async_graphql::Result<Conn<MembershipPlan>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, last, before)?;
        let asked = status.map(Into::into);
        let rows = shelf::membership_plans(db, ctx.actor()?, self.0.id, asked, &page).await?;
        Ok(pagination::connection(db, rows, MembershipPlan))
    }
}

/// Filters of the creator list.
#[derive(InputObject, Default)]
pub struct CreatorFilter {
    /// Text the display name contains (case-insensitive).
    pub name_contains: Option<String>,
}

/// Creator queries.
#[derive(Default)]
pub struct CreatorQuery;

/// Creator queries.
#[Object]
impl CreatorQuery {
    /// Every creator.
    #[graphql(complexity = "pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn creators(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<CreatorFilter>,
        order_by: Option<CreatorOrder>,
    ) -> async_graphql::Result<Conn<Creator>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, last, before)?;
        let filter = creators::CreatorFilter {
            name_contains: filter.unwrap_or_default().name_contains,
        };
        let order = order_by.unwrap_or_default();
        let sort = match order.field {
            CreatorOrderField::Newest => creators::CreatorSort::Newest,
            CreatorOrderField::Name => creators::CreatorSort::Name,
        };
        let direction = order.direction.into();
        let listed = creators::listed(&filter);
        let counted = Counted::new(listed.clone());
        let key = CreatorPageKey {
            filter,
            sort,
            direction,
            page: page.clone(),
        };
        let rows = ctx
            .read_cache()?
            .creator_page(
                key,
                creators::fetch_page(db, listed, sort, direction, &page),
            )
            .await?;
        let page_rows: Vec<_> = rows.items.iter().map(|(_, c)| c).collect();
        prefetch::creators(ctx, &page_rows).await?;
        Ok(pagination::connection(db, (rows, counted), Creator))
    }
}

// ---------------------------------------------------------------------------------
// Mutations.
// ---------------------------------------------------------------------------------

use crate::graphql::payload::{input_id, payload};

payload!(
    /// Result of `becomeCreator`, `followCreator` and `unfollowCreator`.
    CreatorPayload, creator: Creator
);

/// Input of `becomeCreator`.
#[derive(InputObject)]
pub struct BecomeCreatorInput {
    /// Name shown to learners, 1 to 64 characters.
    pub display_name: String,
    /// About you, up to 2,000 characters.
    pub bio: Option<String>,
}

/// Input naming one creator.
#[derive(InputObject)]
pub struct CreatorRefInput {
    /// The creator.
    pub creator: ID,
}

/// Creator mutations.
#[derive(Default)]
pub struct CreatorMutation;

/// Creator mutations: becoming one, following one.
#[Object]
impl CreatorMutation {
    /// Gives the viewer a creator profile so they can sell.
    async fn become_creator(
        &self,
        ctx: &Context<'_>,
        input: BecomeCreatorInput,
    ) -> async_graphql::Result<CreatorPayload> {
        let result = crate::service::users::become_creator(
            ctx.db()?,
            ctx.effects()?,
            ctx.actor()?,
            &input.display_name,
            input.bio.as_deref(),
        )
        .await;
        CreatorPayload::from_result(result.map(Creator))
    }

    /// Follows a creator.
    async fn follow_creator(
        &self,
        ctx: &Context<'_>,
        input: CreatorRefInput,
    ) -> async_graphql::Result<CreatorPayload> {
        let result = async {
            let id = input_id(&input.creator, type_name::CREATOR, "creator")?;
            creators::follow(ctx.db()?, ctx.actor()?, id)
                .await
                .map(Creator)
        }
        .await;
        CreatorPayload::from_result(result)
    }

    /// Stops following a creator.
    async fn unfollow_creator(
        &self,
        ctx: &Context<'_>,
        input: CreatorRefInput,
    ) -> async_graphql::Result<CreatorPayload> {
        let result = async {
            let id = input_id(&input.creator, type_name::CREATOR, "creator")?;
            creators::unfollow(ctx.db()?, ctx.actor()?, id)
                .await
                .map(Creator)
        }
        .await;
        CreatorPayload::from_result(result)
    }
}
