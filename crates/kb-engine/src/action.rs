//! Actions: parameter resolution (placeholders and effect-group choices),
//! costs and cost modifiers, requirements, and performing an action at top
//! level or nested (`action:perform`), game-rules §3.11.

use serde_json::Value;

use crate::content::{
    ActionDef, ActionEffect, Bag, BuildingAdd, Effect, EffectGroup, Effects, Op, Params, PerformOp,
};
use crate::error::{EngineError, RequirementFailure};
use crate::exec::{Ctx, Frame, repetitions};
use crate::num::{Num, round_opt};
use crate::result::{ActionOutcome, ActionTrace};
use crate::{Key, num};

/// Looks up an action.
pub(crate) fn find<'c>(ctx: &Ctx<'c>, id: &str) -> Result<&'c ActionDef, EngineError> {
    ctx.content
        .actions()
        .get(id)
        .ok_or_else(|| EngineError::UnknownAction(id.into()))
}

/// The action's effects with `params` substituted and each effect group
/// replaced by the chosen option (as an `action:perform`). With `strict`, a
/// group without a choice is an error; otherwise it is left out (cost
/// queries).
pub(crate) fn resolve(
    action: &ActionDef,
    params: &Params,
    strict: bool,
) -> Result<Vec<Effect>, EngineError> {
    let mut plain = params.clone();
    let choices = plain.remove("choices");
    let mut out = Vec::with_capacity(action.effects.len());
    for entry in &action.effects {
        match entry {
            ActionEffect::Effect(effect) => {
                let list = Effects::new(vec![effect.clone()]).substitute(&plain);
                out.extend(list.iter().cloned());
            }
            ActionEffect::Group(group) => {
                let choice = choices
                    .as_ref()
                    .and_then(|c| c.get(group.id.as_str()))
                    .filter(|c| !c.is_null());
                match choice {
                    Some(choice) => out.push(choose(group, choice, &plain)?),
                    None if strict => {
                        return Err(EngineError::MissingSelection {
                            action: action.id.clone(),
                            group: group.id.clone(),
                        });
                    }
                    None => {}
                }
            }
        }
    }
    Ok(out)
}

fn choose(group: &EffectGroup, choice: &Value, plain: &Params) -> Result<Effect, EngineError> {
    let option_id = choice
        .get("optionId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let option = group
        .options
        .iter()
        .find(|o| o.id == option_id)
        .ok_or_else(|| EngineError::UnknownOption {
            group: group.id.clone(),
            option: option_id.to_owned(),
        })?;
    let mut merged = plain.clone();
    if let Some(extra) = choice.get("params").and_then(Value::as_object) {
        merged.extend(extra.clone());
    }
    let mut params = merged.clone();
    for (key, value) in option.params.iter().flatten() {
        match value.as_str().and_then(|s| s.strip_prefix('$')) {
            Some(name) => {
                if let Some(supplied) = merged.get(name) {
                    params.insert(key.clone(), supplied.clone());
                }
            }
            None => {
                params.insert(key.clone(), value.clone());
            }
        }
    }
    if !params.contains_key("id")
        && let Some(Value::String(dev)) = params.get("developmentId").cloned()
    {
        params.insert("id".into(), Value::String(dev));
    }
    params.insert(
        "actionId".into(),
        Value::String(option.action_id.to_string()),
    );
    params.insert(
        "__actionId".into(),
        Value::String(option.action_id.to_string()),
    );
    Ok(Effect::leaf("action", "perform", params))
}

/// The costs of performing `action` with its resolved effects, for the
/// actor: base costs, building costs, the default AP, then cost modifiers
/// (flat changes first, then percentages, game-rules §3.9.1).
pub(crate) fn costs(
    ctx: &Ctx<'_>,
    action: &ActionDef,
    resolved: &[Effect],
) -> Result<Bag, EngineError> {
    let mut bag = action.base_costs.clone().unwrap_or_default();
    for effect in resolved {
        if let Op::BuildingAdd(BuildingAdd { id }) = effect.op() {
            let building = ctx
                .content
                .buildings()
                .get(id)
                .ok_or_else(|| EngineError::UnknownBuilding(id.clone()))?;
            for (key, cost) in building.costs.iter() {
                let current = bag.value(key);
                bag.set(key, current + cost.0);
            }
        }
    }
    let ap = ctx.content.action_cost_resource();
    if !ap.is_empty() && !bag.contains_key(ap) {
        let default = if action.system {
            0.0
        } else {
            ctx.content.rules().default_action_ap_cost
        };
        bag.set(ap, default);
    }
    let mut percents: Vec<(Key, f64, Option<num::Rounding>)> = Vec::new();
    for modifier in &ctx.state.cost_modifiers {
        if modifier.owner != ctx.actor {
            continue;
        }
        if modifier
            .action_id
            .as_ref()
            .is_some_and(|id| *id != action.id)
        {
            continue;
        }
        if let Some(amount) = modifier.amount {
            let current = bag.value(&modifier.key);
            bag.set(&modifier.key, current + amount);
        }
        if let Some(percent) = modifier.percent {
            match percents.iter_mut().find(|(k, _, _)| *k == modifier.key) {
                Some((_, total, round)) => {
                    *total += percent;
                    if modifier.round.is_some() {
                        *round = modifier.round;
                    }
                }
                None => percents.push((modifier.key.clone(), percent, modifier.round)),
            }
        }
    }
    for (key, percent, round) in percents {
        let current = bag.value(&key);
        let delta = round_opt(current * percent, round);
        bag.set(&key, current + delta);
    }
    Ok(bag)
}

/// The failing requirements of `action` for the actor (empty when all hold).
pub(crate) fn failing_requirements(
    ctx: &Ctx<'_>,
    action: &ActionDef,
) -> Result<Vec<RequirementFailure>, EngineError> {
    let mut failures = Vec::new();
    for requirement in &action.requirements {
        if let Some(failure) = ctx.check_requirement(requirement)? {
            failures.push(failure);
        }
    }
    Ok(failures)
}

/// Performs `action_id` for the actor: the whole of game-rules §3.11.3,
/// with the engine's own checks (an action phase, an unlocked action).
/// Runs on a scratch state; the caller discards it on error.
pub(crate) fn perform(
    ctx: &mut Ctx<'_>,
    action_id: &str,
    params: &Params,
) -> Result<ActionOutcome, EngineError> {
    let action = find_performable(ctx, action_id)?;
    check(ctx, action, params)
        .and_then(|checked| execute(ctx, checked))
        .map_err(|error| name_missing_parameter(action, params, error))
}

/// An action that passed every check that does not change the state, with
/// its resolved effects and costs: what remains of performing it is
/// [`execute`].
pub(crate) struct Checked<'c> {
    action: &'c ActionDef,
    resolved: Vec<Effect>,
    costs: Bag,
}

