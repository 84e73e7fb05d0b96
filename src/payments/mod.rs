//! WeChat Pay API v3 behind one trait, with two providers: `wechatpay` (the real API,
//! at a configurable base URL) and `simulated` (local use: it signs and encrypts its
//! notifications exactly as WeChat Pay does, so they go through the same verification
//! and decryption as real ones; no code path exists only for tests).

pub mod crypto;
pub mod notification;
pub mod payout_answers;
pub mod simulated;
pub mod wechatpay;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rsa::RsaPublicKey;

/// Why a provider call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PaymentError {
    /// The provider could not be reached or answered garbage.
    #[error("payment provider unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the request (its code and message).
    #[error("payment provider refused: {code}: {message}")]
    Refused {
        /// WeChat Pay's error code, e.g. `ORDER_CLOSED`.
        code: String,
        /// Its message.
        message: String,
    },
    /// Misconfiguration (keys, ids).
    #[error("payment configuration: {0}")]
    Config(String),
    /// An answer whose `Wechatpay-Signature` does not verify: not from WeChat Pay, or
    /// altered on the way. Nothing is done on its word.
    #[error("payment provider answer failed verification: {0}")]
    Unverified(String),
}

/// What a prepay needs.
#[derive(Debug, Clone)]
pub struct PrepayRequest {
    /// Our order number.
    pub out_trade_no: String,
    /// What is bought, shown in the WeChat payment sheet (the provider fits it to its
    /// own rules).
    pub description: String,
    /// Amount in fen.
    pub amount_fen: i64,
    /// The app the payer pays in (the mini-program's or the official account's appid).
    pub appid: String,
    /// The payer's openid within that app.
    pub payer_openid: String,
    /// When the unpaid order closes.
    pub time_expire: DateTime<Utc>,
    /// Whether the funds are held for profit sharing (`settle_info.profit_sharing`).
    pub profit_sharing: bool,
}

/// The parameters of `wx.requestPayment` (mini-program) or of
/// `WeixinJSBridge.invoke('getBrandWCPayRequest', …)` (H5, which also takes `appId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentParams {
    /// The app the payment is made in.
    pub app_id: String,
    /// Seconds since the epoch, as a string.
    pub time_stamp: String,
    /// Random string.
    pub nonce_str: String,
    /// `prepay_id=...`.
    pub package: String,
    /// Always `RSA`.
    pub sign_type: String,
    /// SHA256withRSA over `appId\ntimeStamp\nnonceStr\npackage\n`.
    pub pay_sign: String,
}

/// A payment as the provider reports it (by notification or by query), before it is
/// checked against our order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidTrade {
    /// WeChat Pay's transaction id.
    pub transaction_id: String,
    /// Amount of the order in fen.
    pub amount_fen: i64,
    /// Currency of the order (`CNY`).
    pub currency: String,
    /// The payer's openid within our app.
    pub payer_openid: String,
}

/// An order's state at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TradeState {
    /// Paid.
    Success(PaidTrade),
    /// Not paid (yet).
    NotPay,
    /// Closed without payment.
    Closed,
    /// The provider has no such order (the prepay never reached it): as good as closed.
    NotFound,
    /// Anything else (USERPAYING, PAYERROR, REFUND...).
    Other(String),
}

/// What a refund needs.
#[derive(Debug, Clone)]
pub struct RefundRequest {
    /// The order refunded.
    pub out_trade_no: String,
    /// Our refund number (the idempotency key at WeChat Pay).
    pub out_refund_no: String,
    /// Why (shown to the buyer).
    pub reason: Option<String>,
    /// Amount refunded, in fen.
    pub refund_fen: i64,
    /// Amount of the order, in fen.
    pub total_fen: i64,
}

/// A refund's state at the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundState {
    /// Money returned.
    Success,
    /// Accepted, not settled yet (a notification follows).
    Processing,
    /// Could not be returned.
    Abnormal,
    /// Closed without effect.
    Closed,
}

