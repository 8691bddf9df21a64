//! `GET /metrics`: request counting by route template, and metrics
//! registered by other modules.

use crate::helpers::TestApp;

fn has_line(text: &str, line: &str) -> bool {
    text.lines().any(|candidate| candidate == line)
}

#[tokio::test]
async fn metrics_count_requests_by_route_method_and_status() {
    let app = TestApp::new();
    app.get("/healthz", &[]).await;
    app.get("/healthz", &[]).await;
    app.get("/api/healthz", &[]).await;
    app.get("/items/1", &[]).await;
    app.get("/items/2", &[]).await;
    app.get("/nowhere/1", &[]).await;
    app.get("/nowhere/2", &[]).await;
    app.get("/whoami", &[]).await;

    let response = app.get("/metrics", &[]).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.headers.get("content-type").unwrap(),
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = response.text();
    for line in [
        r#"kb_http_requests_total{method="GET",route="/healthz",status="200"} 2"#,
        r#"kb_http_requests_total{method="GET",route="/api/healthz",status="200"} 1"#,
        r#"kb_http_requests_total{method="GET",route="/items/{id}",status="200"} 2"#,
        r#"kb_http_requests_total{method="GET",route="unmatched",status="404"} 2"#,
        r#"kb_http_requests_total{method="GET",route="/whoami",status="401"} 1"#,
        r#"kb_http_request_duration_seconds_count{route="/healthz"} 2"#,
    ] {
        assert!(has_line(&text, line), "missing {line}\n{text}");
    }
    assert!(
        !text.contains("/items/1"),
        "raw paths must not be labels\n{text}"
    );
    assert!(
        !text.contains("/nowhere"),
        "raw paths must not be labels\n{text}"
    );
}

#[tokio::test]
async fn panics_and_rejections_are_counted_with_their_final_status() {
    let app = TestApp::new();
    app.get("/panic", &[]).await;
    app.post("/healthz", &[]).await;
    let text = app.get("/metrics", &[]).await.text();
    for line in [
        r#"kb_http_requests_total{method="GET",route="/panic",status="500"} 1"#,
        r#"kb_http_requests_total{method="POST",route="/healthz",status="405"} 1"#,
    ] {
        assert!(has_line(&text, line), "missing {line}\n{text}");
    }
}

#[tokio::test]
async fn metrics_registered_by_other_modules_are_exported() {
    let app = TestApp::new();
    let metrics = app.state.metrics();
    let live = metrics
        .register_gauge("sessions_live", "Sessions in memory")
        .unwrap();
    let commits = metrics
        .register_counter("store_commits", "Store commits")
        .unwrap();
    live.set(4);
    live.dec();
    commits.inc();
    let text = app.get("/metrics", &[]).await.text();
    assert!(has_line(&text, "kb_sessions_live 3"), "{text}");
    assert!(has_line(&text, "kb_store_commits_total 1"), "{text}");
    assert!(
        has_line(&text, "# HELP kb_sessions_live Sessions in memory."),
        "{text}"
    );
}
