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
//! * `"turn"` plays the seat's whole turn in one atomic change: its
//!   remaining steps and actions, up to the next player's turn. `easy`
//!   records [`Command::AiTurn`] (the engine replays the tax collector);
//!   `normal` and `hard` record the moves they chose as one
//!   [`Command::AiMoves`] entry, so a replay never searches. `ranTurn:
//!   false` means it was not the seat's turn (nothing happened).
//!
//! The policy comes from one place, `session_policy`: the level the
//! session chose at creation (`aiLevel`, `easy` when none), seeded from the
//! session id and version. `normal` and `hard` think on the [`AiPool`]
//! (off the async workers), on a copy of the game, and commit under the
//! version they thought on; another write in between means thinking again.
//!
//! [`AiPool`]: crate::ai_pool::AiPool

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kb_ai::{Level, Policy};
use kb_engine::content::Params;
use kb_engine::{AiMove, AiPolicy, Command, EngineError, Game, Outcome, PlayerId};
use kb_protocol::messages;
use kb_protocol::requests::{AiTurnMode, AiTurnRequest};
use kb_session::{SessionError, SessionView};

use super::render::{self, AiTurnExtra};
use super::sessions::{
    JsonBody, engine_error, if_match, json, mutate, outcome_response, read, require, session_error,
};
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

/// How often a step is decided again when another write to the session
/// came between deciding the move and committing it.
const STEP_ATTEMPTS: usize = 8;

/// The session's AI level: the one it chose at creation, `easy` when none
/// (or one this build does not know).
pub(crate) fn session_level(view: &SessionView<'_>) -> Level {
    view.ai_level
        .and_then(|name| name.parse().ok())
        .unwrap_or_default()
}

/// The policy that plays the session's AI seats: the one place the ai-turn
/// and proceed routes ask, in every mode. Its seed is the session id's
/// mixed with the version decided on, so the same session at the same
/// version always gets the same move, in any process.
pub(crate) fn session_policy(view: &SessionView<'_>) -> Policy {
    kb_ai::policy(session_level(view), seed(view.session_id, view.version))
}

