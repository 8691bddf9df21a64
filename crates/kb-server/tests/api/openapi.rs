//! `GET /openapi.json` describes exactly the routes the server has.

use std::collections::BTreeSet;

use axum::http::Method;
use serde_json::Value;

use crate::helpers::TestApp;

/// Normalizes `{id}`, `{action_id}`, `{actionId}` to `{}`.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            c if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// The (METHOD, path) pairs of a route table's source (`.route("/path",
/// get(...).post(...))` calls).
fn routes_in(source: &str) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find(".route(") {
        rest = rest[at + 7..].trim_start();
        let Some(quoted) = rest.strip_prefix('"') else {
            continue;
        };
        rest = quoted;
        let end = rest.find('"').unwrap();
        let path = shape(&rest[..end]);
        // This route's methods: up to the next route (or the table's end).
        let call_end = rest.find(".route(").or_else(|| rest.find("\n}")).unwrap();
        let call = &rest[end..call_end];
        for method in ["get", "post", "patch", "delete", "put"] {
            if call.contains(&format!("{method}(")) {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

/// The API routes (`src/app.rs`), served at the root and under `/api`.
fn api_routes() -> BTreeSet<(String, String)> {
    routes_in(include_str!("../../src/app.rs"))
}

/// The browser client's routes (`src/routes/web.rs`), at the root only.
fn client_routes() -> BTreeSet<(String, String)> {
    let source = include_str!("../../src/routes/web.rs");
    // The route table only, not the tests at the end of the file.
    let table = &source[source.find("pub fn routes()").unwrap()..];
    routes_in(&table[..table.find("\n}").unwrap() + 2])
}

#[tokio::test]
async fn the_document_lists_every_route_and_only_those() {
    let app = TestApp::game();
    let response = app.get("/openapi.json", &[]).await;
    assert_eq!(response.status, 200);
    let doc: Value = response.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(app.get("/api/openapi.json", &[]).await.json(), doc);
    let mut documented = BTreeSet::new();
    let mut root_only = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "patch", "delete", "put"] {
            if item.get(method).is_some() {
                let route = (method.to_uppercase(), shape(path));
                if item["servers"] == serde_json::json!([{"url": "/"}]) {
                    root_only.insert(route.clone());
                }
                documented.insert(route);
            }
        }
    }
    let (api, client) = (api_routes(), client_routes());
    assert!(api.len() >= 18, "parsed the route table: {api:?}");
    assert!(
        client.contains(&("GET".to_owned(), "/favicon.ico".to_owned())),
        "parsed the client's routes: {client:?}"
    );
    assert_eq!(documented, api.union(&client).cloned().collect());
    assert_eq!(
        root_only, client,
        "the client's routes are documented as root-only"
    );

    // Every documented operation is served where the document says (no
    // route-level 404 or 405), and the client's routes nowhere else.
    for (method, path) in &documented {
        let concrete = path.replace("{}", "x");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let prefixes: &[&str] = if root_only.contains(&(method.to_string(), path.clone())) {
            &[""]
        } else {
            &["", "/api"]
        };
        for prefix in prefixes {
            let at = format!("{prefix}{concrete}");
            let answer = app.call(method.clone(), &at, None, None).await;
            let text = String::from_utf8_lossy(&answer.body);
            let routed = answer.status != 405 && !text.contains("Route ");
            assert!(routed, "{method} {at}: {} {text}", answer.status);
        }
        if prefixes.len() == 1 {
            let answer = app
                .call(method.clone(), &format!("/api{concrete}"), None, None)
                .await;
            assert_eq!(answer.status, 404, "{method} /api{concrete}");
        }
    }
}

/// The AI route documents both of its modes.
#[tokio::test]
async fn the_ai_route_documents_its_two_modes() {
    let doc: Value = serde_json::from_str(kb_server::routes::health::OPENAPI_JSON).unwrap();
    let route = &doc["paths"]["/sessions/{id}/ai-turn"]["post"];
    let mode = &route["requestBody"]["content"]["application/json"]["schema"]["properties"]["mode"];
    assert_eq!(mode["enum"], serde_json::json!(["step", "turn"]));
    assert_eq!(mode["default"], "step");
    let description = route["description"].as_str().unwrap();
    assert!(description.contains("phaseComplete"), "{description}");
}
