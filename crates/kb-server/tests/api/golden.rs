//! Golden files: whole games played over the API, every answer compared
//! byte for byte with the bytes recorded before the engine's wire format
//! moved out of the engine (`tests/golden/*.json`).
//!
//! A golden file holds the requests of one game and, for each, the status,
//! the `ETag` and the exact body the server answered. The test sends the
//! same requests to a fresh server (in-process, the real router, session
//! ids from a counter) and compares. The static parts of the content (the
//! registries, the metadata sections, phases, rules, compensations), the
//! same in every state answer of a game, are stored once per file and
//! written as `@S<n>@` in the bodies; the substitution is exact both ways
//! (recording checks that no body or static already holds a marker).
//!
//! Recording (`KB_GOLDEN=record cargo test -p kb-server --test api golden`)
//! plays each game of [`corpus`] with a seeded random player and a local
//! engine mirror to choose moves, then writes the files. Recording is for
//! deliberate changes of the wire format only: the point of the files is
//! that they stay.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::Method;
use kb_content::ContentPack;
use kb_engine::{ByPlayer, Command, Game, GameOptions, Outcome, PlayerId};
use kb_protocol::schema::GameConfig;
use kb_server::app::router;
use kb_server::{AppState, Authenticator, Metrics, TokenTable};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::request;

const TOKEN: &str = "golden-token";

/// One request and the answer recorded for it.
#[derive(Debug, Serialize, Deserialize)]
struct Exchange {
    method: String,
    path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    if_match: Option<String>,
    status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    response: String,
}

/// A golden file.
#[derive(Debug, Serialize, Deserialize)]
struct GoldenFile {
    name: String,
    /// Static texts, written `@S<index>@` in the responses.
    statics: Vec<String>,
    exchanges: Vec<Exchange>,
}

fn marker(index: usize) -> String {
    format!("@S{index}@")
}

/// A recorded body with its static texts put back.
fn expand(body: &str, statics: &[String]) -> String {
    let mut out = body.to_owned();
    for (i, text) in statics.iter().enumerate() {
        out = out.replace(&marker(i), text);
    }
    out
}

/// A body with its static texts replaced by markers, longest first.
fn compress(body: &str, statics: &[String]) -> String {
    assert!(!body.contains("@S"), "a body holds a marker: {body}");
    let mut order: Vec<usize> = (0..statics.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(statics[i].len()));
    let mut out = body.to_owned();
    for i in order {
        out = out.replace(&statics[i], &marker(i));
    }
    assert_eq!(expand(&out, statics), body, "compression is exact");
    out
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// A server whose session ids are `golden-1`, `golden-2`...
fn app() -> Router {
    let table = TokenTable::from_json(&format!(
        r#"{{"{TOKEN}": {{"userId": "golden", "roles": ["admin"]}}}}"#
    ))
    .expect("valid token table");
    let store = Arc::new(kb_store::MemoryStore::new());
    let counter = Arc::new(AtomicU64::new(0));
    let mut options = kb_session::ManagerOptions::new(store);
    options.new_id =
        Arc::new(move || format!("golden-{}", counter.fetch_add(1, Ordering::Relaxed) + 1));
    options.idle_timeout = None;
    let manager = Arc::new(kb_session::SessionManager::new(options).expect("fresh store"));
    router(AppState::new(
        Authenticator::new(table),
        Metrics::new(),
        manager,
    ))
}

async fn send(
    app: &Router,
    method: &str,
    path: &str,
    body: Option<&str>,
    if_match: Option<&str>,
) -> (u16, Option<String>, Vec<u8>) {
    let method: Method = method.parse().expect("a method");
    let auth = format!("Bearer {TOKEN}");
    let mut headers = vec![("authorization", auth.as_str())];
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    if let Some(version) = if_match {
        headers.push(("if-match", version));
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_owned()));
    let response = app
        .clone()
        .oneshot(request(method, path, &headers, body))
        .await
        .expect("the router is infallible");
    let status = response.status().as_u16();
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("readable body")
        .to_vec();
    (status, etag, bytes)
}

