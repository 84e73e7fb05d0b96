//! Users: public profile fields; entitlements and orders only for the user and admins.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use crate::graphql::context::ContextExt;
use crate::graphql::enums::Role;
use crate::graphql::ids;
use crate::graphql::ids::type_name;
use crate::graphql::loaders::CreatorByUser;
use crate::graphql::messages::NotificationSettings;
use crate::graphql::objects::{Creator, Entitlement, Order, User};
use crate::graphql::pagination::{self, Conn};
use crate::graphql::prefetch;
use crate::service::messages::preferences;
use crate::service::{entitlements, orders};

/// A person on the platform. Only public profile fields are exposed; WeChat
/// identifiers never are.
#[Object]
impl User {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(type_name::USER, self.0.id)
    }
    /// Nickname from their WeChat profile or chosen here.
    async fn nickname(&self) -> Option<&str> {
        self.0.nickname.as_deref()
    }
    /// Avatar image URL.
    async fn avatar_url(&self) -> Option<&str> {
        self.0.avatar_url.as_deref()
    }
    /// What the user may do.
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    /// When they joined.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When they were banned; null when they are not. Only admins on the console see
    /// it (null for everyone else).
    async fn banned_at(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<DateTime<Utc>>> {
        Ok(if ctx.actor()?.is_console_admin() {
            self.0.banned_at
        } else {
            None
        })
    }
    /// Their creator profile, if they sell.
    async fn creator(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Creator>> {
        Ok(ctx
            .loader()?
            .load_one(CreatorByUser(self.0.id))
            .await?
            .map(Creator))
    }
    /// What they receive: each kind of message on or off, and the mini-program
    /// consents banked (the user themself and admins only).
    async fn notification_settings(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<NotificationSettings> {
        preferences::require_self(ctx.actor()?, self.0.id)?;
        Ok(NotificationSettings::of(self.0.id))
    }
    /// What the platform owes them as a promoter (分销): pending, available, paid out
    /// (the user themself and admins only).
    async fn promoter_earnings(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<crate::graphql::ledger::Earnings> {
        crate::graphql::promotion::promoter_earnings(ctx, self.0.id).await
    }
    /// Their promoter ledger entries (commissions, reversals by refunds, payouts),
    /// newest first (the user themself and admins only).
    #[graphql(complexity = "crate::graphql::pagination::cost(first, None, child_complexity)")]
    async fn promoter_ledger_entries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<crate::graphql::pagination::Conn<crate::graphql::ledger::LedgerEntry>>
    {
        crate::graphql::ledger::promoter_entries_of(ctx, self.0.id, first, after).await
    }
    /// Their payouts (creator earnings and promoter commissions), newest first, at
    /// most `first` (1 to 100); one waiting for confirmation carries the `packageInfo`
    /// for `wx.requestMerchantTransfer` (the user themself and admins only).
    async fn payouts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> async_graphql::Result<Vec<crate::graphql::payout::Payout>> {
        crate::graphql::payout::payouts_of(ctx, self.0.id, first).await
    }
    /// Their share codes, one per product they promote, newest first (the user
    /// themself and admins only).
    async fn promoter_codes(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::graphql::promotion::PromoterCode>> {
        crate::graphql::promotion::promoter_codes(ctx, self.0.id).await
    }
    /// Their memberships, running or ended, with plan and end (the user themself and
    /// admins only).
    async fn memberships(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::graphql::membership::Membership>> {
        crate::graphql::membership::memberships_of(ctx, self.0.id).await
    }
    /// Their coupons, newest first (the user themself and admins only).
    #[graphql(complexity = "pagination::cost(first, None, child_complexity)")]
    async fn coupons(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<crate::graphql::coupon::UserCouponFilter>,
    ) -> async_graphql::Result<Conn<crate::graphql::coupon::UserCoupon>> {
        crate::graphql::coupon::copies_of(ctx, self.0.id, first, after, filter).await
    }
    /// What they have access to (the user themself and admins only).
    #[graphql(complexity = "pagination::cost(first, None, child_complexity)")]
    async fn entitlements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Conn<Entitlement>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, None, None)?;
        let rows = entitlements::entitlements_of(db, ctx.actor()?, self.0.id, &page).await?;
        Ok(pagination::connection(db, rows, Entitlement))
    }
    /// Their orders, newest first (the user themself and admins only).
    #[graphql(complexity = "pagination::cost(first, None, child_complexity)")]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Conn<Order>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, None, None)?;
        let filter = orders::OrderListFilter {
            buyer_id: Some(self.0.id),
            ..Default::default()
        };
        let rows = orders::list(
            db,
            ctx.actor()?,
            &filter,
            orders::OrderSort::Newest,
            true,
            &page,
        )
        .await?;
        let page_rows: Vec<_> = rows.0.items.iter().map(|(_, o)| o).collect();
        prefetch::order_products(ctx, &page_rows).await?;
        Ok(pagination::connection(db, rows, Order))
    }
}

// ---------------------------------------------------------------------------------
// Mutations.
// ---------------------------------------------------------------------------------

use async_graphql::InputObject;

use crate::graphql::payload::{input_id, payload};
use crate::service::users::{self, ProfileChanges};

payload!(
    /// Result of `updateProfile` and `banUser`.
    UserPayload, user: User
);

/// Input of `updateProfile`; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateProfileInput {
    /// New nickname, 1 to 32 characters.
    pub nickname: Option<String>,
    /// New avatar, an http(s) URL (empty clears it).
    pub avatar_url: Option<String>,
}

/// Input of `banUser`.
#[derive(InputObject)]
pub struct BanUserInput {
    /// The user to ban.
    pub user: ID,
}

/// Input of `unbanUser`.
#[derive(InputObject)]
pub struct UnbanUserInput {
    /// The user to let back in.
    pub user: ID,
}

/// Input of `setAdmin`.
#[derive(InputObject)]
pub struct SetAdminInput {
    /// The user.
    pub user: ID,
    /// True makes them an admin; false returns them to creator (with a creator
    /// profile) or learner.
    pub admin: bool,
}

/// User mutations.
#[derive(Default)]
pub struct UserMutation;

/// User mutations: the viewer's profile, admin bans and roles.
#[Object]
impl UserMutation {
    /// Changes the viewer's own profile.
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateProfileInput,
    ) -> async_graphql::Result<UserPayload> {
        let changes = ProfileChanges {
            nickname: input.nickname,
            avatar_url: input.avatar_url,
        };
        let result = users::update_profile(ctx.db()?, ctx.actor()?, changes)
            .await
            .map(User);
        UserPayload::from_result(result)
    }

    /// Admin (console only): bans a user; their tokens stop working at once.
    async fn ban_user(
        &self,
        ctx: &Context<'_>,
        input: BanUserInput,
    ) -> async_graphql::Result<UserPayload> {
        let result = async {
            let id = input_id(&input.user, type_name::USER, "user")?;
            Ok(User(
                users::ban(ctx.db()?, ctx.effects()?, ctx.actor()?, id).await?,
            ))
        }
        .await;
        UserPayload::from_result(result)
    }

    /// Admin (console only): lifts a ban; the user signs in again to get new tokens.
    async fn unban_user(
        &self,
        ctx: &Context<'_>,
        input: UnbanUserInput,
    ) -> async_graphql::Result<UserPayload> {
        let result = async {
            let id = input_id(&input.user, type_name::USER, "user")?;
            Ok(User(
                users::unban(ctx.db()?, ctx.effects()?, ctx.actor()?, id).await?,
            ))
        }
        .await;
        UserPayload::from_result(result)
    }

    /// Admin (console only): makes a user an admin or takes that back (never one's own).
    async fn set_admin(
        &self,
        ctx: &Context<'_>,
        input: SetAdminInput,
    ) -> async_graphql::Result<UserPayload> {
        let result = async {
            let id = input_id(&input.user, type_name::USER, "user")?;
            let user =
                users::set_admin(ctx.db()?, ctx.effects()?, ctx.actor()?, id, input.admin).await?;
            Ok(User(user))
        }
        .await;
        UserPayload::from_result(result)
    }
}

