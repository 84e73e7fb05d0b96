//! A local WeChat Pay API v3 on port 0 that behaves like the real one where our code
//! depends on it: it refuses requests without `Accept` or `User-Agent` and requests
//! whose `Authorization` signature does not verify, refuses descriptions WeChat Pay
//! refuses (4-byte characters, over 127 bytes), keeps each order's state (NOTPAY,
//! USERPAYING, SUCCESS, CLOSED; ORDER_NOT_EXIST before a prepay), refuses to close a
//! paid order, keeps refunds and answers refund queries, and signs every answer with
//! the platform key (`Wechatpay-Signature` over `TIMESTAMP\nNONCE\nBODY\n`), or with a
//! wrong key when told to forge. Merchant transfers (`transfer-bills`) check what scene
//! 1005 requires and answer the same bill for the same `out_bill_no`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};
use zhiku::payments::crypto;

use crate::helpers::{fixture_private_key, fixture_public_key};

/// Serial of the platform certificate the fake signs its answers with.
pub const PLATFORM_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
/// The app ids bound to the test merchant (mini-program, official account).
pub const BOUND_APPIDS: [&str; 2] = ["wx-test-app", "wx-oa-test"];
/// The prepay id every prepay answers.
pub const PREPAY_ID: &str = "wx26112221580621e9b071c00d9e093b0000";

/// What the fake holds and what tests tell it to do.
#[derive(Default)]
pub struct FakePay {
    /// (method, path and query, whether the Authorization signature verified).
    pub calls: Vec<(String, String, bool)>,
    /// The `User-Agent` of every request ("" when missing).
    pub user_agents: Vec<String>,
    /// Descriptions of accepted prepays.
    pub descriptions: Vec<String>,
    /// Prepaid orders: out_trade_no → the payer's openid.
    pub prepaid: HashMap<String, String>,
    /// Prepaid orders: out_trade_no → the app id they were prepaid in.
    pub prepaid_appids: HashMap<String, String>,
    /// Orders paid at the fake: out_trade_no → amount in fen.
    pub paid: HashMap<String, i64>,
    /// Orders the learner is paying right now (USERPAYING).
    pub paying: HashSet<String>,
    /// Orders closed at the fake.
    pub closed: HashSet<String>,
    /// The status new refunds get (PROCESSING by default).
    pub refund_status: String,
    /// Refunds accepted: out_refund_no → status (tests move them on).
    pub refunds: HashMap<String, String>,
    /// When set, refund requests are refused with this (HTTP status, code).
    pub refuse_refunds: Option<(u16, String)>,
    /// When set, refund requests fail with a 500 and are not recorded (a lost request).
    pub lose_refunds: bool,
    /// When set, answers are signed with a key that is not the platform's.
    pub forge: bool,
    /// Merchant transfers: out_bill_no → (the request, its state).
    pub transfers: HashMap<String, (Value, String)>,
    /// The state new transfers get (WAIT_USER_CONFIRM by default).
    pub transfer_state: String,
    /// When set, a transfer is recorded but answered with a 500 (its answer lost).
    pub lose_transfer_answers: bool,
    /// When set, transfer requests are refused with this code.
    pub refuse_transfers: Option<String>,
    /// Prepays: out_trade_no → `settle_info.profit_sharing`.
    pub profit_sharing: HashMap<String, bool>,
    /// Profit-sharing receivers added: merchant id → the name, decrypted.
    pub receivers: HashMap<String, String>,
    /// Profit-sharing orders: out_order_no → (the request, receiver result).
    pub sharings: HashMap<String, (Value, String)>,
    /// Unfreezes: out_order_no → the payment's transaction id.
    pub unfrozen: HashMap<String, String>,
    /// The receiver result new sharings get (SUCCESS by default).
    pub sharing_result: String,
}

