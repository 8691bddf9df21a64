//! The AI's level per session (`aiLevel` at creation): shown in the state,
//! refused with the list of levels when unknown, played by both forms of
//! `ai-turn`, and whole AI games replayed from their logs (past views and
//! a restart) to byte-identical states.

use std::sync::Arc;

use axum::http::Method;
use kb_ai::Level;
use kb_engine::{AiMove, AiPolicy, Command, Game, GameOptions, PlayerId};
use kb_session::{ManagerOptions, SessionManager, stored};
use kb_store::MemoryStore;
use serde_json::{Value, json};

use crate::helpers::{
    ALICE, STEPS_TO_MAIN, TestApp, TestResponse, assert_same_json, session_id, version,
};

/// The level names a client may send.
const LEVELS: [&str; 3] = ["easy", "normal", "hard"];

/// From a fresh session to B's main phase of turn 1.
const STEPS_TO_BS_MAIN: usize = 2 * STEPS_TO_MAIN + 1;

/// Turns after which an AI game that has not ended fails the test.
const TURN_CAP: u64 = 40;

fn create_body(level: &str) -> String {
    json!({ "aiLevel": level }).to_string()
}

fn wire_game(state: &Value) -> &Value {
    &state["snapshot"]["game"]
}

fn path(id: &str, rest: &str) -> String {
    format!("/sessions/{id}/{rest}")
}

/// A session's whole log, as `GET /sessions/:id/log` sends it (one page:
/// these games are short).
async fn log_entries(app: &TestApp, id: &str) -> Vec<Value> {
    let page = app
        .call(Method::GET, &path(id, "log"), Some(ALICE), None)
        .await;
    assert_eq!(page.status, 200, "{}", page.text());
    let page = page.json();
    let entries = page["entries"].as_array().expect("entries").clone();
    assert_eq!(
        entries.len() as u64,
        version(&page),
        "one entry per version"
    );
    for (n, entry) in entries.iter().enumerate() {
        assert_eq!(entry["version"], n as u64 + 1, "entries in order");
    }
    entries.into_iter().map(|e| e["entry"].clone()).collect()
}

/// The game a default session's log describes, played with the engine
/// here (the start entry's options are the defaults: AI on seat B).
async fn local_game(app: &TestApp, id: &str) -> Game {
    let content = kb_content::ContentPack::default_pack()
        .base_session()
        .content()
        .clone();
    let mut game = Game::new(content, GameOptions::default()).expect("the default game starts");
    let entries = log_entries(app, id).await;
    assert_eq!(entries[0]["type"], "start");
    for entry in &entries[1..] {
        let command = stored::decode_command(entry.clone()).expect("a command");
        game.apply(&command).expect("a logged command applies");
    }
    game
}

/// The policy the server must use for `level` on session `id` at `version`.
fn policy_at(level: &str, id: &str, version: u64) -> kb_ai::Policy {
    let level: Level = level.parse().expect("a level");
    kb_ai::policy(level, kb_server::routes::ai::seed(id, version))
}

/// The log entry the whole turn of `level` must record on `game`.
fn expected_turn(level: &str, id: &str, version: u64, game: &Game) -> Value {
    let policy = policy_at(level, id, version);
    let command = if policy.level() == Level::Easy {
        Command::AiTurn {
            player_id: PlayerId::B,
        }
    } else {
        let moves = kb_ai::turn_moves(&mut game.clone(), PlayerId::B, &policy)
            .expect("the AI can play its turn");
        Command::AiMoves {
            player_id: PlayerId::B,
            moves,
        }
    };
    logged(&command)
}

/// `command` as the log stores it.
fn logged(command: &Command) -> Value {
    serde_json::from_str(&stored::encode_command(command)).expect("plain data")
}

