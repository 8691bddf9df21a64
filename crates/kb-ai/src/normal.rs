//! `normal`: one move of lookahead with an evaluation of the position.
//!
//! Each decision tries every candidate move on a copy of the game and
//! evaluates the result (module `eval`); ending the turn is valued as the
//! position as it stands. The best wins. The seed gives the AI a style
//! (the evaluation's weights, each scaled by up to ±15 %) and adds a small
//! fixed perturbation per resulting position, so that different seeds play
//! different, equally reasonable games. A turn is a chain of such
//! decisions: the AI looks one move ahead, with an evaluation that already
//! counts what either army can do in the turns to come.

use kb_engine::{AiMove, AiPolicy, Game, Move, PlayerId};

use crate::eval::{Weights, evaluate};
use crate::model::Model;
use crate::moves::{Budget, act, after, candidates, in_action_phase};
use crate::rng::{SplitMix64, fingerprint};

/// The `normal` level.
#[derive(Clone, Debug)]
pub struct Normal {
    seed: u64,
    weights: Weights,
}

impl Normal {
    /// A `normal` AI seeded with `seed`.
    pub fn new(seed: u64) -> Normal {
        Normal {
            seed,
            weights: Weights::styled(seed, STYLE),
        }
    }
}

/// The noise `seed` adds to the value of a position (in `[0, scale)`).
pub(crate) fn noise(seed: u64, game: &Game, scale: f64) -> f64 {
    if scale == 0.0 {
        return 0.0;
    }
    SplitMix64::new(seed ^ fingerprint(game.state())).unit() * scale
}

/// How far a seed's style strays from the tuned weights (see
/// [`Weights::styled`]).
pub(crate) const STYLE: f64 = 0.15;

/// Noise added to every evaluated position, in gold-equivalents: enough to
/// choose between near-equal moves, far too little to prefer a worse one.
pub(crate) const NOISE: f64 = 1.0;

/// One greedy decision: the best move for `player` and the game after it,
/// or `None` when ending the turn is best (or the budget ran out).
pub(crate) fn greedy_step(
    model: &Model,
    weights: &Weights,
    game: &Game,
    player: PlayerId,
    seed: u64,
    budget: &mut Budget,
) -> Option<(Move, Game)> {
    let state = game.state();
    if !in_action_phase(game) || state.active != player {
        return None;
    }
    let mut best_value = evaluate(model, weights, state, player) + noise(seed, game, NOISE);
    let mut best = None;
    for m in candidates(game) {
        let Some(next) = after(game, &m, budget) else {
            if budget.left() == 0 {
                break;
            }
            continue;
        };
        let value = evaluate(model, weights, next.state(), player) + noise(seed, &next, NOISE);
        if value > best_value {
            best_value = value;
            best = Some((m, next));
        }
    }
    best
}

/// Nodes one `normal` decision may use.
const NODES: u32 = 400;

impl AiPolicy for Normal {
    fn next_move(&self, game: &Game, player: PlayerId) -> AiMove {
        let model = Model::new(game.content());
        let mut budget = Budget::new(NODES);
        match greedy_step(&model, &self.weights, game, player, self.seed, &mut budget) {
            Some((m, _)) => act(m),
            None => AiMove::EndTurn,
        }
    }
}
