//! `POST /sessions/:id/proceed`: moves a game on to the next decision of a
//! human, in one request.
//!
//! Without it a client ends a turn with one `advance`, one `ai-turn` and
//! about seven more `advance`s (the growth and upkeep steps of the next
//! turn), each a round trip. This route takes the same steps for it, each
//! one the same command those routes would log (`advance`, or `aiTurn` for
//! a seat the built-in AI plays, its whole turn), committed one by one like
//! theirs, and answers once, with every step taken:
//!
//! 1. It always takes one step (from a human's action phase, that step ends
//!    their turn), then goes on while no human has a decision to make: it
//!    stops at a human seat's action phase, at the end of the game, or
//!    after [`STEP_LIMIT`] steps.
//! 2. `If-Match` applies to the first step; each later step expects the
//!    version the previous one made, so no other write can slip between
//!    them unseen (a write that does ends the run with 409; the steps taken
//!    before it stay taken, as separate calls would have left them).
//! 3. The answer is the session state (as every write answers), `steps`
//!    (each `advance` result, and each AI turn with its actions), `stopped`
//!    (`decision`, `concluded` or `limit`) and the `forecast` of the state
//!    reached (see [`super::forecast`]), so a client needs no further read
//!    before the player's next click.
//!
//! Each AI action also carries both seats' snapshots right after it, so a
//! client can play the AI's turn back one action at a time. They come from
//! running the same turn on a copy of the game with a policy that watches
//! each move ([`Game::ai_turn`] with a wrapping [`AiPolicy`]); they are sent
//! only when that copy ends exactly where the committed command did.

use std::cell::RefCell;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kb_engine::content::Params;
use kb_engine::{
    AdvanceResult, AiMove, AiPolicy, AiStep, AiTurnOutcome, AttackLog, Command, Game, Outcome,
    PlayerId, PlayerSnapshot, TaxCollector,
};
use kb_protocol::answers;
use kb_session::{SessionError, SessionView};
use serde::Serialize;

use super::forecast::{self, Forecast};
use super::render::{self, AiActionWire};
use super::sessions::{if_match, json, read, require, session_error};
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::state::AppState;

/// Most steps one request takes (a whole round of both seats is about 16
/// with the default content).
pub const STEP_LIMIT: usize = 200;

/// Why the run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Stopped {
    /// A human seat is in an action phase.
    Decision,
    /// The game is over.
    Concluded,
    /// [`STEP_LIMIT`] steps were taken.
    Limit,
}

/// One step taken.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
enum Step {
    /// An `advance`.
    #[serde(rename_all = "camelCase")]
    Advance {
        player_id: PlayerId,
        #[serde(serialize_with = "answers::serialize")]
        advance: AdvanceResult,
    },
    /// An `aiTurn`: the AI seat's whole turn.
    #[serde(rename_all = "camelCase")]
    AiTurn {
        player_id: PlayerId,
        actions: Vec<AiActionStep>,
        #[serde(serialize_with = "answers::serialize")]
        advances: Vec<AdvanceResult>,
    },
}

/// One action of an AI turn.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AiActionStep {
    #[serde(flatten)]
    action: OwnedAiAction,
    /// The parameters the AI chose (with the playback).
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<Params>,
    /// Both seats right after the action (with the playback).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "answers::serialize"
    )]
    players: Option<Vec<PlayerSnapshot>>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "answers::serialize"
    )]
    attack_logs: Vec<AttackLog>,
}

/// [`AiActionWire`]'s fields, owned.
struct OwnedAiAction(kb_engine::AiAction);

impl Serialize for OwnedAiAction {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        AiActionWire {
            action_id: &self.0.action_id,
            // The step carries the chosen parameters itself (`params`).
            params: None,
            costs: &self.0.costs,
            traces: &self.0.traces,
        }
        .serialize(serializer)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProceedExtra<'a> {
    steps: &'a [Step],
    stopped: Stopped,
    forecast: Forecast,
}

/// What to do next on a game, or why to stop.
fn next_command(game: &Game, taken: usize) -> Result<Command, Stopped> {
    let state = game.state();
    if state.conclusion.is_some() {
        return Err(Stopped::Concluded);
    }
    let active = state.active;
    let ai = *state.ai.get(active);
    let action_phase = game
        .content()
        .phases()
        .get(state.phase_index)
        .is_some_and(|phase| phase.action);
    if taken > 0 && !ai && action_phase {
        return Err(Stopped::Decision);
    }
    if taken >= STEP_LIMIT {
        return Err(Stopped::Limit);
    }
    Ok(if ai {
        Command::AiTurn { player_id: active }
    } else {
        Command::Advance
    })
}

