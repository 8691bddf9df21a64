//! What commands return: action traces, attack logs, advance results and AI
//! turn reports, as plain data (their wire shapes are `kb-protocol`'s
//! `answers`).
//!
//! Effect logs (the attack log) travel with the result that produced them;
//! taking a snapshot never consumes anything (PRODUCT.md Q17).

use crate::Key;
use crate::content::{Bag, Effect};
use crate::map::OrderedMap;
use crate::num::Num;
use crate::player::PlayerId;
use crate::snapshot::{PassiveSummary, PlayerSnapshot};

pub use crate::attack_log::{
    AbsorptionLog, AttackEvaluation, AttackLog, DiffItem, FortificationLog, OnDamageEntry,
    PowerLog, TargetLog,
};
use crate::state::GameState;

/// The part of a player captured before and after a nested action.
#[derive(Clone, Debug, PartialEq)]
pub struct PlayerTrace {
    /// Resources.
    pub resources: Bag,
    /// Stats.
    pub stats: Bag,
    /// Buildings.
    pub buildings: Vec<Key>,
    /// Lands.
    pub lands: Vec<LandTrace>,
    /// Passives (summaries).
    pub passives: Vec<PassiveSummary>,
}

impl PlayerTrace {
    /// Captures `player` from `state`.
    pub fn of(state: &GameState, player: PlayerId) -> PlayerTrace {
        let p = state.players.get(player);
        PlayerTrace {
            resources: p.resources.clone(),
            stats: p.stats.clone(),
            buildings: p.buildings.clone(),
            lands: p
                .lands
                .iter()
                .map(|l| LandTrace {
                    id: l.id.clone(),
                    slots_max: l.slots_max,
                    slots_used: l.slots_used,
                    developments: l.developments.clone(),
                })
                .collect(),
            passives: state
                .passives
                .iter()
                .filter(|r| r.owner == player)
                .map(PassiveSummary::of)
                .collect(),
        }
    }
}

/// A land in a trace.
#[derive(Clone, Debug, PartialEq)]
pub struct LandTrace {
    /// Land id.
    pub id: Key,
    /// Capacity.
    pub slots_max: u32,
    /// Used slots.
    pub slots_used: u32,
    /// Developments.
    pub developments: Vec<Key>,
}

/// One nested action performed during an action (`Royal Decree` traces
/// `expand`, `till`, `develop`).
#[derive(Clone, Debug, PartialEq)]
pub struct ActionTrace {
    /// The nested action id.
    pub id: Key,
    /// The actor before it.
    pub before: PlayerTrace,
    /// The actor after it.
    pub after: PlayerTrace,
}

/// What a successful action did.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionOutcome {
    /// The action performed.
    pub action_id: Key,
    /// What it cost.
    pub costs: Bag,
    /// Nested actions, in order.
    pub traces: Vec<ActionTrace>,
    /// Attack logs produced, in order.
    pub attack_logs: Vec<AttackLog>,
}

/// What one `advance` did.
#[derive(Clone, Debug, PartialEq)]
pub struct AdvanceResult {
    /// The phase the step belonged to.
    pub phase: Key,
    /// The step executed (or skipped).
    pub step: Key,
    /// Every effect run, in order, after substitution.
    pub effects: Vec<Effect>,
    /// The acting player after the step.
    pub player: Box<PlayerSnapshot>,
    /// Present when the step or its phase was skipped.
    pub skipped: Option<SkipInfo>,
}

/// Why a step was skipped.
#[derive(Clone, Debug, PartialEq)]
pub struct SkipInfo {
    /// `phase` or `step`.
    pub kind: Key,
    /// The phase.
    pub phase_id: Key,
    /// The step (step skips only).
    pub step_id: Option<Key>,
    /// The passives causing it.
    pub sources: Vec<SkipSource>,
}

/// A passive causing a skip.
#[derive(Clone, Debug, PartialEq)]
pub struct SkipSource {
    /// Passive id.
    pub id: Key,
    /// Its detail.
    pub detail: Option<String>,
    /// Its metadata.
    pub meta: Option<std::sync::Arc<serde_json::Value>>,
}

/// One action the AI performed.
#[derive(Clone, Debug, PartialEq)]
pub struct AiAction {
    /// The action.
    pub action_id: Key,
    /// What it cost.
    pub costs: Bag,
    /// Its traces.
    pub traces: Vec<ActionTrace>,
    /// Attack logs.
    pub attack_logs: Vec<AttackLog>,
}

/// What an AI turn did.
#[derive(Clone, Debug, PartialEq)]
pub struct AiTurnOutcome {
    /// The seat played.
    pub player_id: PlayerId,
    /// False when it was not that seat's turn (nothing happened).
    pub ran_turn: bool,
    /// Actions performed, in order.
    pub actions: Vec<AiAction>,
    /// Steps advanced, in order.
    pub advances: Vec<AdvanceResult>,
    /// Whether the AI finished its turn (the turn passed on or the game
    /// ended).
    pub phase_complete: bool,
}

/// The values of one player that differ between two captures.
pub(crate) fn diff(before: &PlayerTrace, after: &PlayerTrace) -> Vec<DiffItem> {
    let mut out = Vec::new();
    for (kind, b, a) in [
        ("resource", &before.resources, &after.resources),
        ("stat", &before.stats, &after.stats),
    ] {
        let keys: Vec<&Key> = {
            let mut keys: Vec<&Key> = b.keys().collect();
            keys.extend(a.keys().filter(|k| !b.contains_key(k)));
            keys
        };
        for key in keys {
            let (x, y) = (b.value(key), a.value(key));
            if x != y {
                out.push(DiffItem {
                    kind: kind.into(),
                    key: key.clone(),
                    before: Num(x),
                    after: Num(y),
                });
            }
        }
    }
    out
}

/// `delta` maps of a simulation: non-zero differences only.
pub(crate) fn delta_bag(before: &Bag, after: &Bag) -> Bag {
    let mut out = OrderedMap::new();
    for (key, value) in after.iter() {
        let d = value.0 - before.value(key);
        if d != 0.0 {
            out.insert(key.clone(), Num(d));
        }
    }
    for (key, value) in before.iter() {
        if !after.contains_key(key) && value.0 != 0.0 {
            out.insert(key.clone(), Num(-value.0));
        }
    }
    out
}
