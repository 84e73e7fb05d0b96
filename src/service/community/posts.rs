//! Group posts: writing them (text, images, hashtags), editing within a day, soft
//! deletes that keep the moderator's reason, digest (精华) and pins, and the post list
//! with its filters and orders.
//!
//! Who may read: anyone for a free group; for a paid group its active members, its
//! creator and admins. Everyone else (strangers, lapsed members) gets the preview: the
//! digest posts' titles, without bodies, so renewing is one tap away.

use chrono::{Duration, Utc};
use entity::enums::PostKind;
use entity::{community_group, creator, group_post, post_hashtag};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QuerySelect, Set,
};

use super::moderation;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::access::{self, ProductRef};
use crate::service::page::{self, Counted, Page, PageRequest, SortKey, SortValue};
use crate::service::validation::{Checks, FieldError, UserErrorCode};
use crate::service::{groups, not_found, require_owner};

/// How long after posting its author may still edit a post.
pub const EDIT_WINDOW: Duration = Duration::hours(24);
/// How many posts a group may have pinned at once.
pub const MAX_PINNED: u64 = 3;
/// How many images a post may carry (WeChat's nine-image grid).
pub const MAX_IMAGES: usize = 9;
/// How many hashtags a post may carry.
pub const MAX_HASHTAGS: usize = 5;
/// How long a hashtag may be, in characters.
const MAX_HASHTAG_CHARS: usize = 20;
/// How long a post's title (its first line) is at most, in characters.
const TITLE_CHARS: usize = 40;

/// What a post says: its text, image URLs and hashtags.
#[derive(Debug, Clone, Default)]
pub struct PostContent {
    /// Text, 1 to 5,000 characters after trimming.
    pub body: String,
    /// Image URLs (http or https), at most [`MAX_IMAGES`].
    pub images: Vec<String>,
    /// Hashtags, with or without `#`, at most [`MAX_HASHTAGS`].
    pub hashtags: Vec<String>,
    /// A TASK post's check-in days, to make it a challenge.
    pub task: Option<super::check_ins::TaskDays>,
}

/// An edit of a post; `None` leaves a part as it is.
#[derive(Debug, Clone, Default)]
pub struct PostEdit {
    /// New text.
    pub body: Option<String>,
    /// New images (an empty list removes them).
    pub images: Option<Vec<String>>,
    /// New hashtags (an empty list removes them).
    pub hashtags: Option<Vec<String>>,
}

/// Filters of a group's post list; each one given narrows it.
#[derive(Debug, Clone, Default)]
pub struct PostFilter {
    /// Only (un)pinned posts.
    pub pinned: Option<bool>,
    /// Only digest (or only other) posts.
    pub digest: Option<bool>,
    /// Only posts of this kind.
    pub kind: Option<PostKind>,
    /// Only posts carrying this hashtag (with or without `#`).
    pub hashtag: Option<String>,
    /// Only posts by the group's creator (true) or by members (false).
    pub author_is_owner: Option<bool>,
}

/// How a post list is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PostOrder {
    /// Newest first.
    #[default]
    Newest,
    /// Most replies first, newest first among equals.
    MostReplied,
}

/// A post's images, as stored (a JSON array of URLs).
pub fn images(post: &group_post::Model) -> Vec<String> {
    serde_json::from_str(&post.images).unwrap_or_default()
}

/// A post's hashtags, as stored (a JSON array, without `#`).
pub fn hashtags(post: &group_post::Model) -> Vec<String> {
    serde_json::from_str(&post.hashtags).unwrap_or_default()
}

/// A post's title: its first non-blank line, cut to 40 characters.
pub fn title(post: &group_post::Model) -> String {
    let line = post
        .body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let mut title: String = line.chars().take(TITLE_CHARS).collect();
    if line.chars().count() > TITLE_CHARS {
        title.push('…');
    }
    title
}

