//! The effect handlers: the execution of every compiled effect ([`Op`]),
//! dispatched by [`run`] with one exhaustive `match`. Every handler acts
//! for the context's actor.

use serde_json::Value;

use crate::content::{
    CostModOp, Effect, Effects, Op, Params, PassiveOp, ResultModKind, ResultModOp, Triggers,
};
use crate::error::EngineError;
use crate::exec::{Ctx, GainMode, development_vars, repetitions};
use crate::num::{Rounding, round_opt, round_toward};
use crate::player::PlayerId;
use crate::state::{CostModifier, EvaluationModifier, Gain, Land, PassiveRecord, ResultModifier};
use crate::{Key, action, attack};

/// Runs one compiled effect for the actor: the one dispatch, an exhaustive
/// `match` on [`Op`].
pub(crate) fn run(ctx: &mut Ctx<'_>, effect: &Effect, mult: f64) -> Result<(), EngineError> {
    let round = effect.round;
    match effect.op() {
        Op::Nothing | Op::Incomplete => Ok(()),
        Op::Unknown(handler) => Err(EngineError::invalid(handler, "unknown effect handler")),
        Op::Invalid(refusal) => Err(EngineError::invalid(refusal.0, refusal.1.clone())),
        Op::Group(group) => ctx.run_group(group, effect.effects.as_ref(), mult),
        Op::ResourceAdd { key, amount } => ctx.add_resource(key, amount * mult, round),
        Op::ResourceRemove {
            key,
            amount,
            allow_shortfall,
        } => resource_remove(ctx, key, amount * mult, round, *allow_shortfall),
        Op::ResourceTransfer { key, percent } => resource_transfer(ctx, key, *percent, round),
        Op::StatAdd { key, amount, sign } => {
            let current = ctx.actor_state().stats.value(key);
            ctx.set_stat(key, current + sign * amount * mult)
        }
        Op::StatAddPct {
            key,
            percent,
            percent_stat,
        } => stat_add_pct(ctx, key, *percent, percent_stat.as_deref(), mult, round),
        Op::LandAdd { count } => land_add(ctx, count * mult),
        Op::LandTill { land_id } => land_till(ctx, land_id.as_deref(), mult),
        Op::DevelopmentAdd { id, land_id } => development_add(ctx, id, land_id.as_deref(), mult),
        Op::DevelopmentRemove { id, land_id } => development_remove(ctx, id, land_id, mult),
        Op::BuildingAdd { id } => building_add(ctx, id, mult),
        Op::BuildingRemove { id } => building_remove(ctx, id, mult),
        Op::PassiveAdd(op) => passive_add(ctx, op, mult),
        Op::PassiveRemove { id } => {
            for _ in 0..repetitions("passive:remove", mult)? {
                ctx.remove_passive(ctx.actor, id)?;
            }
            Ok(())
        }
        Op::CostMod(op) => {
            cost_mod(ctx, op, round);
            Ok(())
        }
        Op::ResultMod(op) => {
            result_mod(ctx, op, effect.effects.as_ref(), round);
            Ok(())
        }
        Op::PopulationAdd { role } => {
            check_role(ctx, role)?;
            for _ in 0..repetitions("population:add", mult)? {
                assign_member(ctx, role)?;
            }
            Ok(())
        }
        Op::PopulationRemove { role } => {
            check_role(ctx, role)?;
            for _ in 0..repetitions("population:remove", mult)? {
                if !unassign_member(ctx, role)? {
                    break;
                }
            }
            Ok(())
        }
        Op::ActionUnlock { id, add } => {
            action_unlock(ctx, id, *add);
            Ok(())
        }
        Op::ActionPerform(op) => action::perform_nested(ctx, op, mult),
        Op::AttackPerform(op) => attack::perform(ctx, op),
    }
}

// ----- resources ----------------------------------------------------------------

fn resource_remove(
    ctx: &mut Ctx<'_>,
    key: &str,
    amount: f64,
    round: Option<Rounding>,
    allow_shortfall: bool,
) -> Result<(), EngineError> {
    let total = round_opt(amount, round).max(0.0);
    let player = ctx.actor;
    let current = ctx.player(player).resources.value(key);
    let floor = ctx.content.lower_bound(key);
    let short = current - total < floor.unwrap_or(f64::NEG_INFINITY) || current < total;
    if short && !allow_shortfall {
        return Err(EngineError::Insufficient {
            key: key.into(),
            need: total,
            have: current,
        });
    }
    ctx.set_resource(player, key, current - total)
}