/// `POST /sessions/:id/proceed` (the body is ignored).
pub async fn proceed(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = require(&caller, Role::SessionAdvance)?;
    let expected = if_match(&headers)?;
    let (mut version, mut game, level) = read(&state, caller.clone(), id.clone(), |view| {
        (
            view.version,
            view.game.clone(),
            super::ai::session_level(view),
        )
    })
    .await?;
    // Who may not take the first step hears so first (not 409).
    let first = next_command(&game, 0).unwrap_or(Command::Advance);
    state
        .manager()
        .authorize_async(&caller, &id, first)
        .await
        .map_err(session_error)?;
    if let Some(expected) = expected
        && expected != version
    {
        return Err(session_error(SessionError::Stale {
            session_id: id,
            expected,
            actual: version,
        }));
    }
    let mut steps: Vec<Step> = Vec::new();
    let mut attacks: Vec<AttackLog> = Vec::new();
    let mut command = match next_command(&game, 0) {
        Ok(command) => command,
        // A finished game: nothing to do, say so as `advance` would.
        Err(_) => {
            return Err(session_error(SessionError::Engine(
                kb_engine::EngineError::GameConcluded,
            )));
        }
    };
    loop {
        // A searching level thinks on the AI pool and records its moves.
        if let Command::AiTurn { player_id } = command
            && level != kb_ai::Level::Easy
        {
            let policy = kb_ai::policy(level, super::ai::seed(&id, version));
            let copy = game.clone();
            command = state
                .ai_pool()
                .run(move || super::ai::turn_command(copy, player_id, &policy))
                .await?;
        }
        let playback = match &command {
            Command::AiTurn { player_id } => Some(watch_ai_turn(&game, *player_id)),
            Command::AiMoves { player_id, moves } => Some(watch_moves(&game, *player_id, moves)),
            _ => None,
        };
        let taken = steps.len() + 1;
        let done = state
            .manager()
            .execute_async(&caller, &id, command, Some(version), |view, outcome| {
                let step = to_step(view, outcome, playback);
                (view.version, view.game.clone(), step)
            })
            .await
            .map_err(session_error)?;
        let (new_version, new_game, (step, step_attacks)) = done;
        version = new_version;
        game = new_game;
        steps.push(step);
        attacks.extend(step_attacks);
        match next_command(&game, taken) {
            Ok(next) => command = next,
            Err(stopped) => {
                return finish(&state, caller, id, version, steps, stopped, attacks).await;
            }
        }
    }
}

/// Renders the final answer from the session as it now is (it is read
/// again under its lock; a write from elsewhere since is a conflict).
async fn finish(
    state: &AppState,
    caller: kb_session::Caller,
    id: String,
    version: u64,
    steps: Vec<Step>,
    stopped: Stopped,
    attacks: Vec<AttackLog>,
) -> Result<Response, ApiError> {
    let session_id = id.clone();
    read(state, caller, id, move |view: &SessionView<'_>| {
        if view.version != version {
            return Err(session_error(SessionError::Stale {
                session_id,
                expected: version,
                actual: view.version,
            }));
        }
        let extra = ProceedExtra {
            steps: &steps,
            stopped,
            forecast: forecast::compute(view.game, None),
        };
        let body = render::session_state(view, attacks, extra);
        Ok(json(StatusCode::OK, body, Some(view.version)))
    })
    .await?
}

/// Turns a committed outcome into a step (and its attack logs).
fn to_step(
    view: &SessionView<'_>,
    outcome: &Outcome,
    playback: Option<Playback>,
) -> (Step, Vec<AttackLog>) {
    match outcome {
        Outcome::AiTurn(turn) => {
            let attacks = turn
                .actions
                .iter()
                .flat_map(|a| a.attack_logs.iter().cloned())
                .collect();
            let playback = playback.filter(|p| p.matches(turn, view.game));
            (ai_step(turn, playback), attacks)
        }
        Outcome::Advance(advance) => (
            Step::Advance {
                player_id: advance.player.id,
                advance: advance.clone(),
            },
            Vec::new(),
        ),
        // `next_command` only sends advances and AI turns.
        Outcome::Action(_) | Outcome::DevMode | Outcome::PlayerName => {
            unreachable!("proceed only advances and plays AI turns")
        }
    }
}

