//! The order list with the console's filters and orderings, keyset-paginated, and the
//! same filtered query for the CSV export.
//!
//! Who sees what: admins on the console every order, a creator what they sold, a
//! signed-in user their own orders; never anonymous. Filters narrow that, never widen
//! it (a learner filtering by another buyer gets FORBIDDEN).

use chrono::{DateTime, Utc};
use entity::enums::{OrderStatus, ProductKind};
use entity::{order, order_discount};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};

use crate::auth::Actor;
use crate::error::AppResult;
use crate::service::PRIVATE_PURCHASES as PRIVATE;
use crate::service::page::{self, Counted, Page, PageRequest, SortKey, SortValue};

/// Filters of the order list; every one given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderListFilter {
    /// In this status.
    pub status: Option<OrderStatus>,
    /// Made at or after this instant.
    pub created_from: Option<DateTime<Utc>>,
    /// Made before this instant.
    pub created_before: Option<DateTime<Utc>>,
    /// Amount at least this, in fen.
    pub min_amount_fen: Option<i64>,
    /// Amount at most this, in fen.
    pub max_amount_fen: Option<i64>,
    /// Of this kind of product.
    pub product_kind: Option<ProductKind>,
    /// Sold by this creator.
    pub seller_id: Option<i64>,
    /// Bought by this user.
    pub buyer_id: Option<i64>,
    /// Priced with this coupon.
    pub coupon_id: Option<i64>,
}

/// What the order list is ordered by (then by id).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OrderSort {
    /// Creation order (ids grow with creation time, and `(buyer_id, id)` serves a
    /// buyer's list).
    #[default]
    Newest,
    /// Amount charged.
    Amount,
}

/// The orders the actor may see that match `filter`, unordered.
pub fn visible(actor: &Actor, filter: &OrderListFilter) -> AppResult<Select<order::Entity>> {
    let user_id = actor.user_id().ok_or(PRIVATE)?;
    let mut query = order::Entity::find();
    if !actor.is_console_admin() {
        match (filter.buyer_id, actor.creator_id()) {
            // One's own purchases.
            (Some(buyer), _) if buyer == user_id => {}
            (Some(_), _) => return Err(PRIVATE),
            (None, Some(creator_id)) => {
                query = query.filter(order::Column::SellerId.eq(creator_id));
            }
            (None, None) => query = query.filter(order::Column::BuyerId.eq(user_id)),
        }
    }
    if let Some(status) = filter.status {
        query = query.filter(order::Column::Status.eq(status));
    }
    if let Some(from) = filter.created_from {
        query = query.filter(order::Column::CreatedAt.gte(from));
    }
    if let Some(before) = filter.created_before {
        query = query.filter(order::Column::CreatedAt.lt(before));
    }
    if let Some(min) = filter.min_amount_fen {
        query = query.filter(order::Column::AmountFen.gte(min));
    }
    if let Some(max) = filter.max_amount_fen {
        query = query.filter(order::Column::AmountFen.lte(max));
    }
    if let Some(kind) = filter.product_kind {
        query = query.filter(order::Column::ProductKind.eq(kind));
    }
    if let Some(seller) = filter.seller_id {
        query = query.filter(order::Column::SellerId.eq(seller));
    }
    if let Some(buyer) = filter.buyer_id {
        query = query.filter(order::Column::BuyerId.eq(buyer));
    }
    if let Some(coupon) = filter.coupon_id {
        query = query.filter(
            order::Column::Id.in_subquery(
                Query::select()
                    .column(order_discount::Column::OrderId)
                    .from(order_discount::Entity)
                    .and_where(order_discount::Column::CouponId.eq(coupon))
                    .to_owned(),
            ),
        );
    }
    Ok(query)
}

/// The sort key of an ordering.
pub fn sort_key(sort: OrderSort, descending: bool) -> SortKey<order::Entity> {
    let key: Option<page::KeyExpr<order::Model>> = match sort {
        OrderSort::Newest => None,
        OrderSort::Amount => Some((Expr::col(order::Column::AmountFen), |o| {
            SortValue::Int(o.amount_fen)
        })),
    };
    SortKey {
        key,
        id: order::Column::Id,
        descending,
    }
}

/// One page of the orders the actor may see that match `filter`, in `sort` order.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: &OrderListFilter,
    sort: OrderSort,
    descending: bool,
    request: &PageRequest,
) -> AppResult<(Page<order::Model>, Counted<order::Entity>)> {
    let query = visible(actor, filter)?;
    page::fetch(db, query, &sort_key(sort, descending), request, |o| o.id).await
}