/// Starts the fake; returns its base URL and its state.
pub async fn start() -> (String, Arc<Mutex<FakePay>>) {
    let state = Arc::new(Mutex::new(FakePay {
        refund_status: "PROCESSING".into(),
        transfer_state: "WAIT_USER_CONFIRM".into(),
        sharing_result: "SUCCESS".into(),
        ..Default::default()
    }));
    let merchant = fixture_public_key("merchant_pub.pem");
    let app = Router::new()
        .fallback(handle)
        .with_state((Arc::clone(&state), merchant));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, state)
}

fn error(status: StatusCode, code: &str, message: &str) -> (StatusCode, String) {
    (
        status,
        json!({ "code": code, "message": message }).to_string(),
    )
}

fn verified(
    merchant: &rsa::RsaPublicKey,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> bool {
    let header = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let fields: HashMap<String, String> = header
        .strip_prefix("WECHATPAY2-SHA256-RSA2048 ")
        .unwrap_or_default()
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
        .collect();
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let message = format!(
        "{method}\n{path}\n{}\n{}\n{}\n",
        field("timestamp"),
        field("nonce_str"),
        String::from_utf8_lossy(body)
    );
    field("mchid") == "1230000109"
        && field("serial_no") == "MERCHANT_SERIAL"
        && crypto::verify(merchant, message.as_bytes(), &field("signature")).is_ok()
}

async fn handle(
    State((state, merchant)): State<(Arc<Mutex<FakePay>>, rsa::RsaPublicKey)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or_default()
        .to_owned();
    let user_agent = headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let accept = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let ok = verified(&merchant, &method, &path, &headers, &body);
    let mut fake = state.lock().unwrap();
    fake.calls.push((method.to_string(), path.clone(), ok));
    fake.user_agents.push(user_agent.clone());
    let (status, text) = if user_agent.is_empty() || accept.is_empty() {
        error(
            StatusCode::BAD_REQUEST,
            "PARAM_ERROR",
            "Http头缺少Accept或User-Agent",
        )
    } else if !ok {
        error(StatusCode::UNAUTHORIZED, "SIGN_ERROR", "签名错误")
    } else {
        route(&mut fake, &method, &path, &body, &headers)
    };
    let forge = fake.forge;
    drop(fake);
    signed(status, text, forge)
}

fn route(
    fake: &mut FakePay,
    method: &Method,
    path: &str,
    body: &[u8],
    headers: &HeaderMap,
) -> (StatusCode, String) {
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if method == Method::POST && path == "/v3/pay/transactions/jsapi" {
        let description = request["description"].as_str().unwrap_or_default();
        if description.is_empty()
            || description.len() > 127
            || description.chars().any(|c| c.len_utf8() == 4)
        {
            return error(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "description 字段不合法",
            );
        }
        let appid = request["appid"].as_str().unwrap_or_default().to_owned();
        // The apps bound to the test merchant: its mini-program and official account.
        if !BOUND_APPIDS.contains(&appid.as_str()) {
            return error(
                StatusCode::BAD_REQUEST,
                "APPID_MCHID_NOT_MATCH",
                "appid和mch_id不匹配",
            );
        }
        let out_trade_no = request["out_trade_no"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        fake.prepaid_appids.insert(out_trade_no.clone(), appid);
        let openid = request["payer"]["openid"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        fake.descriptions.push(description.to_owned());
        fake.profit_sharing.insert(
            out_trade_no.clone(),
            request["settle_info"]["profit_sharing"] == true,
        );
        fake.prepaid.insert(out_trade_no, openid);
        return (
            StatusCode::OK,
            json!({ "prepay_id": PREPAY_ID }).to_string(),
        );
    }
    if let Some(rest) = path.strip_prefix("/v3/pay/transactions/out-trade-no/") {
        if let Some(out_trade_no) = rest.strip_suffix("/close") {
            if fake.paid.contains_key(out_trade_no) {
                return error(StatusCode::BAD_REQUEST, "ORDERPAID", "订单已支付");
            }
            if !fake.prepaid.contains_key(out_trade_no) {
                return error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在");
            }
            fake.closed.insert(out_trade_no.to_owned());
            return (StatusCode::NO_CONTENT, String::new());
        }
        let out_trade_no = rest.split('?').next().unwrap_or_default();
        let payer = fake
            .prepaid
            .get(out_trade_no)
            .cloned()
            .unwrap_or_else(|| "buyer-openid".to_owned());
        if let Some(amount) = fake.paid.get(out_trade_no) {
            return (
                StatusCode::OK,
                json!({ "appid": "wx-test-app", "mchid": "1230000109", "out_trade_no": out_trade_no,
                    "transaction_id": "4200000777", "trade_state": "SUCCESS",
                    "payer": { "openid": payer },
                    "amount": { "total": amount, "payer_total": amount, "currency": "CNY" } })
                .to_string(),
            );
        }
        if !fake.prepaid.contains_key(out_trade_no) {
            return error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在");
        }
        let state = if fake.closed.contains(out_trade_no) {
            "CLOSED"
        } else if fake.paying.contains(out_trade_no) {
            "USERPAYING"
        } else {
            "NOTPAY"
        };
        return (
            StatusCode::OK,
            json!({ "out_trade_no": out_trade_no, "trade_state": state }).to_string(),
        );
    }
    if method == Method::POST && path == "/v3/refund/domestic/refunds" {
        if let Some((status, code)) = &fake.refuse_refunds {
            return error(
                StatusCode::from_u16(*status).unwrap(),
                code,
                "基本账户余额不足，请充值后重新发起",
            );
        }
        if fake.lose_refunds {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "SYSTEM_ERROR",
                "系统错误",
            );
        }
        let out_refund_no = request["out_refund_no"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let status = fake
            .refunds
            .entry(out_refund_no.clone())
            .or_insert_with(|| fake.refund_status.clone())
            .clone();
        return (
            StatusCode::OK,
            json!({ "refund_id": "50300000001", "out_refund_no": out_refund_no, "status": status })
                .to_string(),
        );
    }
    if let Some(out_refund_no) = path.strip_prefix("/v3/refund/domestic/refunds/") {
        return match fake.refunds.get(out_refund_no) {
            Some(status) => (
                StatusCode::OK,
                json!({ "refund_id": "50300000001", "out_refund_no": out_refund_no, "status": status })
                    .to_string(),
            ),
            None => error(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "退款单不存在"),
        };
    }
    if method == Method::POST && path == "/v3/profitsharing/receivers/add" {
        return add_receiver(fake, &request, headers);
    }
    if method == Method::POST && path == "/v3/profitsharing/orders/unfreeze" {
        return unfreeze(fake, request);
    }
    if method == Method::POST && path == "/v3/profitsharing/orders" {
        return share(fake, request);
    }
    if let Some(rest) = path.strip_prefix("/v3/profitsharing/orders/") {
        let out_order_no = rest.split('?').next().unwrap_or_default();
        return match fake.sharings.get(out_order_no) {
            Some((request, result)) => (StatusCode::OK, sharing(request, result).to_string()),
            None => error(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "记录不存在"),
        };
    }
    if method == Method::POST && path == "/v3/fund-app/mch-transfer/transfer-bills" {
        return transfer(fake, request);
    }
    if let Some(out_bill_no) =
        path.strip_prefix("/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/")
    {
        return match fake.transfers.get(out_bill_no) {
            Some((request, state)) => (StatusCode::OK, bill(request, state).to_string()),
            None => error(StatusCode::NOT_FOUND, "NOT_FOUND", "记录不存在"),
        };
    }
    error(StatusCode::NOT_FOUND, "NOT_FOUND", "no such API")
}

/// `receivers/add`: the name must be encrypted with the platform key the
/// `Wechatpay-Serial` header names (RSA-OAEP, SHA-1).
fn add_receiver(fake: &mut FakePay, request: &Value, headers: &HeaderMap) -> (StatusCode, String) {
    let serial = headers
        .get("wechatpay-serial")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if serial != PLATFORM_SERIAL && !serial.starts_with("PUB_KEY_ID_") {
        return error(
            StatusCode::BAD_REQUEST,
            "PARAM_ERROR",
            "Wechatpay-Serial 缺失或不正确",
        );
    }
    use base64::Engine;
    let cipher = base64::engine::general_purpose::STANDARD
        .decode(request["name"].as_str().unwrap_or_default())
        .unwrap_or_default();
    let name = fixture_private_key("platform_key.pem")
        .decrypt(rsa::Oaep::new::<sha1::Sha1>(), &cipher)
        .ok()
        .and_then(|plain| String::from_utf8(plain).ok());
    let Some(name) = name else {
        return error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "name 解密失败");
    };
    if request["type"] != "MERCHANT_ID" || request["relation_type"].as_str().is_none() {
        return error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "参数错误");
    }
    let account = request["account"].as_str().unwrap_or_default().to_owned();
    fake.receivers.insert(account.clone(), name);
    (
        StatusCode::OK,
        json!({ "type": "MERCHANT_ID", "account": account, "relation_type": request["relation_type"] }).to_string(),
    )
}

/// A profit-sharing order as WeChat Pay answers it.
fn sharing(request: &Value, result: &str) -> Value {
    let receiver = &request["receivers"][0];
    json!({
        "transaction_id": request["transaction_id"], "out_order_no": request["out_order_no"],
        "order_id": "3008450740201411110007820472", "state": if result == "PENDING" { "PROCESSING" } else { "FINISHED" },
        "receivers": [{ "type": "MERCHANT_ID", "account": receiver["account"], "amount": receiver["amount"],
            "description": receiver["description"], "result": result,
            "fail_reason": if result == "CLOSED" { json!("RECEIVER_HIGH_RISK") } else { Value::Null } }],
    })
}

/// `POST /v3/profitsharing/orders`: only to receivers added before, a positive amount.
fn share(fake: &mut FakePay, request: Value) -> (StatusCode, String) {
    let receiver = &request["receivers"][0];
    let account = receiver["account"].as_str().unwrap_or_default();
    if !fake.receivers.contains_key(account) {
        return error(
            StatusCode::BAD_REQUEST,
            "RECEIVER_INVALID",
            "分账接收方未添加",
        );
    }
    if receiver["amount"].as_i64().unwrap_or(0) <= 0
        || request["transaction_id"]
            .as_str()
            .unwrap_or_default()
            .is_empty()
    {
        return error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "参数错误");
    }
    let out_order_no = request["out_order_no"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (recorded, result) = fake
        .sharings
        .entry(out_order_no)
        .or_insert_with(|| (request.clone(), fake.sharing_result.clone()))
        .clone();
    (StatusCode::OK, sharing(&recorded, &result).to_string())
}

/// `POST /v3/profitsharing/orders/unfreeze`: the rest of a payment's frozen funds to
/// the merchant itself, answered as a sharing whose one receiver is the merchant.
fn unfreeze(fake: &mut FakePay, request: Value) -> (StatusCode, String) {
    let (Some(transaction_id), Some(out_order_no), Some(_)) = (
        request["transaction_id"].as_str(),
        request["out_order_no"].as_str(),
        request["description"].as_str(),
    ) else {
        return error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "参数错误");
    };
    fake.unfrozen
        .insert(out_order_no.to_owned(), transaction_id.to_owned());
    let recorded = json!({
        "transaction_id": transaction_id, "out_order_no": out_order_no,
        "receivers": [{ "account": "1230000109", "amount": 0, "description": "解冻给分账方" }],
    });
    fake.sharings
        .entry(out_order_no.to_owned())
        .or_insert_with(|| (recorded.clone(), "SUCCESS".into()));
    (StatusCode::OK, sharing(&recorded, "SUCCESS").to_string())
}

