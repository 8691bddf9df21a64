//! [`Game`]: a game in progress, the commands that change it, and the
//! queries that read it.
//!
//! Every command is atomic: it runs on a copy of the state, and the copy
//! replaces the state only when the command succeeds. A refused command
//! leaves the game byte-for-byte as it was.

use std::cell::Cell;
use std::sync::Arc;

use crate::Key;
use crate::action;
use crate::advance::{self, Advanced};
use crate::content::{ActionDef, ActionEffect, Bag, Content, CorePhaseIds, EffectGroup, Params};
use crate::error::{EngineError, RequirementFailure};
use crate::exec::Ctx;
use crate::handlers;
use crate::player::{ByPlayer, PlayerId};
use crate::result::{ActionOutcome, AdvanceResult, AiAction, AiTurnOutcome, delta_bag};
use crate::setup;
use crate::snapshot::{PlayerSnapshot, Snapshot};
use crate::state::GameState;

mod ai;

pub use ai::{AiMove, AiPolicy, TaxCollector};

/// Longest player name, in UTF-16 code units (as the reference counts).
pub const MAX_PLAYER_NAME: usize = 40;

/// How a new game is set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GameOptions {
    /// Start with the content's dev-mode overlay.
    pub dev_mode: bool,
    /// Seats played by the built-in AI.
    pub ai: ByPlayer<bool>,
}

impl Default for GameOptions {
    fn default() -> Self {
        GameOptions {
            dev_mode: false,
            ai: ByPlayer { a: false, b: true },
        }
    }
}

/// A command: the unit of change of a game. Plain data: its JSON form is
/// `kb-session`'s stored command (the log, and replay documents).
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Run one step of the active player's turn.
    Advance,
    /// Perform an action for the active player.
    Action {
        /// The action.
        action_id: Key,
        /// Its parameters (`id`, `landId`, `role`, `choices`...).
        params: Params,
        /// If given, the player who means to act; refused when it is not
        /// that player's turn.
        player_id: Option<PlayerId>,
    },
    /// Perform the action the built-in AI chose for its seat (the server
    /// asks an [`AiPolicy`] and records its move, so a replay never runs
    /// AI code). Refused unless `player_id` is played by the AI and active.
    AiAction {
        /// The AI seat.
        player_id: PlayerId,
        /// The action.
        action_id: Key,
        /// Its parameters.
        params: Params,
    },
    /// Let the built-in AI play the seat's whole turn.
    AiTurn {
        /// The AI seat.
        player_id: PlayerId,
    },
    /// A turn of the built-in AI as the moves it chose (a server records a
    /// searching AI's turn this way, so a replay never runs AI code): each
    /// an advance or an action of the seat, applied in order, all or
    /// nothing. Refused unless `player_id` is played by the AI and active
    /// before every move.
    AiMoves {
        /// The AI seat.
        player_id: PlayerId,
        /// The moves, in order.
        moves: Vec<AiStep>,
    },
    /// Set the dev-mode flag (changes nothing else).
    SetDevMode {
        /// The new flag.
        enabled: bool,
    },
    /// Rename a player.
    SetPlayerName {
        /// The player.
        player_id: PlayerId,
        /// The new name (trimmed; 1 to 40 characters).
        player_name: String,
    },
}

/// One move of a recorded AI turn ([`Command::AiMoves`]).
#[derive(Clone, Debug, PartialEq)]
pub enum AiStep {
    /// Run the seat's current step (as [`Command::Advance`]).
    Advance,
    /// Perform an action.
    Action {
        /// The action.
        action_id: Key,
        /// Its parameters.
        params: Params,
    },
}

/// What a successful command did.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// An advance.
    Advance(AdvanceResult),
    /// An action.
    Action(ActionOutcome),
    /// An AI turn.
    AiTurn(AiTurnOutcome),
    /// A dev-mode change.
    DevMode,
    /// A name change.
    PlayerName,
}

