//! Enumerations stored as short strings (portable between SQLite and PostgreSQL).

use sea_orm::entity::prelude::*;

/// What a user may do on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Role {
    /// Buys and learns.
    #[sea_orm(string_value = "LEARNER")]
    Learner,
    /// Sells courses, livestreams and groups.
    #[sea_orm(string_value = "CREATOR")]
    Creator,
    /// Runs the platform.
    #[sea_orm(string_value = "ADMIN")]
    Admin,
}

/// Lifecycle of a course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum CourseStatus {
    /// Being written; visible to its creator and admins only.
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    /// On sale and listed.
    #[sea_orm(string_value = "PUBLISHED")]
    Published,
    /// Withdrawn from sale; buyers keep access.
    #[sea_orm(string_value = "ARCHIVED")]
    Archived,
}

/// Medium of a lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum LessonKind {
    /// A video, content is its URL.
    #[sea_orm(string_value = "VIDEO")]
    Video,
    /// An audio track, content is its URL.
    #[sea_orm(string_value = "AUDIO")]
    Audio,
    /// A text article, content is its body.
    #[sea_orm(string_value = "ARTICLE")]
    Article,
}

/// Lifecycle of a livestream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum LivestreamStatus {
    /// Announced, not started.
    #[sea_orm(string_value = "SCHEDULED")]
    Scheduled,
    /// On air.
    #[sea_orm(string_value = "LIVE")]
    Live,
    /// Finished; may have a replay.
    #[sea_orm(string_value = "ENDED")]
    Ended,
    /// Called off before it started.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// Lifecycle of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum OrderStatus {
    /// Created, waiting for payment.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Paid; the entitlement is granted.
    #[sea_orm(string_value = "PAID")]
    Paid,
    /// A refund was requested and is in flight.
    #[sea_orm(string_value = "REFUNDING")]
    Refunding,
    /// Refunded; the entitlement is revoked.
    #[sea_orm(string_value = "REFUNDED")]
    Refunded,
    /// Cancelled or expired unpaid.
    #[sea_orm(string_value = "CLOSED")]
    Closed,
}

/// What an order or entitlement is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ProductKind {
    /// A course (all of its lessons).
    #[sea_orm(string_value = "COURSE")]
    Course,
    /// A livestream ticket (live and replay).
    #[sea_orm(string_value = "LIVESTREAM")]
    Livestream,
    /// A community group membership.
    #[sea_orm(string_value = "GROUP")]
    Group,
    /// A bundle of courses (专栏): buying it grants each of its courses.
    #[sea_orm(string_value = "BUNDLE")]
    Bundle,
    /// A period of a creator's membership plan (会员).
    #[sea_orm(string_value = "MEMBERSHIP")]
    Membership,
    /// A paid question to a group's creator (付费提问).
    #[sea_orm(string_value = "QUESTION")]
    Question,
}

/// Where a paid question is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum QuestionStatus {
    /// Asked; its order is not paid yet (seen by the asker alone).
    #[sea_orm(string_value = "AWAITING_PAYMENT")]
    AwaitingPayment,
    /// Paid; waiting for the creator's answer until its due time.
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// Answered in time.
    #[sea_orm(string_value = "ANSWERED")]
    Answered,
    /// Not answered in time: its refund has started.
    #[sea_orm(string_value = "EXPIRED")]
    Expired,
    /// Its payment was refunded.
    #[sea_orm(string_value = "REFUNDED")]
    Refunded,
}

/// Lifecycle of a refund, as WeChat Pay reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum RefundStatus {
    /// Accepted by the provider, not settled yet.
    #[sea_orm(string_value = "PROCESSING")]
    Processing,
    /// Money returned to the buyer.
    #[sea_orm(string_value = "SUCCESS")]
    Success,
    /// The provider could not return the money.
    #[sea_orm(string_value = "ABNORMAL")]
    Abnormal,
    /// The refund was closed without effect.
    #[sea_orm(string_value = "CLOSED")]
    Closed,
}

/// What happened in a live room (a row of `livestream_events`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum LiveEventKind {
    /// The livestream's status changed.
    #[sea_orm(string_value = "STATUS_CHANGED")]
    StatusChanged,
    /// A chat message was posted.
    #[sea_orm(string_value = "MESSAGE_POSTED")]
    MessagePosted,
    /// A chat message was deleted by a moderator.
    #[sea_orm(string_value = "MESSAGE_DELETED")]
    MessageDeleted,
    /// A chat message was pinned (or the pin removed: no message).
    #[sea_orm(string_value = "MESSAGE_PINNED")]
    MessagePinned,
    /// A viewer was muted.
    #[sea_orm(string_value = "VIEWER_MUTED")]
    ViewerMuted,
}

/// A WeChat app a user signs in from; each gives the user a different openid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum IdentityApp {
    /// The mini-program (`wx.login`).
    #[sea_orm(string_value = "MINI_PROGRAM")]
    MiniProgram,
    /// The official account's web pages (OAuth sign-in).
    #[sea_orm(string_value = "OFFICIAL_ACCOUNT")]
    OfficialAccount,
}

/// What a message tells its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum MessageKind {
    /// Their payment went through.
    #[sea_orm(string_value = "PAYMENT_SUCCEEDED")]
    PaymentSucceeded,
    /// Their refund is done.
    #[sea_orm(string_value = "REFUND_DONE")]
    RefundDone,
    /// A livestream they may watch starts in 15 minutes.
    #[sea_orm(string_value = "LIVESTREAM_STARTING")]
    LivestreamStarting,
    /// A livestream they may watch is live.
    #[sea_orm(string_value = "LIVESTREAM_LIVE")]
    LivestreamLive,
    /// A course they bought has a new lesson.
    #[sea_orm(string_value = "NEW_LESSON")]
    NewLesson,
    /// Their paid group membership ends in 3 days.
    #[sea_orm(string_value = "MEMBERSHIP_ENDING")]
    MembershipEnding,
    /// Someone replied to their group post.
    #[sea_orm(string_value = "POST_REPLY")]
    PostReply,
}

