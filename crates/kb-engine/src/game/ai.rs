//! The built-in AI, part of `game` (a policy decides on a [`Game`], and
//! `Game` plays the default policy's turn for [`super::Command::AiTurn`]). [`AiPolicy`] decides, one move at a time, what a seat
//! does in its action phase; [`TaxCollector`] is the reference's policy
//! (tax while AP lasts, then end the turn). The engine drives a whole turn:
//! it advances through the seat's non-action steps, asks the policy for
//! moves in the action phase, and ends the turn.

use super::Game;
use crate::Key;
use crate::content::Params;
use crate::player::PlayerId;

/// A move the AI makes in its action phase.
#[derive(Clone, Debug, PartialEq)]
pub enum AiMove {
    /// Perform an action.
    Act {
        /// The action.
        action_id: Key,
        /// Its parameters.
        params: Params,
    },
    /// End the turn.
    EndTurn,
}

/// Decides the AI's moves. Policies must be deterministic (the same game
/// gives the same move) so that AI turns replay exactly.
pub trait AiPolicy {
    /// The next move for `player`, whose action phase it is.
    fn next_move(&self, game: &Game, player: PlayerId) -> AiMove;
}

/// The reference AI: perform `tax` while the seat has action points.
#[derive(Clone, Copy, Debug, Default)]
pub struct TaxCollector;

impl AiPolicy for TaxCollector {
    fn next_move(&self, game: &Game, player: PlayerId) -> AiMove {
        let content = game.content();
        let ap = content.action_cost_resource();
        let state = game.state().players.get(player);
        let has_tax = content
            .actions()
            .get("tax")
            .is_some_and(|tax| !tax.system || state.actions.iter().any(|a| a == "tax"));
        if ap.is_empty() || !has_tax || state.resources.value(ap) <= 0.0 {
            return AiMove::EndTurn;
        }
        AiMove::Act {
            action_id: "tax".into(),
            params: Params::new(),
        }
    }
}