/// Options of [`Game::simulate_upcoming_phases`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SimulateOptions {
    /// The growth and upkeep phase ids (default: `rules.corePhaseIds`).
    pub phase_ids: Option<CorePhaseIds>,
    /// Iteration limit (default: phases × players × 10).
    pub max_iterations: Option<usize>,
}

/// The result of a simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct SimulationResult {
    /// The player simulated.
    pub player_id: PlayerId,
    /// The player before.
    pub before: PlayerSnapshot,
    /// The player after.
    pub after: PlayerSnapshot,
    /// Non-zero differences.
    pub delta: SimulationDelta,
    /// Every advance simulated.
    pub steps: Vec<AdvanceResult>,
}

/// Differences between two player snapshots.
#[derive(Clone, Debug, PartialEq)]
pub struct SimulationDelta {
    /// Resources.
    pub resources: Bag,
    /// Stats.
    pub stats: Bag,
    /// Population.
    pub population: Bag,
}

/// A game: shared content plus the state.
#[derive(Clone, Debug)]
pub struct Game {
    content: Arc<Content>,
    state: GameState,
}

impl Game {
    /// Starts a game.
    pub fn new(content: Arc<Content>, options: GameOptions) -> Result<Game, EngineError> {
        let state = setup::initial_state(&content, options.dev_mode, options.ai)?;
        Ok(Game { content, state })
    }

    /// Resumes a game from a state produced by this content (for example a
    /// deserialized checkpoint).
    pub fn from_state(content: Arc<Content>, state: GameState) -> Result<Game, EngineError> {
        let phases = content.phases();
        let valid = phases
            .get(state.phase_index)
            .is_some_and(|phase| state.step_index < phase.steps.len());
        if !valid {
            return Err(EngineError::UnknownPhase(
                format!("#{}.{}", state.phase_index, state.step_index).into(),
            ));
        }
        Ok(Game { content, state })
    }

    /// The content.
    pub fn content(&self) -> &Arc<Content> {
        &self.content
    }

    /// The state.
    pub fn state(&self) -> &GameState {
        &self.state
    }

    /// Consumes the game, returning its state.
    pub fn into_state(self) -> GameState {
        self.state
    }

    /// Applies a command atomically.
    pub fn apply(&mut self, command: &Command) -> Result<Outcome, EngineError> {
        match command {
            Command::Advance => self.advance().map(Outcome::Advance),
            Command::Action {
                action_id,
                params,
                player_id,
            } => {
                if let Some(player) = player_id
                    && *player != self.state.active
                {
                    return Err(EngineError::NotActivePlayer {
                        player: *player,
                        active: self.state.active,
                    });
                }
                if *self.state.ai.get(self.state.active) {
                    return Err(EngineError::AiControlled {
                        player: self.state.active,
                    });
                }
                self.perform(action_id, params).map(Outcome::Action)
            }
            Command::AiAction {
                player_id,
                action_id,
                params,
            } => {
                if !*self.state.ai.get(*player_id) {
                    return Err(EngineError::NoAiController(*player_id));
                }
                if *player_id != self.state.active {
                    return Err(EngineError::NotActivePlayer {
                        player: *player_id,
                        active: self.state.active,
                    });
                }
                self.perform(action_id, params).map(Outcome::Action)
            }
            Command::AiTurn { player_id } => {
                self.ai_turn(*player_id, &TaxCollector).map(Outcome::AiTurn)
            }
            Command::AiMoves { player_id, moves } => {
                self.ai_moves(*player_id, moves).map(Outcome::AiTurn)
            }
            Command::SetDevMode { enabled } => {
                self.state.dev_mode = *enabled;
                Ok(Outcome::DevMode)
            }
            Command::SetPlayerName {
                player_id,
                player_name,
            } => {
                let name = validate_player_name(player_name)?;
                self.state.players.get_mut(*player_id).name = name;
                Ok(Outcome::PlayerName)
            }
        }
    }