/// Whether `action_id` would pass the checks of [`perform`] that read the
/// state without changing it (the game going on, an action phase, the
/// action unlocked, its requirements, its parameters and choices, nothing
/// built twice, the costs affordable). `Ok` means only running its effects
/// can still refuse it.
pub(crate) fn check_performable<'c>(
    ctx: &Ctx<'c>,
    action_id: &str,
    params: &Params,
) -> Result<Checked<'c>, EngineError> {
    let action = find_performable(ctx, action_id)?;
    check(ctx, action, params)
}

fn find_performable<'c>(ctx: &Ctx<'c>, action_id: &str) -> Result<&'c ActionDef, EngineError> {
    if ctx.state.conclusion.is_some() {
        return Err(EngineError::GameConcluded);
    }
    let phase = &ctx.content.phases()[ctx.state.phase_index];
    if !phase.action {
        return Err(EngineError::NotActionPhase {
            phase: phase.id.clone(),
        });
    }
    find(ctx, action_id)
}

fn check<'c>(
    ctx: &Ctx<'c>,
    action: &'c ActionDef,
    params: &Params,
) -> Result<Checked<'c>, EngineError> {
    let action_id = action.id.as_str();
    if action.system && !ctx.actor_state().actions.iter().any(|a| a == action_id) {
        return Err(EngineError::ActionLocked(action.id.clone()));
    }
    for requirement in &action.requirements {
        if let Some(failure) = ctx.check_requirement(requirement)? {
            return Err(EngineError::RequirementNotMet(Box::new(failure)));
        }
    }
    let resolved = resolve(action, params, true)?;
    for effect in &resolved {
        if let Op::BuildingAdd(BuildingAdd { id }) = effect.op()
            && ctx.actor_state().buildings.iter().any(|b| b == id)
        {
            return Err(EngineError::AlreadyBuilt(id.clone()));
        }
    }
    let costs = costs(ctx, action, &resolved)?;
    let player = ctx.actor;
    for (key, need) in costs.iter() {
        let have = ctx.player(player).resources.value(key);
        if have < need.0 {
            return Err(EngineError::Insufficient {
                key: key.clone(),
                need: need.0,
                have,
            });
        }
    }
    Ok(Checked {
        action,
        resolved,
        costs,
    })
}

