//! The simulated provider for local use: prepay ids made here, and notifications
//! signed with a locally generated platform key and encrypted with a local APIv3 key,
//! exactly as WeChat Pay would send them, so they take the real verification path.
//!
//! Its keys are generated once and kept in the database (`server_settings`), so the
//! `zhiku pay simulate` command signs what the server trusts.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use rsa::RsaPrivateKey;
use serde_json::json;

use crate::payments::notification::SignatureHeaders;
use crate::payments::{
    NotificationKeys, PaymentError, PaymentParams, PaymentProvider, PrepayRequest,
    ProfitShareRequest, ProfitShareState, RefundRequest, RefundResult, RefundState, TradeState,
    TransferBill, TransferRequest, crypto, wechatpay,
};

/// Serial of the simulated platform key.
pub const SIMULATED_SERIAL: &str = "PUB_KEY_ID_SIMULATED";
/// Merchant id of the simulated merchant.
pub const SIMULATED_MCHID: &str = "1900000109";

/// The simulated provider.
pub struct Simulated {
    platform_key: RsaPrivateKey,
    /// Its keys and ids (public so the H5 app id can be set).
    pub keys: NotificationKeys,
}

impl Simulated {
    /// A simulated provider with this platform key pair and APIv3 key.
    pub fn new(platform_key: RsaPrivateKey, apiv3_key: [u8; 32], appid: &str) -> Self {
        let mut platform = HashMap::new();
        platform.insert(SIMULATED_SERIAL.to_owned(), platform_key.to_public_key());
        Simulated {
            keys: NotificationKeys {
                platform,
                apiv3_key,
                mchid: SIMULATED_MCHID.to_owned(),
                appid: appid.to_owned(),
                h5_appid: None,
            },
            platform_key,
        }
    }

    /// A notification as WeChat Pay would send it: headers and raw body.
    pub fn notification(
        &self,
        event_type: &str,
        original_type: &str,
        resource: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> (SignatureHeaders, String) {
        build_notification(
            &self.platform_key,
            SIMULATED_SERIAL,
            &self.keys.apiv3_key,
            event_type,
            original_type,
            resource,
            now,
        )
    }

    /// A successful payment notification for an order paid in the mini-program.
    pub fn payment_success(
        &self,
        out_trade_no: &str,
        amount_fen: i64,
        payer_openid: &str,
        now: DateTime<Utc>,
    ) -> (SignatureHeaders, String) {
        let appid = self.keys.appid.clone();
        self.payment_success_in(&appid, out_trade_no, amount_fen, payer_openid, now)
    }

    /// A successful payment notification for an order paid in the app `appid`.
    pub fn payment_success_in(
        &self,
        appid: &str,
        out_trade_no: &str,
        amount_fen: i64,
        payer_openid: &str,
        now: DateTime<Utc>,
    ) -> (SignatureHeaders, String) {
        let resource = json!({
            "appid": appid,
            "mchid": self.keys.mchid,
            "out_trade_no": out_trade_no,
            "transaction_id": format!("4200{}", &random_token(12).to_ascii_uppercase()),
            "trade_type": "JSAPI",
            "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功",
            "bank_type": "OTHERS",
            "success_time": now.to_rfc3339(),
            "payer": { "openid": payer_openid },
            "amount": { "total": amount_fen, "payer_total": amount_fen, "currency": "CNY", "payer_currency": "CNY" },
        });
        self.notification("TRANSACTION.SUCCESS", "transaction", &resource, now)
    }
}

fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer).replace(['-', '_'], "0")
}

/// Builds a signed, encrypted notification (any platform key).
pub fn build_notification(
    platform_key: &RsaPrivateKey,
    serial: &str,
    apiv3_key: &[u8; 32],
    event_type: &str,
    original_type: &str,
    resource: &serde_json::Value,
    now: DateTime<Utc>,
) -> (SignatureHeaders, String) {
    let mut nonce = [0u8; 12];
    let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut random = [0u8; 12];
    rand::rng().fill_bytes(&mut random);
    for (slot, byte) in nonce.iter_mut().zip(random) {
        *slot = alphabet[byte as usize % alphabet.len()];
    }
    let nonce_text = String::from_utf8_lossy(&nonce).into_owned();
    let ciphertext = crypto::encrypt(
        apiv3_key,
        &nonce,
        original_type,
        resource.to_string().as_bytes(),
    );
    let body = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "create_time": now.to_rfc3339(),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": "simulated",
        "resource": {
            "original_type": original_type,
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": ciphertext,
            "associated_data": original_type,
            "nonce": nonce_text,
        },
    })
    .to_string();
    let timestamp = now.timestamp().to_string();
    let header_nonce = wechatpay::nonce();
    let message = format!("{timestamp}\n{header_nonce}\n{body}\n");
    let headers = SignatureHeaders {
        signature: crypto::sign(platform_key, message.as_bytes()),
        timestamp,
        nonce: header_nonce,
        serial: serial.to_owned(),
    };
    (headers, body)
}

