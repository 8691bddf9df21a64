//! The built-in AI, at three levels, for either seat.
//!
//! * `easy`: the reference's tax collector ([`kb_engine::TaxCollector`],
//!   unchanged): it taxes while it has action points, then ends its turn.
//! * `normal` ([`Normal`]): one move of lookahead. Every decision tries
//!   each candidate move on a copy of the game and keeps the one whose
//!   position evaluates best, ending the turn when nothing beats the
//!   position as it stands. The evaluation (module `eval`) counts gold,
//!   income and action points over a horizon, spare land and housing,
//!   happiness and its tier, the castle, army and defences, and a
//!   projection of the war: both armies growing as the Raise Strength step
//!   grows them and attacking as often as they can, the opponent first.
//!   It also knows two sure things the rules imply: a kingdom that cannot
//!   pay its next upkeep is bankrupt, and one whose happiness skips its
//!   growth phase never gains action points again.
//! * `hard` ([`Hard`]): a search over the engine. Each decision scores
//!   every move one deep, keeps the best few, and plays each of those on
//!   through the rest of its turn, the opponent's best replies (the worst
//!   for it counts), and its own next turn; the line that ends best is
//!   played. It plans expansion, housing and hiring, defence (walls,
//!   watchtowers, fortifiers) and attack, and wins by destroying the
//!   castle or bankrupting the opponent, whichever comes first.
//!
//! Every level is a [`kb_engine::AiPolicy`]: it gives one move at a time,
//! [`AiPolicy::next_move`], so a server can run one action per request (the
//! reference protocol) or a whole turn ([`play_turn`]) and both play the
//! same game.
//!
//! ```
//! use std::sync::Arc;
//! use kb_ai::{Level, play_turn, policy};
//! use kb_engine::{Content, ContentDef, Game, GameOptions, PlayerId};
//!
//! # let text = include_str!("../../kb-content/content/default.json");
//! # let def: ContentDef = serde_json::from_str::<kb_protocol::schema::ContentDef>(text).unwrap().into();
//! let content = Arc::new(Content::new(def).unwrap());
//! let level: Level = "hard".parse().unwrap();
//! let ai = policy(level, kb_ai::session_seed("a-session-id"));
//! let mut game = Game::new(content, GameOptions::default()).unwrap();
//! let commands = play_turn(&mut game, PlayerId::A, &ai).unwrap();
//! assert_eq!(game.state().active, PlayerId::B);
//! assert!(!commands.is_empty());
//! assert!("expert".parse::<Level>().unwrap_err().to_string().contains("easy, normal, hard"));
//! ```
//!
//! # Determinism and durability
//!
//! The AI is pure like the engine: no I/O, no clock, no threads, no hash
//! map iteration. Its only randomness is a [`SplitMix64`] seeded by the
//! caller's seed mixed with a [`fingerprint`] of the state it decides on.
//! The seed gives a game its variety (a style: the evaluation's weights
//! scaled by up to ±15 %, and a tie-break among near-equal moves). So the
//! same game and seed always give the same move, whatever was asked
//! before, in whichever process: a restarted server asking again, or a
//! second server in shared mode, gets the same answer. Searches are
//! bounded by counts of engine commands, never by time.
//!
//! A session log records the *moves the AI chose*, as the commands
//! [`play_turn`] returns (`Command::Advance` and `Command::Action` naming
//! the seat), not a request to run the AI. Replaying the log therefore
//! never runs a search, and stays identical even after the AI's code or
//! tuning changes; `tests/ai.rs` replays AI games from their logs to
//! byte-identical states. The seed comes from the session: use
//! [`session_seed`] of the session id (the state fingerprint already varies
//! with every decision, so the version adds nothing). `easy` needs no
//! record of its moves: the engine's `Command::AiTurn` runs the same tax
//! collector on replay, as the reference's sessions always have.
//!
//! `Game::apply` refuses a `Command::Action` for a seat flagged as AI (so
//! clients cannot play the AI's seat); a server records the AI's turn as
//! one `Command::AiMoves` entry holding the moves ([`turn_moves`]), which
//! the engine applies all or nothing.
//!
//! # Cost
//!
//! `easy` and `normal` cost microseconds to about a millisecond per turn.
//! `hard` spends at most [`HARD_TURN_NODES`] engine commands on a turn
//! (split over the moves the turn will hold), and fewer once the state is
//! large, since every engine command copies it; `kingdom bench ai`
//! measures the time per turn and the strength of every level.

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

pub use hard::{HARD_TURN_NODES, Hard};

pub use moves::{play_turn, turn_moves};
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

/// A seed for a session's AI: FNV-1a of the session id. Stable across
/// processes, machines and versions of this crate.
pub fn session_seed(session_id: &str) -> u64 {
    session_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
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

/// The AI of `level`, seeded with `seed` (`easy` ignores it). Policies are
/// plain data (`Send + Sync`, cheap to build), so a server may build one
/// per request.
pub fn policy(level: Level, seed: u64) -> Policy {
    match level {
        Level::Easy => Policy::Easy(TaxCollector),
        Level::Normal => Policy::Normal(Normal::new(seed)),
        Level::Hard => Policy::Hard(Hard::new(seed)),
    }
}

impl Policy {
    /// The level.
    pub fn level(&self) -> Level {
        match self {
            Policy::Easy(_) => Level::Easy,
            Policy::Normal(_) => Level::Normal,
            Policy::Hard(_) => Level::Hard,
        }
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
