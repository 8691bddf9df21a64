//! Untrusted content, fuzzed: proptest generates whole content packs (the
//! data a client may submit in a session's `config`) and command sequences,
//! and plays them. Whatever the content, the engine must not panic (debug
//! builds check every overflow; `cargo test --release` does too, as the
//! `bench` profile turns overflow checks on), must not run away (every
//! command's work is bounded), must leave the state untouched when it
//! refuses a command, and must keep a state that survives JSON.
//!
//! Content is generated from the schema's vocabulary (every effect handler,
//! evaluator, operator, trigger and parameter name) with hostile values
//! mixed in: huge, negative and fractional numbers, placeholders that name
//! nothing, ids that do not exist, recursion between actions. Most packs
//! pass validation (it checks names and references, not numbers), so the
//! commands reach the rules. `PROPTEST_CASES` sets the number of packs;
//! `KB_FUZZ_STATS=1` prints each command's outcome code (to see how deep
//! the generated games go). `.ci/run` runs it in debug (64 packs) and in an
//! optimised build (32); a long run is `PROPTEST_CASES=20000 cargo test
//! --release -p kb-engine --test tests fuzz`.

use std::sync::Arc;

use kb_engine::{ByPlayer, Command, Content, ContentDef, Game, GameOptions, PlayerId};
use kb_protocol::answers::Wire;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{Map, Value, json};

const HANDLERS: &[(&str, &str)] = &[
    ("land", "add"),
    ("land", "till"),
    ("resource", "add"),
    ("resource", "remove"),
    ("resource", "transfer"),
    ("building", "add"),
    ("building", "remove"),
    ("stat", "add"),
    ("stat", "add_pct"),
    ("stat", "remove"),
    ("development", "add"),
    ("development", "remove"),
    ("passive", "add"),
    ("passive", "remove"),
    ("cost_mod", "add"),
    ("cost_mod", "remove"),
    ("result_mod", "add"),
    ("result_mod", "remove"),
    ("population", "add"),
    ("population", "remove"),
    ("action", "add"),
    ("action", "remove"),
    ("action", "perform"),
    ("attack", "perform"),
];

const ACTIONS: &[&str] = &["a0", "a1", "a2", "a3"];
const BUILDINGS: &[&str] = &["b0", "b1"];
const DEVELOPMENTS: &[&str] = &["d0", "d1"];
const ROLES: &[&str] = &["r0", "r1"];
const TRIGGERS: &[&str] = &[
    "onT",
    "onBuild",
    "onPayUpkeepStep",
    "onAssigned",
    "onUnassigned",
    "onBeforeAttacked",
    "onAttackResolved",
    "onUpkeepPhase",
];

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (-3i32..6).prop_map(|n| json!(n)),
        1 => prop::sample::select(vec![
            0.25, 0.5, -0.5, 999.0, 1000.0, 1001.0, 1e9, -1e9, 1e15, 1e300, -1e300, 4_294_967_296.0,
        ])
        .prop_map(|n| json!(n)),
    ]
}

/// A string parameter: a known id, a key, a placeholder or nonsense.
fn text() -> impl Strategy<Value = Value> {
    let mut words: Vec<&'static str> = Vec::new();
    words.extend(ACTIONS);
    words.extend(BUILDINGS);
    words.extend(DEVELOPMENTS);
    words.extend(ROLES);
    words.extend([
        "gold",
        "ap",
        "happiness",
        "castleHP",
        "armyStrength",
        "fortificationStrength",
        "absorption",
        "growth",
        "$id",
        "$landId",
        "$role",
        "$missing",
        "p_$player_$index",
        "A-L1",
        "A-L2",
        "B-L1",
        "",
        "step",
        "transfer_pct",
        "population",
    ]);
    prop::sample::select(words).prop_map(|w| json!(w))
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![3 => number(), 3 => text(), 1 => any::<bool>().prop_map(Value::Bool), 1 => Just(Value::Null)]
}

fn evaluator() -> impl Strategy<Value = Value> {
    let simple = (
        prop::sample::select(vec!["development", "population", "stat"]),
        prop::sample::select(vec!["id", "role", "key"]),
        text(),
        any::<bool>(),
    )
        .prop_map(|(kind, name, value, with)| {
            if with {
                json!({"type": kind, "params": {name: value}})
            } else {
                json!({"type": kind})
            }
        });
    simple.prop_recursive(2, 6, 2, |inner| {
        (
            prop_oneof![inner, number()],
            prop_oneof![
                evaluator_leaf(),
                number()
            ],
            prop::sample::select(vec!["lt", "lte", "gt", "gte", "eq", "ne"]),
        )
            .prop_map(|(left, right, op)| {
                json!({"type": "compare", "params": {"left": left, "right": right, "operator": op}})
            })
    })
}