/// Replays every golden file and compares each answer byte for byte.
#[tokio::test]
async fn every_answer_of_the_corpus_is_byte_identical_to_its_golden_file() {
    if std::env::var("KB_GOLDEN").as_deref() == Ok("record") {
        record().await;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("tests/golden exists")
        .map(|e| e.expect("readable dir").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= corpus().len(), "golden files are missing");
    let mut compared = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable golden file");
        let golden: GoldenFile = serde_json::from_str(&text).expect("a golden file");
        let app = app();
        for (i, exchange) in golden.exchanges.iter().enumerate() {
            let (status, etag, bytes) = send(
                &app,
                &exchange.method,
                &exchange.path,
                exchange.body.as_deref(),
                exchange.if_match.as_deref(),
            )
            .await;
            let expected = expand(&exchange.response, &golden.statics);
            let actual = String::from_utf8(bytes).expect("UTF-8 body");
            let place = format!(
                "{} #{i}: {} {}",
                golden.name, exchange.method, exchange.path
            );
            assert_eq!(status, exchange.status, "{place}: status");
            assert_eq!(etag, exchange.etag, "{place}: ETag");
            if actual != expected {
                let at = actual
                    .bytes()
                    .zip(expected.bytes())
                    .position(|(a, b)| a != b)
                    .unwrap_or(actual.len().min(expected.len()));
                let from = at.saturating_sub(200);
                panic!(
                    "{place}: the body differs from byte {at}\n expected …{}…\n   actual …{}…",
                    &expected[from..(at + 200).min(expected.len())],
                    &actual[from..(at + 200).min(actual.len())],
                );
            }
            compared += 1;
        }
    }
    assert!(compared > 800, "only {compared} answers compared");
}

// ----- the corpus ---------------------------------------------------------------

/// A game of the corpus.
struct GameSpec {
    name: &'static str,
    /// The body of `POST /sessions`.
    create: Value,
    /// The random player's seed.
    seed: u64,
    /// Turns played at most.
    turns: u32,
    /// An action the random player picks whenever it is legal.
    prefer: Option<&'static str>,
}

fn corpus() -> Vec<GameSpec> {
    vec![
        GameSpec {
            name: "default-vs-ai",
            create: json!({"playerNames": {"A": "  Ada  ", "B": "Bot"}}),
            seed: 1,
            turns: 30,
            prefer: None,
        },
        GameSpec {
            name: "default-vs-ai-long",
            create: json!({}),
            seed: 7,
            turns: 12,
            prefer: None,
        },
        GameSpec {
            name: "dev-mode-castle-destroyed",
            create: json!({"devMode": true}),
            seed: 3,
            turns: 20,
            prefer: Some("army_attack"),
        },
        GameSpec {
            name: "two-humans",
            create: json!({"aiPlayers": [], "playerNames": {"B": "Zoë 👑"}}),
            seed: 11,
            turns: 8,
            prefer: None,
        },
        GameSpec {
            name: "bankruptcy",
            create: json!({"config": {"start": {
                "player": {
                    "resources": {"gold": 3, "ap": 0, "happiness": 0, "castleHP": 10},
                    "stats": {"maxPopulation": 2, "armyStrength": 0, "fortificationStrength": 0,
                              "absorption": 0, "growth": 0.25, "warWeariness": 0},
                    "population": {"council": 1, "legion": 1},
                    "lands": [{}]
                }
            }}}),
            seed: 5,
            turns: 20,
            prefer: None,
        },
        GameSpec {
            name: "custom-content",
            create: json!({"aiPlayers": ["B"], "config": custom_config()}),
            seed: 13,
            turns: 14,
            prefer: None,
        },
    ]
}

