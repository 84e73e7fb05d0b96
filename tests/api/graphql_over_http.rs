//! The HTTP front as standard tools see it: the standard introspection queries, the
//! GraphQL-over-HTTP rules (media types, request errors, status codes), bounded metric
//! labels, and a document cache that keeps only what validated.

use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/introspection/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Posts a body with an `Accept` header (none when empty); returns status, content
/// type and the JSON body.
async fn post(app: &TestApp, accept: &str, body: Value) -> (u16, String, Value) {
    let mut request = app.client.post(app.url("/graphql")).json(&body);
    if !accept.is_empty() {
        request = request.header(ACCEPT, accept);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

#[tokio::test]
async fn the_standard_introspection_queries_are_answered() {
    let app = TestApp::spawn().await;
    for name in [
        "graphql-js-17-default.graphql",
        "graphql-js-17-all-options.graphql",
    ] {
        let (status, _, body) = post(
            &app,
            "application/graphql-response+json, application/json",
            json!({ "query": fixture(name), "operationName": "IntrospectionQuery" }),
        )
        .await;
        assert_eq!(status, 200, "{name}: {body}");
        assert!(body.get("errors").is_none(), "{name}: {body}");
        let types = body["data"]["__schema"]["types"].as_array().unwrap();
        assert!(
            types.iter().any(|t| t["name"] == "Course"),
            "{name}: the schema is readable"
        );
        assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    }
}

#[tokio::test]
async fn introspection_abuse_and_deep_data_queries_stay_bounded() {
    let app = TestApp::spawn().await;
    let chain = format!(
        "{{ __type(name: \"Course\") {{ {} name {} }} }}",
        "ofType { ".repeat(20),
        "}".repeat(20)
    );
    let fan_out = "{ __schema { types { fields { type { fields { type { fields { type { name } } } } } } } } }";
    let deep_data = format!(
        "{{ {} title {} }}",
        "courses(first: 1) { edges { node { creator { courses(first: 1) { edges { node { "
            .repeat(2),
        "} } } } } } } ".repeat(2)
    );
    for (name, query, message) in [
        (
            "ofType chain",
            chain.as_str(),
            "Introspection query is nested too deep.",
        ),
        (
            "fan-out",
            fan_out,
            "Introspection query is nested too deep.",
        ),
        ("deep data", deep_data.as_str(), "Query is nested too deep."),
    ] {
        let (status, _, body) = post(&app, "", json!({ "query": query })).await;
        assert_eq!(status, 200, "{name}");
        assert_eq!(body["errors"][0]["message"], message, "{name}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "GRAPHQL_VALIDATION_FAILED"
        );
        assert!(body.get("data").is_none(), "{name}: {body}");
    }
}

#[tokio::test]
async fn the_answer_takes_the_media_type_the_client_accepts() {
    let app = TestApp::spawn().await;
    let query = json!({ "query": "{ __typename }" });
    let cases = [
        ("application/json", "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        (
            "application/graphql-response+json",
            "application/graphql-response+json",
        ),
        (
            "application/graphql-response+json, application/json;q=0.9",
            "application/graphql-response+json",
        ),
        (
            "application/json, application/graphql-response+json;q=0.5",
            "application/json",
        ),
        (
            "text/html, application/graphql-response+json;q=0.8",
            "application/graphql-response+json",
        ),
    ];
    for (accept, expected) in cases {
        let (status, content_type, body) = post(&app, accept, query.clone()).await;
        assert_eq!(status, 200, "Accept {accept:?}");
        assert_eq!(
            content_type.split(';').next().unwrap(),
            expected,
            "Accept {accept:?}"
        );
        assert_eq!(body["data"]["__typename"], "Query");
    }
    let (status, _, _) = post(&app, "text/html", query.clone()).await;
    assert_eq!(status, 406, "nothing acceptable");
    let (status, _, _) = post(&app, "application/json;q=0", query).await;
    assert_eq!(status, 406, "q=0 refuses");
}

#[tokio::test]
async fn request_errors_have_no_data_and_are_400_as_graphql_response_json() {
    let app = TestApp::spawn().await;
    let cases = [
        ("does not parse", json!({ "query": "{ courses {" })),
        ("does not validate", json!({ "query": "{ noSuchField }" })),
        (
            "variables do not coerce",
            json!({ "query": "query($n: Int) { courses(first: $n) { totalCount } }", "variables": { "n": "ten" } }),
        ),
        (
            "missing required variable",
            json!({ "query": "query($n: Int!) { courses(first: $n) { totalCount } }" }),
        ),
    ];
    for (name, body) in &cases {
        let (status, content_type, answer) =
            post(&app, "application/graphql-response+json", body.clone()).await;
        assert_eq!(status, 400, "{name}: {answer}");
        assert!(content_type.starts_with("application/graphql-response+json"));
        assert!(answer.get("data").is_none(), "{name}: {answer}");
        assert!(!answer["errors"].as_array().unwrap().is_empty(), "{name}");
        let (status, _, answer) = post(&app, "application/json", body.clone()).await;
        assert_eq!(status, 200, "{name}, as application/json");
        assert!(answer.get("data").is_none(), "{name}: {answer}");
    }
    // A field error is not a request error: data is there, and the status is 200.
    let (status, _, answer) = post(
        &app,
        "application/graphql-response+json",
        json!({ "query": "{ __typename orders { totalCount } }" }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("data").is_some(), "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

#[tokio::test]
async fn a_request_without_a_string_query_is_400() {
    let app = TestApp::spawn().await;
    for (name, body) in [
        ("missing query", json!({ "variables": {} })),
        ("numeric query", json!({ "query": 42 })),
        ("null query", json!({ "query": null })),
        (
            "variables not an object",
            json!({ "query": "{ __typename }", "variables": [1] }),
        ),
        (
            "operationName not a string",
            json!({ "query": "{ __typename }", "operationName": 7 }),
        ),
    ] {
        for accept in ["application/json", "application/graphql-response+json"] {
            let (status, _, answer) = post(&app, accept, body.clone()).await;
            assert_eq!(status, 400, "{name} ({accept}): {answer}");
        }
    }
    let response = app
        .client
        .get(app.url("/graphql?variables=%7B%7D"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400, "GET without query");
}

#[tokio::test]
async fn metric_labels_come_from_the_document_and_stay_bounded() {
    let app = TestApp::spawn().await;
    let invented = json!({ "query": "query Real { __typename }", "operationName": "Invented\"} 1\nfake_metric" });
    post(&app, "", invented).await;
    let other =
        json!({ "query": "query Real { __typename }", "operationName": "NotInTheDocument" });
    post(&app, "", other).await;
    post(&app, "", json!({ "query": "query Real { __typename }" })).await;
    let brew = app
        .client
        .request(Method::from_bytes(b"BREW").unwrap(), app.url("/graphql"))
        .send()
        .await
        .unwrap();
    assert_eq!(brew.status().as_u16(), 405);
    let metrics = app.metrics_text().await;
    assert!(
        metrics.contains("operation=\"Real\",outcome=\"ok\"} 1"),
        "{metrics}"
    );
    for absent in ["Invented", "NotInTheDocument", "fake_metric", "BREW"] {
        assert!(!metrics.contains(absent), "{absent} in\n{metrics}");
    }
    assert!(metrics.contains("method=\"OTHER\""), "{metrics}");
}

#[tokio::test]
async fn only_validated_documents_are_kept_parsed() {
    let app = TestApp::spawn().await;
    // 512 distinct invalid queries of about 8 KB each.
    let padding = "a".repeat(8 * 1024 - 64);
    for n in 0..512 {
        let query = format!("{{ unknownField{n}(x: \"{padding}\") }}");
        assert!(query.len() <= 8 * 1024);
        let (_, _, body) = post(&app, "", json!({ "query": query })).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "GRAPHQL_VALIDATION_FAILED"
        );
    }
    let metrics = app.metrics_text().await;
    assert!(
        metrics.contains("zhiku_graphql_document_cache_entries 0"),
        "{metrics}"
    );
    post(&app, "", json!({ "query": "{ courses { totalCount } }" })).await;
    let metrics = app.metrics_text().await;
    assert!(
        metrics.contains("zhiku_graphql_document_cache_entries 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("zhiku_graphql_document_cache_nodes 3"),
        "{metrics}"
    );
}
