//! Our server, driven exactly as the reference's web client drives a game
//! against the AI (read from its source at commit 2690d1fc:
//! `packages/web/src/state/usePhaseProgress.ts` and its `.helpers.ts`,
//! `useAiRunner.ts`, `sessionSdk.ts`, `services/gameApi.http.ts`). The
//! client's code cannot live here, so its loop is written down:
//!
//! * **Run until an action phase**: while the current phase is not an
//!   action phase, `POST /advance`. Forced, it advances once even in an
//!   action phase, then goes on the same way.
//! * **The human's turn** (A): in its main phase it may only end the turn
//!   once its AP are spent, so it acts until then; ending the turn is one
//!   `/advance` and then "run until an action phase".
//! * **The AI's turn** (B), whenever the active seat is AI-played and in an
//!   action phase: `POST /ai-turn {playerId}` again and again; stop if
//!   `ranTurn` is false; once `phaseComplete` is true, "run until an action
//!   phase", *forced*, and stop; stop also when an answer has no action
//!   (the client then waits, so it must never happen in the AI's phase).
//! * The client re-runs an unforced "run until an action phase" whenever
//!   its view of the game changes; it can run just before the forced one,
//!   so the emulation does that every time. That is harmless only if
//!   `ai-turn` leaves the game in the AI's action phase, as the reference
//!   does; a server that plays the AI's whole turn lets the unforced run
//!   reach the human's main phase and the forced one skip it.
//!
//! Every request goes under `/api`, with the bodies the client sends.

use axum::http::Method;
use serde_json::{Value, json};

use crate::helpers::{ALICE, TestApp};

/// The reference client, as far as the server can tell.
struct ReferenceClient<'a> {
    app: &'a TestApp,
    session: String,
    state: Value,
    advances: usize,
}

