//! Messages: what the user agreed to receive.

use async_graphql::{Context, InputObject, Object};

use crate::graphql::context::ContextExt;
use crate::graphql::payload::payload;
use crate::service::messages::{self, Templates};

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
}