fn evaluator_leaf() -> impl Strategy<Value = Value> {
    (prop::sample::select(vec!["development", "population", "stat"]), text())
        .prop_map(|(kind, value)| json!({"type": kind, "params": {"id": value, "role": value, "key": value}}))
}

/// An effect tree: leaves name a handler with random parameters; inner
/// nodes are evaluator groups or handlers with nested effects.
fn effect() -> impl Strategy<Value = Value> {
    let leaf = (
        prop::sample::select(HANDLERS.to_vec()),
        prop::collection::vec(
            (
                prop::sample::select(vec![
                    "key",
                    "amount",
                    "id",
                    "landId",
                    "role",
                    "count",
                    "percent",
                    "percentStat",
                    "actionId",
                    "developmentId",
                    "adjust",
                    "name",
                ]),
                scalar(),
            ),
            0..3,
        ),
        prop::option::of(prop::sample::select(vec!["up", "down", "nearest"])),
        any::<bool>(),
        0u8..8,
    )
        .prop_map(|((kind, method), params, round, shortfall, extra)| {
            // Parameters that make the effect runnable, then random ones
            // over them.
            let base = match kind {
                "resource" => json!({"key": "gold", "amount": 1}),
                "stat" => json!({"key": "armyStrength", "amount": 1, "percent": 0.5}),
                "building" => json!({"id": "b0"}),
                "development" => json!({"id": "d0", "landId": "A-L1"}),
                "passive" => json!({"id": "p"}),
                "cost_mod" => json!({"id": "c", "key": "gold", "amount": 1}),
                "result_mod" => json!({"id": "m", "actionId": "a0"}),
                "population" => json!({"role": "r0"}),
                "action" => json!({"id": "a2"}),
                "attack" => json!({"target": {"type": "resource", "key": "castleHP"}}),
                _ => json!({}),
            };
            let mut map = base.as_object().unwrap().clone();
            map.extend(params.into_iter().map(|(k, v)| (k.to_owned(), v)));
            match extra {
                0 => {
                    map.insert("target".into(), {
                        let kind = ["resource", "stat", "building"][map.len() % 3];
                        json!({"type": kind, "key": "castleHP", "id": "b0"})
                    });
                }
                1 => {
                    map.insert("evaluation".into(), {
                        let kind = ["step", "population", "transfer_pct"][map.len() % 3];
                        json!({"type": kind, "id": "s0"})
                    });
                }
                2 => {
                    map.insert(
                        "skip".into(),
                        json!({"phases": ["p0"], "steps": [{"phaseId": "p1", "stepId": "s1"}]}),
                    );
                }
                3 => {
                    map.insert("percent".into(), json!({"gold": 0.5, "happiness": -2}));
                }
                _ => {}
            }
            let mut effect = json!({"type": kind, "method": method, "params": map});
            if let Some(round) = round {
                effect["round"] = json!(round);
            }
            if shortfall {
                effect["meta"] = json!({"allowShortfall": true});
            }
            effect
        });
    leaf.prop_recursive(3, 24, 3, |inner| {
        prop_oneof![
            (evaluator(), prop::collection::vec(inner.clone(), 0..3)).prop_map(
                |(evaluator, effects)| json!({"evaluator": evaluator, "effects": effects})
            ),
            (
                prop::sample::select(vec![
                    ("passive", "add"),
                    ("result_mod", "add"),
                    ("attack", "perform")
                ]),
                text(),
                prop::collection::vec(inner.clone(), 0..3),
                prop::collection::vec(inner, 0..2),
            )
                .prop_map(|((kind, method), id, effects, hook)| {
                    json!({"type": kind, "method": method,
                        "params": {"id": id, "actionId": "a0", "onT": hook.clone(),
                                   "evaluation": {"type": "step", "id": "s0"}, "percent": 0.5,
                                   "target": {"type": "resource", "key": "castleHP"},
                                   "onDamage": {"attacker": hook.clone(), "defender": hook}},
                        "effects": effects})
                }),
        ]
    })
}

fn effects(max: usize) -> impl Strategy<Value = Value> {
    prop::collection::vec(effect(), 0..max).prop_map(Value::Array)
}