impl RefundState {
    /// Reads WeChat Pay's status word.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "SUCCESS" => Some(RefundState::Success),
            "PROCESSING" => Some(RefundState::Processing),
            "ABNORMAL" => Some(RefundState::Abnormal),
            "CLOSED" => Some(RefundState::Closed),
            _ => None,
        }
    }
}

/// A refund as the provider accepted it.
#[derive(Debug, Clone)]
pub struct RefundResult {
    /// WeChat Pay's refund id.
    pub refund_id: String,
    /// Its state.
    pub state: RefundState,
}

/// What a merchant transfer to a user's WeChat balance needs
/// (`POST /v3/fund-app/mch-transfer/transfer-bills`).
#[derive(Debug, Clone)]
pub struct TransferRequest {
    /// Our bill number (the idempotency key at WeChat Pay: 5 to 32 letters and digits).
    pub out_bill_no: String,
    /// The app the payee's openid belongs to.
    pub appid: String,
    /// The payee's openid within that app.
    pub openid: String,
    /// Amount in fen.
    pub amount_fen: i64,
    /// Shown to the payee (at most 32 characters).
    pub remark: String,
}

/// The transfer scene: 1005, 佣金报酬 (commissions and earnings).
pub const TRANSFER_SCENE: &str = "1005";

/// A transfer bill as WeChat Pay reports it (answer, query or notification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferBill {
    /// Our bill number.
    pub out_bill_no: String,
    /// WeChat Pay's bill number.
    pub transfer_bill_no: String,
    /// Its state word (ACCEPTED, PROCESSING, WAIT_USER_CONFIRM, TRANSFERING, SUCCESS,
    /// FAIL, CANCELING, CANCELLED).
    pub state: String,
    /// For `wx.requestMerchantTransfer` while the payee has to confirm.
    pub package_info: Option<String>,
    /// Why it failed.
    pub fail_reason: Option<String>,
}

/// A profit-sharing order (`POST /v3/profitsharing/orders`): part of one payment's
/// frozen funds to one receiving merchant, the rest unfrozen to us.
#[derive(Debug, Clone)]
pub struct ProfitShareRequest {
    /// The payment's WeChat Pay transaction id.
    pub transaction_id: String,
    /// Our number for this sharing (the idempotency key).
    pub out_order_no: String,
    /// The receiving merchant id (added as a receiver first).
    pub mchid: String,
    /// Amount to it, in fen.
    pub amount_fen: i64,
}

/// Where a profit-sharing order stands at WeChat Pay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfitShareState {
    /// Accepted, the receiver's share not settled yet.
    Processing,
    /// The share reached the receiver.
    Finished,
    /// The share could not be made (the reason); the funds stay with us.
    Closed(String),
}

/// What verifying a notification needs: the platform keys by serial (certificate serial
/// or `PUB_KEY_ID_...`), the APIv3 key, and our merchant and app ids to check against.
#[derive(Clone)]
pub struct NotificationKeys {
    /// Platform public keys by serial.
    pub platform: HashMap<String, RsaPublicKey>,
    /// The APIv3 key.
    pub apiv3_key: [u8; 32],
    /// Our merchant id.
    pub mchid: String,
    /// Our app id (the mini-program's).
    pub appid: String,
    /// The official account's app id, when H5 pages take payments too.
    pub h5_appid: Option<String>,
}

impl NotificationKeys {
    /// The app id payments of `app` are made in (None: that app takes no payments).
    pub fn appid_for(&self, app: entity::enums::IdentityApp) -> Option<&str> {
        match app {
            entity::enums::IdentityApp::MiniProgram => Some(self.appid.as_str()),
            entity::enums::IdentityApp::OfficialAccount => self.h5_appid.as_deref(),
        }
    }

    /// Whether a payment in `appid` can be ours.
    pub fn is_our_appid(&self, appid: &str) -> bool {
        appid == self.appid || self.h5_appid.as_deref() == Some(appid)
    }
}

