//! `hard`: a search over the engine, two turns deep, bounded by a count of
//! engine commands.
//!
//! A decision scores every candidate move (and ending the turn) by the
//! evaluation of the position it leads to, keeps the most promising few,
//! and looks at each of those further by playing the game on:
//!
//! 1. the rest of my turn, move by move as `normal` would play it;
//! 2. the opponent's turn: its best few first moves by its own evaluation,
//!    each continued the same way, through to my next action phase; the
//!    reply that is worst for me is the one that counts (a minimum over
//!    replies, so a threat only one reply carries out is seen);
//! 3. my next turn, played on the same way, and evaluated at its end.
//!
//! The move whose line ends best is played. Every engine command a
//! decision applies (an action tried, an advance) counts against a fixed
//! budget; when it runs out, lines not yet looked at keep their one-move
//! score. Nothing depends on time, so the same game and seed always give
//! the same move.

use kb_engine::{AiMove, AiPolicy, Game, GameState, Move, PlayerId};

use crate::eval::{Weights, evaluate};
use crate::model::Model;
use crate::moves::{Budget, act, after, candidates, end_turn, in_action_phase};
use crate::normal::{NOISE, STYLE, greedy_step, noise};

/// Engine commands a `hard` turn applies at most (about; a decision always
/// gets enough to look at each of its moves once).
pub const HARD_TURN_NODES: u32 = 3000;

/// Search bounds of the `hard` level.
#[derive(Clone, Debug)]
pub(crate) struct Bounds {
    /// Engine commands one decision may apply, at most.
    pub nodes: u32,
    /// Engine commands a whole turn should apply: a decision gets this
    /// divided by the moves the turn is likely to hold (the AP left, or
    /// the AP a turn brings, whichever is more), within `nodes`.
    pub turn_nodes: u32,
    /// The state size (see [`state_size`]) up to which the budget holds;
    /// beyond it, the budget shrinks in proportion, since every engine
    /// command copies the state.
    pub size: u32,
    /// Engine commands a decision may always apply.
    pub min_nodes: u32,
    /// Moves (besides ending the turn) looked at beyond one move.
    pub keep: usize,
    /// Opponent replies considered per line.
    pub replies: usize,
    /// Moves per turn a greedy continuation may make.
    pub turn_moves: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            nodes: 1500,
            turn_nodes: HARD_TURN_NODES,
            size: 35,
            min_nodes: 30,
            keep: 4,
            replies: 2,
            turn_moves: 12,
        }
    }
}

/// The `hard` level.
#[derive(Clone, Debug)]
pub struct Hard {
    seed: u64,
    weights: Weights,
    bounds: Bounds,
}

impl Hard {
    /// A `hard` AI seeded with `seed`.
    pub fn new(seed: u64) -> Hard {
        Hard {
            seed,
            weights: Weights::styled(seed, STYLE),
            bounds: Bounds::default(),
        }
    }
}

/// A count that grows with what copying the state costs: passives (the
/// bulk of a state, with their effect lists) count twice, stat sources and
/// lands once, plus a base.
pub(crate) fn state_size(state: &GameState) -> u32 {
    let mut size = 10 + 2 * state.passives.len();
    for id in PlayerId::ALL {
        let player = state.players.get(id);
        size += player.lands.len();
        size += player.stat_sources.values().map(|m| m.len()).sum::<usize>();
    }
    u32::try_from(size).unwrap_or(u32::MAX)
}

struct Search<'a> {
    model: Model,
    weights: &'a Weights,
    bounds: &'a Bounds,
    seed: u64,
    budget: Budget,
}

