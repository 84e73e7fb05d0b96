//! The web pages built in `console/` (Vite) and embedded in the binary from
//! `console/dist`, so the server needs neither Node nor a CDN: GraphiQL at `GET
//! /graphql`, and their scripts and styles under `/console/assets/`.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use include_dir::{Dir, include_dir};

/// `console/dist`, as built and committed.
static DIST: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/console/dist");

/// Assets carry a content hash in their names: a browser may keep them for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The media type of a built file, from its extension.
fn media_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("woff2") => "font/woff2",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// The GraphiQL page (its assets come from `/console/assets/`).
pub fn graphiql() -> Response {
    match DIST.get_file("graphiql.html") {
        Some(page) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            page.contents(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /console/assets/{file}`: a built script, style or font.
pub async fn asset(Path(file): Path<String>) -> Response {
    let path = format!("assets/{file}");
    match DIST.get_file(&path) {
        Some(found) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(media_type(&path)),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
            ],
            found.contents(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_graphiql_page_and_its_assets_are_embedded() {
        let page = DIST
            .get_file("graphiql.html")
            .and_then(|f| f.contents_utf8())
            .unwrap_or_default();
        assert!(page.contains("/console/assets/"), "{page}");
        assert!(
            !page.contains("unpkg.com") && !page.contains("cdn"),
            "{page}"
        );
        assert_eq!(media_type("assets/a.js"), "text/javascript; charset=utf-8");
    }
}
