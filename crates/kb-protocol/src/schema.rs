//! The reference content schema: serde types that mirror the content JSON
//! exactly (field names, defaults, omitted empty fields, the `rest` maps
//! that keep keys the rules do not read, untagged effect groups), with
//! conversions into and out of the engine's plain content types.
//!
//! The engine's content types (`kb_engine::content`) are plain data with
//! no JSON form of their own: content files, `GameConfig` overrides,
//! registries and the content echoed in snapshots and results are read and
//! written through these types. Reading is `serde` into a schema type, then
//! `From` into the engine's type; writing is `From<&engine>` and `serde`.
//! The schema carries no guarantee: `kb_engine::Content::new` validates.
//!
//! Effect parameters stay free-form JSON (`Params`): each effect kind reads
//! its own, in the engine's table of effect kinds.

use kb_engine::content::{self as engine, Bag, Params};
use kb_engine::{Key, Num, OrderedMap};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// Serializes a game value as snapshots write numbers (whole numbers as
/// integers).
fn serialize_num<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    Num(*value).serialize(serializer)
}

/// Serializes an optional game value with [`serialize_num`].
#[allow(clippy::ref_option)]
fn serialize_opt_num<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    value.map(Num).serialize(serializer)
}

/// How a fractional result is rounded: `up`, `down` or `nearest`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rounding {
    /// Away from zero.
    Up,
    /// Toward zero.
    #[default]
    Down,
    /// To the nearest integer, halves up.
    Nearest,
}

/// One effect definition `{type, method, params, effects, evaluator, round,
/// meta}`; with an `evaluator` it is an evaluator group.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EffectDef {
    /// Handler family (`resource`, `stat`, `land`, ...).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Key>,
    /// Handler method (`add`, `remove`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Key>,
    /// Handler parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Params>,
    /// Nested effects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effects: Option<EffectList>,
    /// Makes this an evaluator group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluator: Option<Evaluator>,
    /// Rounding used by some handlers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<Rounding>,
    /// Free-form metadata (`allowShortfall`, `source`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

/// A list of effects (the engine's `Effects`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EffectList(pub Vec<EffectDef>);

/// An evaluator `{type, params}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Evaluator {
    /// Evaluator type (`development`, `population`, `stat`, `compare`).
    #[serde(rename = "type")]
    pub kind: Key,
    /// Evaluator parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Params>,
}

/// Trigger lists by trigger name, as a passive stores them.
pub type Triggers = OrderedMap<EffectList>;

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
        serialize_with = "serialize_opt_num"
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
    Effect(EffectDef),
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

/// A requirement of an action as written: `{type, method, params?, message?}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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
    pub effects: Option<EffectList>,
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
    #[serde(serialize_with = "serialize_num")]
    pub default_action_ap_cost: f64,
    /// Absorption cap (1.0 = 100 %).
    #[serde(serialize_with = "serialize_num")]
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
    #[serde(serialize_with = "serialize_num")]
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
    pub enter_effects: Option<EffectList>,
    /// Effects run when a player leaves the tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_effects: Option<EffectList>,
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
        serialize_with = "serialize_opt_num"
    )]
    pub min: Option<f64>,
    /// Upper bound.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_opt_num"
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
    #[serde(serialize_with = "serialize_num")]
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
    pub kind: Key,
    /// The resource key.
    pub key: Key,
    /// Comparison of a `resource` trigger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    /// Threshold of a `resource` trigger.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_opt_num"
    )]
    pub value: Option<f64>,
    /// Whose value a `resource` trigger compares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<WinTarget>,
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

/// A schema value and the engine's plain value it stands for.
pub trait Mirror: Sized {
    /// The engine's type.
    type Engine;
    /// Converts into the engine's type.
    fn into_engine(self) -> Self::Engine;
    /// Converts from the engine's type.
    fn from_engine(engine: &Self::Engine) -> Self;
}

macro_rules! mirror_same {
    ($($ty:ty),* $(,)?) => {$(
        impl Mirror for $ty {
            type Engine = $ty;
            fn into_engine(self) -> $ty {
                self
            }
            fn from_engine(engine: &$ty) -> Self {
                engine.clone()
            }
        }
    )*};
}

mirror_same!(Key, String, bool, f64, u32, Num, Params, Value);

impl<T: Mirror> Mirror for Option<T> {
    type Engine = Option<T::Engine>;
    fn into_engine(self) -> Self::Engine {
        self.map(Mirror::into_engine)
    }
    fn from_engine(engine: &Self::Engine) -> Self {
        engine.as_ref().map(T::from_engine)
    }
}

