//! `GET /sessions/:id/forecast` and `POST /sessions/:id/proceed`, black
//! box: what the forecast promises is what the game then does, the
//! bankruptcy warning comes before the click that causes it, `proceed`
//! reaches exactly the state the classic routes reach, bad input is a 4xx
//! envelope, and the forecast never writes.

use std::sync::Arc;

use axum::http::Method;
use kb_protocol::ErrorCode;
use kb_store::SessionStore;
use serde_json::{Value, json};

use crate::helpers::{
    ALICE, STEPS_TO_MAIN, TestApp, TestResponse, assert_same_json, player, resource, session_id,
    version,
};

async fn forecast(app: &TestApp, id: &str) -> Value {
    let response = app
        .call(
            Method::GET,
            &format!("/sessions/{id}/forecast"),
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

async fn proceed(app: &TestApp, id: &str, extra: &[(&str, &str)]) -> TestResponse {
    app.call_with(
        Method::POST,
        &format!("/sessions/{id}/proceed"),
        Some(ALICE),
        None,
        extra,
    )
    .await
}

async fn proceed_ok(app: &TestApp, id: &str) -> Value {
    let response = proceed(app, id, &[]).await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

/// The candidates of an action in a forecast.
fn candidates<'a>(forecast: &'a Value, action: &str) -> &'a Vec<Value> {
    forecast["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["actionId"] == action)
        .unwrap_or_else(|| panic!("no {action} in {forecast}"))["candidates"]
        .as_array()
        .unwrap()
}

/// `after - before` for the numeric maps of a seat (non-zero only).
fn changes(before: &Value, after: &Value) -> Value {
    let mut out = serde_json::Map::new();
    let b = before.as_object().unwrap();
    for (key, value) in after.as_object().unwrap() {
        let diff = value.as_f64().unwrap() - b.get(key).and_then(Value::as_f64).unwrap_or(0.0);
        if diff.abs() > 1e-9 {
            out.insert(key.clone(), json!(diff));
        }
    }
    Value::Object(out)
}

fn as_floats(map: &Value) -> Value {
    let object = map.as_object().cloned().unwrap_or_default();
    Value::Object(
        object
            .into_iter()
            .map(|(k, v)| (k, json!(v.as_f64().unwrap())))
            .collect(),
    )
}

/// Every candidate the forecast calls possible is performed, on its own
/// copy of the game, and changes exactly what the forecast said; every one
/// it refuses, the action route refuses too.
#[tokio::test]
async fn each_candidate_changes_what_the_forecast_says_it_will() {
    let app = TestApp::game();
    let template = app.new_session(ALICE).await;
    let start = proceed_ok(&app, &template).await;
    assert_eq!(start["stopped"], "decision");
    let promised = &start["forecast"];
    assert_eq!(promised["actionPhase"], true);
    let mut performed = 0;
    let mut refused = 0;
    for action in promised["actions"].as_array().unwrap() {
        for candidate in action["candidates"].as_array().unwrap() {
            let id = app.new_session(ALICE).await;
            let before = app.to_main(ALICE, &id).await;
            let response = app
                .act(
                    ALICE,
                    &id,
                    action["actionId"].as_str().unwrap(),
                    candidate["params"].clone(),
                )
                .await;
            let context = format!("{} {}", action["actionId"], candidate["params"]);
            if candidate["ok"] == false {
                assert_eq!(response.status, 409, "{context}: {}", response.text());
                assert_eq!(
                    response.json()["code"],
                    candidate["error"]["code"],
                    "{context}"
                );
                refused += 1;
                continue;
            }
            assert_eq!(response.status, 200, "{context}: {}", response.text());
            let after = response.json();
            for seat in ["A", "B"] {
                let said = candidate["effects"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|e| e["playerId"] == seat)
                    .map_or(json!({}), |e| as_floats(&e["resources"]));
                let did = changes(
                    &player(&before, seat)["resources"],
                    &player(&after, seat)["resources"],
                );
                assert_eq!(said, did, "{context}, seat {seat}");
            }
            assert_eq!(
                as_floats(&candidate["costs"]),
                as_floats(&after["costs"]),
                "{context}: costs"
            );
            performed += 1;
        }
    }
    assert!(performed >= 10 && refused >= 5, "{performed} {refused}");
}

/// The end-of-turn outlook names the resources the player has when their
/// next action phase comes (the AI only taxes, so it leaves them alone),
/// with income and upkeep per phase and the upkeep per source.
#[tokio::test]
async fn the_end_turn_outlook_is_where_the_next_turn_begins() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let start = proceed_ok(&app, &id).await;
    let outlook = start["forecast"]["endTurn"].clone();
    assert_eq!(outlook["playerId"], "A");
    assert_eq!(outlook["bankrupt"], false);
    let phases: Vec<&str> = outlook["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["phase"].as_str().unwrap())
        .collect();
    assert_eq!(phases, ["main", "growth", "upkeep"]);
    let upkeep = outlook["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "pay-upkeep")
        .expect("the upkeep step is itemised");
    assert_eq!(upkeep["sources"][0]["source"]["id"], "council");
    assert_eq!(upkeep["sources"][0]["amount"], 2.0);

    let next = proceed_ok(&app, &id).await;
    assert_eq!(next["snapshot"]["game"]["turn"], 2);
    assert_eq!(
        as_floats(&outlook["resources"]),
        as_floats(&player(&next, "A")["resources"])
    );
}

/// PRODUCT.md Q10: hiring with the last gold makes the next upkeep
/// unpayable. The forecast says so before the hire, with the numbers; the
/// game then ends exactly so; and the finished game's forecast explains
/// the end with the same numbers.
#[tokio::test]
async fn a_bankrupting_hire_is_forecast_and_then_explained() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    proceed_ok(&app, &id).await;
    // Turn 1: a house (room for one more person); turn 2: more land;
    // turn 3: a legion with the last 5 gold (upkeep: council 2, legion 1;
    // income: 2).
    let house = json!({"id": "house", "landId": "A-L2"});
    assert_eq!(app.act(ALICE, &id, "develop", house).await.status, 200);
    proceed_ok(&app, &id).await;
    assert_eq!(app.act(ALICE, &id, "expand", json!({})).await.status, 200);
    let turn3 = proceed_ok(&app, &id).await;
    assert_eq!(turn3["snapshot"]["game"]["turn"], 3);
    let gold = resource(&turn3, "A", "gold");
    let hire = candidates(&turn3["forecast"], "raise_pop")
        .iter()
        .find(|c| c["params"]["role"] == "legion")
        .expect("a legion candidate")
        .clone();
    assert_eq!(hire["ok"], true, "{hire}");
    let outlook = &hire["outlook"];
    assert_eq!(outlook["bankrupt"], true, "{hire}");
    let shortfall = &outlook["conclusion"]["shortfall"];
    assert_eq!(outlook["conclusion"]["conditionId"], "bankruptcy");
    assert_eq!(outlook["conclusion"]["loserId"], "A");
    assert_eq!(shortfall["key"], "gold");
    let (due, available) = (
        shortfall["due"].as_f64().unwrap(),
        shortfall["available"].as_f64().unwrap(),
    );
    assert!(due > available, "{shortfall}");
    // Not ending the turn is fine: the warning is about the next upkeep.
    assert_eq!(turn3["forecast"]["endTurn"]["bankrupt"], false);

    let hired = app
        .act(ALICE, &id, "raise_pop", json!({"role": "legion"}))
        .await;
    assert_eq!(hired.status, 200, "{}", hired.text());
    assert!(resource(&hired.json(), "A", "gold") < gold);
    let after = forecast(&app, &id).await;
    assert_eq!(after["endTurn"]["bankrupt"], true);

    let end = proceed_ok(&app, &id).await;
    assert_eq!(end["stopped"], "concluded");
    let conclusion = &end["snapshot"]["game"]["conclusion"];
    assert_eq!(conclusion["conditionId"], "bankruptcy");
    assert_eq!(conclusion["loserId"], "A");
    let explained = &end["forecast"]["conclusion"];
    assert_eq!(explained["conditionId"], "bankruptcy");
    assert_eq!(&explained["shortfall"], shortfall);
    assert!(end["forecast"].get("endTurn").is_none());
    assert_eq!(end["forecast"]["actions"], json!([]));
    // The same explanation on a later read.
    assert_eq!(&forecast(&app, &id).await["conclusion"], explained);
}

/// `proceed` takes the steps the classic routes take: a game played with
/// it and a game played with `advance` and `ai-turn` end in the same state.
#[tokio::test]
async fn proceed_reaches_what_advance_and_ai_turn_reach() {
    let app = TestApp::game();
    let quick = app.new_session(ALICE).await;
    let classic = app.new_session(ALICE).await;

    let first = proceed_ok(&app, &quick).await;
    assert_eq!(first["steps"].as_array().unwrap().len(), STEPS_TO_MAIN);
    assert_eq!(first["stopped"], "decision");
    let reference = app.to_main(ALICE, &classic).await;
    assert_same_json(&first["snapshot"], &reference["snapshot"], "turn 1 main");
    assert_eq!(version(&first), version(&reference));

    for turn in 2..=4 {
        for id in [&quick, &classic] {
            assert_eq!(app.act(ALICE, id, "tax", json!({})).await.status, 200);
        }
        let quick_state = proceed_ok(&app, &quick).await;
        app.advance(ALICE, &classic).await;
        let ai = app.ai_whole_turn(ALICE, &classic, "B").await;
        let reference = app.advance_times(ALICE, &classic, STEPS_TO_MAIN).await;
        assert_same_json(
            &quick_state["snapshot"],
            &reference["snapshot"],
            &format!("turn {turn}"),
        );
        assert_eq!(version(&quick_state), version(&reference));
        assert_eq!(quick_state["snapshot"]["game"]["turn"], turn);

        // The AI's turn is in the steps, each action with both seats after
        // it: B's gold grows by each tax.
        let steps = quick_state["steps"].as_array().unwrap();
        let kinds: Vec<&str> = steps.iter().map(|s| s["type"].as_str().unwrap()).collect();
        assert_eq!(kinds.len(), 2 + STEPS_TO_MAIN, "{kinds:?}");
        assert_eq!(kinds[1], "aiTurn");
        let ai_step = &steps[1];
        let actions = ai_step["actions"].as_array().unwrap();
        assert_eq!(actions.len(), ai["actions"].as_array().unwrap().len());
        assert!(!actions.is_empty());
        let mut gold = ai_step["advances"][0]["player"]["resources"]["gold"]
            .as_f64()
            .unwrap();
        for action in actions {
            assert_eq!(action["actionId"], "tax");
            assert_eq!(action["params"], json!({}));
            let b = &action["players"][1];
            assert_eq!(b["id"], "B");
            assert!(b["resources"]["gold"].as_f64().unwrap() > gold, "{action}");
            gold = b["resources"]["gold"].as_f64().unwrap();
        }
        assert_eq!(quick_state["forecast"]["activePlayerId"], "A");
        assert_eq!(quick_state["forecast"]["actionPhase"], true);
    }
}

/// With two human seats, `proceed` stops at the other human's action
/// phase.
#[tokio::test]
async fn proceed_stops_at_every_human_decision() {
    let app = TestApp::game();
    let id = session_id(&app.create_session(ALICE, r#"{"aiPlayers": []}"#).await);
    let a = proceed_ok(&app, &id).await;
    assert_eq!(a["snapshot"]["game"]["activePlayerId"], "A");
    let b = proceed_ok(&app, &id).await;
    assert_eq!(b["snapshot"]["game"]["activePlayerId"], "B");
    assert_eq!(b["snapshot"]["game"]["currentPhase"], "main");
    assert_eq!(b["forecast"]["activePlayerId"], "B");
    assert!(
        b["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["type"] == "advance")
    );
}

#[tokio::test]
async fn proceed_honours_if_match_and_refuses_a_finished_game() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    let stale = proceed(&app, &id, &[("if-match", "\"7\"")]).await;
    let envelope = stale.envelope(409);
    assert_eq!(envelope.code, ErrorCode::Conflict);
    assert_eq!(version(&app.snapshot(ALICE, &id).await), 1);
    let bad = proceed(&app, &id, &[("if-match", "seven")]).await;
    assert_eq!(bad.envelope(400).code, ErrorCode::InvalidRequest);

    let state = proceed(&app, &id, &[("if-match", "\"1\"")]).await;
    assert_eq!(state.status, 200, "{}", state.text());
    assert_eq!(
        state.headers["etag"],
        format!("\"{}\"", version(&state.json()))
    );

    // A dev-mode game ends with one attack; then there is nothing to do.
    let dev = session_id(&app.create_session(ALICE, r#"{"devMode": true}"#).await);
    proceed_ok(&app, &dev).await;
    let won = app.act(ALICE, &dev, "army_attack", json!({})).await;
    assert_eq!(won.status, 200, "{}", won.text());
    let at = version(&won.json());
    let finished = proceed(&app, &dev, &[]).await;
    assert_eq!(finished.envelope(409).code, ErrorCode::Conflict);
    assert_eq!(version(&app.snapshot(ALICE, &dev).await), at);
    let explained = forecast(&app, &dev).await;
    assert_eq!(explained["conclusion"]["conditionId"], "castle-destroyed");
    assert_eq!(explained["conclusion"]["winnerId"], "A");
    assert!(explained["conclusion"].get("shortfall").is_none());
}

#[tokio::test]
async fn bad_forecast_queries_are_400_envelopes_and_another_seat_gets_its_outlook() {
    let app = TestApp::game();
    let id = app.new_session(ALICE).await;
    proceed_ok(&app, &id).await;
    for query in [
        "playerId=Z",
        "playerId=",
        "player=A",
        "playerId=A&playerId=B",
    ] {
        let response = app
            .call(
                Method::GET,
                &format!("/sessions/{id}/forecast?{query}"),
                Some(ALICE),
                None,
            )
            .await;
        let envelope = response.envelope(400);
        assert_eq!(envelope.code, ErrorCode::InvalidRequest, "{query}");
        assert!(
            envelope.message.starts_with("Invalid forecast request"),
            "{query}: {}",
            envelope.message
        );
    }
    let response = app
        .call(
            Method::GET,
            &format!("/sessions/{id}/forecast?playerId=B"),
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(response.status, 200);
    let other = response.json();
    assert_eq!(other["playerId"], "B");
    assert_eq!(other["activePlayerId"], "A");
    assert_eq!(other["actions"], json!([]), "only the active player acts");
    assert_eq!(other["endTurn"]["playerId"], "B");
}

/// The forecast works on copies: many reads leave the stored session, its
/// log and its version exactly as they were.
#[tokio::test]
async fn the_forecast_never_writes() {
    let store = Arc::new(kb_store::MemoryStore::new());
    let manager = Arc::new(
        kb_session::SessionManager::new(kb_session::ManagerOptions::new(store.clone()))
            .expect("a fresh store"),
    );
    let app = TestApp::game_over(manager);
    let id = app.new_session(ALICE).await;
    let at_main = proceed_ok(&app, &id).await;
    let stored = store.load_session(&id).unwrap();
    let log = store.load_log(&id).unwrap().commands.len();
    for _ in 0..5 {
        let read = forecast(&app, &id).await;
        assert_eq!(read["version"], at_main["version"]);
    }
    assert_eq!(store.load_session(&id).unwrap(), stored);
    assert_eq!(store.load_log(&id).unwrap().commands.len(), log);
    let now = app.snapshot(ALICE, &id).await;
    assert_same_json(&now["snapshot"], &at_main["snapshot"], "after the reads");
}

/// Royal Decree makes its own land, so it stays possible when every land
/// is full; the forecast offers it then too, without a land to choose.
#[tokio::test]
async fn an_action_that_makes_its_own_land_is_offered_when_every_land_is_full() {
    let app = TestApp::game();
    let id = session_id(&app.create_session(ALICE, r#"{"devMode": true}"#).await);
    proceed_ok(&app, &id).await;
    let house = json!({"id": "house", "landId": "A-L2"});
    assert_eq!(app.act(ALICE, &id, "develop", house).await.status, 200);
    let full = forecast(&app, &id).await;
    let decrees = candidates(&full, "royal_decree");
    assert!(!decrees.is_empty(), "{full}");
    for decree in decrees {
        assert_eq!(decree["ok"], true, "{decree}");
        assert!(decree["params"].get("landId").is_none(), "{decree}");
        let lands = decree["effects"][0]["lands"].as_i64();
        assert_eq!(lands, Some(1), "{decree}");
    }
    let params = decrees[0]["params"].clone();
    let done = app.act(ALICE, &id, "royal_decree", params).await;
    assert_eq!(done.status, 200, "{}", done.text());
}
