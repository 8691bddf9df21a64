//! `POST /sessions/:id/actions`: success bodies, the engine's refusals in
//! the action route's own `{status, error, code, requirementFailure(s)}`
//! body, and its validation.

use axum::http::Method;
use kb_protocol::ErrorCode;
use serde_json::{Value, json};

use crate::helpers::{
    ALICE, TestApp, TestResponse, assert_same_json, player, resource, session_id, sorted_keys,
    version,
};

/// The action route's error body, after checking the status.
fn action_error(response: &TestResponse, status: u16) -> Value {
    assert_eq!(response.status.as_u16(), status, "{}", response.text());
    let body = response.json();
    assert_eq!(body["status"], "error", "{body}");
    body
}

#[tokio::test]
async fn tax_in_the_main_phase_collects_4_gold_per_member() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    app.to_main(ALICE, &id).await;
    let response = app.act(ALICE, &id, "tax", json!({})).await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        response.headers.get("etag").unwrap().to_str().unwrap(),
        "\"9\""
    );
    let body = response.json();
    assert_eq!(
        sorted_keys(&body),
        [
            "costs",
            "sessionId",
            "snapshot",
            "status",
            "traces",
            "version"
        ]
    );
    assert_eq!(body["status"], "success");
    assert_eq!(body["sessionId"], id.as_str());
    assert_eq!(version(&body), 9);
    assert_eq!(body["costs"], json!({"ap": 1}));
    assert!(body["traces"].is_array());
    assert_eq!(resource(&body, "A", "gold"), 14.0);
    assert_eq!(resource(&body, "A", "ap"), 0.0);
    assert_eq!(resource(&body, "A", "happiness"), -1.0);
    assert!(body["snapshot"]["metadata"]["passiveEvaluationModifiers"].is_object());
    // The snapshot route agrees.
    let state = app.snapshot(ALICE, &id).await;
    assert_same_json(&state["snapshot"], &body["snapshot"], "snapshot after tax");
}

