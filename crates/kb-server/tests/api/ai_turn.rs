//! `POST /sessions/:id/ai-turn`: the reference protocol by default (one
//! AI action per request, never an advance), the whole turn on request
//! (`mode: "turn"`).

use std::sync::Arc;

use axum::http::Method;
use kb_session::{ManagerOptions, SessionManager};
use kb_store::{MemoryStore, SessionStore};
use serde_json::{Value, json};

use crate::helpers::{
    ALICE, STEPS_TO_MAIN, TestApp, assert_same_json, resource, session_id, sorted_keys, version,
};

/// Advances from a fresh session to B's main phase of turn 1: A's turn
/// (growth, upkeep, main) and B's growth and upkeep.
const STEPS_TO_BS_MAIN: usize = 2 * STEPS_TO_MAIN + 1;

fn game(state: &Value) -> &Value {
    &state["snapshot"]["game"]
}

/// `(activePlayerId, currentPhase, turn)` of a state.
fn position(state: &Value) -> (String, String, u64) {
    let game = game(state);
    (
        game["activePlayerId"].as_str().unwrap().to_owned(),
        game["currentPhase"].as_str().unwrap().to_owned(),
        game["turn"].as_u64().unwrap(),
    )
}

fn at(player: &str, phase: &str, turn: u64) -> (String, String, u64) {
    (player.to_owned(), phase.to_owned(), turn)
}

/// A session at B's main phase of turn 1.
async fn at_bs_main(app: &TestApp) -> (String, Value) {
    let id = app.new_session(ALICE).await;
    let state = app.advance_times(ALICE, &id, STEPS_TO_BS_MAIN).await;
    assert_eq!(position(&state), at("B", "main", 1));
    (id, state)
}

#[tokio::test]
async fn one_request_is_at_most_one_action_and_never_an_advance() {
    let app = TestApp::game();
    let (id, before) = at_bs_main(&app).await;
    assert_eq!(resource(&before, "B", "ap"), 2.0);

    // B has 2 AP: two requests tax once each, and the AI wants to act again.
    let mut last = before.clone();
    for n in 1..=2u64 {
        let step = app.ai_turn(ALICE, &id, "B").await;
        assert_eq!(
            sorted_keys(&step),
            [
                "actions",
                "phaseComplete",
                "ranTurn",
                "registries",
                "sessionId",
                "snapshot",
                "version"
            ]
        );
        assert_eq!(step["ranTurn"], true);
        assert_eq!(step["phaseComplete"], false, "step {n}");
        let actions = step["actions"].as_array().unwrap();
        assert_eq!(actions.len(), 1, "step {n}: {actions:?}");
        assert_eq!(sorted_keys(&actions[0]), ["actionId", "costs", "traces"]);
        assert_eq!(actions[0]["actionId"], "tax");
        assert_eq!(actions[0]["costs"], json!({"ap": 1}));
        assert!(actions[0]["traces"].is_array());
        assert_eq!(position(&step), at("B", "main", 1), "never an advance");
        assert_eq!(version(&step), version(&before) + n, "one change each");
        assert_eq!(resource(&step, "B", "ap"), 2.0 - n as f64);
        assert_eq!(
            resource(&step, "B", "gold"),
            resource(&last, "B", "gold") + 4.0
        );
        last = step;
    }

    // No AP left: done, with no action and no change. Asking again gives
    // the same answer.
    for _ in 0..2 {
        let done = app.ai_turn(ALICE, &id, "B").await;
        assert_eq!(done["ranTurn"], true);
        assert_eq!(done["phaseComplete"], true);
        assert_eq!(done["actions"], json!([]));
        assert_eq!(version(&done), version(&last), "nothing written");
        assert_same_json(&done["snapshot"], &last["snapshot"], "unchanged");
    }

    // The client advances itself, out of B's main into A's next turn.
    let advanced = app.advance(ALICE, &id).await;
    assert_eq!(position(&advanced), at("A", "growth", 2));
}