/// The log entry one step of `level` must record on `game`, or `None`
/// when the AI ends its phase.
fn expected_step(level: &str, id: &str, version: u64, game: &Game) -> Option<Value> {
    match policy_at(level, id, version).next_move(game, PlayerId::B) {
        AiMove::EndTurn => None,
        AiMove::Act { action_id, params } => Some(logged(&Command::AiAction {
            player_id: PlayerId::B,
            action_id,
            params,
        })),
    }
}

/// A session of `level` at B's main phase of turn 1.
async fn at_bs_main(app: &TestApp, level: &str) -> (String, Value) {
    let created = app.create_session(ALICE, &create_body(level)).await;
    let id = session_id(&created);
    let state = app.advance_times(ALICE, &id, STEPS_TO_BS_MAIN).await;
    assert_eq!(wire_game(&state)["activePlayerId"], "B");
    assert_eq!(wire_game(&state)["currentPhase"], "main");
    (id, state)
}

#[tokio::test]
async fn the_level_is_chosen_at_creation_and_shown_in_the_state() {
    let app = TestApp::game();
    for level in LEVELS {
        let created = app.create_session(ALICE, &create_body(level)).await;
        assert_eq!(created["aiLevel"], level);
        let id = session_id(&created);
        assert_eq!(app.snapshot(ALICE, &id).await["aiLevel"], level);
        assert_eq!(app.advance(ALICE, &id).await["aiLevel"], level);
        // The start entry records it, so a restart keeps it.
        let entries = log_entries(&app, &id).await;
        assert_eq!(entries[0]["aiLevel"], level);
        // A past view and a fork keep it too.
        let past = app
            .call(Method::GET, &path(&id, "snapshot?at=1"), Some(ALICE), None)
            .await;
        assert_eq!(past.json()["aiLevel"], level);
        let fork = app
            .call(Method::POST, &path(&id, "fork"), Some(ALICE), None)
            .await;
        assert_eq!(fork.status, 201, "{}", fork.text());
        assert_eq!(fork.json()["aiLevel"], level);
    }
    // A session that chooses none looks as on the reference: no field.
    let plain = app.create_session(ALICE, "{}").await;
    assert!(plain.get("aiLevel").is_none(), "{}", plain["aiLevel"]);
    let entries = log_entries(&app, &session_id(&plain)).await;
    assert!(entries[0].get("aiLevel").is_none());
}

#[tokio::test]
async fn an_unknown_level_is_refused_with_the_levels_listed() {
    let app = TestApp::game();
    for level in ["expert", "", "Hard", " hard", "easy,hard"] {
        let response = app
            .call(
                Method::POST,
                "/sessions",
                Some(ALICE),
                Some(&create_body(level)),
            )
            .await;
        let envelope = response.envelope(400);
        let issues = envelope.issues.unwrap_or_default();
        let text: String = issues.iter().map(|i| i.message.as_str()).collect();
        for name in LEVELS {
            assert!(text.contains(name), "{level:?}: {text:?} lists {name}");
        }
        assert!(
            text.contains("aiLevel"),
            "{level:?}: names the field: {text}"
        );
    }
    for body in [r#"{"aiLevel": 2}"#, r#"{"aiLevel": ["hard"]}"#] {
        let response = app
            .call(Method::POST, "/sessions", Some(ALICE), Some(body))
            .await;
        response.envelope(400);
    }
    assert_eq!(app.session_count().await, 0, "nothing was created");
}

