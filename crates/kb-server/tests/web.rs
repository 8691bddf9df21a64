//! The browser client's routes, in process: the page at `/`, its assets
//! with the right content types and cache headers, revalidation with
//! `ETag`, and the API beside them unaffected (at the root and under `/api`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use kb_server::{AppState, Authenticator, Metrics, router};
use serde_json::Value;
use tower::ServiceExt;

/// The files the binary embeds, read from the source tree to compare.
const INDEX_HTML: &str = include_str!("../web/index.html");
const APP_JS: &str = include_str!("../web/app.js");
const STYLE_CSS: &str = include_str!("../web/style.css");

fn app() -> Router {
    let store = Arc::new(kb_store::MemoryStore::new());
    let manager = kb_session::SessionManager::new(kb_session::ManagerOptions::new(store))
        .expect("a fresh store hydrates");
    let address: SocketAddr = "127.0.0.1:3001".parse().unwrap();
    let auth = Authenticator::for_listener(None, address).expect("loopback allows the dev token");
    router(AppState::new(auth, Metrics::new(), Arc::new(manager)))
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

async fn send(app: &Router, method: Method, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = if headers.iter().any(|(name, _)| *name == "content-type") {
        Body::from("{}")
    } else {
        Body::empty()
    };
    let response = app
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .expect("the router is infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

async fn get(app: &Router, path: &str) -> Answer {
    send(app, Method::GET, path, &[]).await
}

#[tokio::test]
async fn the_page_is_served_at_the_root() {
    let app = app();
    let page = get(&app, "/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(page.header("cache-control"), "no-cache");
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    assert_eq!(page.text(), INDEX_HTML);
    let policy = page.header("content-security-policy");
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(
        page.text()
            .contains(r#"<script type="module" src="/assets/app.js">"#)
    );
    assert_eq!(get(&app, "/index.html").await.text(), INDEX_HTML);
}

#[tokio::test]
async fn assets_have_their_content_types() {
    let app = app();
    for (path, content_type, content) in [
        ("/assets/app.js", "text/javascript; charset=utf-8", APP_JS),
        ("/assets/style.css", "text/css; charset=utf-8", STYLE_CSS),
    ] {
        let asset = get(&app, path).await;
        assert_eq!(asset.status, StatusCode::OK, "{path}");
        assert_eq!(asset.header("content-type"), content_type, "{path}");
        assert_eq!(asset.header("cache-control"), "no-cache", "{path}");
        assert_eq!(asset.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(asset.text(), content, "{path}");
    }
}

#[tokio::test]
async fn every_asset_the_page_names_is_served() {
    let app = app();
    let mut named = 0;
    for part in INDEX_HTML.split(['"', '\'']) {
        if part.starts_with("/assets/") {
            named += 1;
            let asset = get(&app, part).await;
            assert_eq!(asset.status, StatusCode::OK, "{part}");
        }
    }
    assert_eq!(named, 2, "the page names its script and its stylesheet");
}

#[tokio::test]
async fn the_client_loads_nothing_from_elsewhere() {
    // No CDN and no remote import: the machine it runs on may be offline.
    for (name, text) in [
        ("index.html", INDEX_HTML),
        ("app.js", APP_JS),
        ("style.css", STYLE_CSS),
    ] {
        assert!(!text.contains("://"), "{name} names an absolute URL");
        assert!(!text.contains("@import"), "{name} imports a stylesheet");
    }
    let imports = APP_JS
        .lines()
        .filter(|line| line.trim_start().starts_with("import "))
        .count();
    assert_eq!(imports, 0, "app.js is one module with no imports");
}

#[tokio::test]
async fn an_unchanged_file_revalidates_with_304() {
    let app = app();
    for path in ["/", "/assets/app.js", "/assets/style.css"] {
        let first = get(&app, path).await;
        let etag = first.header("etag").to_owned();
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "{path}: {etag}"
        );
        let again = send(&app, Method::GET, path, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(again.body.is_empty(), "{path}");
        assert_eq!(again.header("etag"), etag, "{path}");
        let changed = send(&app, Method::GET, path, &[("if-none-match", "\"old\"")]).await;
        assert_eq!(changed.status, StatusCode::OK, "{path}");
        assert!(!changed.body.is_empty(), "{path}");
    }
    let page = get(&app, "/").await.header("etag").to_owned();
    let script = get(&app, "/assets/app.js").await.header("etag").to_owned();
    assert_ne!(page, script, "each file has its own tag");
}

#[tokio::test]
async fn head_answers_without_a_body() {
    let app = app();
    let head = send(&app, Method::HEAD, "/assets/app.js", &[]).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(
        head.header("content-type"),
        "text/javascript; charset=utf-8"
    );
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn the_client_is_not_under_the_api_prefix_and_unknown_files_are_404() {
    let app = app();
    for path in [
        "/api/",
        "/api/index.html",
        "/api/assets/app.js",
        "/assets/nope.js",
    ] {
        let answer = get(&app, path).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.header("content-type"), "application/json", "{path}");
        assert_eq!(answer.json()["code"], "NOT_FOUND", "{path}");
    }
    let post = send(&app, Method::POST, "/", &[]).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.json()["code"], "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn the_api_is_unaffected_at_the_root_and_under_api() {
    let app = app();
    for prefix in ["", "/api"] {
        let health = get(&app, &format!("{prefix}/healthz")).await;
        assert_eq!(health.status, StatusCode::OK, "{prefix}");
        assert_eq!(health.json()["status"], "ok");

        let metadata = get(&app, &format!("{prefix}/metadata")).await;
        assert_eq!(metadata.status, StatusCode::OK, "{prefix}");
        assert!(metadata.json()["registries"]["actions"].is_object());

        let created = send(
            &app,
            Method::POST,
            &format!("{prefix}/sessions"),
            &[
                ("authorization", "Bearer local-dev"),
                ("content-type", "application/json"),
            ],
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        let id = created.json()["sessionId"].as_str().unwrap().to_owned();
        let snapshot = send(
            &app,
            Method::GET,
            &format!("{prefix}/sessions/{id}/snapshot"),
            &[("authorization", "Bearer local-dev")],
        )
        .await;
        assert_eq!(snapshot.status, StatusCode::OK, "{prefix}");
        assert_eq!(snapshot.json()["snapshot"]["game"]["turn"], 1);
        // The client asks these for live costs; they must answer.
        let costs = send(
            &app,
            Method::POST,
            &format!("{prefix}/sessions/{id}/actions/tax/costs"),
            &[
                ("authorization", "Bearer local-dev"),
                ("content-type", "application/json"),
            ],
        )
        .await;
        assert_eq!(costs.status, StatusCode::OK, "{}", costs.text());
        assert_eq!(costs.json()["costs"]["ap"], 1);
    }
}
