//! The rules the engine enforces itself (clients are not trusted) and the
//! PRODUCT.md §2 decisions that `scenarios.rs` does not already cover.
//!
//! Every refusal is also checked to leave the state byte-identical.

use std::sync::Arc;

use kb_engine::{
    ByPlayer, Command, Content, EngineError, Game, GameConfig, GameOptions, Outcome, PlayerId,
};
use kb_protocol::answers::Wire;
use kb_session::stored::StoredCommand;
use serde_json::{Value, json};

use crate::support::*;

fn tax(player_id: Option<PlayerId>) -> Command {
    Command::Action {
        action_id: "tax".into(),
        params: Default::default(),
        player_id,
    }
}

/// Applies `command`, expects it refused with `code`, and checks that the
/// state did not change. Returns the error.
fn refused(game: &mut Game, command: &Command, code: &str) -> EngineError {
    let before = state_json(game);
    let error = game
        .apply(command)
        .expect_err("the command must be refused");
    assert_eq!(error.code(), code, "{command:?}: {error}");
    assert_eq!(state_json(game), before, "{command:?} changed the state");
    error
}

fn remove(key: &str, amount: f64) -> Value {
    json!({"type": "resource", "method": "remove", "params": {"key": key, "amount": amount}})
}

fn humans() -> GameOptions {
    GameOptions {
        ai: ByPlayer { a: false, b: false },
        ..GameOptions::default()
    }
}

fn game_with_config(config: Value, options: GameOptions) -> Game {
    let config: GameConfig = read(config).expect("config parses");
    let content = Content::with_config(&default_def(), &config).expect("config is valid");
    Game::new(Arc::new(content), options).expect("a game")
}

// ----- who may act, and when ----------------------------------------------------------

#[test]
fn only_the_active_player_acts() {
    let mut game = new_game();
    to_main(&mut game);
    let error = refused(&mut game, &tax(Some(B)), "NOT_ACTIVE_PLAYER");
    assert_eq!(error.to_string(), "It is player A's turn, not player B's");
    game.apply(&tax(Some(A))).expect("A may act in A's turn");
    assert_eq!(res(&game, A, "gold"), 14.0);
}

#[test]
fn a_human_cannot_act_for_the_ai_seat() {
    let mut game = new_game();
    advance(&mut game, 8);
    to_main(&mut game);
    assert_eq!(game.state().active, B);
    refused(&mut game, &tax(None), "AI_CONTROLLED");
    refused(&mut game, &tax(Some(B)), "AI_CONTROLLED");
    refused(&mut game, &tax(Some(A)), "NOT_ACTIVE_PLAYER");
    // With both seats human, the same command is B's to make.
    let mut game = Game::new(content(), humans()).unwrap();
    advance(&mut game, 8);
    to_main(&mut game);
    game.apply(&tax(Some(B))).expect("a human B acts");
}

/// `aiAction` records the move the AI chose; it is the AI seat's alone.
#[test]
fn an_ai_action_is_only_for_the_active_ai_seat() {
    let ai_tax = |player_id| Command::AiAction {
        player_id,
        action_id: "tax".into(),
        params: Default::default(),
    };
    let mut game = new_game();
    to_main(&mut game);
    refused(&mut game, &ai_tax(A), "NO_AI_CONTROLLER");
    refused(&mut game, &ai_tax(B), "NOT_ACTIVE_PLAYER");
    advance(&mut game, 1);
    refused(&mut game, &ai_tax(B), "NOT_ACTION_PHASE");
    to_main(&mut game);
    assert_eq!(game.state().active, B);
    let gold = res(&game, B, "gold");
    match game.apply(&ai_tax(B)).expect("the AI seat taxes") {
        Outcome::Action(done) => assert_eq!(done.action_id, "tax"),
        other => panic!("{other:?}"),
    }
    assert!(res(&game, B, "gold") > gold);
    // Recorded as it was chosen: the log entry names the seat and the move.
    assert_eq!(
        serde_json::to_value(StoredCommand::from(&ai_tax(B))).unwrap(),
        json!({"type": "aiAction", "playerId": "B", "actionId": "tax"})
    );
    setup(&mut game, A, json!([remove("castleHP", 10.0)]));
    refused(&mut game, &ai_tax(B), "GAME_CONCLUDED");
}

