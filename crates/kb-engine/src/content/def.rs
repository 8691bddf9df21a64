//! The content schema: plain serde types mirroring the reference content
//! (actions, buildings, developments, populations, phases, start config,
//! rules), as loaded from JSON and as sent to clients in registries.
//!
//! These types carry no guarantee; [`Content::new`](super::Content::new)
//! validates them. Keys the engine does not read (names, icons, UI hints)
//! are kept in `rest` so registries show content as it was written.

use serde::{Deserialize, Serialize};

use super::effect::{Effect, Effects, Params};
use super::op::CompareOp;
use crate::Key;
use crate::map::OrderedMap;
use crate::num::{Num, Rounding};

/// A bag of resource amounts (costs, upkeep, start values).
pub type Bag = OrderedMap<Num>;

/// A complete content pack: everything the engine plays by.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentDef {
    /// Resource descriptors (bounds and display); optional.
    #[serde(default)]
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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GameConfig {
    /// Start configuration override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<StartConfig>,
    /// Action registry override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<ActionDef>>,
    /// Building registry override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buildings: Option<Vec<BuildingDef>>,
    /// Development registry override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub developments: Option<Vec<DevelopmentDef>>,
    /// Population registry override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub populations: Option<Vec<PopulationDef>>,
    /// Phase override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<Vec<PhaseDef>>,
}

/// Describes a resource. Only `key` and the bounds matter to the engine.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDef {
    /// Resource key.
    pub key: Key,
    /// The value never goes below this (removals that would are refused,
    /// or clamped when shortfall is allowed).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::num::serialize_opt_num"
    )]
    pub lower_bound: Option<f64>,
    /// Label, icon, description, tags...
    #[serde(flatten)]
    pub rest: Params,
}

/// An action a player can perform.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionDef {
    /// Action id.
    pub id: Key,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Costs before modifiers (AP is added by default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_costs: Option<Bag>,
    /// Requirements, checked in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<RequirementDef>,
    /// Effects and effect groups, in order.
    #[serde(default)]
    pub effects: Vec<ActionEffect>,
    /// System actions are locked until unlocked by an effect and cost no AP
    /// by default.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub system: bool,
    /// Icon, category, order, focus, description...
    #[serde(flatten)]
    pub rest: Params,
}

/// An entry of an action's effect list: a plain effect or a group the
/// player chooses an option from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ActionEffect {
    /// A group of options (has `options`).
    Group(EffectGroup),
    /// A plain effect.
    Effect(Effect),
}

/// A choice the player makes when performing an action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EffectGroup {
    /// Group id (the key in `params.choices`).
    pub id: Key,
    /// The options.
    pub options: Vec<EffectOption>,
    /// Title, summary, layout, icon...
    #[serde(flatten)]
    pub rest: Params,
}

/// One option of an [`EffectGroup`]: performs another action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EffectOption {
    /// Option id.
    pub id: Key,
    /// The action the option performs.
    pub action_id: Key,
    /// Parameters passed to that action (`$name` copies an action param).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Params>,
    /// Label, icon, summary...
    #[serde(flatten)]
    pub rest: Params,
}

/// A requirement of an action, with its comparison compiled.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "RequirementSource")]
pub struct RequirementDef {
    /// Requirement family (`evaluator`).
    #[serde(rename = "type")]
    pub kind: Key,
    /// Requirement method (`compare`).
    pub method: Key,
    /// Parameters (`left`, `right`, `operator`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Params>,
    /// Display message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The comparison, compiled from `params` when the requirement is
    /// `evaluator:compare` (the only kind validation accepts).
    #[serde(skip)]
    compare: CompareOp,
}

impl RequirementDef {
    /// A requirement `kind:method` with `params`, compiled.
    pub fn new(kind: Key, method: Key, params: Option<Params>, message: Option<String>) -> Self {
        RequirementSource {
            kind,
            method,
            params,
            message,
        }
        .into()
    }

    /// The compiled comparison.
    pub fn compare(&self) -> &CompareOp {
        &self.compare
    }
}

/// A requirement as written.
#[derive(Deserialize)]
struct RequirementSource {
    #[serde(rename = "type")]
    kind: Key,
    method: Key,
    #[serde(default)]
    params: Option<Params>,
    #[serde(default)]
    message: Option<String>,
}