fn resource_transfer(
    ctx: &mut Ctx<'_>,
    key: &str,
    base_percent: f64,
    round: Option<Rounding>,
) -> Result<(), EngineError> {
    let gains = vec![Gain {
        key: key.into(),
        amount: crate::num::Num(base_percent),
    }];
    let adjusted =
        ctx.run_evaluation_modifiers("transfer_pct:percent", gains, GainMode::ValueOnly)?;
    let percent = adjusted.first().map_or(base_percent, |g| g.amount.0);
    let taker = ctx.actor;
    let giver = taker.other();
    let available = ctx.player(giver).resources.value(key);
    let raw = available * percent / 100.0;
    let rounded = match round {
        Some(Rounding::Up) => crate::num::round_away(raw),
        _ => round_toward(raw),
    };
    let amount = rounded.clamp(0.0, available.max(0.0));
    if amount == 0.0 {
        return Ok(());
    }
    let taker_value = ctx.player(taker).resources.value(key);
    ctx.player_mut(giver).resources.set(key, available - amount);
    ctx.player_mut(taker)
        .resources
        .set(key, taker_value + amount);
    ctx.resource_changed(giver, key)?;
    ctx.resource_changed(taker, key)
}

// ----- stats -------------------------------------------------------------------

fn stat_add_pct(
    ctx: &mut Ctx<'_>,
    key: &str,
    percent: Option<f64>,
    percent_stat: Option<&str>,
    mult: f64,
    round: Option<Rounding>,
) -> Result<(), EngineError> {
    let player = ctx.actor;
    let percent = match (percent, percent_stat) {
        (Some(percent), _) => percent,
        (None, Some(stat)) => ctx.actor_state().stats.value(stat),
        (None, None) => 0.0,
    };
    let current = ctx.actor_state().stats.value(key);
    let cache = &mut ctx.state.add_pct.entries;
    let index = match cache
        .iter()
        .position(|e| e.player == player && e.key == key)
    {
        Some(index) => index,
        None => {
            cache.push(crate::state::AddPctEntry {
                player,
                key: key.into(),
                base: current,
                accumulated: 0.0,
            });
            cache.len() - 1
        }
    };
    let entry = &mut cache[index];
    entry.accumulated += entry.base * percent * mult;
    let value = round_opt(entry.base + entry.accumulated, round);
    ctx.set_stat(key, value)
}

// ----- lands and developments ---------------------------------------------------------

fn land_add(ctx: &mut Ctx<'_>, count: f64) -> Result<(), EngineError> {
    let slots = ctx.content.rules().slots_per_new_land;
    let player = ctx.actor;
    for _ in 0..repetitions("land:add", count)? {
        let lands = &mut ctx.player_mut(player).lands;
        let id = format!("{player}-L{}", lands.len() + 1);
        lands.push(Land {
            id: id.into(),
            slots_max: slots,
            slots_used: 0,
            tilled: false,
            developments: Vec::new(),
            upkeep: None,
            triggers: Triggers::new(),
        });
    }
    Ok(())
}

fn land_till(ctx: &mut Ctx<'_>, wanted: Option<&str>, mult: f64) -> Result<(), EngineError> {
    let max = ctx.content.rules().max_slots_per_land;
    let player = ctx.actor;
    for _ in 0..repetitions("land:till", mult)? {
        let lands = &mut ctx.player_mut(player).lands;
        let land = match wanted {
            Some(id) => lands
                .iter_mut()
                .find(|l| l.id == id)
                .ok_or_else(|| EngineError::LandNotFound(id.into()))?,
            None => lands
                .iter_mut()
                .rev()
                .find(|l| !l.tilled && l.slots_max < max)
                .ok_or(EngineError::NoTillableLand)?,
        };
        if land.tilled {
            return Err(EngineError::AlreadyTilled(land.id.clone()));
        }
        land.slots_max = (land.slots_max + 1).min(max);
        land.tilled = true;
    }
    Ok(())
}

fn development_add(
    ctx: &mut Ctx<'_>,
    id: &str,
    land_id: Option<&str>,
    mult: f64,
) -> Result<(), EngineError> {
    let development = ctx
        .content
        .developments()
        .get(id)
        .ok_or_else(|| EngineError::UnknownDevelopment(id.into()))?;
    if development.system && ctx.action_depth > 0 {
        return Err(EngineError::SystemDevelopment(id.into()));
    }
    let player = ctx.actor;
    let land_id: Key = match land_id {
        Some(land_id) => {
            ctx.player(player)
                .land(land_id)
                .ok_or_else(|| EngineError::LandNotFound(land_id.into()))?;
            land_id.into()
        }
        None => ctx
            .player(player)
            .lands
            .iter()
            .rev()
            .find(|l| l.has_free_slot())
            .map(|l| l.id.clone())
            .ok_or(EngineError::NoFreeLand)?,
    };
    for _ in 0..repetitions("development:add", mult)? {
        place_development(ctx, id, &land_id, true)?;
    }
    Ok(())
}

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