#[test]
fn actions_only_in_an_action_phase() {
    let mut game = new_game();
    for step in 0..7 {
        let phase = game.snapshot().game.current_phase.to_string();
        let error = refused(&mut game, &tax(None), "NOT_ACTION_PHASE");
        assert!(error.to_string().contains(&phase), "step {step}: {error}");
        refused_action(&mut game, "expand", json!({}), "NOT_ACTION_PHASE");
        game.apply(&Command::Advance).unwrap();
    }
    assert_eq!(game.snapshot().game.current_phase, "main");
    game.apply(&tax(None)).expect("tax in main");
}

#[test]
fn nothing_acts_after_a_conclusion() {
    let mut game = new_game();
    to_main(&mut game);
    setup(&mut game, B, json!([remove("castleHP", 10.0)]));
    let conclusion = game.state().conclusion.clone().expect("castle destroyed");
    assert_eq!(conclusion.condition_id, "castle-destroyed");
    assert_eq!((conclusion.winner_id, conclusion.loser_id), (A, B));
    assert!(game.candidate_moves().is_empty());
    let error = refused(&mut game, &Command::Advance, "GAME_CONCLUDED");
    assert_eq!(error.to_string(), "Game already concluded");
    refused(&mut game, &tax(None), "GAME_CONCLUDED");
    refused(&mut game, &tax(Some(A)), "GAME_CONCLUDED");
    refused(
        &mut game,
        &Command::AiTurn { player_id: B },
        "GAME_CONCLUDED",
    );
    refused_action(&mut game, "expand", json!({}), "GAME_CONCLUDED");
    // Naming a player is not acting: it still works.
    game.apply(&Command::SetPlayerName {
        player_id: A,
        player_name: "Victor".into(),
    })
    .unwrap();
    assert_eq!(game.state().players.a.name, "Victor");
}

#[test]
fn leaving_the_action_phase_forfeits_unspent_action_points() {
    let mut game = new_game();
    advance(&mut game, 3); // A gained 1 AP at gain-ap
    assert_eq!(res(&game, A, "ap"), 1.0);
    advance(&mut game, 4); // the rest of growth and upkeep keeps it
    assert_eq!(res(&game, A, "ap"), 1.0);
    setup(&mut game, A, json!([add("ap", 3)]));
    let result = game.advance().unwrap();
    assert_eq!(
        (result.phase.as_str(), result.step.as_str()),
        ("main", "main")
    );
    assert_eq!(res(&game, A, "ap"), 0.0, "A's 4 AP are lost");
    assert_eq!(res(&game, B, "ap"), 1.0, "B's compensation is untouched");
    assert_eq!(result.player.resources.value("ap"), 0.0);
}

