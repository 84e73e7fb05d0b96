//! Community groups: `CommunityGroup`, its members and posts, the viewer's membership,
//! and the groups list (posts themselves are in [`super::community`]).

use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};

use crate::error::AppError;
use crate::graphql::access;
use crate::graphql::context::ContextExt;
use crate::graphql::enums::{OrderDirection, PostKind};
use crate::graphql::ids;
use crate::graphql::ids::type_name;
use crate::graphql::loaders::{CreatorById, UserById};
use crate::graphql::money::Money;
use crate::graphql::objects::{CommunityGroup, Creator, GroupPost, User};
use crate::graphql::pagination::{self, Conn};
use crate::service::access::ProductRef;
use crate::service::community::posts;
use crate::service::groups;

/// A free or paid community group run by a creator.
#[Object]
impl CommunityGroup {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(type_name::COMMUNITY_GROUP, self.0.id)
    }
    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What the group is for.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Membership price (zero for free groups).
    async fn price(&self) -> Money {
        Money::cny(self.0.price_fen)
    }
    /// Its limited-time price, current or upcoming (null when none, or once it ended).
    async fn sale(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::graphql::pricing::Sale>> {
        crate::graphql::pricing::sale_of(ctx, &ProductRef::group(&self.0)).await
    }
    /// Coupons offered on this product's page, to claim (`claimCoupon`).
    async fn claimable_coupons(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::graphql::coupon::Coupon>> {
        crate::graphql::coupon::claimable(ctx, &ProductRef::group(&self.0)).await
    }
    /// What the viewer pays for the membership now, and why (what `createOrder` charges).
    async fn viewer_price(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<crate::graphql::pricing::ViewerPrice> {
        crate::graphql::pricing::viewer_price(ctx, &ProductRef::group(&self.0)).await
    }
    /// How long a paid membership lasts; null means for ever.
    async fn membership_days(&self) -> Option<i32> {
        self.0.membership_days
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The IANA time zone whose days its check-ins count in.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }
    /// What a paid question to its creator costs; null when they take none.
    async fn question_price(&self) -> Option<Money> {
        self.0.question_price_fen.map(Money::cny)
    }
    /// Hours the creator has to answer a paid question before it is refunded.
    async fn question_answer_hours(&self) -> i32 {
        self.0.question_answer_hours
    }
    /// Paid questions, newest first: all paid ones for the creator and admins; the
    /// viewer's own and the public answers for others.
    #[graphql(complexity = "pagination::cost(first, None, child_complexity)")]
    async fn questions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Conn<crate::graphql::question::PaidQuestion>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, None, None)?;
        let rows =
            crate::service::community::questions::list(db, ctx.actor()?, &self.0, &page).await?;
        Ok(pagination::connection(
            db,
            rows,
            crate::graphql::question::PaidQuestion,
        ))
    }
    /// True when the viewer may not read the posts.
    async fn locked(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(!access::can_open(ctx, &ProductRef::group(&self.0)).await?)
    }
    /// Who runs it.
    async fn creator(&self, ctx: &Context<'_>) -> async_graphql::Result<Creator> {
        ctx.loader()?
            .load_one(CreatorById(self.0.creator_id))
            .await?
            .map(Creator)
            .ok_or_else(|| AppError::NotFound("creator").into())
    }
    /// Members, most recent first. Of a paid group: visible to its owner, admins and
    /// members only (FORBIDDEN otherwise).
    #[graphql(complexity = "pagination::cost(first, last, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<User>> {
        let db = ctx.db()?;
        let loader = ctx.loader()?;
        let page = pagination::page_request(first, after, last, before)?;
        let rows = groups::members(db, ctx.actor()?, &self.0, &page).await?;
        // Users of the whole page in one query.
        let users = loader
            .load_many(rows.0.items.iter().map(|(_, m)| UserById(m.user_id)))
            .await?;
        Ok(pagination::connection_filter_map(db, rows, |m| {
            users.get(&UserById(m.user_id)).cloned().map(User)
        }))
    }
    /// Posts, newest first unless `orderBy` says otherwise; removed posts left out.
    /// Those who may not read the group (strangers, lapsed members) get the digest
    /// posts' titles only, without bodies. `pinned` and `kind` are the same as in
    /// `filter`.
    #[graphql(complexity = "pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        pinned: Option<bool>,
        kind: Option<PostKind>,
        filter: Option<GroupPostFilter>,
        order_by: Option<PostOrder>,
    ) -> async_graphql::Result<Conn<GroupPost>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let filter = posts::PostFilter {
            pinned: filter.pinned.or(pinned),
            digest: filter.digest,
            kind: filter.kind.or(kind).map(Into::into),
            hashtag: filter.hashtag,
            author_is_owner: filter.author_is_owner,
        };
        let order = match order_by.unwrap_or_default() {
            PostOrder::Newest => posts::PostOrder::Newest,
            PostOrder::MostReplied => posts::PostOrder::MostReplied,
        };
        let rows = posts::list(db, ctx.actor()?, &self.0, filter, order, &page).await?;
        let group = ProductRef::group(&self.0);
        Ok(pagination::connection(db, rows, |post| GroupPost {
            post,
            group,
        }))
    }
    /// The viewer's membership, running or lapsed, with when it ends and what renewing
    /// costs them now; null when signed out or never a member.
    async fn viewer_membership(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<GroupMembershipInfo>> {
        Ok(ctx
            .loader()?
            .load_one(crate::graphql::loaders::ViewerMembership(self.0.id))
            .await?
            .map(|membership| GroupMembershipInfo {
                membership,
                group: ProductRef::group(&self.0),
            }))
    }
}

