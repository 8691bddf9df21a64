//! `POST /sessions/:id/ai-turn`: the built-in AI plays its seat.
//!
//! Two modes (`mode` in the body):
//!
//! * `"step"`, the default, is the reference protocol (server-protocol.md
//!   §1.3 route 10, §5.5), which the reference's web client relies on: at
//!   most one AI action per request and never an advance. The answer says
//!   `phaseComplete: false` while the AI wants to act again and
//!   `phaseComplete: true`, with no action, once it is done with its
//!   action phase; the client then calls `/advance` itself. Outside the
//!   seat's action phase (another player's turn, or the seat's growth or
//!   upkeep) the AI does nothing and answers `phaseComplete: false`.
//!   `ranTurn` is always `true`, as on the reference. The move is recorded
//!   in the session's log as the AI chose it ([`Command::AiAction`]), so a
//!   replay never runs AI code.
//! * `"turn"` plays the seat's whole turn in one atomic change
//!   ([`Command::AiTurn`]): its remaining steps and actions, up to the next
//!   player's turn. `ranTurn: false` there means it was not the seat's turn
//!   (nothing happened). Our browser client uses it.
//!
//! The policy comes from one place, `session_policy`: AI levels plug in
//! there.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kb_engine::content::Params;
use kb_engine::{AiMove, AiPolicy, Command, EngineError, Outcome, PlayerId, TaxCollector};
use kb_protocol::messages;
use kb_protocol::requests::{AiTurnMode, AiTurnRequest};
use kb_session::{SessionError, SessionView};

use super::render::{self, AiTurnExtra};
use super::sessions::{
    JsonBody, engine_error, if_match, json, mutate, read, require, session_error,
};
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

/// How often a step is decided again when another write to the session
/// came between deciding the move and committing it.
const STEP_ATTEMPTS: usize = 8;

/// The policy that plays `seat` of the session: the one place the ai-turn
/// route asks, in both modes. Today every session plays the reference's
/// tax collector (PRODUCT.md §7 `easy`).
///
/// Step mode asks it for each move and records the move itself. Turn mode
/// records [`Command::AiTurn`], which the engine plays (and replays) with
/// its own [`TaxCollector`]; a policy other than the tax collector must be
/// recorded by its moves, or by its level in that command, so that a
/// replay plays the same turn.
pub(crate) fn session_policy(view: &SessionView<'_>, seat: PlayerId) -> Box<dyn AiPolicy> {
    let _ = (view, seat);
    Box::new(TaxCollector)
}

/// `POST /sessions/:id/ai-turn` (`{playerId, mode?: "step" | "turn"}`).
pub async fn ai_turn(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<AiTurnRequest>,
) -> Result<Response, ApiError> {
    let caller = require(&caller, Role::SessionAdvance)?;
    let ApiJson(request) = body.map_err(|r| r.with_message(messages::INVALID_AI_TURN_REQUEST))?;
    let expected = if_match(&headers)?;
    let seat = request.player_id;
    match request.mode {
        AiTurnMode::Turn => {
            let command = Command::AiTurn { player_id: seat };
            mutate(state, caller, id, command, expected).await
        }
        AiTurnMode::Step => step(state, caller, id, seat, expected).await,
    }
}

/// What one step does, decided on the session as it is.
enum Decision {
    /// Nothing to change: the answer, rendered under the session's lock.
    Answer(Response),
    /// The AI's move, which the engine accepts at `version`.
    Move {
        command: Command,
        params: Params,
        version: u64,
    },
}

/// One step of the reference protocol: decide the AI's move on the session
/// as read, then commit it under `If-Match` of the version it was decided
/// on, so the move is always the one the policy chose for the game it is
/// applied to. Another write in between means deciding again.
async fn step(
    state: AppState,
    caller: kb_session::Caller,
    id: String,
    seat: PlayerId,
    expected: Option<u64>,
) -> Result<Response, ApiError> {
    for _ in 0..STEP_ATTEMPTS {
        let decision = read(&state, caller.clone(), id.clone(), move |view| {
            decide(view, seat, expected)
        })
        .await??;
        let (command, params, version) = match decision {
            Decision::Answer(response) => return Ok(response),
            Decision::Move {
                command,
                params,
                version,
            } => (command, params, version),
        };
        let committed = state
            .manager()
            .execute_async(
                &caller,
                &id,
                command,
                Some(version),
                move |view, outcome| {
                    let Outcome::Action(done) = outcome else {
                        unreachable!("an AI action has an action outcome")
                    };
                    let extra = AiTurnExtra::acted(done, &params);
                    let body = render::session_state(view, done.attack_logs.clone(), extra);
                    json(StatusCode::OK, body, Some(view.version))
                },
            )
            .await;
        match committed {
            Ok(response) => return Ok(response),
            // Another write came first: decide again on the new game, unless
            // the client asked for this version only.
            Err(SessionError::Stale { .. }) if expected.is_none() => {}
            Err(error) => return Err(session_error(error)),
        }
    }
    Err(ApiError::conflict(format!(
        "Session \"{id}\" kept changing while the AI chose its move; retry the request."
    )))
}

/// Decides one step for `seat`, as the reference's tax collector under the
/// reference server's one-action overrides does.
fn decide(
    view: &SessionView<'_>,
    seat: PlayerId,
    expected: Option<u64>,
) -> Result<Decision, ApiError> {
    if let Some(expected) = expected
        && expected != view.version
    {
        return Err(session_error(SessionError::Stale {
            session_id: view.session_id.to_owned(),
            expected,
            actual: view.version,
        }));
    }
    let game = view.game;
    let state = game.state();
    if !*state.ai.get(seat) {
        return Err(engine_error(&EngineError::NoAiController(seat)));
    }
    if state.conclusion.is_some() {
        return Err(engine_error(&EngineError::GameConcluded));
    }
    let answer = |phase_complete: bool| {
        let body = render::session_state(view, Vec::new(), AiTurnExtra::idle(phase_complete));
        Decision::Answer(json(StatusCode::OK, body, Some(view.version)))
    };
    let in_action_phase = game.content().phases()[state.phase_index].action;
    if state.active != seat || !in_action_phase {
        return Ok(answer(false));
    }
    match session_policy(view, seat).next_move(game, seat) {
        AiMove::EndTurn => Ok(answer(true)),
        AiMove::Act { action_id, params } => {
            let command = Command::AiAction {
                player_id: seat,
                action_id,
                params: params.clone(),
            };
            // A move the engine refuses ends the AI's phase, as the
            // reference's controller gives up when its action throws.
            if game.clone().apply(&command).is_err() {
                return Ok(answer(true));
            }
            Ok(Decision::Move {
                command,
                params,
                version: view.version,
            })
        }
    }
}
