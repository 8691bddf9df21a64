//! Every answer the reference's web client validates (or reads) passes the
//! reference's schemas ([`crate::reference`]): the runtime config, the
//! metadata, and the session states of a game played through every route,
//! with actions of every kind.

use axum::http::Method;
use kb_engine::{Command, Game, GameOptions, PlayerId};
use serde_json::{Value, json};

use crate::helpers::{ALICE, TestApp, session_id};
use crate::reference::{self, Schema, assert_matches};

/// `GET path`, checked against `schema`, at the root and under `/api`.
async fn check_get(app: &TestApp, path: &str, token: Option<&str>, schema: &Schema) -> Value {
    let mut answers = Vec::new();
    for prefix in ["", "/api"] {
        let response = app
            .call(Method::GET, &format!("{prefix}{path}"), token, None)
            .await;
        assert_eq!(response.status, 200, "{path}: {}", response.text());
        let body = response.json();
        assert_matches(schema, &body, &format!("GET {prefix}{path}"));
        answers.push(body);
    }
    assert_eq!(answers[0], answers[1], "{path}: the same under /api");
    answers.pop().unwrap()
}

#[tokio::test]
async fn the_runtime_config_passes_the_reference_schema() {
    let app = TestApp::game();
    let config = check_get(&app, "/runtime-config", None, &reference::runtime_config()).await;
    // Our bankruptcy rule (PRODUCT.md Q10) in the reference's shape.
    let conditions = config["rules"]["winConditions"].as_array().unwrap();
    let bankruptcy = conditions
        .iter()
        .find(|c| c["id"] == "bankruptcy")
        .expect("the bankruptcy condition is served");
    assert_eq!(
        bankruptcy["trigger"],
        json!({"type": "resource", "key": "gold", "comparison": "lt", "value": 0, "target": "self"})
    );
    for condition in conditions {
        let display = &condition["display"];
        for text in ["victory", "defeat", "icon"] {
            assert!(
                display[text].as_str().is_some_and(|t| !t.is_empty()),
                "{}: display.{text}",
                condition["id"]
            );
        }
    }
}

/// What the reference client shows beyond what its schema requires: a
/// summary and removal text for every happiness tier (its tier cards read
/// `text`, then `preview`), and a colour (`focus`) for every building card.
#[tokio::test]
async fn the_reference_client_finds_its_display_fields() {
    let app = TestApp::game();
    let config = check_get(&app, "/runtime-config", None, &reference::runtime_config()).await;
    for tier in config["rules"]["tierDefinitions"].as_array().unwrap() {
        for text in ["summary", "removal"] {
            assert!(
                tier["text"][text].as_str().is_some_and(|t| !t.is_empty()),
                "{}: text.{text}",
                tier["id"]
            );
        }
        if tier["enterEffects"].is_array() {
            assert!(tier["preview"]["id"].is_string(), "{}: preview", tier["id"]);
        }
    }
    let metadata = check_get(&app, "/metadata", None, &reference::metadata_response()).await;
    for (id, building) in metadata["registries"]["buildings"].as_object().unwrap() {
        let focus = building["focus"].as_str().unwrap_or_default();
        assert!(
            ["economy", "aggressive", "defense", "other"].contains(&focus),
            "{id}: focus {focus:?}"
        );
    }
}

#[tokio::test]
async fn the_metadata_passes_the_reference_schema() {
    let app = TestApp::game();
    let schema = reference::metadata_response();
    check_get(&app, "/metadata", None, &schema).await;
    let id = app.new_session(ALICE).await;
    check_get(
        &app,
        &format!("/metadata?sessionId={id}"),
        Some(ALICE),
        &schema,
    )
    .await;
}

/// A game played over HTTP, every answer checked, with a local copy of
/// the game (the engine is deterministic) to choose legal moves from.
struct Checked<'a> {
    app: &'a TestApp,
    id: String,
    mirror: Game,
    answers: usize,
    /// The actions A performed, by id.
    performed: std::collections::BTreeSet<String>,
}

