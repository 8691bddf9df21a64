//! The effect handlers, one function per `type:method`, dispatched by
//! [`run`]. Every handler acts for the context's actor.

use serde_json::Value;

use crate::content::{Effect, Effects, Params, Triggers};
use crate::error::EngineError;
use crate::exec::{Ctx, Frame, GainMode};
use crate::num::{Rounding, round_opt, round_toward};
use crate::player::PlayerId;
use crate::state::{
    CostModifier, EvaluationModifier, Gain, Land, PassiveRecord, Percent, ResultModifier,
    SkipConfig,
};
use crate::{Key, attack};

/// Runs the handler `kind:method`.
pub(crate) fn run(
    ctx: &mut Ctx<'_>,
    kind: &str,
    method: &str,
    effect: &Effect,
    mult: f64,
) -> Result<(), EngineError> {
    match (kind, method) {
        ("resource", "add") => resource_add(ctx, effect, mult),
        ("resource", "remove") => resource_remove(ctx, effect, mult),
        ("resource", "transfer") => resource_transfer(ctx, effect),
        ("stat", "add") => stat_add(ctx, effect, mult, 1.0),
        ("stat", "remove") => stat_add(ctx, effect, mult, -1.0),
        ("stat", "add_pct") => stat_add_pct(ctx, effect, mult),
        ("land", "add") => land_add(ctx, effect, mult),
        ("land", "till") => land_till(ctx, effect, mult),
        ("development", "add") => development_add(ctx, effect, mult),
        ("development", "remove") => development_remove(ctx, effect, mult),
        ("building", "add") => building_add(ctx, effect, mult),
        ("building", "remove") => building_remove(ctx, effect, mult),
        ("passive", "add") => passive_add(ctx, effect, mult),
        ("passive", "remove") => passive_remove(ctx, effect, mult),
        ("cost_mod", "add") => cost_mod(ctx, effect, true),
        ("cost_mod", "remove") => cost_mod(ctx, effect, false),
        ("result_mod", "add") => result_mod(ctx, effect, true),
        ("result_mod", "remove") => result_mod(ctx, effect, false),
        ("population", "add") => population_add(ctx, effect, mult),
        ("population", "remove") => population_remove(ctx, effect, mult),
        ("action", "add") => action_unlock(ctx, effect, true),
        ("action", "remove") => action_unlock(ctx, effect, false),
        ("action", "perform") => crate::action::perform_nested(ctx, effect, mult),
        ("attack", "perform") => attack::perform(ctx, effect),
        _ => Err(EngineError::invalid(
            &format!("{kind}:{method}"),
            "unknown effect handler",
        )),
    }
}

// ----- parameters -------------------------------------------------------------

pub(crate) fn str_param<'e>(effect: &'e Effect, name: &str) -> Option<&'e str> {
    effect.param(name).and_then(Value::as_str)
}

fn num_param(effect: &Effect, name: &str) -> Option<f64> {
    effect.param(name).and_then(Value::as_f64)
}

fn required_str<'e>(effect: &'e Effect, handler: &str, name: &str) -> Result<&'e str, EngineError> {
    str_param(effect, name)
        .ok_or_else(|| EngineError::invalid(handler, format!("missing `{name}`")))
}

/// The most repetitions one effect may ask for (`land:add` with a count,
/// an evaluator multiplying a nested action...). Content is data a client
/// may submit; a command must stay cheap.
pub(crate) const MAX_REPETITIONS: u32 = 1000;

/// `floor(mult)` repetitions, as the reference counts iterations, refused
/// beyond [`MAX_REPETITIONS`].
pub(crate) fn repetitions(handler: &str, mult: f64) -> Result<u32, EngineError> {
    // NaN and non-positive multipliers repeat nothing.
    if mult.is_nan() || mult <= 0.0 {
        return Ok(0);
    }
    if mult.floor() > f64::from(MAX_REPETITIONS) {
        return Err(EngineError::TooMany {
            handler: handler.to_owned(),
            count: mult.floor(),
            limit: MAX_REPETITIONS,
        });
    }
    Ok(mult.floor() as u32)
}