/// The seed the session's AI decides with at `version`: the session id's
/// seed mixed with the version. Public so that a client (or a test) can
/// recompute, with `kb_ai`, the move the server must have chosen.
pub fn seed(session_id: &str, version: u64) -> u64 {
    kb_ai::session_seed(session_id) ^ version.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The AI's whole turn for `seat` on `game`, as the command that records
/// it: [`Command::AiTurn`] for `easy` (the engine replays it), else the
/// moves chosen as one [`Command::AiMoves`]. Runs the search: call it on
/// the AI pool for `normal` and `hard`.
pub(crate) fn turn_command(mut game: Game, seat: PlayerId, policy: &Policy) -> Command {
    if policy.level() == Level::Easy {
        return Command::AiTurn { player_id: seat };
    }
    match kb_ai::turn_moves(&mut game, seat, policy) {
        Ok(moves) => Command::AiMoves {
            player_id: seat,
            moves,
        },
        // Let the engine say why the turn cannot be played.
        Err(_) => Command::AiTurn { player_id: seat },
    }
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
    // Who may not play this seat hears so first, whatever the session's
    // state (a stale version, a phase already complete).
    state
        .manager()
        .authorize_async(&caller, &id, Command::AiTurn { player_id: seat })
        .await
        .map_err(session_error)?;
    match request.mode {
        AiTurnMode::Turn => turn(state, caller, id, seat, expected).await,
        AiTurnMode::Step => step(state, caller, id, seat, expected).await,
    }
}

/// A whole turn: `easy` as [`Command::AiTurn`]; `normal` and `hard` think
/// on the AI pool on a copy of the game and commit their moves as one
/// [`Command::AiMoves`] under the version they thought on.
async fn turn(
    state: AppState,
    caller: kb_session::Caller,
    id: String,
    seat: PlayerId,
    expected: Option<u64>,
) -> Result<Response, ApiError> {
    for _ in 0..STEP_ATTEMPTS {
        let plan = read(&state, caller.clone(), id.clone(), move |view| {
            let game = view.game.state();
            // Not the seat's turn to search (or an error): the engine's
            // own answer, as for `easy`.
            let searching = session_level(view) != Level::Easy
                && *game.ai.get(seat)
                && game.conclusion.is_none()
                && game.active == seat;
            searching.then(|| (view.version, view.game.clone(), session_policy(view)))
        })
        .await?;
        let Some((version, game, policy)) = plan else {
            let command = Command::AiTurn { player_id: seat };
            return mutate(state, caller, id, command, expected).await;
        };
        if let Some(expected) = expected
            && expected != version
        {
            return Err(session_error(SessionError::Stale {
                session_id: id,
                expected,
                actual: version,
            }));
        }
        let command = state
            .ai_pool()
            .run(move || turn_command(game, seat, &policy))
            .await?;
        let committed = state
            .manager()
            .execute_async(&caller, &id, command, Some(version), outcome_response)
            .await;
        match committed {
            Ok(response) => return Ok(response),
            Err(SessionError::Stale { .. }) if expected.is_none() => {}
            Err(error) => return Err(session_error(error)),
        }
    }
    Err(ApiError::conflict(format!(
        "Session \"{id}\" kept changing while the AI chose its moves; retry the request."
    )))
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
    /// A searching level must think on a copy of the game at `version`.
    Think {
        game: Box<Game>,
        policy: Box<Policy>,
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
            Decision::Think {
                game,
                policy,
                version,
            } => {
                let chosen = state
                    .ai_pool()
                    .run(move || chosen_command(&game, seat, &*policy))
                    .await?;
                match chosen {
                    Some((command, params)) => (command, params, version),
                    None => {
                        // Done with its phase: say so for the game as it
                        // was thought on.
                        let answer = read(&state, caller.clone(), id.clone(), move |view| {
                            (view.version == version).then(|| idle_answer(view, true))
                        })
                        .await?;
                        match answer {
                            Some(response) => return Ok(response),
                            None if expected.is_none() => continue,
                            None => {
                                return Err(ApiError::conflict(format!(
                                    "Session \"{id}\" changed while the AI chose its move."
                                )));
                            }
                        }
                    }
                }
            }
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
/// reference server's one-action overrides does (`easy`, at once), or
/// hands a searching level a copy of the game to think on.
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
    let answer = |phase_complete: bool| Decision::Answer(idle_answer(view, phase_complete));
    let in_action_phase = game.content().phases()[state.phase_index].action;
    if state.active != seat || !in_action_phase {
        return Ok(answer(false));
    }
    let policy = session_policy(view);
    if policy.level() != Level::Easy {
        return Ok(Decision::Think {
            game: Box::new(game.clone()),
            policy: Box::new(policy),
            version: view.version,
        });
    }
    match chosen_command(game, seat, &policy) {
        None => Ok(answer(true)),
        Some((command, params)) => Ok(Decision::Move {
            command,
            params,
            version: view.version,
        }),
    }
}

/// The answer of a step that changes nothing.
fn idle_answer(view: &SessionView<'_>, phase_complete: bool) -> Response {
    let body = render::session_state(view, Vec::new(), AiTurnExtra::idle(phase_complete));
    json(StatusCode::OK, body, Some(view.version))
}

/// The policy's next move for `seat` as the command that records it, or
/// `None` when it ends its phase.
fn chosen_command(game: &Game, seat: PlayerId, policy: &dyn AiPolicy) -> Option<(Command, Params)> {
    match policy.next_move(game, seat) {
        AiMove::EndTurn => None,
        AiMove::Act { action_id, params } => {
            let command = Command::AiAction {
                player_id: seat,
                action_id,
                params: params.clone(),
            };
            // A move the engine refuses ends the AI's phase, as the
            // reference's controller gives up when its action throws.
            game.clone().apply(&command).ok()?;
            Some((command, params))
        }
    }
}
