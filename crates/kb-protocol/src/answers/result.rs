//! The wire shapes of command results: action traces, attack logs, advance
//! results, AI turns, simulations and requirement failures.

use kb_engine::content::Bag;

use crate::schema::{EffectView, RequirementDef};
use kb_engine::{
    AbsorptionLog, ActionOutcome, ActionTrace, AdvanceResult, AiAction, AiTurnOutcome,
    AttackEvaluation, AttackLog, CompareDetails, DiffItem, FortificationLog, Key, LandTrace, Num,
    OnDamageEntry, Outcome, PlayerId, PlayerTrace, PowerLog, RequirementFailure, SimulationDelta,
    SimulationResult, SkipInfo, SkipSource, TargetLog,
};
use serde::Serialize;
use serde_json::Value;

use super::{PassiveSummaryAnswer, PlayerAnswer, answers};

/// The part of a player captured before and after a nested action.
#[derive(Clone, Debug, Serialize)]
pub struct PlayerTraceAnswer<'a> {
    /// Resources.
    pub resources: &'a Bag,
    /// Stats.
    pub stats: &'a Bag,
    /// Buildings.
    pub buildings: &'a [Key],
    /// Lands.
    pub lands: Vec<LandTraceAnswer<'a>>,
    /// Passives (summaries).
    pub passives: Vec<PassiveSummaryAnswer<'a>>,
}

impl<'a> From<&'a PlayerTrace> for PlayerTraceAnswer<'a> {
    fn from(p: &'a PlayerTrace) -> Self {
        PlayerTraceAnswer {
            resources: &p.resources,
            stats: &p.stats,
            buildings: &p.buildings,
            lands: p.lands.iter().map(LandTraceAnswer::from).collect(),
            passives: p.passives.iter().map(PassiveSummaryAnswer::from).collect(),
        }
    }
}

/// A land in a trace.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LandTraceAnswer<'a> {
    /// Land id.
    pub id: &'a str,
    /// Capacity.
    pub slots_max: u32,
    /// Used slots.
    pub slots_used: u32,
    /// Developments.
    pub developments: &'a [Key],
}

impl<'a> From<&'a LandTrace> for LandTraceAnswer<'a> {
    fn from(l: &'a LandTrace) -> Self {
        LandTraceAnswer {
            id: &l.id,
            slots_max: l.slots_max,
            slots_used: l.slots_used,
            developments: &l.developments,
        }
    }
}

/// One nested action performed during an action.
#[derive(Clone, Debug, Serialize)]
pub struct ActionTraceAnswer<'a> {
    /// The nested action id.
    pub id: &'a str,
    /// The actor before it.
    pub before: PlayerTraceAnswer<'a>,
    /// The actor after it.
    pub after: PlayerTraceAnswer<'a>,
}

impl<'a> From<&'a ActionTrace> for ActionTraceAnswer<'a> {
    fn from(t: &'a ActionTrace) -> Self {
        ActionTraceAnswer {
            id: &t.id,
            before: PlayerTraceAnswer::from(&t.before),
            after: PlayerTraceAnswer::from(&t.after),
        }
    }
}

fn traces(traces: &[ActionTrace]) -> Vec<ActionTraceAnswer<'_>> {
    traces.iter().map(ActionTraceAnswer::from).collect()
}

fn attack_logs(logs: &[AttackLog]) -> Vec<AttackLogAnswer<'_>> {
    logs.iter().map(AttackLogAnswer::from).collect()
}

/// What a successful action did.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionAnswer<'a> {
    /// The action performed.
    pub action_id: &'a str,
    /// What it cost.
    pub costs: &'a Bag,
    /// Nested actions, in order.
    pub traces: Vec<ActionTraceAnswer<'a>>,
    /// Attack logs produced, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attack_logs: Vec<AttackLogAnswer<'a>>,
}

impl<'a> From<&'a ActionOutcome> for ActionAnswer<'a> {
    fn from(o: &'a ActionOutcome) -> Self {
        ActionAnswer {
            action_id: &o.action_id,
            costs: &o.costs,
            traces: traces(&o.traces),
            attack_logs: attack_logs(&o.attack_logs),
        }
    }
}

/// What one `advance` did.
#[derive(Clone, Debug, Serialize)]
pub struct AdvanceAnswer<'a> {
    /// The phase the step belonged to.
    pub phase: &'a str,
    /// The step executed (or skipped).
    pub step: &'a str,
    /// Every effect run, in order, after substitution (in the content
    /// schema).
    pub effects: Vec<EffectView<'a>>,
    /// The acting player after the step.
    pub player: PlayerAnswer<'a>,
    /// Present when the step or its phase was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<SkipAnswer<'a>>,
}

