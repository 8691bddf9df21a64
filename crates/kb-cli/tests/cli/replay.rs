//! `kingdom replay`: results, snapshots, options, and bad input.

use serde_json::{Value, json};

use crate::run::*;

fn advances(n: usize) -> Vec<Value> {
    vec![json!({"type": "advance"}); n]
}

fn commands(parts: &[Vec<Value>]) -> Value {
    Value::Array(parts.concat())
}

fn player(output: &Value, index: usize) -> &Value {
    &output["snapshot"]["game"]["players"][index]
}

#[test]
fn a_short_game() {
    let input = json!({"commands": commands(&[
        advances(7),
        vec![json!({"type": "action", "actionId": "tax"})],
        advances(1),
        vec![json!({"type": "aiTurn", "playerId": "B"})],
    ])});
    let output = replay(&input).json();
    let results = output["results"].as_array().unwrap();
    assert_eq!(results.len(), 10);
    assert!(
        results.iter().all(|r| *r == json!({"ok": true})),
        "{results:?}"
    );
    let game = &output["snapshot"]["game"];
    assert_eq!(game["turn"], 2);
    assert_eq!(game["activePlayerId"], "A");
    assert_eq!(game["currentPhase"], "growth");
    assert_eq!(player(&output, 0)["resources"]["gold"], 14);
    assert_eq!(player(&output, 0)["resources"]["happiness"], -1);
    assert_eq!(
        player(&output, 1)["resources"]["gold"],
        18,
        "the AI taxed twice"
    );
    assert_eq!(player(&output, 1)["aiControlled"], true);
    assert_eq!(output["snapshot"]["actionCostResource"], "ap");
}

#[test]
fn a_refused_command_is_data() {
    let input = json!({"commands": [
        {"type": "action", "actionId": "tax"},
        {"type": "advance"},
        {"type": "action", "actionId": "tax", "playerId": "B"},
        {"type": "setPlayerName", "playerId": "B", "playerName": " "},
        {"type": "aiTurn", "playerId": "A"},
        {"type": "advance"}
    ]});
    let output = replay(&input).json();
    let results = &output["results"];
    assert_eq!(
        results[0],
        json!({"ok": false, "error": {"code": "NOT_ACTION_PHASE",
            "message": "Actions can only be performed in an action phase (current phase: growth)"}})
    );
    assert_eq!(results[1], json!({"ok": true}));
    assert_eq!(results[2]["error"]["code"], "NOT_ACTIVE_PLAYER");
    assert_eq!(
        results[3]["error"],
        json!({"code": "INVALID_PLAYER_NAME", "message": "Player names must include visible characters."})
    );
    assert_eq!(results[4]["error"]["code"], "NO_AI_CONTROLLER");
    assert_eq!(results[5], json!({"ok": true}));
    // Refusals changed nothing: two advances were played.
    assert_eq!(output["snapshot"]["game"]["currentStep"], "gain-ap");
    assert_eq!(player(&output, 1)["name"], "Opponent");
}

#[test]
fn stdin_gives_the_same_output_as_a_file() {
    let input = json!({"devMode": true, "commands": commands(&[advances(7),
        vec![json!({"type": "action", "actionId": "expand"})]])});
    let from_file = replay(&input);
    let from_stdin = replay_stdin(&input.to_string());
    assert_eq!(from_stdin.code, 0, "{}", from_stdin.stderr);
    assert_eq!(from_stdin.stdout, from_file.stdout);
    let pretty = {
        let file = replay_file(&input.to_string());
        kingdom(&["replay", "--pretty", file.path.to_str().unwrap()], None)
    };
    assert!(pretty.stdout.contains("\n  \"results\""));
    assert_eq!(pretty.json(), from_file.json());
}

#[test]
fn dev_mode() {
    let output = replay(&json!({"devMode": true, "commands": []})).json();
    assert_eq!(output["results"], json!([]));
    assert_eq!(output["snapshot"]["game"]["devMode"], true);
    assert_eq!(player(&output, 0)["resources"]["gold"], 100);
    assert_eq!(player(&output, 1)["resources"]["castleHP"], 1);
    let output = replay(&json!({"commands": [{"type": "setDevMode", "enabled": true}]})).json();
    assert_eq!(output["results"][0], json!({"ok": true}));
    assert_eq!(output["snapshot"]["game"]["devMode"], true);
    assert_eq!(
        player(&output, 0)["resources"]["gold"],
        10,
        "setDevMode only flips the flag"
    );
}

