//! DataLoaders: every child field reached from a list is fetched for the whole list in
//! one `IN (...)` query. One loader value lives per request (it may hold per-user data
//! later, so it is never shared between requests).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{community_group, course, creator, lesson, livestream, user};
use sea_orm::DatabaseConnection;

use crate::error::AppError;
use crate::service::ratings::RatingSummary;
use crate::service::read_cache::{FirstCoursesKey, ReadCache};
use crate::service::{access, courses, creators, groups, livestreams, ratings, users};

/// Loads rows by the key types below, for one request (and one user).
pub struct DbLoader {
    db: DatabaseConnection,
    /// Catalogue rows shared between requests (courses, lessons, creators).
    cache: ReadCache,
    /// The signed-in user, whose entitlements [`EntitledTo`] answers for.
    user_id: Option<i64>,
}

impl DbLoader {
    /// A loader over this database for the request of `user_id`.
    pub fn new(db: DatabaseConnection, cache: ReadCache, user_id: Option<i64>) -> Self {
        DbLoader { db, cache, user_id }
    }
}

macro_rules! key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub i64);
    };
}

key!(
    /// A user by id.
    UserById
);
key!(
    /// A creator profile by id.
    CreatorById
);
key!(
    /// The creator profile of a user, by user id.
    CreatorByUser
);
key!(
    /// A course by id.
    CourseById
);
key!(
    /// A livestream by id.
    LivestreamById
);
key!(
    /// A community group by id.
    GroupById
);
key!(
    /// The ordered lessons of a course, by course id.
    LessonsOfCourse
);
key!(
    /// The rating summary of a course, by course id.
    RatingSummaryOfCourse
);
key!(
    /// The follower count of a creator, by creator id.
    FollowersOfCreator
);

fn ids<K: Copy>(keys: &[K], inner: impl Fn(K) -> i64) -> Vec<i64> {
    keys.iter().map(|k| inner(*k)).collect()
}

impl Loader<UserById> for DbLoader {
    type Value = user::Model;
    type Error = AppError;
    async fn load(&self, keys: &[UserById]) -> Result<HashMap<UserById, user::Model>, AppError> {
        let rows = users::by_ids(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(rows
            .into_iter()
            .map(|(id, row)| (UserById(id), row))
            .collect())
    }
}

impl Loader<CreatorById> for DbLoader {
    type Value = creator::Model;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[CreatorById],
    ) -> Result<HashMap<CreatorById, creator::Model>, AppError> {
        let rows = self
            .cache
            .creators(&ids(keys, |k| k.0), |missing| async move {
                creators::by_ids(&self.db, &missing).await
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, row)| (CreatorById(id), row))
            .collect())
    }
}

impl Loader<CreatorByUser> for DbLoader {
    type Value = creator::Model;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[CreatorByUser],
    ) -> Result<HashMap<CreatorByUser, creator::Model>, AppError> {
        let rows = creators::by_user_ids(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(rows
            .into_iter()
            .map(|(id, row)| (CreatorByUser(id), row))
            .collect())
    }
}

impl Loader<CourseById> for DbLoader {
    type Value = course::Model;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[CourseById],
    ) -> Result<HashMap<CourseById, course::Model>, AppError> {
        let rows = self
            .cache
            .courses(&ids(keys, |k| k.0), |missing| async move {
                courses::by_ids(&self.db, &missing).await
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, row)| (CourseById(id), row))
            .collect())
    }
}

impl Loader<LivestreamById> for DbLoader {
    type Value = livestream::Model;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[LivestreamById],
    ) -> Result<HashMap<LivestreamById, livestream::Model>, AppError> {
        let rows = livestreams::by_ids(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(rows
            .into_iter()
            .map(|(id, row)| (LivestreamById(id), row))
            .collect())
    }
}

impl Loader<GroupById> for DbLoader {
    type Value = community_group::Model;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[GroupById],
    ) -> Result<HashMap<GroupById, community_group::Model>, AppError> {
        let rows = groups::by_ids(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(rows
            .into_iter()
            .map(|(id, row)| (GroupById(id), row))
            .collect())
    }
}

