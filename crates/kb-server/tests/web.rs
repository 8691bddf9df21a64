//! The browser client's routes, in process: the page at `/`, its modules
//! and stylesheet with the right content types and cache headers (every
//! file of `web/` served, named by the page, under the size budget),
//! revalidation with `ETag`, and the API beside them unaffected (at the
//! root and under `/api`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use kb_server::{AppState, Authenticator, Metrics, router};
use serde_json::Value;
use tower::ServiceExt;

/// The page the binary embeds, read from the source tree to compare.
const INDEX_HTML: &str = include_str!("../web/index.html");

/// The client's JavaScript may weigh this much in all (issue #13: a small
/// footprint, no build step).
const JS_BUDGET_BYTES: usize = 150 * 1024;

/// Every file of `web/` but the page and the icon (served at
/// `/favicon.ico`, not under `/assets/`): `(path under web/, text)`.
fn client_files() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, base: &std::path::Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("web/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, base, out);
            } else {
                let name = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                if name != "index.html" && name != "favicon.ico" {
                    out.push((name, std::fs::read_to_string(&path).expect("UTF-8 text")));
                }
            }
        }
    }
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    let mut out = Vec::new();
    walk(&base, &base, &mut out);
    out.sort();
    out
}

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
async fn every_client_file_is_served_with_its_content_type() {
    let app = app();
    let files = client_files();
    assert!(files.len() >= 10, "{files:?}");
    let mut served: Vec<String> = kb_server::routes::web::asset_paths().collect();
    served.sort();
    let on_disk: Vec<String> = files
        .iter()
        .map(|(name, _)| format!("/assets/{name}"))
        .collect();
    assert_eq!(
        served, on_disk,
        "the binary serves exactly the files of web/"
    );
    for (name, content) in &files {
        let path = format!("/assets/{name}");
        let content_type = if name.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "text/javascript; charset=utf-8"
        };
        let asset = get(&app, &path).await;
        assert_eq!(asset.status, StatusCode::OK, "{path}");
        assert_eq!(asset.header("content-type"), content_type, "{path}");
        assert_eq!(asset.header("cache-control"), "no-cache", "{path}");
        assert_eq!(asset.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(&asset.text(), content, "{path}");
    }
}

#[tokio::test]
async fn the_page_names_every_file_so_the_browser_fetches_them_at_once() {
    let app = app();
    let mut named: Vec<String> = INDEX_HTML
        .split(['"', '\''])
        .filter(|part| part.starts_with("/assets/"))
        .map(str::to_owned)
        .collect();
    for path in &named {
        assert_eq!(get(&app, path).await.status, StatusCode::OK, "{path}");
    }
    named.sort();
    named.dedup();
    let files: Vec<String> = client_files()
        .into_iter()
        .map(|(name, _)| format!("/assets/{name}"))
        .collect();
    assert_eq!(named, files, "index.html preloads every module");
}

#[tokio::test]
async fn the_client_loads_nothing_from_elsewhere_and_stays_small() {
    // No CDN and no remote import: the machine it runs on may be offline.
    let files = client_files();
    let mut javascript = 0;
    let served: Vec<String> = kb_server::routes::web::asset_paths().collect();
    for (name, text) in files
        .iter()
        .chain([&("index.html".to_owned(), INDEX_HTML.to_owned())])
    {
        assert!(!text.contains("://"), "{name} names an absolute URL");
        assert!(!text.contains("@import"), "{name} imports a stylesheet");
        if !name.ends_with(".js") {
            continue;
        }
        javascript += text.len();
        // Every import is a relative path to a file the server serves.
        let imports = text
            .lines()
            .filter(|l| l.contains("} from '") || l.starts_with("import * as "));
        for line in imports {
            let target = line
                .rsplit(['\'', '"'])
                .nth(1)
                .expect("a quoted module path");
            assert!(
                target.starts_with("./") || target.starts_with("../"),
                "{name}: {line}"
            );
            let dir = std::path::Path::new(name).parent().unwrap();
            let mut parts: Vec<&str> = dir
                .to_str()
                .unwrap()
                .split('/')
                .filter(|p| !p.is_empty())
                .collect();
            for part in target.split('/') {
                match part {
                    "." => {}
                    ".." => {
                        parts.pop();
                    }
                    other => parts.push(other),
                }
            }
            let resolved = format!("/assets/{}", parts.join("/"));
            assert!(
                served.contains(&resolved),
                "{name} imports {resolved}, which is not served"
            );
        }
    }
    assert!(
        javascript < JS_BUDGET_BYTES,
        "the client's JavaScript is {javascript} bytes, over the {JS_BUDGET_BYTES}-byte budget"
    );
}

/// The opponent levels the start screen offers are the server's, in its
/// order, with `normal` the default, and the served module is that file.
#[tokio::test]
async fn the_start_screen_offers_the_servers_ai_levels_normal_by_default() {
    let files = client_files();
    let (_, start) = files
        .iter()
        .find(|(name, _)| name == "views/start.js")
        .expect("the start screen's module");
    let list = start
        .split("export const AI_LEVELS = [")
        .nth(1)
        .and_then(|rest| rest.split("];").next())
        .expect("the start screen lists AI_LEVELS");
    let offered: Vec<&str> = list
        .lines()
        .filter_map(|line| line.trim().strip_prefix("['"))
        .filter_map(|line| line.split('\'').next())
        .collect();
    let levels: Vec<&str> = kb_ai::Level::ALL.iter().map(|l| l.as_str()).collect();
    assert_eq!(offered, levels);
    assert!(
        start.contains("const DEFAULT_AI_LEVEL = 'normal';"),
        "normal is the default"
    );
    let app = app();
    let served = get(&app, "/assets/views/start.js").await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(&served.text(), start);
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
        "/assets/views/../app.js",
        "/assets/",
        "/assets/views",
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
