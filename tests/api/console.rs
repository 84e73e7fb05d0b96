//! The pages built in `console/` and embedded in the binary: the console answers at
//! every address under `/console` (deep links), GraphiQL loads every script and style
//! from the server (no CDN), assets go out precompressed when the browser accepts it,
//! `console/dist` is rebuilt whenever what it is built from changes, and the console's
//! operation types are regenerated whenever the schema changes.

use sha2::{Digest, Sha256};

use crate::helpers::TestApp;

/// What `console/scripts/stamp.mjs` hashes, in its order.
const STAMPED: [&str; 8] = [
    "src",
    "index.html",
    "graphiql.html",
    "codegen.ts",
    "vite.config.ts",
    "tsconfig.json",
    "package.json",
    "package-lock.json",
];

/// Every file under `path` (relative to `console/`), sorted as the stamp sorts them.
fn files(root: &std::path::Path, path: &str) -> Vec<String> {
    let full = root.join(path);
    if !full.is_dir() {
        return vec![path.to_owned()];
    }
    let mut names: Vec<String> = std::fs::read_dir(&full)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .iter()
        .flat_map(|name| files(root, &format!("{path}/{name}")))
        .collect()
}

#[test]
fn the_built_pages_are_not_stale_against_their_sources() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("console");
    let mut hash = Sha256::new();
    for file in STAMPED.iter().flat_map(|path| files(&root, path)) {
        hash.update(file.as_bytes());
        hash.update([0]);
        hash.update(std::fs::read(root.join(&file)).unwrap());
        hash.update([0]);
    }
    let stamped = std::fs::read_to_string(root.join("dist/SOURCE_HASH")).unwrap();
    assert_eq!(
        stamped.trim(),
        hex::encode(hash.finalize()),
        "console/dist is stale: run `npm ci && npm run build` in console/ and commit dist"
    );
}

#[test]
fn the_console_operation_types_are_not_stale_against_the_schema() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema = std::fs::read(root.join("schema.graphql")).unwrap();
    let stamped = std::fs::read_to_string(root.join("console/src/gql/SCHEMA_HASH")).unwrap();
    assert_eq!(
        stamped.trim(),
        hex::encode(Sha256::digest(&schema)),
        "console/src/gql is stale against schema.graphql: run `npm ci && npm run build` in console/ and commit"
    );
}

#[tokio::test]
async fn every_console_address_answers_with_the_page_and_its_policy() {
    let app = TestApp::spawn().await;
    for path in [
        "/console",
        "/console/",
        "/console/orders",
        "/console/orders/T3JkZXI6MQ==?x=1",
    ] {
        let page = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
        assert_eq!(page.headers()["cache-control"], "no-cache");
        let policy = page.headers()["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("default-src 'self'"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        let html = page.text().await.unwrap();
        assert!(html.contains("id=\"console\""), "{html}");
        assert!(!html.contains("cdn") && !html.contains("unpkg"), "{html}");
    }
}

#[tokio::test]
async fn assets_go_out_in_the_encoding_the_browser_accepts() {
    let app = TestApp::spawn().await;
    let html = app
        .client
        .get(app.url("/console"))
        .header("accept-encoding", "identity")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let script = html
        .split('"')
        .find(|part| part.starts_with("/console/assets/") && part.ends_with(".js"))
        .unwrap()
        .to_owned();
    let plain = app.client.get(app.url(&script)).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.headers()["vary"], "accept-encoding");
    let plain = plain.bytes().await.unwrap();
    for (accept, coding) in [("gzip, deflate, br", "br"), ("gzip", "gzip")] {
        let packed = app
            .client
            .get(app.url(&script))
            .header("accept-encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(packed.headers()["content-encoding"], coding, "{accept}");
        assert_eq!(
            packed.headers()["content-type"],
            "text/javascript; charset=utf-8"
        );
        let body = packed.bytes().await.unwrap();
        assert!(
            body.len() < plain.len() / 2,
            "{coding}: {} of {}",
            body.len(),
            plain.len()
        );
    }
}

#[tokio::test]
async fn graphiql_loads_everything_from_the_server() {
    let app = TestApp::spawn().await;
    let page = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("unpkg.com") && !html.contains("jsdelivr"),
        "{html}"
    );
    // Every script and style the page names is served by the binary, cacheable.
    let assets: Vec<&str> = html
        .split('"')
        .filter(|part| part.starts_with("/console/assets/"))
        .collect();
    assert!(assets.iter().any(|a| a.ends_with(".js")), "{html}");
    assert!(assets.iter().any(|a| a.ends_with(".css")), "{html}");
    for asset in assets {
        let answer = app.client.get(app.url(asset)).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{asset}");
        let kind = answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            kind.starts_with("text/javascript") || kind.starts_with("text/css"),
            "{asset}: {kind}"
        );
        assert!(
            answer.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        let body = answer.text().await.unwrap();
        assert!(
            !body.contains("https://unpkg.com"),
            "{asset} loads from a CDN"
        );
    }
    let missing = app
        .client
        .get(app.url("/console/assets/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