impl<T: Mirror> Mirror for Vec<T> {
    type Engine = Vec<T::Engine>;
    fn into_engine(self) -> Self::Engine {
        self.into_iter().map(Mirror::into_engine).collect()
    }
    fn from_engine(engine: &Self::Engine) -> Self {
        engine.iter().map(T::from_engine).collect()
    }
}

impl<T: Mirror + Clone> Mirror for OrderedMap<T> {
    type Engine = OrderedMap<T::Engine>;
    fn into_engine(self) -> Self::Engine {
        self.iter()
            .map(|(k, v)| (k.clone(), v.clone().into_engine()))
            .collect()
    }
    fn from_engine(engine: &Self::Engine) -> Self {
        engine
            .iter()
            .map(|(k, v)| (k.clone(), T::from_engine(v)))
            .collect()
    }
}

/// `From` both ways for a type that has a [`Mirror`].
macro_rules! mirror_from {
    ($($name:ident),* $(,)?) => {$(
        impl From<$name> for engine::$name {
            fn from(schema: $name) -> Self {
                schema.into_engine()
            }
        }
        impl From<&engine::$name> for $name {
            fn from(engine: &engine::$name) -> Self {
                $name::from_engine(engine)
            }
        }
    )*};
}

/// A struct whose fields mirror the engine's one by one.
macro_rules! mirror_struct {
    ($($name:ident { $($field:ident),* $(,)? })*) => {$(
        impl Mirror for $name {
            type Engine = engine::$name;
            fn into_engine(self) -> engine::$name {
                engine::$name { $($field: self.$field.into_engine()),* }
            }
            fn from_engine(engine: &engine::$name) -> Self {
                $name { $($field: Mirror::from_engine(&engine.$field)),* }
            }
        }
        mirror_from!($name);
    )*};
}

/// A fieldless enum whose variants mirror the engine's.
macro_rules! mirror_enum {
    ($($name:ident { $($variant:ident),* $(,)? })*) => {$(
        impl Mirror for $name {
            type Engine = engine::$name;
            fn into_engine(self) -> engine::$name {
                match self { $($name::$variant => engine::$name::$variant),* }
            }
            fn from_engine(engine: &engine::$name) -> Self {
                match engine { $(engine::$name::$variant => $name::$variant),* }
            }
        }
        mirror_from!($name);
    )*};
}

mirror_struct! {
    ContentDef { resources, actions, buildings, developments, populations, phases, start, rules }
    GameConfig { start, actions, buildings, developments, populations, phases }
    ResourceDef { key, lower_bound, rest }
    ActionDef { id, name, base_costs, requirements, effects, system, rest }
    EffectGroup { id, options, rest }
    EffectOption { id, action_id, params, rest }
    BuildingDef { id, name, costs, upkeep, rest }
    DevelopmentDef { id, name, system, upkeep, rest }
    PopulationDef { id, name, upkeep, rest }
    PhaseDef { id, steps, action, rest }
    StepDef { id, triggers, effects, rest }
    StartConfig { player, players, modes }
    StartModes { dev }
    ModeStart { player, players }
    PlayerStart { resources, stats, population, lands }
    LandStart { developments, slots_max, slots_used, tilled, upkeep, rest }
    RulesDef {
        default_action_ap_cost, absorption_cap_pct, absorption_rounding, tiered_resource_key,
        tier_definitions, slots_per_new_land, max_slots_per_land, base_population_cap,
        win_conditions, core_phase_ids, rest,
    }
    CorePhaseIds { growth, upkeep }
    TierDef { id, range, enter_effects, exit_effects, rest }
    TierRange { min, max }
    WinConditionDef { id, trigger, result, score, rest }
    WinScore { terms, tie }
    ScoreTerm { key, weight }
    WinResult { subject, opponent }
    SkipConfig { phases, steps }
    SkipStep { phase_id, step_id }
    EffectDef { kind, method, params, effects, evaluator, round, meta }
    Evaluator { kind, params }
}

mirror_enum! {
    WinTie { Subject, Opponent }
    Comparison { Lt, Lte, Gt, Gte }
    WinTarget { Subject, Opponent }
    WinOutcome { Victory, Defeat, None }
}

impl Mirror for Rounding {
    type Engine = kb_engine::Rounding;
    fn into_engine(self) -> kb_engine::Rounding {
        match self {
            Rounding::Up => kb_engine::Rounding::Up,
            Rounding::Down => kb_engine::Rounding::Down,
            Rounding::Nearest => kb_engine::Rounding::Nearest,
        }
    }
    fn from_engine(engine: &kb_engine::Rounding) -> Self {
        match engine {
            kb_engine::Rounding::Up => Rounding::Up,
            kb_engine::Rounding::Down => Rounding::Down,
            kb_engine::Rounding::Nearest => Rounding::Nearest,
        }
    }
}

