//! The complete state of one game: [`GameState`] and its parts.
//!
//! Everything that influences the future of a game lives here and nowhere
//! else (no caches outside, no globals), so storing a `GameState` and
//! restoring it gives a game with an identical future. The types are plain
//! data with no JSON form of their own. Snapshots (what clients see) are built in `snapshot.rs`
//! and shaped for the wire by `kb-protocol`; checkpoints are written in
//! `kb-session`'s stored form of the state, whose field names stay fixed.

use serde_json::Value;

use crate::Key;
pub use crate::content::{Percent, SkipConfig};

use crate::content::{Bag, Effects, Triggers};
use crate::map::OrderedMap;
use crate::num::{Num, Rounding};
use crate::player::{ByPlayer, PlayerId};

/// The state of a game.
#[derive(Clone, Debug, PartialEq)]
pub struct GameState {
    /// Turn number, from 1; a turn is A's turn followed by B's.
    pub turn: u32,
    /// The player whose turn it is.
    pub active: PlayerId,
    /// Index of the current phase.
    pub phase_index: usize,
    /// Index of the current step within the phase.
    pub step_index: usize,
    /// Dev-mode flag (reported; toggling it later changes nothing else).
    pub dev_mode: bool,
    /// Whether the game was set up in dev mode, which decides the
    /// compensations snapshots report (`dev_mode` may be flipped later).
    pub started_in_dev_mode: bool,
    /// How the game ended, once it has.
    pub conclusion: Option<Conclusion>,
    /// The players.
    pub players: ByPlayer<PlayerState>,
    /// Every passive of both players, in insertion order. Several
    /// instances may share an id (one per Legion, per House...).
    pub passives: Vec<PassiveRecord>,
    /// Cost modifiers, in registration order.
    pub cost_modifiers: Vec<CostModifier>,
    /// Result modifiers (run after an action or step), in registration order.
    pub result_modifiers: Vec<ResultModifier>,
    /// Evaluation modifiers, in registration order.
    pub evaluation_modifiers: Vec<EvaluationModifier>,
    /// Each player's current tier id (of the tiered resource).
    pub tiers: ByPlayer<Option<Key>>,
    /// Which seats the built-in AI plays.
    pub ai: ByPlayer<bool>,
    /// Gains recorded since the last evaluator group, the last step or the
    /// last action, whichever came last (reported in snapshots as
    /// `recentResourceGains`). Emptied when a step or an action starts, so
    /// its length is bounded by one command's work (the reference emptied it
    /// at evaluator groups only, and a game without one grew it forever).
    pub recent_resource_gains: Vec<Gain>,
    /// `stat:add_pct` bases and accumulators of the current step.
    pub add_pct: AddPctCache,
}

/// How a game ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conclusion {
    /// The win condition that fired (`castle-destroyed`, `bankruptcy`).
    pub condition_id: Key,
    /// The winner.
    pub winner_id: PlayerId,
    /// The loser.
    pub loser_id: PlayerId,
    /// The player whose change fired the condition.
    pub triggered_by: PlayerId,
}

/// One player.
#[derive(Clone, Debug, PartialEq)]
pub struct PlayerState {
    /// Seat.
    pub id: PlayerId,
    /// Display name.
    pub name: String,
    /// Resources (gold, ap, happiness, castleHP...).
    pub resources: Bag,
    /// Stats (maxPopulation, armyStrength...).
    pub stats: Bag,
    /// Stats that have ever been non-zero.
    pub stats_history: Vec<Key>,
    /// Members per population role.
    pub population: OrderedMap<u32>,
    /// Lands, in creation order.
    pub lands: Vec<Land>,
    /// Owned buildings, in build order.
    pub buildings: Vec<Key>,
    /// Unlocked actions, in unlock order.
    pub actions: Vec<Key>,
    /// Where each stat's value came from (presentation only).
    pub stat_sources: OrderedMap<OrderedMap<StatSource>>,
    /// Phases skipped, with the passive ids causing it.
    pub skip_phases: OrderedMap<Vec<Key>>,
    /// Steps skipped per phase, with the passive ids causing it.
    pub skip_steps: OrderedMap<OrderedMap<Vec<Key>>>,
}

impl PlayerState {
    /// Total population across roles.
    pub fn total_population(&self) -> u32 {
        self.population
            .values()
            .fold(0u32, |total, &count| total.saturating_add(count))
    }

    /// The land with `id`.
    pub fn land(&self, id: &str) -> Option<&Land> {
        self.lands.iter().find(|l| l.id == id)
    }
}