#[test]
fn ai_turns_only_for_ai_seats_and_only_in_their_turn() {
    let mut game = new_game();
    let error = refused(
        &mut game,
        &Command::AiTurn { player_id: A },
        "NO_AI_CONTROLLER",
    );
    assert_eq!(
        error.to_string(),
        "No AI controller is available for player \"A\"."
    );
    let before = state_json(&game);
    match game.apply(&Command::AiTurn { player_id: B }).unwrap() {
        Outcome::AiTurn(turn) => {
            assert!(!turn.ran_turn);
            assert!(!turn.phase_complete);
            assert!(turn.actions.is_empty() && turn.advances.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(state_json(&game), before, "not B's turn: nothing changes");
}

// ----- one passive per instance (Q6, Q7) and placeholders ---------------------------------

fn legion_passives(game: &Game, player: PlayerId) -> Vec<String> {
    passive_ids(game, player)
        .into_iter()
        .filter(|id| id.starts_with("legion_"))
        .collect()
}

#[test]
fn each_legion_has_its_own_passive() {
    // Q6: `legion_$player_$index` is substituted, so each Legion is one
    // passive and removing N legions takes back N strength.
    let mut game = new_game();
    setup(
        &mut game,
        A,
        json!([hire("legion"), hire("legion"), hire("legion")]),
    );
    setup(&mut game, B, json!([hire("legion")]));
    assert_eq!(stat(&game, A, "armyStrength"), 3.0);
    assert_eq!(
        legion_passives(&game, A),
        ["legion_A_1", "legion_A_2", "legion_A_3"]
    );
    assert_eq!(legion_passives(&game, B), ["legion_B_1"]);
    let fire = json!({"type": "population", "method": "remove", "params": {"role": "legion"}});
    setup(&mut game, A, json!([fire.clone()]));
    assert_eq!(stat(&game, A, "armyStrength"), 2.0);
    assert_eq!(legion_passives(&game, A), ["legion_A_1", "legion_A_2"]);
    setup(&mut game, A, json!([fire.clone(), fire]));
    assert_eq!(stat(&game, A, "armyStrength"), 0.0, "the reference kept 2");
    assert!(legion_passives(&game, A).is_empty());
    assert_eq!(game.state().players.a.population.get("legion"), Some(&0));
    assert_eq!(stat(&game, B, "armyStrength"), 1.0, "B's legion stays");
}

#[test]
fn two_houses_on_one_land_each_count() {
    // Q7: two houses on one tilled land are two passives `house_A-L2`;
    // removing both takes both bonuses back.
    let mut game = new_game();
    to_main(&mut game);
    setup(
        &mut game,
        A,
        json!([
            add("gold", 10),
            add("ap", 1),
            {"type": "land", "method": "till", "params": {"landId": "A-L2"}}
        ]),
    );
    for _ in 0..2 {
        act(
            &mut game,
            "develop",
            json!({"id": "house", "landId": "A-L2"}),
        )
        .unwrap();
    }
    assert_eq!(stat(&game, A, "maxPopulation"), 3.0);
    let houses = |game: &Game| {
        passive_ids(game, A)
            .into_iter()
            .filter(|id| id == "house_A-L2")
            .count()
    };
    assert_eq!(houses(&game), 2);
    let demolish = json!({"type": "development", "method": "remove",
                          "params": {"id": "house", "landId": "A-L2"}});
    setup(&mut game, A, json!([demolish.clone()]));
    assert_eq!(stat(&game, A, "maxPopulation"), 2.0);
    setup(&mut game, A, json!([demolish]));
    assert_eq!(stat(&game, A, "maxPopulation"), 1.0, "the reference kept 2");
    assert_eq!(houses(&game), 0);
    let land = game.state().players.a.land("A-L2").unwrap();
    assert_eq!((land.slots_used, land.developments.len()), (0, 0));
}

// ----- passives keep every trigger (Q16) ------------------------------------------------------

#[test]
fn a_passive_keeps_every_trigger_it_is_given() {
    let mut game = new_game();
    setup(
        &mut game,
        A,
        json!([{"type": "passive", "method": "add", "params": {
            "id": "patron",
            "onGrowthPhase": [add("happiness", 1)],
            "onGainIncomeStep": [add("gold", 5)],
            "onGainAPStep": [add("ap", 2)],
            "onUpkeepPhase": [add("happiness", 1)],
            "onPayUpkeepStep": [remove("gold", 1.0)]
        }}]),
    );
    advance(&mut game, 1);
    assert_eq!(res(&game, A, "happiness"), 1.0, "onGrowthPhase");
    advance(&mut game, 1);
    assert_eq!(res(&game, A, "gold"), 17.0, "farm 2 + onGainIncomeStep 5");
    advance(&mut game, 1);
    assert_eq!(res(&game, A, "ap"), 3.0, "council 1 + onGainAPStep 2");
    advance(&mut game, 2);
    assert_eq!(res(&game, A, "happiness"), 2.0, "onUpkeepPhase");
    advance(&mut game, 1);
    assert_eq!(res(&game, A, "gold"), 14.0, "council 2 + onPayUpkeepStep 1");
    assert_eq!(res(&game, B, "gold"), 10.0, "B owns no such passive");
}

// ----- system developments (Q18), nested Till (Q20) -------------------------------------------

#[test]
fn players_cannot_develop_system_developments() {
    let mut game = new_game();
    to_main(&mut game);
    let error = refused_action(
        &mut game,
        "develop",
        json!({"id": "garden", "landId": "A-L2"}),
        "SYSTEM_DEVELOPMENT",
    );
    assert_eq!(
        error.to_string(),
        "Development garden cannot be placed by a player action"
    );
    // Content effects outside a player action still may place one.
    setup(
        &mut game,
        A,
        json!([{"type": "development", "method": "add", "params": {"id": "garden"}}]),
    );
    assert_eq!(game.state().players.a.lands[1].developments, ["garden"]);
}

#[test]
fn a_missing_action_parameter_is_named() {
    let mut game = new_game();
    to_main(&mut game);
    let error = refused_action(
        &mut game,
        "develop",
        json!({"landId": "A-L2"}),
        "MISSING_PARAMETER",
    );
    assert_eq!(
        error.to_string(),
        "Action develop requires the parameter \"id\""
    );
    // A parameter given with the wrong type is not "missing": the effect
    // says what is wrong with it.
    let error = refused_action(
        &mut game,
        "develop",
        json!({"id": 7, "landId": "A-L2"}),
        "INVALID_EFFECT",
    );
    assert!(error.to_string().starts_with("development:add"), "{error}");
}

fn decree(land_id: &str, option: &str) -> Value {
    json!({"landId": land_id, "choices": {"royal_decree_develop": {"optionId": option}}})
}

#[test]
fn royal_decree_tills_and_develops_the_land_it_is_given() {
    // Q20: the reference's nested Till ignored `landId` and tilled the new
    // land instead.
    let mut game = new_game();
    to_main(&mut game);
    setup(&mut game, A, json!([add("gold", 10)]));
    let outcome = act(
        &mut game,
        "royal_decree",
        decree("A-L2", "royal_decree_house"),
    )
    .unwrap();
    let lands = &game.state().players.a.lands;
    assert_eq!(lands.len(), 3);
    let given = &lands[1];
    assert_eq!(given.id, "A-L2");
    assert!(given.tilled);
    assert_eq!((given.slots_max, given.slots_used), (2, 1));
    assert_eq!(given.developments, ["house"]);
    let new = &lands[2];
    assert_eq!(
        (new.id.as_str(), new.tilled, new.slots_max),
        ("A-L3", false, 1)
    );
    assert!(new.developments.is_empty());
    assert_eq!(stat(&game, A, "maxPopulation"), 2.0);
    assert_eq!(res(&game, A, "gold"), 8.0, "20 − 12");
    let traces: Vec<_> = outcome.traces.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(traces, ["expand", "till", "develop"]);

    // A land that is already tilled refuses the whole decree, unpaid.
    setup(&mut game, A, json!([add("gold", 12), add("ap", 1)]));
    refused_action(
        &mut game,
        "royal_decree",
        decree("A-L2", "royal_decree_farm"),
        "ALREADY_TILLED",
    );
    refused_action(
        &mut game,
        "royal_decree",
        decree("A-L9", "royal_decree_farm"),
        "LAND_NOT_FOUND",
    );
}

// ----- GameConfig phases (Q21) and per-player starts (Q22) -------------------------------------

#[test]
fn configured_phases_are_played() {
    let mut game = game_with_config(
        json!({"phases": [{"id": "court", "action": true, "steps": [{"id": "audience"}]}]}),
        humans(),
    );
    let snap = game.snapshot();
    assert_eq!(
        (
            snap.game.current_phase.as_str(),
            snap.game.current_step.as_str()
        ),
        ("court", "audience")
    );
    assert_eq!(snap.phases.len(), 1);
    setup(&mut game, A, json!([add("ap", 2)]));
    game.apply(&tax(Some(A))).expect("acting at once");
    let result = game.advance().unwrap();
    assert_eq!(
        (result.phase.as_str(), result.step.as_str()),
        ("court", "audience")
    );
    assert_eq!(
        res(&game, A, "ap"),
        0.0,
        "leaving the action phase forfeits AP"
    );
    assert_eq!((game.state().turn, game.state().active), (1, B));
    game.apply(&tax(Some(B))).expect("B's one AP");
    game.advance().unwrap();
    assert_eq!((game.state().turn, game.state().active), (2, A));
    assert_eq!(
        (res(&game, A, "gold"), res(&game, B, "gold")),
        (14.0, 14.0),
        "no growth and no upkeep phases: only the taxes"
    );
}

#[test]
fn per_player_starts_are_honoured_in_full() {
    let mut game = game_with_config(
        json!({"start": {
            "player": {
                "resources": {"gold": 3, "ap": 0, "happiness": 0, "castleHP": 5},
                "stats": {"maxPopulation": 2, "armyStrength": 0, "fortificationStrength": 0,
                          "absorption": 0, "growth": 0.25, "warWeariness": 0},
                "population": {"council": 1, "legion": 0, "fortifier": 0, "citizen": 0},
                "lands": [{}, {}, {}]
            },
            "players": {"B": {
                "resources": {"gold": 7},
                "population": {"council": 2, "legion": 1},
                "lands": [{"developments": ["farm", "house"], "slotsMax": 2, "tilled": true}]
            }}
        }}),
        GameOptions::default(),
    );
    let state = game.state();
    assert_eq!((res(&game, A, "gold"), res(&game, B, "gold")), (3.0, 7.0));
    assert_eq!(res(&game, B, "castleHP"), 5.0, "merged over the base");
    assert_eq!(state.players.a.lands.len(), 3);
    assert_eq!(state.players.a.population.get("council"), Some(&1));
    let b = &state.players.b;
    assert_eq!(b.population.get("council"), Some(&2));
    assert_eq!(b.population.get("legion"), Some(&1));
    assert_eq!(b.population.get("fortifier"), Some(&0), "from the base");
    assert_eq!(b.lands.len(), 1);
    assert_eq!(b.lands[0].developments, ["farm", "house"]);
    assert_eq!((b.lands[0].slots_max, b.lands[0].slots_used), (2, 2));
    // Q11: start population and developments run their hooks.
    assert_eq!(stat(&game, B, "armyStrength"), 1.0, "the legion's +1");
    assert_eq!(stat(&game, B, "maxPopulation"), 3.0, "the house's +1");
    assert_eq!(legion_passives(&game, B), ["legion_B_1"]);
    let compensations =
        serde_json::to_value(Wire(&game.snapshot())).unwrap()["compensations"].clone();
    assert_eq!(
        compensations["B"]["population"],
        json!({"council": 2, "legion": 1})
    );
    // B's two councillors give 2 AP a turn.
    advance(&mut game, 8 + 3);
    assert_eq!(res(&game, B, "ap"), 2.0);
}

// ----- locked actions and malformed action requests -------------------------------------------

#[test]
fn system_actions_are_locked_until_unlocked() {
    let mut game = new_game();
    to_main(&mut game);
    setup(&mut game, A, json!([add("gold", 30), add("ap", 2)]));
    for id in ["plow", "till", "plunder"] {
        let error = refused_action(&mut game, id, json!({}), "ACTION_LOCKED");
        assert_eq!(error.to_string(), format!("Action {id} is locked"));
    }
    act(&mut game, "build", json!({"id": "plow_workshop"})).unwrap();
    act(&mut game, "plow", json!({})).expect("Plow Workshop unlocks Plow");
    assert_eq!(game.state().players.a.lands.len(), 3);
    refused_action(&mut game, "till", json!({}), "ACTION_LOCKED");
}

#[test]
fn malformed_action_requests_are_refused() {
    let mut game = new_game();
    to_main(&mut game);
    setup(&mut game, A, json!([add("gold", 20), add("ap", 1)]));
    let error = refused_action(&mut game, "nope", json!({}), "UNKNOWN_ACTION");
    assert_eq!(error.to_string(), "Unknown action \"nope\"");
    let error = refused_action(
        &mut game,
        "royal_decree",
        decree("A-L2", "royal_decree_castle"),
        "UNKNOWN_OPTION",
    );
    assert_eq!(
        error.to_string(),
        "Unknown option \"royal_decree_castle\" for effect group \"royal_decree_develop\""
    );
    refused_action(
        &mut game,
        "royal_decree",
        json!({"landId": "A-L2"}),
        "MISSING_SELECTION",
    );
    refused_action(
        &mut game,
        "royal_decree",
        json!({"choices": {"royal_decree_develop": null}}),
        "MISSING_SELECTION",
    );
    refused_action(
        &mut game,
        "develop",
        json!({"id": "castle", "landId": "A-L2"}),
        "UNKNOWN_DEVELOPMENT",
    );
    refused_action(&mut game, "develop", json!({}), "MISSING_PARAMETER");
    refused_action(
        &mut game,
        "build",
        json!({"id": "moat"}),
        "UNKNOWN_BUILDING",
    );
    setup(
        &mut game,
        A,
        json!([{"type": "development", "method": "add", "params": {"id": "house"}}]),
    );
    refused_action(
        &mut game,
        "raise_pop",
        json!({"role": "jester"}),
        "UNKNOWN_ROLE",
    );
    act(&mut game, "raise_pop", json!({"role": "citizen"})).expect("a known role");
}

// ----- names, dev mode, snapshots ------------------------------------------------------------------

fn rename(player_id: PlayerId, name: &str) -> Command {
    Command::SetPlayerName {
        player_id,
        player_name: name.into(),
    }
}

#[test]
fn player_names_are_trimmed_and_checked() {
    let mut game = new_game();
    game.apply(&rename(A, "  Ada Lovelace \t")).unwrap();
    assert_eq!(game.state().players.a.name, "Ada Lovelace");
    let error = refused(&mut game, &rename(B, ""), "INVALID_PLAYER_NAME");
    assert_eq!(
        error.to_string(),
        "Player names must include visible characters."
    );
    refused(&mut game, &rename(B, " \n\t "), "INVALID_PLAYER_NAME");
    let forty = "x".repeat(40);
    game.apply(&rename(B, &format!("  {forty}  "))).unwrap();
    assert_eq!(game.state().players.b.name, forty);
    let error = refused(
        &mut game,
        &rename(B, &"x".repeat(41)),
        "INVALID_PLAYER_NAME",
    );
    assert_eq!(
        error.to_string(),
        "Player names must be 40 characters or fewer."
    );
    // Lengths count UTF-16 units, as the reference did: 👑 is two.
    game.apply(&rename(A, &"👑".repeat(20))).unwrap();
    refused(
        &mut game,
        &rename(A, &"👑".repeat(21)),
        "INVALID_PLAYER_NAME",
    );
    game.apply(&rename(A, &"é".repeat(40)))
        .expect("é is one unit");
    let snap = game.snapshot();
    assert_eq!(snap.game.players[0].name, "é".repeat(40));
    assert_eq!(snap.game.players[1].name, forty);
}

#[test]
fn set_dev_mode_only_flips_the_flag() {
    for (dev, flip) in [(false, true), (true, false)] {
        let mut game = Game::new(
            content(),
            GameOptions {
                dev_mode: dev,
                ..GameOptions::default()
            },
        )
        .unwrap();
        advance(&mut game, 3);
        let mut before = serde_json::to_value(Wire(&game.snapshot())).unwrap();
        let state_before = game.state().clone();
        game.apply(&Command::SetDevMode { enabled: flip }).unwrap();
        assert_eq!(game.state().dev_mode, flip);
        let mut state_after = game.state().clone();
        state_after.dev_mode = dev;
        assert_eq!(state_after, state_before, "only the flag in the state");
        let after = serde_json::to_value(Wire(&game.snapshot())).unwrap();
        assert_eq!(after["game"]["devMode"], flip);
        before["game"]["devMode"] = json!(flip);
        for (key, value) in before.as_object().unwrap() {
            assert_eq!(
                &after[key], value,
                "snapshot {key} (started in dev mode: {dev})"
            );
        }
    }
}

#[test]
fn snapshots_are_pure_and_logs_travel_with_their_result() {
    let mut game = new_game();
    to_main(&mut game);
    setup(
        &mut game,
        A,
        json!([hire("legion"), add_stat("armyStrength", 5.0), add("ap", 1)]),
    );
    let outcome = act(&mut game, "army_attack", json!({})).unwrap();
    assert_eq!(outcome.attack_logs.len(), 1);
    let first = serde_json::to_string(&Wire(&game.snapshot())).unwrap();
    let second = serde_json::to_string(&Wire(&game.snapshot())).unwrap();
    assert_eq!(first, second, "taking a snapshot changes nothing");
    let plain: Value = serde_json::from_str(&first).unwrap();
    assert!(plain["metadata"].get("effectLogs").is_none());
    let carried =
        serde_json::to_value(Wire(&game.snapshot_with_logs(outcome.attack_logs.clone()))).unwrap();
    let logs = &carried["metadata"]["effectLogs"]["attack:perform"];
    assert_eq!(logs.as_array().map(Vec::len), Some(1));
    assert_eq!(logs[0]["evaluation"]["target"]["after"], 4);
    let later = serde_json::to_string(&Wire(&game.snapshot())).unwrap();
    assert_eq!(later, first, "the log went with its result only");
}

#[test]
fn commands_have_the_replay_wire_shape() {
    let bodies: Vec<StoredCommand> = serde_json::from_value(json!([
        {"type": "advance"},
        {"type": "action", "actionId": "tax"},
        {"type": "action", "actionId": "develop", "params": {"id": "house"}, "playerId": "A"},
        {"type": "aiTurn", "playerId": "B"},
        {"type": "setDevMode", "enabled": true},
        {"type": "setPlayerName", "playerId": "A", "playerName": "Ada"}
    ]))
    .unwrap();
    let commands: Vec<Command> = bodies.into_iter().map(Command::from).collect();
    assert_eq!(commands[0], Command::Advance);
    assert_eq!(commands[1], tax(None));
    assert_eq!(commands[3], Command::AiTurn { player_id: B });
    assert_eq!(commands[5], rename(A, "Ada"));
    let back =
        serde_json::to_value(commands.iter().map(StoredCommand::from).collect::<Vec<_>>()).unwrap();
    assert_eq!(back[1], json!({"type": "action", "actionId": "tax"}));
    assert_eq!(back[2]["playerId"], "A");
    for bad in [
        json!({"type": "jump"}),
        json!({"type": "action"}),
        json!({"type": "aiTurn", "playerId": "C"}),
    ] {
        assert!(
            serde_json::from_value::<StoredCommand>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}
