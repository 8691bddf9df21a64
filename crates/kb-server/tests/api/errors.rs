//! Every failure a client can cause answers the `{code, message, issues?}`
//! envelope with the right status, and server failures hide their details.

use axum::body::Body;
use axum::http::Method;
use kb_protocol::{ErrorCode, PathSegment};
use kb_server::extract::BODY_LIMIT_BYTES;
use serde_json::json;

use crate::helpers::{ECHO_INVALID, TestApp, request};

const PLAYER: (&str, &str) = ("Authorization", "Bearer player-token");

#[tokio::test]
async fn valid_body_is_extracted() {
    let app = TestApp::new();
    let response = app
        .post_json(
            "/echo",
            &[PLAYER],
            r#"{"name": "Ann", "tags": ["x"], "unknown": 1}"#,
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json(), json!({"name": "Ann", "tags": ["x"]}));
}

#[tokio::test]
async fn malformed_json_is_400_with_the_route_literal_and_serde_issue() {
    let app = TestApp::new();
    for body in [
        "{",
        "{\"name\": }",
        "not json",
        "{\"name\": \"a\"} trailing",
    ] {
        let envelope = app.post_json("/echo", &[PLAYER], body).await.envelope(400);
        assert_eq!(envelope.code, ErrorCode::InvalidRequest);
        assert_eq!(envelope.message, ECHO_INVALID);
        let issues = envelope.issues.expect("issues");
        assert_eq!(issues.len(), 1);
        assert!(
            issues[0]
                .message
                .starts_with("Request body is not valid JSON: "),
            "{body}: {}",
            issues[0].message
        );
    }
}