    /// Runs one step of the active player's turn.
    pub fn advance(&mut self) -> Result<AdvanceResult, EngineError> {
        advance_atomic(&self.content, &mut self.state)
    }

    /// Performs an action for the active player (no AI-seat check; see
    /// [`Command::Action`]).
    pub fn perform(
        &mut self,
        action_id: &str,
        params: &Params,
    ) -> Result<ActionOutcome, EngineError> {
        perform_atomic(&self.content, &mut self.state, action_id, params)
    }

    /// Plays the AI seat's whole turn with `policy`: advances through its
    /// non-action steps, performs the policy's moves in the action phase,
    /// then ends the turn. Does nothing (`ran_turn: false`) when it is not
    /// that seat's turn.
    pub fn ai_turn(
        &mut self,
        player: PlayerId,
        policy: &dyn AiPolicy,
    ) -> Result<AiTurnOutcome, EngineError> {
        if !*self.state.ai.get(player) {
            return Err(EngineError::NoAiController(player));
        }
        if self.state.conclusion.is_some() {
            return Err(EngineError::GameConcluded);
        }
        let mut outcome = AiTurnOutcome {
            player_id: player,
            ran_turn: self.state.active == player,
            actions: Vec::new(),
            advances: Vec::new(),
            phase_complete: false,
        };
        if !outcome.ran_turn {
            return Ok(outcome);
        }
        let original = self.state.clone();
        let limit = 64
            * self
                .content
                .phases()
                .iter()
                .map(|p| p.steps.len())
                .sum::<usize>()
                .max(1);
        let mut moves = 0usize;
        let result = (|| -> Result<(), EngineError> {
            while self.state.conclusion.is_none() && self.state.active == player {
                moves += 1;
                if moves > limit {
                    return Err(EngineError::SimulationLimit(limit));
                }
                let in_action_phase = self.content.phases()[self.state.phase_index].action;
                if in_action_phase
                    && let AiMove::Act { action_id, params } = policy.next_move(self, player)
                    && let Ok(done) = self.perform(&action_id, &params)
                {
                    outcome.actions.push(AiAction {
                        action_id: done.action_id,
                        costs: done.costs,
                        traces: done.traces,
                        attack_logs: done.attack_logs,
                    });
                    continue;
                }
                outcome.advances.push(self.advance()?);
            }
            Ok(())
        })();
        if let Err(error) = result {
            self.state = original;
            return Err(error);
        }
        outcome.phase_complete = true;
        Ok(outcome)
    }

    /// Plays the AI seat's recorded `moves` ([`Command::AiMoves`]), all or
    /// nothing: each needs the seat active and the game going on.
    pub fn ai_moves(
        &mut self,
        player: PlayerId,
        moves: &[AiStep],
    ) -> Result<AiTurnOutcome, EngineError> {
        if !*self.state.ai.get(player) {
            return Err(EngineError::NoAiController(player));
        }
        let mut outcome = AiTurnOutcome {
            player_id: player,
            ran_turn: !moves.is_empty(),
            actions: Vec::new(),
            advances: Vec::new(),
            phase_complete: false,
        };
        let original = self.state.clone();
        let result = (|| -> Result<(), EngineError> {
            for step in moves {
                if self.state.conclusion.is_some() {
                    return Err(EngineError::GameConcluded);
                }
                if self.state.active != player {
                    return Err(EngineError::NotActivePlayer {
                        player,
                        active: self.state.active,
                    });
                }
                match step {
                    AiStep::Advance => outcome.advances.push(self.advance()?),
                    AiStep::Action { action_id, params } => {
                        let done = self.perform(action_id, params)?;
                        outcome.actions.push(AiAction {
                            action_id: done.action_id,
                            costs: done.costs,
                            traces: done.traces,
                            attack_logs: done.attack_logs,
                        });
                    }
                }
            }
            Ok(())
        })();
        if let Err(error) = result {
            self.state = original;
            return Err(error);
        }
        outcome.phase_complete = self.state.conclusion.is_some() || self.state.active != player;
        Ok(outcome)
    }