#[test]
fn a_config_override_is_played() {
    let input = json!({
        "config": {
            "buildings": [{"id": "shrine", "name": "Shrine", "costs": {"gold": 4}}],
            "phases": [{"id": "court", "action": true, "steps": [{"id": "audience"}]},
                       {"id": "harvest", "steps": [{"id": "income", "triggers": ["onGainIncomeStep"]}]}]
        },
        "commands": [
            {"type": "action", "actionId": "build", "params": {"id": "shrine"}},
            {"type": "advance"},
            {"type": "advance"},
            {"type": "action", "actionId": "build", "params": {"id": "market"}}
        ]
    });
    let output = replay(&input).json();
    // A starts in the action phase with no AP: the build is refused.
    assert_eq!(
        output["results"][0]["error"]["code"],
        "INSUFFICIENT_RESOURCE"
    );
    assert_eq!(output["results"][1], json!({"ok": true}));
    assert_eq!(output["results"][2], json!({"ok": true}));
    assert_eq!(output["results"][3]["error"]["code"], "AI_CONTROLLED");
    let phases: Vec<&str> = output["snapshot"]["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(phases, ["court", "harvest"]);
    assert_eq!(output["snapshot"]["game"]["activePlayerId"], "B");
    assert_eq!(player(&output, 0)["resources"]["gold"], 12, "one harvest");
}

#[test]
fn player_names_apply_before_the_commands() {
    let input = json!({
        "playerNames": {"A": "  Ada  ", "B": "Babbage"},
        "commands": [{"type": "setPlayerName", "playerId": "B", "playerName": "Charles"}]
    });
    let output = replay(&input).json();
    assert_eq!(player(&output, 0)["name"], "Ada");
    assert_eq!(player(&output, 1)["name"], "Charles");
    replay(&json!({"playerNames": {"A": "x".repeat(41)}, "commands": []}))
        .bad_input(&["invalid name for player A", "40 characters or fewer"]);
    replay(&json!({"playerNames": {"C": "Carol"}, "commands": []}))
        .bad_input(&["malformed replay file", "playerNames"]);
}

#[test]
fn malformed_input_is_an_error() {
    replay_stdin("{\"commands\": [").bad_input(&["malformed replay file", "EOF"]);
    replay_stdin("").bad_input(&["malformed replay file"]);
    replay(&json!({"commands": [{"type": "advance"}, {"type": "jump"}]}))
        .bad_input(&["commands[1]", "unknown variant `jump`"]);
    replay(&json!({"commands": [{"type": "action"}]})).bad_input(&["commands[0]", "actionId"]);
    replay(&json!({"devMode": true})).bad_input(&["missing field `commands`"]);
    replay(&json!({"comands": []})).bad_input(&["unknown field `comands`"]);
    replay(&json!({"devMode": "yes", "commands": []})).bad_input(&["devMode"]);
    replay(
        &json!({"config": {"actions": [{"id": "pray", "name": "Pray",
        "effects": [{"type": "miracle", "method": "add"}]}]}, "commands": []}),
    )
    .bad_input(&[
        "invalid config",
        "actions[0] (pray).effects[0]",
        "unknown effect handler",
    ]);
    replay(&json!({"config": {"phases": {"id": "x"}}, "commands": []}))
        .bad_input(&["config.phases"]);
}

#[test]
fn an_unreadable_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let run = kingdom(&["replay", missing.to_str().unwrap()], None);
    run.bad_input(&["cannot read", missing.to_str().unwrap()]);
    let run = kingdom(&["replay", dir.path().to_str().unwrap()], None);
    run.bad_input(&["cannot read", dir.path().to_str().unwrap()]);
}