/// A transfer bill as WeChat Pay answers it.
fn bill(request: &Value, state: &str) -> Value {
    let out_bill_no = request["out_bill_no"].as_str().unwrap_or_default();
    let mut answer = json!({
        "mch_id": "1230000109", "out_bill_no": out_bill_no,
        "transfer_bill_no": format!("1330000071100999991182020050700019480001{}", out_bill_no.len()),
        "appid": request["appid"], "state": state,
        "transfer_amount": request["transfer_amount"], "openid": request["openid"],
        "create_time": "2026-12-01T10:00:00+08:00",
    });
    if state == "WAIT_USER_CONFIRM" {
        answer["package_info"] = json!(format!("pkg-{out_bill_no}"));
    }
    answer
}

/// `POST /v3/fund-app/mch-transfer/transfer-bills` with the checks WeChat Pay makes.
fn transfer(fake: &mut FakePay, request: Value) -> (StatusCode, String) {
    let text = |field: &str| request[field].as_str().unwrap_or_default().to_owned();
    let out_bill_no = text("out_bill_no");
    if !(5..=32).contains(&out_bill_no.len())
        || !out_bill_no.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "out_bill_no 不合法");
    }
    if !BOUND_APPIDS.contains(&text("appid").as_str()) {
        return error(
            StatusCode::BAD_REQUEST,
            "APPID_MCHID_NOT_MATCH",
            "appid和mch_id不匹配",
        );
    }
    let reports: Vec<String> = request["transfer_scene_report_infos"]
        .as_array()
        .map(|infos| {
            infos
                .iter()
                .filter(|i| i["info_content"].as_str().is_some_and(|c| !c.is_empty()))
                .filter_map(|i| i["info_type"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if text("transfer_scene_id") != "1005"
        || !reports.iter().any(|r| r == "岗位类型")
        || !reports.iter().any(|r| r == "报酬说明")
    {
        return error(
            StatusCode::BAD_REQUEST,
            "PARAM_ERROR",
            "转账场景报备信息不完整",
        );
    }
    let amount = request["transfer_amount"].as_i64().unwrap_or(0);
    if text("openid").is_empty() || amount < 10 || text("transfer_remark").is_empty() {
        return error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "参数错误");
    }
    if let Some(code) = &fake.refuse_transfers {
        return error(StatusCode::FORBIDDEN, code, "商户运营账户资金不足");
    }
    let (recorded, state) = fake
        .transfers
        .entry(out_bill_no)
        .or_insert_with(|| (request.clone(), fake.transfer_state.clone()))
        .clone();
    if recorded["transfer_amount"] != request["transfer_amount"] {
        return error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "同一单号参数不一致");
    }
    if fake.lose_transfer_answers {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "SYSTEM_ERROR",
            "系统错误",
        );
    }
    (StatusCode::OK, bill(&recorded, &state).to_string())
}

/// An answer with WeChat Pay's signature headers.
fn signed(status: StatusCode, body: String, forge: bool) -> Response {
    let key = if forge {
        fixture_private_key("merchant_key.pem")
    } else {
        fixture_private_key("platform_key.pem")
    };
    let timestamp = Utc::now().timestamp().to_string();
    let nonce = zhiku::payments::wechatpay::nonce();
    let signature = crypto::sign(&key, format!("{timestamp}\n{nonce}\n{body}\n").as_bytes());
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert("content-type", "application/json".parse().unwrap());
    headers.insert("wechatpay-timestamp", timestamp.parse().unwrap());
    headers.insert("wechatpay-nonce", nonce.parse().unwrap());
    headers.insert("wechatpay-signature", signature.parse().unwrap());
    headers.insert("wechatpay-serial", PLATFORM_SERIAL.parse().unwrap());
    response
}
