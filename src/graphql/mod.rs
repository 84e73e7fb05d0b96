//! The GraphQL schema: one query part per domain, merged; limits on every request.
//!
//! Limits: depth (data and introspection measured apart, in [`depth`]), complexity (a
//! connection costs its page size times its children), recursion and directives per
//! field. Suggestions ("did you mean") and introspection
//! are development conveniences. Body size and batching are limited in `http`.

pub mod access;
pub mod analytics;
pub mod bundle;
pub mod check_in;
pub mod community;
pub mod context;
pub mod coupon;
pub mod course;
pub mod creator;
pub mod depth;
pub mod documents;
pub mod enums;
pub mod group;
pub mod ids;
pub mod ledger;
pub mod lesson;
pub mod live;
pub mod live_render;
pub mod livestream;
pub mod loaders;
pub mod membership;
pub mod messages;
pub mod moderation;
pub mod money;
pub mod node;
pub mod notification;
pub mod objects;
pub mod order;
pub mod order_events;
pub mod ordering;
pub mod pagination;
pub mod payload;
pub mod payout;
pub mod prefetch;
pub mod pricing;
pub mod promotion;
pub mod question;
pub mod rating;
pub mod recommendation;
pub mod response_cache;
pub mod selection;
pub mod series;
pub mod session;
pub mod user;

use async_graphql::{MergedObject, MergedSubscription, Schema};
use sea_orm::DatabaseConnection;

use crate::auth::AuthState;
use crate::config::{Environment, ServerConfig};
use crate::service::effects::Effects;
use crate::service::live_rooms::LiveRooms;
use crate::service::orders::Payments;
use crate::service::read_cache::ReadCache;
use crate::service::recommendations::Recommendations;

/// Deepest nesting of data fields accepted (checked by [`depth`], which measures
/// introspection apart, so standard tools can read the schema).
pub const MAX_DEPTH: usize = 12;
/// Largest total cost of one operation (100 courses with their lessons and summaries
/// fit; a page of 100 nested in a page of 100 does not).
pub const MAX_COMPLEXITY: usize = 5_000;
/// Deepest recursion of fragments and nested input values.
pub const MAX_RECURSIVE_DEPTH: usize = 24;
/// Most directives on one field.
pub const MAX_DIRECTIVES: usize = 4;

/// Every root query field.
#[derive(MergedObject, Default)]
pub struct Query(
    node::NodeQuery,
    session::SessionQuery,
    creator::CreatorQuery,
    course::CourseQuery,
    livestream::LivestreamQuery,
    group::GroupQuery,
    moderation::ModerationQuery,
    rating::RatingQuery,
    order::OrderQuery,
    recommendation::RecommendationQuery,
    notification::NotificationQuery,
    coupon::CouponQuery,
    ledger::LedgerQuery,
    analytics::AnalyticsQuery,
    user::UserQuery,
);

/// Every mutation.
#[derive(MergedObject, Default)]
pub struct Mutation(
    session::SessionMutation,
    user::UserMutation,
    creator::CreatorMutation,
    course::CourseMutation,
    lesson::LessonMutation,
    livestream::LivestreamMutation,
    group::GroupMutation,
    community::CommunityMutation,
    check_in::CheckInMutation,
    question::QuestionMutation,
    moderation::ModerationMutation,
    order::OrderMutation,
    rating::RatingMutation,
    recommendation::RecommendationMutation,
    messages::MessageMutation,
    pricing::PricingMutation,
    coupon::CouponMutation,
    bundle::BundleMutation,
    membership::MembershipMutation,
    notification::NotificationMutation,
    live::LiveMutation,
    ledger::LedgerMutation,
    promotion::PromotionMutation,
    payout::PayoutMutation,
    analytics::AnalyticsMutation,
);

/// Every subscription (served over WebSocket at `/graphql`).
#[derive(MergedSubscription, Default)]
pub struct Subscription(live::LiveSubscription);

/// The schema type served at `/graphql`.
pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// What every request shares, put in the schema's data once.
pub struct SharedData {
    /// The database pool.
    pub db: DatabaseConnection,
    /// Sign-in keys, the WeChat client, the actor cache.
    pub auth: AuthState,
    /// The payment provider and order rules.
    pub payments: Payments,
    /// The recommendation model being served.
    pub recommendations: Recommendations,
    /// Where services publish what they committed.
    pub effects: Effects,
    /// Catalogue rows shared between requests.
    pub read_cache: ReadCache,
    /// Live rooms: the hub, the stream signer, the chat limiter.
    pub live: LiveRooms,
    /// The configured message templates.
    pub templates: crate::service::messages::Templates,
    /// Buffered product views and live-room attendance.
    pub views: crate::service::views::ViewCounter,
    /// The time time-bound rules act at.
    pub clock: crate::clock::Clock,
}

/// Builds the schema with its limits over the data every request shares.
/// Operations are counted by the HTTP handler rather than by an extension: any
/// extension puts a boxed call around every field of every answer.
pub fn schema(shared: SharedData, config: &ServerConfig, environment: Environment) -> AppSchema {
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .data(shared.db)
    .data(shared.views)
    .data(shared.clock)
    .data(shared.live)
    .data(shared.recommendations)
    .data(shared.effects)
    .data(shared.read_cache)
    .data(shared.auth)
    .data(shared.payments)
    .data(shared.templates)
    // The backstop: every field, introspection included. The HTTP handler holds data
    // fields to MAX_DEPTH before this runs (see `depth`).
    .limit_depth(MAX_DEPTH.max(depth::MAX_INTROSPECTION_DEPTH))
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(MAX_RECURSIVE_DEPTH)
    .limit_directives(MAX_DIRECTIVES);
    if environment != Environment::Development {
        builder = builder.disable_suggestions();
    }
    if !config.introspection_enabled(environment) {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

/// The SDL of the schema, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .finish()
    .sdl_with_options(
        async_graphql::SDLExportOptions::new()
            .sorted_fields()
            .sorted_enum_items(),
    )
}
