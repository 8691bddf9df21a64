//! Who may call which route: 401/403 per route, sessions owned by their
//! creator (everyone else gets 404, admins see all), and 404 for unknown
//! sessions on every route.

use axum::http::Method;
use kb_protocol::ErrorCode;
use serde_json::json;

use crate::helpers::{
    ADMIN, ALICE, BOB, CREATOR, NOBODY, PLAYER, SESSION_ROUTES, SessionRoute, TestApp,
    TestResponse, assert_same_json, version,
};

/// Asserts `response` is the 404 for session `id`, in the route's envelope.
#[track_caller]
fn assert_session_not_found(route: &SessionRoute, response: &TestResponse, id: &str) {
    let message = format!("Session \"{id}\" was not found.");
    if route.is_action_route() {
        assert_eq!(response.status, 404, "{}", route.path);
        assert_eq!(
            response.json(),
            json!({"status": "error", "error": message, "code": "NOT_FOUND"})
        );
    } else {
        let envelope = response.envelope(404);
        assert_eq!(envelope.code, ErrorCode::NotFound, "{}", route.path);
        assert_eq!(envelope.message, message, "{}", route.path);
    }
}

#[tokio::test]
async fn every_session_route_needs_a_token_with_its_role() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    for route in SESSION_ROUTES {
        let path = route.path_for(&id);
        let method = route.method.clone();
        let envelope = app
            .call(method.clone(), &path, None, route.body)
            .await
            .envelope(401);
        assert_eq!(envelope.code, ErrorCode::Unauthorized, "{path}");
        assert_eq!(envelope.message, "Missing authentication token.", "{path}");

        let envelope = app
            .call(method.clone(), &path, Some("forged-token"), route.body)
            .await
            .envelope(403);
        assert_eq!(envelope.message, "Token is not authorized for this server.");

        for token in [CREATOR, NOBODY] {
            let envelope = app
                .call(method.clone(), &path, Some(token), route.body)
                .await
                .envelope(403);
            assert_eq!(envelope.code, ErrorCode::Forbidden, "{path}");
            assert_eq!(
                envelope.message,
                format!("Missing required role \"{}\".", route.role),
                "{path}"
            );
        }
        // Auth comes before everything else: the session lookup and the
        // body's validation.
        let envelope = app
            .call(
                method.clone(),
                &route.path_for("no-such-session"),
                None,
                route.body,
            )
            .await
            .envelope(401);
        assert_eq!(envelope.code, ErrorCode::Unauthorized, "{path}");
        if let Some((invalid, _)) = route.invalid {
            let envelope = app
                .call(method, &path, Some(CREATOR), Some(invalid))
                .await
                .envelope(403);
            assert_eq!(envelope.code, ErrorCode::Forbidden, "{path}");
        }
    }
    assert_eq!(version(&app.snapshot(ALICE, &id).await), 1, "nothing ran");
}

#[tokio::test]
async fn creating_needs_the_create_role() {
    let app = TestApp::game();
    let envelope = app
        .call(Method::POST, "/sessions", None, Some("{}"))
        .await
        .envelope(401);
    assert_eq!(envelope.message, "Missing authentication token.");
    for token in [PLAYER, NOBODY] {
        let envelope = app
            .call(Method::POST, "/sessions", Some(token), Some("{}"))
            .await
            .envelope(403);
        assert_eq!(
            envelope.message,
            "Missing required role \"session:create\"."
        );
    }
    // Auth before validation.
    let envelope = app
        .call(Method::POST, "/sessions", Some(PLAYER), Some("{"))
        .await
        .envelope(403);
    assert_eq!(envelope.code, ErrorCode::Forbidden);
    // A create-only token creates, but cannot play, even its own session.
    let id = app.new_session(CREATOR).await;
    let envelope = app
        .call(
            Method::GET,
            &format!("/sessions/{id}/snapshot"),
            Some(CREATOR),
            None,
        )
        .await
        .envelope(403);
    assert_eq!(
        envelope.message,
        "Missing required role \"session:advance\"."
    );
    for token in [ADMIN, ALICE] {
        assert_eq!(app.new_session(token).await.len(), 36);
    }
    assert_eq!(app.state.manager().session_count(), 3);
}

#[tokio::test]
async fn an_unknown_session_is_404_on_every_route() {
    let app = TestApp::game();
    app.new_session(ALICE).await;
    for route in SESSION_ROUTES {
        for id in ["no-such-session", "00000000-0000-4000-8000-000000000000"] {
            for token in [ALICE, ADMIN] {
                let response = app.call_route(&route, id, token).await;
                assert_session_not_found(&route, &response, id);
            }
        }
    }
    // An empty id segment names no session (or, for `DELETE /sessions/`,
    // no route); the metadata query refuses it as invalid instead, see
    // `queries`.
    for route in SESSION_ROUTES
        .iter()
        .filter(|r| !r.path.starts_with("/metadata"))
    {
        let response = app.call_route(route, "", ALICE).await;
        assert_eq!(response.status, 404, "{}: {}", route.path, response.text());
        if !route.is_action_route() {
            assert_eq!(response.envelope(404).code, ErrorCode::NotFound);
        }
    }
}

#[tokio::test]
async fn other_users_get_404_on_every_route_and_change_nothing() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let before = app.to_main(ALICE, &id).await;
    for route in SESSION_ROUTES {
        for token in [BOB, PLAYER] {
            let response = app.call_route(&route, &id, token).await;
            assert_session_not_found(&route, &response, &id);
        }
    }
    let after = app.snapshot(ALICE, &id).await;
    assert_eq!(version(&after), version(&before));
    assert_same_json(&after["snapshot"], &before["snapshot"], "after Bob's calls");
    // Bob cannot see it in a listing either: only admins list.
    assert_eq!(
        app.call(Method::GET, "/sessions", Some(BOB), None)
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn admins_see_and_play_every_session_but_not_the_other_way_round() {
    let app = TestApp::game();
    let alices = app.new_session(ALICE).await;
    for route in SESSION_ROUTES {
        let response = app.call_route(&route, &alices, ADMIN).await;
        // The action is refused by the engine (growth phase), not by
        // ownership; everything else succeeds.
        let expected = if route.is_action_route() { 409 } else { 200 };
        assert_eq!(
            response.status.as_u16(),
            expected,
            "{}: {}",
            route.path,
            response.text()
        );
    }
    // The admin's delete (the last route) removed Alice's session.
    assert_eq!(app.state.manager().session_count(), 0);

    let admins = app.new_session(ADMIN).await;
    let response = app
        .call(
            Method::GET,
            &format!("/sessions/{admins}/snapshot"),
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(response.envelope(404).code, ErrorCode::NotFound);
}