impl From<RequirementSource> for RequirementDef {
    fn from(source: RequirementSource) -> Self {
        let compare = if source.kind == "evaluator" && source.method == "compare" {
            CompareOp::compile(source.params.as_ref())
        } else {
            CompareOp::default()
        };
        RequirementDef {
            kind: source.kind,
            method: source.method,
            params: source.params,
            message: source.message,
            compare,
        }
    }
}

/// A building: owned at most once per player.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildingDef {
    /// Building id.
    pub id: Key,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Build costs (AP 1 is added when absent).
    #[serde(default)]
    pub costs: Bag,
    /// Per-upkeep costs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upkeep: Option<Bag>,
    /// Triggers (`onBuild`, `onGainIncomeStep`, ...) and display fields.
    #[serde(flatten)]
    pub rest: Params,
}

/// A development: placed in a land slot, any number of times.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevelopmentDef {
    /// Development id.
    pub id: Key,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// System developments cannot be placed by player actions.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub system: bool,
    /// Per-upkeep costs of each instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upkeep: Option<Bag>,
    /// Triggers (`onBuild`, `onAttackResolved`, ...) and display fields.
    #[serde(flatten)]
    pub rest: Params,
}

/// A population role.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PopulationDef {
    /// Role id.
    pub id: Key,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Per-member upkeep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upkeep: Option<Bag>,
    /// Triggers (`onAssigned`, `onUnassigned`, `onGainAPStep`, ...) and
    /// display fields.
    #[serde(flatten)]
    pub rest: Params,
}

/// A phase of a player's turn.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseDef {
    /// Phase id.
    pub id: Key,
    /// Steps, in order (at least one).
    pub steps: Vec<StepDef>,
    /// The phase in which players perform actions.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub action: bool,
    /// Label, icon...
    #[serde(flatten)]
    pub rest: Params,
}

/// A step of a phase.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepDef {
    /// Step id.
    pub id: Key,
    /// Triggers fired by the step, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Key>,
    /// Effects of the step itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effects: Option<Effects>,
    /// Title, icon...
    #[serde(flatten)]
    pub rest: Params,
}

/// How players start.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartConfig {
    /// The base every player starts from.
    pub player: PlayerStart,
    /// Per-player overrides (merged over the base).
    #[serde(default, skip_serializing_if = "OrderedMap::is_empty")]
    pub players: OrderedMap<PlayerStart>,
    /// Mode overlays (`dev`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modes: Option<StartModes>,
}

/// Start overlays by mode.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StartModes {
    /// Dev mode overlay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<ModeStart>,
}

/// A mode overlay over the start configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModeStart {
    /// Overlay of the base player.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player: Option<PlayerStart>,
    /// Overlay of the per-player overrides.
    #[serde(default, skip_serializing_if = "OrderedMap::is_empty")]
    pub players: OrderedMap<PlayerStart>,
}

/// A player's starting resources, stats, population and lands.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlayerStart {
    /// Resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Bag>,
    /// Stats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<Bag>,
    /// Population per role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<Bag>,
    /// Lands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lands: Option<Vec<LandStart>>,
}

/// A starting land.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LandStart {
    /// Developments on the land.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub developments: Vec<Key>,
    /// Slot capacity (default `rules.slotsPerNewLand`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots_max: Option<u32>,
    /// Used slots (default: the number of developments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots_used: Option<u32>,
    /// Whether the land starts tilled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tilled: Option<bool>,
    /// Per-upkeep costs of the land.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upkeep: Option<Bag>,
    /// Land triggers (`onPayUpkeepStep`, `onGainIncomeStep`, `onGainAPStep`).
    #[serde(flatten)]
    pub rest: Params,
}

