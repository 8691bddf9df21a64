//! Moves as the AI sees them: the candidates worth trying, applying them
//! to copies of the game under a node budget, and driving turns.

use kb_engine::content::Params;
use kb_engine::{AiMove, AiPolicy, AiStep, Command, EngineError, Game, Move, PlayerId};

/// The candidate moves of the active player, with land choices collapsed:
/// of the moves that differ only in `landId`, only the one naming the
/// newest land is kept (lands are interchangeable in the rules the AI
/// knows, and the newest is where the engine itself would build).
pub(crate) fn candidates(game: &Game) -> Vec<Move> {
    let mut out: Vec<(Move, Params)> = Vec::new();
    for candidate in game.candidate_moves() {
        let mut rest = candidate.params.clone();
        rest.remove("landId");
        match out
            .iter_mut()
            .find(|(m, r)| m.action_id == candidate.action_id && *r == rest)
        {
            Some(slot) => slot.0 = candidate,
            None => out.push((candidate, rest)),
        }
    }
    out.into_iter().map(|(m, _)| m).collect()
}

/// A count of engine commands a search may still apply.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    left: u32,
}

impl Budget {
    pub(crate) fn new(nodes: u32) -> Budget {
        Budget { left: nodes }
    }

    /// Takes one node; false when none is left.
    pub(crate) fn take(&mut self) -> bool {
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        true
    }

    pub(crate) fn left(&self) -> u32 {
        self.left
    }
}

/// The game after `m`, if it succeeds (one node).
pub(crate) fn after(game: &Game, m: &Move, budget: &mut Budget) -> Option<Game> {
    if !budget.take() {
        return None;
    }
    let mut next = game.clone();
    next.perform(&m.action_id, &m.params).ok()?;
    Some(next)
}

/// Whether it is the action phase of the active player.
pub(crate) fn in_action_phase(game: &Game) -> bool {
    let state = game.state();
    state.conclusion.is_none() && game.content().phases()[state.phase_index].action
}

/// Advances until an action phase or the end of the game (each advance is
/// a node). False when the budget ran out or an advance was refused.
pub(crate) fn advance_to_action(game: &mut Game, budget: &mut Budget) -> bool {
    let mut guard = 0;
    while game.state().conclusion.is_none() && !in_action_phase(game) {
        guard += 1;
        if guard > 256 || !budget.take() || game.advance().is_err() {
            return false;
        }
    }
    true
}

/// Ends the active player's action phase and advances to the next action
/// phase (the opponent's), or to the end of the game.
pub(crate) fn end_turn(game: &mut Game, budget: &mut Budget) -> bool {
    if game.state().conclusion.is_some() {
        return true;
    }
    if !budget.take() || game.advance().is_err() {
        return false;
    }
    advance_to_action(game, budget)
}

/// The move `m` as an [`AiMove`].
pub(crate) fn act(m: Move) -> AiMove {
    AiMove::Act {
        action_id: m.action_id,
        params: m.params,
    }
}

/// Plays `player`'s whole turn with `policy` and returns the commands that
/// replay it: the advances through its non-action steps, each action the
/// policy chose (as `Command::Action` naming the player), and the advance
/// that ends the turn. A move the engine refuses ends the turn, as in
/// [`Game::ai_turn`]. Does nothing when it is not `player`'s turn.
///
/// A session log that records these commands replays the AI's turn without
/// running the AI again.
pub fn play_turn(
    game: &mut Game,
    player: PlayerId,
    policy: &dyn AiPolicy,
) -> Result<Vec<Command>, EngineError> {
    let mut log = Vec::new();
    let limit = 64
        * game
            .content()
            .phases()
            .iter()
            .map(|p| p.steps.len())
            .sum::<usize>()
            .max(1);
    while game.state().conclusion.is_none() && game.state().active == player {
        if log.len() > limit {
            return Err(EngineError::SimulationLimit(limit));
        }
        if in_action_phase(game)
            && let AiMove::Act { action_id, params } = policy.next_move(game, player)
            && game.perform(&action_id, &params).is_ok()
        {
            log.push(Command::Action {
                action_id,
                params,
                player_id: Some(player),
            });
            continue;
        }
        game.advance()?;
        log.push(Command::Advance);
    }
    Ok(log)
}

/// [`play_turn`] as the moves of one `Command::AiMoves`: the entry a
/// session log records for the AI's turn, so that replaying it runs no AI
/// code and the turn is one atomic change.
pub fn turn_moves(
    game: &mut Game,
    player: PlayerId,
    policy: &dyn AiPolicy,
) -> Result<Vec<AiStep>, EngineError> {
    let commands = play_turn(game, player, policy)?;
    Ok(commands
        .into_iter()
        .map(|command| match command {
            Command::Action {
                action_id, params, ..
            } => AiStep::Action { action_id, params },
            _ => AiStep::Advance,
        })
        .collect())
}