    /// Runs `effects` for `player`, atomically, outside any action: a setup
    /// tool for tests, tools and developer presets (the reference's
    /// `applyDeveloperPreset`). Hooks run as in play (tiers, win conditions,
    /// passives). Not a [`Command`]: clients cannot send it.
    pub fn run_effects_as(
        &mut self,
        player: PlayerId,
        effects: &[crate::content::Effect],
    ) -> Result<(), EngineError> {
        let mut scratch = self.state.clone();
        let mut ctx = Ctx::new(&self.content, &mut scratch, handlers::run);
        ctx.as_player(player, |ctx| ctx.run_effects(effects, 1.0))?;
        self.state = scratch;
        Ok(())
    }

    /// A snapshot of the whole game.
    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot::of(&self.content, &self.state, Vec::new())
    }

    /// A snapshot carrying the attack logs of the result it accompanies.
    pub fn snapshot_with_logs(&self, attacks: Vec<crate::result::AttackLog>) -> Snapshot<'_> {
        Snapshot::of(&self.content, &self.state, attacks)
    }

    /// An action's definition.
    pub fn action_definition(&self, action_id: &str) -> Result<&ActionDef, EngineError> {
        self.content
            .actions()
            .get(action_id)
            .ok_or_else(|| EngineError::UnknownAction(action_id.into()))
    }

    /// What the action would cost the active player with `params` (groups
    /// without a choice are left out).
    pub fn action_costs(&self, action_id: &str, params: &Params) -> Result<Bag, EngineError> {
        let mut scratch = self.state.clone();
        let ctx = Ctx::new(&self.content, &mut scratch, handlers::run);
        action::cost_query(&ctx, action_id, params)
    }

    /// The action's requirements that fail for the active player.
    pub fn action_requirements(
        &self,
        action_id: &str,
    ) -> Result<Vec<RequirementFailure>, EngineError> {
        let mut scratch = self.state.clone();
        let ctx = Ctx::new(&self.content, &mut scratch, handlers::run);
        let action = action::find(&ctx, action_id)?;
        action::failing_requirements(&ctx, action)
    }

    /// The action's effect groups (choices a player must make).
    pub fn action_options(&self, action_id: &str) -> Result<Vec<&EffectGroup>, EngineError> {
        let action = self.action_definition(action_id)?;
        Ok(action
            .effects
            .iter()
            .filter_map(|e| match e {
                ActionEffect::Group(group) => Some(group),
                ActionEffect::Effect(_) => None,
            })
            .collect())
    }

    /// Advances a copy of the game until `player` has completed its growth
    /// and then its upkeep phase, and reports what changed for them.
    pub fn simulate_upcoming_phases(
        &self,
        player: PlayerId,
        options: &SimulateOptions,
    ) -> Result<SimulationResult, EngineError> {
        let ids = options
            .phase_ids
            .clone()
            .or_else(|| self.content.rules().core_phase_ids.clone())
            .ok_or_else(|| EngineError::UnknownPhase("corePhaseIds".into()))?;
        for id in [&ids.growth, &ids.upkeep] {
            if !self.content.phases().iter().any(|p| p.id == *id) {
                return Err(EngineError::UnknownPhase(id.clone()));
            }
        }
        let limit = options
            .max_iterations
            .unwrap_or(self.content.phases().len() * 2 * 10);
        let mut state = self.state.clone();
        state.conclusion = None;
        let before = PlayerSnapshot::of(&self.content, &state, player);
        let mut steps = Vec::new();
        let mut growth_done = false;
        loop {
            if steps.len() >= limit {
                return Err(EngineError::SimulationLimit(limit));
            }
            let acting = state.active;
            let phase_before = state.phase_index;
            let result = advance_atomic(&self.content, &mut state)?;
            let left_phase = state.phase_index != phase_before || state.active != acting;
            let phase_id = result.phase.clone();
            steps.push(result);
            if state.conclusion.is_some() {
                break;
            }
            if acting == player && left_phase {
                if phase_id == ids.growth {
                    growth_done = true;
                } else if phase_id == ids.upkeep && growth_done {
                    break;
                }
            }
        }
        let after = PlayerSnapshot::of(&self.content, &state, player);
        let population = |p: &PlayerSnapshot| -> Bag {
            p.population
                .iter()
                .map(|(k, v)| (k.clone(), crate::num::Num(f64::from(*v))))
                .collect()
        };
        Ok(SimulationResult {
            player_id: player,
            delta: SimulationDelta {
                resources: delta_bag(&before.resources, &after.resources),
                stats: delta_bag(&before.stats, &after.stats),
                population: delta_bag(&population(&before), &population(&after)),
            },
            before,
            after,
            steps,
        })
    }
}

