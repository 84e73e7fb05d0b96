//! Messages: what the user agreed to receive, and which kinds they switched off.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};

use crate::graphql::context::ContextExt;
use crate::graphql::payload::payload;
use crate::service::messages::{self, Templates};

/// What a message tells its recipient.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::MessageKind")]
pub enum MessageKind {
    /// Their payment went through.
    PaymentSucceeded,
    /// Their refund is done.
    RefundDone,
    /// A livestream they may watch starts in 15 minutes.
    LivestreamStarting,
    /// A livestream they may watch is live.
    LivestreamLive,
    /// A course they bought has a new lesson.
    NewLesson,
    /// Their paid group membership ends in 3 days.
    MembershipEnding,
    /// Someone replied to their group post.
    PostReply,
}

/// Whether the user receives one kind of message.
#[derive(SimpleObject)]
pub struct NotificationSetting {
    /// The kind.
    pub kind: MessageKind,
    /// On (the default) or switched off.
    pub enabled: bool,
}

fn to_settings(settings: Vec<(entity::enums::MessageKind, bool)>) -> Vec<NotificationSetting> {
    settings
        .into_iter()
        .map(|(kind, enabled)| NotificationSetting {
            kind: kind.into(),
            enabled,
        })
        .collect()
}

/// Input of `setNotificationSetting`.
#[derive(InputObject)]
pub struct SetNotificationSettingInput {
    /// The kind.
    pub kind: MessageKind,
    /// On or off.
    pub enabled: bool,
}

payload!(
    /// Result of `setNotificationSetting`.
    SetNotificationSettingPayload, settings: Vec<NotificationSetting>
);

/// Message queries.
#[derive(Default)]
pub struct MessageQuery;

/// Message queries.
#[Object]
impl MessageQuery {
    /// Every kind of message with whether the signed-in user receives it.
    async fn notification_settings(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<NotificationSetting>> {
        Ok(to_settings(
            messages::settings(ctx.db()?, ctx.actor()?).await?,
        ))
    }
}

/// Input of `recordMessageConsent`.
#[derive(InputObject)]
pub struct RecordMessageConsentInput {
    /// The template ids the user accepted in `wx.requestSubscribeMessage` (those whose
    /// answer was `accept`); each allows one message of that template.
    pub templates: Vec<String>,
}

payload!(
    /// Result of `recordMessageConsent`.
    RecordMessageConsentPayload, recorded: i32
);

/// Message mutations.
#[derive(Default)]
pub struct MessageMutation;

/// Message mutations.
#[Object]
impl MessageMutation {
    /// Records the one-time subscribe-message consents the signed-in user gave in the
    /// mini-program with `wx.requestSubscribeMessage`. Each accepted template allows one
    /// message of it (up to 50 banked); `recorded` is how many were recorded.
    async fn record_message_consent(
        &self,
        ctx: &Context<'_>,
        input: RecordMessageConsentInput,
    ) -> async_graphql::Result<RecordMessageConsentPayload> {
        let templates = ctx.data::<Templates>()?;
        let result = messages::record_consent(ctx.db()?, templates, ctx.actor()?, &input.templates)
            .await
            .map(|n| i32::try_from(n).unwrap_or(i32::MAX));
        RecordMessageConsentPayload::from_result(result)
    }

    /// Switches one kind of message on or off for the signed-in user; a kind switched
    /// off is not sent (its messages are skipped).
    async fn set_notification_setting(
        &self,
        ctx: &Context<'_>,
        input: SetNotificationSettingInput,
    ) -> async_graphql::Result<SetNotificationSettingPayload> {
        let result =
            messages::set_setting(ctx.db()?, ctx.actor()?, input.kind.into(), input.enabled)
                .await
                .map(to_settings);
        SetNotificationSettingPayload::from_result(result)
    }
}
