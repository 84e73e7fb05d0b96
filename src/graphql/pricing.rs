//! Prices on the API: a product's limited-time price (`sale`), what the viewer pays now
//! (`viewerPrice`), what an order was priced with, and the mutations that set a sale.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::product_sale;

use crate::graphql::context::ContextExt;
use crate::graphql::loaders::{SaleOfProduct, UsableCoupons};
use crate::graphql::money::Money;
use crate::graphql::order::{Product, load_product, product_of};
use crate::graphql::payload::payload;
use crate::service::access::ProductRef;
use crate::service::pricing::{self, CouponChoice, NewSale, Quote};

/// Why a price is lower than the list price.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::DiscountKind")]
pub enum DiscountKind {
    /// A limited-time price.
    Sale,
    /// A coupon.
    Coupon,
    /// What the buyer already paid for courses of a bundle.
    BundleCredit,
    /// A membership renewed early or after it lapsed.
    Renewal,
}

/// One reason a price is lower.
#[derive(SimpleObject)]
pub struct Discount {
    /// What kind.
    pub kind: DiscountKind,
    /// What the buyer is shown (`限时折扣`, a coupon's name).
    pub label: String,
    /// How much it takes off.
    pub amount: Money,
}

/// What the viewer pays for a product now, and why.
#[derive(SimpleObject)]
pub struct ViewerPrice {
    /// What `createOrder` charges now.
    pub amount: Money,
    /// The list price.
    pub original: Money,
    /// Each discount, in the order applied; the list price less these is `amount`.
    pub discounts: Vec<Discount>,
    /// When this price stops holding (the sale's end, for a countdown), if it does.
    pub ends_at: Option<DateTime<Utc>>,
}

impl From<Quote> for ViewerPrice {
    fn from(quote: Quote) -> Self {
        ViewerPrice {
            amount: Money::cny(quote.amount_fen),
            original: Money::cny(quote.list_fen),
            discounts: quote
                .discounts
                .into_iter()
                .map(|d| Discount {
                    kind: d.kind.into(),
                    label: d.label,
                    amount: Money::cny(d.amount_fen),
                })
                .collect(),
            ends_at: quote.ends_at,
        }
    }
}

/// A limited-time price (限时折扣).
pub struct Sale(pub product_sale::Model);

/// A limited-time price (限时折扣).
#[Object]
impl Sale {
    /// The sale price.
    async fn price(&self) -> Money {
        Money::cny(self.0.price_fen)
    }
    /// When it starts.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    /// When it ends (the list price is back at this instant).
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    /// Whether it holds now.
    async fn active(&self) -> bool {
        pricing::is_active(&self.0, Utc::now())
    }
}

/// The product's sale, current or upcoming (none once it ended).
pub async fn sale_of(
    ctx: &Context<'_>,
    product: &ProductRef,
) -> async_graphql::Result<Option<Sale>> {
    let sale = ctx
        .loader()?
        .load_one(SaleOfProduct(product.kind, product.id))
        .await?;
    Ok(sale.filter(|s| s.ends_at > Utc::now()).map(Sale))
}

/// What the viewer pays for the product now: with its sale and the best of the
/// viewer's coupons, as `createOrder` would charge.
pub async fn viewer_price(
    ctx: &Context<'_>,
    product: &ProductRef,
) -> async_graphql::Result<ViewerPrice> {
    let loader = ctx.loader()?;
    let sale = loader
        .load_one(SaleOfProduct(product.kind, product.id))
        .await?;
    let held = match ctx.actor()?.user_id() {
        Some(user_id) => loader
            .load_one(UsableCoupons(user_id))
            .await?
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let now = Utc::now();
    let credit = match ctx.actor()?.user_id() {
        Some(user_id) => pricing::history_credit(ctx.db()?, product, user_id, now).await?,
        None => pricing::Credit::NONE,
    };
    let quote = pricing::price_with(
        product,
        sale.as_ref(),
        credit,
        &held,
        CouponChoice::Best,
        now,
    )
    .unwrap_or_else(|_| pricing::price(product.price_fen, sale.as_ref(), now));
    Ok(quote.into())
}

/// Input of `setSale`.
#[derive(InputObject)]
pub struct SetSaleInput {
    /// The Course, Livestream or CommunityGroup.
    pub product: ID,
    /// The sale price in fen: 0 (free for a while) up to below the list price.
    pub price_fen: i64,
    /// From when.
    pub starts_at: DateTime<Utc>,
    /// Until when (exclusive; in the future, at most a year after the start).
    pub ends_at: DateTime<Utc>,
}

/// Input of `endSale`.
#[derive(InputObject)]
pub struct EndSaleInput {
    /// The Course, Livestream or CommunityGroup.
    pub product: ID,
}

payload!(
    /// Result of `setSale` and `endSale`: the product, priced anew.
    SalePayload, product: Product
);

/// Pricing mutations.
#[derive(Default)]
pub struct PricingMutation;

/// Pricing mutations.
#[Object]
impl PricingMutation {
    /// Sets (or replaces) a limited-time price on one of the viewer's products (admins:
    /// any). Orders already made keep the amount they were made with.
    async fn set_sale(
        &self,
        ctx: &Context<'_>,
        input: SetSaleInput,
    ) -> async_graphql::Result<SalePayload> {
        let result = async {
            let (kind, id) = product_of(&input.product)?;
            let sale = NewSale {
                price_fen: input.price_fen,
                starts_at: input.starts_at,
                ends_at: input.ends_at,
            };
            pricing::set_sale(ctx.db()?, ctx.actor()?, kind, id, sale)
                .await
                .map(|(_, product)| product)
        }
        .await;
        product_payload(ctx, result).await
    }

    /// Ends a product's limited-time price now (admins: any product's).
    async fn end_sale(
        &self,
        ctx: &Context<'_>,
        input: EndSaleInput,
    ) -> async_graphql::Result<SalePayload> {
        let result = async {
            let (kind, id) = product_of(&input.product)?;
            pricing::end_sale(ctx.db()?, ctx.actor()?, kind, id).await
        }
        .await;
        product_payload(ctx, result).await
    }
}

async fn product_payload(
    ctx: &Context<'_>,
    result: crate::error::AppResult<ProductRef>,
) -> async_graphql::Result<SalePayload> {
    let (product, user_errors) = crate::graphql::payload::split(result)?;
    let product = match product {
        Some(p) => load_product(ctx, p.kind, p.id).await?,
        None => None,
    };
    Ok(SalePayload {
        product,
        user_errors,
    })
}