impl<'a> From<&'a AdvanceResult> for AdvanceAnswer<'a> {
    fn from(r: &'a AdvanceResult) -> Self {
        AdvanceAnswer {
            phase: &r.phase,
            step: &r.step,
            effects: r.effects.iter().map(EffectView).collect(),
            player: PlayerAnswer::from(&*r.player),
            skipped: r.skipped.as_ref().map(SkipAnswer::from),
        }
    }
}

/// Why a step was skipped.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkipAnswer<'a> {
    /// `phase` or `step`.
    #[serde(rename = "type")]
    pub kind: &'a str,
    /// The phase.
    pub phase_id: &'a str,
    /// The step (step skips only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_id: Option<&'a str>,
    /// The passives causing it.
    pub sources: Vec<SkipSourceAnswer<'a>>,
}

impl<'a> From<&'a SkipInfo> for SkipAnswer<'a> {
    fn from(s: &'a SkipInfo) -> Self {
        SkipAnswer {
            kind: &s.kind,
            phase_id: &s.phase_id,
            step_id: s.step_id.as_deref(),
            sources: s.sources.iter().map(SkipSourceAnswer::from).collect(),
        }
    }
}

/// A passive causing a skip.
#[derive(Clone, Debug, Serialize)]
pub struct SkipSourceAnswer<'a> {
    /// Passive id.
    pub id: &'a str,
    /// Its detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'a str>,
    /// Its metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<&'a Value>,
}

impl<'a> From<&'a SkipSource> for SkipSourceAnswer<'a> {
    fn from(s: &'a SkipSource) -> Self {
        SkipSourceAnswer {
            id: &s.id,
            detail: s.detail.as_deref(),
            meta: s.meta.as_deref(),
        }
    }
}

/// One action the AI performed: written as any action's answer.
pub type AiActionAnswer<'a> = ActionAnswer<'a>;

impl<'a> From<&'a AiAction> for ActionAnswer<'a> {
    fn from(a: &'a AiAction) -> Self {
        ActionAnswer {
            action_id: &a.action_id,
            costs: &a.costs,
            traces: traces(&a.traces),
            attack_logs: attack_logs(&a.attack_logs),
        }
    }
}

/// What an AI turn did.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AiTurnAnswer<'a> {
    /// The seat played.
    pub player_id: PlayerId,
    /// False when it was not that seat's turn.
    pub ran_turn: bool,
    /// Actions performed, in order.
    pub actions: Vec<AiActionAnswer<'a>>,
    /// Steps advanced, in order.
    pub advances: Vec<AdvanceAnswer<'a>>,
    /// Whether the AI finished its turn.
    pub phase_complete: bool,
}

impl<'a> From<&'a AiTurnOutcome> for AiTurnAnswer<'a> {
    fn from(t: &'a AiTurnOutcome) -> Self {
        AiTurnAnswer {
            player_id: t.player_id,
            ran_turn: t.ran_turn,
            actions: t.actions.iter().map(AiActionAnswer::from).collect(),
            advances: t.advances.iter().map(AdvanceAnswer::from).collect(),
            phase_complete: t.phase_complete,
        }
    }
}

/// What a successful command did, tagged by `type`.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum OutcomeAnswer<'a> {
    /// An advance.
    Advance(Box<AdvanceAnswer<'a>>),
    /// An action.
    Action(ActionAnswer<'a>),
    /// An AI turn.
    AiTurn(AiTurnAnswer<'a>),
    /// A dev-mode change.
    DevMode,
    /// A name change.
    PlayerName,
}

impl<'a> From<&'a Outcome> for OutcomeAnswer<'a> {
    fn from(o: &'a Outcome) -> Self {
        match o {
            Outcome::Advance(r) => OutcomeAnswer::Advance(Box::new(r.into())),
            Outcome::Action(a) => OutcomeAnswer::Action(a.into()),
            Outcome::AiTurn(t) => OutcomeAnswer::AiTurn(t.into()),
            Outcome::DevMode => OutcomeAnswer::DevMode,
            Outcome::PlayerName => OutcomeAnswer::PlayerName,
        }
    }
}

/// The record of one attack (an `attack:perform` effect log entry).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttackLogAnswer<'a> {
    /// How damage was computed.
    pub evaluation: AttackEvaluationAnswer<'a>,
    /// On-damage effects with their diffs.
    pub on_damage: Vec<OnDamageAnswer<'a>>,
}