fn triggers(max: usize) -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec(
        (prop::sample::select(TRIGGERS.to_vec()), effects(3)),
        0..max,
    )
    .prop_map(|list| list.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// A whole content pack (in the reference schema) built around the default
/// rules, so that tiers and win conditions play too.
fn content() -> impl Strategy<Value = Value> {
    let actions = prop::collection::vec(
        (
            effects(4),
            any::<bool>(),
            prop::option::of(number()),
            prop::option::of(evaluator()),
        ),
        ACTIONS.len(),
    );
    let buildings = prop::collection::vec((triggers(3), number()), BUILDINGS.len());
    let developments = prop::collection::vec((triggers(3), any::<bool>()), DEVELOPMENTS.len());
    let populations = prop::collection::vec((triggers(4), number()), ROLES.len());
    let steps = prop::collection::vec(
        (
            prop::collection::vec(prop::sample::select(TRIGGERS.to_vec()), 0..3),
            effects(3),
        ),
        1..4,
    );
    let start = (
        prop::collection::vec((prop::sample::select(ROLES.to_vec()), 0u32..4), 0..3),
        prop::collection::vec(
            (
                prop::collection::vec(prop::sample::select(DEVELOPMENTS.to_vec()), 0..2),
                triggers(2),
            ),
            0..3,
        ),
        number(),
    );
    (actions, buildings, developments, populations, steps, start).prop_map(
        |(actions, buildings, developments, populations, steps, (population, lands, gold))| {
            let actions: Vec<Value> = actions
                .into_iter()
                .enumerate()
                .map(|(i, (effects, system, cost, requirement))| {
                    let mut action = json!({"id": ACTIONS[i], "name": ACTIONS[i], "effects": effects,
                        "system": system && i != 0});
                    if let Some(cost) = cost {
                        action["baseCosts"] = json!({"ap": 1, "gold": cost});
                    }
                    if let Some(left) = requirement {
                        action["requirements"] = json!([{"type": "evaluator", "method": "compare",
                            "params": {"left": left, "right": 1, "operator": "lt"}}]);
                    }
                    if i == 1 {
                        // One effect group, choosing another action.
                        action["effects"]
                            .as_array_mut()
                            .unwrap()
                            .push(json!({"id": "g", "options": [
                                {"id": "o0", "actionId": "a2", "params": {"landId": "$landId"}},
                                {"id": "o1", "actionId": "a3", "params": {"developmentId": "d0"}}]}));
                    }
                    action
                })
                .collect();
            let named = |ids: &[&str], list: Vec<Map<String, Value>>| -> Vec<Value> {
                ids.iter()
                    .zip(list)
                    .map(|(id, mut rest)| {
                        rest.insert("id".into(), json!(id));
                        Value::Object(rest)
                    })
                    .collect()
            };
            let buildings = named(
                BUILDINGS,
                buildings
                    .into_iter()
                    .map(|(mut t, cost)| {
                        t.insert("costs".into(), json!({"gold": cost}));
                        t.insert("upkeep".into(), json!({"gold": 1}));
                        t
                    })
                    .collect(),
            );
            let developments = named(
                DEVELOPMENTS,
                developments
                    .into_iter()
                    .map(|(mut t, system)| {
                        t.insert("system".into(), json!(system));
                        t
                    })
                    .collect(),
            );
            let populations = named(
                ROLES,
                populations
                    .into_iter()
                    .map(|(mut t, upkeep)| {
                        t.insert("upkeep".into(), json!({"gold": upkeep}));
                        t
                    })
                    .collect(),
            );
            let steps: Vec<Value> = steps
                .into_iter()
                .enumerate()
                .map(|(i, (triggers, effects))| json!({"id": format!("s{i}"), "triggers": triggers, "effects": effects}))
                .collect();
            let lands: Vec<Value> = lands
                .into_iter()
                .map(|(developments, mut rest)| {
                    rest.insert("developments".into(), json!(developments));
                    Value::Object(rest)
                })
                .collect();
            let population: Map<String, Value> =
                population.into_iter().map(|(r, n)| (r.to_owned(), json!(n))).collect();
            json!({
                "actions": actions,
                "buildings": buildings,
                "developments": developments,
                "populations": populations,
                "phases": [
                    {"id": "p0", "steps": steps},
                    {"id": "p1", "steps": [{"id": "s1", "triggers": ["onPayUpkeepStep", "onUpkeepPhase"]}]},
                    {"id": "main", "action": true, "steps": [{"id": "main"}]}
                ],
                "start": {"player": {
                    "resources": {"gold": gold, "ap": 2, "happiness": 0, "castleHP": 3},
                    "stats": {"armyStrength": 1, "growth": 0.5},
                    "population": population,
                    "lands": lands
                }}
            })
        },
    )
}

/// The default content with the generated parts replacing its own.
fn build(pack: &Value) -> Option<Arc<Content>> {
    let mut def: Value =
        serde_json::from_str(include_str!("../../kb-content/content/default.json")).unwrap();
    for key in [
        "actions",
        "buildings",
        "developments",
        "populations",
        "phases",
        "start",
    ] {
        def[key] = pack[key].clone();
    }
    let def: ContentDef = serde_json::from_value::<kb_protocol::schema::ContentDef>(def)
        .ok()?
        .into();
    Content::new(def).ok().map(Arc::new)
}

/// The command number `n` picks: mostly what moves the game on (advance
/// outside the action phase, the AI's turn for its seat, actions in the
/// action phase), sometimes something odd.
fn choose(game: &Game, n: u32) -> Command {
    let state = game.state();
    let k = (n / 16) as usize;
    let in_action = game.content().phases()[state.phase_index].action;
    let ai = *state.ai.get(state.active);
    match n % 16 {
        0 => {
            return Command::SetDevMode {
                enabled: k.is_multiple_of(2),
            };
        }
        1 => {
            return Command::AiTurn {
                player_id: state.active.other(),
            };
        }
        2 => return Command::Advance,
        _ => {}
    }
    if ai {
        return Command::AiTurn {
            player_id: state.active,
        };
    }
    if !in_action {
        return Command::Advance;
    }
    let candidates = game.candidate_moves();
    if candidates.is_empty() || n % 16 == 3 {
        let mut params = Map::new();
        let value = [
            json!("d0"),
            json!("A-L1"),
            json!("r1"),
            json!("$x"),
            json!(7),
        ][k % 5]
            .clone();
        params.insert(["id", "landId", "role"][k % 3].into(), value);
        return Command::Action {
            action_id: ACTIONS[k % ACTIONS.len()].into(),
            params,
            player_id: None,
        };
    }
    if n % 16 == 4 {
        return Command::Advance;
    }
    let m = &candidates[k % candidates.len()];
    Command::Action {
        action_id: m.action_id.clone(),
        params: m.params.clone(),
        player_id: None,
    }
}

fn play(pack: &Value, ai: bool, numbers: &[u32]) {
    let Some(content) = build(pack) else {
        return;
    };
    let options = GameOptions {
        dev_mode: false,
        ai: ByPlayer { a: false, b: ai },
    };
    let Ok(mut game) = Game::new(content, options) else {
        return;
    };
    for &n in numbers {
        if game.state().conclusion.is_some() {
            break;
        }
        let command = choose(&game, n);
        let before = kb_session::stored::encode(game.state());
        let result = game.apply(&command);
        let after = kb_session::stored::encode(game.state());
        if std::env::var("KB_FUZZ_STATS").is_ok() {
            eprintln!(
                "FUZZ {} {}",
                matches!(command, Command::Action { .. }),
                result.as_ref().map_or_else(|e| e.code(), |_| "OK")
            );
        }
        if result.is_err() {
            assert_eq!(
                before, after,
                "{command:?} was refused but changed the state"
            );
        }
        let back = kb_session::stored::decode(&after).expect("the state reads back");
        assert_eq!(&back, game.state(), "the state survives JSON");
        // Queries and views must not panic either.
        let _ = serde_json::to_vec(&Wire(&game.snapshot())).unwrap();
        for action in ACTIONS {
            let _ = game.action_costs(action, &Map::new());
            let _ = game.action_requirements(action);
        }
        let _ = game.simulate_upcoming_phases(PlayerId::A, &Default::default());
        let _ = game.legal_moves();
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        max_shrink_iters: 4000,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/fuzz.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    })]

    /// Generated content and commands: no panic, no overflow, no runaway,
    /// atomic refusals, a state that survives JSON.
    #[test]
    fn untrusted_content_never_breaks_the_engine(
        pack in content(),
        ai in any::<bool>(),
        numbers in prop::collection::vec(any::<u32>(), 1..80),
    ) {
        play(&pack, ai, &numbers);
    }
}

/// How many generated packs pass validation: the fuzzer is only useful if
/// most of its content reaches the rules.
#[test]
fn most_generated_content_is_valid() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = content();
    let mut valid = 0;
    for _ in 0..100 {
        let pack = strategy.new_tree(&mut runner).unwrap().current();
        valid += usize::from(build(&pack).is_some());
    }
    assert!(valid >= 50, "only {valid} of 100 packs are valid");
}