/// Filters of the console's user list; every one given must hold.
#[derive(InputObject, Default)]
pub struct UserFilter {
    /// With this role.
    pub role: Option<Role>,
    /// Banned (true) or not (false).
    pub banned: Option<bool>,
    /// Signed up at or after this instant.
    pub created_from: Option<DateTime<Utc>>,
    /// Signed up before this instant.
    pub created_before: Option<DateTime<Utc>>,
    /// Text the nickname contains (case-insensitive).
    pub nickname_contains: Option<String>,
}

/// What the user list is ordered by.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserOrderField {
    /// Sign-up order.
    #[default]
    Newest,
    /// Nickname.
    Nickname,
}

/// Ordering of the user list.
#[derive(InputObject, Default)]
pub struct UserOrder {
    /// Key to order by.
    #[graphql(default)]
    pub field: UserOrderField,
    /// Direction (default DESC).
    #[graphql(default)]
    pub direction: crate::graphql::enums::OrderDirection,
}

/// User queries.
#[derive(Default)]
pub struct UserQuery;

/// User queries (the console's).
#[Object]
impl UserQuery {
    /// Every user, newest first unless ordered otherwise, narrowed by `filter` (admins
    /// on the console).
    #[graphql(complexity = "pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<UserFilter>,
        order_by: Option<UserOrder>,
    ) -> async_graphql::Result<Conn<User>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let filter = users::UserListFilter {
            role: filter.role.map(Into::into),
            banned: filter.banned,
            created_from: filter.created_from,
            created_before: filter.created_before,
            nickname_contains: filter.nickname_contains,
        };
        let order = order_by.unwrap_or_default();
        let sort = match order.field {
            UserOrderField::Newest => users::UserSort::Newest,
            UserOrderField::Nickname => users::UserSort::Nickname,
        };
        let rows = users::list(
            db,
            ctx.actor()?,
            &filter,
            sort,
            order.direction.into(),
            &page,
        )
        .await?;
        Ok(pagination::connection(db, rows, User))
    }
}
