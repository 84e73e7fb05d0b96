//! What the /graphql endpoint refuses, and how: each limit fires with its exact answer.

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use zhiku::config::Environment;

use crate::helpers::{TestApp, error_code};

#[tokio::test]
async fn non_json_posts_are_refused_with_415() {
    let app = TestApp::spawn().await;
    let query = r#"{"query":"{ courses { totalCount } }"}"#;
    let cases = [
        ("text/plain", "text/plain"),
        ("form", "application/x-www-form-urlencoded"),
        ("multipart", "multipart/form-data; boundary=x"),
        ("none", ""),
    ];
    for (name, content_type) in cases {
        let mut request = app.client.post(app.url("/graphql")).body(query);
        if !content_type.is_empty() {
            request = request.header(CONTENT_TYPE, content_type);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "case {name}"
        );
    }
    let ok = app
        .client
        .post(app.url("/graphql"))
        .header(CONTENT_TYPE, "application/json; charset=utf-8")
        .body(query)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn batches_are_refused_with_400() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!([{ "query": "{ courses { totalCount } }" }, { "query": "{ courses { totalCount } }" }]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "BATCH_NOT_SUPPORTED");
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413_even_when_streamed() {
    let app = TestApp::spawn().await;
    let big = format!(
        r#"{{"query":"{{ courses {{ totalCount }} }}","pad":"{}"}}"#,
        "x".repeat(300 * 1024)
    );
    let response = app
        .client
        .post(app.url("/graphql"))
        .header(CONTENT_TYPE, "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "with Content-Length"
    );

    // Chunked, without Content-Length: the limit holds on the stream itself.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big
        .into_bytes()
        .chunks(16 * 1024)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let response = app
        .client
        .post(app.url("/graphql"))
        .header(CONTENT_TYPE, "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "streamed");
}

#[tokio::test]
async fn an_alias_flood_is_stopped_by_the_body_limit() {
    let app = TestApp::spawn().await;
    let mut query = String::from("{");
    for n in 0..200_000 {
        query.push_str(&format!(" a{n}: __typename"));
    }
    query.push('}');
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn get_runs_queries_and_refuses_mutations_with_405() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ courses { totalCount } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["courses"]["totalCount"], 0);

    for query in [
        "mutation { x }",
        "query A { courses { totalCount } } mutation B { x }",
    ] {
        let response = app
            .client
            .get(app.url("/graphql"))
            .query(&[("query", query)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{query}");
    }

    let page = app.client.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("graphiql"));
}

#[tokio::test]
async fn depth_and_complexity_limits_fire() {
    let app = TestApp::spawn().await;
    // 13 levels of selection (the limit is 12).
    let mut deep = String::from("title");
    for level in 0..3 {
        let inner = if level == 0 {
            deep.clone()
        } else {
            format!("creator {{ {deep} }}")
        };
        deep = format!("courses(first: 1) {{ edges {{ node {{ {inner} }} }} }}");
    }
    let deep = format!("{{ {deep} }}");
    assert_eq!(deep.matches('{').count(), 12, "{deep}");
    let deep = deep.replacen("title", "creator { displayName }", 1);
    let body = app.gql(&deep, json!({})).await;
    assert_eq!(
        body["errors"][0]["message"], "Query is nested too deep.",
        "{body}"
    );

    // A page of 100 inside a page of 100.
    let wide = "{ courses(first: 100) { edges { node { ratings(first: 100) { edges { node { stars } } } } } } }";
    let body = app.gql(wide, json!({})).await;
    assert_eq!(
        body["errors"][0]["message"], "Query is too complex.",
        "{body}"
    );

    // The N+1 test's query fits.
    let fits = "{ courses(first: 100) { edges { node { title salesCount creator { displayName } lessons { title } ratingSummary { average count distribution } } } } }";
    let body = app.gql(fits, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
}

#[tokio::test]
async fn introspection_and_suggestions_follow_the_environment() {
    let introspect = "{ __schema { queryType { name } } }";
    let typo = "{ coursez { totalCount } }";

    let dev = TestApp::spawn().await;
    let body = dev.gql(introspect, json!({})).await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    let body = dev.gql(typo, json!({})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Did you mean"),
        "{body}"
    );

    let prod = TestApp::spawn_configured(|settings| {
        settings.environment = Environment::Production;
        settings.payments = production_payments();
    })
    .await;
    let body = prod.gql(introspect, json!({})).await;
    assert!(
        body["data"]["__schema"].is_null(),
        "introspection must be off: {body}"
    );
    let body = prod.gql(typo, json!({})).await;
    assert!(
        !body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Did you mean"),
        "{body}"
    );

    let prod_with_introspection = TestApp::spawn_configured(|settings| {
        settings.environment = Environment::Production;
        settings.payments = production_payments();
        settings.server.introspection = Some(true);
    })
    .await;
    let body = prod_with_introspection.gql(introspect, json!({})).await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn internal_errors_hide_sql_and_carry_the_request_id() {
    let app = TestApp::spawn().await;
    // Break the database under the app: the next query fails inside the driver.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("DROP TABLE ratings")
        .await
        .unwrap();
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("x-request-id", "req-test-42")
        .json(&json!({ "query": "{ ratings { totalCount } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "req-test-42");
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "INTERNAL", "{body}");
    assert_eq!(body["errors"][0]["message"], "internal error");
    assert_eq!(body["errors"][0]["extensions"]["requestId"], "req-test-42");
    let text = body.to_string().to_lowercase();
    for leak in [
        "select",
        "from",
        "no such table",
        "sqlite",
        "postgres",
        "relation",
        "sql",
    ] {
        assert!(!text.contains(leak), "leaked {leak}: {body}");
    }
}

#[tokio::test]
async fn health_and_metrics_answer() {
    let app = TestApp::spawn().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    app.gql("query Catalogue { courses { totalCount } }", json!({}))
        .await;
    let metrics = app.metrics_text().await;
    for needle in [
        "zhiku_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1",
        "zhiku_graphql_operations_total{operation=\"Catalogue\",outcome=\"ok\"} 1",
        "zhiku_db_statements_total{outcome=\"ok\"}",
        "zhiku_db_statement_duration_seconds_bucket",
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }
}

/// Parsed documents are shared between requests of the same text: each request must
/// still get its own `@include`/`@skip` outcome, its own operation and its own errors.
#[tokio::test]
async fn a_repeated_query_text_is_answered_per_request() {
    let app = TestApp::spawn().await;
    let query = "query Listed($withIds: Boolean!, $first: Int) { courses(first: $first) { totalCount nodes @include(if: $withIds) { id } } } \
                 query Counted { courses { totalCount } }";
    let run = |variables: Value, operation: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables, "operationName": operation }))
            .send()
    };
    let mut answers = Vec::new();
    for with_ids in [true, false, true] {
        let body: Value = run(json!({ "withIds": with_ids }), "Listed")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answers.push(body["data"]["courses"].get("nodes").is_some());
    }
    assert_eq!(answers, [true, false, true]);
    let counted: Value = run(json!({}), "Counted")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counted["data"]["courses"]["totalCount"], 0, "{counted}");
    let mistyped: Value = run(json!({ "withIds": true, "first": "ten" }), "Listed")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(mistyped["data"].is_null(), "{mistyped}");
    assert_eq!(
        error_code(&mistyped),
        "GRAPHQL_VALIDATION_FAILED",
        "{mistyped}"
    );

    let metrics = app.metrics_text().await;
    for needle in [
        "zhiku_graphql_operations_total{operation=\"Listed\",outcome=\"ok\"} 3",
        "zhiku_graphql_operations_total{operation=\"Counted\",outcome=\"ok\"} 1",
        "zhiku_graphql_operations_total{operation=\"Listed\",outcome=\"error\"} 1",
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }
}

/// Payment settings production accepts: the real provider (pointed at nothing) with a
/// public https notify URL.
fn production_payments() -> zhiku::config::PaymentConfig {
    zhiku::config::PaymentConfig {
        wechatpay_notify_url: "https://pay.zhiku.cn/payments/wechat/notify".into(),
        ..crate::wechatpay::wechatpay_config("http://127.0.0.1:9".into())
    }
}