impl std::fmt::Debug for NotificationKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationKeys")
            .field("serials", &self.platform.keys().collect::<Vec<_>>())
            .field("mchid", &self.mchid)
            .field("appid", &self.appid)
            .field("h5_appid", &self.h5_appid)
            .finish_non_exhaustive()
    }
}

/// A payment provider.
#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync {
    /// `wechatpay` or `simulated`.
    fn name(&self) -> &'static str;
    /// Creates the payment at the provider; returns the prepay id.
    async fn prepay(&self, request: &PrepayRequest) -> Result<String, PaymentError>;
    /// Signs the payment parameters for a prepay id made in `appid`.
    fn payment_params(&self, appid: &str, prepay_id: &str) -> Result<PaymentParams, PaymentError>;
    /// Asks the provider about an order.
    async fn query(&self, out_trade_no: &str) -> Result<TradeState, PaymentError>;
    /// Closes an unpaid order at the provider.
    async fn close(&self, out_trade_no: &str) -> Result<(), PaymentError>;
    /// Requests a refund.
    async fn refund(&self, request: &RefundRequest) -> Result<RefundResult, PaymentError>;
    /// Asks the provider about a refund; `None` when it has no refund with this number
    /// (the request never reached it).
    async fn query_refund(&self, out_refund_no: &str)
    -> Result<Option<RefundResult>, PaymentError>;
    /// Transfers money to a user's WeChat balance (scene [`TRANSFER_SCENE`]); sending
    /// the same `out_bill_no` again answers the same bill.
    async fn transfer(&self, request: &TransferRequest) -> Result<TransferBill, PaymentError>;
    /// Asks the provider about a transfer; `None` when it has no bill with this number
    /// (the request never reached it).
    async fn query_transfer(&self, out_bill_no: &str)
    -> Result<Option<TransferBill>, PaymentError>;
    /// Adds a merchant as a profit-sharing receiver of ours (its registered name,
    /// encrypted with the platform key).
    async fn add_receiver(&self, mchid: &str, name: &str) -> Result<(), PaymentError>;
    /// Sends part of a payment's frozen funds to a receiver; the same `out_order_no`
    /// again answers the same sharing.
    async fn share_profit(
        &self,
        request: &ProfitShareRequest,
    ) -> Result<ProfitShareState, PaymentError>;
    /// Releases all of a payment's frozen funds to us (`/v3/profitsharing/orders/unfreeze`)
    /// when nothing is to be shared; answered like a sharing.
    async fn unfreeze(
        &self,
        transaction_id: &str,
        out_order_no: &str,
    ) -> Result<ProfitShareState, PaymentError>;
    /// Asks about a sharing; `None` when WeChat Pay has none with this number.
    async fn query_profit_share(
        &self,
        out_order_no: &str,
        transaction_id: &str,
    ) -> Result<Option<ProfitShareState>, PaymentError>;
    /// The keys its notifications are verified and decrypted with.
    fn notification_keys(&self) -> &NotificationKeys;
}

/// The configured provider, shared.
pub type Provider = Arc<dyn PaymentProvider>;

