//! The browser client: `GET /` serves the page and `GET /assets/*` its
//! modules and stylesheet; `GET /favicon.ico` the site's icon (a castle),
//! which browsers and other clients ask for on their own.
//!
//! The files live in `crates/kb-server/web/` and are compiled into the
//! binary, so `kingdom serve` needs nothing beside itself. They are plain
//! files with no build step: an HTML page, a stylesheet, a few ES
//! modules (`app.js` imports the others), listed once in `ASSETS`, and the
//! icon.
//!
//! Caching: every file is sent with `Cache-Control: no-cache` and a strong
//! `ETag` (a hash of its bytes), so a browser revalidates on each load and
//! gets a bodiless `304 Not Modified` while the binary has not changed, and
//! the new file as soon as it has. The page carries a Content Security
//! Policy that allows only this origin: the client loads nothing from
//! elsewhere.
//!
//! These routes are served at the root only, not under `/api`.

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, Path};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// The page's Content Security Policy: scripts, styles and requests to this
/// origin only; no inline script.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    bytes: &'static [u8],
    content_type: &'static str,
    /// Filled on first use: `"<hex of the first 16 bytes of SHA-256>"`.
    etag: OnceLock<HeaderValue>,
}

impl Asset {
    const fn new(bytes: &'static [u8], content_type: &'static str) -> Self {
        Self {
            bytes,
            content_type,
            etag: OnceLock::new(),
        }
    }

    fn etag(&self) -> &HeaderValue {
        self.etag.get_or_init(|| {
            let digest = Sha256::digest(self.bytes);
            let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
            HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex is a valid header value")
        })
    }
}

static INDEX_HTML: Asset = Asset::new(
    include_bytes!("../../web/index.html"),
    "text/html; charset=utf-8",
);

/// The client's files under `/assets/`, by path: `(path, file)`.
macro_rules! assets {
    ($($path:literal: $content_type:expr),* $(,)?) => {
        static ASSETS: [(&str, Asset); [$($path),*].len()] = [
            $(($path, Asset::new(include_bytes!(concat!("../../web/", $path)), $content_type)),)*
        ];
    };
}

const JS: &str = "text/javascript; charset=utf-8";

assets! {
    "style.css": "text/css; charset=utf-8",
    "app.js": JS,
    "api.js": JS,
    "content.js": JS,
    "dom.js": JS,
    "live.js": JS,
    "play.js": JS,
    "render.js": JS,
    "replay.js": JS,
    "state.js": JS,
    "views/actions.js": JS,
    "views/board.js": JS,
    "views/chronicle.js": JS,
    "views/dialogs.js": JS,
    "views/friends.js": JS,
    "views/hud.js": JS,
    "views/playback.js": JS,
    "views/replay.js": JS,
    "views/start.js": JS,
}

/// The paths the client's files are served at, `/assets/<path>`.
pub fn asset_paths() -> impl Iterator<Item = String> {
    ASSETS.iter().map(|(path, _)| format!("/assets/{path}"))
}
static FAVICON: Asset = Asset::new(include_bytes!("../../web/favicon.ico"), "image/x-icon");

/// The client's routes, to be mounted at the root.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/assets/{*path}", get(asset))
        .route("/favicon.ico", get(favicon))
}

/// `GET /`: the page.
pub async fn index(headers: HeaderMap) -> Response {
    let mut response = serve(&INDEX_HTML, &headers);
    let extra = response.headers_mut();
    extra.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    extra.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// `GET /assets/*path`: one of the client's modules or its stylesheet;
/// any other path is a 404 envelope naming the file.
pub async fn asset(
    Path(path): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    match ASSETS.iter().find(|(name, _)| *name == path) {
        Some((_, asset)) => serve(asset, &headers),
        None => {
            ApiError::not_found(format!("The client has no file {:?}.", uri.path())).into_response()
        }
    }
}

/// `GET /favicon.ico`: the site's icon.
pub async fn favicon(headers: HeaderMap) -> Response {
    serve(&FAVICON, &headers)
}

/// True if `If-None-Match` lists `etag` (or is `*`). Weak comparison, as
/// RFC 9110 asks for this header.
fn not_modified(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(etag) = etag.to_str().ok() else {
        return false;
    };
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

fn serve(asset: &Asset, headers: &HeaderMap) -> Response {
    let etag = asset.etag();
    let mut response = if not_modified(headers, etag) {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        let mut response = Response::new(Body::from(asset.bytes));
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
        response
    };
    let out = response.headers_mut();
    out.insert(ETAG, etag.clone());
    out.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_if_none_match(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn etag_is_a_quoted_hash() {
        let etag = ASSETS[1].1.etag().to_str().unwrap().to_owned();
        assert_eq!(etag.len(), 34, "{etag}");
        assert!(etag.starts_with('"') && etag.ends_with('"'));
        assert_ne!(ASSETS[1].1.etag(), ASSETS[0].1.etag());
    }

    #[test]
    fn if_none_match_lists_and_weak_tags_match() {
        let etag = ASSETS[1].1.etag().to_str().unwrap().to_owned();
        let etag_value = ASSETS[1].1.etag();
        assert!(not_modified(&with_if_none_match(&etag), etag_value));
        assert!(not_modified(
            &with_if_none_match(&format!("\"x\", W/{etag}")),
            etag_value
        ));
        assert!(not_modified(&with_if_none_match("*"), etag_value));
        assert!(!not_modified(&with_if_none_match("\"other\""), etag_value));
        assert!(!not_modified(&HeaderMap::new(), etag_value));
    }
}