#[tokio::test]
async fn an_action_with_a_choice_applies_the_chosen_option() {
    let app = TestApp::game();
    let id = session_id(&app.create_session(ALICE, r#"{"devMode": true}"#).await);
    let before = app.to_main(ALICE, &id).await;
    let lands = |state: &Value| player(state, "A")["lands"].as_array().unwrap().clone();
    assert_eq!(lands(&before).len(), 2);
    let params = json!({"choices": {"royal_decree_develop": {"optionId": "royal_decree_house"}}});
    let response = app.act(ALICE, &id, "royal_decree", params).await;
    assert_eq!(response.status, 200, "{}", response.text());
    let body = response.json();
    assert_eq!(body["costs"], json!({"ap": 1, "gold": 12}));
    assert_eq!(
        resource(&body, "A", "gold"),
        resource(&before, "A", "gold") - 12.0
    );
    let lands = lands(&body);
    assert_eq!(lands.len(), 3);
    assert_eq!(lands[2]["developments"], json!(["house"]));
    assert_eq!(lands[2]["slotsMax"], 2, "tilled");
    let traces = body["traces"].as_array().unwrap();
    assert!(!traces.is_empty());
    for trace in traces {
        assert!(trace["id"].is_string());
        assert!(trace["before"]["resources"].is_object());
        assert!(trace["after"]["lands"].is_array());
    }
}

#[tokio::test]
async fn the_path_names_the_session_whatever_the_body_says() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let other = app.new_session(ALICE).await;
    app.to_main(ALICE, &id).await;
    let body = json!({"sessionId": other, "actionId": "tax"}).to_string();
    let response = app
        .call(
            Method::POST,
            &format!("/sessions/{id}/actions"),
            Some(ALICE),
            Some(&body),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["sessionId"], id.as_str());
    assert_eq!(version(&app.snapshot(ALICE, &other).await), 1);
}

#[tokio::test]
async fn engine_refusals_are_409_with_the_engine_message_and_code() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    // Not in an action phase.
    let body = action_error(&app.act(ALICE, &id, "tax", json!({})).await, 409);
    assert_eq!(
        body,
        json!({
            "status": "error",
            "error": "Actions can only be performed in an action phase (current phase: growth)",
            "code": "NOT_ACTION_PHASE",
        })
    );
    let main = app.to_main(ALICE, &id).await;
    let cases = [
        (
            "nope",
            json!({}),
            "UNKNOWN_ACTION",
            "Unknown action \"nope\"",
        ),
        ("plow", json!({}), "ACTION_LOCKED", "Action plow is locked"),
        (
            "build",
            json!({"id": "moat"}),
            "UNKNOWN_BUILDING",
            "Unknown building \"moat\"",
        ),
        (
            "royal_decree",
            json!({}),
            "MISSING_SELECTION",
            "Action royal_decree requires a selection for effect group \"royal_decree_develop\"",
        ),
        (
            "royal_decree",
            json!({"choices": {"royal_decree_develop": {"optionId": "royal_decree_farm"}}}),
            "INSUFFICIENT_RESOURCE",
            "Insufficient gold: need 12, have 10",
        ),
    ];
    for (action, params, code, message) in cases {
        let body = action_error(&app.act(ALICE, &id, action, params).await, 409);
        assert_eq!(
            body,
            json!({"status": "error", "error": message, "code": code}),
            "{action}"
        );
    }
    // A refused action changes nothing (reference quirk 9 fixed).
    assert_same_json(
        &app.snapshot(ALICE, &id).await["snapshot"],
        &main["snapshot"],
        "after refusals",
    );
    assert_eq!(version(&app.snapshot(ALICE, &id).await), 8);

    // Spent AP: the second tax is refused.
    assert_eq!(app.act(ALICE, &id, "tax", json!({})).await.status, 200);
    let body = action_error(&app.act(ALICE, &id, "tax", json!({})).await, 409);
    assert_eq!(body["code"], "INSUFFICIENT_RESOURCE");
    assert_eq!(body["error"], "Insufficient ap: need 1, have 0");

    // B's turn: the AI seat does not take player actions.
    app.advance(ALICE, &id).await;
    let body = action_error(&app.act(ALICE, &id, "tax", json!({})).await, 409);
    assert_eq!(body["code"], "AI_CONTROLLED");
    assert_eq!(
        body["error"],
        "Player B is controlled by the AI; use an AI turn"
    );
}

#[tokio::test]
async fn a_failed_requirement_is_echoed_as_requirement_failure_and_failures() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    app.to_main(ALICE, &id).await;
    let body = action_error(
        &app.act(ALICE, &id, "raise_pop", json!({"role": "council"}))
            .await,
        409,
    );
    assert_eq!(body["code"], "REQUIREMENT_NOT_MET");
    assert_eq!(body["error"], "Requirement not met");
    let failure = &body["requirementFailure"];
    assert_eq!(failure["requirement"]["method"], "compare");
    assert_eq!(failure["details"], json!({"left": 1, "right": 1}));
    assert_eq!(body["requirementFailures"], json!([failure]));
    // The same failure the requirements route reports.
    let listed = app
        .call(
            Method::POST,
            &format!("/sessions/{id}/actions/raise_pop/requirements"),
            Some(ALICE),
            None,
        )
        .await
        .json();
    assert_eq!(listed["requirements"], json!([failure]));
}

