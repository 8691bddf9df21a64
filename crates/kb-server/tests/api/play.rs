//! The other mutations: dev mode and player names (the AI's route is
//! `ai_turn.rs`).

use axum::http::Method;
use serde_json::json;

use crate::helpers::{ALICE, TestApp, player, session_id, version};

#[tokio::test]
async fn dev_mode_flips_the_flag_only() {
    let app = TestApp::game();
    let created = app.create_session(ALICE, "{}").await;
    let id = session_id(&created);
    let path = format!("/sessions/{id}/dev-mode");
    let on = app
        .call(
            Method::POST,
            &path,
            Some(ALICE),
            Some(r#"{"enabled": true}"#),
        )
        .await;
    assert_eq!(on.status, 200, "{}", on.text());
    let on = on.json();
    assert_eq!(on["snapshot"]["game"]["devMode"], true);
    assert_eq!(version(&on), 2);
    // Not re-seeded with the dev overlay.
    assert_eq!(
        player(&on, "A")["resources"],
        player(&created, "A")["resources"]
    );
    assert!(on["registries"].is_object());
    let off = app
        .call(
            Method::POST,
            &path,
            Some(ALICE),
            Some(r#"{"enabled": false}"#),
        )
        .await
        .json();
    assert_eq!(off["snapshot"]["game"]["devMode"], false);
    assert_eq!(version(&off), 3);
    for body in [
        Some("{}"),
        Some(r#"{"enabled": "true"}"#),
        Some(r#"{"enabled": 1}"#),
        None,
    ] {
        let envelope = app
            .call(Method::POST, &path, Some(ALICE), body)
            .await
            .envelope(400);
        assert_eq!(
            envelope.message, "Invalid session dev mode request.",
            "{body:?}"
        );
    }
}

#[tokio::test]
async fn player_names_are_trimmed_and_validated() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let path = format!("/sessions/{id}/player");
    let response = app
        .call(
            Method::PATCH,
            &path,
            Some(ALICE),
            Some(r#"{"playerId": "A", "playerName": "  Captain  "}"#),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let state = response.json();
    assert_eq!(player(&state, "A")["name"], "Captain");
    assert_eq!(player(&state, "B")["name"], "Opponent");
    assert_eq!(version(&state), 2);

    let cases = [
        (
            json!({"playerId": "B", "playerName": "   "}),
            "Player names must include visible characters.",
        ),
        (
            json!({"playerId": "B", "playerName": "x".repeat(41)}),
            "Player names must be 40 characters or fewer.",
        ),
        (
            json!({"playerId": "B", "playerName": ""}),
            "Invalid player name update request.",
        ),
        (
            json!({"playerId": "C", "playerName": "Cee"}),
            "Invalid player name update request.",
        ),
        (
            json!({"playerName": "Cee"}),
            "Invalid player name update request.",
        ),
    ];
    for (body, message) in cases {
        let envelope = app
            .call(Method::PATCH, &path, Some(ALICE), Some(&body.to_string()))
            .await
            .envelope(400);
        assert_eq!(envelope.message, message, "{body}");
    }
    // 40 is the limit, and B can be renamed too.
    let forty = "y".repeat(40);
    let body = json!({"playerId": "B", "playerName": forty}).to_string();
    let state = app
        .call(Method::PATCH, &path, Some(ALICE), Some(&body))
        .await
        .json();
    assert_eq!(player(&state, "B")["name"], forty.as_str());
    assert_eq!(version(&state), 3);
}