impl Checked<'_> {
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Value>,
        schema: &Schema,
    ) -> Value {
        let path = format!("/api/sessions/{}{path}", self.id);
        let text = body.map(|b| b.to_string());
        let response = self
            .app
            .call(method.clone(), &path, Some(ALICE), text.as_deref())
            .await;
        assert_eq!(response.status, 200, "{method} {path}: {}", response.text());
        let answer = response.json();
        assert_matches(schema, &answer, &format!("{method} {path}"));
        self.answers += 1;
        answer
    }

    async fn advance(&mut self) -> Value {
        self.mirror.apply(&Command::Advance).unwrap();
        self.send(
            Method::POST,
            "/advance",
            None,
            &reference::advance_response(),
        )
        .await
    }

    /// Everything the reference client asks about A's options in its main
    /// phase: costs, requirements and options of every action, and the
    /// forecast of both players' next turns.
    async fn queries(&mut self) {
        let actions: Vec<String> = self
            .mirror
            .content()
            .actions()
            .iter()
            .map(|action| action.id.to_string())
            .collect();
        let body = json!({"sessionId": self.id});
        for action in actions {
            let base = format!("/actions/{action}");
            self.send(
                Method::POST,
                &format!("{base}/costs"),
                Some(body.clone()),
                &reference::costs_response(),
            )
            .await;
            self.send(
                Method::POST,
                &format!("{base}/requirements"),
                Some(body.clone()),
                &reference::requirements_response(),
            )
            .await;
            self.send(
                Method::GET,
                &format!("{base}/options"),
                None,
                &reference::options_response(),
            )
            .await;
        }
        for player in ["A", "B"] {
            self.send(
                Method::POST,
                "/simulate",
                Some(json!({"sessionId": self.id, "playerId": player})),
                &reference::simulate_response(),
            )
            .await;
        }
    }

    /// A plays its main phase: a legal move of every kind it can, varied by
    /// turn, until its AP is spent.
    async fn human_main(&mut self, turn: usize) {
        for pick in 0.. {
            let ap = self.mirror.content().action_cost_resource().to_owned();
            let left = self
                .mirror
                .state()
                .players
                .get(PlayerId::A)
                .resources
                .value(&ap);
            if left <= 0.0 || self.mirror.state().conclusion.is_some() {
                return;
            }
            let moves = self.mirror.legal_moves();
            // An action not tried yet if there is one, else any.
            let fresh = moves
                .iter()
                .find(|m| !self.performed.contains(m.action_id.as_str()));
            let Some(chosen) = fresh
                .or_else(|| moves.get((turn * 7 + pick * 3) % moves.len().max(1)))
                .cloned()
            else {
                return;
            };
            self.mirror
                .apply(&Command::Action {
                    action_id: chosen.action_id.clone(),
                    params: chosen.params.clone(),
                    player_id: None,
                })
                .unwrap();
            let body = json!({"sessionId": self.id, "actionId": chosen.action_id.as_str(), "params": chosen.params});
            let answer = self
                .send(
                    Method::POST,
                    "/actions",
                    Some(body),
                    &reference::action_response(),
                )
                .await;
            assert_eq!(answer["status"], "success");
            self.performed.insert(chosen.action_id.to_string());
        }
    }

    /// B's main phase, one reference step at a time.
    async fn ai_main(&mut self) {
        loop {
            let body = json!({"sessionId": self.id, "playerId": "B"});
            let step = self
                .send(
                    Method::POST,
                    "/ai-turn",
                    Some(body),
                    &reference::ai_turn_response(),
                )
                .await;
            if step["phaseComplete"] == true {
                return;
            }
            let action = &step["actions"][0];
            self.mirror
                .apply(&Command::AiAction {
                    player_id: PlayerId::B,
                    action_id: action["actionId"].as_str().unwrap().into(),
                    params: action["params"].as_object().cloned().unwrap_or_default(),
                })
                .unwrap();
        }
    }
}

#[tokio::test]
async fn every_session_answer_of_a_game_passes_the_reference_schemas() {
    let app = TestApp::game();
    let created = app
        .call(
            Method::POST,
            "/api/sessions",
            Some(ALICE),
            Some(r#"{"devMode": false, "playerNames": {"A": "Ada"}}"#),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    assert_matches(&reference::session_state(), &created, "POST /sessions");
    let content = kb_content::ContentPack::default_pack()
        .base_session()
        .content()
        .clone();
    let mut mirror = Game::new(content, GameOptions::default()).unwrap();
    mirror
        .apply(&Command::SetPlayerName {
            player_id: PlayerId::A,
            player_name: "Ada".to_owned(),
        })
        .unwrap();
    let mut game = Checked {
        app: &app,
        id: session_id(&created),
        mirror,
        answers: 0,
        performed: Default::default(),
    };
    let state = reference::session_state();
    game.send(Method::GET, "/snapshot", None, &state).await;
    game.send(
        Method::POST,
        "/dev-mode",
        Some(json!({"enabled": true})),
        &state,
    )
    .await;
    game.send(
        Method::POST,
        "/dev-mode",
        Some(json!({"enabled": false})),
        &state,
    )
    .await;
    game.send(
        Method::PATCH,
        "/player",
        Some(json!({"playerId": "A", "playerName": "Ada"})),
        &state,
    )
    .await;

    for turn in 1..=12 {
        while !game.mirror.content().phases()[game.mirror.state().phase_index].action {
            game.advance().await;
        }
        if game.mirror.state().conclusion.is_some() {
            break;
        }
        game.queries().await;
        game.human_main(turn).await;
        if game.mirror.state().conclusion.is_some() {
            break;
        }
        game.advance().await;
        while !game.mirror.content().phases()[game.mirror.state().phase_index].action {
            game.advance().await;
            if game.mirror.state().conclusion.is_some() {
                break;
            }
        }
        if game.mirror.state().conclusion.is_some() {
            break;
        }
        game.ai_main().await;
        game.advance().await;
    }
    // A refused action answers in the reference's error shape too.
    let refused = app
        .call(
            Method::POST,
            &format!("/api/sessions/{}/actions", game.id),
            Some(ALICE),
            Some(r#"{"actionId": "tax"}"#),
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.text());
    assert_matches(
        &reference::action_response(),
        &refused.json(),
        "a refused action",
    );
    assert!(game.answers > 500, "{} answers checked", game.answers);
    let turn = game.mirror.state().turn;
    assert!(turn > 10, "played until turn {turn}");
    assert!(
        game.performed.len() >= 6,
        "actions of many kinds: {:?}",
        game.performed
    );
}
