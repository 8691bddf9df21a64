//! Content validation (errors name the entry at fault), `GameConfig`
//! overrides, and the default content's round trip.

use kb_engine::content::ContentError;
use kb_engine::{Content, ContentDef, PlayerId};
use kb_protocol::schema::{self, GameConfig};
use serde_json::{Value, json};

use crate::support::*;

/// Builds content from the default edited by `edit`; expects it refused.
fn refused(edit: impl FnOnce(&mut Value)) -> ContentError {
    let mut value = def_json(&default_def());
    edit(&mut value);
    let def: ContentDef = parse_def(value).expect("the edit still parses");
    Content::new(def).expect_err("the edit must be refused")
}

/// Asserts `error` names `path` and says `message`.
fn check(error: &ContentError, path: &str, message: &str) {
    assert_eq!(error.path, path, "{error}");
    assert!(error.message.contains(message), "{error}");
    assert_eq!(
        error.to_string(),
        format!("{}: {}", error.path, error.message)
    );
}

fn index_of(list: &Value, id: &str) -> usize {
    list.as_array()
        .unwrap()
        .iter()
        .position(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("no {id}"))
}

#[test]
fn the_default_content_is_valid_and_round_trips() {
    let def = default_def();
    Content::new(def.clone()).expect("valid");
    let json = serde_json::to_string(&schema::ContentDef::from(&def)).unwrap();
    let back: schema::ContentDef = serde_json::from_str(&json).unwrap();
    assert_eq!(ContentDef::from(back.clone()), def);
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
    // Keys the engine does not read travel along (names, icons, UI hints).
    let value: Value = serde_json::from_str(&json).unwrap();
    let tax = &value["actions"][index_of(&value["actions"], "tax")];
    assert_eq!(tax["icon"], "💰");
    assert_eq!(tax["category"], "basic");
}

#[test]
fn an_unknown_effect_handler_is_named() {
    let error = refused(|v| {
        let i = index_of(&v["actions"], "tax");
        v["actions"][i]["effects"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "gold", "method": "print"}));
    });
    check(
        &error,
        "actions[2] (tax).effects[1]",
        "unknown effect handler \"gold:print\"",
    );
    let error = refused(|v| {
        let i = index_of(&v["buildings"], "castle_walls");
        v["buildings"][i]["onBuild"][0]["effects"][1]["method"] = json!("multiply");
    });
    check(
        &error,
        "buildings[5] (castle_walls).onBuild[0].effects[1]",
        "unknown effect handler \"stat:multiply\"",
    );
    let error = refused(|v| {
        v["actions"][0]["effects"][0] = json!({"type": "land"});
    });
    check(
        &error,
        "actions[0] (expand).effects[0]",
        "needs both `type` and `method`",
    );
}

#[test]
fn a_number_parameter_of_another_type_refuses_and_changes_nothing() {
    // It used to count as 0. Like every parameter a handler refuses, it
    // is refused when the effect runs (module doc of `content::op`), with
    // the handler's message, and the action changes nothing.
    for amount in [json!("lots"), json!(true), json!([1]), json!({"n": 1})] {
        let mut game = game_with(|def| {
            let mut value = def_json(def);
            value["actions"][0]["effects"][1]["params"]["amount"] = amount.clone();
            *def = parse_def(value).unwrap();
        });
        to_main(&mut game);
        let error = refused_action(&mut game, "expand", json!({}), "INVALID_EFFECT");
        assert!(
            error.to_string().contains("`amount` must be a number"),
            "{amount}: {error}"
        );
    }
    // A `$placeholder` is a number to come: filled in from the action's
    // parameters, which must then give a number.
    let mut game = game_with(|def| {
        let mut value = def_json(def);
        value["actions"][0]["effects"][1]["params"]["amount"] = json!("$cheer");
        *def = parse_def(value).unwrap();
    });
    to_main(&mut game);
    setup(&mut game, PlayerId::A, json!([add("ap", 1)]));
    let before = res(&game, PlayerId::A, "happiness");
    act(&mut game, "expand", json!({"cheer": 2})).unwrap();
    assert_eq!(res(&game, PlayerId::A, "happiness"), before + 2.0);
    let error = refused_action(
        &mut game,
        "expand",
        json!({"cheer": "a lot"}),
        "INVALID_EFFECT",
    );
    assert!(
        error.to_string().contains("`amount` must be a number"),
        "{error}"
    );
}