#[tokio::test]
async fn outside_its_action_phase_the_ai_does_nothing() {
    let app = TestApp::game();
    let created = app.create_session(ALICE, "{}").await;
    let id = session_id(&created);
    // A's turn (growth, then main), then B's growth.
    for (steps, expected) in [
        (0, at("A", "growth", 1)),
        (STEPS_TO_MAIN, at("A", "main", 1)),
        (1, at("B", "growth", 1)),
    ] {
        let before = app.advance_times(ALICE, &id, steps).await;
        let before = if steps == 0 { created.clone() } else { before };
        assert_eq!(position(&before), expected);
        let step = app.ai_turn(ALICE, &id, "B").await;
        assert_eq!(step["ranTurn"], true, "{expected:?}");
        assert_eq!(step["phaseComplete"], false, "{expected:?}");
        assert_eq!(step["actions"], json!([]), "{expected:?}");
        assert_eq!(version(&step), version(&before), "{expected:?}");
        assert_same_json(&step["snapshot"], &before["snapshot"], "unchanged");
    }
}

#[tokio::test]
async fn the_log_records_the_move_the_ai_chose_and_replays_it() {
    let store = MemoryStore::new();
    let manager = SessionManager::new(ManagerOptions::new(Arc::new(store.reopen())));
    let app = TestApp::game_over(Arc::new(manager.expect("hydrates")));
    let (id, before) = at_bs_main(&app).await;
    let step = app.ai_turn(ALICE, &id, "B").await;
    assert_eq!(version(&step), version(&before) + 1);

    let log = store.load_log(&id).unwrap();
    let last: Value = serde_json::from_str(log.commands.last().unwrap()).unwrap();
    assert_eq!(
        last,
        json!({"type": "aiAction", "playerId": "B", "actionId": "tax"})
    );

    // A new server over the same store plays the log back to the same game.
    drop(app);
    let manager = SessionManager::new(ManagerOptions::new(Arc::new(store.reopen())));
    let app = TestApp::game_over(Arc::new(manager.expect("hydrates")));
    let restored = app.snapshot(ALICE, &id).await;
    assert_eq!(version(&restored), version(&step));
    assert_same_json(&restored["snapshot"], &step["snapshot"], "restored");
}

#[tokio::test]
async fn step_by_step_and_whole_turn_play_the_same_turn() {
    let app = TestApp::game();
    let (stepped, _) = at_bs_main(&app).await;
    let (whole, _) = at_bs_main(&app).await;

    // The reference client's loop: steps until done, then advance until
    // the next player's turn.
    let mut state = app.ai_turn(ALICE, &stepped, "B").await;
    while state["phaseComplete"] == false {
        state = app.ai_turn(ALICE, &stepped, "B").await;
    }
    while game(&state)["activePlayerId"] == "B" {
        state = app.advance(ALICE, &stepped).await;
    }
    let turn = app.ai_whole_turn(ALICE, &whole, "B").await;
    assert_eq!(turn["ranTurn"], true);
    assert_eq!(turn["phaseComplete"], true);
    assert_eq!(position(&turn), at("A", "growth", 2));
    assert_same_json(
        &state["snapshot"]["game"],
        &turn["snapshot"]["game"],
        "the same game",
    );
}

#[tokio::test]
async fn the_whole_turn_is_asked_for_and_is_one_change() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    // B's growth: the whole turn runs its remaining steps too.
    let before = app.advance_times(ALICE, &id, STEPS_TO_MAIN + 1).await;
    assert_eq!(position(&before), at("B", "growth", 1));
    let turn = app.ai_whole_turn(ALICE, &id, "B").await;
    assert_eq!(turn["ranTurn"], true);
    assert_eq!(turn["phaseComplete"], true);
    assert_eq!(
        turn["actions"],
        json!([
            {"actionId": "tax", "costs": {"ap": 1}, "traces": []},
            {"actionId": "tax", "costs": {"ap": 1}, "traces": []},
        ])
    );
    assert_eq!(version(&turn), version(&before) + 1);
    assert_eq!(position(&turn), at("A", "growth", 2));
    // Not B's turn now: the whole-turn mode says so and changes nothing.
    let idle = app.ai_whole_turn(ALICE, &id, "B").await;
    assert_eq!(idle["ranTurn"], false);
    assert_eq!(idle["phaseComplete"], false);
    assert_eq!(version(&idle), version(&turn));
}

