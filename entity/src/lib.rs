//! SeaORM entities of Zhiku: one module per table, plain rows with no GraphQL or
//! serde derives (GraphQL objects in the `zhiku` crate wrap them).
//!
//! Money columns hold integer fen; times are UTC. Status columns hold the
//! SCREAMING_CASE names of the enums in [`enums`], guarded by CHECK constraints.

pub mod bundle;
pub mod bundle_course;
pub mod buyer_day;
pub mod community_group;
pub mod coupon;
pub mod coupon_product;
pub mod course;
pub mod creator;
pub mod entitlement;
pub mod enums;
pub mod fee_day;
pub mod follow;
pub mod group_membership;
pub mod group_mute;
pub mod group_post;
pub mod group_removal;
pub mod group_reply;
pub mod ledger_account;
pub mod ledger_entry;
pub mod ledger_journal;
pub mod lesson;
pub mod live_presence;
pub mod livestream;
pub mod livestream_attendance;
pub mod livestream_event;
pub mod livestream_message;
pub mod livestream_mute;
pub mod membership_plan;
pub mod membership_plan_course;
pub mod message_consent;
pub mod notification_opt_out;
pub mod oauth_state;
pub mod order;
pub mod order_discount;
pub mod outbox_message;
pub mod paid_question;
pub mod payment_event;
pub mod payout;
pub mod post_hashtag;
pub mod post_like;
pub mod post_report;
pub mod product_sale;
pub mod product_view;
pub mod profit_share;
pub mod promoter;
pub mod promotion;
pub mod rating;
pub mod recommendation_impression;
pub mod referral;
pub mod refresh_token;
pub mod refund;
pub mod sales_day;
pub mod server_setting;
pub mod task_check_in;
pub mod user;
pub mod user_coupon;
pub mod user_identity;
