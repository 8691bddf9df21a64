//! The content definition as plain data: actions, buildings, developments,
//! populations, phases, start config and rules, as the engine reads them.
//!
//! These types have no JSON form of their own: the reference content
//! schema (field names, defaults, omitted fields) lives in
//! `kb_protocol::schema`, which converts into and out of them. They carry
//! no guarantee; [`Content::new`](super::Content::new) validates them.
//! Keys the engine does not read (names, icons, UI hints) are kept in
//! `rest`, a free-form JSON map, so registries show content as it was
//! written; trigger lists among them are read by `content/json.rs`.

use super::effect::{Effect, Effects, Params};
use super::op::CompareOp;
use crate::Key;
use crate::map::OrderedMap;
use crate::num::{Num, Rounding};

/// A bag of resource amounts (costs, upkeep, start values).
pub type Bag = OrderedMap<Num>;

/// A complete content pack: everything the engine plays by.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContentDef {
    /// Resource descriptors (bounds and display); optional.
    pub resources: Vec<ResourceDef>,
    /// Actions, in registry order.
    pub actions: Vec<ActionDef>,
    /// Buildings, in registry order.
    pub buildings: Vec<BuildingDef>,
    /// Developments, in registry order.
    pub developments: Vec<DevelopmentDef>,
    /// Population roles, in registry order.
    pub populations: Vec<PopulationDef>,
    /// Phases of a player's turn, in order.
    pub phases: Vec<PhaseDef>,
    /// Start configuration.
    pub start: StartConfig,
    /// Rule constants, tiers and win conditions.
    pub rules: RulesDef,
}

/// A per-session override of the content (the reference `GameConfig`).
///
/// A non-empty list replaces the whole registry (no merging); `start`
/// replaces the whole start configuration. Unlike the reference, `phases`
/// is played, not only advertised (PRODUCT.md Q21).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GameConfig {
    /// Start configuration override.
    pub start: Option<StartConfig>,
    /// Action registry override.
    pub actions: Option<Vec<ActionDef>>,
    /// Building registry override.
    pub buildings: Option<Vec<BuildingDef>>,
    /// Development registry override.
    pub developments: Option<Vec<DevelopmentDef>>,
    /// Population registry override.
    pub populations: Option<Vec<PopulationDef>>,
    /// Phase override.
    pub phases: Option<Vec<PhaseDef>>,
}

/// Describes a resource. Only `key` and the bounds matter to the engine.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceDef {
    /// Resource key.
    pub key: Key,
    /// The value never goes below this (removals that would are refused,
    /// or clamped when shortfall is allowed).
    pub lower_bound: Option<f64>,
    /// Label, icon, description, tags...
    pub rest: Params,
}

/// An action a player can perform.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActionDef {
    /// Action id.
    pub id: Key,
    /// Display name.
    pub name: String,
    /// Costs before modifiers (AP is added by default when absent).
    pub base_costs: Option<Bag>,
    /// Requirements, checked in order.
    pub requirements: Vec<RequirementDef>,
    /// Effects and effect groups, in order.
    pub effects: Vec<ActionEffect>,
    /// System actions are locked until unlocked by an effect and cost no AP
    /// by default.
    pub system: bool,
    /// Icon, category, order, focus, description...
    pub rest: Params,
}

/// An entry of an action's effect list: a plain effect or a group the
/// player chooses an option from.
#[derive(Clone, Debug, PartialEq)]
pub enum ActionEffect {
    /// A group of options (has `options`).
    Group(EffectGroup),
    /// A plain effect.
    Effect(Effect),
}

/// A choice the player makes when performing an action.
#[derive(Clone, Debug, PartialEq)]
pub struct EffectGroup {
    /// Group id (the key in `params.choices`).
    pub id: Key,
    /// The options.
    pub options: Vec<EffectOption>,
    /// Title, summary, layout, icon...
    pub rest: Params,
}

/// One option of an [`EffectGroup`]: performs another action.
#[derive(Clone, Debug, PartialEq)]
pub struct EffectOption {
    /// Option id.
    pub id: Key,
    /// The action the option performs.
    pub action_id: Key,
    /// Parameters passed to that action (`$name` copies an action param).
    pub params: Option<Params>,
    /// Label, icon, summary...
    pub rest: Params,
}

/// A requirement of an action, with its comparison compiled.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequirementDef {
    /// Requirement family (`evaluator`).
    pub kind: Key,
    /// Requirement method (`compare`).
    pub method: Key,
    /// Parameters (`left`, `right`, `operator`).
    pub params: Option<Params>,
    /// Display message.
    pub message: Option<String>,
    /// The comparison, compiled from `params` when the requirement is
    /// `evaluator:compare` (the only kind validation accepts).
    compare: CompareOp,
}