/// Content exercising what the default content does not: skipped steps,
/// per-key percent modifiers, building targets, tilling a named land,
/// removing population and developments, locking actions again.
fn custom_config() -> Value {
    json!({
        "actions": [
            {"id": "tax", "name": "Tax", "baseCosts": {"ap": 1},
             "effects": [{"evaluator": {"type": "population"}, "effects": [
                 {"type": "resource", "method": "add", "params": {"key": "gold", "amount": 3}}]}]},
            {"id": "expand", "name": "Expand", "baseCosts": {"ap": 1, "gold": 2},
             "effects": [{"type": "land", "method": "add", "params": {"count": 1}},
                         {"type": "stat", "method": "add", "params": {"key": "armyStrength", "amount": 1}}]},
            {"id": "till", "name": "Till", "baseCosts": {"ap": 1, "gold": 1},
             "effects": [{"type": "land", "method": "till", "params": {"landId": "$landId"}}]},
            {"id": "develop", "name": "Develop", "baseCosts": {"ap": 1, "gold": 2},
             "effects": [{"type": "development", "method": "add", "params": {"id": "$id", "landId": "$landId"}}]},
            {"id": "raze", "name": "Raze", "baseCosts": {"ap": 1},
             "effects": [{"type": "development", "method": "remove", "params": {"id": "$id", "landId": "$landId"}}]},
            {"id": "hire", "name": "Hire", "baseCosts": {"ap": 1, "gold": 1},
             "requirements": [{"type": "evaluator", "method": "compare", "message": "Too many",
                 "params": {"left": {"type": "population"}, "right": 6, "operator": "lt"}}],
             "effects": [{"type": "population", "method": "add", "params": {"role": "$role"}}]},
            {"id": "fire", "name": "Fire", "baseCosts": {"ap": 1},
             "effects": [{"type": "population", "method": "remove", "params": {"role": "$role"}}]},
            {"id": "build", "name": "Build",
             "effects": [{"type": "building", "method": "add", "params": {"id": "$id"}}]},
            {"id": "siege", "name": "Siege", "baseCosts": {"ap": 1},
             "effects": [{"type": "attack", "method": "perform", "params": {
                 "target": {"type": "building", "id": "granary"}, "ignoreAbsorption": true,
                 "onDamage": {"attacker": [{"type": "resource", "method": "add", "params": {"key": "gold", "amount": 2}}],
                              "defender": [{"type": "stat", "method": "remove", "params": {"key": "armyStrength", "amount": 1}}]}}},
                 {"type": "attack", "method": "perform", "params": {"target": {"type": "stat", "key": "armyStrength"}, "ignoreFortification": true}}]},
            {"id": "rally", "name": "Rally", "baseCosts": {"ap": 1, "gold": 1},
             "effects": [{"type": "stat", "method": "add_pct", "params": {"key": "armyStrength", "percent": 0.5}, "round": "nearest"},
                         {"type": "action", "method": "remove", "params": {"id": "secret"}},
                         {"type": "action", "method": "add", "params": {"id": "secret"}}]},
            {"id": "secret", "name": "Secret", "system": true,
             "effects": [{"type": "resource", "method": "add", "params": {"key": "gold", "amount": 5}},
                         {"type": "action", "method": "remove", "params": {"id": "secret"}}]},
            {"id": "rest", "name": "Rest", "baseCosts": {"ap": 1},
             "effects": [{"type": "passive", "method": "add", "params": {
                 "id": "resting", "name": "Resting", "detail": "No income for a turn",
                 "skip": {"steps": [{"phaseId": "growth", "stepId": "income"}]},
                 "onUpkeepPhase": [{"type": "passive", "method": "remove", "params": {"id": "resting"}}]},
                 "effects": [{"type": "cost_mod", "method": "add", "params": {"id": "rest_discount", "key": "gold", "percent": -0.5}, "round": "down"}]}]}
        ],
        "buildings": [
            {"id": "granary", "name": "Granary", "costs": {"ap": 1, "gold": 4},
             "onBuild": [{"type": "result_mod", "method": "add", "params": {
                 "id": "granary_income", "evaluation": {"type": "step", "id": "income"},
                 "percent": {"gold": 0.5}}, "round": "up"}]},
            {"id": "forge", "name": "Forge", "costs": {"gold": 3}, "upkeep": {"gold": 1},
             "onBuild": [{"type": "cost_mod", "method": "add", "params": {"id": "forge_siege", "actionId": "siege", "key": "ap", "amount": 1}}],
             "onIncome": [{"type": "stat", "method": "add", "params": {"key": "armyStrength", "amount": 1}}]}
        ],
        "developments": [
            {"id": "farm", "name": "Farm", "upkeep": {"gold": 0.5},
             "onIncome": [{"type": "resource", "method": "add", "params": {"key": "gold", "amount": 2}}]},
            {"id": "shrine", "name": "Shrine",
             "onBuild": [{"type": "resource", "method": "add", "params": {"key": "happiness", "amount": 2}}],
             "onAttackResolved": [{"type": "development", "method": "remove", "params": {"id": "shrine", "landId": "$landId"}}]}
        ],
        "populations": [
            {"id": "council", "name": "Council", "upkeep": {"gold": 1},
             "onAp": [{"type": "resource", "method": "add", "params": {"key": "ap", "amount": 2}}]},
            {"id": "guard", "name": "Guard",
             "onAssigned": [{"type": "passive", "method": "add", "params": {"id": "guard_$player_$index", "name": "Guard"},
                 "effects": [{"type": "stat", "method": "add", "params": {"key": "fortificationStrength", "amount": 2}}]}],
             "onUnassigned": [{"type": "passive", "method": "remove", "params": {"id": "guard_$player_$index"}}]}
        ],
        "phases": [
            {"id": "growth", "steps": [
                {"id": "income", "triggers": ["onIncome"]},
                {"id": "ap", "triggers": ["onAp"]},
                {"id": "drill", "effects": [{"evaluator": {"type": "population", "params": {"role": "guard"}},
                    "effects": [{"type": "stat", "method": "add_pct", "params": {"key": "fortificationStrength", "percentStat": "growth"}, "round": "up"}]}]}
            ]},
            {"id": "upkeep", "steps": [
                {"id": "dynamic", "triggers": ["onUpkeepPhase"]},
                {"id": "pay", "triggers": ["onPayUpkeepStep"]}
            ]},
            {"id": "main", "action": true, "steps": [{"id": "main"}]}
        ],
        "start": {
            "player": {
                "resources": {"gold": 8, "ap": 0, "happiness": 0, "castleHP": 5},
                "stats": {"armyStrength": 1, "fortificationStrength": 0, "absorption": 0.1, "growth": 0.5},
                "population": {"council": 1, "guard": 1},
                "lands": [{"developments": ["farm"]}, {"developments": ["shrine"], "slotsMax": 2},
                          {"upkeep": {"gold": 1}, "onIncome": [{"type": "resource", "method": "add", "params": {"key": "gold", "amount": 1}}]}]
            },
            "players": {"B": {"resources": {"ap": 1, "gold": 10}}}
        }
    })
}

