//! What happened, told to whoever keeps something derived from it.
//!
//! A service that commits a change publishes an [`Event`] through the application's one
//! [`Effects`] after the commit; the subscribers are registered once, in
//! `startup.rs`. No resolver refreshes a cache by hand, so a new feature cannot forget
//! to.
//!
//! Two kinds of subscriber, and this bus is for the first only:
//! - **derived caches** (the recommendation model's view of a user, its copy of a
//!   course row, the actor cache): told after commit, best effort. Missing one delays
//!   freshness until the next rebuild or TTL and loses nothing.
//! - **effects that must not be lost** (messages to send, ledger entries): those are
//!   written inside the service's own transaction (an outbox row, an entry), never
//!   through this bus, so a crash between commit and publish cannot drop them.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::ActorCache;

/// A committed change others may depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// An order was paid (or a free product taken): the buyer holds something new.
    OrderPaid {
        /// The order.
        order_id: i64,
        /// Its buyer.
        buyer_id: i64,
    },
    /// A refund reached a final state: the buyer may have lost access.
    OrderRefunded {
        /// The order.
        order_id: i64,
        /// Its buyer.
        buyer_id: i64,
    },
    /// A rating was written, changed or deleted.
    RatingChanged {
        /// Its author.
        user_id: i64,
        /// The course rated.
        course_id: i64,
    },
    /// A user joined or left a group.
    MembershipChanged {
        /// The member.
        user_id: i64,
        /// The group.
        group_id: i64,
    },
    /// A course row or its lessons changed (created, edited, published, archived,
    /// suspended; a lesson added, changed, moved or deleted).
    CourseChanged {
        /// The course.
        course_id: i64,
    },
    /// A user's role, creator profile or ban changed.
    UserChanged {
        /// The user.
        user_id: i64,
    },
}

/// Something kept up to date from events. Each subscriber implements this beside its
/// own code (the recommendation model in `service::recommendations`); this module
/// depends on none of them.
#[async_trait::async_trait]
pub trait Subscriber: Send + Sync {
    /// Reacts to one committed event. Failures are the subscriber's to log.
    async fn handle(&self, db: &DatabaseConnection, event: &Event);
}

/// The application's subscribers; cheap to clone.
#[derive(Clone, Default)]
pub struct Effects {
    subscribers: Arc<Vec<Arc<dyn Subscriber>>>,
}

impl std::fmt::Debug for Effects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Effects")
            .field("subscribers", &self.subscribers.len())
            .finish()
    }
}

impl Effects {
    /// Effects delivered to these subscribers, in this order.
    pub fn new(subscribers: Vec<Arc<dyn Subscriber>>) -> Self {
        Effects {
            subscribers: Arc::new(subscribers),
        }
    }

    /// Tells every subscriber, after the change was committed.
    pub async fn publish(&self, db: &DatabaseConnection, event: Event) {
        for subscriber in self.subscribers.iter() {
            subscriber.handle(db, &event).await;
        }
    }
}

/// The actor cache: a changed user is read afresh on their next request. (Derived
/// cache.)
#[async_trait::async_trait]
impl Subscriber for ActorCache {
    async fn handle(&self, _db: &DatabaseConnection, event: &Event) {
        if let Event::UserChanged { user_id } = *event {
            self.forget(user_id);
        }
    }
}