/// Rule constants.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RulesDef {
    /// AP added to a non-system action's costs when it lists none.
    #[serde(rename = "defaultActionAPCost")]
    #[serde(serialize_with = "crate::num::serialize_num")]
    pub default_action_ap_cost: f64,
    /// Absorption cap (1.0 = 100 %).
    #[serde(serialize_with = "crate::num::serialize_num")]
    pub absorption_cap_pct: f64,
    /// Rounding of damage after absorption.
    pub absorption_rounding: Rounding,
    /// The resource whose value selects a tier.
    pub tiered_resource_key: Key,
    /// Tiers, in ascending order.
    #[serde(default)]
    pub tier_definitions: Vec<TierDef>,
    /// Slots of a new land.
    pub slots_per_new_land: u32,
    /// Maximum slots of a land.
    pub max_slots_per_land: u32,
    /// Unused by the rules (kept for clients).
    #[serde(default)]
    #[serde(serialize_with = "crate::num::serialize_num")]
    pub base_population_cap: f64,
    /// Win conditions.
    #[serde(default)]
    pub win_conditions: Vec<WinConditionDef>,
    /// Phases `simulateUpcomingPhases` simulates by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_phase_ids: Option<CorePhaseIds>,
    /// Other rule fields.
    #[serde(flatten)]
    pub rest: Params,
}

/// Ids of the growth and upkeep phases.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CorePhaseIds {
    /// The growth phase id.
    pub growth: Key,
    /// The upkeep phase id.
    pub upkeep: Key,
}

/// A tier of the tiered resource (happiness).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TierDef {
    /// Tier id.
    pub id: Key,
    /// Inclusive value range.
    pub range: TierRange,
    /// Effects run when a player enters the tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enter_effects: Option<Effects>,
    /// Effects run when a player leaves the tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_effects: Option<Effects>,
    /// Display fields and the (informational) `effect` summary.
    #[serde(flatten)]
    pub rest: Params,
}

/// An inclusive range; a missing bound is open.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TierRange {
    /// Lower bound.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::num::serialize_opt_num"
    )]
    pub min: Option<f64>,
    /// Upper bound.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::num::serialize_opt_num"
    )]
    pub max: Option<f64>,
}

/// A condition that ends the game.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WinConditionDef {
    /// Condition id (reported as `conclusion.conditionId`).
    pub id: Key,
    /// What triggers it.
    pub trigger: WinTrigger,
    /// Who wins.
    pub result: WinResult,
    /// When `result` names no winner: the winner is the player with the
    /// higher score (a turn limit decided on points).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<WinScore>,
    /// Display fields.
    #[serde(flatten)]
    pub rest: Params,
}

/// How a score decides a win condition whose `result` names no winner:
/// each player's score is the weighted sum of its resources, the higher
/// score wins, and `tie` says who wins an equal score.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WinScore {
    /// The terms of the sum.
    pub terms: Vec<ScoreTerm>,
    /// Who wins a tie: the subject (the player whose change fired the
    /// condition, the default) or its opponent.
    #[serde(default)]
    pub tie: WinTie,
}

/// One term of a score: `weight × resource`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreTerm {
    /// The resource key.
    pub key: Key,
    /// Its weight.
    #[serde(serialize_with = "crate::num::serialize_num")]
    pub weight: f64,
}

/// Who wins a tied score.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WinTrigger {
    /// `resource` or `bankruptcy`.
    #[serde(rename = "type")]
    pub kind: WinTriggerKind,
    /// The resource key.
    pub key: Key,
    /// Comparison of a `resource` trigger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    /// Threshold of a `resource` trigger.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::num::serialize_opt_num"
    )]
    pub value: Option<f64>,
    /// Whose value a `resource` trigger compares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<WinTarget>,
}

/// The type of a win trigger, parsed at load (written as its name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Key", into = "Key")]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WinTarget {
    /// The subject's own value.
    #[serde(rename = "self")]
    Subject,
    /// The subject's opponent's value.
    Opponent,
}

/// The result of a win condition.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WinResult {
    /// The subject's outcome.
    pub subject: WinOutcome,
    /// The opponent's outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opponent: Option<WinOutcome>,
}

/// An outcome for one side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkipConfig {
    /// Whole phases skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<Key>,
    /// Single steps skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<SkipStep>,
}

/// A skipped step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkipStep {
    /// Phase id.
    pub phase_id: Key,
    /// Step id.
    pub step_id: Key,
}

/// A percent for every key, or per key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Percent {
    /// The same fraction for every key.
    All(f64),
    /// A fraction per key.
    PerKey(Bag),
}