impl Loader<LessonsOfCourse> for DbLoader {
    /// Shared rows: a page of courses hands each lesson to its request without copying.
    type Value = Vec<Arc<lesson::Model>>;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[LessonsOfCourse],
    ) -> Result<HashMap<LessonsOfCourse, Vec<Arc<lesson::Model>>>, AppError> {
        let mut found = self
            .cache
            .lessons(&ids(keys, |k| k.0), |missing| async move {
                let mut found = crate::service::lessons::lessons_of(&self.db, &missing).await?;
                // A course without lessons has an empty list rather than "not found"
                // (and is kept as such).
                Ok::<_, AppError>(
                    missing
                        .into_iter()
                        .map(|id| {
                            let rows = found.remove(&id).unwrap_or_default();
                            (id, rows.into_iter().map(Arc::new).collect())
                        })
                        .collect(),
                )
            })
            .await?;
        Ok(keys
            .iter()
            .map(|k| (*k, found.remove(&k.0).unwrap_or_default()))
            .collect())
    }
}

impl Loader<RatingSummaryOfCourse> for DbLoader {
    type Value = RatingSummary;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[RatingSummaryOfCourse],
    ) -> Result<HashMap<RatingSummaryOfCourse, RatingSummary>, AppError> {
        let mut found = ratings::summaries(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(keys
            .iter()
            .map(|k| (*k, found.remove(&k.0).unwrap_or_default()))
            .collect())
    }
}

impl Loader<FollowersOfCreator> for DbLoader {
    type Value = i64;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[FollowersOfCreator],
    ) -> Result<HashMap<FollowersOfCreator, i64>, AppError> {
        let found = creators::follower_counts(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(keys
            .iter()
            .map(|k| (*k, found.get(&k.0).copied().unwrap_or(0)))
            .collect())
    }
}

/// The first page of a creator's published courses in a given order (`creator.courses`
/// without a cursor): the pages of every creator in a list come from one statement. The
/// read cache's key, so the loader hands keys through unchanged.
pub type FirstCoursesOfCreator = FirstCoursesKey;

impl Loader<FirstCoursesOfCreator> for DbLoader {
    type Value = crate::service::page::Page<course::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[FirstCoursesOfCreator],
    ) -> Result<HashMap<FirstCoursesOfCreator, Self::Value>, AppError> {
        self.cache
            .first_courses(keys, |missing| self.first_courses(missing))
            .await
    }
}

impl DbLoader {
    /// First course pages from the database: one statement per distinct (size, order);
    /// a page of creators shares one.
    async fn first_courses(
        &self,
        keys: Vec<FirstCoursesKey>,
    ) -> Result<HashMap<FirstCoursesKey, crate::service::page::Page<course::Model>>, AppError> {
        let mut shapes: HashMap<(u64, courses::CourseSort, crate::service::Direction), Vec<i64>> =
            HashMap::new();
        for key in &keys {
            shapes
                .entry((key.limit, key.sort, key.direction))
                .or_default()
                .push(key.creator_id);
        }
        let mut answers = HashMap::with_capacity(keys.len());
        for ((limit, sort, direction), creator_ids) in shapes {
            let pages =
                courses::first_pages_by_creator(&self.db, &creator_ids, sort, direction, limit)
                    .await?;
            for (creator_id, page) in pages {
                let key = FirstCoursesKey {
                    creator_id,
                    limit,
                    sort,
                    direction,
                };
                answers.insert(key, page);
            }
        }
        Ok(answers)
    }
}

/// The loader a request carries: batching, with a cache that lives as long as the request.
pub type RequestLoader =
    async_graphql::dataloader::DataLoader<DbLoader, async_graphql::dataloader::HashMapCache>;

/// Whether the request's user holds a live entitlement to a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntitledTo(pub entity::enums::ProductKind, pub i64);

impl Loader<EntitledTo> for DbLoader {
    type Value = bool;
    type Error = AppError;
    async fn load(&self, keys: &[EntitledTo]) -> Result<HashMap<EntitledTo, bool>, AppError> {
        let Some(user_id) = self.user_id else {
            return Ok(keys.iter().map(|k| (*k, false)).collect());
        };
        let now = chrono::Utc::now();
        let mut answers = HashMap::with_capacity(keys.len());
        for kind in [
            entity::enums::ProductKind::Course,
            entity::enums::ProductKind::Livestream,
            entity::enums::ProductKind::Group,
        ] {
            let ids: Vec<i64> = keys.iter().filter(|k| k.0 == kind).map(|k| k.1).collect();
            if ids.is_empty() {
                continue;
            }
            let held = access::entitled(&self.db, user_id, kind, &ids, now).await?;
            for id in ids {
                answers.insert(EntitledTo(kind, id), held.contains(&id));
            }
        }
        Ok(answers)
    }
}

/// The limited-time price of a product, by kind and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SaleOfProduct(pub entity::enums::ProductKind, pub i64);

