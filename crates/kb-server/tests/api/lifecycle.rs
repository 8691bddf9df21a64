//! Health, the `/api` prefix, and serving over a real socket with graceful
//! shutdown.

use std::sync::Arc;

use axum::routing::get;
use kb_server::app::{bind, router_with, serve};
use kb_server::{AppState, Authenticator, Metrics, run};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, oneshot};

use crate::helpers::{TestApp, raw_get, test_routes};

#[tokio::test]
async fn healthz_is_ok_at_both_prefixes() {
    let app = TestApp::new();
    for path in ["/healthz", "/api/healthz"] {
        let response = app.get(path, &[]).await;
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(response.json(), json!({"status": "ok"}), "{path}");
        assert_eq!(
            response.headers.get("content-type").unwrap(),
            "application/json"
        );
    }
}

#[tokio::test]
async fn every_route_is_also_served_under_api() {
    let app = TestApp::new();
    let root = app
        .get("/whoami", &[("Authorization", "Bearer admin-token")])
        .await;
    let prefixed = app
        .get("/api/whoami", &[("Authorization", "Bearer admin-token")])
        .await;
    assert_eq!(root.status, 200);
    assert_eq!(prefixed.status, 200);
    assert_eq!(root.json(), prefixed.json());
    let response = app
        .post_json(
            "/api/echo",
            &[("Authorization", "Bearer player-token")],
            r#"{"name": "x"}"#,
        )
        .await;
    assert_eq!(response.json(), json!({"name": "x", "tags": []}));
    assert_eq!(app.get("/api/metrics", &[]).await.status, 200);
}

async fn loopback_listener_and_state() -> (TcpListener, AppState) {
    let listener = bind("127.0.0.1", 0).await.unwrap();
    let address = listener.local_addr().unwrap();
    let auth = Authenticator::for_listener(None, address).unwrap();
    (
        listener,
        AppState::new(auth, Metrics::new(), crate::helpers::memory_manager()),
    )
}

#[tokio::test]
async fn run_serves_over_tcp_until_shutdown() {
    let (listener, state) = loopback_listener_and_state().await;
    let address = listener.local_addr().unwrap();
    assert_ne!(address.port(), 0);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(run(listener, state, async {
        let _ = stopped.await;
    }));

    let (status, body) = raw_get(address, "/api/healthz").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"status":"ok"}"#);
    let (status, body) = raw_get(address, "/missing").await.unwrap();
    assert_eq!(status, 404);
    assert!(body.contains("\"code\":\"NOT_FOUND\""), "{body}");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert!(TcpStream::connect(address).await.is_err());
}

#[tokio::test]
async fn graceful_shutdown_lets_an_in_flight_request_finish() {
    let (listener, state) = loopback_listener_and_state().await;
    let address = listener.local_addr().unwrap();

    // A route that tells the test it started, then waits to be released.
    let (started_tx, mut started) = mpsc::unbounded_channel::<()>();
    let release = Arc::new(Notify::new());
    let slow = {
        let release = Arc::clone(&release);
        get(move || {
            let started_tx = started_tx.clone();
            let release = Arc::clone(&release);
            async move {
                started_tx.send(()).unwrap();
                release.notified().await;
                "finished"
            }
        })
    };
    let app = router_with(state, test_routes().route("/slow", slow));

    // The shutdown future reports when the server has polled it to the end.
    let (trigger, triggered) = oneshot::channel::<()>();
    let (observed_tx, observed) = oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app, async move {
        let _ = triggered.await;
        let _ = observed_tx.send(());
    }));

    let client = tokio::spawn(async move { raw_get(address, "/slow").await });
    started.recv().await.expect("the slow request started");
    trigger.send(()).unwrap();
    observed
        .await
        .expect("the server observed the shutdown signal");
    release.notify_one();

    let (status, body) = client.await.unwrap().unwrap();
    assert_eq!(status, 200);
    assert_eq!(body, "finished");
    server.await.unwrap().unwrap();
    assert!(TcpStream::connect(address).await.is_err());
}

#[tokio::test]
async fn bind_errors_name_the_address() {
    let taken = bind("127.0.0.1", 0).await.unwrap();
    let port = taken.local_addr().unwrap().port();
    let error = bind("127.0.0.1", port).await.unwrap_err();
    assert_eq!(error.port, port);
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("cannot listen on 127.0.0.1:{port}: ")),
        "{message}"
    );
}