#[async_trait::async_trait]
impl PaymentProvider for Simulated {
    fn name(&self) -> &'static str {
        "simulated"
    }

    async fn prepay(&self, _request: &PrepayRequest) -> Result<String, PaymentError> {
        Ok(format!("wx_sim_{}", random_token(18)))
    }

    fn payment_params(&self, appid: &str, prepay_id: &str) -> Result<PaymentParams, PaymentError> {
        Ok(wechatpay::sign_payment_params(
            appid,
            &self.platform_key,
            prepay_id,
        ))
    }

    async fn query(&self, _out_trade_no: &str) -> Result<TradeState, PaymentError> {
        // Nothing is paid at the simulated provider unless a notification says so.
        Ok(TradeState::NotPay)
    }

    async fn close(&self, _out_trade_no: &str) -> Result<(), PaymentError> {
        Ok(())
    }

    async fn refund(&self, _request: &RefundRequest) -> Result<RefundResult, PaymentError> {
        Ok(RefundResult {
            refund_id: format!("50300{}", random_token(12)),
            state: RefundState::Success,
        })
    }

    async fn query_refund(
        &self,
        _out_refund_no: &str,
    ) -> Result<Option<RefundResult>, PaymentError> {
        // Simulated refunds succeed at once, so none is ever left to ask about.
        Ok(None)
    }

    async fn transfer(&self, request: &TransferRequest) -> Result<TransferBill, PaymentError> {
        // Simulated transfers succeed at once (no payee confirms anything locally).
        Ok(TransferBill {
            out_bill_no: request.out_bill_no.clone(),
            transfer_bill_no: format!("SIM{}", request.out_bill_no),
            state: "SUCCESS".to_owned(),
            package_info: None,
            fail_reason: None,
        })
    }

    async fn query_transfer(
        &self,
        _out_bill_no: &str,
    ) -> Result<Option<TransferBill>, PaymentError> {
        // Nothing is kept here: a bill asked about again is transferred again, under
        // the same number, which moves no money twice.
        Ok(None)
    }

    async fn add_receiver(&self, _mchid: &str, _name: &str) -> Result<(), PaymentError> {
        Ok(())
    }

    async fn share_profit(
        &self,
        _request: &ProfitShareRequest,
    ) -> Result<ProfitShareState, PaymentError> {
        // Simulated sharings finish at once.
        Ok(ProfitShareState::Finished)
    }

    async fn unfreeze(
        &self,
        _transaction_id: &str,
        _out_order_no: &str,
    ) -> Result<ProfitShareState, PaymentError> {
        Ok(ProfitShareState::Finished)
    }

    async fn query_profit_share(
        &self,
        _out_order_no: &str,
        _transaction_id: &str,
    ) -> Result<Option<ProfitShareState>, PaymentError> {
        Ok(None)
    }

    fn notification_keys(&self) -> &NotificationKeys {
        &self.keys
    }
}

/// `zhiku pay simulate`: builds a TRANSACTION.SUCCESS notification for a pending order
/// with the simulated provider's stored keys and posts it to `{base_url}/payments/wechat/notify`.
/// Returns the HTTP status the server answered.
pub async fn deliver_payment(
    db: &sea_orm::DatabaseConnection,
    out_trade_no: &str,
    base_url: &str,
) -> Result<u16, Box<dyn std::error::Error>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let order = entity::order::Entity::find()
        .filter(entity::order::Column::OutTradeNo.eq(out_trade_no))
        .one(db)
        .await?
        .ok_or("no order with this out_trade_no")?;
    if order.pay_app != entity::enums::IdentityApp::MiniProgram {
        return Err(
            "pay simulate pays mini-program orders; this one was made on an H5 page".into(),
        );
    }
    let payer_openid = entity::user_identity::Entity::find()
        .filter(entity::user_identity::Column::UserId.eq(order.buyer_id))
        .filter(entity::user_identity::Column::App.eq(order.pay_app))
        .one(db)
        .await?
        .ok_or("the order's buyer has no mini-program identity")?
        .openid;
    let provider =
        crate::payments::provider(db, &crate::config::PaymentConfig::default(), "", "").await?;
    let simulated = Simulated::new(
        simulated_private_key(db).await?,
        provider.notification_keys().apiv3_key,
        &provider.notification_keys().appid,
    );
    let (headers, body) = simulated.payment_success(
        &order.out_trade_no,
        order.amount_fen,
        &payer_openid,
        Utc::now(),
    );
    post_notification(
        &format!("{}/payments/wechat/notify", base_url.trim_end_matches('/')),
        &headers,
        body,
    )
    .await
}

/// The simulated platform private key as stored.
async fn simulated_private_key(
    db: &sea_orm::DatabaseConnection,
) -> Result<RsaPrivateKey, Box<dyn std::error::Error>> {
    use sea_orm::EntityTrait;
    let stored = entity::server_setting::Entity::find_by_id(
        crate::payments::SIMULATED_KEY_SETTING.to_owned(),
    )
    .one(db)
    .await?
    .ok_or("the simulated provider has no key yet; start the server once")?;
    Ok(crypto::private_key_from_pem(&stored.value)?)
}

/// Posts a notification the way WeChat Pay does; returns the HTTP status.
pub async fn post_notification(
    url: &str,
    headers: &SignatureHeaders,
    body: String,
) -> Result<u16, Box<dyn std::error::Error>> {
    let response = reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .header("Wechatpay-Timestamp", &headers.timestamp)
        .header("Wechatpay-Nonce", &headers.nonce)
        .header("Wechatpay-Signature", &headers.signature)
        .header("Wechatpay-Serial", &headers.serial)
        .body(body)
        .send()
        .await?;
    Ok(response.status().as_u16())
}