// ----- recording ----------------------------------------------------------------

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// Records a game: sends each request, mirrors it on a local game, and
/// keeps the exchange.
struct Recorder {
    app: Router,
    exchanges: Vec<Exchange>,
    statics: Vec<String>,
}

impl Recorder {
    async fn send(&mut self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.send_with(method, path, body, None).await
    }

    async fn send_with(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
        if_match: Option<String>,
    ) -> (u16, Value) {
        let body = body.map(|b| b.to_string());
        let (status, etag, bytes) = send(
            &self.app,
            method,
            path,
            body.as_deref(),
            if_match.as_deref(),
        )
        .await;
        assert!(status < 500, "{method} {path}: {status}");
        let text = String::from_utf8(bytes).expect("UTF-8 body");
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        self.exchanges.push(Exchange {
            method: method.to_owned(),
            path: path.to_owned(),
            body,
            if_match,
            status,
            etag,
            response: compress(&text, &self.statics),
        });
        (status, value)
    }
}

async fn record() {
    let dir = golden_dir();
    std::fs::create_dir_all(&dir).expect("golden dir");
    for spec in corpus() {
        let file = record_game(&spec).await;
        let text = serde_json::to_string_pretty(&file).expect("plain data");
        std::fs::write(dir.join(format!("{}.json", spec.name)), text + "\n")
            .expect("golden file written");
    }
}