fn ai_step(turn: &AiTurnOutcome, playback: Option<Playback>) -> Step {
    let mut moves = playback.map(|p| p.after_each_action.into_iter());
    let actions = turn
        .actions
        .iter()
        .map(|action| {
            let watched = moves.as_mut().and_then(Iterator::next);
            let (params, players) = match watched {
                Some((params, players)) => (Some(params), Some(players)),
                None => (None, None),
            };
            AiActionStep {
                action: OwnedAiAction(action.clone()),
                params,
                players,
                attack_logs: action.attack_logs.clone(),
            }
        })
        .collect();
    Step::AiTurn {
        player_id: turn.player_id,
        actions,
        advances: turn.advances.clone(),
    }
}

// ----- playback ---------------------------------------------------------------------

/// An AI turn played on a copy, watched move by move.
struct Playback {
    /// For each action performed: its parameters and both seats after it.
    after_each_action: Vec<(Params, Vec<PlayerSnapshot>)>,
    /// The action ids, in order (to check against the committed turn).
    action_ids: Vec<kb_engine::Key>,
    /// Both seats at the end of the turn.
    end: Vec<PlayerSnapshot>,
}

impl Playback {
    /// Whether the committed turn is the one watched: the same actions and
    /// the same end state.
    fn matches(&self, turn: &AiTurnOutcome, game: &Game) -> bool {
        turn.actions.len() == self.action_ids.len()
            && turn
                .actions
                .iter()
                .zip(&self.action_ids)
                .all(|(a, id)| a.action_id == *id)
            && self.end == seats(game)
    }
}

fn seats(game: &Game) -> Vec<PlayerSnapshot> {
    PlayerId::ALL
        .iter()
        .map(|&p| PlayerSnapshot::of(game.content(), game.state(), p))
        .collect()
}

/// Wraps the AI's policy and records, at each of its moves, the move and
/// both seats as they were when it was asked.
struct Watcher<'p> {
    inner: &'p dyn AiPolicy,
    seen: RefCell<Vec<(AiMove, Vec<PlayerSnapshot>)>>,
}

impl AiPolicy for Watcher<'_> {
    fn next_move(&self, game: &Game, player: PlayerId) -> AiMove {
        let chosen = self.inner.next_move(game, player);
        self.seen.borrow_mut().push((chosen.clone(), seats(game)));
        chosen
    }
}

/// Plays recorded AI `moves` on a copy of `game`, watching each action.
fn watch_moves(game: &Game, player: PlayerId, moves: &[AiStep]) -> Playback {
    let mut copy = game.clone();
    let mut after_each_action = Vec::new();
    let mut action_ids = Vec::new();
    for step in moves {
        let command = match step {
            AiStep::Advance => Command::Advance,
            AiStep::Action { action_id, params } => Command::AiAction {
                player_id: player,
                action_id: action_id.clone(),
                params: params.clone(),
            },
        };
        if copy.apply(&command).is_err() {
            action_ids.push("(failed)".into());
            break;
        }
        if let AiStep::Action { action_id, params } = step {
            action_ids.push(action_id.clone());
            after_each_action.push((params.clone(), seats(&copy)));
        }
    }
    Playback {
        after_each_action,
        action_ids,
        end: seats(&copy),
    }
}

/// Plays `player`'s turn on a copy of `game` with the policy the engine's
/// `aiTurn` command uses, watching each move. The state after action `i`
/// is the state the policy saw when asked for move `i + 1` (after a
/// successful action the AI is always asked again while its action phase
/// lasts), or the end state for the last one.
fn watch_ai_turn(game: &Game, player: PlayerId) -> Playback {
    let policy = TaxCollector;
    let watcher = Watcher {
        inner: &policy,
        seen: RefCell::new(Vec::new()),
    };
    let mut copy = game.clone();
    let outcome = copy.ai_turn(player, &watcher);
    let end = seats(&copy);
    let seen = watcher.seen.into_inner();
    let Ok(outcome) = outcome else {
        return Playback {
            after_each_action: Vec::new(),
            action_ids: vec!["(failed)".into()],
            end,
        };
    };
    let mut after_each_action = Vec::new();
    for (index, action) in outcome.actions.iter().enumerate() {
        let params = match seen.get(index) {
            Some((AiMove::Act { params, action_id }, _)) if *action_id == action.action_id => {
                params.clone()
            }
            _ => Params::new(),
        };
        let players = seen
            .get(index + 1)
            .map_or_else(|| end.clone(), |(_, players)| players.clone());
        after_each_action.push((params, players));
    }
    Playback {
        after_each_action,
        action_ids: outcome
            .actions
            .iter()
            .map(|a| a.action_id.clone())
            .collect(),
        end,
    }
}
