//! The built-in AI's levels (draft doc, completed below).

#![deny(missing_docs)]

mod eval;
mod hard;
mod model;
mod moves;
mod normal;
mod random;
mod rng;

use std::fmt;
use std::str::FromStr;

use kb_engine::{AiMove, AiPolicy, Game, PlayerId, TaxCollector};

pub use hard::Hard;

/// Turns printing of evaluations to stderr on or off (development aid).
#[doc(hidden)]
pub fn debug_evaluations(on: bool) {
    eval::DEBUG.with(|d| d.set(on));
}
pub use moves::play_turn;
pub use normal::Normal;
pub use random::RandomMover;
pub use rng::{SplitMix64, fingerprint};

/// A level of the built-in AI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Level {
    /// The reference's tax collector.
    #[default]
    Easy,
    /// One move of lookahead with an evaluation of the position.
    Normal,
    /// A search two turns deep over the engine.
    Hard,
}

impl Level {
    /// Every level, weakest first.
    pub const ALL: [Level; 3] = [Level::Easy, Level::Normal, Level::Hard];

    /// The level's name: `easy`, `normal` or `hard`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Easy => "easy",
            Level::Normal => "normal",
            Level::Hard => "hard",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownLevel(pub String);

impl fmt::Display for UnknownLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown AI level {:?}: the levels are easy, normal, hard",
            self.0
        )
    }
}

impl std::error::Error for UnknownLevel {}

impl FromStr for Level {
    type Err = UnknownLevel;

    fn from_str(text: &str) -> Result<Level, UnknownLevel> {
        Level::ALL
            .into_iter()
            .find(|level| level.as_str() == text)
            .ok_or_else(|| UnknownLevel(text.to_owned()))
    }
}

/// The AI of one level, seeded.
#[derive(Clone, Debug)]
pub enum Policy {
    /// `easy`.
    Easy(TaxCollector),
    /// `normal`.
    Normal(Normal),
    /// `hard`.
    Hard(Hard),
}

/// The AI of `level`, seeded with `seed` (`easy` ignores it).
pub fn policy(level: Level, seed: u64) -> Policy {
    match level {
        Level::Easy => Policy::Easy(TaxCollector),
        Level::Normal => Policy::Normal(Normal::new(seed)),
        Level::Hard => Policy::Hard(Hard::new(seed)),
    }
}

impl AiPolicy for Policy {
    fn next_move(&self, game: &Game, player: PlayerId) -> AiMove {
        match self {
            Policy::Easy(p) => p.next_move(game, player),
            Policy::Normal(p) => p.next_move(game, player),
            Policy::Hard(p) => p.next_move(game, player),
        }
    }
}

#[doc(hidden)]
pub fn bench_model(game: &Game) -> usize {
    model::Model::new(game.content()).roles.len()
}

#[doc(hidden)]
pub fn bench_eval(game: &Game) -> f64 {
    let m = model::Model::new(game.content());
    let w = eval::Weights::default();
    let mut v = 0.0;
    for _ in 0..100 {
        v += eval::evaluate(&m, &w, game.state(), game.state().active);
    }
    v
}
