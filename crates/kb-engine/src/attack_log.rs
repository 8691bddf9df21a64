//! The record of an attack (an `attack:perform` effect's log entry): how
//! its damage was computed and what its on-damage effects changed. Both
//! results (`result`) and snapshots (`snapshot`, the last attacks) carry
//! it, so it sits below them.

use crate::Key;
use crate::content::Effect;
use crate::num::Num;

/// The record of one attack (`"attack:perform"` effect log entry).
#[derive(Clone, Debug, PartialEq)]
pub struct AttackLog {
    /// How damage was computed.
    pub evaluation: AttackEvaluation,
    /// On-damage effects with their diffs.
    pub on_damage: Vec<OnDamageEntry>,
}

/// The damage computation of an attack.
#[derive(Clone, Debug, PartialEq)]
pub struct AttackEvaluation {
    /// Attack power.
    pub power: PowerLog,
    /// Absorption step.
    pub absorption: AbsorptionLog,
    /// Fortification step.
    pub fortification: FortificationLog,
    /// Effect on the target.
    pub target: TargetLog,
}

/// Attack power before and after modifiers.
#[derive(Clone, Debug, PartialEq)]
pub struct PowerLog {
    /// The attacker's army strength.
    pub base: Num,
    /// After evaluation modifiers.
    pub modified: Num,
}

/// The absorption step.
#[derive(Clone, Debug, PartialEq)]
pub struct AbsorptionLog {
    /// Whether absorption was ignored.
    pub ignored: bool,
    /// The (capped) absorption.
    pub before: Num,
    /// Damage after absorption.
    pub damage_after: Num,
}

/// The fortification step.
#[derive(Clone, Debug, PartialEq)]
pub struct FortificationLog {
    /// Whether fortification was ignored.
    pub ignored: bool,
    /// Fortification before.
    pub before: Num,
    /// Damage soaked.
    pub damage: Num,
    /// Fortification after.
    pub after: Num,
}

/// Effect on the attack's target.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetLog {
    /// A resource or stat target.
    Value {
        /// `resource` or `stat`.
        kind: Key,
        /// Key.
        key: Key,
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
        kind: Key,
        /// Building id.
        id: Key,
        /// Whether the defender owned it.
        existed: bool,
        /// Whether it was destroyed.
        destroyed: bool,
        /// Damage dealt.
        damage: Num,
    },
}

/// One on-damage effect and what it changed.
#[derive(Clone, Debug, PartialEq)]
pub struct OnDamageEntry {
    /// `attacker` or `defender`: whose list it came from.
    pub owner: Key,
    /// The effect.
    pub effect: Effect,
    /// Attacker values that changed.
    pub attacker: Vec<DiffItem>,
    /// Defender values that changed.
    pub defender: Vec<DiffItem>,
}

/// A value that changed.
#[derive(Clone, Debug, PartialEq)]
pub struct DiffItem {
    /// `resource` or `stat`.
    pub kind: Key,
    /// Key.
    pub key: Key,
    /// Before.
    pub before: Num,
    /// After.
    pub after: Num,
}
