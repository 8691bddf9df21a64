//! The run dispatch: [`run`], an exhaustive `match` on [`Op`] expanded
//! from the table of effect kinds (`content/kinds.rs`), so every kind runs
//! exactly the `run` block its entry gives. Handed to every [`Ctx`] as its
//! runner, which keeps the context's machinery (`exec.rs`) below the code
//! of the kinds.
//!
//! Below the dispatch: the helpers several kinds (and the game's setup)
//! share, placing a development, assigning a population member, counted
//! modifier registrations.

use std::sync::Arc;

use serde_json::Value;

use crate::content::{Effect, Op, Params, ResultModKind, Triggers, effect_kinds};
use crate::error::EngineError;
use crate::exec::{Ctx, GainMode, development_vars, repetitions};
use crate::num::{Num, Rounding, round_away, round_opt, round_toward};
use crate::player::PlayerId;
use crate::state::{
    AddPctEntry, CostModifier, EvaluationModifier, Gain, Land, PassiveRecord, ResultModifier,
};
use crate::{Key, action, attack};

/// Expands the table of `content/kinds.rs` into the run dispatch: each
/// kind's `run` block, with the entry's names bound to the context, the
/// kind's parameters, the effect as written and the multiplier.
macro_rules! define_run {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident($payload:ty) = $name:ident {
            $( $(#[doc = $fdoc:literal])* $field:ident: $fty:ty, )*
        }
        names [$( ($kind:literal, $method:literal) => $reversal:literal ),+ $(,)?]
        parse($r:ident, $def:ident, $m:ident) $parse:block
        run($ctx:ident, $op:ident, $effect:ident, $mult:ident) $run:block
        refers($rop:ident) $refers:block
    )*) => {
        /// Runs one compiled effect for the actor: the one dispatch, an
        /// exhaustive `match` on [`Op`].
        pub(crate) fn run(
            ctx: &mut Ctx<'_>,
            effect: &Effect,
            mult: f64,
        ) -> Result<(), EngineError> {
            match effect.op() {
                Op::Nothing | Op::Incomplete => Ok(()),
                Op::Unknown(handler) => {
                    Err(EngineError::invalid(handler, "unknown effect handler"))
                }
                Op::Invalid(refusal) => Err(EngineError::invalid(refusal.0, refusal.1.clone())),
                Op::Group(group) => ctx.run_group(group, effect.effects.as_ref(), mult),
                $(
                    Op::$variant(kind) => {
                        let $op: &crate::content::$name = kind;
                        let ($ctx, $effect, $mult) = (&mut *ctx, effect, mult);
                        let _ = (&$op, &$effect, $mult);
                        $run
                    }
                )*
            }
        }
    };
}

effect_kinds!(define_run);

// ----- developments ----------------------------------------------------------