/// Builds the configured provider. The simulated one keeps its generated platform key
/// and APIv3 key in the database (so `zhiku pay simulate` signs what the server trusts).
pub async fn provider(
    db: &impl sea_orm::ConnectionTrait,
    config: &crate::config::PaymentConfig,
    fallback_appid: &str,
    h5_appid: &str,
) -> Result<Provider, PaymentError> {
    use crate::config::PaymentProviderKind;
    let h5_appid = (!h5_appid.is_empty()).then(|| h5_appid.to_owned());
    let appid = if config.wechatpay_appid.is_empty() {
        fallback_appid.to_owned()
    } else {
        config.wechatpay_appid.clone()
    };
    match config.payment_provider {
        PaymentProviderKind::Simulated => {
            let (key, apiv3) = simulated_keys(db).await?;
            let appid = if appid.is_empty() {
                "wx-simulated".to_owned()
            } else {
                appid
            };
            let mut simulated = simulated::Simulated::new(key, apiv3, &appid);
            simulated.keys.h5_appid = h5_appid;
            Ok(Arc::new(simulated))
        }
        PaymentProviderKind::Wechatpay => {
            let key_path = config.wechatpay_merchant_key.as_ref().ok_or_else(|| {
                PaymentError::Config("ZHIKU_WECHATPAY_MERCHANT_KEY is not set".into())
            })?;
            let pem = std::fs::read_to_string(key_path)
                .map_err(|e| PaymentError::Config(format!("{}: {e}", key_path.display())))?;
            let merchant_key = crypto::private_key_from_pem(&pem)
                .map_err(|e| PaymentError::Config(e.to_string()))?;
            let apiv3_key = config
                .wechatpay_apiv3_key
                .as_ref()
                .ok_or_else(|| PaymentError::Config("ZHIKU_WECHATPAY_APIV3_KEY is not set".into()))
                .and_then(|k| {
                    crypto::apiv3_key(k.expose()).map_err(|e| PaymentError::Config(e.to_string()))
                })?;
            let platform = wechatpay::load_platform_keys(&config.wechatpay_platform_keys)?;
            if platform.is_empty() || config.wechatpay_mchid.is_empty() || appid.is_empty() {
                return Err(PaymentError::Config(
                    "wechatpay needs ZHIKU_WECHATPAY_MCHID, an app id and ZHIKU_WECHATPAY_PLATFORM_KEYS".into(),
                ));
            }
            let keys = NotificationKeys {
                platform,
                apiv3_key,
                mchid: config.wechatpay_mchid.clone(),
                appid: appid.clone(),
                h5_appid,
            };
            Ok(Arc::new(wechatpay::WechatPay::new(
                wechatpay::WechatPayConfig {
                    mchid: config.wechatpay_mchid.clone(),
                    appid,
                    merchant_serial: config.wechatpay_merchant_serial.clone(),
                    merchant_key,
                    notify_url: config.wechatpay_notify_url.clone(),
                    api_base: config.wechatpay_api_base.clone(),
                    keys,
                },
            )?))
        }
    }
}

/// Server-setting names of the simulated provider's keys.
pub const SIMULATED_KEY_SETTING: &str = "simulated_platform_key";
/// Server-setting name of the simulated APIv3 key.
pub const SIMULATED_APIV3_SETTING: &str = "simulated_apiv3_key";

/// The simulated provider's keys: read from the database, generated on first use.
async fn simulated_keys(
    db: &impl sea_orm::ConnectionTrait,
) -> Result<(rsa::RsaPrivateKey, [u8; 32]), PaymentError> {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    let fail = |e: &dyn std::fmt::Display| PaymentError::Config(e.to_string());
    let key_pem = crate::server_settings::get_or_create(db, SIMULATED_KEY_SETTING, || {
        let key =
            rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).map_err(|e| e.to_string())?;
        key.to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.to_string())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| fail(&e))?;
    let apiv3 = crate::server_settings::get_or_create(db, SIMULATED_APIV3_SETTING, || {
        let mut bytes = [0u8; 24];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        Ok(URL_SAFE_NO_PAD_ENGINE.encode(bytes))
    })
    .await
    .map_err(|e| fail(&e))?;
    let key = crypto::private_key_from_pem(&key_pem).map_err(|e| fail(&e))?;
    let apiv3 = crypto::apiv3_key(&apiv3).map_err(|e| fail(&e))?;
    Ok((key, apiv3))
}

use base64::Engine as _;
const URL_SAFE_NO_PAD_ENGINE: base64::engine::GeneralPurpose =
    base64::engine::general_purpose::URL_SAFE_NO_PAD;
