//! Messages: what the user agreed to receive, and which kinds they switched off.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};

use crate::graphql::context::ContextExt;
use crate::graphql::payload::payload;
use crate::service::messages::Templates;
use crate::service::messages::preferences::{self, ConsentAnswer};

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

/// A mini-program template the user may be sent, with the one-time sends they banked.
#[derive(SimpleObject)]
pub struct MessageConsent {
    /// The kind of message it carries.
    pub kind: MessageKind,
    /// The template id, as `wx.requestSubscribeMessage` takes it.
    pub template_id: String,
    /// Sends left (each accepted prompt adds one, each message sent spends one).
    pub remaining: i32,
}

/// What a user receives: each kind on or off, and the mini-program consents banked.
pub struct NotificationSettings {
    user_id: i64,
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

/// What a user receives: each kind on or off, and the mini-program consents banked.
#[Object]
impl NotificationSettings {
    /// Every kind of message, on until switched off.
    async fn kinds(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<NotificationSetting>> {
        Ok(to_settings(
            preferences::settings(ctx.db()?, ctx.actor()?, self.user_id).await?,
        ))
    }

    /// The configured mini-program templates with the sends banked for each: ask
    /// `wx.requestSubscribeMessage` again for those at 0.
    async fn consents(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<MessageConsent>> {
        let templates = ctx.data::<Templates>()?;
        Ok(
            preferences::consents(ctx.db()?, templates, ctx.actor()?, self.user_id)
                .await?
                .into_iter()
                .map(|c| MessageConsent {
                    kind: c.kind.into(),
                    template_id: c.template_id,
                    remaining: c.remaining,
                })
                .collect(),
        )
    }
}

impl NotificationSettings {
    /// The settings of `user_id` (whose access the caller has checked).
    pub fn of(user_id: i64) -> Self {
        NotificationSettings { user_id }
    }
}

/// One setting to change.
#[derive(InputObject)]
pub struct NotificationSettingInput {
    /// The kind.
    pub kind: MessageKind,
    /// On or off.
    pub enabled: bool,
}

/// Input of `updateNotificationSettings`.
#[derive(InputObject)]
pub struct UpdateNotificationSettingsInput {
    /// The kinds to switch; kinds not named stay as they are.
    pub settings: Vec<NotificationSettingInput>,
}

payload!(
    /// Result of `updateNotificationSettings`: every kind, after the change.
    UpdateNotificationSettingsPayload, settings: Vec<NotificationSetting>
);

/// What the user answered for one template in `wx.requestSubscribeMessage`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeAnswer {
    /// `accept`: one message of this template may be sent.
    Accept,
    /// `reject`.
    Reject,
    /// `ban`: WeChat banned the template.
    Ban,
    /// `filter`: WeChat filtered the template out.
    Filter,
}

/// One template's answer, as `wx.requestSubscribeMessage` reports it.
#[derive(InputObject)]
pub struct MessageConsentInput {
    /// The template id.
    pub template_id: String,
    /// The answer.
    pub answer: SubscribeAnswer,
}

/// Input of `recordMessageConsent`.
#[derive(InputObject)]
pub struct RecordMessageConsentInput {
    /// The answers of one or more prompts (1 to 20); each ACCEPT allows one message of
    /// that template.
    pub templates: Vec<MessageConsentInput>,
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
    /// Records the signed-in user's answers to `wx.requestSubscribeMessage` in the
    /// mini-program. Each accepted template allows one message of it (up to 50
    /// banked); `recorded` is how many were accepted.
    async fn record_message_consent(
        &self,
        ctx: &Context<'_>,
        input: RecordMessageConsentInput,
    ) -> async_graphql::Result<RecordMessageConsentPayload> {
        let templates = ctx.data::<Templates>()?;
        let answers: Vec<ConsentAnswer> = input
            .templates
            .into_iter()
            .map(|t| ConsentAnswer {
                template_id: t.template_id,
                accepted: t.answer == SubscribeAnswer::Accept,
            })
            .collect();
        let result = preferences::record_consent(ctx.db()?, templates, ctx.actor()?, &answers)
            .await
            .map(|n| i32::try_from(n).unwrap_or(i32::MAX));
        RecordMessageConsentPayload::from_result(result)
    }

    /// Switches kinds of message on or off for the signed-in user; a kind switched off
    /// is not sent (its messages are skipped).
    async fn update_notification_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateNotificationSettingsInput,
    ) -> async_graphql::Result<UpdateNotificationSettingsPayload> {
        let changes: Vec<(entity::enums::MessageKind, bool)> = input
            .settings
            .into_iter()
            .map(|s| (s.kind.into(), s.enabled))
            .collect();
        let result = preferences::update_settings(ctx.db()?, ctx.actor()?, &changes)
            .await
            .map(to_settings);
        UpdateNotificationSettingsPayload::from_result(result)
    }
}