#[test]
fn a_trigger_that_is_not_a_list_is_named() {
    // It used to be kept as display data, and never ran.
    for value in [json!(5), json!({"type": "stat"}), json!("onBuild")] {
        let error = refused(|v| {
            let i = index_of(&v["buildings"], "castle_walls");
            v["buildings"][i]["onBuild"] = value.clone();
        });
        check(
            &error,
            "buildings[5] (castle_walls).onBuild",
            "a trigger is a list of effects",
        );
    }
}

#[test]
fn an_unknown_evaluator_is_named() {
    let error = refused(|v| {
        let i = index_of(&v["developments"], "farm");
        v["developments"][i]["onGainIncomeStep"][0]["evaluator"]["type"] = json!("weather");
    });
    check(
        &error,
        "developments[0] (farm).onGainIncomeStep[0].evaluator",
        "unknown evaluator \"weather\"",
    );
    let error = refused(|v| {
        v["phases"][0]["steps"][3]["effects"][0]["evaluator"]["type"] = json!("moon");
    });
    check(
        &error,
        "phases[0] (growth).steps[3] (raise-strength).effects[0].evaluator",
        "unknown evaluator \"moon\"",
    );
}

#[test]
fn a_bad_requirement_is_named() {
    let hire = |v: &Value| index_of(&v["actions"], "raise_pop");
    let error = refused(|v| {
        let i = hire(v);
        v["actions"][i]["requirements"][0]["method"] = json!("vote");
    });
    check(
        &error,
        "actions[3] (raise_pop).requirements[0]",
        "unknown requirement \"evaluator:vote\"",
    );
    let error = refused(|v| {
        let i = hire(v);
        v["actions"][i]["requirements"][0]["params"]["operator"] = json!("approx");
    });
    check(
        &error,
        "actions[3] (raise_pop).requirements[0].operator",
        "expected one of lt",
    );
    let error = refused(|v| {
        let i = hire(v);
        v["actions"][i]["requirements"][0]["params"]["left"] = json!({"type": "dice"});
    });
    check(
        &error,
        "actions[3] (raise_pop).requirements[0].left",
        "unknown evaluator \"dice\"",
    );
    let error = refused(|v| {
        let i = hire(v);
        v["actions"][i]["requirements"][0]["params"]["right"] = json!("five");
    });
    check(
        &error,
        "actions[3] (raise_pop).requirements[0].right",
        "expected a number or an evaluator",
    );
}

#[test]
fn duplicate_ids_are_named() {
    let error = refused(|v| {
        let market = v["buildings"][4].clone();
        v["buildings"].as_array_mut().unwrap().push(market);
    });
    check(&error, "buildings[12] (market)", "duplicate id \"market\"");
    let error = refused(|v| {
        v["actions"][1]["id"] = json!("expand");
    });
    check(&error, "actions[1] (expand)", "duplicate id \"expand\"");
    let error = refused(|v| {
        v["phases"][1]["id"] = json!("growth");
    });
    check(&error, "phases[1] (growth)", "duplicate phase id");
    let error = refused(|v| {
        v["phases"][0]["steps"][2]["id"] = json!("gain-income");
    });
    check(
        &error,
        "phases[0] (growth).steps[2] (gain-income)",
        "duplicate step id",
    );
}

#[test]
fn a_phase_needs_steps() {
    let error = refused(|v| {
        v["phases"][1]["steps"] = json!([]);
    });
    check(&error, "phases[1] (upkeep)", "at least one step");
    let error = refused(|v| {
        v["phases"] = json!([]);
    });
    check(&error, "phases", "at least one phase");
}