fn development_remove(
    ctx: &mut Ctx<'_>,
    id: &str,
    land_id: &str,
    mult: f64,
) -> Result<(), EngineError> {
    let player = ctx.actor;
    if ctx.player(player).land(land_id).is_none() {
        return Err(EngineError::LandNotFound(land_id.into()));
    }
    for _ in 0..repetitions("development:remove", mult)? {
        let land = ctx
            .player_mut(player)
            .lands
            .iter_mut()
            .find(|l| l.id == land_id)
            .expect("checked above");
        let Some(pos) = land.developments.iter().position(|d| d == id) else {
            break;
        };
        land.developments.remove(pos);
        land.slots_used = land.slots_used.saturating_sub(1);
        ctx.remove_passive(player, &format!("{id}_{land_id}"))?;
    }
    Ok(())
}

// ----- buildings -----------------------------------------------------------------

fn building_add(ctx: &mut Ctx<'_>, id: &str, mult: f64) -> Result<(), EngineError> {
    let building = ctx
        .content
        .buildings()
        .get(id)
        .ok_or_else(|| EngineError::UnknownBuilding(id.into()))?;
    let player = ctx.actor;
    for _ in 0..repetitions("building:add", mult)? {
        if ctx.player(player).buildings.iter().any(|b| b == id) {
            return Err(EngineError::AlreadyBuilt(id.into()));
        }
        ctx.player_mut(player).buildings.push(id.into());
        let def = ctx.content.def().buildings.iter().find(|b| b.id == id);
        ctx.add_passive(PassiveRecord {
            id: id.into(),
            owner: player,
            name: def.map(|d| d.name.clone()).filter(|n| !n.is_empty()),
            icon: def
                .and_then(|d| d.rest.get("icon"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            detail: None,
            meta: Some(std::sync::Arc::new(
                serde_json::json!({"source": {"type": "building", "id": id}}),
            )),
            effects: building
                .triggers
                .get("onBuild")
                .cloned()
                .unwrap_or_default(),
            triggers: Triggers::new(),
            skip: None,
        })?;
    }
    Ok(())
}

fn building_remove(ctx: &mut Ctx<'_>, id: &str, mult: f64) -> Result<(), EngineError> {
    let player = ctx.actor;
    for _ in 0..repetitions("building:remove", mult)? {
        let buildings = &mut ctx.player_mut(player).buildings;
        let Some(pos) = buildings.iter().position(|b| b == id) else {
            break;
        };
        buildings.remove(pos);
        ctx.remove_passive(player, id)?;
    }
    Ok(())
}

// ----- passives ------------------------------------------------------------------

fn passive_add(ctx: &mut Ctx<'_>, op: &PassiveOp, mult: f64) -> Result<(), EngineError> {
    let record = PassiveRecord {
        id: op.id.clone(),
        owner: ctx.actor,
        name: op.name.clone(),
        icon: op.icon.clone(),
        detail: op.detail.clone(),
        meta: op.meta.clone(),
        effects: op.effects.clone(),
        triggers: op.triggers.clone(),
        skip: op.skip.clone(),
    };
    for _ in 0..repetitions("passive:add", mult)? {
        ctx.add_passive(record.clone())?;
    }
    Ok(())
}

// ----- modifiers -------------------------------------------------------------------

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

fn cost_mod(ctx: &mut Ctx<'_>, op: &CostModOp, round: Option<Rounding>) {
    let owner = ctx.actor;
    let modifier = CostModifier {
        id: format!("{}_{owner}", op.id).into(),
        owner,
        action_id: op.action_id.clone(),
        key: op.key.clone(),
        amount: op.amount,
        percent: op.percent,
        round,
        count: 1,
    };
    register(&mut ctx.state.cost_modifiers, op.add, modifier);
}

fn result_mod(
    ctx: &mut Ctx<'_>,
    op: &ResultModOp,
    effects: Option<&Effects>,
    round: Option<Rounding>,
) {
    let owner = ctx.actor;
    let id: Key = format!("{}_{owner}", op.id).into();
    match &op.kind {
        ResultModKind::Action { action_id } => {
            let modifier = ResultModifier {
                id,
                owner,
                action_id: action_id.clone(),
                effects: effects.cloned().unwrap_or_default(),
                count: 1,
            };
            register(&mut ctx.state.result_modifiers, op.add, modifier);
        }
        ResultModKind::Evaluation {
            target,
            amount,
            adjust,
            percent,
        } => {
            let modifier = EvaluationModifier {
                id,
                owner,
                target: target.clone(),
                amount: *amount,
                adjust: *adjust,
                percent: percent.clone(),
                round,
                effects: effects.cloned(),
                count: 1,
            };
            register(&mut ctx.state.evaluation_modifiers, op.add, modifier);
        }
    }
}

// ----- population ---------------------------------------------------------------------

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

// ----- unlocked actions --------------------------------------------------------------

fn action_unlock(ctx: &mut Ctx<'_>, id: &str, add: bool) {
    let actions = &mut ctx.player_mut(ctx.actor).actions;
    let pos = actions.iter().position(|a| a == id);
    match (add, pos) {
        (true, None) => actions.push(id.into()),
        (false, Some(pos)) => {
            actions.remove(pos);
        }
        _ => {}
    }
}
