//! Paid-content checks for resolvers, batched: the entitlement lookups of a whole page
//! go through the request's loader.

use async_graphql::Context;

use crate::graphql::context::ContextExt;
use crate::graphql::loaders::EntitledTo;
use crate::service::access::{self, ProductRef};

/// Whether the viewer may open the product's paid content.
pub async fn can_open(ctx: &Context<'_>, product: &ProductRef) -> async_graphql::Result<bool> {
    let actor = ctx.actor()?;
    if access::open_without_entitlement(actor, product) {
        return Ok(true);
    }
    if actor.user_id().is_none() {
        return Ok(false);
    }
    Ok(ctx
        .loader()?
        .load_one(EntitledTo(product.kind, product.id))
        .await?
        .unwrap_or(false))
}