// ----- resources ----------------------------------------------------------------

/// Adds `amount` of `key` to the actor: the body of `resource:add`.
///
/// The sum is not clamped at zero: adding to a negative balance adds
/// (PRODUCT.md Q5; the reference lifted any negative balance to 0). The
/// resource's lower bound, if it has one, still holds.
pub(crate) fn add_resource(
    ctx: &mut Ctx<'_>,
    key: &str,
    amount: f64,
    round: Option<Rounding>,
) -> Result<(), EngineError> {
    let total = round_opt(amount, round);
    let player = ctx.actor;
    let current = ctx.player(player).resources.value(key);
    if total > 0.0 {
        ctx.record_gain(key, total);
    }
    ctx.set_resource(player, key, current + total)
}

fn resource_add(ctx: &mut Ctx<'_>, effect: &Effect, mult: f64) -> Result<(), EngineError> {
    let key = required_str(effect, "resource:add", "key")?;
    let amount = num_param(effect, "amount").unwrap_or(0.0);
    add_resource(ctx, key, amount * mult, effect.round)
}

fn resource_remove(ctx: &mut Ctx<'_>, effect: &Effect, mult: f64) -> Result<(), EngineError> {
    let key = required_str(effect, "resource:remove", "key")?;
    let amount = num_param(effect, "amount").unwrap_or(0.0);
    let total = round_opt(amount * mult, effect.round).max(0.0);
    let player = ctx.actor;
    let current = ctx.player(player).resources.value(key);
    let floor = ctx.content.lower_bound(key);
    let short = current - total < floor.unwrap_or(f64::NEG_INFINITY) || current < total;
    if short && !effect.allows_shortfall() {
        return Err(EngineError::Insufficient {
            key: key.into(),
            need: total,
            have: current,
        });
    }
    ctx.set_resource(player, key, current - total)
}

