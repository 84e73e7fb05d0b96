//! Conversation in groups: `GroupPost`, `GroupReply`, and the mutations that write,
//! edit, remove, curate, like and answer posts (moderation of members is in
//! [`super::moderation`]).

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};

use crate::error::AppError;
use crate::graphql::access;
use crate::graphql::context::ContextExt;
use crate::graphql::enums::PostKind;
use crate::graphql::group::GroupPayload;
use crate::graphql::ids::{self, type_name};
use crate::graphql::loaders::{GroupById, LikedByViewer, UserById};
use crate::graphql::objects::{CommunityGroup, GroupPost, User};
use crate::graphql::pagination::{self, Conn};
use crate::graphql::payload::{input_id, payload};
use crate::service::access::ProductRef;
use crate::service::community::{self, check_ins, posts};

/// A post in a group.
#[Object]
impl GroupPost {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(type_name::GROUP_POST, self.post.id)
    }
    /// Its first line, up to 40 characters: shown to everyone for digest posts (the
    /// preview of a paid group), otherwise null when locked.
    async fn title(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let open = self.post.digest || access::can_open(ctx, &self.group).await?;
        Ok(open.then(|| posts::title(&self.post)))
    }
    /// Text of the post; null when locked.
    async fn body(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(access::can_open(ctx, &self.group)
            .await?
            .then_some(self.post.body.as_str()))
    }
    /// Image URLs, in order (empty when locked).
    async fn images(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        Ok(if access::can_open(ctx, &self.group).await? {
            posts::images(&self.post)
        } else {
            Vec::new()
        })
    }
    /// Hashtags, without `#` (empty when locked).
    async fn hashtags(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        Ok(if access::can_open(ctx, &self.group).await? {
            posts::hashtags(&self.post)
        } else {
            Vec::new()
        })
    }
    /// True when the viewer is not a member of this paid group.
    async fn locked(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(!access::can_open(ctx, &self.group).await?)
    }
    /// Talk, question, task or announcement.
    async fn kind(&self) -> PostKind {
        self.post.kind.into()
    }
    /// Pinned to the top by the group's creator (at most three at once).
    async fn pinned(&self) -> bool {
        self.post.pinned
    }
    /// Marked as digest (精华) by the group's creator.
    async fn digest(&self) -> bool {
        self.post.digest
    }
    /// How many users like it.
    async fn like_count(&self) -> i64 {
        self.post.like_count
    }
    /// How many replies it has (removed ones not counted).
    async fn reply_count(&self) -> i64 {
        self.post.reply_count
    }
    /// Its replies in time order, flat (a reply to a reply names it in `replyTo`);
    /// removed replies left out; for those who may read the group.
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
        Ok(ctx
            .loader()?
            .load_one(LikedByViewer(self.post.id))
            .await?
            .unwrap_or(false))
    }
    /// Its check-in challenge, when it is a TASK with days.
    async fn task(&self) -> Option<crate::graphql::check_in::Task> {
        check_ins::days_of(&self.post).map(|days| crate::graphql::check_in::Task {
            post: self.post.clone(),
            days,
        })
    }
    /// When it was posted.
    async fn created_at(&self) -> DateTime<Utc> {
        self.post.created_at
    }
    /// When its author last edited it (null if never).
    async fn edited_at(&self) -> Option<DateTime<Utc>> {
        self.post.edited_at
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

payload!(
    /// Result of a post mutation.
    GroupPostPayload, post: GroupPost
);
payload!(
    /// Result of `replyToPost`.
    ReplyToPostPayload, reply: GroupReply
);

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
    /// Image URLs (http or https), at most nine.
    pub images: Option<Vec<String>>,
    /// Hashtags (with or without `#`, 1 to 20 characters, no spaces), at most five.
    pub hashtags: Option<Vec<String>>,
    /// Makes a TASK post a check-in challenge over these days.
    pub task: Option<crate::graphql::check_in::TaskInput>,
}

/// Input of `editPost`: omitted parts stay as they are.
#[derive(InputObject)]
pub struct EditPostInput {
    /// The post (the viewer's own, within 24 hours of posting).
    pub post: ID,
    /// New text.
    pub body: Option<String>,
    /// New image URLs (an empty list removes them).
    pub images: Option<Vec<String>>,
    /// New hashtags (an empty list removes them).
    pub hashtags: Option<Vec<String>>,
}

/// Input of `deletePost`.
#[derive(InputObject)]
pub struct DeletePostInput {
    /// The post.
    pub post: ID,
}

