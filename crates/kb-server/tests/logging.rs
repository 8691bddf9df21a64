//! The request log: a summary per interval at `info`, one line per request
//! at `debug`, internal causes logged, tokens never logged, the session id
//! on every line logged for a session.
//!
//! A test binary of its own with a single test: tracing caches per-callsite
//! interest process-wide, and a callsite first hit on another test's thread
//! while this test installs its thread-local subscriber can be cached as
//! "never", dropping the events this test looks for. Alone in its process,
//! the subscriber is installed before any callsite is hit.

use std::io::Write;
use std::sync::{Arc, Mutex};

#[path = "api/helpers.rs"]
#[allow(dead_code, reason = "shared harness; this binary uses part of it")]
mod helpers;

use helpers::TestApp;

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// Installs a capturing subscriber for this thread (tokio tests run on the
/// test thread) and returns what it captured after `requests` ran.
async fn capture_logs<F: std::future::Future<Output = ()>>(requests: F) -> String {
    capture_logs_at("debug", requests).await
}

/// [`capture_logs`] with another filter.
async fn capture_logs_at<F: std::future::Future<Output = ()>>(filter: &str, requests: F) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    requests.await;
    drop(guard);
    captured.text()
}

#[tokio::test]
async fn request_log() {
    let app = TestApp::new();
    each_request_is_logged_without_its_token(&app).await;
    internal_errors_and_panics_are_logged_with_their_cause(&app).await;
    at_info_requests_are_summarised_not_logged_one_by_one(&app).await;
}

async fn at_info_requests_are_summarised_not_logged_one_by_one(app: &TestApp) {
    kb_server::telemetry::log_request_summary();
    let logs = capture_logs_at("info", async {
        for _ in 0..3 {
            app.get("/healthz", &[]).await;
        }
        app.get(
            "/sessions/no-such-session/snapshot",
            &[("Authorization", "Bearer admin-token")],
        )
        .await;
        kb_server::telemetry::log_request_summary();
    })
    .await;
    assert!(!logs.contains("request answered"), "{logs}");
    let summary: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("requests answered"))
        .collect();
    assert_eq!(summary.len(), 1, "{logs}");
    assert!(summary[0].contains("total=4"), "{}", summary[0]);
    assert!(summary[0].contains("200:3 404:1"), "{}", summary[0]);
    // Nothing answered since: no summary line.
    let quiet = capture_logs_at("info", async {
        kb_server::telemetry::log_request_summary();
    })
    .await;
    assert_eq!(quiet, "");
}

async fn each_request_is_logged_without_its_token(app: &TestApp) {
    let logs = capture_logs(async {
        app.get(
            "/api/whoami?secret=query-s3cret",
            &[("Authorization", "Bearer admin-token")],
        )
        .await;
        app.get("/whoami", &[("X-KB-Dev-Token", "unknown-s3cret")])
            .await;
    })
    .await;
    let lines: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("request answered"))
        .collect();
    assert_eq!(lines.len(), 2, "{logs}");
    for (line, status) in lines.iter().zip(["status=200", "status=403"]) {
        for field in [status, "method=GET", "route=", "latency_ms="] {
            assert!(line.contains(field), "{field} missing in {line}");
        }
    }
    assert!(lines[0].contains("path=/api/whoami"), "{}", lines[0]);
    assert!(
        lines[0].contains("DEBUG"),
        "request lines are debug: {}",
        lines[0]
    );
    assert!(lines[0].contains("route=/api/whoami"), "{}", lines[0]);
    for secret in ["admin-token", "s3cret"] {
        assert!(!logs.contains(secret), "{secret} leaked into logs:\n{logs}");
    }
}

async fn internal_errors_and_panics_are_logged_with_their_cause(app: &TestApp) {
    let logs = capture_logs(async {
        app.get("/fail", &[]).await;
        app.get("/panic", &[]).await;
    })
    .await;
    let errors: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("request failed"))
        .collect();
    assert_eq!(errors.len(), 2, "{logs}");
    assert!(errors[0].contains("disk /srv/db on fire"), "{}", errors[0]);
    assert!(errors[0].contains("code=INTERNAL"), "{}", errors[0]);
    assert!(
        errors[1].contains("handler panicked: secret detail: the vault code is 1234"),
        "{}",
        errors[1]
    );
}