#[tokio::test]
async fn wrong_shape_is_400_with_the_path_of_the_problem() {
    let app = TestApp::new();
    let cases = [
        (r#"{"name": 5}"#, vec![PathSegment::Key("name".to_owned())]),
        (
            r#"{"name": "a", "tags": ["x", 2]}"#,
            vec![PathSegment::Key("tags".to_owned()), PathSegment::Index(1)],
        ),
        ("[]", vec![]),
        ("null", vec![]),
        ("{}", vec![]),
    ];
    for (body, path) in cases {
        let envelope = app.post_json("/echo", &[PLAYER], body).await.envelope(400);
        assert_eq!(envelope.message, ECHO_INVALID, "{body}");
        let issues = envelope.issues.expect("issues");
        assert_eq!(issues[0].path, path, "{body}");
        assert!(!issues[0].message.is_empty());
    }
}

#[tokio::test]
async fn missing_body_is_400_with_the_route_literal() {
    let app = TestApp::new();
    for headers in [
        vec![PLAYER],
        vec![PLAYER, ("content-type", "application/json")],
    ] {
        let envelope = app.post("/echo", &headers).await.envelope(400);
        assert_eq!(envelope.message, ECHO_INVALID);
        assert_eq!(
            envelope.issues.unwrap()[0].message,
            "Request body is required."
        );
    }
}

#[tokio::test]
async fn json_with_charset_is_accepted() {
    let app = TestApp::new();
    let response = app
        .send(request(
            Method::POST,
            "/echo",
            &[PLAYER, ("Content-Type", "application/json; charset=UTF-8")],
            Body::from(r#"{"name": "Ann"}"#),
        ))
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
}

#[tokio::test]
async fn wrong_or_missing_content_type_with_a_body_is_415() {
    let app = TestApp::new();
    let cases = [
        vec![PLAYER, ("content-type", "text/plain")],
        vec![
            PLAYER,
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        vec![PLAYER, ("content-type", "application/json; charset=latin1")],
        vec![PLAYER],
    ];
    for headers in cases {
        let response = app
            .send(request(
                Method::POST,
                "/echo",
                &headers,
                Body::from(r#"{"name": "Ann"}"#),
            ))
            .await;
        let envelope = response.envelope(415);
        assert_eq!(
            envelope.code,
            ErrorCode::UnsupportedMediaType,
            "{headers:?}"
        );
        assert_eq!(envelope.message, "Content-Type must be application/json.");
    }
}

/// A JSON body for `/echo` exactly `size` bytes long.
fn echo_body_of_size(size: usize) -> String {
    let frame = r#"{"name": ""}"#.len();
    format!(r#"{{"name": "{}"}}"#, "a".repeat(size - frame))
}

#[tokio::test]
async fn body_at_the_limit_is_accepted_and_one_byte_more_is_413() {
    let app = TestApp::new();
    let at_limit = echo_body_of_size(BODY_LIMIT_BYTES);
    assert_eq!(at_limit.len(), 1024 * 1024);
    let response = app.post_json("/echo", &[PLAYER], &at_limit).await;
    assert_eq!(response.status, 200);

    let over = echo_body_of_size(BODY_LIMIT_BYTES + 1);
    let envelope = app.post_json("/echo", &[PLAYER], &over).await.envelope(413);
    assert_eq!(envelope.code, ErrorCode::PayloadTooLarge);
    assert_eq!(
        envelope.message,
        "Request body must not exceed 1048576 bytes."
    );
}

#[tokio::test]
async fn routes_that_ignore_their_body_accept_anything() {
    let app = TestApp::new();
    assert_eq!(app.post("/ignores-body", &[]).await.status, 200);
    let response = app
        .send(request(
            Method::POST,
            "/ignores-body",
            &[("content-type", "text/plain")],
            Body::from("whatever"),
        ))
        .await;
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn optional_body_is_none_when_absent() {
    let app = TestApp::new();
    let response = app.post("/echo-optional", &[]).await;
    assert_eq!(response.json(), json!({"present": false}));
    let response = app
        .post_json("/echo-optional", &[], r#"{"name": "a"}"#)
        .await;
    assert_eq!(response.json(), json!({"present": true}));
    let envelope = app
        .post_json("/echo-optional", &[], "{")
        .await
        .envelope(400);
    assert_eq!(envelope.message, "Invalid request body.");
}

#[tokio::test]
async fn a_route_may_check_its_body_before_the_caller() {
    let app = TestApp::new();
    // Bad body and no token: the body error wins on this route...
    let envelope = app.post_json("/body-first", &[], "{").await.envelope(400);
    assert_eq!(envelope.message, ECHO_INVALID);
    // ...while on the usual route the caller is checked first.
    let envelope = app.post_json("/echo", &[], "{").await.envelope(401);
    assert_eq!(envelope.code, ErrorCode::Unauthorized);
    // A good body without a token then fails auth.
    let envelope = app
        .post_json("/body-first", &[], r#"{"name": "a"}"#)
        .await
        .envelope(401);
    assert_eq!(envelope.code, ErrorCode::Unauthorized);
}

#[tokio::test]
async fn unknown_route_is_404_envelope() {
    let app = TestApp::new();
    for (method, path) in [
        (Method::GET, "/nope"),
        (Method::POST, "/api/nope"),
        (Method::GET, "/api"),
        (Method::GET, "/healthz/extra"),
    ] {
        let response = app
            .send(request(method.clone(), path, &[], Body::empty()))
            .await;
        let envelope = response.envelope(404);
        assert_eq!(envelope.code, ErrorCode::NotFound);
        assert_eq!(envelope.message, format!("Route {method}:{path} not found"));
    }
}

#[tokio::test]
async fn wrong_method_is_405_envelope_with_allow_header() {
    let app = TestApp::new();
    for path in [
        "/healthz",
        "/api/healthz",
        "/echo",
        "/api/echo",
        // Event streams are routed apart from the other answers.
        "/sessions/s1/events",
        "/api/sessions/s1/events",
    ] {
        let response = app
            .send(request(Method::DELETE, path, &[], Body::empty()))
            .await;
        let allow = response
            .headers
            .get("allow")
            .expect("Allow header")
            .to_str()
            .unwrap()
            .to_owned();
        let envelope = response.envelope(405);
        assert_eq!(envelope.code, ErrorCode::MethodNotAllowed);
        assert_eq!(
            envelope.message,
            format!("Method DELETE is not allowed for {path}")
        );
        assert!(!allow.is_empty(), "{path}");
    }
}

#[tokio::test]
async fn framework_rejections_become_envelopes() {
    let app = TestApp::new();
    let envelope = app.get("/items/not-a-number", &[]).await.envelope(400);
    assert_eq!(envelope.code, ErrorCode::InvalidRequest);
    assert!(!envelope.message.is_empty());
    assert_eq!(app.get("/items/7", &[]).await.text(), "7");
}

#[tokio::test]
async fn plain_text_error_responses_are_rewritten_as_envelopes() {
    let app = TestApp::new();
    // A status with a code keeps it, and its text for client errors.
    let response = app.get("/plain/503", &[]).await;
    assert_eq!(response.headers.get("retry-after").unwrap(), "5");
    let envelope = response.envelope(503);
    assert_eq!(envelope.code, ErrorCode::ServiceUnavailable);
    assert_eq!(envelope.message, "plain detail");
    let envelope = app.get("/plain/409", &[]).await.envelope(409);
    assert_eq!(envelope.code, ErrorCode::Conflict);
    // A client error without a code becomes 400.
    let envelope = app.get("/plain/422", &[]).await.envelope(400);
    assert_eq!(envelope.code, ErrorCode::InvalidRequest);
    assert_eq!(envelope.message, "plain detail");
    // A server error hides its text.
    for status in [500, 502] {
        let response = app.get(&format!("/plain/{status}"), &[]).await;
        assert!(
            !response.text().contains("plain detail"),
            "{}",
            response.text()
        );
        let envelope = response.envelope(500);
        assert_eq!(envelope.code, ErrorCode::Internal);
        assert_eq!(envelope.message, "Internal server error.");
    }
    // Success responses are untouched.
    assert_eq!(app.get("/plain/200", &[]).await.text(), "plain detail");
}

#[tokio::test]
async fn a_panicking_handler_answers_a_generic_500_envelope() {
    let app = TestApp::new();
    let response = app.get("/panic", &[]).await;
    assert!(!response.text().contains("secret"), "{}", response.text());
    let envelope = response.envelope(500);
    assert_eq!(envelope.code, ErrorCode::Internal);
    assert_eq!(envelope.message, "Internal server error.");
    // The server keeps serving.
    assert_eq!(app.get("/healthz", &[]).await.status, 200);
}

#[tokio::test]
async fn internal_errors_never_leak_their_cause() {
    let app = TestApp::new();
    let response = app.get("/fail", &[]).await;
    assert!(!response.text().contains("secret"), "{}", response.text());
    let envelope = response.envelope(500);
    assert_eq!(envelope.message, "Internal server error.");
    assert_eq!(envelope.issues, None);
}