impl<'a> From<&'a AttackLog> for AttackLogAnswer<'a> {
    fn from(l: &'a AttackLog) -> Self {
        AttackLogAnswer {
            evaluation: AttackEvaluationAnswer::from(&l.evaluation),
            on_damage: l.on_damage.iter().map(OnDamageAnswer::from).collect(),
        }
    }
}

/// The damage computation of an attack.
#[derive(Clone, Debug, Serialize)]
pub struct AttackEvaluationAnswer<'a> {
    /// Attack power.
    pub power: PowerAnswer,
    /// Absorption step.
    pub absorption: AbsorptionAnswer,
    /// Fortification step.
    pub fortification: FortificationAnswer,
    /// Effect on the target.
    pub target: TargetAnswer<'a>,
}

impl<'a> From<&'a AttackEvaluation> for AttackEvaluationAnswer<'a> {
    fn from(e: &'a AttackEvaluation) -> Self {
        AttackEvaluationAnswer {
            power: PowerAnswer::from(&e.power),
            absorption: AbsorptionAnswer::from(&e.absorption),
            fortification: FortificationAnswer::from(&e.fortification),
            target: TargetAnswer::from(&e.target),
        }
    }
}

/// Attack power before and after modifiers.
#[derive(Clone, Debug, Serialize)]
pub struct PowerAnswer {
    /// The attacker's army strength.
    pub base: Num,
    /// After evaluation modifiers.
    pub modified: Num,
}

impl From<&PowerLog> for PowerAnswer {
    fn from(p: &PowerLog) -> Self {
        PowerAnswer {
            base: p.base,
            modified: p.modified,
        }
    }
}

/// The absorption step.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AbsorptionAnswer {
    /// Whether absorption was ignored.
    pub ignored: bool,
    /// The (capped) absorption.
    pub before: Num,
    /// Damage after absorption.
    pub damage_after: Num,
}

impl From<&AbsorptionLog> for AbsorptionAnswer {
    fn from(a: &AbsorptionLog) -> Self {
        AbsorptionAnswer {
            ignored: a.ignored,
            before: a.before,
            damage_after: a.damage_after,
        }
    }
}

/// The fortification step.
#[derive(Clone, Debug, Serialize)]
pub struct FortificationAnswer {
    /// Whether fortification was ignored.
    pub ignored: bool,
    /// Fortification before.
    pub before: Num,
    /// Damage soaked.
    pub damage: Num,
    /// Fortification after.
    pub after: Num,
}

impl From<&FortificationLog> for FortificationAnswer {
    fn from(f: &FortificationLog) -> Self {
        FortificationAnswer {
            ignored: f.ignored,
            before: f.before,
            damage: f.damage,
            after: f.after,
        }
    }
}

/// Effect on the attack's target.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum TargetAnswer<'a> {
    /// A resource or stat target.
    Value {
        /// `resource` or `stat`.
        #[serde(rename = "type")]
        kind: &'a str,
        /// Key.
        key: &'a str,
        /// Value before.
        before: Num,
        /// Damage dealt.
        damage: Num,
        /// Value after.
        after: Num,
    },
    /// A building target.
    Building {
        /// `building`.
        #[serde(rename = "type")]
        kind: &'a str,
        /// Building id.
        id: &'a str,
        /// Whether the defender owned it.
        existed: bool,
        /// Whether it was destroyed.
        destroyed: bool,
        /// Damage dealt.
        damage: Num,
    },
}

impl<'a> From<&'a TargetLog> for TargetAnswer<'a> {
    fn from(t: &'a TargetLog) -> Self {
        match t {
            TargetLog::Value {
                kind,
                key,
                before,
                damage,
                after,
            } => TargetAnswer::Value {
                kind,
                key,
                before: *before,
                damage: *damage,
                after: *after,
            },
            TargetLog::Building {
                kind,
                id,
                existed,
                destroyed,
                damage,
            } => TargetAnswer::Building {
                kind,
                id,
                existed: *existed,
                destroyed: *destroyed,
                damage: *damage,
            },
        }
    }
}

/// One on-damage effect and what it changed.
#[derive(Clone, Debug, Serialize)]
pub struct OnDamageAnswer<'a> {
    /// `attacker` or `defender`: whose list it came from.
    pub owner: &'a str,
    /// The effect (in the content schema).
    pub effect: EffectView<'a>,
    /// Attacker values that changed.
    pub attacker: Vec<DiffItemAnswer<'a>>,
    /// Defender values that changed.
    pub defender: Vec<DiffItemAnswer<'a>>,
}

