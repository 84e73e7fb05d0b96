//! A creator's shelf beyond courses and livestreams: their bundles and membership
//! plans, newest first, as keyset pages. Everyone sees what is on sale; the creator
//! and admins see every status (and may ask for one).

use entity::enums::CourseStatus;
use entity::{bundle, membership_plan};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::auth::Actor;
use crate::error::AppResult;
use crate::service::page::{self, Counted, Page, PageRequest, SortKey};

/// The status a listing keeps: what was asked for by the creator or an admin (`None`:
/// every status), `PUBLISHED` for everyone else.
fn listed_status(
    actor: &Actor,
    creator_id: i64,
    asked: Option<CourseStatus>,
) -> Option<CourseStatus> {
    if actor.is_admin() || actor.creator_id() == Some(creator_id) {
        asked
    } else {
        Some(CourseStatus::Published)
    }
}

/// One page of a creator's bundles.
pub async fn bundles(
    db: &impl ConnectionTrait,
    actor: &Actor,
    creator_id: i64,
    asked: Option<CourseStatus>,
    page: &PageRequest,
) -> AppResult<(Page<bundle::Model>, Counted<bundle::Entity>)> {
    let mut query = bundle::Entity::find().filter(bundle::Column::CreatorId.eq(creator_id));
    if let Some(status) = listed_status(actor, creator_id, asked) {
        query = query.filter(bundle::Column::Status.eq(status));
    }
    let newest_first = SortKey {
        key: None,
        id: bundle::Column::Id,
        descending: true,
    };
    page::fetch(db, query, &newest_first, page, |row| row.id).await
}

/// One page of a creator's membership plans.
pub async fn membership_plans(
    db: &impl ConnectionTrait,
    actor: &Actor,
    creator_id: i64,
    asked: Option<CourseStatus>,
    page: &PageRequest,
) -> AppResult<(
    Page<membership_plan::Model>,
    Counted<membership_plan::Entity>,
)> {
    let mut query =
        membership_plan::Entity::find().filter(membership_plan::Column::CreatorId.eq(creator_id));
    if let Some(status) = listed_status(actor, creator_id, asked) {
        query = query.filter(membership_plan::Column::Status.eq(status));
    }
    let newest_first = SortKey {
        key: None,
        id: membership_plan::Column::Id,
        descending: true,
    };
    page::fetch(db, query, &newest_first, page, |row| row.id).await
}
