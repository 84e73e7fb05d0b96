//! The web pages built in `console/` (Vite) and embedded in the binary from
//! `console/dist`, so the server needs neither Node nor a CDN: the admin and creator
//! console at `/console` (a single-page application: every address under it answers
//! with its page, which routes in the browser), GraphiQL at `GET /graphql`, and their
//! scripts and styles under `/console/assets/`.
//!
//! The build writes a Brotli and a gzip copy beside each script, style and page; the
//! server sends the one the browser accepts (`Accept-Encoding`), so nothing is
//! compressed per request.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use include_dir::{Dir, include_dir};

/// `console/dist`, as built and committed.
static DIST: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/console/dist");

/// Assets carry a content hash in their names: a browser may keep them for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Pages name the current assets: a browser asks again each time.
const REVALIDATE: &str = "no-cache";

/// What the console page may load and talk to: only this server (GraphQL over HTTP and
/// WebSocket), images from anywhere over https (covers and avatars live on CDNs).
const CONSOLE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: https:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'self'";

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

/// Whether the client accepts `coding` (a `q=0` refusal counts as not accepting).
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            // A weight of zero (`q=0`, `q=0.000`) means "not this one".
            let refused = parts.any(|part| {
                part.strip_prefix("q=")
                    .and_then(|weight| weight.trim().parse::<f32>().ok())
                    .is_some_and(|weight| weight <= 0.0)
            });
            name.eq_ignore_ascii_case(coding) && !refused
        })
}

/// A built file, in the best encoding the client accepts; `None` when not built.
fn built(path: &str, headers: &HeaderMap, cache: &'static str) -> Option<Response> {
    let plain = DIST.get_file(path)?;
    let encoded = [("br", "br"), ("gzip", "gz")]
        .into_iter()
        .filter(|(coding, _)| accepts(headers, coding))
        .find_map(|(coding, suffix)| {
            DIST.get_file(format!("{path}.{suffix}"))
                .map(|file| (coding, file))
        });
    let mut response = match encoded {
        Some((coding, file)) => (
            [(header::CONTENT_ENCODING, HeaderValue::from_static(coding))],
            file.contents(),
        )
            .into_response(),
        None => plain.contents().into_response(),
    };
    let set = response.headers_mut();
    set.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media_type(path)),
    );
    set.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    set.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    Some(response)
}

/// The GraphiQL page (its assets come from `/console/assets/`).
pub fn graphiql(headers: &HeaderMap) -> Response {
    built("graphiql.html", headers, REVALIDATE)
        .unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}

/// `GET /console` and every address under it but the assets: the console's page, which
/// reads the address and shows the screen it names (deep links and reloads work).
pub async fn page(headers: HeaderMap) -> Response {
    let Some(mut response) = built("index.html", &headers, REVALIDATE) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let set = response.headers_mut();
    set.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONSOLE_POLICY),
    );
    set.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    set.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// `GET /console/assets/{file}`: a built script, style or font.
pub async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    built(&format!("assets/{file}"), &headers, IMMUTABLE)
        .unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn the_built_pages_and_their_assets_are_embedded() {
        for page in ["graphiql.html", "index.html"] {
            let html = DIST
                .get_file(page)
                .and_then(|f| f.contents_utf8())
                .unwrap_or_default();
            assert!(html.contains("/console/assets/"), "{page}: {html}");
            assert!(
                !html.contains("unpkg.com") && !html.contains("cdn"),
                "{html}"
            );
        }
        assert_eq!(media_type("assets/a.js"), "text/javascript; charset=utf-8");
    }

    #[test]
    fn the_encoding_follows_accept_encoding() {
        assert!(accepts(&accepting("gzip, deflate, br"), "br"));
        assert!(accepts(&accepting("GZIP;q=0.5"), "gzip"));
        assert!(!accepts(&accepting("gzip;q=0, deflate"), "gzip"));
        assert!(!accepts(&accepting("br;q=0.000"), "br"));
        assert!(accepts(&accepting("br;q=0.001"), "br"));
        assert!(!accepts(&accepting("identity"), "br"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
    }
}