impl RequirementDef {
    /// A requirement `kind:method` with `params`, compiled.
    pub fn new(kind: Key, method: Key, params: Option<Params>, message: Option<String>) -> Self {
        let compare = if kind == "evaluator" && method == "compare" {
            CompareOp::compile(params.as_ref())
        } else {
            CompareOp::default()
        };
        RequirementDef {
            kind,
            method,
            params,
            message,
            compare,
        }
    }

    /// The compiled comparison.
    pub fn compare(&self) -> &CompareOp {
        &self.compare
    }
}

/// A building: owned at most once per player.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BuildingDef {
    /// Building id.
    pub id: Key,
    /// Display name.
    pub name: String,
    /// Build costs (AP 1 is added when absent).
    pub costs: Bag,
    /// Per-upkeep costs.
    pub upkeep: Option<Bag>,
    /// Triggers (`onBuild`, `onGainIncomeStep`, ...) and display fields.
    pub rest: Params,
}

/// A development: placed in a land slot, any number of times.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DevelopmentDef {
    /// Development id.
    pub id: Key,
    /// Display name.
    pub name: String,
    /// System developments cannot be placed by player actions.
    pub system: bool,
    /// Per-upkeep costs of each instance.
    pub upkeep: Option<Bag>,
    /// Triggers (`onBuild`, `onAttackResolved`, ...) and display fields.
    pub rest: Params,
}

/// A population role.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PopulationDef {
    /// Role id.
    pub id: Key,
    /// Display name.
    pub name: String,
    /// Per-member upkeep.
    pub upkeep: Option<Bag>,
    /// Triggers (`onAssigned`, `onUnassigned`, `onGainAPStep`, ...) and
    /// display fields.
    pub rest: Params,
}

/// A phase of a player's turn.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PhaseDef {
    /// Phase id.
    pub id: Key,
    /// Steps, in order (at least one).
    pub steps: Vec<StepDef>,
    /// The phase in which players perform actions.
    pub action: bool,
    /// Label, icon...
    pub rest: Params,
}

/// A step of a phase.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepDef {
    /// Step id.
    pub id: Key,
    /// Triggers fired by the step, in order.
    pub triggers: Vec<Key>,
    /// Effects of the step itself.
    pub effects: Option<Effects>,
    /// Title, icon...
    pub rest: Params,
}

/// How players start.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartConfig {
    /// The base every player starts from.
    pub player: PlayerStart,
    /// Per-player overrides (merged over the base).
    pub players: OrderedMap<PlayerStart>,
    /// Mode overlays (`dev`).
    pub modes: Option<StartModes>,
}

/// Start overlays by mode.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartModes {
    /// Dev mode overlay.
    pub dev: Option<ModeStart>,
}

/// A mode overlay over the start configuration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModeStart {
    /// Overlay of the base player.
    pub player: Option<PlayerStart>,
    /// Overlay of the per-player overrides.
    pub players: OrderedMap<PlayerStart>,
}

/// A player's starting resources, stats, population and lands.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlayerStart {
    /// Resources.
    pub resources: Option<Bag>,
    /// Stats.
    pub stats: Option<Bag>,
    /// Population per role.
    pub population: Option<Bag>,
    /// Lands.
    pub lands: Option<Vec<LandStart>>,
}

/// A starting land.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LandStart {
    /// Developments on the land.
    pub developments: Vec<Key>,
    /// Slot capacity (default `rules.slotsPerNewLand`).
    pub slots_max: Option<u32>,
    /// Used slots (default: the number of developments).
    pub slots_used: Option<u32>,
    /// Whether the land starts tilled.
    pub tilled: Option<bool>,
    /// Per-upkeep costs of the land.
    pub upkeep: Option<Bag>,
    /// Land triggers (`onPayUpkeepStep`, `onGainIncomeStep`, `onGainAPStep`).
    pub rest: Params,
}

/// Rule constants.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RulesDef {
    /// AP added to a non-system action's costs when it lists none.
    pub default_action_ap_cost: f64,
    /// Absorption cap (1.0 = 100 %).
    pub absorption_cap_pct: f64,
    /// Rounding of damage after absorption.
    pub absorption_rounding: Rounding,
    /// The resource whose value selects a tier.
    pub tiered_resource_key: Key,
    /// Tiers, in ascending order.
    pub tier_definitions: Vec<TierDef>,
    /// Slots of a new land.
    pub slots_per_new_land: u32,
    /// Maximum slots of a land.
    pub max_slots_per_land: u32,
    /// Unused by the rules (kept for clients).
    pub base_population_cap: f64,
    /// Win conditions.
    pub win_conditions: Vec<WinConditionDef>,
    /// Phases `simulateUpcomingPhases` simulates by default.
    pub core_phase_ids: Option<CorePhaseIds>,
    /// Other rule fields.
    pub rest: Params,
}

/// Ids of the growth and upkeep phases.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CorePhaseIds {
    /// The growth phase id.
    pub growth: Key,
    /// The upkeep phase id.
    pub upkeep: Key,
}