#[test]
fn start_configuration_references_are_checked() {
    let error = refused(|v| {
        v["start"]["player"]["lands"][1]["developments"] = json!(["castle"]);
    });
    check(
        &error,
        "start.player.lands[1].developments",
        "unknown development \"castle\"",
    );
    let error = refused(|v| {
        v["start"]["player"]["population"]["jester"] = json!(1);
    });
    check(
        &error,
        "start.player.population",
        "unknown population role \"jester\"",
    );
    let error = refused(|v| {
        v["start"]["players"]["B"]["population"] = json!({"knight": 2});
    });
    check(
        &error,
        "start.players.B.population",
        "unknown population role \"knight\"",
    );
    let error = refused(|v| {
        v["start"]["modes"]["dev"]["player"]["population"]["bard"] = json!(1);
    });
    check(
        &error,
        "start.modes.dev.player.population",
        "unknown population role \"bard\"",
    );
    let error = refused(|v| {
        v["start"]["player"]["population"]["council"] = json!(1.5);
    });
    check(&error, "start.player.population.council", "whole number");
}

#[test]
fn dev_mode_per_player_overrides_are_checked_too() {
    let error = refused(|v| {
        v["start"]["modes"]["dev"]["players"]["B"]["population"] = json!({"ghost": 1});
    });
    check(
        &error,
        "start.modes.dev.players.B.population",
        "unknown population role \"ghost\"",
    );
    let error = refused(|v| {
        v["start"]["modes"]["dev"]["players"]["A"] = json!({"lands": [{"developments": ["moat"]}]});
    });
    check(
        &error,
        "start.modes.dev.players.A.lands[0].developments",
        "unknown development \"moat\"",
    );
    let error = refused(|v| {
        v["start"]["modes"]["dev"]["players"]["A"] = json!({"population": {"council": -1}});
    });
    check(
        &error,
        "start.modes.dev.players.A.population.council",
        "whole number",
    );
}

#[test]
fn effect_group_options_name_existing_actions() {
    let error = refused(|v| {
        let i = index_of(&v["actions"], "royal_decree");
        v["actions"][i]["effects"][2]["options"][1]["actionId"] = json!("conjure");
    });
    check(
        &error,
        "actions[4] (royal_decree).effects[2].options[1] (royal_decree_farm)",
        "unknown action \"conjure\"",
    );
    let error = refused(|v| {
        let i = index_of(&v["actions"], "royal_decree");
        v["actions"][i]["effects"][2]["options"] = json!([]);
    });
    check(
        &error,
        "actions[4] (royal_decree).effects[2]",
        "at least one option",
    );
    let error = refused(|v| {
        let i = index_of(&v["actions"], "plow");
        v["actions"][i]["effects"][0]["params"]["id"] = json!("teleport");
    });
    check(
        &error,
        "actions[8] (plow).effects[0]",
        "unknown action \"teleport\"",
    );
}

#[test]
fn literal_references_in_effects_are_checked() {
    let error = refused(|v| {
        let i = index_of(&v["buildings"], "plow_workshop");
        v["buildings"][i]["onBuild"] = json!([
            {"type": "building", "method": "add", "params": {"id": "moat"}}
        ]);
    });
    check(
        &error,
        "buildings (plow_workshop).onBuild[0]",
        "unknown building \"moat\"",
    );
    let error = refused(|v| {
        v["populations"][0]["onGainAPStep"] = json!([
            {"type": "population", "method": "add", "params": {"role": "serf"}}
        ]);
    });
    check(
        &error,
        "populations (council).onGainAPStep[0]",
        "unknown population role \"serf\"",
    );
}

