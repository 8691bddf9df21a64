//! The session lifecycle over HTTP: create, snapshot, advance, delete and
//! list, with `version`, `ETag` and `If-Match`.

use axum::body::Body;
use axum::http::Method;
use kb_protocol::ErrorCode;
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN, ALICE, BOB, CREATOR, SESSION_ROUTES, STEPS_TO_MAIN, TestApp, TestResponse, player,
    request, resource, session_id, sorted_keys, version,
};

fn etag(response: &TestResponse) -> Option<String> {
    response
        .headers
        .get("etag")
        .map(|value| value.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn create_answers_201_with_the_first_state_at_version_1() {
    let app = TestApp::game();
    let response = app
        .call(Method::POST, "/sessions", Some(ALICE), Some("{}"))
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    assert_eq!(etag(&response).as_deref(), Some("\"1\""));
    let state = response.json();
    assert_eq!(
        sorted_keys(&state),
        ["registries", "sessionId", "snapshot", "version"]
    );
    assert_eq!(version(&state), 1);
    let id = session_id(&state);
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(id.matches('-').count(), 4, "a UUID: {id}");

    let game = &state["snapshot"]["game"];
    assert_eq!(game["turn"], 1);
    assert_eq!(game["currentPhase"], "growth");
    assert_eq!(game["currentStep"], "resolve-dynamic-triggers");
    assert_eq!(game["activePlayerId"], "A");
    assert_eq!(game["opponentId"], "B");
    assert_eq!(game["devMode"], false);
    assert_eq!(player(&state, "A")["name"], "Player");
    assert_eq!(player(&state, "A")["aiControlled"], false);
    assert_eq!(player(&state, "B")["name"], "Opponent");
    assert_eq!(player(&state, "B")["aiControlled"], true);
    assert_eq!(
        player(&state, "A")["resources"],
        json!({"gold": 10, "ap": 0, "happiness": 0, "castleHP": 10, "turnsPlayed": 0})
    );
    assert_eq!(resource(&state, "B", "ap"), 1.0);
    assert_eq!(
        sorted_keys(&state["snapshot"]),
        [
            "actionCostResource",
            "compensations",
            "game",
            "metadata",
            "passiveRecords",
            "phases",
            "recentResourceGains",
            "rules",
        ]
    );
    assert_eq!(state["snapshot"]["actionCostResource"], "ap");
    let metadata = &state["snapshot"]["metadata"];
    assert!(metadata["passiveEvaluationModifiers"].is_object());
    assert!(metadata["assets"]["upkeep"]["icon"].is_string());
    assert!(metadata["assets"]["transfer"]["icon"].is_string());
    assert_eq!(
        sorted_keys(&state["registries"]),
        [
            "actionCategories",
            "actions",
            "buildings",
            "developments",
            "populations",
            "resources",
        ]
    );
    assert_eq!(state["registries"]["actions"]["tax"]["id"], "tax");
}

#[tokio::test]
async fn create_in_dev_mode_starts_with_the_dev_overlay() {
    let app = TestApp::game();
    let state = app.create_session(ALICE, r#"{"devMode": true}"#).await;
    assert_eq!(state["snapshot"]["game"]["devMode"], true);
    assert_eq!(resource(&state, "A", "gold"), 100.0);
    assert_eq!(resource(&state, "A", "happiness"), 10.0);
    assert_eq!(resource(&state, "B", "castleHP"), 1.0);
    assert_eq!(player(&state, "A")["population"]["legion"], 1);
}

#[tokio::test]
async fn create_applies_trimmed_player_names_and_skips_blank_and_unknown_ones() {
    let app = TestApp::game();
    let state = app
        .create_session(
            ALICE,
            r#"{"playerNames": {"A": "  Alpha ", "B": "   ", "Z": "Zed"}}"#,
        )
        .await;
    assert_eq!(player(&state, "A")["name"], "Alpha");
    assert_eq!(player(&state, "B")["name"], "Opponent");
    let state = app
        .create_session(ALICE, r#"{"playerNames": {"A": "Alpha", "B": "Beta"}}"#)
        .await;
    assert_eq!(player(&state, "A")["name"], "Alpha");
    assert_eq!(player(&state, "B")["name"], "Beta");
    // Names survive in later reads.
    let read = app.snapshot(ALICE, &session_id(&state)).await;
    assert_eq!(player(&read, "B")["name"], "Beta");
}

#[tokio::test]
async fn player_names_are_limited_to_40_utf16_units_before_anything_is_created() {
    let app = TestApp::game();
    // 20 emoji are 40 UTF-16 units (the reference counts units).
    let forty = "\u{1F600}".repeat(20);
    let state = app
        .create_session(ALICE, &json!({"playerNames": {"A": forty}}).to_string())
        .await;
    assert_eq!(player(&state, "A")["name"], forty.as_str());
    for long in ["x".repeat(41), "\u{1F600}".repeat(21)] {
        let body = json!({"playerNames": {"B": long}}).to_string();
        let envelope = app
            .call(Method::POST, "/sessions", Some(ALICE), Some(&body))
            .await
            .envelope(400);
        assert_eq!(envelope.code, ErrorCode::InvalidRequest);
        assert_eq!(
            envelope.message,
            "Player names must be 40 characters or fewer."
        );
    }
    assert_eq!(app.state.manager().session_count(), 1, "nothing created");
}

#[tokio::test]
async fn create_rejects_malformed_bodies_with_the_reference_literal() {
    let app = TestApp::game();
    for body in [
        r#"{"devMode": "yes"}"#,
        r#"{"playerNames": {"A": ""}}"#,
        r#"{"playerNames": ["Ann"]}"#,
        r#"{"config": 5}"#,
        r#"{"config": {"phases": 3}}"#,
        "null",
        "{",
    ] {
        let envelope = app
            .call(Method::POST, "/sessions", Some(ALICE), Some(body))
            .await
            .envelope(400);
        assert_eq!(
            envelope.message, "Invalid session create request.",
            "{body}"
        );
        assert!(!envelope.issues.unwrap_or_default().is_empty(), "{body}");
    }
    // No body at all: clients must send `{}`, as for the reference.
    let envelope = app
        .call(Method::POST, "/sessions", Some(ALICE), None)
        .await
        .envelope(400);
    assert_eq!(envelope.message, "Invalid session create request.");
    assert_eq!(app.state.manager().session_count(), 0);
}

#[tokio::test]
async fn a_config_the_engine_refuses_is_400_not_409() {
    // Deliberate difference: the reference answered 409 "Failed to create
    // session." for every creation failure; an invalid config is the
    // client's mistake, so it is a 400 that says what is wrong.
    let app = TestApp::game();
    let body = r#"{"config": {"phases": [{"id": "p", "steps": []}]}}"#;
    let envelope = app
        .call(Method::POST, "/sessions", Some(ALICE), Some(body))
        .await
        .envelope(400);
    assert_eq!(envelope.message, "Invalid session create request.");
    let issues = envelope.issues.unwrap();
    assert!(
        issues[0].message.contains("at least one step"),
        "{issues:?}"
    );
}

#[tokio::test]
async fn a_mistyped_config_field_is_named_by_its_path() {
    let app = TestApp::game();
    let body = r#"{"config": {"start": {"player": {"resources": {"gold": "x"}}}}}"#;
    let envelope = app
        .call(Method::POST, "/sessions", Some(ALICE), Some(body))
        .await
        .envelope(400);
    let issues = envelope.issues.unwrap();
    assert!(
        issues[0]
            .message
            .starts_with("config.start.player.resources.gold: invalid type"),
        "{issues:?}"
    );
    // Not an object: serde alone would read a list as the fields in order.
    for config in ["7", "[]", "[null, null]", "\"x\"", "true"] {
        let envelope = app
            .call(
                Method::POST,
                "/sessions",
                Some(ALICE),
                Some(&format!(r#"{{"config": {config}}}"#)),
            )
            .await
            .envelope(400);
        assert!(
            envelope.issues.unwrap()[0].message.starts_with("config: "),
            "the config itself: {config}"
        );
    }
    let listed = app.call(Method::GET, "/sessions", Some(ADMIN), None).await;
    assert_eq!(listed.json()["sessions"], json!([]), "nothing created");
}

#[tokio::test]
async fn snapshot_reads_the_state_without_changing_its_version() {
    let app = TestApp::game();
    let created = app.create_session(ALICE, "{}").await;
    let id = session_id(&created);
    for _ in 0..3 {
        let response = app
            .call(
                Method::GET,
                &format!("/sessions/{id}/snapshot"),
                Some(ALICE),
                None,
            )
            .await;
        assert_eq!(response.status, 200);
        assert_eq!(etag(&response).as_deref(), Some("\"1\""));
        assert_eq!(response.json(), created);
    }
}

#[tokio::test]
async fn seven_advances_reach_a_main_phase_with_10_gold_and_1_ap() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let first = app.advance(ALICE, &id).await;
    assert_eq!(
        sorted_keys(&first),
        ["advance", "registries", "sessionId", "snapshot", "version"]
    );
    assert_eq!(version(&first), 2);
    let advance = &first["advance"];
    assert_eq!(advance["phase"], "growth");
    assert_eq!(advance["step"], "resolve-dynamic-triggers");
    assert!(advance["effects"].is_array());
    assert_eq!(advance["player"]["id"], "A");
    assert_eq!(first["snapshot"]["game"]["currentStep"], "gain-income");

    // Gain Income: the farm's 2 gold; Gain AP: 1 per council member.
    let income = app.advance(ALICE, &id).await;
    assert_eq!(income["advance"]["step"], "gain-income");
    assert_eq!(resource(&income, "A", "gold"), 12.0);
    let state = app.advance_times(ALICE, &id, STEPS_TO_MAIN - 2).await;
    assert_eq!(version(&state), 8);
    let game = &state["snapshot"]["game"];
    assert_eq!(game["currentPhase"], "main");
    assert_eq!(game["turn"], 1);
    assert_eq!(resource(&state, "A", "gold"), 10.0, "upkeep paid 2");
    assert_eq!(resource(&state, "A", "ap"), 1.0);
    // One more ends A's turn: B's growth.
    let state = app.advance(ALICE, &id).await;
    assert_eq!(state["snapshot"]["game"]["activePlayerId"], "B");
    assert_eq!(state["snapshot"]["game"]["currentPhase"], "growth");
}

#[tokio::test]
async fn advance_ignores_its_body() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let path = format!("/sessions/{id}/advance");
    for (body, content_type) in [
        ("{\"sessionId\": \"other\"}", "application/json"),
        ("not json", "text/plain"),
        ("{", "application/json"),
    ] {
        let headers = [
            ("authorization", "Bearer alice-token"),
            ("content-type", content_type),
        ];
        let response = app
            .send(request(Method::POST, &path, &headers, Body::from(body)))
            .await;
        assert_eq!(response.status, 200, "{body}: {}", response.text());
    }
    assert_eq!(version(&app.snapshot(ALICE, &id).await), 4);
}

#[tokio::test]
async fn every_state_response_carries_its_version_as_etag() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let mut states = 0;
    let mut last = 1;
    for route in SESSION_ROUTES {
        let response = app.call_route(&route, &id, ALICE).await;
        if !response.status.is_success() {
            continue;
        }
        let body = response.json();
        match body.get("version").and_then(Value::as_u64) {
            Some(found) => {
                states += 1;
                assert_eq!(
                    etag(&response),
                    Some(format!("\"{found}\"")),
                    "{}",
                    route.path
                );
                assert!(found >= last, "{}: {found} after {last}", route.path);
                last = found;
            }
            None => assert_eq!(etag(&response), None, "{}", route.path),
        }
    }
    // snapshot, advance, ai-turn (not B's turn: nothing to do), forecast
    // (a read, of one version), proceed, dev-mode and player answer
    // states; the queries and delete do not.
    assert_eq!(states, 7);
    // advance, dev-mode and player each moved it by one; proceed by the
    // six steps from there to A's main phase.
    assert_eq!(last, 10);
}

/// Mutating routes, each with a request that succeeds when they are sent
/// in this order to a session at A's main phase (the advance ends A's
/// turn, so the AI then plays B's whole turn).
fn writes(id: &str) -> Vec<(Method, String, Option<String>)> {
    vec![
        (
            Method::POST,
            format!("/sessions/{id}/actions"),
            Some(r#"{"actionId": "tax"}"#.to_owned()),
        ),
        (
            Method::POST,
            format!("/sessions/{id}/dev-mode"),
            Some(r#"{"enabled": true}"#.to_owned()),
        ),
        (
            Method::PATCH,
            format!("/sessions/{id}/player"),
            Some(r#"{"playerId": "B", "playerName": "Bea"}"#.to_owned()),
        ),
        (Method::POST, format!("/sessions/{id}/advance"), None),
        (
            Method::POST,
            format!("/sessions/{id}/ai-turn"),
            Some(r#"{"playerId": "B", "mode": "turn"}"#.to_owned()),
        ),
    ]
}

#[tokio::test]
async fn if_match_with_the_current_version_writes_and_a_stale_one_is_409() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let mut current = version(&app.to_main(ALICE, &id).await);
    for (method, path, body) in writes(&id) {
        // Stale: nothing changes.
        let stale = format!("\"{}\"", current - 1);
        let response = app
            .call_with(
                method.clone(),
                &path,
                Some(ALICE),
                body.as_deref(),
                &[("if-match", &stale)],
            )
            .await;
        assert_eq!(response.status, 409, "{path}: {}", response.text());
        let message = format!(
            "Session \"{id}\" is at version {current}, not {}.",
            current - 1
        );
        if path.ends_with("/actions") {
            assert_eq!(
                response.json(),
                json!({"status": "error", "error": message, "code": "CONFLICT"})
            );
        } else {
            let envelope = response.envelope(409);
            assert_eq!(envelope.code, ErrorCode::Conflict);
            assert_eq!(envelope.message, message);
        }
        assert_eq!(version(&app.snapshot(ALICE, &id).await), current, "{path}");

        // Current (strong, weak or `*`): applied.
        let tags = [
            format!("\"{current}\""),
            format!("W/\"{current}\""),
            "*".to_owned(),
        ];
        let tag = &tags[current as usize % tags.len()];
        let response = app
            .call_with(
                method,
                &path,
                Some(ALICE),
                body.as_deref(),
                &[("if-match", tag)],
            )
            .await;
        assert_eq!(response.status, 200, "{path} {tag}: {}", response.text());
        let next = version(&response.json());
        assert!(next > current, "{path}: {next} after {current}");
        current = next;
    }
}

#[tokio::test]
async fn a_malformed_if_match_is_400_and_changes_nothing() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    app.to_main(ALICE, &id).await;
    for (method, path, body) in writes(&id) {
        for tag in ["abc", "\"\"", "\"-1\"", "1.5"] {
            let response = app
                .call_with(
                    method.clone(),
                    &path,
                    Some(ALICE),
                    body.as_deref(),
                    &[("if-match", tag)],
                )
                .await;
            let message = "If-Match must be a session version, as sent in ETag.";
            if path.ends_with("/actions") {
                // The action route answers its own errors in its own body.
                assert_eq!(response.status, 400, "{tag}: {}", response.text());
                assert_eq!(
                    response.json(),
                    json!({"status": "error", "error": message, "code": "INVALID_REQUEST"})
                );
            } else {
                let envelope = response.envelope(400);
                assert_eq!(envelope.code, ErrorCode::InvalidRequest);
                assert_eq!(envelope.message, message, "{path} {tag}");
            }
        }
    }
    assert_eq!(version(&app.snapshot(ALICE, &id).await), 8);
}

#[tokio::test]
async fn delete_removes_the_session_from_every_route() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let other = app.new_session(ALICE).await;
    let response = app
        .call(
            Method::DELETE,
            &format!("/sessions/{id}"),
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json(), json!({"sessionId": id, "deleted": true}));
    let missing = format!("Session \"{id}\" was not found.");
    for route in SESSION_ROUTES {
        let response = app.call_route(&route, &id, ALICE).await;
        if route.is_action_route() {
            assert_eq!(response.status, 404);
            assert_eq!(
                response.json(),
                json!({"status": "error", "error": missing, "code": "NOT_FOUND"})
            );
        } else {
            let envelope = response.envelope(404);
            assert_eq!(envelope.code, ErrorCode::NotFound, "{}", route.path);
            assert_eq!(envelope.message, missing, "{}", route.path);
        }
    }
    // The other session is untouched.
    assert_eq!(version(&app.snapshot(ALICE, &other).await), 1);
    assert_eq!(app.state.manager().session_count(), 1);
}

#[tokio::test]
async fn delete_honours_if_match_like_the_other_writes() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    app.advance(ALICE, &id).await;
    let path = format!("/sessions/{id}");
    let envelope = app
        .call_with(
            Method::DELETE,
            &path,
            Some(ALICE),
            None,
            &[("if-match", "\"1\"")],
        )
        .await
        .envelope(409);
    assert_eq!(
        envelope.message,
        format!("Session \"{id}\" is at version 2, not 1.")
    );
    let envelope = app
        .call_with(
            Method::DELETE,
            &path,
            Some(ALICE),
            None,
            &[("if-match", "two")],
        )
        .await
        .envelope(400);
    assert_eq!(envelope.code, ErrorCode::InvalidRequest);
    assert_eq!(version(&app.snapshot(ALICE, &id).await), 2, "still there");
    let response = app
        .call_with(
            Method::DELETE,
            &path,
            Some(ALICE),
            None,
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(app.state.manager().session_count(), 0);
}

#[tokio::test]
async fn sessions_are_listed_for_admins_only() {
    let app = TestApp::game();
    let alices = app.new_session(ALICE).await;
    let bobs = app.new_session(BOB).await;
    app.advance(BOB, &bobs).await;
    app.call(
        Method::POST,
        &format!("/sessions/{bobs}/dev-mode"),
        Some(BOB),
        Some(r#"{"enabled": true}"#),
    )
    .await;

    for token in [ALICE, CREATOR] {
        let envelope = app
            .call(Method::GET, "/sessions", Some(token), None)
            .await
            .envelope(403);
        assert_eq!(envelope.message, "Missing required role \"admin\".");
    }
    let envelope = app
        .call(Method::GET, "/sessions", None, None)
        .await
        .envelope(401);
    assert_eq!(envelope.code, ErrorCode::Unauthorized);

    let listing = app
        .call(Method::GET, "/api/sessions", Some(ADMIN), None)
        .await;
    assert_eq!(listing.status, 200);
    let listing = listing.json();
    let sessions = listing["sessions"].as_array().unwrap();
    let mut expected = vec![(alices.clone(), "alice", 1, false), (bobs, "bob", 3, true)];
    expected.sort();
    let found: Vec<(String, &str, u64, bool)> = sessions
        .iter()
        .map(|s| {
            assert_eq!(
                sorted_keys(s),
                [
                    "createdAt",
                    "devMode",
                    "lastAccessedAt",
                    "owner",
                    "sessionId",
                    "version"
                ]
            );
            assert!(s["createdAt"].as_i64().unwrap() > 0);
            assert!(s["lastAccessedAt"].as_i64() >= s["createdAt"].as_i64());
            (
                s["sessionId"].as_str().unwrap().to_owned(),
                s["owner"].as_str().unwrap(),
                s["version"].as_u64().unwrap(),
                s["devMode"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(found, expected);

    app.call(
        Method::DELETE,
        &format!("/sessions/{alices}"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(app.session_count().await, 1);
}

#[tokio::test]
async fn every_session_route_is_served_under_api_too() {
    let app = TestApp::game();
    for route in SESSION_ROUTES {
        // A fresh pair of sessions, so that both calls see the same state.
        let first = app.new_session(ALICE).await;
        let second = app.new_session(ALICE).await;
        let root = app.call_route(&route, &first, ALICE).await;
        let prefixed = app
            .call(
                route.method.clone(),
                &format!("/api{}", route.path_for(&second)),
                Some(ALICE),
                route.body,
            )
            .await;
        assert_eq!(root.status, prefixed.status, "{}", route.path);
        // The bodies differ by the session id only.
        assert_eq!(
            root.text().replace(&first, "ID"),
            prefixed.text().replace(&second, "ID"),
            "{}",
            route.path
        );
    }
    let created = app
        .call(Method::POST, "/api/sessions", Some(ALICE), Some("{}"))
        .await;
    assert_eq!(created.status, 201);
}

#[tokio::test]
async fn a_session_route_with_another_method_is_405_naming_the_allowed_one() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    for route in SESSION_ROUTES {
        let path = route.path_for(&id);
        let response = app.call(Method::PUT, &path, Some(ALICE), Some("{}")).await;
        let allow = response
            .headers
            .get("allow")
            .map(|value| value.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let envelope = response.envelope(405);
        assert_eq!(envelope.code, ErrorCode::MethodNotAllowed, "{path}");
        assert!(allow.contains(route.method.as_str()), "{path}: {allow}");
    }
    assert_eq!(version(&app.snapshot(ALICE, &id).await), 1);
}

/// PRODUCT.md: the built-in AI can play either seat (B by default).
#[tokio::test]
async fn the_ai_can_be_given_seat_a_and_humans_cannot_act_for_it() {
    let app = TestApp::game();
    let state = app.create_session(ALICE, r#"{"aiPlayers": ["A"]}"#).await;
    let players = &state["snapshot"]["game"]["players"];
    assert_eq!(players[0]["aiControlled"], true);
    assert_eq!(players[1]["aiControlled"], false);
    let id = session_id(&state);
    app.to_main(ALICE, &id).await;
    let refused = app.act(ALICE, &id, "tax", json!({})).await;
    assert_eq!(refused.status, 409, "{}", refused.text());
    assert_eq!(refused.json()["code"], "AI_CONTROLLED");
    let turn = app.ai_whole_turn(ALICE, &id, "A").await;
    assert_eq!(turn["ranTurn"], true);
    assert_eq!(turn["snapshot"]["game"]["activePlayerId"], "B");
    // One step at a time too, as the reference protocol.
    let id = session_id(&app.create_session(ALICE, r#"{"aiPlayers": ["A"]}"#).await);
    app.to_main(ALICE, &id).await;
    let step = app.ai_turn(ALICE, &id, "A").await;
    assert_eq!(step["actions"][0]["actionId"], "tax");
    assert_eq!(step["snapshot"]["game"]["activePlayerId"], "A");

    let bad = app
        .call(
            Method::POST,
            "/sessions",
            Some(ALICE),
            Some(r#"{"aiPlayers": ["C"]}"#),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text());
}