fn resource_transfer(ctx: &mut Ctx<'_>, effect: &Effect) -> Result<(), EngineError> {
    let key = required_str(effect, "resource:transfer", "key")?;
    let base_percent = num_param(effect, "percent").unwrap_or(25.0);
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
    let rounded = match effect.round {
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

fn stat_add(ctx: &mut Ctx<'_>, effect: &Effect, mult: f64, sign: f64) -> Result<(), EngineError> {
    let key = required_str(effect, "stat:add", "key")?;
    let amount = num_param(effect, "amount").unwrap_or(0.0);
    let current = ctx.actor_state().stats.value(key);
    ctx.set_stat(key, current + sign * amount * mult)
}

fn stat_add_pct(ctx: &mut Ctx<'_>, effect: &Effect, mult: f64) -> Result<(), EngineError> {
    let key = required_str(effect, "stat:add_pct", "key")?;
    let player = ctx.actor;
    let percent = match (
        num_param(effect, "percent"),
        str_param(effect, "percentStat"),
    ) {
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
    let value = round_opt(entry.base + entry.accumulated, effect.round);
    ctx.set_stat(key, value)
}

// ----- lands and developments ---------------------------------------------------------

fn land_add(ctx: &mut Ctx<'_>, effect: &Effect, mult: f64) -> Result<(), EngineError> {
    let count = num_param(effect, "count").unwrap_or(1.0);
    let slots = ctx.content.rules().slots_per_new_land;
    let player = ctx.actor;
    for _ in 0..repetitions("land:add", count * mult)? {
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

fn land_till(ctx: &mut Ctx<'_>, effect: &Effect, mult: f64) -> Result<(), EngineError> {
    let max = ctx.content.rules().max_slots_per_land;
    let player = ctx.actor;
    let wanted = str_param(effect, "landId");
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

fn development_add(ctx: &mut Ctx<'_>, effect: &Effect, mult: f64) -> Result<(), EngineError> {
    let id = str_param(effect, "id")
        .or_else(|| str_param(effect, "developmentId"))
        .ok_or_else(|| EngineError::invalid("development:add", "missing `id`"))?;
    let development = ctx
        .content
        .developments()
        .get(id)
        .ok_or_else(|| EngineError::UnknownDevelopment(id.into()))?;
    if development.system && ctx.action_depth > 0 {
        return Err(EngineError::SystemDevelopment(id.into()));
    }
    let player = ctx.actor;
    let land_id: Key = match str_param(effect, "landId") {
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

pub(crate) fn development_vars(id: &str, land_id: &str) -> Params {
    let mut vars = Params::new();
    vars.insert("id".into(), Value::String(id.into()));
    vars.insert("landId".into(), Value::String(land_id.into()));
    vars
}

fn development_remove(ctx: &mut Ctx<'_>, effect: &Effect, mult: f64) -> Result<(), EngineError> {
    let id = required_str(effect, "development:remove", "id")?;
    let land_id = required_str(effect, "development:remove", "landId")?;
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

fn building_add(ctx: &mut Ctx<'_>, effect: &Effect, mult: f64) -> Result<(), EngineError> {
    let id = required_str(effect, "building:add", "id")?;
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

fn building_remove(ctx: &mut Ctx<'_>, effect: &Effect, mult: f64) -> Result<(), EngineError> {
    let id = required_str(effect, "building:remove", "id")?;
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

fn passive_add(ctx: &mut Ctx<'_>, effect: &Effect, mult: f64) -> Result<(), EngineError> {
    let id = required_str(effect, "passive:add", "id")?;
    let params = effect.params.as_ref().expect("has id");
    let text = |name: &str| params.get(name).and_then(Value::as_str).map(str::to_owned);
    let mut triggers = Triggers::new();
    for (name, value) in params {
        if name.starts_with("on") && value.is_array() {
            let list: Effects = serde_json::from_value(value.clone())
                .map_err(|e| EngineError::invalid("passive:add", format!("{name}: {e}")))?;
            triggers.insert(name.as_str(), list);
        }
    }
    let skip = match params.get("skip") {
        Some(value) => Some(
            serde_json::from_value::<SkipConfig>(value.clone())
                .map_err(|e| EngineError::invalid("passive:add", format!("skip: {e}")))?,
        ),
        None => None,
    };
    let record = PassiveRecord {
        id: id.into(),
        owner: ctx.actor,
        name: text("name"),
        icon: text("icon"),
        detail: text("detail"),
        meta: params.get("meta").cloned().map(std::sync::Arc::new),
        effects: effect.effects.clone().unwrap_or_default(),
        triggers,
        skip,
    };
    for _ in 0..repetitions("passive:add", mult)? {
        ctx.add_passive(record.clone())?;
    }
    Ok(())
}

fn passive_remove(ctx: &mut Ctx<'_>, effect: &Effect, mult: f64) -> Result<(), EngineError> {
    let id = required_str(effect, "passive:remove", "id")?;
    for _ in 0..repetitions("passive:remove", mult)? {
        ctx.remove_passive(ctx.actor, id)?;
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

fn cost_mod(ctx: &mut Ctx<'_>, effect: &Effect, add: bool) -> Result<(), EngineError> {
    let handler = if add {
        "cost_mod:add"
    } else {
        "cost_mod:remove"
    };
    let id = required_str(effect, handler, "id")?;
    let key = required_str(effect, handler, "key")?;
    let amount = num_param(effect, "amount");
    let percent = num_param(effect, "percent");
    if amount.is_none() && percent.is_none() {
        return Err(EngineError::invalid(handler, "needs `amount` or `percent`"));
    }
    let owner = ctx.actor;
    let full_id: Key = format!("{id}_{owner}").into();
    let modifier = CostModifier {
        id: full_id.clone(),
        owner,
        action_id: str_param(effect, "actionId").map(Key::from),
        key: key.into(),
        amount,
        percent,
        round: effect.round,
        count: 1,
    };
    register(&mut ctx.state.cost_modifiers, add, modifier);
    Ok(())
}

fn result_mod(ctx: &mut Ctx<'_>, effect: &Effect, add: bool) -> Result<(), EngineError> {
    let handler = if add {
        "result_mod:add"
    } else {
        "result_mod:remove"
    };
    let id = required_str(effect, handler, "id")?;
    let owner = ctx.actor;
    let full_id: Key = format!("{id}_{owner}").into();
    if let Some(action_id) = str_param(effect, "actionId") {
        let modifier = ResultModifier {
            id: full_id.clone(),
            owner,
            action_id: action_id.into(),
            effects: effect.effects.clone().unwrap_or_default(),
            count: 1,
        };
        register(&mut ctx.state.result_modifiers, add, modifier);
        return Ok(());
    }
    let Some(evaluation) = effect.param("evaluation").and_then(Value::as_object) else {
        return Err(EngineError::invalid(
            handler,
            "needs `actionId` or `evaluation`",
        ));
    };
    let kind = evaluation
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| EngineError::invalid(handler, "`evaluation` needs a `type`"))?;
    let target: Key = match evaluation.get("id").and_then(Value::as_str) {
        Some(target_id) => format!("{kind}:{target_id}").into(),
        None => kind.into(),
    };
    let percent = match effect.param("percent") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            serde_json::from_value::<Percent>(value.clone())
                .map_err(|e| EngineError::invalid(handler, format!("percent: {e}")))?,
        ),
    };
    let modifier = EvaluationModifier {
        id: full_id.clone(),
        owner,
        target,
        amount: num_param(effect, "amount"),
        adjust: num_param(effect, "adjust"),
        percent,
        round: effect.round,
        effects: effect.effects.clone(),
        count: 1,
    };
    register(&mut ctx.state.evaluation_modifiers, add, modifier);
    Ok(())
}

// ----- population ---------------------------------------------------------------------

fn population_vars(player: PlayerId, role: &str, index: u32) -> Params {
    let mut vars = Params::new();
    vars.insert("index".into(), Value::from(index));
    vars.insert("player".into(), Value::String(player.as_str().into()));
    vars.insert("role".into(), Value::String(role.into()));
    vars
}

fn role_of<'e>(ctx: &Ctx<'_>, effect: &'e Effect, handler: &str) -> Result<&'e str, EngineError> {
    let role = required_str(effect, handler, "role")?;
    if !ctx.content.populations().contains(role) {
        return Err(EngineError::UnknownRole(role.into()));
    }
    Ok(role)
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

fn population_add(ctx: &mut Ctx<'_>, effect: &Effect, mult: f64) -> Result<(), EngineError> {
    let role = role_of(ctx, effect, "population:add")?;
    for _ in 0..repetitions("population:add", mult)? {
        assign_member(ctx, role)?;
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

fn population_remove(ctx: &mut Ctx<'_>, effect: &Effect, mult: f64) -> Result<(), EngineError> {
    let role = role_of(ctx, effect, "population:remove")?;
    for _ in 0..repetitions("population:remove", mult)? {
        if !unassign_member(ctx, role)? {
            break;
        }
    }
    Ok(())
}

// ----- unlocked actions --------------------------------------------------------------

fn action_unlock(ctx: &mut Ctx<'_>, effect: &Effect, add: bool) -> Result<(), EngineError> {
    let id = required_str(
        effect,
        if add { "action:add" } else { "action:remove" },
        "id",
    )?;
    let actions = &mut ctx.player_mut(ctx.actor).actions;
    let pos = actions.iter().position(|a| a == id);
    match (add, pos) {
        (true, None) => actions.push(id.into()),
        (false, Some(pos)) => {
            actions.remove(pos);
        }
        _ => {}
    }
    Ok(())
}

/// Runs `list` inside a passive frame (used for trigger bundles of passives).
pub(crate) fn passive_bundle_frame(record: &PassiveRecord) -> Frame {
    Frame::Passive {
        key: format!("{}_{}", record.id, record.owner).into(),
        id: record.id.clone(),
        name: record.name.clone(),
    }
}