impl Loader<SaleOfProduct> for DbLoader {
    type Value = entity::product_sale::Model;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[SaleOfProduct],
    ) -> Result<HashMap<SaleOfProduct, entity::product_sale::Model>, AppError> {
        let products: Vec<_> = keys.iter().map(|k| (k.0, k.1)).collect();
        let rows = crate::service::pricing::sales_of(&self.db, &products).await?;
        Ok(rows
            .into_iter()
            .map(|((kind, id), sale)| (SaleOfProduct(kind, id), sale))
            .collect())
    }
}

key!(
    /// The discounts an order was priced with, by order id.
    DiscountsOfOrder
);

impl Loader<DiscountsOfOrder> for DbLoader {
    type Value = Vec<entity::order_discount::Model>;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[DiscountsOfOrder],
    ) -> Result<HashMap<DiscountsOfOrder, Self::Value>, AppError> {
        let rows = crate::service::orders::discounts_of(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(rows
            .into_iter()
            .map(|(id, discounts)| (DiscountsOfOrder(id), discounts))
            .collect())
    }
}

key!(
    /// The refunds of an order, by order id.
    RefundsOfOrder
);

impl Loader<RefundsOfOrder> for DbLoader {
    type Value = Vec<entity::refund::Model>;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[RefundsOfOrder],
    ) -> Result<HashMap<RefundsOfOrder, Self::Value>, AppError> {
        let rows = crate::service::orders::refunds_of(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(rows
            .into_iter()
            .map(|(id, refunds)| (RefundsOfOrder(id), refunds))
            .collect())
    }
}

key!(
    /// The payment notifications about an order, by order id.
    PaymentEventsOfOrder
);

impl Loader<PaymentEventsOfOrder> for DbLoader {
    type Value = Vec<entity::payment_event::Model>;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[PaymentEventsOfOrder],
    ) -> Result<HashMap<PaymentEventsOfOrder, Self::Value>, AppError> {
        let rows = crate::service::orders::payment_events_of(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(rows
            .into_iter()
            .map(|(id, events)| (PaymentEventsOfOrder(id), events))
            .collect())
    }
}

key!(
    /// The course ids of a bundle, in order, by bundle id.
    CoursesOfBundle
);

impl Loader<CoursesOfBundle> for DbLoader {
    type Value = Vec<i64>;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[CoursesOfBundle],
    ) -> Result<HashMap<CoursesOfBundle, Self::Value>, AppError> {
        let rows = crate::service::bundles::course_ids_of(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(rows
            .into_iter()
            .map(|(id, courses)| (CoursesOfBundle(id), courses))
            .collect())
    }
}

key!(
    /// The coupons a user may use now, by user id.
    UsableCoupons
);

impl Loader<UsableCoupons> for DbLoader {
    type Value = Vec<crate::service::coupons::apply::Held>;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[UsableCoupons],
    ) -> Result<HashMap<UsableCoupons, Self::Value>, AppError> {
        let now = chrono::Utc::now();
        let mut found = HashMap::new();
        // One user per request in practice: the viewer.
        for key in keys {
            let held = crate::service::coupons::apply::usable(&self.db, key.0, now).await?;
            found.insert(*key, held);
        }
        Ok(found)
    }
}

key!(
    /// Whether the request's user likes a group post, by post id.
    LikedByViewer
);

impl Loader<LikedByViewer> for DbLoader {
    type Value = bool;
    type Error = AppError;
    async fn load(&self, keys: &[LikedByViewer]) -> Result<HashMap<LikedByViewer, bool>, AppError> {
        let Some(user_id) = self.user_id else {
            return Ok(keys.iter().map(|k| (*k, false)).collect());
        };
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let liked = crate::service::community::liked(&self.db, user_id, &ids).await?;
        Ok(keys.iter().map(|k| (*k, liked.contains(&k.0))).collect())
    }
}

key!(
    /// The request's user's membership row of a group (running or lapsed), by group id.
    ViewerMembership
);

impl Loader<ViewerMembership> for DbLoader {
    type Value = entity::group_membership::Model;
    type Error = AppError;
    async fn load(
        &self,
        keys: &[ViewerMembership],
    ) -> Result<HashMap<ViewerMembership, entity::group_membership::Model>, AppError> {
        let Some(user_id) = self.user_id else {
            return Ok(HashMap::new());
        };
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        Ok(groups::memberships_of(&self.db, user_id, &ids)
            .await?
            .into_iter()
            .map(|m| (ViewerMembership(m.group_id), m))
            .collect())
    }
}