async fn record_game(spec: &GameSpec) -> GoldenFile {
    let pack = ContentPack::default_pack();
    let config: Option<GameConfig> = spec
        .create
        .get("config")
        .map(|c| serde_json::from_value(c.clone()).expect("a valid config"));
    let content = pack.session(config.as_ref()).expect("valid content");
    let ai: Vec<PlayerId> = spec
        .create
        .get("aiPlayers")
        .map(|a| serde_json::from_value(a.clone()).unwrap())
        .unwrap_or(vec![PlayerId::B]);
    let options = GameOptions {
        dev_mode: spec.create["devMode"] == true,
        ai: ByPlayer::new_with(|p| ai.contains(&p)),
    };
    let mut mirror = Game::new(content.content().clone(), options).unwrap();
    for (player, name) in spec.create["playerNames"].as_object().into_iter().flatten() {
        let player_id = PlayerId::parse(player).unwrap();
        let rename = Command::SetPlayerName {
            player_id,
            player_name: name.as_str().unwrap().to_owned(),
        };
        mirror.apply(&rename).unwrap();
    }
    let statics = content.snapshot_statics();
    let mut texts = vec![
        content.registries().as_str().to_owned(),
        statics.phases.get().to_owned(),
        statics.rules.get().to_owned(),
        statics.compensations[0].get().to_owned(),
        statics.compensations[1].get().to_owned(),
    ];
    texts.extend(
        content
            .metadata_sections()
            .iter()
            .map(|(_, raw)| raw.get().to_owned()),
    );
    texts.retain(|t| t.len() > 64);
    texts.dedup();
    for text in &texts {
        assert!(!text.contains("@S"), "a static text holds a marker");
    }
    let mut rec = Recorder {
        app: app(),
        exchanges: Vec::new(),
        statics: texts,
    };
    let mut rng = Rng(spec.seed);

    // Refused creations first: they must not consume a session id.
    rec.send("POST", "/sessions", Some(json!({"config": {"actions": [{"id": "x", "effects": [{"type": "nope", "method": "add"}]}]}})))
        .await;
    rec.send(
        "POST",
        "/sessions",
        Some(json!({"config": {"start": {"player": {"resources": {"gold": "ten"}}}}})),
    )
    .await;
    let (status, created) = rec
        .send("POST", "/sessions", Some(spec.create.clone()))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["sessionId"].as_str().unwrap().to_owned();
    let base = format!("/sessions/{id}");

    rec.send("GET", "/sessions/golden-404/snapshot", None).await;
    rec.send("GET", &format!("/metadata?sessionId={id}"), None)
        .await;

    let mut version = created["version"].as_u64().unwrap();
    let mut commands = 0u32;
    while mirror.state().conclusion.is_none() && mirror.state().turn <= spec.turns {
        let state = mirror.state();
        let active = state.active;
        let in_action = mirror.content().phases()[state.phase_index].action;
        let ai_seat = *state.ai.get(active);
        commands += 1;
        // Occasional queries and odd requests, whoever's turn it is.
        if rng.chance(14) {
            query(&mut rec, &mut rng, &mirror, &base).await;
            continue;
        }
        if rng.chance(25) {
            let (enabled, path) = (rng.chance(2), format!("{base}/dev-mode"));
            let command = Command::SetDevMode { enabled };
            expect(
                &mut rec,
                &mut mirror,
                "POST",
                &path,
                json!({"enabled": enabled}),
                command,
            )
            .await;
            continue;
        }
        if rng.chance(30) {
            let player = if rng.chance(2) {
                PlayerId::A
            } else {
                PlayerId::B
            };
            let names = [
                "Ada",
                "  Bea  ",
                "Zoë 👑",
                "0123456789012345678901234567890123456789x",
                "   ",
            ];
            let name = names[rng.below(names.len())];
            let body = json!({"playerId": player, "playerName": name});
            let command = Command::SetPlayerName {
                player_id: player,
                player_name: name.trim().to_owned(),
            };
            if name.trim().is_empty() || name.trim().chars().count() > 40 {
                let (status, _) = rec
                    .send("PATCH", &format!("{base}/player"), Some(body))
                    .await;
                assert_eq!(status, 400);
            } else {
                expect(
                    &mut rec,
                    &mut mirror,
                    "PATCH",
                    &format!("{base}/player"),
                    body,
                    command,
                )
                .await;
            }
            continue;
        }
        if rng.chance(40) {
            // A write under a stale If-Match is refused.
            let stale = format!("\"{}\"", version.saturating_sub(1));
            let (status, _) = rec
                .send_with("POST", &format!("{base}/advance"), None, Some(stale))
                .await;
            assert!(status == 409 || version <= 1, "{status}");
            continue;
        }
        if ai_seat {
            if rng.chance(12) {
                // The other seat asks for an AI turn out of turn.
                let other = active.other();
                let body = json!({"playerId": other, "mode": "turn"});
                let command = Command::AiTurn { player_id: other };
                expect(
                    &mut rec,
                    &mut mirror,
                    "POST",
                    &format!("{base}/ai-turn"),
                    body,
                    command,
                )
                .await;
            }
            let body = json!({"playerId": active, "mode": "turn"});
            let command = Command::AiTurn { player_id: active };
            expect(
                &mut rec,
                &mut mirror,
                "POST",
                &format!("{base}/ai-turn"),
                body,
                command,
            )
            .await;
        } else if in_action && rng.below(5) != 0 {
            let legal = mirror.legal_moves();
            let candidates = mirror.candidate_moves();
            let odd = rng.chance(6);
            let preferred = spec
                .prefer
                .and_then(|id| legal.iter().find(|m| m.action_id == id));
            let chosen = if let Some(preferred) = preferred {
                preferred.clone()
            } else if odd || legal.is_empty() {
                if candidates.is_empty() || rng.chance(4) {
                    let unknown = [
                        "unknown_action",
                        "develop",
                        "build",
                        "raise_pop",
                        "hire",
                        "till",
                    ];
                    kb_engine::Move {
                        action_id: unknown[rng.below(unknown.len())].into(),
                        params: Default::default(),
                    }
                } else {
                    candidates[rng.below(candidates.len())].clone()
                }
            } else {
                legal[rng.below(legal.len())].clone()
            };
            let mut body = json!({"actionId": chosen.action_id});
            if !chosen.params.is_empty() {
                body["params"] = Value::Object(chosen.params.clone());
            }
            let command = Command::Action {
                action_id: chosen.action_id.clone(),
                params: chosen.params.clone(),
                player_id: None,
            };
            expect(
                &mut rec,
                &mut mirror,
                "POST",
                &format!("{base}/actions"),
                body,
                command,
            )
            .await;
        } else {
            if !in_action && rng.chance(15) {
                // An action outside the action phase.
                let body = json!({"actionId": "tax"});
                let command = Command::Action {
                    action_id: "tax".into(),
                    params: Default::default(),
                    player_id: None,
                };
                expect(
                    &mut rec,
                    &mut mirror,
                    "POST",
                    &format!("{base}/actions"),
                    body,
                    command,
                )
                .await;
            }
            expect_empty(
                &mut rec,
                &mut mirror,
                &format!("{base}/advance"),
                Command::Advance,
            )
            .await;
        }
        version = rec
            .exchanges
            .iter()
            .rev()
            .find_map(|e| e.etag.as_ref())
            .map_or(version, |e| e.trim_matches('"').parse().unwrap());
        assert!(commands < 20_000, "the game does not end");
    }
    // After the end: refusals and a last look.
    expect_empty(
        &mut rec,
        &mut mirror,
        &format!("{base}/advance"),
        Command::Advance,
    )
    .await;
    let command = Command::Action {
        action_id: "tax".into(),
        params: Default::default(),
        player_id: None,
    };
    expect(
        &mut rec,
        &mut mirror,
        "POST",
        &format!("{base}/actions"),
        json!({"actionId": "tax"}),
        command,
    )
    .await;
    rec.send(
        "POST",
        &format!("{base}/actions"),
        Some(json!({"actionId": ""})),
    )
    .await;
    rec.send(
        "POST",
        &format!("{base}/simulate"),
        Some(json!({"playerId": "A"})),
    )
    .await;
    rec.send("GET", &format!("{base}/snapshot"), None).await;
    rec.send("DELETE", &base, None).await;
    rec.send("GET", &format!("{base}/snapshot"), None).await;
    GoldenFile {
        name: spec.name.to_owned(),
        statics: rec.statics,
        exchanges: rec.exchanges,
    }
}