/// Input of `removePost`.
#[derive(InputObject)]
pub struct RemovePostInput {
    /// The post.
    pub post: ID,
    /// Why it is removed (kept for the moderators), 1 to 200 characters.
    pub reason: String,
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

/// Input of `markDigest`.
#[derive(InputObject)]
pub struct MarkDigestInput {
    /// The post.
    pub post: ID,
    /// Mark (true) or take the mark off (false).
    #[graphql(default = true)]
    pub digest: bool,
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

/// Input of `deleteReply` and `removeReply`.
#[derive(InputObject)]
pub struct RemoveReplyInput {
    /// The reply.
    pub reply: ID,
    /// Why it is removed: required of moderators removing someone else's reply.
    pub reason: Option<String>,
}

/// Input of `likePost` and `unlikePost`.
#[derive(InputObject)]
pub struct LikePostInput {
    /// The post.
    pub post: ID,
}

/// The post as a GraphQL object.
fn shown((post, group): (entity::group_post::Model, entity::community_group::Model)) -> GroupPost {
    GroupPost {
        post,
        group: ProductRef::group(&group),
    }
}

/// Reads a list input that may be absent.
fn list(values: Option<Vec<String>>) -> Vec<String> {
    values.unwrap_or_default()
}

/// Post mutations.
#[derive(Default)]
pub struct CommunityMutation;

/// Post mutations: writing, editing, removing, curating, liking and replying.
#[Object]
impl CommunityMutation {
    /// Posts in a group the viewer belongs to (refused with MUTED while muted).
    async fn create_post(
        &self,
        ctx: &Context<'_>,
        input: CreatePostInput,
    ) -> async_graphql::Result<GroupPostPayload> {
        let result = async {
            let id = input_id(&input.group, type_name::COMMUNITY_GROUP, "group")?;
            let content = posts::PostContent {
                body: input.body,
                images: list(input.images),
                hashtags: list(input.hashtags),
                task: input.task.map(|t| check_ins::TaskDays {
                    starts_on: t.starts_on.0,
                    ends_on: t.ends_on.0,
                }),
            };
            let kind = input.kind.unwrap_or_default().into();
            posts::create(ctx.db()?, ctx.actor()?, id, kind, content)
                .await
                .map(shown)
        }
        .await;
        GroupPostPayload::from_result(result)
    }

    /// Edits the viewer's own post within 24 hours of posting (EDIT_WINDOW_CLOSED
    /// after).
    async fn edit_post(
        &self,
        ctx: &Context<'_>,
        input: EditPostInput,
    ) -> async_graphql::Result<GroupPostPayload> {
        let result = async {
            let id = input_id(&input.post, type_name::GROUP_POST, "post")?;
            let edit = posts::PostEdit {
                body: input.body,
                images: input.images,
                hashtags: input.hashtags,
            };
            posts::edit(ctx.db()?, ctx.actor()?, id, edit)
                .await
                .map(shown)
        }
        .await;
        GroupPostPayload::from_result(result)
    }

    /// Deletes the viewer's own post (the group's creator and admins use `removePost`).
    async fn delete_post(
        &self,
        ctx: &Context<'_>,
        input: DeletePostInput,
    ) -> async_graphql::Result<GroupPayload> {
        let result = async {
            let id = input_id(&input.post, type_name::GROUP_POST, "post")?;
            posts::remove(ctx.db()?, ctx.actor()?, id, None)
                .await
                .map(CommunityGroup)
        }
        .await;
        GroupPayload::from_result(result)
    }

    /// Removes a post from a group with a reason (the group's creator or an admin); it
    /// is hidden, kept with the reason.
    async fn remove_post(
        &self,
        ctx: &Context<'_>,
        input: RemovePostInput,
    ) -> async_graphql::Result<GroupPayload> {
        let result = async {
            let id = input_id(&input.post, type_name::GROUP_POST, "post")?;
            posts::remove(ctx.db()?, ctx.actor()?, id, Some(&input.reason))
                .await
                .map(CommunityGroup)
        }
        .await;
        GroupPayload::from_result(result)
    }

    /// Pins or unpins a post (the group's creator or an admin; at most three pinned,
    /// LIMIT_REACHED beyond).
    async fn pin_post(
        &self,
        ctx: &Context<'_>,
        input: PinPostInput,
    ) -> async_graphql::Result<GroupPostPayload> {
        let result = async {
            let id = input_id(&input.post, type_name::GROUP_POST, "post")?;
            posts::pin(ctx.db()?, ctx.actor()?, id, input.pinned)
                .await
                .map(shown)
        }
        .await;
        GroupPostPayload::from_result(result)
    }

    /// Marks a post as digest (精华) or takes the mark off (the group's creator or an
    /// admin).
    async fn mark_digest(
        &self,
        ctx: &Context<'_>,
        input: MarkDigestInput,
    ) -> async_graphql::Result<GroupPostPayload> {
        let result = async {
            let id = input_id(&input.post, type_name::GROUP_POST, "post")?;
            posts::set_digest(ctx.db()?, ctx.actor()?, id, input.digest)
                .await
                .map(shown)
        }
        .await;
        GroupPostPayload::from_result(result)
    }

    /// Replies to a post (members of its group, not while muted), optionally answering
    /// another reply.
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

    /// Removes a reply: the viewer's own, or any with a reason for the group's creator
    /// and admins. Answers its post, whose `replyCount` no longer counts it.
    async fn remove_reply(
        &self,
        ctx: &Context<'_>,
        input: RemoveReplyInput,
    ) -> async_graphql::Result<GroupPostPayload> {
        let result = async {
            let id = input_id(&input.reply, type_name::GROUP_REPLY, "reply")?;
            let db = ctx.db()?;
            let post_id =
                community::remove_reply(db, ctx.actor()?, id, input.reason.as_deref()).await?;
            posts::get(db, post_id)
                .await?
                .map(shown)
                .ok_or_else(|| crate::service::not_found("reply"))
        }
        .await;
        GroupPostPayload::from_result(result)
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
        community::set_like(ctx.db()?, ctx.actor()?, id, like)
            .await
            .map(shown)
    }
    .await;
    GroupPostPayload::from_result(result)
}
