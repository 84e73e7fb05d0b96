//! The WeChat Pay API v3 client: JSAPI prepay, order query and close, refunds, and the
//! `WECHATPAY2-SHA256-RSA2048` Authorization header every request carries.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use rand::RngCore;
use rsa::RsaPrivateKey;
use serde::Deserialize;
use serde_json::json;

use crate::payments::notification::{SignatureHeaders, verify_signature};
use crate::payments::payout_answers::{BillAnswer, SharingAnswer};
use crate::payments::{
    NotificationKeys, PaidTrade, PaymentError, PaymentParams, PaymentProvider, PrepayRequest,
    ProfitShareRequest, ProfitShareState, RefundRequest, RefundResult, RefundState, TRANSFER_SCENE,
    TradeState, TransferBill, TransferRequest, crypto,
};

/// Merchant identity and keys of the real provider.
pub struct WechatPayConfig {
    /// Merchant id.
    pub mchid: String,
    /// Mini-program app id.
    pub appid: String,
    /// Serial of the merchant API certificate.
    pub merchant_serial: String,
    /// The merchant API private key.
    pub merchant_key: RsaPrivateKey,
    /// Where WeChat Pay sends notifications.
    pub notify_url: String,
    /// API base URL.
    pub api_base: String,
    /// Verification keys.
    pub keys: NotificationKeys,
}

/// The `User-Agent` of every merchant API request.
pub const USER_AGENT: &str = concat!("zhiku/", env!("CARGO_PKG_VERSION"), " (WeChatPay-APIv3)");

/// The longest `description` WeChat Pay takes, in bytes of UTF-8.
pub const MAX_DESCRIPTION_BYTES: usize = 127;

/// A product title fitted to WeChat Pay's `description`: no 4-byte UTF-8 characters
/// (emoji and other astral characters are refused), at most [`MAX_DESCRIPTION_BYTES`]
/// bytes, cut on a character boundary.
pub fn fit_description(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_DESCRIPTION_BYTES));
    for c in text.chars().filter(|c| c.len_utf8() < 4) {
        if out.len() + c.len_utf8() > MAX_DESCRIPTION_BYTES {
            break;
        }
        out.push(c);
    }
    out
}

/// The real WeChat Pay provider.
pub struct WechatPay {
    config: WechatPayConfig,
    http: reqwest::Client,
}

/// A random 32-character nonce.
pub fn nonce() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Who signs merchant requests: merchant id, certificate serial and private key.
pub struct MerchantSigner<'a> {
    /// Merchant id.
    pub mchid: &'a str,
    /// Serial of the merchant API certificate.
    pub serial: &'a str,
    /// The merchant API private key.
    pub key: &'a RsaPrivateKey,
}

impl MerchantSigner<'_> {
    /// The Authorization header value for a request: SHA256withRSA over
    /// `METHOD\nPATH\nTIMESTAMP\nNONCE\nBODY\n` (PATH with its query string).
    pub fn authorization(
        &self,
        method: &str,
        path_and_query: &str,
        timestamp: i64,
        nonce: &str,
        body: &str,
    ) -> String {
        let message = format!("{method}\n{path_and_query}\n{timestamp}\n{nonce}\n{body}\n");
        let signature = crypto::sign(self.key, message.as_bytes());
        format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"{}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{}\"",
            self.mchid, self.serial
        )
    }
}

