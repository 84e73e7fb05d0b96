//! Moderation of groups: muting and removing members, members' reports of posts, and
//! the admins' report list.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};

use crate::error::AppError;
use crate::graphql::context::ContextExt;
use crate::graphql::group::GroupPayload;
use crate::graphql::ids::{self, type_name};
use crate::graphql::loaders::UserById;
use crate::graphql::objects::{CommunityGroup, GroupPost, User};
use crate::graphql::pagination::{self, Conn};
use crate::graphql::payload::{input_id, payload};
use crate::service::access::ProductRef;
use crate::service::community::moderation;

/// A member's report of a group post, for admins.
pub struct PostReport {
    report: entity::post_report::Model,
    /// The reported post (removed or not) with its group.
    post: Option<GroupPost>,
}

/// A member's report of a group post, for admins.
#[Object]
impl PostReport {
    /// Its ID (`PostReport`), to resolve it.
    async fn id(&self) -> ID {
        ids::encode(type_name::POST_REPORT, self.report.id)
    }
    /// The reported post (also when it was removed since).
    async fn post(&self) -> Option<&GroupPost> {
        self.post.as_ref()
    }
    /// Whether the post was removed, and why.
    async fn post_removed_reason(&self) -> Option<&str> {
        self.post.as_ref().and_then(|p| {
            p.post
                .deleted_at
                .map(|_| p.post.delete_reason.as_deref().unwrap_or(""))
        })
    }
    /// What the reporter says is wrong.
    async fn reason(&self) -> &str {
        &self.report.reason
    }
    /// Who reported it.
    async fn reporter(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        ctx.loader()?
            .load_one(UserById(self.report.reporter_id))
            .await?
            .map(User)
            .ok_or_else(|| AppError::NotFound("user").into())
    }
    /// When it was reported.
    async fn created_at(&self) -> DateTime<Utc> {
        self.report.created_at
    }
    /// When an admin dealt with it; null while open.
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.report.resolved_at
    }
}

/// Moderation queries.
#[derive(Default)]
pub struct ModerationQuery;

/// Moderation queries.
#[Object]
impl ModerationQuery {
    /// Reports of group posts, oldest first (admins on the console); `open: true`
    /// keeps the unresolved ones, `false` the resolved ones.
    #[graphql(complexity = "pagination::cost(first, last, child_complexity)")]
    async fn post_reports(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        open: Option<bool>,
    ) -> async_graphql::Result<Conn<PostReport>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, last, before)?;
        let rows = moderation::reports(db, ctx.actor()?, open, &page).await?;
        // The page's posts and their groups, in two queries.
        let post_ids: Vec<i64> = rows.0.items.iter().map(|(_, r)| r.post_id).collect();
        let posts = moderation::reported_posts(db, &post_ids).await?;
        let group_ids: Vec<i64> = posts.values().map(|p| p.group_id).collect();
        let groups = crate::service::groups::by_ids(db, &group_ids).await?;
        Ok(pagination::connection(db, rows, |report| {
            let post = posts.get(&report.post_id).and_then(|post| {
                groups.get(&post.group_id).map(|group| GroupPost {
                    post: post.clone(),
                    group: ProductRef::group(group),
                })
            });
            PostReport { report, post }
        }))
    }
}

/// Input of `muteMember`.
#[derive(InputObject)]
pub struct MuteMemberInput {
    /// The group.
    pub group: ID,
    /// The member.
    pub user: ID,
    /// Muted until then (in the future, within a year); null ends a mute.
    pub until: Option<DateTime<Utc>>,
    /// Why, up to 200 characters.
    pub reason: Option<String>,
}

/// Input of `removeMember`.
#[derive(InputObject)]
pub struct RemoveMemberInput {
    /// The group.
    pub group: ID,
    /// The member.
    pub user: ID,
    /// Why (kept for the moderators), 1 to 200 characters.
    pub reason: String,
}

/// Input of `reportPost`.
#[derive(InputObject)]
pub struct ReportPostInput {
    /// The post.
    pub post: ID,
    /// What is wrong with it, 1 to 500 characters.
    pub reason: String,
}

/// Input of `resolveReport`.
#[derive(InputObject)]
pub struct ResolveReportInput {
    /// The report.
    pub report: ID,
}

payload!(
    /// Result of `reportPost` and `resolveReport`.
    PostReportPayload, report: PostReport
);

/// Moderation mutations.
#[derive(Default)]
pub struct ModerationMutation;

/// Moderation mutations.
#[Object]
impl ModerationMutation {
    /// Mutes a member in a group until a time, or ends the mute with `until: null` (the
    /// group's creator or an admin). A muted member's posts and replies are refused
    /// with MUTED.
    async fn mute_member(
        &self,
        ctx: &Context<'_>,
        input: MuteMemberInput,
    ) -> async_graphql::Result<GroupPayload> {
        let result = async {
            let group = input_id(&input.group, type_name::COMMUNITY_GROUP, "group")?;
            let user = input_id(&input.user, type_name::USER, "user")?;
            moderation::mute(
                ctx.db()?,
                ctx.actor()?,
                group,
                user,
                input.until,
                input.reason.as_deref(),
            )
            .await
            .map(CommunityGroup)
        }
        .await;
        GroupPayload::from_result(result)
    }

    /// Removes a member from a group for good (the group's creator or an admin): their
    /// membership ends, with no refund unless the owner refunds the order, and they
    /// may not rejoin.
    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        input: RemoveMemberInput,
    ) -> async_graphql::Result<GroupPayload> {
        let result = async {
            let group = input_id(&input.group, type_name::COMMUNITY_GROUP, "group")?;
            let user = input_id(&input.user, type_name::USER, "user")?;
            moderation::remove_member(
                ctx.db()?,
                ctx.effects()?,
                ctx.actor()?,
                group,
                user,
                &input.reason,
            )
            .await
            .map(CommunityGroup)
        }
        .await;
        GroupPayload::from_result(result)
    }

    /// Reports a post to the admins (readers of its group; one report per reader and
    /// post, a repeat keeps the first).
    async fn report_post(
        &self,
        ctx: &Context<'_>,
        input: ReportPostInput,
    ) -> async_graphql::Result<PostReportPayload> {
        let result = async {
            let id = input_id(&input.post, type_name::GROUP_POST, "post")?;
            let report = moderation::report(ctx.db()?, ctx.actor()?, id, &input.reason).await?;
            Ok(PostReport { report, post: None })
        }
        .await;
        PostReportPayload::from_result(result)
    }

    /// Marks a report as dealt with (admins on the console).
    async fn resolve_report(
        &self,
        ctx: &Context<'_>,
        input: ResolveReportInput,
    ) -> async_graphql::Result<PostReportPayload> {
        let result = async {
            let id = input_id(&input.report, type_name::POST_REPORT, "report")?;
            let report = moderation::resolve_report(ctx.db()?, ctx.actor()?, id).await?;
            Ok(PostReport { report, post: None })
        }
        .await;
        PostReportPayload::from_result(result)
    }
}