/// Trims and checks a player name.
pub fn validate_player_name(name: &str) -> Result<String, EngineError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(EngineError::InvalidPlayerName(
            "Player names must include visible characters.",
        ));
    }
    if trimmed.encode_utf16().count() > MAX_PLAYER_NAME {
        return Err(EngineError::InvalidPlayerName(
            "Player names must be 40 characters or fewer.",
        ));
    }
    Ok(trimmed.to_owned())
}

thread_local! {
    /// The state the last command on this thread replaced (of any game),
    /// whose storage the next command's copy reuses: one per thread, not
    /// one per game, so a live game costs no second state.
    static SPARE: Cell<Option<GameState>> = const { Cell::new(None) };
}

/// The copy of a state a command runs on, so that a failure leaves the
/// state as it was. It is made in this thread's spare storage when there
/// is one ([`GameState::copy_from`]): allocating the copy anew, and
/// dropping the state it replaced, was about half of a command's cost.
/// Dropped, it gives its storage back as the spare.
struct Scratch(Option<GameState>);

impl Scratch {
    fn of(state: &GameState) -> Scratch {
        let copy = match SPARE.try_with(Cell::take).ok().flatten() {
            Some(mut spare) => {
                spare.copy_from(state);
                spare
            }
            None => state.clone(),
        };
        Scratch(Some(copy))
    }

    fn state(&mut self) -> &mut GameState {
        self.0.as_mut().expect("held until dropped")
    }

    /// Makes the copy the state; the state it replaces becomes the spare.
    fn commit(mut self, state: &mut GameState) {
        std::mem::swap(state, self.state());
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(storage) = self.0.take() {
            // At a thread's exit there is no spare to keep.
            let _ = SPARE.try_with(|spare| spare.set(Some(storage)));
        }
    }
}

fn advance_atomic(content: &Content, state: &mut GameState) -> Result<AdvanceResult, EngineError> {
    let mut scratch = Scratch::of(state);
    scratch.state().recent_resource_gains.clear();
    let mut ctx = Ctx::new(content, scratch.state(), handlers::run);
    match advance::advance(&mut ctx)? {
        Advanced::Done(result) => {
            scratch.commit(state);
            Ok(result)
        }
        Advanced::Bankrupt {
            player,
            condition,
            mut result,
        } => {
            // The step is undone: the player keeps what they had, and loses.
            advance::declare_bankrupt(content, state, player, condition);
            result.player = Box::new(PlayerSnapshot::of(content, state, player));
            Ok(result)
        }
    }
}

fn perform_atomic(
    content: &Content,
    state: &mut GameState,
    action_id: &str,
    params: &Params,
) -> Result<ActionOutcome, EngineError> {
    let mut scratch = Scratch::of(state);
    scratch.state().recent_resource_gains.clear();
    let mut ctx = Ctx::new(content, scratch.state(), handlers::run);
    let outcome = action::perform(&mut ctx, action_id, params)?;
    scratch.commit(state);
    Ok(outcome)
}