#[tokio::test]
async fn nothing_acts_after_the_game_concluded() {
    let app = TestApp::game();
    // Dev mode gives A a legion and B a castle of 1 HP: one attack wins.
    let id = session_id(&app.create_session(ALICE, r#"{"devMode": true}"#).await);
    app.to_main(ALICE, &id).await;
    let response = app.act(ALICE, &id, "army_attack", json!({})).await;
    assert_eq!(response.status, 200, "{}", response.text());
    let conclusion = &response.json()["snapshot"]["game"]["conclusion"];
    assert_eq!(conclusion["winnerId"], "A", "{conclusion}");
    assert_eq!(conclusion["loserId"], "B", "{conclusion}");
    let body = action_error(&app.act(ALICE, &id, "tax", json!({})).await, 409);
    assert_eq!(body["code"], "GAME_CONCLUDED");
    assert_eq!(body["error"], "Game already concluded");
    let envelope = app
        .call(
            Method::POST,
            &format!("/sessions/{id}/advance"),
            Some(ALICE),
            None,
        )
        .await
        .envelope(409);
    assert_eq!(envelope.message, "Game already concluded");
    let envelope = app
        .call(
            Method::POST,
            &format!("/sessions/{id}/ai-turn"),
            Some(ALICE),
            Some(r#"{"playerId": "B"}"#),
        )
        .await
        .envelope(409);
    assert_eq!(envelope.message, "Game already concluded");
}

#[tokio::test]
async fn invalid_action_bodies_are_400_in_the_action_envelope() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let path = format!("/sessions/{id}/actions");
    let expected = json!({
        "status": "error",
        "error": "Invalid action request.",
        "code": "INVALID_REQUEST",
    });
    for body in [
        Some("{}"),
        Some(r#"{"actionId": ""}"#),
        Some(r#"{"actionId": 5}"#),
        Some(r#"{"actionId": "tax", "params": 5}"#),
        Some("{"),
        Some("null"),
        None,
    ] {
        let response = app.call(Method::POST, &path, Some(ALICE), body).await;
        assert_eq!(action_error(&response, 400), expected, "{body:?}");
    }
    assert_eq!(version(&app.snapshot(ALICE, &id).await), 1);
}

#[tokio::test]
async fn auth_is_checked_before_the_body_on_the_action_route() {
    // Deliberate difference: the reference validated the body before auth,
    // so an anonymous caller with a bad body got 400. Here every route
    // checks the caller first.
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let path = format!("/sessions/{id}/actions");
    let envelope = app
        .call(Method::POST, &path, None, Some("{}"))
        .await
        .envelope(401);
    assert_eq!(envelope.code, ErrorCode::Unauthorized);
    let envelope = app
        .call(Method::POST, &path, Some("creator-token"), Some("{"))
        .await
        .envelope(403);
    assert_eq!(
        envelope.message,
        "Missing required role \"session:advance\"."
    );
}

#[tokio::test]
async fn an_unknown_session_is_404_in_the_action_envelope() {
    let app = TestApp::game();
    for prefix in ["", "/api"] {
        let response = app
            .call(
                Method::POST,
                &format!("{prefix}/sessions/missing-session/actions"),
                Some(ALICE),
                Some(r#"{"actionId": "tax"}"#),
            )
            .await;
        assert_eq!(
            action_error(&response, 404),
            json!({
                "status": "error",
                "error": "Session \"missing-session\" was not found.",
                "code": "NOT_FOUND",
            })
        );
    }
}

/// A config is data any session creator submits: a recursive action must be
/// refused with a 409, not overflow the server's stack.
#[tokio::test]
async fn a_recursive_custom_action_is_refused_and_the_server_lives_on() {
    let app = TestApp::game();
    let config = json!({"config": {"actions": [
        {"id": "loop", "name": "Loop", "effects": [
            {"type": "action", "method": "perform", "params": {"id": "loop"}}
        ]}
    ]}});
    let state = app.create_session(ALICE, &config.to_string()).await;
    let id = session_id(&state);
    let before = app.to_main(ALICE, &id).await;
    let response = app.act(ALICE, &id, "loop", json!({})).await;
    assert_eq!(response.status, 409, "{}", response.text());
    assert_eq!(response.json()["code"], "TOO_DEEP");
    let after = app.snapshot(ALICE, &id).await;
    assert_eq!(after["version"], before["version"], "nothing was written");
    assert_eq!(after["snapshot"]["game"], before["snapshot"]["game"]);
}
