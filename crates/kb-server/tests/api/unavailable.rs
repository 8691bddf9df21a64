//! The only 5xx the session routes may answer: 503 `STORAGE_UNAVAILABLE`
//! with a `Retry-After` when the store cannot commit (memory does not run
//! ahead of the store, reads go on, `/healthz` says so) and 503 once the
//! manager is closed for shutdown.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Method;
use kb_protocol::ErrorCode;
use kb_session::{ManagerOptions, SessionManager};
use kb_store::MemoryStore;
use kb_store::testkit::FaultyStore;

use crate::helpers::{ALICE, TestApp, assert_same_json, bearer, request, resource, version};

/// Sends a request that may answer 5xx: status, body, `Retry-After`.
async fn send_full(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> (u16, String, Option<String>) {
    let authorization = bearer(ALICE);
    let mut headers = vec![("authorization", authorization.as_str())];
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    let body = body.map_or_else(Body::empty, |text| Body::from(text.to_owned()));
    let response = app
        .send_allowing_5xx(request(method, path, &headers, body))
        .await;
    let retry_after = response
        .headers
        .get("retry-after")
        .map(|value| value.to_str().unwrap().to_owned());
    (response.status.as_u16(), response.text(), retry_after)
}

/// Sends a request that may answer 5xx: status and body.
async fn send(app: &TestApp, method: Method, path: &str, body: Option<&str>) -> (u16, String) {
    let (status, text, _) = send_full(app, method, path, body).await;
    (status, text)
}

#[tokio::test]
async fn a_store_that_cannot_commit_is_503_and_nothing_changes() {
    let store = FaultyStore::new(Arc::new(MemoryStore::new()));
    let manager = SessionManager::new(ManagerOptions::new(store.clone())).unwrap();
    let app = TestApp::game_over(Arc::new(manager));
    let id = app.new_session(ALICE).await;
    let before = app.to_main(ALICE, &id).await;

    assert_eq!(send(&app, Method::GET, "/healthz", None).await.0, 200);
    store.set_down(true);
    let writes = [
        (Method::POST, format!("/sessions/{id}/advance"), None),
        (
            Method::POST,
            format!("/sessions/{id}/actions"),
            Some(r#"{"actionId": "tax"}"#),
        ),
        (Method::DELETE, format!("/sessions/{id}"), None),
        (Method::POST, "/sessions".to_owned(), Some("{}")),
    ];
    for (method, path, body) in &writes {
        let (status, text, retry_after) = send_full(&app, method.clone(), path, *body).await;
        assert_eq!(status, 503, "{method} {path}: {text}");
        assert_eq!(retry_after.as_deref(), Some("2"), "{method} {path}");
        let envelope: kb_protocol::ErrorEnvelope = serde_json::from_str(&text).unwrap();
        assert_eq!(envelope.code, ErrorCode::StorageUnavailable);
        assert_eq!(
            envelope.message,
            "The session store cannot save changes right now; retry later."
        );
    }
    // The health check says so, with the reason, for a load balancer.
    let (status, text) = send(&app, Method::GET, "/healthz", None).await;
    assert_eq!(status, 503, "{text}");
    let health: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(health["status"], "unavailable");
    assert!(
        health["reason"]
            .as_str()
            .unwrap()
            .contains("the disk is unplugged"),
        "{health}"
    );
    // Reads still work and show the state before the failed writes.
    let read = app.snapshot(ALICE, &id).await;
    assert_eq!(version(&read), version(&before));
    assert_same_json(
        &read["snapshot"],
        &before["snapshot"],
        "after failed writes",
    );
    assert_eq!(app.state.manager().session_count(), 1);

    // Back up: the health check finds out by itself (its probe writes),
    // and the same tax applies once, from the state before.
    store.set_down(false);
    let mut healthy = false;
    for _ in 0..100 {
        if send(&app, Method::GET, "/healthz", None).await.0 == 200 {
            healthy = true;
            break;
        }
        // A probe at most once a second.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(healthy, "healthz never recovered");
    let response = app.act(ALICE, &id, "tax", serde_json::json!({})).await;
    assert_eq!(response.status, 200, "{}", response.text());
    let state = response.json();
    assert_eq!(version(&state), version(&before) + 1);
    assert_eq!(resource(&state, "A", "gold"), 14.0);
}

#[tokio::test]
async fn a_closed_manager_answers_503_shutting_down() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    // close() blocks (it flushes through the store): off the async worker,
    // as `kingdom serve` calls it.
    let manager = app.state.manager().clone();
    tokio::task::spawn_blocking(move || manager.close())
        .await
        .unwrap()
        .unwrap();
    for (method, path) in [
        (Method::GET, format!("/sessions/{id}/snapshot")),
        (Method::POST, format!("/sessions/{id}/advance")),
    ] {
        let (status, text) = send(&app, method, &path, None).await;
        assert_eq!(status, 503, "{path}: {text}");
        assert!(text.contains("The server is shutting down."), "{text}");
    }
}
