//! A player that makes uniformly random legal moves: the floor every level
//! is measured against.

use kb_engine::{AiMove, AiPolicy, Game, PlayerId};

use crate::moves::{act, in_action_phase};
use crate::rng::{SplitMix64, fingerprint};

/// Picks uniformly among the legal moves and ending the turn. The draw is
/// seeded by `seed` and the state, so the same game gives the same move.
#[derive(Clone, Copy, Debug)]
pub struct RandomMover {
    seed: u64,
}

impl RandomMover {
    /// A random mover seeded with `seed`.
    pub fn new(seed: u64) -> RandomMover {
        RandomMover { seed }
    }
}

impl AiPolicy for RandomMover {
    fn next_move(&self, game: &Game, player: PlayerId) -> AiMove {
        if !in_action_phase(game) || game.state().active != player {
            return AiMove::EndTurn;
        }
        let mut moves = game.legal_moves();
        let mut rng = SplitMix64::new(self.seed ^ fingerprint(game.state()));
        let pick = rng.below(moves.len() + 1);
        if pick == moves.len() {
            AiMove::EndTurn
        } else {
            act(moves.swap_remove(pick))
        }
    }
}