impl<'a> From<&'a OnDamageEntry> for OnDamageAnswer<'a> {
    fn from(e: &'a OnDamageEntry) -> Self {
        OnDamageAnswer {
            owner: &e.owner,
            effect: EffectView(&e.effect),
            attacker: e.attacker.iter().map(DiffItemAnswer::from).collect(),
            defender: e.defender.iter().map(DiffItemAnswer::from).collect(),
        }
    }
}

/// A value that changed.
#[derive(Clone, Debug, Serialize)]
pub struct DiffItemAnswer<'a> {
    /// `resource` or `stat`.
    #[serde(rename = "type")]
    pub kind: &'a str,
    /// Key.
    pub key: &'a str,
    /// Before.
    pub before: Num,
    /// After.
    pub after: Num,
}

impl<'a> From<&'a DiffItem> for DiffItemAnswer<'a> {
    fn from(d: &'a DiffItem) -> Self {
        DiffItemAnswer {
            kind: &d.kind,
            key: &d.key,
            before: d.before,
            after: d.after,
        }
    }
}

/// The result of a simulation.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimulationAnswer<'a> {
    /// The player simulated.
    pub player_id: PlayerId,
    /// The player before.
    pub before: PlayerAnswer<'a>,
    /// The player after.
    pub after: PlayerAnswer<'a>,
    /// Non-zero differences.
    pub delta: SimulationDeltaAnswer<'a>,
    /// Every advance simulated.
    pub steps: Vec<AdvanceAnswer<'a>>,
}

impl<'a> From<&'a SimulationResult> for SimulationAnswer<'a> {
    fn from(r: &'a SimulationResult) -> Self {
        SimulationAnswer {
            player_id: r.player_id,
            before: PlayerAnswer::from(&r.before),
            after: PlayerAnswer::from(&r.after),
            delta: SimulationDeltaAnswer::from(&r.delta),
            steps: r.steps.iter().map(AdvanceAnswer::from).collect(),
        }
    }
}

/// Differences between two player snapshots.
#[derive(Clone, Debug, Serialize)]
pub struct SimulationDeltaAnswer<'a> {
    /// Resources.
    pub resources: &'a Bag,
    /// Stats.
    pub stats: &'a Bag,
    /// Population.
    pub population: &'a Bag,
}

impl<'a> From<&'a SimulationDelta> for SimulationDeltaAnswer<'a> {
    fn from(d: &'a SimulationDelta) -> Self {
        SimulationDeltaAnswer {
            resources: &d.resources,
            stats: &d.stats,
            population: &d.population,
        }
    }
}

/// A requirement that did not hold, with the values it compared.
#[derive(Clone, Debug, Serialize)]
pub struct RequirementFailureAnswer<'a> {
    /// The requirement definition (in the content schema).
    pub requirement: RequirementDef,
    /// The compared values.
    pub details: CompareDetailsAnswer,
    /// The requirement's own message, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
}

impl<'a> From<&'a RequirementFailure> for RequirementFailureAnswer<'a> {
    fn from(f: &'a RequirementFailure) -> Self {
        RequirementFailureAnswer {
            requirement: RequirementDef::from(&f.requirement),
            details: CompareDetailsAnswer::from(&f.details),
            message: f.message.as_deref(),
        }
    }
}

/// The two sides of a failed comparison.
#[derive(Clone, Debug, Serialize)]
pub struct CompareDetailsAnswer {
    /// Left value.
    pub left: Num,
    /// Right value.
    pub right: Num,
}

impl From<&CompareDetails> for CompareDetailsAnswer {
    fn from(d: &CompareDetails) -> Self {
        CompareDetailsAnswer {
            left: d.left,
            right: d.right,
        }
    }
}

answers! {
    PlayerTrace => PlayerTraceAnswer,
    ActionTrace => ActionTraceAnswer,
    ActionOutcome => ActionAnswer,
    AdvanceResult => AdvanceAnswer,
    SkipInfo => SkipAnswer,
    AiAction => AiActionAnswer,
    AiTurnOutcome => AiTurnAnswer,
    Outcome => OutcomeAnswer,
    AttackLog => AttackLogAnswer,
    SimulationResult => SimulationAnswer,
    RequirementFailure => RequirementFailureAnswer,
}