#[test]
fn a_bad_win_condition_trigger_is_named() {
    let error = refused(|v| {
        v["rules"]["winConditions"][0]["trigger"]["type"] = json!("vote");
    });
    check(
        &error,
        "rules.winConditions[0] (castle-destroyed)",
        "unknown win trigger type \"vote\"",
    );
    let error = refused(|v| {
        v["rules"]["winConditions"][0]["trigger"]
            .as_object_mut()
            .unwrap()
            .remove("comparison");
    });
    check(
        &error,
        "rules.winConditions[0] (castle-destroyed)",
        "needs a comparison and a value",
    );
}

#[test]
fn bad_rules_and_tiers_are_named() {
    let error = refused(|v| {
        v["rules"]["slotsPerNewLand"] = json!(3);
    });
    check(&error, "rules", "slotsPerNewLand");
    let error = refused(|v| {
        v["rules"]["tierDefinitions"][0]["enterEffects"][0]["type"] = json!("aura");
    });
    check(
        &error,
        "rules.tierDefinitions[0] (happiness:tier:despair).enterEffects[0]",
        "unknown effect handler \"aura:add\"",
    );
}

// ----- GameConfig ---------------------------------------------------------------------------

fn configured(config: Value) -> Content {
    let config: GameConfig = serde_json::from_value(config).expect("config parses");
    Content::with_config(&default_def(), &config.into()).expect("config is valid")
}

fn ids<'a, T: 'a>(items: impl Iterator<Item = &'a T>, id: impl Fn(&T) -> &str) -> Vec<String> {
    items.map(|i| id(i).to_owned()).collect()
}

#[test]
fn config_lists_replace_registries_and_empty_lists_keep_them() {
    let default = content();
    // The start still names every default role, so the replacement keeps
    // them; the council's upkeep changes.
    let mut populations = def_json(&default_def())["populations"].clone();
    populations[0]["upkeep"] = json!({"gold": 1});
    let content = configured(json!({
        "buildings": [{"id": "shrine", "name": "Shrine", "costs": {"gold": 1},
                       "onBuild": [{"type": "stat", "method": "add",
                                    "params": {"key": "growth", "amount": 0.1}}]}],
        "populations": populations,
        "actions": [],
        "developments": []
    }));
    assert_eq!(
        ids(content.buildings().iter(), |b| &b.id),
        ["shrine"],
        "a non-empty list replaces the registry"
    );
    let council = content.populations().get("council").unwrap();
    assert_eq!(council.upkeep.as_ref().unwrap().value("gold"), 1.0);
    assert_eq!(
        ids(content.actions().iter(), |a| &a.id),
        ids(default.actions().iter(), |a| &a.id),
        "an empty list keeps the default"
    );
    assert_eq!(
        ids(content.developments().iter(), |d| &d.id),
        ids(default.developments().iter(), |d| &d.id)
    );
    assert_eq!(content.phases().len(), 3, "phases kept when absent");

    // The replaced registries are played: Build offers the shrine only.
    let mut game = kb_engine::Game::new(
        std::sync::Arc::new(content),
        kb_engine::GameOptions::default(),
    )
    .unwrap();
    to_main(&mut game);
    let builds: Vec<_> = game
        .candidate_moves()
        .into_iter()
        .filter(|m| m.action_id == "build")
        .map(|m| m.params["id"].clone())
        .collect();
    assert_eq!(builds, [json!("shrine")]);
    act(&mut game, "build", json!({"id": "shrine"})).unwrap();
    assert!((stat(&game, A, "growth") - 0.35).abs() < 1e-12);
    refused_action(
        &mut game,
        "build",
        json!({"id": "market"}),
        "UNKNOWN_BUILDING",
    );
    advance(&mut game, 1 + 7 + 8);
    assert_eq!(
        res(&game, A, "gold"),
        10.0 + 2.0 - 1.0 - 1.0 + 2.0 - 1.0,
        "two turns of farm +2 and council upkeep 1, and the shrine's 1"
    );
}