/// A tier of the tiered resource (happiness).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TierDef {
    /// Tier id.
    pub id: Key,
    /// Inclusive value range.
    pub range: TierRange,
    /// Effects run when a player enters the tier.
    pub enter_effects: Option<Effects>,
    /// Effects run when a player leaves the tier.
    pub exit_effects: Option<Effects>,
    /// Display fields and the (informational) `effect` summary.
    pub rest: Params,
}

/// An inclusive range; a missing bound is open.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TierRange {
    /// Lower bound.
    pub min: Option<f64>,
    /// Upper bound.
    pub max: Option<f64>,
}

/// A condition that ends the game.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WinConditionDef {
    /// Condition id (reported as `conclusion.conditionId`).
    pub id: Key,
    /// What triggers it.
    pub trigger: WinTrigger,
    /// Who wins.
    pub result: WinResult,
    /// When `result` names no winner: the winner is the player with the
    /// higher score (a turn limit decided on points).
    pub score: Option<WinScore>,
    /// Display fields.
    pub rest: Params,
}

/// How a score decides a win condition whose `result` names no winner:
/// each player's score is the weighted sum of its resources, the higher
/// score wins, and `tie` says who wins an equal score.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WinScore {
    /// The terms of the sum.
    pub terms: Vec<ScoreTerm>,
    /// Who wins a tie: the subject (the player whose change fired the
    /// condition, the default) or its opponent.
    pub tie: WinTie,
}

/// One term of a score: `weight × resource`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScoreTerm {
    /// The resource key.
    pub key: Key,
    /// Its weight.
    pub weight: f64,
}

/// Who wins a tied score.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WinTie {
    /// The player whose change fired the condition.
    #[default]
    Subject,
    /// The other player.
    Opponent,
}

/// The trigger of a win condition.
///
/// * `resource`: checked whenever `key` of a player (the subject) changes;
///   fires when the value (the subject's, or the opponent's with
///   `target: "opponent"`) compares true against `value`. When the subject
///   cannot pay an upkeep cost in `key`, a condition on its own value is
///   checked against the balance the payment would leave: that is
///   bankruptcy (PRODUCT.md Q10), `gold < 0` in the default content.
/// * `bankruptcy`: fires when the subject cannot pay an upkeep cost in
///   `key` (the form content used before bankruptcy took the reference's
///   `resource` shape; kept so that stored sessions replay).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WinTrigger {
    /// `resource` or `bankruptcy`.
    pub kind: WinTriggerKind,
    /// The resource key.
    pub key: Key,
    /// Comparison of a `resource` trigger.
    pub comparison: Option<Comparison>,
    /// Threshold of a `resource` trigger.
    pub value: Option<f64>,
    /// Whose value a `resource` trigger compares.
    pub target: Option<WinTarget>,
}

/// The type of a win trigger, parsed at load (written as its name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WinTriggerKind {
    /// `resource`.
    Resource,
    /// `bankruptcy`.
    Bankruptcy,
    /// Any other name: refused by content validation.
    Unknown(Key),
}

impl Default for WinTriggerKind {
    fn default() -> Self {
        WinTriggerKind::Unknown(Key::default())
    }
}

impl From<Key> for WinTriggerKind {
    fn from(name: Key) -> Self {
        match name.as_str() {
            "resource" => WinTriggerKind::Resource,
            "bankruptcy" => WinTriggerKind::Bankruptcy,
            _ => WinTriggerKind::Unknown(name),
        }
    }
}

impl From<WinTriggerKind> for Key {
    fn from(kind: WinTriggerKind) -> Self {
        match kind {
            WinTriggerKind::Resource => "resource".into(),
            WinTriggerKind::Bankruptcy => "bankruptcy".into(),
            WinTriggerKind::Unknown(name) => name,
        }
    }
}

/// A comparison operator of a win trigger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `>`
    Gt,
    /// `>=`
    Gte,
}

/// Whose value a win trigger compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WinTarget {
    /// The subject's own value.
    Subject,
    /// The subject's opponent's value.
    Opponent,
}

/// The result of a win condition.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WinResult {
    /// The subject's outcome.
    pub subject: WinOutcome,
    /// The opponent's outcome.
    pub opponent: Option<WinOutcome>,
}

/// An outcome for one side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WinOutcome {
    /// This side wins.
    Victory,
    /// This side loses.
    Defeat,
    /// Nothing.
    #[default]
    None,
}

/// Skip flags of a passive.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SkipConfig {
    /// Whole phases skipped.
    pub phases: Vec<Key>,
    /// Single steps skipped.
    pub steps: Vec<SkipStep>,
}

/// A skipped step.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SkipStep {
    /// Phase id.
    pub phase_id: Key,
    /// Step id.
    pub step_id: Key,
}

/// A percent for every key, or per key.
#[derive(Clone, Debug, PartialEq)]
pub enum Percent {
    /// The same fraction for every key.
    All(f64),
    /// A fraction per key.
    PerKey(Bag),
}
