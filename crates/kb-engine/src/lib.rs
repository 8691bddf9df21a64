//! The Kingdom Builder rules engine: pure, deterministic and data-driven.
//!
//! A [`Game`] plays by [`Content`] (actions, buildings, developments,
//! population roles, phases, start configuration and rules, all plain data
//! read from the reference content schema by `kb_protocol::schema`) and
//! changes only through [`Command`]s. The engine does no I/O, reads no
//! clock, uses no randomness and iterates no hash map: the same content and
//! the same commands always give the same state, and a [`GameState`] stores
//! and restores exactly (as `kb_session::stored` writes it).
//!
//! ```
//! use std::sync::Arc;
//! use kb_engine::{Command, Content, ContentDef, Game, GameOptions};
//!
//! # let text = include_str!("../../kb-content/content/default.json");
//! # let def: ContentDef = serde_json::from_str::<kb_protocol::schema::ContentDef>(text).unwrap().into();
//! let content = Arc::new(Content::new(def).expect("valid content"));
//! let mut game = Game::new(content, GameOptions::default()).unwrap();
//! for _ in 0..7 {
//!     game.apply(&Command::Advance).unwrap(); // growth and upkeep steps
//! }
//! let tax = Command::Action { action_id: "tax".into(), params: Default::default(), player_id: None };
//! game.apply(&tax).unwrap();
//! assert_eq!(game.state().players.a.resources.value("gold"), 14.0);
//! ```
//!
//! # Layout
//!
//! * `content`: the content definition as plain data (its JSON form is
//!   `kb_protocol::schema`; `content/json.rs` reads the content found inside
//!   free-form JSON parameters), the table of effect kinds
//!   (`content/kinds.rs`: each kind's parameters, parsing, run, reversal and
//!   references in one entry), effects compiled to typed `Op`s, validation
//!   and per-session overrides.
//! * `state`: the game state; `snapshot` and `result`: what clients see, as
//!   plain data (their JSON shapes are `kb-protocol`'s answers; a
//!   checkpoint's is `kb-session`'s stored state).
//! * `exec`, `triggers`, `attack`, `action`, `handlers`: the rules, in that
//!   order; `advance`, `setup`: steps and the game's start.
//! * `game`: [`Game`], [`Command`] and the queries.
//! * `game/ai`: the built-in AI's policy; `legal`: move enumeration.
//!
//! The modules are layered (base, content, state, logs, snapshot, result,
//! the five rule modules one layer each, flow, game, legal; see
//! `ARCHITECTURE.md`), and `tests/layers.rs` refuses an upward import.
//!
//! The rules are the reference game's with its bugs fixed as decided in
//! `PRODUCT.md` §2 (each fix is marked with its quirk number, `Q1`…`Q22`,
//! where it is implemented).

#![deny(missing_docs)]

mod action;
mod advance;
mod attack;
mod attack_log;
pub mod content;
mod error;
mod exec;
mod game;
mod handlers;
mod legal;
mod map;
mod num;
mod player;
mod result;
mod setup;
mod snapshot;
mod state;
mod triggers;

/// Identifiers and keys: short strings stored inline.
pub type Key = compact_str::CompactString;

pub use content::{Content, ContentDef, ContentError, GameConfig};
pub use error::{CompareDetails, EngineError, RequirementFailure};
pub use exec::MAX_GAME_VALUE;
pub use game::{
    AiMove, AiPolicy, AiStep, Command, Game, GameOptions, MAX_PLAYER_NAME, Outcome,
    SimulateOptions, SimulationDelta, SimulationResult, TaxCollector, validate_player_name,
};
pub use legal::Move;
pub use map::OrderedMap;
pub use num::{Num, Rounding, round_away, round_toward};
pub use player::{ByPlayer, PlayerId};
pub use result::{
    AbsorptionLog, ActionOutcome, ActionTrace, AdvanceResult, AiAction, AiTurnOutcome,
    AttackEvaluation, AttackLog, DiffItem, FortificationLog, LandTrace, OnDamageEntry, PlayerTrace,
    PowerLog, SkipInfo, SkipSource, TargetLog,
};
pub use snapshot::{
    EffectLogs, EngineMetadata, GameSnapshot, LandSnapshot, PassiveRecordView, PassiveSummary,
    PlayerSnapshot, RulesSnapshot, Snapshot,
};
pub use state::{
    AddPctCache, AddPctEntry, Conclusion, CostModifier, EvaluationModifier, Gain, GameState, Land,
    PassiveRecord, PlayerState, ResultModifier, StatSource, StatSourceMeta,
};