/// Rows of an export read per query: memory stays flat however many orders match.
pub const EXPORT_BATCH: u64 = 2_000;

/// The next batch of an export of what [`visible`] allows: up to [`EXPORT_BATCH`]
/// orders older than `before_id` (newest first), each with its product's title.
pub async fn export_batch(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: &OrderListFilter,
    before_id: Option<i64>,
) -> AppResult<Vec<(order::Model, String)>> {
    use sea_orm::{QueryOrder, QuerySelect};
    let mut query = visible(actor, filter)?;
    if let Some(before) = before_id {
        query = query.filter(order::Column::Id.lt(before));
    }
    let rows = query
        .order_by_desc(order::Column::Id)
        .limit(EXPORT_BATCH)
        .all(db)
        .await?;
    let titles = product_titles(db, &rows).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let title = titles
                .get(&(row.product_kind, row.product_id))
                .cloned()
                .unwrap_or_default();
            (row, title)
        })
        .collect())
}

/// The titles of the orders' products: one query per kind of product.
async fn product_titles(
    db: &impl ConnectionTrait,
    rows: &[order::Model],
) -> AppResult<std::collections::HashMap<(ProductKind, i64), String>> {
    use entity::{bundle, community_group, course, livestream, membership_plan};
    let ids_of = |kind: ProductKind| -> Vec<i64> {
        let mut ids: Vec<i64> = rows
            .iter()
            .filter(|r| r.product_kind == kind)
            .map(|r| r.product_id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let mut titles = std::collections::HashMap::new();
    let courses = ids_of(ProductKind::Course);
    if !courses.is_empty() {
        for c in course::Entity::find()
            .filter(course::Column::Id.is_in(courses))
            .all(db)
            .await?
        {
            titles.insert((ProductKind::Course, c.id), c.title);
        }
    }
    let livestreams = ids_of(ProductKind::Livestream);
    if !livestreams.is_empty() {
        for l in livestream::Entity::find()
            .filter(livestream::Column::Id.is_in(livestreams))
            .all(db)
            .await?
        {
            titles.insert((ProductKind::Livestream, l.id), l.title);
        }
    }
    let groups = ids_of(ProductKind::Group);
    if !groups.is_empty() {
        for g in community_group::Entity::find()
            .filter(community_group::Column::Id.is_in(groups))
            .all(db)
            .await?
        {
            titles.insert((ProductKind::Group, g.id), g.name);
        }
    }
    let bundles = ids_of(ProductKind::Bundle);
    if !bundles.is_empty() {
        for b in bundle::Entity::find()
            .filter(bundle::Column::Id.is_in(bundles))
            .all(db)
            .await?
        {
            titles.insert((ProductKind::Bundle, b.id), b.title);
        }
    }
    let plans = ids_of(ProductKind::Membership);
    if !plans.is_empty() {
        for p in membership_plan::Entity::find()
            .filter(membership_plan::Column::Id.is_in(plans))
            .all(db)
            .await?
        {
            titles.insert((ProductKind::Membership, p.id), p.name);
        }
    }
    Ok(titles)
}

/// The export's header line.
pub const CSV_HEADER: &str = "order_no,status,product_kind,product_id,product_title,seller_id,buyer_id,list_price,discount,amount,currency,created_at,paid_at,refunded_at,transaction_id\r\n";

/// One order as a CSV line (RFC 4180, CRLF): amounts in yuan with two decimals, times
/// in RFC 3339 UTC.
pub fn csv_line(row: &order::Model, title: &str) -> String {
    use sea_orm::ActiveEnum;
    let yuan = |fen: i64| {
        let sign = if fen < 0 { "-" } else { "" };
        format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
    };
    let time = |at: Option<DateTime<Utc>>| at.map(|t| t.to_rfc3339()).unwrap_or_default();
    let fields = [
        csv_field(&row.out_trade_no),
        row.status.to_value(),
        row.product_kind.to_value(),
        row.product_id.to_string(),
        csv_field(title),
        row.seller_id.to_string(),
        row.buyer_id.to_string(),
        yuan(row.list_price_fen),
        yuan(row.list_price_fen - row.amount_fen),
        yuan(row.amount_fen),
        csv_field(&row.currency),
        time(Some(row.created_at)),
        time(row.paid_at),
        time(row.refunded_at),
        csv_field(row.transaction_id.as_deref().unwrap_or_default()),
    ];
    let mut line = fields.join(",");
    line.push_str("\r\n");
    line
}

/// A text cell: quoted when it holds a comma, quote or line break (quotes doubled),
/// and led by `'` when it starts like a spreadsheet formula, so opening the file never
/// runs one.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("Python 入门"), "Python 入门");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
    }
}
