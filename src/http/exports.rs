//! `GET /exports/orders.csv`: the order list as CSV for admins on the console, with the
//! same filters as the `orders` query (as query parameters), streamed in batches so
//! memory stays flat whatever the size; UTF-8 with a byte-order mark, so Excel reads
//! the Chinese titles correctly.
//!
//! Parameters: `status`, `productKind` (the GraphQL enum values), `createdFrom`,
//! `createdBefore` (RFC 3339), `minAmountFen`, `maxAmountFen`, and `creator`, `buyer`,
//! `coupon` (global IDs). The token goes in `Authorization: Bearer …` as for GraphQL.

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use entity::enums::{OrderStatus, ProductKind};
use sea_orm::ActiveEnum;
use serde::Deserialize;

use super::Shared;
use crate::auth::Actor;
use crate::error::AppError;
use crate::graphql::ids::{self, type_name};
use crate::service::orders::OrderListFilter;
use crate::service::orders::listing::{CSV_HEADER, csv_line, export_batch};

/// The UTF-8 byte-order mark.
const BOM: &str = "\u{feff}";

/// Chunks queued between the database reader and the socket (each one batch).
const QUEUED_CHUNKS: usize = 2;

/// The query parameters of the export.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportParams {
    status: Option<String>,
    product_kind: Option<String>,
    created_from: Option<DateTime<Utc>>,
    created_before: Option<DateTime<Utc>>,
    min_amount_fen: Option<i64>,
    max_amount_fen: Option<i64>,
    creator: Option<String>,
    buyer: Option<String>,
    coupon: Option<String>,
}

impl ExportParams {
    fn into_filter(self) -> Result<OrderListFilter, String> {
        let id = |value: Option<String>, kind: &str| {
            value
                .map(|text| ids::decode(&text.into(), kind).map_err(|e| e.to_string()))
                .transpose()
        };
        Ok(OrderListFilter {
            status: self
                .status
                .map(|s| {
                    OrderStatus::try_from_value(&s).map_err(|_| format!("unknown status {s:?}"))
                })
                .transpose()?,
            product_kind: self
                .product_kind
                .map(|k| {
                    ProductKind::try_from_value(&k)
                        .map_err(|_| format!("unknown productKind {k:?}"))
                })
                .transpose()?,
            created_from: self.created_from,
            created_before: self.created_before,
            min_amount_fen: self.min_amount_fen,
            max_amount_fen: self.max_amount_fen,
            seller_id: id(self.creator, type_name::CREATOR)?,
            buyer_id: id(self.buyer, type_name::USER)?,
            coupon_id: id(self.coupon, type_name::COUPON)?,
        })
    }
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

/// The export handler.
pub async fn orders_csv(
    State(state): State<Shared>,
    headers: HeaderMap,
    params: Result<Query<ExportParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let actor = match crate::auth::authenticate(&state.db, &state.auth, authorization).await {
        Ok(Actor::Anonymous) | Err(AppError::Unauthenticated) => {
            return refuse(StatusCode::UNAUTHORIZED, "sign in with a console token");
        }
        Ok(actor) => actor,
        Err(AppError::Forbidden(message)) => return refuse(StatusCode::FORBIDDEN, message),
        Err(error) => {
            tracing::error!(?error, "export sign-in failed");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    if actor.require_console_admin().is_err() {
        return refuse(
            StatusCode::FORBIDDEN,
            "only admins signed in to the console may export orders",
        );
    }
    let filter = match params
        .map_err(|rejection| rejection.body_text())
        .and_then(|Query(params)| params.into_filter())
    {
        Ok(filter) => filter,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, &message),
    };
    let (sender, receiver) =
        tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(QUEUED_CHUNKS);
    let db = state.db.clone();
    tokio::spawn(async move {
        let mut before = None;
        let mut chunk = format!("{BOM}{CSV_HEADER}");
        loop {
            let batch = match export_batch(&db, &actor, &filter, before).await {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::error!(?error, "order export failed midway");
                    // An error item aborts the response: the client sees a broken
                    // download, never a short file that looks complete.
                    let _ = sender
                        .send(Err(std::io::Error::other("export failed")))
                        .await;
                    return;
                }
            };
            for (row, title) in &batch {
                chunk.push_str(&csv_line(row, title));
            }
            let done = (batch.len() as u64) < crate::service::orders::listing::EXPORT_BATCH;
            before = batch.last().map(|(row, _)| row.id);
            if sender
                .send(Ok(Bytes::from(std::mem::take(&mut chunk))))
                .await
                .is_err()
                || done
            {
                // The client went away, or everything was sent.
                return;
            }
        }
    });
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"orders.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(body),
    )
        .into_response()
}
