//! Request bodies on the real routes: each route's literal message for a
//! body it cannot use, 415 for another content type, 413 above 1 MiB, all
//! without touching the session.

use axum::body::Body;
use axum::http::Method;
use kb_protocol::ErrorCode;
use kb_server::extract::BODY_LIMIT_BYTES;
use serde_json::json;

use crate::helpers::{ALICE, SESSION_ROUTES, TestApp, bearer, request, version};

const ALICE_AUTH: (&str, &str) = ("authorization", "Bearer alice-token");

#[tokio::test]
async fn each_route_answers_a_body_it_cannot_use_with_its_literal() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let mut checked = 0;
    for route in SESSION_ROUTES {
        let Some((invalid, message)) = route.invalid else {
            continue;
        };
        checked += 1;
        let path = route.path_for(&id);
        for body in [invalid, "{", "[1, 2", "\"text\""] {
            let response = app
                .call(route.method.clone(), &path, Some(ALICE), Some(body))
                .await;
            if route.is_action_route() {
                assert_eq!(response.status, 400, "{body}");
                assert_eq!(
                    response.json(),
                    json!({"status": "error", "error": message, "code": "INVALID_REQUEST"})
                );
            } else {
                let envelope = response.envelope(400);
                assert_eq!(envelope.code, ErrorCode::InvalidRequest);
                assert_eq!(envelope.message, message, "{path} {body}");
                let issues = envelope.issues.expect("issues say what is wrong");
                assert!(!issues.is_empty() && !issues[0].message.is_empty());
            }
        }
    }
    assert_eq!(checked, 7);
    assert_eq!(version(&app.snapshot(ALICE, &id).await), 1);
}

#[tokio::test]
async fn json_arrays_are_not_request_objects() {
    // serde reads a struct from an array, positionally: `[true]` would be
    // `{"devMode": true}` and `["tax"]` `{"actionId": "tax"}`. The
    // reference accepted only objects, and so do we.
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    app.to_main(ALICE, &id).await;
    for body in ["[]", "[true]", "[true, null, {\"A\": \"Ann\"}]"] {
        let envelope = app
            .call(Method::POST, "/sessions", Some(ALICE), Some(body))
            .await
            .envelope(400);
        assert_eq!(
            envelope.message, "Invalid session create request.",
            "{body}"
        );
        assert_eq!(
            envelope.issues.unwrap()[0].message,
            "Request body must be a JSON object."
        );
    }
    let response = app
        .call(
            Method::POST,
            &format!("/sessions/{id}/actions"),
            Some(ALICE),
            Some(r#"["tax"]"#),
        )
        .await;
    assert_eq!(response.status, 400, "{}", response.text());
    assert_eq!(response.json()["error"], "Invalid action request.");
    let cases = [
        ("dev-mode", "[true]", "Invalid session dev mode request."),
        ("ai-turn", r#"["B"]"#, "Invalid AI turn request."),
        ("simulate", r#"["A"]"#, "Invalid simulation request."),
        ("actions/tax/costs", "[{}]", "Invalid action cost request."),
    ];
    for (suffix, body, message) in cases {
        let envelope = app
            .call(
                Method::POST,
                &format!("/sessions/{id}/{suffix}"),
                Some(ALICE),
                Some(body),
            )
            .await
            .envelope(400);
        assert_eq!(envelope.message, message, "{suffix}");
    }
    let envelope = app
        .call(
            Method::PATCH,
            &format!("/sessions/{id}/player"),
            Some(ALICE),
            Some(r#"["A", "Ann"]"#),
        )
        .await
        .envelope(400);
    assert_eq!(envelope.message, "Invalid player name update request.");
    assert_eq!(app.state.manager().session_count(), 1);
    assert_eq!(version(&app.snapshot(ALICE, &id).await), 8);
}

#[tokio::test]
async fn a_body_that_is_not_declared_json_is_415_on_every_route_that_reads_one() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let mut routes: Vec<(Method, String, &str)> = SESSION_ROUTES
        .iter()
        .filter_map(|route| {
            route
                .body
                .map(|body| (route.method.clone(), route.path_for(&id), body))
        })
        .collect();
    routes.push((Method::POST, "/sessions".to_owned(), "{}"));
    assert_eq!(routes.len(), 8);
    for (method, path, body) in routes {
        for content_type in [Some("text/plain"), Some("application/xml"), None] {
            let mut headers = vec![ALICE_AUTH];
            headers.extend(content_type.map(|value| ("content-type", value)));
            let response = app
                .send(request(method.clone(), &path, &headers, Body::from(body)))
                .await;
            let envelope = response.envelope(415);
            assert_eq!(envelope.code, ErrorCode::UnsupportedMediaType, "{path}");
            assert_eq!(envelope.message, "Content-Type must be application/json.");
        }
    }
    assert_eq!(version(&app.snapshot(ALICE, &id).await), 1);
    assert_eq!(app.state.manager().session_count(), 1);
}

#[tokio::test]
async fn a_body_over_1_mib_is_413_on_every_route_that_reads_one() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    // Valid JSON, one byte over the limit.
    let padding = "x".repeat(BODY_LIMIT_BYTES + 1 - r#"{"pad": ""}"#.len() + 1);
    let huge = format!(r#"{{"pad": "{padding}"}}"#);
    assert_eq!(huge.len(), BODY_LIMIT_BYTES + 2);
    let mut routes: Vec<(Method, String)> = SESSION_ROUTES
        .iter()
        .filter(|route| route.body.is_some())
        .map(|route| (route.method.clone(), route.path_for(&id)))
        .collect();
    routes.push((Method::POST, "/sessions".to_owned()));
    for (method, path) in routes {
        let response = app.call(method, &path, Some(ALICE), Some(&huge)).await;
        let envelope = response.envelope(413);
        assert_eq!(envelope.code, ErrorCode::PayloadTooLarge, "{path}");
        assert_eq!(
            envelope.message,
            format!("Request body must not exceed {BODY_LIMIT_BYTES} bytes.")
        );
    }
    // Under the limit a big config is read (and refused for what it says).
    let config =
        json!({"config": {"phases": [{"id": "p", "steps": []}]}, "pad": "x".repeat(900_000)});
    let envelope = app
        .call(
            Method::POST,
            "/sessions",
            Some(ALICE),
            Some(&config.to_string()),
        )
        .await
        .envelope(400);
    assert_eq!(envelope.message, "Invalid session create request.");
    assert_eq!(app.state.manager().session_count(), 1);
}

#[tokio::test]
async fn json_with_a_charset_is_accepted_on_the_real_routes() {
    let app = TestApp::game();
    let authorization = bearer(ALICE);
    let headers = [
        ("authorization", authorization.as_str()),
        ("content-type", "application/json; charset=utf-8"),
    ];
    let response = app
        .send(request(
            Method::POST,
            "/sessions",
            &headers,
            Body::from(r#"{"devMode": true}"#),
        ))
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    assert_eq!(response.json()["snapshot"]["game"]["devMode"], true);
}
