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

/// The (METHOD, path) pairs of the route table in `src/app.rs`.
fn routes_in_app() -> BTreeSet<(String, String)> {
    let source = include_str!("../../src/app.rs");
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

#[tokio::test]
async fn the_document_lists_every_route_and_only_those() {
    let app = TestApp::game();
    let response = app.get("/openapi.json", &[]).await;
    assert_eq!(response.status, 200);
    let doc: Value = response.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), shape(path)));
        }
    }
    let routes = routes_in_app();
    assert!(routes.len() >= 18, "parsed the route table: {routes:?}");
    assert_eq!(documented, routes);

    // Every documented operation is served (no route-level 404 or 405).
    for (method, path) in &documented {
        let concrete = path.replace("{}", "x");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let answer = app.call(method.clone(), &concrete, None, None).await;
        let routed = answer.status != 405 && !answer.text().contains("Route ");
        assert!(
            routed,
            "{method} {concrete}: {} {}",
            answer.status,
            answer.text()
        );
    }
}