/// Signs the parameters of `wx.requestPayment` with a merchant key.
pub fn sign_payment_params(appid: &str, key: &RsaPrivateKey, prepay_id: &str) -> PaymentParams {
    let app_id = appid.to_owned();
    let time_stamp = Utc::now().timestamp().to_string();
    let nonce_str = nonce();
    let package = format!("prepay_id={prepay_id}");
    let message = format!("{appid}\n{time_stamp}\n{nonce_str}\n{package}\n");
    PaymentParams {
        app_id,
        pay_sign: crypto::sign(key, message.as_bytes()),
        time_stamp,
        nonce_str,
        package,
        sign_type: "RSA".to_owned(),
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

impl WechatPay {
    /// A client for the configured merchant.
    pub fn new(config: WechatPayConfig) -> Result<Self, PaymentError> {
        // WeChat Pay refuses requests without Accept and User-Agent ("Http头缺少Accept或
        // User-Agent"); reqwest sends no User-Agent of its own.
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(USER_AGENT)
            .build()
            .map_err(|e| PaymentError::Config(e.to_string()))?;
        Ok(WechatPay { config, http })
    }

    /// Sends a signed request; returns the status and body of a 2xx answer.
    async fn call(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(u16, String), PaymentError> {
        self.call_naming(method, path_and_query, body, None).await
    }

    /// [`WechatPay::call`], naming in `Wechatpay-Serial` the platform key that
    /// encrypted a field of the body.
    async fn call_naming(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<serde_json::Value>,
        encrypted_with: Option<&str>,
    ) -> Result<(u16, String), PaymentError> {
        let body_text = body.map(|b| b.to_string()).unwrap_or_default();
        let signer = MerchantSigner {
            mchid: &self.config.mchid,
            serial: &self.config.merchant_serial,
            key: &self.config.merchant_key,
        };
        let header = signer.authorization(
            method.as_str(),
            path_and_query,
            Utc::now().timestamp(),
            &nonce(),
            &body_text,
        );
        let url = format!(
            "{}{}",
            self.config.api_base.trim_end_matches('/'),
            path_and_query
        );
        let mut request = self
            .http
            .request(method, url)
            .header("Authorization", header)
            .header("Accept", "application/json");
        if let Some(serial) = encrypted_with {
            request = request.header("Wechatpay-Serial", serial);
        }
        if !body_text.is_empty() {
            request = request
                .header("Content-Type", "application/json")
                .body(body_text);
        }
        let response = request
            .send()
            .await
            .map_err(|e| PaymentError::Unavailable(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let signature = SignatureHeaders::from_headers(response.headers());
        let text = response
            .text()
            .await
            .map_err(|e| PaymentError::Unavailable(e.without_url().to_string()))?;
        if (200..300).contains(&status) {
            // Only a verified answer is acted on: a forged "SUCCESS" must not complete
            // an order, nor a forged refund state change one.
            verify_signature(&self.config.keys, &signature, text.as_bytes(), Utc::now())
                .map_err(|e| PaymentError::Unverified(e.to_string()))?;
            return Ok((status, text));
        }
        let error: ErrorBody = serde_json::from_str(&text).unwrap_or(ErrorBody {
            code: format!("HTTP_{status}"),
            message: String::new(),
        });
        if status >= 500 {
            return Err(PaymentError::Unavailable(format!(
                "{}: {}",
                error.code, error.message
            )));
        }
        Err(PaymentError::Refused {
            code: error.code,
            message: error.message,
        })
    }
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, PaymentError> {
    serde_json::from_str(text).map_err(|_| PaymentError::Unavailable("unexpected answer".into()))
}

#[async_trait::async_trait]
impl PaymentProvider for WechatPay {
    fn name(&self) -> &'static str {
        "wechatpay"
    }

    async fn prepay(&self, request: &PrepayRequest) -> Result<String, PaymentError> {
        #[derive(Deserialize)]
        struct Prepay {
            prepay_id: String,
        }
        let body = json!({
            "appid": request.appid,
            "mchid": self.config.mchid,
            "description": fit_description(&request.description),
            "out_trade_no": request.out_trade_no,
            "time_expire": request.time_expire.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            "notify_url": self.config.notify_url,
            "amount": { "total": request.amount_fen, "currency": "CNY" },
            "payer": { "openid": request.payer_openid },
            "settle_info": { "profit_sharing": request.profit_sharing },
        });
        let (_, text) = self
            .call(
                reqwest::Method::POST,
                "/v3/pay/transactions/jsapi",
                Some(body),
            )
            .await?;
        Ok(parse::<Prepay>(&text)?.prepay_id)
    }

    fn payment_params(&self, appid: &str, prepay_id: &str) -> Result<PaymentParams, PaymentError> {
        Ok(sign_payment_params(
            appid,
            &self.config.merchant_key,
            prepay_id,
        ))
    }

    async fn query(&self, out_trade_no: &str) -> Result<TradeState, PaymentError> {
        #[derive(Deserialize)]
        struct Amount {
            #[serde(default)]
            total: i64,
            #[serde(default)]
            currency: String,
        }
        #[derive(Deserialize)]
        struct Payer {
            #[serde(default)]
            openid: String,
        }
        #[derive(Deserialize)]
        struct Query {
            trade_state: String,
            #[serde(default)]
            transaction_id: Option<String>,
            #[serde(default)]
            amount: Option<Amount>,
            #[serde(default)]
            payer: Option<Payer>,
        }
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={}",
            self.config.mchid
        );
        let text = match self.call(reqwest::Method::GET, &path, None).await {
            Ok((_, text)) => text,
            Err(PaymentError::Refused { code, .. }) if code == "ORDER_NOT_EXIST" => {
                return Ok(TradeState::NotFound);
            }
            Err(error) => return Err(error),
        };
        let answer: Query = parse(&text)?;
        Ok(match answer.trade_state.as_str() {
            "SUCCESS" => {
                let amount = answer.amount.unwrap_or(Amount {
                    total: 0,
                    currency: String::new(),
                });
                TradeState::Success(PaidTrade {
                    transaction_id: answer.transaction_id.unwrap_or_default(),
                    amount_fen: amount.total,
                    currency: amount.currency,
                    payer_openid: answer.payer.map(|p| p.openid).unwrap_or_default(),
                })
            }
            "NOTPAY" => TradeState::NotPay,
            "CLOSED" => TradeState::Closed,
            other => TradeState::Other(other.to_owned()),
        })
    }

    async fn close(&self, out_trade_no: &str) -> Result<(), PaymentError> {
        let path = format!("/v3/pay/transactions/out-trade-no/{out_trade_no}/close");
        self.call(
            reqwest::Method::POST,
            &path,
            Some(json!({ "mchid": self.config.mchid })),
        )
        .await?;
        Ok(())
    }

    async fn refund(&self, request: &RefundRequest) -> Result<RefundResult, PaymentError> {
        #[derive(Deserialize)]
        struct Refund {
            refund_id: String,
            status: String,
        }
        let mut body = json!({
            "out_trade_no": request.out_trade_no,
            "out_refund_no": request.out_refund_no,
            "notify_url": self.config.notify_url,
            "amount": { "refund": request.refund_fen, "total": request.total_fen, "currency": "CNY" },
        });
        if let Some(reason) = &request.reason {
            body["reason"] = json!(reason);
        }
        let (_, text) = self
            .call(
                reqwest::Method::POST,
                "/v3/refund/domestic/refunds",
                Some(body),
            )
            .await?;
        let answer: Refund = parse(&text)?;
        Ok(RefundResult {
            refund_id: answer.refund_id,
            state: RefundState::parse(&answer.status).unwrap_or(RefundState::Processing),
        })
    }

    async fn query_refund(
        &self,
        out_refund_no: &str,
    ) -> Result<Option<RefundResult>, PaymentError> {
        #[derive(Deserialize)]
        struct Refund {
            refund_id: String,
            status: String,
        }
        let path = format!("/v3/refund/domestic/refunds/{out_refund_no}");
        let text = match self.call(reqwest::Method::GET, &path, None).await {
            Ok((_, text)) => text,
            Err(PaymentError::Refused { code, .. }) if code == "RESOURCE_NOT_EXISTS" => {
                return Ok(None);
            }
            Err(error) => return Err(error),
        };
        let answer: Refund = parse(&text)?;
        Ok(Some(RefundResult {
            refund_id: answer.refund_id,
            state: RefundState::parse(&answer.status).unwrap_or(RefundState::Processing),
        }))
    }

    async fn transfer(&self, request: &TransferRequest) -> Result<TransferBill, PaymentError> {
        // Scene 1005 (佣金报酬) asks for the payee's role and what the money is for.
        let body = json!({
            "appid": request.appid,
            "out_bill_no": request.out_bill_no,
            "transfer_scene_id": TRANSFER_SCENE,
            "openid": request.openid,
            "transfer_amount": request.amount_fen,
            "transfer_remark": request.remark,
            "notify_url": self.config.notify_url,
            "user_recv_perception": "劳务报酬",
            "transfer_scene_report_infos": [
                { "info_type": "岗位类型", "info_content": "知识创作者" },
                { "info_type": "报酬说明", "info_content": "课程销售收入" },
            ],
        });
        let (_, text) = self
            .call(
                reqwest::Method::POST,
                "/v3/fund-app/mch-transfer/transfer-bills",
                Some(body),
            )
            .await?;
        Ok(parse::<BillAnswer>(&text)?.into())
    }

    async fn query_transfer(
        &self,
        out_bill_no: &str,
    ) -> Result<Option<TransferBill>, PaymentError> {
        let path = format!("/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}");
        let text = match self.call(reqwest::Method::GET, &path, None).await {
            Ok((_, text)) => text,
            Err(PaymentError::Refused { code, .. }) if code == "NOT_FOUND" => return Ok(None),
            Err(error) => return Err(error),
        };
        Ok(Some(parse::<BillAnswer>(&text)?.into()))
    }

    async fn add_receiver(&self, mchid: &str, name: &str) -> Result<(), PaymentError> {
        // The lowest serial, so the same key is chosen every time.
        let (serial, key) = self
            .config
            .keys
            .platform
            .iter()
            .min_by(|a, b| a.0.cmp(b.0))
            .ok_or_else(|| PaymentError::Config("no platform key to encrypt with".into()))?;
        let name = crypto::encrypt_sensitive(key, name)
            .map_err(|e| PaymentError::Config(e.to_string()))?;
        let body = json!({
            "appid": self.config.appid,
            "type": "MERCHANT_ID",
            "account": mchid,
            "name": name,
            "relation_type": "PARTNER",
        });
        self.call_naming(
            reqwest::Method::POST,
            "/v3/profitsharing/receivers/add",
            Some(body),
            Some(serial),
        )
        .await?;
        Ok(())
    }

    async fn share_profit(
        &self,
        request: &ProfitShareRequest,
    ) -> Result<ProfitShareState, PaymentError> {
        let body = json!({
            "appid": self.config.appid,
            "transaction_id": request.transaction_id,
            "out_order_no": request.out_order_no,
            "receivers": [{
                "type": "MERCHANT_ID",
                "account": request.mchid,
                "amount": request.amount_fen,
                "description": "知库创作者分成",
            }],
            "unfreeze_unsplit": true,
        });
        let (_, text) = self
            .call(
                reqwest::Method::POST,
                "/v3/profitsharing/orders",
                Some(body),
            )
            .await?;
        Ok(parse::<SharingAnswer>(&text)?.state())
    }

    async fn unfreeze(
        &self,
        transaction_id: &str,
        out_order_no: &str,
    ) -> Result<ProfitShareState, PaymentError> {
        let body = json!({
            "transaction_id": transaction_id,
            "out_order_no": out_order_no,
            "description": "解冻全部剩余资金",
        });
        let (_, text) = self
            .call(
                reqwest::Method::POST,
                "/v3/profitsharing/orders/unfreeze",
                Some(body),
            )
            .await?;
        Ok(parse::<SharingAnswer>(&text)?.state())
    }

    async fn query_profit_share(
        &self,
        out_order_no: &str,
        transaction_id: &str,
    ) -> Result<Option<ProfitShareState>, PaymentError> {
        let path =
            format!("/v3/profitsharing/orders/{out_order_no}?transaction_id={transaction_id}");
        let text = match self.call(reqwest::Method::GET, &path, None).await {
            Ok((_, text)) => text,
            Err(PaymentError::Refused { code, .. }) if code == "RESOURCE_NOT_EXISTS" => {
                return Ok(None);
            }
            Err(error) => return Err(error),
        };
        Ok(Some(parse::<SharingAnswer>(&text)?.state()))
    }

    fn notification_keys(&self) -> &NotificationKeys {
        &self.config.keys
    }
}

/// Reads `SERIAL=PATH,SERIAL=PATH` into platform keys (PEM public keys or certificates).
pub fn load_platform_keys(spec: &str) -> Result<HashMap<String, rsa::RsaPublicKey>, PaymentError> {
    let mut keys = HashMap::new();
    for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (serial, path) = entry
            .split_once('=')
            .ok_or_else(|| PaymentError::Config(format!("expected SERIAL=PATH, got {entry:?}")))?;
        let pem = std::fs::read_to_string(path.trim())
            .map_err(|e| PaymentError::Config(format!("{path}: {e}")))?;
        let key = crypto::public_key_from_pem(&pem)
            .map_err(|e| PaymentError::Config(format!("{path}: {e}")))?;
        keys.insert(serial.trim().to_owned(), key);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_drop_astral_characters_and_fit_127_bytes_on_a_boundary() {
        assert_eq!(fit_description("知库 - Rust 入门 🚀"), "知库 - Rust 入门 ");
        let long = "课".repeat(60); // 180 bytes
        let fitted = fit_description(&long);
        assert_eq!(fitted.len(), 126, "42 three-byte characters");
        assert!(fitted.chars().all(|c| c == '课'));
        assert_eq!(fit_description(&"a".repeat(200)).len(), 127);
    }

    #[test]
    fn authorization_header_has_the_wechat_pay_format() {
        let pem = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/wechatpay/merchant_key.pem"
        ))
        .unwrap();
        let key = crypto::private_key_from_pem(&pem).unwrap();
        let signer = MerchantSigner {
            mchid: "1230000109",
            serial: "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
            key: &key,
        };
        let body = r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109"}"#;
        let header = signer.authorization(
            "POST",
            "/v3/pay/transactions/jsapi",
            1_700_000_000,
            "593BEC0C930BF1AFEB40B4A08C8FB242",
            body,
        );
        // The signature is the one OpenSSL computed over the same message.
        let expected = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/wechatpay/prepay_message.sig"
        ))
        .unwrap();
        assert_eq!(
            header,
            format!(
                "WECHATPAY2-SHA256-RSA2048 mchid=\"1230000109\",nonce_str=\"593BEC0C930BF1AFEB40B4A08C8FB242\",signature=\"{}\",timestamp=\"1700000000\",serial_no=\"5157F09EFDC096DE15EBE81A47057A7232F1B8E1\"",
                expected.trim()
            )
        );
    }
}