impl<'a> ReferenceClient<'a> {
    async fn start(app: &'a TestApp) -> ReferenceClient<'a> {
        let config = app.call(Method::GET, "/runtime-config", None, None).await;
        assert_eq!(config.status, 200);
        let body = json!({"devMode": false, "playerNames": {"A": "Ada"}});
        let state = Self::send_as(app, Method::POST, "/api/sessions", Some(body), 201).await;
        let session = state["sessionId"].as_str().unwrap().to_owned();
        let metadata = app.call(Method::GET, "/api/metadata", None, None).await;
        assert_eq!(metadata.status, 200);
        ReferenceClient {
            app,
            session,
            state,
            advances: 0,
        }
    }

    async fn send_as(
        app: &TestApp,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let text = body.map(|b| b.to_string());
        let response = app
            .call(method.clone(), path, Some(ALICE), text.as_deref())
            .await;
        assert_eq!(
            response.status,
            status,
            "{method} {path}: {}",
            response.text()
        );
        response.json()
    }

    async fn post(&mut self, suffix: &str, body: Option<Value>) -> Value {
        let path = format!("/api/sessions/{}{suffix}", self.session);
        let answer = Self::send_as(self.app, Method::POST, &path, body, 200).await;
        if answer.get("snapshot").is_some() {
            self.state = answer.clone();
        }
        answer
    }

    fn game(&self) -> &Value {
        &self.state["snapshot"]["game"]
    }

    fn in_action_phase(&self) -> bool {
        let index = self.game()["phaseIndex"].as_u64().unwrap() as usize;
        self.state["snapshot"]["phases"][index]["action"] == true
    }

    fn concluded(&self) -> bool {
        !self.game()["conclusion"].is_null()
    }

    fn active(&self) -> (String, bool) {
        let id = self.game()["activePlayerId"].as_str().unwrap().to_owned();
        let ai = self.player(&id)["aiControlled"] == true;
        (id, ai)
    }

    fn player(&self, id: &str) -> &Value {
        self.game()["players"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()
    }

    fn ap(&self, id: &str) -> f64 {
        self.player(id)["resources"]["ap"].as_f64().unwrap_or(0.0)
    }

    async fn advance(&mut self) {
        let body = json!({"sessionId": self.session});
        let answer = self.post("/advance", Some(body)).await;
        assert!(answer["advance"].is_object());
        self.advances += 1;
    }

    /// `advanceToActionPhase`.
    async fn run_until_action_phase(&mut self, force: bool) {
        if self.concluded() || (self.in_action_phase() && !force) {
            return;
        }
        let mut forced = usize::from(force);
        while forced > 0 || !self.in_action_phase() {
            self.advance().await;
            if self.concluded() {
                return;
            }
            forced = forced.saturating_sub(1);
        }
    }

    /// The human ends its turn (the button is enabled once AP are spent).
    async fn end_turn(&mut self) {
        assert!(self.in_action_phase() && self.ap("A") <= 0.0);
        self.advance().await;
        self.run_until_action_phase(false).await;
    }

    /// `useAiRunner`: returns the number of actions the AI took.
    async fn run_ai(&mut self) -> usize {
        let (seat, ai) = self.active();
        assert!(ai && self.in_action_phase(), "the runner starts here only");
        let mut actions = 0;
        loop {
            let body = json!({"sessionId": self.session, "playerId": seat});
            let answer = self.post("/ai-turn", Some(body)).await;
            if answer["ranTurn"] != true {
                return actions;
            }
            let taken = answer["actions"].as_array().unwrap().len();
            assert!(taken <= 1, "one AI action per request: {taken}");
            actions += taken;
            if answer["phaseComplete"] == true {
                // The client's view changed: its unforced run comes first.
                self.run_until_action_phase(false).await;
                self.run_until_action_phase(true).await;
                return actions;
            }
            assert!(
                taken == 1,
                "an answer with no action and the phase not complete leaves the client waiting"
            );
        }
    }
}

#[tokio::test]
async fn the_reference_client_loop_plays_ten_whole_turns() {
    let app = TestApp::game();
    let mut client = ReferenceClient::start(&app).await;
    client.run_until_action_phase(false).await;
    let mut ai_actions = 0;
    for turn in 1..=10u64 {
        // The human's main phase of this turn, with its AP.
        assert_eq!(client.game()["turn"], turn);
        assert_eq!(client.active(), ("A".to_owned(), false), "turn {turn}");
        assert_eq!(client.game()["currentPhase"], "main", "turn {turn}");
        // (Only taxing makes both realms unhappy: from turn 6 on, despair
        // skips the growth phase that grants AP, and a main phase may have
        // none to spend.)
        let ap = client.ap("A");
        let mut taxes = 0;
        while client.ap("A") > 0.0 {
            let body = json!({"sessionId": client.session, "actionId": "tax"});
            let answer = client.post("/actions", Some(body)).await;
            assert_eq!(answer["status"], "success", "turn {turn}");
            taxes += 1;
        }
        assert_eq!(taxes as f64, ap);
        client.end_turn().await;

        // The AI's main phase of this turn: the runner starts.
        assert_eq!(client.game()["turn"], turn);
        assert_eq!(client.active(), ("B".to_owned(), true), "turn {turn}");
        assert_eq!(client.game()["currentPhase"], "main", "turn {turn}");
        let ai_ap = client.ap("B");
        let before = client.advances;
        let acted = client.run_ai().await;
        assert_eq!(acted as f64, ai_ap, "turn {turn}: the AI spends its AP");
        ai_actions += acted;
        assert!(client.advances > before, "the client advanced itself");
        assert!(!client.concluded(), "turn {turn}: nobody is bankrupt yet");
    }
    assert!(ai_actions > 0, "the AI acted {ai_actions} times");
    assert_eq!(client.game()["turn"], 11);
    assert_eq!(client.active(), ("A".to_owned(), false));
    assert_eq!(client.game()["currentPhase"], "main");
}