/// A land and its developments.
#[derive(Clone, Debug, PartialEq)]
pub struct Land {
    /// `<player>-L<n>`.
    pub id: Key,
    /// Capacity.
    pub slots_max: u32,
    /// Occupied slots.
    pub slots_used: u32,
    /// Whether the land was tilled (once per land).
    pub tilled: bool,
    /// Developments, in placement order (duplicates allowed).
    pub developments: Vec<Key>,
    /// Upkeep of the land itself (start config only).
    pub upkeep: Option<Bag>,
    /// Triggers of the land itself (start config only).
    pub triggers: Triggers,
}

impl Land {
    /// Whether a development fits.
    pub fn has_free_slot(&self) -> bool {
        self.slots_used < self.slots_max
    }
}

/// A passive: setup effects that last until it is removed (and are then
/// reversed), trigger lists, and skip flags.
#[derive(Clone, Debug, PartialEq)]
pub struct PassiveRecord {
    /// Passive id.
    pub id: Key,
    /// Owner.
    pub owner: PlayerId,
    /// Display name.
    pub name: Option<String>,
    /// Icon.
    pub icon: Option<String>,
    /// Detail text or token.
    pub detail: Option<String>,
    /// Source and removal metadata (shared: copying a state copies the
    /// pointer, not the JSON tree).
    pub meta: Option<std::sync::Arc<Value>>,
    /// Setup effects (run on add, reversed on removal).
    pub effects: Effects,
    /// Trigger lists (every trigger given is kept: PRODUCT.md Q16).
    pub triggers: Triggers,
    /// Phases and steps the owner skips while the passive exists.
    pub skip: Option<SkipConfig>,
}

/// Changes the costs of the owner's actions.
#[derive(Clone, Debug, PartialEq)]
pub struct CostModifier {
    /// Registered id (`<content id>_<owner>`).
    pub id: Key,
    /// Owner; the modifier only applies to the owner's actions.
    pub owner: PlayerId,
    /// Only this action, or every action when absent.
    pub action_id: Option<Key>,
    /// The cost key changed.
    pub key: Key,
    /// Flat change.
    pub amount: Option<f64>,
    /// Percent change (fraction).
    pub percent: Option<f64>,
    /// Rounding of the percent change.
    pub round: Option<Rounding>,
    /// How many live registrations hold it (one per passive instance).
    pub count: u32,
}

/// Runs effects after an action or a step with a given id.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultModifier {
    /// Registered id.
    pub id: Key,
    /// Owner; it only fires on the owner's actions.
    pub owner: PlayerId,
    /// The action or step id it follows.
    pub action_id: Key,
    /// Effects run after it.
    pub effects: Effects,
    /// Live registrations.
    pub count: u32,
}

/// Adjusts the gains of an evaluation target (an evaluator group, a step,
/// the plunder percent, attack power).
#[derive(Clone, Debug, PartialEq)]
pub struct EvaluationModifier {
    /// Registered id.
    pub id: Key,
    /// Owner.
    pub owner: PlayerId,
    /// `<type>:<id>`, or `<type>` to match every id of that type.
    pub target: Key,
    /// For each positive gain, add this much of the gained resource.
    pub amount: Option<f64>,
    /// Add this to every gain entry.
    pub adjust: Option<f64>,
    /// Change every gain entry by this fraction.
    pub percent: Option<Percent>,
    /// Rounding of the percent change.
    pub round: Option<Rounding>,
    /// Effects run whenever it fires.
    pub effects: Option<Effects>,
    /// Live registrations.
    pub count: u32,
}

impl EvaluationModifier {
    /// Whether it applies to `target`.
    pub fn matches(&self, target: &str) -> bool {
        self.target == target
            || (!self.target.contains(':')
                && target
                    .strip_prefix(self.target.as_str())
                    .is_some_and(|rest| rest.starts_with(':')))
    }
}

/// A recorded gain.
#[derive(Clone, Debug, PartialEq)]
pub struct Gain {
    /// Resource key.
    pub key: Key,
    /// Amount.
    pub amount: Num,
}

/// One stat source entry (attribution shown by clients).
#[derive(Clone, Debug, PartialEq)]
pub struct StatSource {
    /// Net amount from this source.
    pub amount: Num,
    /// Where it comes from (shared between copies of the state).
    pub meta: std::sync::Arc<StatSourceMeta>,
}

/// Attribution metadata of a [`StatSource`].
#[derive(Clone, Debug, PartialEq)]
pub struct StatSourceMeta {
    /// Source key.
    pub key: Key,
    /// `permanent` or `ongoing`.
    pub longevity: Key,
    /// `start`, `action`, `phase` or `passive`.
    pub kind: Key,
    /// Id of the action, step or passive.
    pub id: Option<Key>,
    /// Human-readable detail.
    pub detail: Option<String>,
}