/// Sends a command's request and checks that the server agrees with the
/// mirror on whether it succeeds.
async fn expect(
    rec: &mut Recorder,
    mirror: &mut Game,
    method: &str,
    path: &str,
    body: Value,
    command: Command,
) {
    let mirrored = mirror.apply(&command);
    let (status, answer) = rec.send(method, path, Some(body)).await;
    assert_eq!(
        status == 200,
        mirrored.is_ok(),
        "{path}: {status} {answer} vs {mirrored:?}"
    );
    if let Ok(Outcome::Advance(_)) = mirrored {
        unreachable!("advances go through expect_empty");
    }
}

async fn expect_empty(rec: &mut Recorder, mirror: &mut Game, path: &str, command: Command) {
    let mirrored = mirror.apply(&command);
    let (status, answer) = rec.send("POST", path, None).await;
    assert_eq!(
        status == 200,
        mirrored.is_ok(),
        "{path}: {status} {answer} vs {mirrored:?}"
    );
}

/// A read-only query: costs, requirements, options, simulation, snapshot.
async fn query(rec: &mut Recorder, rng: &mut Rng, mirror: &Game, base: &str) {
    let actions: Vec<String> = mirror
        .content()
        .actions()
        .iter()
        .map(|a| a.id.to_string())
        .chain(["missing_action".to_owned()])
        .collect();
    let action = actions[rng.below(actions.len())].clone();
    let candidates = mirror.candidate_moves();
    let params = candidates
        .iter()
        .find(|m| m.action_id == action)
        .map(|m| Value::Object(m.params.clone()));
    match rng.below(6) {
        0 => {
            let body = params.map_or(json!({}), |p| json!({"params": p}));
            rec.send(
                "POST",
                &format!("{base}/actions/{action}/costs"),
                Some(body),
            )
            .await;
        }
        1 => {
            rec.send(
                "POST",
                &format!("{base}/actions/{action}/requirements"),
                Some(json!({})),
            )
            .await;
        }
        2 => {
            rec.send("GET", &format!("{base}/actions/{action}/options"), None)
                .await;
        }
        3 if rng.chance(3) => {
            let player = if rng.chance(2) { "A" } else { "B" };
            let body = if rng.chance(3) {
                json!({"playerId": player, "options": {"maxIterations": 3}})
            } else {
                json!({"playerId": player})
            };
            rec.send("POST", &format!("{base}/simulate"), Some(body))
                .await;
        }
        4 => {
            rec.send(
                "POST",
                &format!("{base}/actions"),
                Some(json!({"action": "tax"})),
            )
            .await;
        }
        _ => {
            rec.send("GET", &format!("{base}/snapshot"), None).await;
        }
    }
}