impl From<Rounding> for kb_engine::Rounding {
    fn from(schema: Rounding) -> Self {
        schema.into_engine()
    }
}

impl From<kb_engine::Rounding> for Rounding {
    fn from(engine: kb_engine::Rounding) -> Self {
        Rounding::from_engine(&engine)
    }
}

impl Mirror for EffectList {
    type Engine = engine::Effects;
    fn into_engine(self) -> engine::Effects {
        engine::Effects::new(self.0.into_iter().map(engine::Effect::from).collect())
    }
    fn from_engine(engine: &engine::Effects) -> Self {
        EffectList(engine.iter().map(EffectDef::from).collect())
    }
}

impl From<EffectList> for engine::Effects {
    fn from(schema: EffectList) -> Self {
        schema.into_engine()
    }
}

impl From<&engine::Effects> for EffectList {
    fn from(engine: &engine::Effects) -> Self {
        EffectList::from_engine(engine)
    }
}

impl From<EffectDef> for engine::Effect {
    fn from(schema: EffectDef) -> Self {
        engine::Effect::new(schema.into_engine())
    }
}

impl From<&engine::Effect> for EffectDef {
    fn from(effect: &engine::Effect) -> Self {
        EffectDef::from_engine(effect.def())
    }
}

impl Mirror for ActionEffect {
    type Engine = engine::ActionEffect;
    fn into_engine(self) -> engine::ActionEffect {
        match self {
            ActionEffect::Group(group) => engine::ActionEffect::Group(group.into_engine()),
            ActionEffect::Effect(def) => engine::ActionEffect::Effect(def.into()),
        }
    }
    fn from_engine(engine: &engine::ActionEffect) -> Self {
        match engine {
            engine::ActionEffect::Group(group) => ActionEffect::Group(EffectGroup::from(group)),
            engine::ActionEffect::Effect(effect) => ActionEffect::Effect(EffectDef::from(effect)),
        }
    }
}

mirror_from!(ActionEffect);

impl Mirror for RequirementDef {
    type Engine = engine::RequirementDef;
    fn into_engine(self) -> engine::RequirementDef {
        engine::RequirementDef::new(self.kind, self.method, self.params, self.message)
    }
    fn from_engine(engine: &engine::RequirementDef) -> Self {
        RequirementDef {
            kind: engine.kind.clone(),
            method: engine.method.clone(),
            params: engine.params.clone(),
            message: engine.message.clone(),
        }
    }
}

mirror_from!(RequirementDef);

impl Mirror for WinTrigger {
    type Engine = engine::WinTrigger;
    fn into_engine(self) -> engine::WinTrigger {
        engine::WinTrigger {
            kind: engine::WinTriggerKind::from(self.kind),
            key: self.key,
            comparison: self.comparison.into_engine(),
            value: self.value,
            target: self.target.into_engine(),
        }
    }
    fn from_engine(engine: &engine::WinTrigger) -> Self {
        WinTrigger {
            kind: Key::from(engine.kind.clone()),
            key: engine.key.clone(),
            comparison: Mirror::from_engine(&engine.comparison),
            value: engine.value,
            target: Mirror::from_engine(&engine.target),
        }
    }
}

mirror_from!(WinTrigger);

impl Mirror for Percent {
    type Engine = engine::Percent;
    fn into_engine(self) -> engine::Percent {
        match self {
            Percent::All(value) => engine::Percent::All(value),
            Percent::PerKey(bag) => engine::Percent::PerKey(bag),
        }
    }
    fn from_engine(engine: &engine::Percent) -> Self {
        match engine {
            engine::Percent::All(value) => Percent::All(*value),
            engine::Percent::PerKey(bag) => Percent::PerKey(bag.clone()),
        }
    }
}

mirror_from!(Percent);

/// One value per player, written `{"A": .., "B": ..}` (the engine's
/// `ByPlayer` has no JSON form of its own).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByPlayer<T> {
    /// Player A's value.
    #[serde(rename = "A")]
    pub a: T,
    /// Player B's value.
    #[serde(rename = "B")]
    pub b: T,
}

impl<T> ByPlayer<T> {
    /// Both values of `engine`, each converted by `f`.
    pub fn from_engine_with<'e, E>(
        engine: &'e kb_engine::ByPlayer<E>,
        mut f: impl FnMut(&'e E) -> T,
    ) -> Self {
        ByPlayer {
            a: f(&engine.a),
            b: f(&engine.b),
        }
    }

    /// Both values, each converted by `f`, as the engine's pair.
    pub fn into_engine_with<E>(self, mut f: impl FnMut(T) -> E) -> kb_engine::ByPlayer<E> {
        kb_engine::ByPlayer {
            a: f(self.a),
            b: f(self.b),
        }
    }
}