#[tokio::test]
async fn a_whole_turn_plays_the_sessions_level() {
    let app = TestApp::game();
    let mut turns = Vec::new();
    for level in LEVELS {
        let (id, before) = at_bs_main(&app, level).await;
        let game = local_game(&app, &id).await;
        let expected = expected_turn(level, &id, version(&before), &game);
        let turn = app.ai_whole_turn(ALICE, &id, "B").await;
        assert_eq!(turn["ranTurn"], true, "{level}");
        assert_eq!(version(&turn), version(&before) + 1, "{level}: one entry");
        assert_eq!(wire_game(&turn)["activePlayerId"], "A", "{level}: done");
        let entries = log_entries(&app, &id).await;
        assert_eq!(entries.last().unwrap(), &expected, "{level}");
        let kind = if level == "easy" { "aiTurn" } else { "aiMoves" };
        assert_eq!(expected["type"], kind, "{level}");
        // The answer lists the actions the turn held.
        if level != "easy" {
            let actions: Vec<&Value> = expected["moves"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["type"] == "action")
                .map(|m| &m["actionId"])
                .collect();
            let answered: Vec<&Value> = turn["actions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| &a["actionId"])
                .collect();
            assert_eq!(answered, actions, "{level}");
        }
        turns.push(turn["actions"].clone());
    }
    // The levels play differently here: a session that played another
    // level than its own would not pass the checks above.
    assert_ne!(turns[0], turns[2], "easy and hard play the same turn");
    assert_ne!(turns[0], turns[1], "easy and normal play the same turn");
}

#[tokio::test]
async fn one_step_at_a_time_plays_the_sessions_level() {
    let app = TestApp::game();
    for level in LEVELS {
        let (id, before) = at_bs_main(&app, level).await;
        let mut game = local_game(&app, &id).await;
        let mut last = before;
        let mut acted = 0;
        loop {
            let expected = expected_step(level, &id, version(&last), &game);
            let step = app.ai_turn(ALICE, &id, "B").await;
            assert_eq!(step["ranTurn"], true, "{level}");
            match expected {
                None => {
                    assert_eq!(step["phaseComplete"], true, "{level}");
                    assert_eq!(step["actions"], json!([]), "{level}");
                    assert_eq!(version(&step), version(&last), "{level}: no change");
                    break;
                }
                Some(entry) => {
                    assert_eq!(step["phaseComplete"], false, "{level}");
                    assert_eq!(version(&step), version(&last) + 1, "{level}");
                    assert_eq!(step["actions"][0]["actionId"], entry["actionId"]);
                    let entries = log_entries(&app, &id).await;
                    assert_eq!(entries.last().unwrap(), &entry, "{level}");
                    let command = stored::decode_command(entry).unwrap();
                    game.apply(&command).expect("the chosen move applies");
                    acted += 1;
                    last = step;
                }
            }
            assert!(acted <= 20, "{level}: the AI keeps acting");
        }
        assert!(acted > 0, "{level}: the AI acted in its first main phase");
        // Still B's main phase: the client advances itself.
        assert_eq!(wire_game(&last)["activePlayerId"], "B");
        assert_eq!(wire_game(&last)["currentPhase"], "main");
    }
}

/// How the AI seat is played in [`play_to_the_end`].
#[derive(Clone, Copy, Debug)]
enum Form {
    /// `{"playerId":"B","mode":"turn"}`.
    Turn,
    /// The reference protocol: steps, then the client advances.
    Steps,
}

/// A raw `GET` that must answer 200.
async fn get_raw(app: &TestApp, path: &str) -> TestResponse {
    let response = app.call(Method::GET, path, Some(ALICE), None).await;
    assert_eq!(response.status, 200, "{path}: {}", response.text());
    response
}

/// Plays a session of `level` to its end: seat A taxes while it has AP in
/// its main phase and otherwise advances; seat B is the AI, played in
/// `form`. Returns the session id and the raw body of `GET …/snapshot` at
/// every version, from 1.
async fn play_to_the_end(app: &TestApp, level: &str, form: Form) -> (String, Vec<Vec<u8>>) {
    let id = session_id(&app.create_session(ALICE, &create_body(level)).await);
    let snapshot_path = path(&id, "snapshot");
    let mut seen = vec![get_raw(app, &snapshot_path).await.body];
    loop {
        let current: Value = serde_json::from_slice(seen.last().unwrap()).unwrap();
        let g = wire_game(&current);
        if !g["conclusion"].is_null() {
            break;
        }
        assert!(
            g["turn"].as_u64().unwrap() <= TURN_CAP,
            "{level} {form:?}: no end by turn {TURN_CAP}"
        );
        let ap = g["players"][0]["resources"]["ap"].as_f64().unwrap_or(0.0);
        let state = if g["activePlayerId"] == "B" {
            match form {
                Form::Turn => app.ai_whole_turn(ALICE, &id, "B").await,
                Form::Steps => {
                    let step = app.ai_turn(ALICE, &id, "B").await;
                    if step["phaseComplete"] == false && version(&step) == version(&current) {
                        // Not its action phase: the client advances.
                        app.advance(ALICE, &id).await
                    } else if step["phaseComplete"] == true {
                        app.advance(ALICE, &id).await
                    } else {
                        step
                    }
                }
            }
        } else if g["currentPhase"] == "main" && ap > 0.0 {
            let response = app.act(ALICE, &id, "tax", json!({})).await;
            assert_eq!(response.status, 200, "{}", response.text());
            response.json()
        } else {
            app.advance(ALICE, &id).await
        };
        assert_eq!(
            version(&state),
            seen.len() as u64 + 1,
            "{level} {form:?}: one version per change"
        );
        let raw = get_raw(app, &snapshot_path).await.body;
        let fresh: Value = serde_json::from_slice(&raw).unwrap();
        // (An answer's snapshot also carries the effect logs of the change.)
        assert_same_json(
            wire_game(&fresh),
            wire_game(&state),
            "the answer's game is the snapshot's",
        );
        seen.push(raw);
    }
    (id, seen)
}

/// Every past version of `id` rebuilt from its log (`?at=V`) is, byte for
/// byte, the snapshot that version showed when it was current.
async fn assert_replays(app: &TestApp, id: &str, seen: &[Vec<u8>], context: &str) {
    for (n, expected) in seen.iter().enumerate() {
        let at = n + 1;
        let past = get_raw(app, &path(id, &format!("snapshot?at={at}"))).await;
        assert!(
            &past.body == expected,
            "{context}: the state at {at} replayed from the log differs from the one shown"
        );
    }
}

#[tokio::test]
async fn ai_games_replay_from_their_log_to_byte_identical_states() {
    let store = MemoryStore::new();
    let app_over = |checkpoint_every: u64| {
        let mut options = ManagerOptions::new(Arc::new(store.reopen()));
        options.checkpoint_every = checkpoint_every;
        TestApp::game_over(Arc::new(SessionManager::new(options).expect("hydrates")))
    };
    let app = app_over(16);
    let mut games = Vec::new();
    for (level, form) in [
        ("normal", Form::Turn),
        ("normal", Form::Steps),
        ("hard", Form::Turn),
        ("hard", Form::Steps),
    ] {
        let (id, seen) = play_to_the_end(&app, level, form).await;
        let context = format!("{level} {form:?}");
        // The AI's turns are in the log as the moves it chose, so a replay
        // runs no search.
        let entries = log_entries(&app, &id).await;
        let recorded = match form {
            Form::Turn => "aiMoves",
            Form::Steps => "aiAction",
        };
        assert!(
            entries.iter().any(|e| e["type"] == recorded),
            "{context}: no {recorded} entry"
        );
        assert!(
            entries.iter().all(|e| e["type"] != "aiTurn"),
            "{context}: an entry asks the engine to play the AI"
        );
        assert_replays(&app, &id, &seen, &context).await;
        games.push((id, seen, context));
    }
    drop(app);

    // A new server over the same store rebuilds each game from its last
    // checkpoint (one every 16 entries) and the log tail; its past views
    // replay the log from the start entry.
    let app = app_over(16);
    for (id, seen, context) in &games {
        let now = get_raw(&app, &path(id, "snapshot")).await;
        assert!(
            &now.body == seen.last().unwrap(),
            "{context}: the restored state differs from the last one shown"
        );
        assert_replays(&app, id, seen, context).await;
    }
}