#[test]
fn config_start_and_phases_replace_the_defaults() {
    let content = configured(json!({
        "start": {"player": {"resources": {"gold": 1, "ap": 0, "happiness": 0, "castleHP": 3},
                              "population": {"council": 1}}},
        "phases": [{"id": "only", "action": true, "steps": [{"id": "act"}]}]
    }));
    assert_eq!(ids(content.phases().iter(), |p| &p.id), ["only"]);
    let start = content.start(false);
    assert_eq!(start.a.resources.value("castleHP"), 3.0);
    assert!(start.a.lands.is_empty(), "the whole start is replaced");
    assert_eq!(
        start.b.resources.value("ap"),
        0.0,
        "no per-player compensation"
    );
    assert_eq!(
        start,
        content.start(true),
        "no dev overlay either: modes were replaced"
    );
}

#[test]
fn an_invalid_config_is_refused_with_its_path() {
    let config: GameConfig = serde_json::from_value(json!({
        "actions": [{"id": "pray", "name": "Pray",
                     "effects": [{"type": "miracle", "method": "add"}]}]
    }))
    .unwrap();
    let error = Content::with_config(&default_def(), &config.into()).unwrap_err();
    check(
        &error,
        "actions[0] (pray).effects[0]",
        "unknown effect handler \"miracle:add\"",
    );
    // The default actions are gone, so references to them break too.
    let config: GameConfig = serde_json::from_value(json!({
        "actions": [{"id": "decree", "name": "Decree",
                     "effects": [{"type": "action", "method": "perform", "params": {"id": "expand"}}]}]
    }))
    .unwrap();
    let error = Content::with_config(&default_def(), &config.into()).unwrap_err();
    check(
        &error,
        "actions[0] (decree).effects[0]",
        "unknown action \"expand\"",
    );
    // Wrong types fail while parsing.
    assert!(serde_json::from_value::<GameConfig>(json!({"phases": {"id": "x"}})).is_err());
}

#[test]
fn whole_numbers_in_content_render_as_integers() {
    // Clients of the reference print `1`, not `1.0`.
    let rules = def_json(&crate::support::default_def())["rules"].clone();
    assert_eq!(rules["defaultActionAPCost"].to_string(), "1");
    assert_eq!(
        rules["tierDefinitions"][0]["range"]["min"].to_string(),
        "-10"
    );
    let castle = &rules["winConditions"][0]["trigger"]["value"];
    assert_eq!(castle.to_string(), "0");
}

/// Effect lists inside free-form JSON (trigger lists, nested effects) are
/// read by the engine (`Effects::from_json`), whole content by
/// `kb_protocol::schema`: both read every list of the default content
/// alike, and both refuse what is malformed.
#[test]
fn the_engine_reads_effects_in_json_as_the_schema_does() {
    use kb_engine::content::Effects;

    fn lists<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    let trigger = key
                        .strip_prefix("on")
                        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()));
                    let grouped = value
                        .as_array()
                        .is_some_and(|l| l.iter().any(|e| e.get("options").is_some()));
                    if value.is_array() && !grouped && (trigger || key.ends_with("ffects")) {
                        out.push(value);
                    }
                    lists(value, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| lists(item, out)),
            _ => {}
        }
    }
    let schema_read = |value: &Value| {
        serde_json::from_value::<schema::EffectList>(value.clone()).map(Effects::from)
    };
    let text = include_str!("../../kb-content/content/default.json");
    let json: Value = serde_json::from_str(text).unwrap();
    let mut found = Vec::new();
    lists(&json, &mut found);
    assert!(found.len() > 20, "{} lists", found.len());
    for list in found {
        let engine = Effects::from_json(list).expect("the engine reads it");
        assert_eq!(
            engine,
            schema_read(list).expect("the schema reads it"),
            "{list}"
        );
    }
    for bad in [
        json!({"type": "stat"}),
        json!([{"type": 3}]),
        json!([{"round": "sideways"}]),
        json!([{"evaluator": {"params": {}}}]),
        json!([{"params": [1]}]),
        json!([{"effects": {"type": "stat"}}]),
    ] {
        assert!(Effects::from_json(&bad).is_err(), "{bad}");
        assert!(schema_read(&bad).is_err(), "{bad}");
    }
}