/// Places development `id` on the actor's land `land_id` and runs its
/// `onBuild` as a passive `<id>_<landId>`.
pub(crate) fn place_development(
    ctx: &mut Ctx<'_>,
    id: &str,
    land_id: &str,
    use_slot: bool,
) -> Result<(), EngineError> {
    let player = ctx.actor;
    let land = ctx
        .player_mut(player)
        .lands
        .iter_mut()
        .find(|l| l.id == land_id)
        .ok_or_else(|| EngineError::LandNotFound(land_id.into()))?;
    if use_slot {
        if !land.has_free_slot() {
            return Err(EngineError::NoFreeSlot(land.id.clone()));
        }
        land.slots_used += 1;
    }
    land.developments.push(id.into());
    let development = ctx
        .content
        .developments()
        .get(id)
        .ok_or_else(|| EngineError::UnknownDevelopment(id.into()))?;
    if let Some(on_build) = development.triggers.get("onBuild") {
        let vars = development_vars(id, land_id);
        let def = ctx.content.def().developments.iter().find(|d| d.id == id);
        ctx.add_passive(PassiveRecord {
            id: format!("{id}_{land_id}").into(),
            owner: player,
            name: def.map(|d| d.name.clone()).filter(|n| !n.is_empty()),
            icon: def
                .and_then(|d| d.rest.get("icon"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            detail: None,
            meta: Some(std::sync::Arc::new(
                serde_json::json!({"source": {"type": "development", "id": id, "landId": land_id}}),
            )),
            effects: on_build.substitute(&vars),
            triggers: Triggers::new(),
            skip: None,
        })?;
    }
    Ok(())
}

// ----- modifiers ---------------------------------------------------------------

/// A modifier registry entry: registrations are counted per id.
trait Registered {
    fn id(&self) -> &Key;
    fn count_mut(&mut self) -> &mut u32;
}

macro_rules! registered {
    ($($t:ty),*) => {$(
        impl Registered for $t {
            fn id(&self) -> &Key {
                &self.id
            }
            fn count_mut(&mut self) -> &mut u32 {
                &mut self.count
            }
        }
    )*};
}

registered!(CostModifier, ResultModifier, EvaluationModifier);

/// Registers (`add`) or unregisters a modifier. Registrations are counted: a
/// modifier added by two passive instances stays until both are removed
/// (PRODUCT.md Q6/Q7: one passive per instance); a new registration replaces
/// the parameters and keeps the position.
fn register<T: Registered>(list: &mut Vec<T>, add: bool, modifier: T) {
    match list.iter().position(|m| m.id() == modifier.id()) {
        Some(pos) if add => {
            let count = *list[pos].count_mut();
            list[pos] = modifier;
            *list[pos].count_mut() = count.saturating_add(1);
        }
        Some(pos) => {
            let count = list[pos].count_mut();
            *count = count.saturating_sub(1);
            if *count == 0 {
                list.remove(pos);
            }
        }
        None if add => list.push(modifier),
        None => {}
    }
}

// ----- population --------------------------------------------------------------

fn population_vars(player: PlayerId, role: &str, index: u32) -> Params {
    let mut vars = Params::new();
    vars.insert("index".into(), Value::from(index));
    vars.insert("player".into(), Value::String(player.as_str().into()));
    vars.insert("role".into(), Value::String(role.into()));
    vars
}

fn check_role(ctx: &Ctx<'_>, role: &str) -> Result<(), EngineError> {
    if !ctx.content.populations().contains(role) {
        return Err(EngineError::UnknownRole(role.into()));
    }
    Ok(())
}

/// Adds one member of `role` to the actor and runs `onAssigned`.
pub(crate) fn assign_member(ctx: &mut Ctx<'_>, role: &str) -> Result<(), EngineError> {
    let player = ctx.actor;
    let count = ctx
        .player_mut(player)
        .population
        .entry_or_insert_with(role, || 0);
    *count = count
        .checked_add(1)
        .ok_or_else(|| EngineError::OutOfRange(role.into()))?;
    let index = *count;
    let hook = ctx
        .content
        .populations()
        .get(role)
        .and_then(|p| p.triggers.get("onAssigned"))
        .cloned();
    if let Some(hook) = hook {
        let list = hook.substitute(&population_vars(player, role, index));
        ctx.run_effects(list.as_slice(), 1.0)?;
    }
    Ok(())
}

/// Removes one member of `role` from the actor, then runs `onUnassigned`
/// for it (`$index` is the member's number, the count before removal).
///
/// The count goes down before the hook runs, so a hook that removes members
/// of the same role finds the count already lowered and can never take it
/// below zero (the reference decremented after the hook: content could
/// make the count underflow).
fn unassign_member(ctx: &mut Ctx<'_>, role: &str) -> Result<bool, EngineError> {
    let player = ctx.actor;
    let Some(count) = ctx
        .player_mut(player)
        .population
        .get_mut(role)
        .filter(|count| **count > 0)
    else {
        return Ok(false);
    };
    let index = *count;
    *count = index
        .checked_sub(1)
        .ok_or_else(|| EngineError::OutOfRange(role.into()))?;
    let hook = ctx
        .content
        .populations()
        .get(role)
        .and_then(|p| p.triggers.get("onUnassigned"))
        .cloned();
    if let Some(hook) = hook {
        let list = hook.substitute(&population_vars(player, role, index));
        ctx.run_effects(list.as_slice(), 1.0)?;
    }
    Ok(true)
}