impl Search<'_> {
    /// Plays `player`'s turn on greedily from `game` (in its action phase)
    /// and ends it; returns the game at the next action phase.
    fn finish_turn(&mut self, mut game: Game, player: PlayerId) -> Option<Game> {
        for _ in 0..self.bounds.turn_moves {
            match greedy_step(
                &self.model,
                self.weights,
                &game,
                player,
                self.seed,
                &mut self.budget,
            ) {
                Some((_, next)) => game = next,
                None => break,
            }
            if game.state().conclusion.is_some() {
                return Some(game);
            }
        }
        if self.budget.left() == 0 {
            return None;
        }
        end_turn(&mut game, &mut self.budget).then_some(game)
    }

    /// The value for `me` of a line from `game`, the position after my
    /// move (still in my action phase, or already past it).
    fn line(&mut self, game: Game, me: PlayerId) -> Option<f64> {
        let game = if in_action_phase(&game) && game.state().active == me {
            self.finish_turn(game, me)?
        } else {
            game
        };
        if game.state().conclusion.is_some() {
            return Some(evaluate(&self.model, self.weights, game.state(), me));
        }
        let them = me.other();
        // The opponent's best first moves by its own evaluation.
        let mut replies: Vec<(f64, Option<Game>)> = vec![(
            evaluate(&self.model, self.weights, game.state(), them)
                + noise(self.seed, &game, NOISE),
            None,
        )];
        for m in candidates(&game) {
            let Some(next) = after(&game, &m, &mut self.budget) else {
                if self.budget.left() == 0 {
                    return None;
                }
                continue;
            };
            let value = evaluate(&self.model, self.weights, next.state(), them)
                + noise(self.seed, &next, NOISE);
            replies.push((value, Some(next)));
        }
        replies.sort_by(|a, b| b.0.total_cmp(&a.0));
        replies.truncate(self.bounds.replies);
        let mut worst: Option<f64> = None;
        for (_, reply) in replies {
            let after_reply = match reply {
                Some(next) => self.finish_turn(next, them)?,
                None => {
                    let mut ended = game.clone();
                    end_turn(&mut ended, &mut self.budget).then_some(ended)?
                }
            };
            let end = if after_reply.state().conclusion.is_none() {
                self.finish_turn(after_reply, me)?
            } else {
                after_reply
            };
            // `end` is at the opponent's action phase again: evaluate it
            // from my side as the position my turn left.
            let value = evaluate(&self.model, self.weights, end.state(), me);
            worst = Some(worst.map_or(value, |w: f64| w.min(value)));
        }
        worst
    }
}

impl AiPolicy for Hard {
    fn next_move(&self, game: &Game, player: PlayerId) -> AiMove {
        if !in_action_phase(game) || game.state().active != player {
            return AiMove::EndTurn;
        }
        let mut search = Search {
            model: Model::new(game.content()),
            weights: &self.weights,
            bounds: &self.bounds,
            seed: self.seed,
            budget: Budget::new(0),
        };
        let me = crate::eval::Side::read(&search.model, game.state(), player);
        let moves_left = me.ap.max(me.ap_per_turn).max(1.0);
        let shrink = (f64::from(self.bounds.size) / f64::from(state_size(game.state()))).min(1.0);
        let nodes = (f64::from(self.bounds.turn_nodes) * shrink / moves_left) as u32;
        search.budget = Budget::new(nodes.clamp(self.bounds.min_nodes, self.bounds.nodes));
        // One move deep: every candidate, and ending the turn (`None`).
        let mut scored: Vec<(f64, Option<Move>, Game)> = vec![(
            evaluate(&search.model, search.weights, game.state(), player)
                + noise(self.seed, game, NOISE),
            None,
            game.clone(),
        )];
        for m in candidates(game) {
            if let Some(next) = after(game, &m, &mut search.budget) {
                let value = evaluate(&search.model, search.weights, next.state(), player)
                    + noise(self.seed, &next, NOISE);
                scored.push((value, Some(m), next));
            }
        }
        if scored.len() == 1 {
            // Nothing else is possible.
            return AiMove::EndTurn;
        }
        let (end_turn_line, mut moves) = {
            let first = scored.remove(0);
            (first, scored)
        };
        moves.sort_by(|a, b| b.0.total_cmp(&a.0));
        moves.truncate(self.bounds.keep);
        // Deeper: ending the turn first, then the kept moves in order.
        let mut best: (f64, Option<Move>) = (f64::NEG_INFINITY, None);
        let mut lines = vec![end_turn_line];
        lines.extend(moves);
        let mut shallow = Vec::new();
        for (score, m, next) in lines {
            let jitter = noise(self.seed, &next, NOISE);
            let deep = if next.state().conclusion.is_some() {
                Some(score)
            } else if m.is_none() {
                let mut ended = next.clone();
                let ok = end_turn(&mut ended, &mut search.budget);
                if ok { search.line(ended, player) } else { None }
            } else {
                search.line(next, player)
            };
            match deep {
                Some(value) => {
                    let value = value + jitter;
                    if value > best.0 {
                        best = (value, m);
                    }
                }
                None => shallow.push((score, m)),
            }
        }
        if best.0 == f64::NEG_INFINITY {
            // The budget did not reach one deep line: fall back to one move.
            if let Some((_, m)) = shallow.into_iter().max_by(|a, b| a.0.total_cmp(&b.0)) {
                best.1 = m;
            }
        }
        match best.1 {
            Some(m) => act(m),
            None => AiMove::EndTurn,
        }
    }
}
