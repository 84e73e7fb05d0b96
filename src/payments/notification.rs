//! Verifying and decrypting WeChat Pay notifications.
//!
//! The signature covers `TIMESTAMP\nNONCE\nRAW_BODY\n` and is checked over the raw bytes
//! as received (never re-serialised JSON), with the platform key named by
//! `Wechatpay-Serial`. A timestamp more than five minutes off is refused, which bounds
//! replays. The resource is then decrypted with the APIv3 key.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::payments::NotificationKeys;
use crate::payments::crypto;

/// Largest clock difference accepted on a notification, in seconds.
pub const MAX_SKEW_SECS: i64 = 300;

/// The signature headers of a notification.
#[derive(Debug, Clone, Default)]
pub struct SignatureHeaders {
    /// `Wechatpay-Timestamp`.
    pub timestamp: String,
    /// `Wechatpay-Nonce`.
    pub nonce: String,
    /// `Wechatpay-Signature` (base64).
    pub signature: String,
    /// `Wechatpay-Serial`: which platform key signed.
    pub serial: String,
}

impl SignatureHeaders {
    /// The four `Wechatpay-*` headers of a notification or of an answer of the merchant
    /// API (empty when missing, which verification refuses).
    pub fn from_headers(headers: &reqwest::header::HeaderMap) -> Self {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        SignatureHeaders {
            timestamp: header("wechatpay-timestamp"),
            nonce: header("wechatpay-nonce"),
            signature: header("wechatpay-signature"),
            serial: header("wechatpay-serial"),
        }
    }
}

/// Why a notification was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// A signature header is missing or malformed.
    #[error("missing or malformed Wechatpay-* headers")]
    Headers,
    /// The timestamp is more than five minutes off.
    #[error("stale or future timestamp")]
    Stale,
    /// No platform key has this serial.
    #[error("unknown platform key serial")]
    UnknownSerial,
    /// The signature does not match the body.
    #[error("signature verification failed")]
    Signature,
    /// The body is not a notification.
    #[error("malformed notification body")]
    Malformed,
    /// The resource does not decrypt.
    #[error("cannot decrypt the resource")]
    Decrypt,
    /// The resource is not what it should be (wrong merchant, app, order or amount).
    #[error("{0}")]
    Mismatch(&'static str),
}

/// The envelope of a notification.
#[derive(Debug, Deserialize)]
struct Envelope {
    id: String,
    event_type: String,
    resource: Resource,
}

#[derive(Debug, Deserialize)]
struct Resource {
    algorithm: String,
    ciphertext: String,
    #[serde(default)]
    associated_data: String,
    nonce: String,
}

/// A verified, decrypted notification.
#[derive(Debug, Clone)]
pub struct Notification {
    /// The notification id (unique per notification; retries repeat it).
    pub id: String,
    /// e.g. `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`.
    pub event_type: String,
    /// The decrypted resource (JSON text).
    pub resource: String,
}

/// The amount of a transaction.
#[derive(Debug, Clone, Deserialize)]
pub struct TransactionAmount {
    /// Order amount in fen.
    pub total: i64,
    /// Currency of the order (`CNY`); absent only on malformed resources.
    #[serde(default)]
    pub currency: Option<String>,
}

/// Who paid.
#[derive(Debug, Clone, Deserialize)]
pub struct Payer {
    /// The payer's openid within our app.
    #[serde(default)]
    pub openid: Option<String>,
}

/// A decrypted transaction resource (`TRANSACTION.*`).
#[derive(Debug, Clone, Deserialize)]
pub struct Transaction {
    /// Our app id as WeChat Pay saw it.
    pub appid: String,
    /// Our merchant id.
    pub mchid: String,
    /// Our order number.
    pub out_trade_no: String,
    /// WeChat Pay's transaction id.
    pub transaction_id: String,
    /// `SUCCESS`, `CLOSED`...
    pub trade_state: String,
    /// Amounts.
    pub amount: TransactionAmount,
    /// Who paid (present on successful payments).
    #[serde(default)]
    pub payer: Option<Payer>,
}

/// The amounts of a refund.
#[derive(Debug, Clone, Deserialize)]
pub struct RefundAmount {
    /// Amount of the order, in fen.
    pub total: i64,
    /// Amount refunded, in fen.
    pub refund: i64,
}

/// A decrypted refund resource (`REFUND.*`).
#[derive(Debug, Clone, Deserialize)]
pub struct RefundResource {
    /// Our merchant id.
    pub mchid: String,
    /// The order refunded.
    pub out_trade_no: String,
    /// Our refund number.
    pub out_refund_no: String,
    /// WeChat Pay's refund id.
    pub refund_id: String,
    /// `SUCCESS`, `ABNORMAL` or `CLOSED`.
    pub refund_status: String,
    /// Amounts.
    pub amount: RefundAmount,
}