#[test]
fn usage_errors_exit_with_2() {
    let run = kingdom(&["replay"], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("Usage"), "{}", run.stderr);
    assert_eq!(kingdom(&["unknown"], None).code, 2);
    let help = kingdom(&["--help"], None);
    assert_eq!(help.code, 0);
    let listed = |name: &str| {
        help.stdout
            .lines()
            .any(|line| line.trim_start().starts_with(&format!("{name} ")))
    };
    assert!(listed("replay") && listed("bench"), "{}", help.stdout);
}

/// `kingdom replay` prints exactly the bytes recorded before the wire
/// format moved out of the engine (`tests/golden/*.input.json` and the
/// `*.output.json` the release of 2026-12 printed for them).
#[test]
fn replays_print_the_recorded_bytes() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".input.json"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 4);
    for input in inputs {
        let name = input.to_string_lossy().replace(".input.json", "");
        let expected = std::fs::read_to_string(format!("{name}.output.json")).unwrap();
        let run = kingdom(&["replay", input.to_str().unwrap()], None);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        assert!(run.stdout == expected, "{name}: the output differs");
    }
}

/// Content can make `onUnassigned` remove a member of the same role once,
/// guarded by a stat. The count goes down before the hook runs, so it
/// reaches 0 and stops there (it used to underflow: 4,294,967,295 in a
/// release build, a panic in a debug one).
#[test]
fn an_unassign_hook_that_removes_its_own_role_cannot_underflow_the_count() {
    let input = json!({
        "config": {
            "actions": [{"id": "fire", "name": "Fire", "baseCosts": {"ap": 0},
                "effects": [{"type": "population", "method": "remove", "params": {"role": "serf"}}]}],
            "populations": [{"id": "serf", "name": "Serf", "onUnassigned": [
                {"evaluator": {"type": "compare", "params": {
                    "left": {"type": "stat", "params": {"key": "guard"}}, "right": 0, "operator": "eq"}},
                 "effects": [
                    {"type": "stat", "method": "add", "params": {"key": "guard", "amount": 1}},
                    {"type": "population", "method": "remove", "params": {"role": "serf"}}]}]}],
            "phases": [{"id": "main", "action": true, "steps": [{"id": "main"}]}],
            "start": {"player": {"resources": {"ap": 1}, "population": {"serf": 1}}}
        },
        "commands": [{"type": "action", "actionId": "fire"}, {"type": "action", "actionId": "fire"}]
    });
    let output = replay(&input).json();
    assert_eq!(output["results"], json!([{"ok": true}, {"ok": true}]));
    let a = player(&output, 0);
    assert_eq!(a["population"]["serf"], 0);
    assert_eq!(a["stats"]["guard"], 1, "the hook ran once");
}

/// `aiPlayers` as in `POST /sessions`: `[]` is a game between two humans,
/// `["A", "B"]` leaves both seats to the AI.
#[test]
fn ai_players_choose_the_seats_the_ai_plays() {
    let mut human_b = advances(8);
    human_b.extend(advances(7));
    human_b.push(json!({"type": "action", "actionId": "tax"}));
    human_b.push(json!({"type": "aiTurn", "playerId": "B"}));
    let output = replay(&json!({"aiPlayers": [], "commands": human_b})).json();
    let results = output["results"].as_array().unwrap();
    assert_eq!(results[15], json!({"ok": true}), "B acts as a human");
    assert_eq!(results[16]["error"]["code"], "NO_AI_CONTROLLER");
    assert_eq!(player(&output, 1)["aiControlled"], false);

    let both = json!({"aiPlayers": ["A", "B"], "commands": [
        {"type": "aiTurn", "playerId": "A"},
        {"type": "action", "actionId": "tax"}
    ]});
    let output = replay(&both).json();
    assert_eq!(output["results"][0], json!({"ok": true}));
    assert_eq!(output["results"][1]["error"]["code"], "AI_CONTROLLED");
    assert_eq!(player(&output, 0)["aiControlled"], true);

    let default = replay(&json!({"commands": []})).json();
    assert_eq!(player(&default, 0)["aiControlled"], false);
    assert_eq!(player(&default, 1)["aiControlled"], true);
    replay(&json!({"aiPlayers": ["C"], "commands": []})).bad_input(&["aiPlayers"]);
}