/// Bases and accumulators of `stat:add_pct` within one step: several
/// percentage effects on one stat in one step add up from the same base.
/// Keyed per player (PRODUCT.md Q4; the reference shared one base between
/// both players). Cleared whenever the step changes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AddPctCache {
    /// Entries of the current step.
    pub entries: Vec<AddPctEntry>,
}

impl AddPctCache {
    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// One `stat:add_pct` accumulator.
#[derive(Clone, Debug, PartialEq)]
pub struct AddPctEntry {
    /// Player.
    pub player: PlayerId,
    /// Stat.
    pub key: Key,
    /// The stat value at the first add_pct of the step.
    pub base: f64,
    /// Sum of the percentages applied so far.
    pub accumulated: f64,
}

impl GameState {
    /// Makes this state equal to `source`, reusing this state's storage: a
    /// field-by-field `clone_from` where a clone would allocate every
    /// vector and map again. Every field is named, so a new field does not
    /// compile until it is copied here.
    pub fn copy_from(&mut self, source: &GameState) {
        let GameState {
            turn,
            active,
            phase_index,
            step_index,
            dev_mode,
            started_in_dev_mode,
            conclusion,
            players,
            passives,
            cost_modifiers,
            result_modifiers,
            evaluation_modifiers,
            tiers,
            ai,
            recent_resource_gains,
            add_pct,
        } = source;
        self.turn = *turn;
        self.active = *active;
        self.phase_index = *phase_index;
        self.step_index = *step_index;
        self.dev_mode = *dev_mode;
        self.started_in_dev_mode = *started_in_dev_mode;
        self.conclusion.clone_from(conclusion);
        self.players.a.copy_from(&players.a);
        self.players.b.copy_from(&players.b);
        copy_vec(&mut self.passives, passives, PassiveRecord::copy_from);
        self.cost_modifiers.clone_from(cost_modifiers);
        self.result_modifiers.clone_from(result_modifiers);
        self.evaluation_modifiers.clone_from(evaluation_modifiers);
        self.tiers.clone_from(tiers);
        self.ai.clone_from(ai);
        self.recent_resource_gains.clone_from(recent_resource_gains);
        self.add_pct.entries.clone_from(&add_pct.entries);
    }
}

impl PlayerState {
    /// [`GameState::copy_from`] for one player.
    fn copy_from(&mut self, source: &PlayerState) {
        let PlayerState {
            id,
            name,
            resources,
            stats,
            stats_history,
            population,
            lands,
            buildings,
            actions,
            stat_sources,
            skip_phases,
            skip_steps,
        } = source;
        self.id = *id;
        self.name.clone_from(name);
        self.resources.clone_from(resources);
        self.stats.clone_from(stats);
        self.stats_history.clone_from(stats_history);
        self.population.clone_from(population);
        copy_vec(&mut self.lands, lands, Land::copy_from);
        self.buildings.clone_from(buildings);
        self.actions.clone_from(actions);
        self.stat_sources.clone_from(stat_sources);
        self.skip_phases.clone_from(skip_phases);
        self.skip_steps.clone_from(skip_steps);
    }
}

impl Land {
    /// [`GameState::copy_from`] for one land.
    fn copy_from(&mut self, source: &Land) {
        let Land {
            id,
            slots_max,
            slots_used,
            tilled,
            developments,
            upkeep,
            triggers,
        } = source;
        self.id.clone_from(id);
        self.slots_max = *slots_max;
        self.slots_used = *slots_used;
        self.tilled = *tilled;
        self.developments.clone_from(developments);
        self.upkeep.clone_from(upkeep);
        self.triggers.clone_from(triggers);
    }
}

impl PassiveRecord {
    /// [`GameState::copy_from`] for one passive.
    fn copy_from(&mut self, source: &PassiveRecord) {
        let PassiveRecord {
            id,
            owner,
            name,
            icon,
            detail,
            meta,
            effects,
            triggers,
            skip,
        } = source;
        self.id.clone_from(id);
        self.owner = *owner;
        self.name.clone_from(name);
        self.icon.clone_from(icon);
        self.detail.clone_from(detail);
        self.meta.clone_from(meta);
        self.effects.clone_from(effects);
        self.triggers.clone_from(triggers);
        self.skip.clone_from(skip);
    }
}

/// `target.clone_from(source)` with `copy` as each kept element's
/// `clone_from`.
fn copy_vec<T: Clone>(target: &mut Vec<T>, source: &[T], copy: fn(&mut T, &T)) {
    target.truncate(source.len());
    let (shared, tail) = source.split_at(target.len());
    for (to, from) in target.iter_mut().zip(shared) {
        copy(to, from);
    }
    target.extend_from_slice(tail);
}