/// Verifies a WeChat Pay signature over `TIMESTAMP\nNONCE\nBODY\n` with the platform key
/// named by the serial, refusing a timestamp more than [`MAX_SKEW_SECS`] off. The same
/// rule covers notifications and the answers of the merchant API.
pub fn verify_signature(
    keys: &NotificationKeys,
    headers: &SignatureHeaders,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), NotifyError> {
    if headers.timestamp.is_empty() || headers.nonce.is_empty() || headers.signature.is_empty() {
        return Err(NotifyError::Headers);
    }
    let timestamp: i64 = headers
        .timestamp
        .parse()
        .map_err(|_| NotifyError::Headers)?;
    if (now.timestamp() - timestamp).abs() > MAX_SKEW_SECS {
        return Err(NotifyError::Stale);
    }
    let key = keys
        .platform
        .get(&headers.serial)
        .ok_or(NotifyError::UnknownSerial)?;
    let mut message = Vec::with_capacity(body.len() + 64);
    message.extend_from_slice(headers.timestamp.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(headers.nonce.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(body);
    message.push(b'\n');
    crypto::verify(key, &message, &headers.signature).map_err(|_| NotifyError::Signature)
}

/// Verifies the signature over the raw body and decrypts the resource.
pub fn verify_and_decrypt(
    keys: &NotificationKeys,
    headers: &SignatureHeaders,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Notification, NotifyError> {
    verify_signature(keys, headers, body, now)?;
    let envelope: Envelope = serde_json::from_slice(body).map_err(|_| NotifyError::Malformed)?;
    if envelope.resource.algorithm != "AEAD_AES_256_GCM" {
        return Err(NotifyError::Malformed);
    }
    let plain = crypto::decrypt(
        &keys.apiv3_key,
        &envelope.resource.nonce,
        &envelope.resource.associated_data,
        &envelope.resource.ciphertext,
    )
    .map_err(|_| NotifyError::Decrypt)?;
    let resource = String::from_utf8(plain).map_err(|_| NotifyError::Decrypt)?;
    Ok(Notification {
        id: envelope.id,
        event_type: envelope.event_type,
        resource,
    })
}

/// What a verified notification is about, with the protocol's own checks done (our
/// merchant and app ids). Checks against our orders are the service's.
#[derive(Debug, Clone)]
pub enum Event {
    /// A payment succeeded (`TRANSACTION.SUCCESS` with trade state SUCCESS).
    PaymentSucceeded(Transaction),
    /// A refund reached a final state (`REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`).
    Refund(RefundResource),
    /// A merchant transfer reached a final state (`MCHTRANSFER.BILL.FINISHED`).
    Transfer(TransferResource),
    /// Anything else, kept for the books only.
    Other,
}

/// The resource of a `MCHTRANSFER.BILL.FINISHED` notification.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct TransferResource {
    /// Our merchant id.
    pub mch_id: String,
    /// Our bill number.
    pub out_bill_no: String,
    /// WeChat Pay's bill number.
    #[serde(default)]
    pub transfer_bill_no: String,
    /// SUCCESS, FAIL or CANCELLED.
    pub state: String,
    /// Amount in fen.
    pub transfer_amount: i64,
    /// Why it failed.
    #[serde(default)]
    pub fail_reason: Option<String>,
}

/// Reads the event of a verified notification.
pub fn parse_event(keys: &NotificationKeys, notice: &Notification) -> Result<Event, NotifyError> {
    if notice.event_type.starts_with("TRANSACTION.") {
        let transaction: Transaction =
            serde_json::from_str(&notice.resource).map_err(|_| NotifyError::Malformed)?;
        if transaction.mchid != keys.mchid {
            return Err(NotifyError::Mismatch("merchant id does not match"));
        }
        if !keys.is_our_appid(&transaction.appid) {
            return Err(NotifyError::Mismatch("app id does not match"));
        }
        if notice.event_type == "TRANSACTION.SUCCESS" && transaction.trade_state == "SUCCESS" {
            return Ok(Event::PaymentSucceeded(transaction));
        }
        return Ok(Event::Other);
    }
    if notice.event_type.starts_with("REFUND.") {
        let resource: RefundResource =
            serde_json::from_str(&notice.resource).map_err(|_| NotifyError::Malformed)?;
        if resource.mchid != keys.mchid {
            return Err(NotifyError::Mismatch("merchant id does not match"));
        }
        return Ok(Event::Refund(resource));
    }
    if notice.event_type == "MCHTRANSFER.BILL.FINISHED" {
        let resource: TransferResource =
            serde_json::from_str(&notice.resource).map_err(|_| NotifyError::Malformed)?;
        if resource.mch_id != keys.mchid {
            return Err(NotifyError::Mismatch("merchant id does not match"));
        }
        return Ok(Event::Transfer(resource));
    }
    Ok(Event::Other)
}