/// A hashtag as stored: `#` and surrounding blanks taken off, ASCII letters lowered.
fn normal_tag(tag: &str) -> String {
    tag.trim().trim_start_matches('#').trim().to_lowercase()
}

/// Checks images and hashtags; answers them as stored (JSON) and the distinct tags.
fn check_media(
    checks: &mut Checks,
    images: &[String],
    hashtags: &[String],
) -> (String, String, Vec<String>) {
    if images.len() > MAX_IMAGES {
        checks.fail(
            "images",
            UserErrorCode::OutOfRange,
            format!("at most {MAX_IMAGES} images"),
        );
    }
    let images: Vec<String> = images.iter().map(|url| checks.url("images", url)).collect();
    let mut tags: Vec<String> = Vec::new();
    for tag in hashtags.iter().map(|t| normal_tag(t)) {
        let bad = tag.is_empty()
            || tag.chars().count() > MAX_HASHTAG_CHARS
            || tag.chars().any(|c| c.is_whitespace() || c == '#');
        if bad {
            checks.fail(
                "hashtags",
                UserErrorCode::Invalid,
                format!("a hashtag is 1 to {MAX_HASHTAG_CHARS} characters without spaces"),
            );
        } else if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > MAX_HASHTAGS {
        checks.fail(
            "hashtags",
            UserErrorCode::OutOfRange,
            format!("at most {MAX_HASHTAGS} hashtags"),
        );
    }
    let as_json = |list: &[String]| serde_json::to_string(list).unwrap_or_else(|_| "[]".into());
    (as_json(&images), as_json(&tags), tags)
}

/// Replaces a post's rows in `post_hashtags` (inside the caller's transaction).
async fn write_tags(
    txn: &impl ConnectionTrait,
    post: &group_post::Model,
    tags: &[String],
) -> AppResult<()> {
    post_hashtag::Entity::delete_many()
        .filter(post_hashtag::Column::PostId.eq(post.id))
        .exec(txn)
        .await?;
    if tags.is_empty() {
        return Ok(());
    }
    post_hashtag::Entity::insert_many(tags.iter().map(|tag| post_hashtag::ActiveModel {
        post_id: Set(post.id),
        group_id: Set(post.group_id),
        tag: Set(tag.clone()),
        ..Default::default()
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// One post that was not removed, with its group.
pub async fn get(
    db: &impl ConnectionTrait,
    id: i64,
) -> AppResult<Option<(group_post::Model, community_group::Model)>> {
    let Some(post) = group_post::Entity::find_by_id(id)
        .filter(group_post::Column::DeletedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(groups::get(db, post.group_id)
        .await?
        .map(|group| (post, group)))
}

/// Whether the actor may read the group's conversation (posts, replies, members): see
/// the module's rules; a member removed from the group may not.
pub async fn can_read(
    db: &impl ConnectionTrait,
    actor: &Actor,
    group: &community_group::Model,
) -> AppResult<bool> {
    if let Some(user_id) = actor.user_id()
        && group.price_fen > 0
        && moderation::removed(db, group.id, user_id).await?
    {
        return Ok(false);
    }
    access::can_open(db, actor, &ProductRef::group(group)).await
}

/// One page of a group's posts (removed ones left out), filtered and ordered. Those
/// who may not read the group get its digest posts only (the preview).
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    group: &community_group::Model,
    filter: PostFilter,
    order: PostOrder,
    page: &PageRequest,
) -> AppResult<(Page<group_post::Model>, Counted<group_post::Entity>)> {
    let mut query = group_post::Entity::find()
        .filter(group_post::Column::GroupId.eq(group.id))
        .filter(group_post::Column::DeletedAt.is_null());
    let digest = if can_read(db, actor, group).await? {
        filter.digest
    } else {
        Some(true)
    };
    if let Some(digest) = digest {
        query = query.filter(group_post::Column::Digest.eq(digest));
    }
    if let Some(pinned) = filter.pinned {
        query = query.filter(group_post::Column::Pinned.eq(pinned));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(group_post::Column::Kind.eq(kind));
    }
    if let Some(tag) = filter.hashtag.as_deref().map(normal_tag) {
        let tagged = post_hashtag::Entity::find()
            .select_only()
            .column(post_hashtag::Column::PostId)
            .filter(post_hashtag::Column::GroupId.eq(group.id))
            .filter(post_hashtag::Column::Tag.eq(tag));
        query = query
            .filter(group_post::Column::Id.in_subquery(sea_orm::QueryTrait::into_query(tagged)));
    }
    if let Some(by_owner) = filter.author_is_owner {
        let owner = creator::Entity::find_by_id(group.creator_id)
            .one(db)
            .await?
            .map(|c| c.user_id)
            .unwrap_or_default();
        query = query.filter(if by_owner {
            group_post::Column::AuthorId.eq(owner)
        } else {
            group_post::Column::AuthorId.ne(owner)
        });
    }
    let sort = match order {
        PostOrder::Newest => SortKey {
            key: Some((
                Expr::col(group_post::Column::CreatedAt),
                |p: &group_post::Model| SortValue::Time(p.created_at),
            )),
            id: group_post::Column::Id,
            descending: true,
        },
        PostOrder::MostReplied => SortKey {
            key: Some((
                Expr::col(group_post::Column::ReplyCount),
                |p: &group_post::Model| SortValue::Int(p.reply_count),
            )),
            id: group_post::Column::Id,
            descending: true,
        },
    };
    page::fetch(db, query, &sort, page, |p| p.id).await
}

/// Posts in a group the actor belongs to (not muted in it); announcements are the
/// group's creator's and admins' alone. Answers the post with its group.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    group_id: i64,
    kind: PostKind,
    content: PostContent,
) -> AppResult<(group_post::Model, community_group::Model)> {
    let user_id = actor.require_user()?;
    let group = groups::get(db, group_id)
        .await?
        .ok_or_else(|| not_found("group"))?;
    if !groups::is_member(db, actor, &group).await? {
        return Err(AppError::Forbidden("join the group before posting"));
    }
    moderation::refuse_if_muted(db, group.id, user_id, "group").await?;
    if kind == PostKind::Announcement {
        require_owner(actor, group.creator_id)?;
    }
    let mut checks = Checks::new();
    let body = checks.text("body", &content.body, 5_000);
    let (images, hashtags, tags) = check_media(&mut checks, &content.images, &content.hashtags);
    if let Some(days) = content.task {
        if kind == PostKind::Task {
            super::check_ins::check_days(&mut checks, days);
        } else {
            checks.fail(
                "task",
                UserErrorCode::Invalid,
                "only a TASK post has check-in days",
            );
        }
    }
    checks.finish()?;
    let txn = crate::db::begin_write(db).await?;
    let post = group_post::ActiveModel {
        group_id: Set(group.id),
        author_id: Set(user_id),
        body: Set(body),
        pinned: Set(false),
        kind: Set(kind),
        images: Set(images),
        hashtags: Set(hashtags),
        task_starts_on: Set(content.task.map(|t| t.starts_on)),
        task_ends_on: Set(content.task.map(|t| t.ends_on)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    write_tags(&txn, &post, &tags).await?;
    txn.commit().await?;
    Ok((post, group))
}

/// Edits a post: its author alone, within [`EDIT_WINDOW`] of posting, and not while
/// muted in the group.
pub async fn edit(
    db: &DatabaseConnection,
    actor: &Actor,
    post_id: i64,
    edit: PostEdit,
) -> AppResult<(group_post::Model, community_group::Model)> {
    let user_id = actor.require_user()?;
    let (post, group) = get(db, post_id).await?.ok_or_else(|| not_found("post"))?;
    if post.author_id != user_id {
        return Err(AppError::Forbidden("only its author may edit a post"));
    }
    moderation::refuse_if_muted(db, group.id, user_id, "post").await?;
    let now = Utc::now();
    if now >= post.created_at + EDIT_WINDOW {
        return Err(FieldError::new(
            "post",
            UserErrorCode::EditWindowClosed,
            "a post can be edited within 24 hours of posting",
        )
        .into());
    }
    let mut checks = Checks::new();
    let body = edit.body.map(|b| checks.text("body", &b, 5_000));
    let images = edit.images.unwrap_or_else(|| images(&post));
    let given_tags = edit.hashtags.is_some();
    let tags = edit.hashtags.unwrap_or_else(|| hashtags(&post));
    let (images, hashtags, tags) = check_media(&mut checks, &images, &tags);
    checks.finish()?;
    let txn = crate::db::begin_write(db).await?;
    let mut model = post.into_active_model();
    if let Some(body) = body {
        model.body = Set(body);
    }
    model.images = Set(images);
    model.hashtags = Set(hashtags);
    model.edited_at = Set(Some(now));
    let post = model.update(&txn).await?;
    if given_tags {
        write_tags(&txn, &post, &tags).await?;
    }
    txn.commit().await?;
    Ok((post, group))
}

/// Removes a post (a soft delete: hidden, kept with who and why). Its author may
/// delete their own; the group's creator and admins may remove any, giving a reason.
pub async fn remove(
    db: &DatabaseConnection,
    actor: &Actor,
    post_id: i64,
    reason: Option<&str>,
) -> AppResult<community_group::Model> {
    let user_id = actor.require_user()?;
    let (post, group) = get(db, post_id).await?.ok_or_else(|| not_found("post"))?;
    let reason = moderation::removal_reason(actor, post.author_id, &group, reason)?;
    group_post::Entity::update_many()
        .col_expr(group_post::Column::DeletedAt, Expr::value(Utc::now()))
        .col_expr(group_post::Column::DeletedById, Expr::value(user_id))
        .col_expr(group_post::Column::DeleteReason, Expr::value(reason))
        .filter(group_post::Column::Id.eq(post.id))
        .filter(group_post::Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    Ok(group)
}

/// Marks a post as digest (精华) or takes the mark off: the group's creator or an admin.
pub async fn set_digest(
    db: &DatabaseConnection,
    actor: &Actor,
    post_id: i64,
    digest: bool,
) -> AppResult<(group_post::Model, community_group::Model)> {
    actor.require_user()?;
    let (post, group) = get(db, post_id).await?.ok_or_else(|| not_found("post"))?;
    require_owner(actor, group.creator_id)?;
    let mut model = post.into_active_model();
    model.digest = Set(digest);
    Ok((model.update(db).await?, group))
}

/// Pins or unpins a post: the group's creator or an admin, at most [`MAX_PINNED`]
/// pinned at once (counted with the group's row locked, so two pins at once cannot
/// make four).
pub async fn pin(
    db: &DatabaseConnection,
    actor: &Actor,
    post_id: i64,
    pinned: bool,
) -> AppResult<(group_post::Model, community_group::Model)> {
    actor.require_user()?;
    let (post, group) = get(db, post_id).await?.ok_or_else(|| not_found("post"))?;
    require_owner(actor, group.creator_id)?;
    let txn = crate::db::begin_write(db).await?;
    community_group::Entity::find_by_id(group.id)
        .lock_exclusive()
        .one(&txn)
        .await?;
    if pinned && !post.pinned {
        let already = group_post::Entity::find()
            .filter(group_post::Column::GroupId.eq(group.id))
            .filter(group_post::Column::Pinned.eq(true))
            .filter(group_post::Column::DeletedAt.is_null())
            .count(&txn)
            .await?;
        if already >= MAX_PINNED {
            return Err(FieldError::new(
                "post",
                UserErrorCode::LimitReached,
                format!("at most {MAX_PINNED} posts are pinned: unpin one first"),
            )
            .into());
        }
    }
    let mut model = post.into_active_model();
    model.pinned = Set(pinned);
    let post = model.update(&txn).await?;
    txn.commit().await?;
    Ok((post, group))
}