impl<T> From<kb_engine::ByPlayer<T>> for ByPlayer<T> {
    fn from(engine: kb_engine::ByPlayer<T>) -> Self {
        ByPlayer {
            a: engine.a,
            b: engine.b,
        }
    }
}

impl<T> From<ByPlayer<T>> for kb_engine::ByPlayer<T> {
    fn from(schema: ByPlayer<T>) -> Self {
        kb_engine::ByPlayer {
            a: schema.a,
            b: schema.b,
        }
    }
}

impl EffectList {
    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// An engine effect written as [`EffectDef`] without copying it: what
/// answers use on their hot paths (every effect a step ran, land and
/// passive triggers). It writes the bytes `EffectDef::from(effect)` would
/// (a test holds the two together).
#[derive(Clone, Copy, Debug)]
pub struct EffectView<'a>(pub &'a engine::Effect);

impl Serialize for EffectView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let def = self.0.def();
        EffectDefView {
            kind: def.kind.as_ref(),
            method: def.method.as_ref(),
            params: def.params.as_ref(),
            effects: def.effects.as_ref().map(EffectsView),
            evaluator: def.evaluator.as_ref().map(|e| EvaluatorView {
                kind: &e.kind,
                params: e.params.as_ref(),
            }),
            round: def.round.map(Rounding::from),
            meta: def.meta.as_ref(),
        }
        .serialize(serializer)
    }
}

/// [`EffectDef`]'s fields, borrowed.
#[derive(Serialize)]
struct EffectDefView<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'a Key>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'a Key>,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a Params>,
    #[serde(skip_serializing_if = "Option::is_none")]
    effects: Option<EffectsView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evaluator: Option<EvaluatorView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    round: Option<Rounding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<&'a Value>,
}

/// [`Evaluator`]'s fields, borrowed.
#[derive(Serialize)]
struct EvaluatorView<'a> {
    #[serde(rename = "type")]
    kind: &'a Key,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a Params>,
}

/// An engine effect list written as [`EffectList`] without copying it.
#[derive(Clone, Copy, Debug)]
pub struct EffectsView<'a>(pub &'a engine::Effects);

impl Serialize for EffectsView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(EffectView))
    }
}

/// Engine trigger lists written as [`Triggers`] (a map of effect lists by
/// trigger name) without copying them.
#[derive(Clone, Copy, Debug)]
pub struct TriggersView<'a>(pub &'a engine::Triggers);

impl Serialize for TriggersView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            self.0
                .iter()
                .map(|(name, list)| (name.as_str(), EffectsView(list))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_content() -> ContentDef {
        let text = include_str!("../../kb-content/content/default.json");
        serde_json::from_str(text).expect("the default content parses")
    }

    #[test]
    fn the_default_content_converts_to_the_engine_and_back_unchanged() {
        let schema = default_content();
        let engine = engine::ContentDef::from(schema.clone());
        let back = ContentDef::from(&engine);
        assert_eq!(back, schema);
        let text = include_str!("../../kb-content/content/default.json");
        let written: Value = serde_json::from_str(text).unwrap();
        let rendered = serde_json::to_value(&back).unwrap();
        for key in [
            "actions",
            "buildings",
            "developments",
            "populations",
            "phases",
            "start",
        ] {
            assert_eq!(rendered[key], written[key], "{key}");
        }
    }

    #[test]
    fn views_write_what_the_owned_schema_writes() {
        let engine = engine::ContentDef::from(default_content());
        let mut lists: Vec<engine::Effects> = Vec::new();
        for action in &engine.actions {
            for entry in &action.effects {
                if let engine::ActionEffect::Effect(effect) = entry {
                    lists.push(engine::Effects::new(vec![effect.clone()]));
                }
            }
        }
        for phase in &engine.phases {
            lists.extend(phase.steps.iter().filter_map(|s| s.effects.clone()));
        }
        for tier in &engine.rules.tier_definitions {
            lists.extend(tier.enter_effects.clone());
            lists.extend(tier.exit_effects.clone());
        }
        assert!(lists.len() > 10, "{} lists", lists.len());
        for list in &lists {
            assert_eq!(
                serde_json::to_string(&EffectsView(list)).unwrap(),
                serde_json::to_string(&EffectList::from(list)).unwrap()
            );
        }
        let mut triggers = engine::Triggers::new();
        for (i, list) in lists.into_iter().enumerate() {
            triggers.insert(format!("onStep{i}"), list);
        }
        assert_eq!(
            serde_json::to_string(&TriggersView(&triggers)).unwrap(),
            serde_json::to_string(&Triggers::from_engine(&triggers)).unwrap()
        );
    }
}
