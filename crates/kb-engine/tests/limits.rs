//! Content is data a client may submit with a session: the engine bounds
//! the work of one command and refuses, atomically, what would overflow the
//! stack, exhaust memory or leave the range of numbers.

use kb_engine::EngineError;
use serde_json::json;

use crate::support::*;

fn game_with_action(effects: serde_json::Value) -> kb_engine::Game {
    let mut game = game_with(|def| {
        def.actions.push(
            action_def(json!({"id": "custom", "name": "Custom", "effects": effects})).unwrap(),
        );
    });
    to_main(&mut game);
    game
}

#[test]
fn a_recursive_action_is_refused_not_a_stack_overflow() {
    let mut game = game_with(|def| {
        def.actions.push(
            action_def(json!({"id": "loop", "name": "Loop",
                "effects": [{"type": "action", "method": "perform", "params": {"id": "loop"}}]}))
            .unwrap(),
        );
    });
    to_main(&mut game);
    let before = state_json(&game);
    let error = act(&mut game, "loop", json!({})).unwrap_err();
    assert!(matches!(error, EngineError::TooDeep(64)), "{error:?}");
    assert_eq!(error.code(), "TOO_DEEP");
    assert_eq!(state_json(&game), before);
}

#[test]
fn a_passive_that_adds_itself_is_refused() {
    let mut game = game_with_action(
        json!([{"type": "passive", "method": "add", "params": {"id": "echo"},
        "effects": [{"type": "action", "method": "perform", "params": {"id": "custom"}}]}]),
    );
    let before = state_json(&game);
    assert!(matches!(
        act(&mut game, "custom", json!({})),
        Err(EngineError::TooDeep(_))
    ));
    assert_eq!(state_json(&game), before);
}

#[test]
fn huge_repetition_counts_are_refused() {
    let mut game =
        game_with_action(json!([{"type": "land", "method": "add", "params": {"count": 1e12}}]));
    let before = state_json(&game);
    let error = act(&mut game, "custom", json!({})).unwrap_err();
    assert!(
        matches!(error, EngineError::TooMany { limit: 1000, .. }),
        "{error:?}"
    );
    assert_eq!(state_json(&game), before);
    // At the limit is fine.
    let mut game =
        game_with_action(json!([{"type": "land", "method": "add", "params": {"count": 1000}}]));
    act(&mut game, "custom", json!({})).unwrap();
    assert_eq!(game.state().players.a.lands.len(), 1002);
}

#[test]
fn values_beyond_the_game_range_are_clamped() {
    let mut game = game_with_action(json!([
        {"type": "resource", "method": "add", "params": {"key": "gold", "amount": 1.5e308}},
        {"type": "resource", "method": "add", "params": {"key": "gold", "amount": 1.5e308}},
        {"type": "stat", "method": "add", "params": {"key": "armyStrength", "amount": 1.5e308}},
        {"type": "stat", "method": "add", "params": {"key": "armyStrength", "amount": 1.5e308}}
    ]));
    act(&mut game, "custom", json!({})).unwrap();
    assert_eq!(res(&game, A, "gold"), kb_engine::MAX_GAME_VALUE);
    assert_eq!(stat(&game, A, "armyStrength"), kb_engine::MAX_GAME_VALUE);
    // The state still survives JSON exactly.
    let text = state_json(&game);
    let back = kb_session::stored::decode(text.as_bytes()).unwrap();
    assert_eq!(&back, game.state());
}

#[test]
fn repetitions_that_multiply_are_refused_as_too_much_work() {
    // Each level repeats the next 1,000 times (within the limit of one
    // effect); together a million effects, which one command may not run.
    let mut game = game_with(|def| {
        for (id, inner) in [("mid", "leaf"), ("custom", "mid")] {
            def.actions.push(
                action_def(json!({"id": id, "name": id, "system": id != "custom",
                    "effects": [{"evaluator": {"type": "stat", "params": {"key": "big"}},
                        "effects": [{"type": "action", "method": "perform", "params": {"id": inner}}]}]}))
                .unwrap(),
            );
        }
        def.actions.push(
            action_def(json!({"id": "leaf", "name": "Leaf", "system": true,
                "effects": [{"type": "stat", "method": "add", "params": {"key": "armyStrength", "amount": 1}}]}))
            .unwrap(),
        );
    });
    to_main(&mut game);
    setup(&mut game, A, json!([add_stat("big", 1000)]));
    let before = state_json(&game);
    let error = act(&mut game, "custom", json!({})).unwrap_err();
    assert!(
        matches!(error, EngineError::TooMuchWork(100_000)),
        "{error:?}"
    );
    assert_eq!(error.code(), "TOO_MUCH_WORK");
    assert_eq!(state_json(&game), before);
}
