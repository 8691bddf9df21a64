//! JSON answers are compressed per `Accept-Encoding` (gzip, br, zstd); the
//! event stream never is.

use std::io::Read;

use axum::body::Body;
use axum::http::Method;
use serde_json::Value;
use tower::ServiceExt;

use crate::helpers::*;

#[tokio::test]
async fn json_answers_are_compressed_as_the_client_asks() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let path = format!("/sessions/{id}/snapshot");
    let plain = app.call(Method::GET, &path, Some(ALICE), None).await;
    assert!(plain.headers.get("content-encoding").is_none());
    for encoding in ["gzip", "br", "zstd"] {
        let packed = app
            .call_with(
                Method::GET,
                &path,
                Some(ALICE),
                None,
                &[("accept-encoding", encoding)],
            )
            .await;
        assert_eq!(packed.status, 200);
        assert_eq!(packed.headers["content-encoding"], encoding);
        assert!(packed.body.len() * 4 < plain.body.len(), "{encoding} saves");
        if encoding == "gzip" {
            let mut text = String::new();
            flate2::read::GzDecoder::new(&packed.body[..])
                .read_to_string(&mut text)
                .unwrap();
            let state: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(state, plain.json());
        }
    }
}

#[tokio::test]
async fn an_event_stream_is_never_compressed() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let authorization = bearer(ALICE);
    for path in [
        format!("/sessions/{id}/events"),
        format!("/api/sessions/{id}/events"),
    ] {
        let response = app
            .router
            .clone()
            .oneshot(request(
                Method::GET,
                &path,
                &[
                    ("authorization", &authorization),
                    ("accept-encoding", "gzip, br, zstd"),
                ],
                Body::empty(),
            ))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.headers().get("content-encoding").is_none());
        assert_eq!(response.headers()["content-type"], "text/event-stream");
    }
}