/// Pays for a [`Checked`] action and runs its effects (on the state it was
/// checked against: nothing may change in between).
pub(crate) fn execute(
    ctx: &mut Ctx<'_>,
    checked: Checked<'_>,
) -> Result<ActionOutcome, EngineError> {
    let Checked {
        action,
        resolved,
        costs,
    } = checked;
    let player = ctx.actor;
    for (key, need) in costs.iter() {
        if need.0 != 0.0 {
            let have = ctx.player(player).resources.value(key);
            ctx.set_resource(player, key, have - need.0)?;
        }
    }
    ctx.traces.clear();
    ctx.action_depth += 1;
    let result = ctx.in_frame(Frame::Action(action.id.clone()), |ctx| {
        ctx.run_effects(&resolved, 1.0)?;
        ctx.run_result_modifiers(&action.id)
    });
    ctx.action_depth -= 1;
    result?;
    Ok(ActionOutcome {
        action_id: action.id.clone(),
        costs,
        traces: std::mem::take(&mut ctx.traces),
        attack_logs: std::mem::take(&mut ctx.logs),
    })
}

/// An effect that lacks a parameter because the caller did not give the
/// action parameter it is bound to (`"id": "$id"`) is the caller's mistake,
/// not the content's: the error names the action parameter.
fn name_missing_parameter(action: &ActionDef, params: &Params, error: EngineError) -> EngineError {
    let EngineError::InvalidEffect { handler, message } = &error else {
        return error;
    };
    let Some(key) = message
        .strip_prefix("missing `")
        .and_then(|m| m.strip_suffix('`'))
    else {
        return error;
    };
    let effects = action.effects.iter().filter_map(|entry| match entry {
        ActionEffect::Effect(effect) => Some(effect),
        ActionEffect::Group(_) => None,
    });
    match unbound(effects, handler, key, params) {
        Some(parameter) => EngineError::MissingParameter {
            action: action.id.clone(),
            parameter,
        },
        None => error,
    }
}

/// The name of the placeholder that `key` of a `handler` effect is bound to,
/// when the action's parameters do not supply it.
fn unbound<'e>(
    effects: impl Iterator<Item = &'e Effect>,
    handler: &str,
    key: &str,
    params: &Params,
) -> Option<String> {
    for effect in effects {
        let matches = effect
            .handler()
            .is_some_and(|(kind, method)| format!("{kind}:{method}") == handler);
        if matches
            && let Some(name) = effect
                .param(key)
                .and_then(Value::as_str)
                .and_then(|v| v.strip_prefix('$'))
            && !params.contains_key(name)
        {
            return Some(name.to_owned());
        }
        if let Some(found) = effect
            .effects
            .as_ref()
            .and_then(|nested| unbound(nested.iter(), handler, key, params))
        {
            return Some(found);
        }
    }
    None
}

/// `action:perform`: runs another action's effects without its costs,
/// requirements or lock, tracing the actor before and after.
pub(crate) fn perform_nested(
    ctx: &mut Ctx<'_>,
    op: &PerformOp,
    mult: f64,
) -> Result<(), EngineError> {
    let target = op
        .ids
        .iter()
        .find(|id| ctx.content.actions().contains(id))
        .or(op.ids.first())
        .ok_or_else(|| EngineError::invalid("action:perform", "missing action id"))?;
    let action = find(ctx, target)?;
    let forwarded = &op.forwarded;
    let repeat = repetitions("action:perform", mult)?;
    for _ in 0..repeat {
        let before = ctx.trace_of(ctx.actor);
        let resolved = resolve(action, forwarded, true)?;
        ctx.action_depth += 1;
        let result = ctx.in_frame(Frame::Action(action.id.clone()), |ctx| {
            ctx.run_effects(&resolved, 1.0)?;
            ctx.run_result_modifiers(&action.id)
        });
        ctx.action_depth -= 1;
        result?;
        let after = ctx.trace_of(ctx.actor);
        ctx.traces.push(ActionTrace {
            id: action.id.clone(),
            before,
            after,
        });
    }
    Ok(())
}

/// Costs with numbers only, for queries.
pub(crate) fn cost_query(
    ctx: &Ctx<'_>,
    action_id: &str,
    params: &Params,
) -> Result<Bag, EngineError> {
    let action = find(ctx, action_id)?;
    let resolved = resolve(action, params, false)?;
    let bag = costs(ctx, action, &resolved)?;
    Ok(bag
        .iter()
        .filter(|(_, v)| v.0.is_finite())
        .map(|(k, v)| (k.clone(), Num(v.0)))
        .collect())
}