/// Where an outbox message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum OutboxStatus {
    /// Waiting for its (next) attempt.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Claimed by a worker until `claimed_until`.
    #[sea_orm(string_value = "SENDING")]
    Sending,
    /// WeChat took it.
    #[sea_orm(string_value = "SENT")]
    Sent,
    /// Refused for good, or out of attempts.
    #[sea_orm(string_value = "FAILED")]
    Failed,
    /// Not sent by rule: no template, no consent, switched off, no identity.
    #[sea_orm(string_value = "SKIPPED")]
    Skipped,
}

/// What a group post is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PostKind {
    /// Conversation.
    #[sea_orm(string_value = "TALK")]
    Talk,
    /// A question to the group or its creator.
    #[sea_orm(string_value = "QUESTION")]
    Question,
    /// Homework or a check-in challenge.
    #[sea_orm(string_value = "TASK")]
    Task,
    /// The creator's announcement.
    #[sea_orm(string_value = "ANNOUNCEMENT")]
    Announcement,
}

/// Why an order costs less than the list price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DiscountKind {
    /// A limited-time price.
    #[sea_orm(string_value = "SALE")]
    Sale,
    /// A coupon.
    #[sea_orm(string_value = "COUPON")]
    Coupon,
    /// What the buyer already paid for courses of a bundle.
    #[sea_orm(string_value = "BUNDLE_CREDIT")]
    BundleCredit,
    /// A membership renewed early or after it lapsed.
    #[sea_orm(string_value = "RENEWAL")]
    Renewal,
}

/// How learners get a coupon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum CouponDistribution {
    /// By typing its public code (`redeemCouponCode`).
    #[sea_orm(string_value = "CODE")]
    Code,
    /// From a product page (`claimCoupon`).
    #[sea_orm(string_value = "CLAIM")]
    Claim,
    /// Given by the creator to followers or buyers (`grantCoupon`).
    #[sea_orm(string_value = "GRANT")]
    Grant,
}

/// Which products a coupon applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum CouponScope {
    /// Every product of its creator (every product, for a platform coupon).
    #[sea_orm(string_value = "ALL")]
    All,
    /// The products listed in `coupon_products`.
    #[sea_orm(string_value = "PRODUCTS")]
    Products,
    /// Every product of one kind (`scope_kind`).
    #[sea_orm(string_value = "KIND")]
    Kind,
}

/// Where a learner's coupon is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum UserCouponStatus {
    /// Held, unused.
    #[sea_orm(string_value = "AVAILABLE")]
    Available,
    /// Held by a pending order; back to AVAILABLE if it closes unpaid.
    #[sea_orm(string_value = "RESERVED")]
    Reserved,
    /// Spent by a paid order (a refund does not return it).
    #[sea_orm(string_value = "USED")]
    Used,
}

/// Whose money a ledger account holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum LedgerAccountKind {
    /// Money in the platform's merchant account (an asset: debits add).
    #[sea_orm(string_value = "PLATFORM_CASH")]
    PlatformCash,
    /// The platform's revenue from fees.
    #[sea_orm(string_value = "PLATFORM_FEES")]
    PlatformFees,
    /// What the platform owes a creator (owner: the creator id).
    #[sea_orm(string_value = "CREATOR")]
    Creator,
    /// What the platform owes a promoter (owner: the user id).
    #[sea_orm(string_value = "PROMOTER")]
    Promoter,
}

/// What a ledger journal records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum LedgerJournalKind {
    /// A paid order split into fee, commissions and the creator's share.
    #[sea_orm(string_value = "SALE")]
    Sale,
    /// A refund reversing a sale's split.
    #[sea_orm(string_value = "REFUND")]
    Refund,
    /// Money paid out of the merchant account to a creator or promoter.
    #[sea_orm(string_value = "PAYOUT")]
    Payout,
    /// A payout that failed, its amount owed again.
    #[sea_orm(string_value = "PAYOUT_RETURN")]
    PayoutReturn,
}

/// Where a payout (a WeChat Pay merchant transfer) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum PayoutState {
    /// Written with its ledger entry; the transfer request may not have reached WeChat Pay.
    #[sea_orm(string_value = "REQUESTED")]
    Requested,
    /// WeChat Pay accepted the transfer and is processing it.
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    /// Waiting for the payee to confirm receipt in WeChat (`wx.requestMerchantTransfer`).
    #[sea_orm(string_value = "WAIT_USER_CONFIRM")]
    WaitUserConfirm,
    /// The money reached the payee's WeChat balance.
    #[sea_orm(string_value = "SUCCESS")]
    Success,
    /// The transfer failed; the amount is owed again.
    #[sea_orm(string_value = "FAIL")]
    Fail,
    /// The transfer was cancelled; the amount is owed again.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

impl PayoutState {
    /// Whether nothing more happens to the payout.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            PayoutState::Success | PayoutState::Fail | PayoutState::Cancelled
        )
    }

    /// Reads WeChat Pay's transfer state word (PROCESSING and TRANSFERING count as
    /// accepted).
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "ACCEPTED" | "PROCESSING" | "TRANSFERING" => Some(PayoutState::Accepted),
            "WAIT_USER_CONFIRM" => Some(PayoutState::WaitUserConfirm),
            "SUCCESS" => Some(PayoutState::Success),
            "FAIL" => Some(PayoutState::Fail),
            "CANCELLED" | "CANCELING" => Some(PayoutState::Cancelled),
            _ => None,
        }
    }
}