/// Filters of a group's posts; each one given narrows the list.
#[derive(InputObject, Default)]
pub struct GroupPostFilter {
    /// Only pinned (true) or unpinned (false) posts.
    pub pinned: Option<bool>,
    /// Only digest (精华, true) or other (false) posts.
    pub digest: Option<bool>,
    /// Only posts of this kind.
    pub kind: Option<PostKind>,
    /// Only posts with this hashtag (with or without `#`).
    pub hashtag: Option<String>,
    /// Only posts by the group's creator (true) or by its members (false).
    pub author_is_owner: Option<bool>,
}

/// How a group's posts are ordered.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PostOrder {
    /// Newest first.
    #[default]
    Newest,
    /// Most replies first (newest first among equals).
    MostReplied,
}

/// The viewer's membership of a group.
pub struct GroupMembershipInfo {
    membership: entity::group_membership::Model,
    group: ProductRef,
}

/// The viewer's membership of a group, running or lapsed.
#[Object]
impl GroupMembershipInfo {
    /// When they joined.
    async fn joined_at(&self) -> DateTime<Utc> {
        self.membership.joined_at
    }
    /// When it ends or ended; null for ever.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.membership.expires_at
    }
    /// True while it runs.
    async fn active(&self) -> bool {
        self.membership
            .expires_at
            .is_none_or(|end| end > Utc::now())
    }
    /// What renewing (buying the membership again) costs the viewer now.
    async fn renew_price(&self, ctx: &Context<'_>) -> async_graphql::Result<Money> {
        Ok(crate::graphql::pricing::viewer_price(ctx, &self.group)
            .await?
            .amount)
    }
}

/// Filters of the group list.
#[derive(InputObject, Default)]
pub struct GroupFilter {
    /// Only this creator's groups.
    pub creator: Option<ID>,
    /// Only free (true) or only paid (false) groups.
    pub free: Option<bool>,
    /// Text the name contains (case-insensitive).
    pub name_contains: Option<String>,
}

/// Group queries.
#[derive(Default)]
pub struct GroupQuery;

/// Group queries.
#[Object]
impl GroupQuery {
    /// Community groups, newest first.
    #[graphql(complexity = "pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn groups(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<GroupFilter>,
        #[graphql(default)] direction: OrderDirection,
    ) -> async_graphql::Result<Conn<CommunityGroup>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let filter = groups::GroupFilter {
            creator_id: filter
                .creator
                .as_ref()
                .map(|id| ids::decode(id, type_name::CREATOR))
                .transpose()?,
            free: filter.free,
            name_contains: filter.name_contains,
        };
        let rows = groups::list(db, filter, direction.into(), &page).await?;
        Ok(pagination::connection(db, rows, CommunityGroup))
    }
}