#[tokio::test]
async fn refusals_change_nothing() {
    let app = TestApp::game();
    let (id, before) = at_bs_main(&app).await;
    let path = format!("/sessions/{id}/ai-turn");
    let refused =
        |body: &'static str, status: u16, extra: &'static [(&'static str, &'static str)]| {
            let app = &app;
            let path = path.clone();
            async move {
                let response = app
                    .call_with(Method::POST, &path, Some(ALICE), Some(body), extra)
                    .await;
                response.envelope(status).message
            }
        };
    for mode in ["step", "turn"] {
        let body: &'static str = if mode == "step" {
            r#"{"playerId": "A"}"#
        } else {
            r#"{"playerId": "A", "mode": "turn"}"#
        };
        assert_eq!(
            refused(body, 409, &[]).await,
            "No AI controller is available for player \"A\".",
            "{mode}"
        );
    }
    for body in [
        r#"{"playerId": "B", "mode": "all"}"#,
        r#"{"playerId": "B", "mode": 1}"#,
        r#"{"mode": "turn"}"#,
    ] {
        assert_eq!(refused(body, 400, &[]).await, "Invalid AI turn request.");
    }
    // A stale If-Match is refused; the current one is honoured.
    let message = refused(r#"{"playerId": "B"}"#, 409, &[("if-match", "\"3\"")]).await;
    assert!(message.contains("not 3"), "{message}");
    assert_eq!(version(&app.snapshot(ALICE, &id).await), version(&before));
    let current = format!("\"{}\"", version(&before));
    let response = app
        .call_with(
            Method::POST,
            &path,
            Some(ALICE),
            Some(r#"{"playerId": "B"}"#),
            &[("if-match", &current)],
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(version(&response.json()), version(&before) + 1);
}

#[tokio::test]
async fn a_concluded_game_is_refused() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    // Both players only tax: B cannot pay upkeep first and goes bankrupt.
    let mut state = app.snapshot(ALICE, &id).await;
    for _ in 0..1000 {
        if !game(&state)["conclusion"].is_null() {
            break;
        }
        let (player, phase, _) = position(&state);
        state = match (player.as_str(), phase.as_str()) {
            ("B", "main") => {
                let step = app.ai_turn(ALICE, &id, "B").await;
                if step["phaseComplete"] == true {
                    app.advance(ALICE, &id).await
                } else {
                    step
                }
            }
            ("A", "main") if resource(&state, "A", "ap") > 0.0 => {
                let response = app.act(ALICE, &id, "tax", json!({})).await;
                assert_eq!(response.status, 200, "{}", response.text());
                response.json()
            }
            _ => app.advance(ALICE, &id).await,
        };
    }
    let conclusion = &game(&state)["conclusion"];
    assert!(conclusion.is_object(), "the game ends");
    for body in [
        r#"{"playerId": "B"}"#,
        r#"{"playerId": "B", "mode": "turn"}"#,
    ] {
        let response = app
            .call(
                Method::POST,
                &format!("/sessions/{id}/ai-turn"),
                Some(ALICE),
                Some(body),
            )
            .await;
        let envelope = response.envelope(409);
        assert_eq!(envelope.message, "Game already concluded", "{body}");
    }
    assert_eq!(version(&app.snapshot(ALICE, &id).await), version(&state));
}

/// Clients racing on the same AI phase: every step is decided on the game
/// it is committed to, so the AI acts exactly as often as its AP allow.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_steps_never_act_twice_for_one_move() {
    let app = Arc::new(TestApp::game());
    for _ in 0..8 {
        let (id, before) = at_bs_main(&app).await;
        let ap = resource(&before, "B", "ap");
        let steps: Vec<_> = (0..32)
            .map(|_| {
                let (app, id) = (app.clone(), id.clone());
                tokio::spawn(async move { app.ai_turn(ALICE, &id, "B").await })
            })
            .collect();
        let mut acted = 0;
        for step in steps {
            acted += step.await.unwrap()["actions"].as_array().unwrap().len();
        }
        assert_eq!(acted as f64, ap);
        let after = app.snapshot(ALICE, &id).await;
        assert_eq!(version(&after), version(&before) + ap as u64);
        assert_eq!(resource(&after, "B", "ap"), 0.0);
    }
}
