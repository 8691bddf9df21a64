//! The other mutations: the AI turn, dev mode and player names.

use axum::http::Method;
use serde_json::json;

use crate::helpers::{
    ALICE, STEPS_TO_MAIN, TestApp, player, resource, session_id, sorted_keys, version,
};

#[tokio::test]
async fn the_ai_plays_bs_whole_turn_and_returns_its_actions() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    // A's turn, then one more advance ends it: B's growth.
    let before = app.advance_times(ALICE, &id, STEPS_TO_MAIN + 1).await;
    assert_eq!(before["snapshot"]["game"]["activePlayerId"], "B");
    let response = app
        .call(
            Method::POST,
            &format!("/sessions/{id}/ai-turn"),
            Some(ALICE),
            Some(r#"{"playerId": "B"}"#),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let turn = response.json();
    assert_eq!(
        sorted_keys(&turn),
        [
            "actions",
            "phaseComplete",
            "ranTurn",
            "registries",
            "sessionId",
            "snapshot",
            "version",
        ]
    );
    assert_eq!(turn["ranTurn"], true);
    assert_eq!(turn["phaseComplete"], true);
    assert_eq!(
        turn["actions"],
        json!([
            {"actionId": "tax", "costs": {"ap": 1}, "traces": []},
            {"actionId": "tax", "costs": {"ap": 1}, "traces": []},
        ])
    );
    // The whole turn is one change.
    assert_eq!(version(&turn), version(&before) + 1);
    let game = &turn["snapshot"]["game"];
    assert_eq!(game["turn"], 2);
    assert_eq!(game["activePlayerId"], "A");
    assert_eq!(game["currentPhase"], "growth");
    // B: +2 income, -2 upkeep, two taxes of 4 gold and -1 happiness each.
    assert_eq!(resource(&turn, "B", "gold"), 18.0);
    assert_eq!(resource(&turn, "B", "ap"), 0.0);
    assert_eq!(resource(&turn, "B", "happiness"), -2.0);
}

#[tokio::test]
async fn an_ai_turn_out_of_turn_does_nothing() {
    let app = TestApp::game();
    let created = app.create_session(ALICE, "{}").await;
    let id = session_id(&created);
    let turn = app.ai_turn(ALICE, &id, "B").await;
    assert_eq!(turn["ranTurn"], false);
    assert_eq!(turn["phaseComplete"], false);
    assert_eq!(turn["actions"], json!([]));
    assert_eq!(version(&turn), 1, "nothing was written");
    assert_eq!(turn["snapshot"], created["snapshot"]);
}

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