// ---------------------------------------------------------------------------------
// Mutations.
// ---------------------------------------------------------------------------------

use crate::graphql::payload::{input_id, payload};
use crate::service::groups::{GroupChanges, NewGroup};

payload!(
    /// Result of a group mutation.
    GroupPayload, group: CommunityGroup
);

/// Input of `createGroup`.
#[derive(InputObject)]
pub struct CreateGroupInput {
    /// Name, 1 to 64 characters.
    pub name: String,
    /// Description, up to 5,000 characters.
    pub description: Option<String>,
    /// Membership price in fen; 0 makes a free group.
    #[graphql(default)]
    pub price_fen: i64,
    /// Length of a paid membership in days (1 to 3,650); omitted means for ever.
    pub membership_days: Option<i32>,
    /// The IANA time zone whose days its check-ins count in (Asia/Shanghai when
    /// omitted).
    pub time_zone: Option<String>,
}

/// Input of `updateGroup`; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateGroupInput {
    /// The group.
    pub group: ID,
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New price in fen.
    pub price_fen: Option<i64>,
    /// New membership length in days (0 means for ever).
    pub membership_days: Option<i32>,
    /// New time zone of its days (an IANA name).
    pub time_zone: Option<String>,
    /// New price of a paid question to the creator, in fen (0 stops taking them).
    pub question_price_fen: Option<i64>,
    /// New answer window of paid questions, in hours (1 to 720; 48 by default).
    pub question_answer_hours: Option<i32>,
}

/// Input naming one group.
#[derive(InputObject)]
pub struct GroupRefInput {
    /// The group.
    pub group: ID,
}

/// Group mutations.
#[derive(Default)]
pub struct GroupMutation;

/// Group mutations: groups, membership of free groups, posts.
#[Object]
impl GroupMutation {
    /// Creates a group of the viewer's creator profile.
    async fn create_group(
        &self,
        ctx: &Context<'_>,
        input: CreateGroupInput,
    ) -> async_graphql::Result<GroupPayload> {
        let new = NewGroup {
            name: input.name,
            description: input.description,
            price_fen: input.price_fen,
            membership_days: input.membership_days,
            time_zone: input.time_zone,
        };
        let result = groups::create(ctx.db()?, ctx.actor()?, new)
            .await
            .map(CommunityGroup);
        GroupPayload::from_result(result)
    }

    /// Changes a group.
    async fn update_group(
        &self,
        ctx: &Context<'_>,
        input: UpdateGroupInput,
    ) -> async_graphql::Result<GroupPayload> {
        let result = async {
            let id = input_id(&input.group, type_name::COMMUNITY_GROUP, "group")?;
            let changes = GroupChanges {
                name: input.name,
                description: input.description,
                price_fen: input.price_fen,
                membership_days: input.membership_days,
                time_zone: input.time_zone,
                question_price_fen: input.question_price_fen,
                question_answer_hours: input.question_answer_hours,
            };
            groups::update(ctx.db()?, ctx.actor()?, id, changes)
                .await
                .map(CommunityGroup)
        }
        .await;
        GroupPayload::from_result(result)
    }

    /// Joins a free group (paid groups are bought with `createOrder`).
    async fn join_group(
        &self,
        ctx: &Context<'_>,
        input: GroupRefInput,
    ) -> async_graphql::Result<GroupPayload> {
        let result = async {
            let id = input_id(&input.group, type_name::COMMUNITY_GROUP, "group")?;
            let group = groups::join(ctx.db()?, ctx.effects()?, ctx.actor()?, id).await?;
            Ok(CommunityGroup(group))
        }
        .await;
        GroupPayload::from_result(result)
    }

    /// Leaves a group.
    async fn leave_group(
        &self,
        ctx: &Context<'_>,
        input: GroupRefInput,
    ) -> async_graphql::Result<GroupPayload> {
        let result = async {
            let id = input_id(&input.group, type_name::COMMUNITY_GROUP, "group")?;
            let group = groups::leave(ctx.db()?, ctx.effects()?, ctx.actor()?, id).await?;
            Ok(CommunityGroup(group))
        }
        .await;
        GroupPayload::from_result(result)
    }
}
