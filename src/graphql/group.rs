//! Community groups: `CommunityGroup`, `GroupPost`, members and the groups list.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};

use crate::error::AppError;
use crate::graphql::access;
use crate::graphql::context::ContextExt;
use crate::graphql::enums::{OrderDirection, PostKind};
use crate::graphql::ids;
use crate::graphql::ids::type_name;
use crate::graphql::loaders::{CreatorById, GroupById, UserById};
use crate::graphql::money::Money;
use crate::graphql::objects::{CommunityGroup, Creator, GroupPost, User};
use crate::graphql::pagination::{self, Conn};
use crate::service::access::ProductRef;
use crate::service::{community, groups};

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
    /// Posts, newest first; bodies are null when locked.
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
    ) -> async_graphql::Result<Conn<GroupPost>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, last, before)?;
        let rows = groups::posts(db, self.0.id, pinned, kind.map(Into::into), &page).await?;
        let group = ProductRef::group(&self.0);
        Ok(pagination::connection(db, rows, |post| GroupPost {
            post,
            group,
        }))
    }
}

/// A post in a group.
#[Object]
impl GroupPost {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(type_name::GROUP_POST, self.post.id)
    }
    /// Text of the post; null when locked.
    async fn body(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(access::can_open(ctx, &self.group)
            .await?
            .then_some(self.post.body.as_str()))
    }
    /// True when the viewer is not a member of this paid group.
    async fn locked(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(!access::can_open(ctx, &self.group).await?)
    }
    /// Talk, question, task or announcement.
    async fn kind(&self) -> PostKind {
        self.post.kind.into()
    }
    /// Pinned to the top by the group's creator.
    async fn pinned(&self) -> bool {
        self.post.pinned
    }
    /// How many users like it.
    async fn like_count(&self) -> i64 {
        self.post.like_count
    }
    /// How many replies it has.
    async fn reply_count(&self) -> i64 {
        self.post.reply_count
    }
    /// Its replies in time order, flat (a reply to a reply names it in `replyTo`); for
    /// those who may open the group.
    #[graphql(complexity = "pagination::cost(first, None, child_complexity)")]
    async fn replies(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Conn<GroupReply>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, None, None)?;
        let rows = community::replies(db, ctx.actor()?, self.post.id, &page).await?;
        Ok(pagination::connection(db, rows, GroupReply))
    }
    /// Whether the viewer likes it (false when signed out).
    async fn viewer_has_liked(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(match ctx.actor()?.user_id() {
            Some(user_id) => community::likes(ctx.db()?, user_id, self.post.id).await?,
            None => false,
        })
    }
    /// When it was posted.
    async fn created_at(&self) -> DateTime<Utc> {
        self.post.created_at
    }
    /// Who wrote it.
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        ctx.loader()?
            .load_one(UserById(self.post.author_id))
            .await?
            .map(User)
            .ok_or_else(|| AppError::NotFound("user").into())
    }
    /// The group it was posted in.
    async fn group(&self, ctx: &Context<'_>) -> async_graphql::Result<CommunityGroup> {
        ctx.loader()?
            .load_one(GroupById(self.post.group_id))
            .await?
            .map(CommunityGroup)
            .ok_or_else(|| AppError::NotFound("group").into())
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
payload!(
    /// Result of a post mutation.
    GroupPostPayload, post: GroupPost
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
}

/// Input naming one group.
#[derive(InputObject)]
pub struct GroupRefInput {
    /// The group.
    pub group: ID,
}

/// Input of `createPost`.
#[derive(InputObject)]
pub struct CreatePostInput {
    /// The group to post in.
    pub group: ID,
    /// Text, 1 to 5,000 characters.
    pub body: String,
    /// What it is: TALK when omitted or null; ANNOUNCEMENT for the group's creator and
    /// admins only.
    pub kind: Option<PostKind>,
}

/// Input of `deletePost`.
#[derive(InputObject)]
pub struct DeletePostInput {
    /// The post.
    pub post: ID,
}

/// Input of `pinPost`.
#[derive(InputObject)]
pub struct PinPostInput {
    /// The post.
    pub post: ID,
    /// Pin (true) or unpin (false).
    #[graphql(default = true)]
    pub pinned: bool,
}

/// A reply to a group post.
pub struct GroupReply(pub entity::group_reply::Model);

/// A reply to a group post (read through its post, not a `Node`).
#[Object]
impl GroupReply {
    /// Its ID (`GroupReply`), to answer it with `replyTo`.
    async fn id(&self) -> ID {
        ids::encode(type_name::GROUP_REPLY, self.0.id)
    }
    /// The text.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// The reply it answers, of the same post.
    async fn reply_to(&self) -> Option<ID> {
        self.0
            .reply_to_id
            .map(|id| ids::encode(type_name::GROUP_REPLY, id))
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Who wrote it.
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        ctx.loader()?
            .load_one(UserById(self.0.author_id))
            .await?
            .map(User)
            .ok_or_else(|| AppError::NotFound("user").into())
    }
}

/// Input of `replyToPost`.
#[derive(InputObject)]
pub struct ReplyToPostInput {
    /// The post.
    pub post: ID,
    /// The text, 1 to 2,000 characters after trimming.
    pub body: String,
    /// The reply of the same post this one answers.
    pub reply_to: Option<ID>,
}

payload!(
    /// Result of `replyToPost`.
    ReplyToPostPayload, reply: GroupReply
);

/// Input of `likePost` and `unlikePost`.
#[derive(InputObject)]
pub struct LikePostInput {
    /// The post.
    pub post: ID,
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

    /// Posts in a group the viewer belongs to.
    async fn create_post(
        &self,
        ctx: &Context<'_>,
        input: CreatePostInput,
    ) -> async_graphql::Result<GroupPostPayload> {
        let result = async {
            let id = input_id(&input.group, type_name::COMMUNITY_GROUP, "group")?;
            let db = ctx.db()?;
            let (post, group) = groups::create_post(
                db,
                ctx.actor()?,
                id,
                &input.body,
                input.kind.unwrap_or_default().into(),
            )
            .await?;
            Ok(GroupPost {
                post,
                group: ProductRef::group(&group),
            })
        }
        .await;
        GroupPostPayload::from_result(result)
    }

    /// Deletes a post (its author, the group's creator or an admin).
    async fn delete_post(
        &self,
        ctx: &Context<'_>,
        input: DeletePostInput,
    ) -> async_graphql::Result<GroupPayload> {
        let result = async {
            let id = input_id(&input.post, type_name::GROUP_POST, "post")?;
            groups::delete_post(ctx.db()?, ctx.actor()?, id)
                .await
                .map(CommunityGroup)
        }
        .await;
        GroupPayload::from_result(result)
    }

    /// Pins or unpins a post (the group's creator or an admin).
    async fn pin_post(
        &self,
        ctx: &Context<'_>,
        input: PinPostInput,
    ) -> async_graphql::Result<GroupPostPayload> {
        let result = async {
            let id = input_id(&input.post, type_name::GROUP_POST, "post")?;
            let db = ctx.db()?;
            let (post, group) = groups::pin_post(db, ctx.actor()?, id, input.pinned).await?;
            Ok(GroupPost {
                post,
                group: ProductRef::group(&group),
            })
        }
        .await;
        GroupPostPayload::from_result(result)
    }

    /// Replies to a post (members of its group), optionally answering another reply.
    async fn reply_to_post(
        &self,
        ctx: &Context<'_>,
        input: ReplyToPostInput,
    ) -> async_graphql::Result<ReplyToPostPayload> {
        let result = async {
            let post = input_id(&input.post, type_name::GROUP_POST, "post")?;
            let reply_to = input
                .reply_to
                .as_ref()
                .map(|id| input_id(id, type_name::GROUP_REPLY, "replyTo"))
                .transpose()?;
            community::reply(ctx.db()?, ctx.actor()?, post, &input.body, reply_to)
                .await
                .map(GroupReply)
        }
        .await;
        ReplyToPostPayload::from_result(result)
    }

    /// Likes a post (members of its group); liking twice changes nothing.
    async fn like_post(
        &self,
        ctx: &Context<'_>,
        input: LikePostInput,
    ) -> async_graphql::Result<GroupPostPayload> {
        like(ctx, &input.post, true).await
    }

    /// Takes back the viewer's like of a post; unliking twice changes nothing.
    async fn unlike_post(
        &self,
        ctx: &Context<'_>,
        input: LikePostInput,
    ) -> async_graphql::Result<GroupPostPayload> {
        like(ctx, &input.post, false).await
    }
}

async fn like(ctx: &Context<'_>, post: &ID, like: bool) -> async_graphql::Result<GroupPostPayload> {
    let result = async {
        let id = input_id(post, type_name::GROUP_POST, "post")?;
        let (post, group) = community::set_like(ctx.db()?, ctx.actor()?, id, like).await?;
        Ok(GroupPost {
            post,
            group: ProductRef::group(&group),
        })
    }
    .await;
    GroupPostPayload::from_result(result)
}
