//! The effect kinds, each defined once: [`effect_kinds!`] is the one table
//! of every kind the engine runs. An entry holds all there is to a kind:
//!
//! * its variant of [`Op`](super::Op) and its parameters as a Rust struct;
//! * `names`: the `(type, method)` pairs that name it in the reference
//!   schema, each with the method of its reversal (what undoing a
//!   passive's setup runs instead: `add` and `remove` swap);
//! * `parse`: how the parameters are read from the schema, which is also
//!   their validation (a refusal compiles to `Op::Invalid`, which content
//!   validation and the run report with the handler's message);
//! * `run`: what it does to the game, for the context's actor;
//! * `refers`: the registry entry it must name, for reference checks.
//!
//! The table is expanded twice, by callback: `content/op.rs` expands it
//! into the `Op` enum, the parameter structs, the parse dispatch, the
//! reversal and the reference checks, and `handlers.rs` (in the rules
//! layers, above the execution context) expands it into the run dispatch.
//! The `run` blocks are therefore type-checked where the rules expand
//! them, against `Ctx` and the helpers `handlers.rs` brings into scope;
//! nothing in this file names a module above the content layer, and no
//! code of the content layer calls them. Adding a kind is one entry here:
//! both dispatches are exhaustive `match`es, so the compiler checks it.
//!
//! Parameter types that are not plain values ([`ResultModKind`],
//! [`AttackTarget`]) are defined below the table.

use crate::Key;

/// The table of effect kinds: `effect_kinds!(callback)` calls `callback!`
/// with every entry. See the module doc for what an entry holds.
macro_rules! effect_kinds {
    ($callback:ident) => {
        $callback! {
            /// `resource:add`: adds to one of the actor's resources.
            ResourceAdd(ResourceAdd) = ResourceAdd {
                /// Resource key.
                key: Key,
                /// Amount per repetition.
                amount: f64,
            }
            names [("resource", "add") => "remove"]
            parse(r, def, method) {
                Ok(ResourceAdd {
                    key: r.required("key")?,
                    amount: r.num("amount").unwrap_or(0.0),
                })
            }
            run(ctx, op, effect, mult) {
                ctx.add_resource(&op.key, op.amount * mult, effect.round)
            }
            refers(op) { None }

            /// `resource:remove`: takes from one of the actor's resources;
            /// refused when the balance is short unless `meta.allowShortfall`.
            ResourceRemove(ResourceRemove) = ResourceRemove {
                /// Resource key.
                key: Key,
                /// Amount per repetition.
                amount: f64,
                /// `meta.allowShortfall`: clamp instead of refusing.
                allow_shortfall: bool,
            }
            names [("resource", "remove") => "add"]
            parse(r, def, method) {
                Ok(ResourceRemove {
                    key: r.required("key")?,
                    amount: r.num("amount").unwrap_or(0.0),
                    allow_shortfall: def
                        .meta
                        .as_ref()
                        .and_then(|meta| meta.get("allowShortfall"))
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                })
            }
            run(ctx, op, effect, mult) {
                let key = op.key.as_str();
                let total = round_opt(op.amount * mult, effect.round).max(0.0);
                let player = ctx.actor;
                let current = ctx.player(player).resources.value(key);
                let floor = ctx.content.lower_bound(key);
                let short = current - total < floor.unwrap_or(f64::NEG_INFINITY) || current < total;
                if short && !op.allow_shortfall {
                    return Err(EngineError::Insufficient {
                        key: key.into(),
                        need: total,
                        have: current,
                    });
                }
                ctx.set_resource(player, key, current - total)
            }
            refers(op) { None }

            /// `resource:transfer`: takes a percent of the opponent's
            /// balance (after `transfer_pct:percent` evaluation modifiers).
            ResourceTransfer(ResourceTransfer) = ResourceTransfer {
                /// Resource key.
                key: Key,
                /// Percent of the opponent's balance (before modifiers).
                percent: f64,
            }
            names [("resource", "transfer") => "transfer"]
            parse(r, def, method) {
                Ok(ResourceTransfer {
                    key: r.required("key")?,
                    percent: r.num("percent").unwrap_or(25.0),
                })
            }
            run(ctx, op, effect, mult) {
                let key = op.key.as_str();
                let base_percent = op.percent;
                let gains = vec![Gain {
                    key: key.into(),
                    amount: Num(base_percent),
                }];
                let adjusted = ctx.run_evaluation_modifiers(
                    "transfer_pct:percent",
                    gains,
                    GainMode::ValueOnly,
                )?;
                let percent = adjusted.first().map_or(base_percent, |g| g.amount.0);
                let taker = ctx.actor;
                let giver = taker.other();
                let available = ctx.player(giver).resources.value(key);
                let raw = available * percent / 100.0;
                let rounded = match effect.round {
                    Some(Rounding::Up) => round_away(raw),
                    _ => round_toward(raw),
                };
                let amount = rounded.clamp(0.0, available.max(0.0));
                if amount == 0.0 {
                    return Ok(());
                }
                let taker_value = ctx.player(taker).resources.value(key);
                ctx.player_mut(giver).resources.set(key, available - amount);
                ctx.player_mut(taker).resources.set(key, taker_value + amount);
                ctx.resource_changed(giver, key)?;
                ctx.resource_changed(taker, key)
            }
            refers(op) { None }

            /// `stat:add` (`sign` 1) and `stat:remove` (`sign` −1).
            StatAdd(StatAdd) = StatAdd {
                /// Stat key.
                key: Key,
                /// Amount per repetition.
                amount: f64,
                /// 1 or −1.
                sign: f64,
            }
            names [("stat", "add") => "remove", ("stat", "remove") => "add"]
            parse(r, def, method) {
                // Both report as `stat:add`, as they always have.
                let r = r.named("stat:add");
                Ok(StatAdd {
                    key: r.required("key")?,
                    amount: r.num("amount").unwrap_or(0.0),
                    sign: if method == "add" { 1.0 } else { -1.0 },
                })
            }
            run(ctx, op, effect, mult) {
                let current = ctx.actor_state().stats.value(&op.key);
                ctx.set_stat(&op.key, current + op.sign * op.amount * mult)
            }
            refers(op) { None }

            /// `stat:add_pct`: grows a stat by a percent of its value when
            /// first grown this way (the base is cached per player and key).
            StatAddPct(StatAddPct) = StatAddPct {
                /// Stat key.
                key: Key,
                /// A literal percent, else the value of stat `percent_stat`, else 0.
                percent: Option<f64>,
                /// The stat giving the percent.
                percent_stat: Option<Key>,
            }
            names [("stat", "add_pct") => "add_pct"]
            parse(r, def, method) {
                Ok(StatAddPct {
                    key: r.required("key")?,
                    percent: r.num("percent"),
                    percent_stat: r.key("percentStat"),
                })
            }
            run(ctx, op, effect, mult) {
                let key = op.key.as_str();
                let player = ctx.actor;
                let percent = match (op.percent, op.percent_stat.as_deref()) {
                    (Some(percent), _) => percent,
                    (None, Some(stat)) => ctx.actor_state().stats.value(stat),
                    (None, None) => 0.0,
                };
                let current = ctx.actor_state().stats.value(key);
                let cache = &mut ctx.state.add_pct.entries;
                let index = match cache.iter().position(|e| e.player == player && e.key == key) {
                    Some(index) => index,
                    None => {
                        cache.push(AddPctEntry {
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
            refers(op) { None }

            /// `land:add`: new empty lands for the actor.
            LandAdd(LandAdd) = LandAdd {
                /// Lands per repetition.
                count: f64,
            }
            names [("land", "add") => "remove"]
            parse(r, def, method) {
                Ok(LandAdd {
                    count: r.num("count").unwrap_or(1.0),
                })
            }
            run(ctx, op, effect, mult) {
                let slots = ctx.content.rules().slots_per_new_land;
                let player = ctx.actor;
                for _ in 0..repetitions("land:add", op.count * mult)? {
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
            refers(op) { None }

            /// `land:till`: one more slot on a land, once per land.
            LandTill(LandTill) = LandTill {
                /// The land (else the last tillable one).
                land_id: Option<Key>,
            }
            names [("land", "till") => "till"]
            parse(r, def, method) {
                Ok(LandTill {
                    land_id: r.key("landId"),
                })
            }
            run(ctx, op, effect, mult) {
                let max = ctx.content.rules().max_slots_per_land;
                let player = ctx.actor;
                for _ in 0..repetitions("land:till", mult)? {
                    let lands = &mut ctx.player_mut(player).lands;
                    let land = match op.land_id.as_deref() {
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
            refers(op) { None }

            /// `development:add`: places a development on a land (given, else
            /// the last with a free slot) and runs its `onBuild`.
            DevelopmentAdd(DevelopmentAdd) = DevelopmentAdd {
                /// Development id.
                id: Key,
                /// The land (else the last with a free slot).
                land_id: Option<Key>,
            }
            names [("development", "add") => "remove"]
            parse(r, def, method) {
                let id = r
                    .key("id")
                    .or_else(|| r.key("developmentId"))
                    .ok_or_else(|| r.refuse("missing `id`"))?;
                Ok(DevelopmentAdd {
                    id,
                    land_id: r.key("landId"),
                })
            }
            run(ctx, op, effect, mult) {
                let id = op.id.as_str();
                let development = ctx
                    .content
                    .developments()
                    .get(id)
                    .ok_or_else(|| EngineError::UnknownDevelopment(id.into()))?;
                if development.system && ctx.action_depth > 0 {
                    return Err(EngineError::SystemDevelopment(id.into()));
                }
                let player = ctx.actor;
                let land_id: Key = match op.land_id.as_deref() {
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
            refers(op) { Some((RefKind::Development, &op.id)) }

            /// `development:remove`: takes a development off a land, freeing
            /// its slot and removing its `onBuild` passive.
            DevelopmentRemove(DevelopmentRemove) = DevelopmentRemove {
                /// Development id.
                id: Key,
                /// The land.
                land_id: Key,
            }
            names [("development", "remove") => "add"]
            parse(r, def, method) {
                Ok(DevelopmentRemove {
                    id: r.required("id")?,
                    land_id: r.required("landId")?,
                })
            }
            run(ctx, op, effect, mult) {
                let (id, land_id) = (op.id.as_str(), op.land_id.as_str());
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
            refers(op) { Some((RefKind::Development, &op.id)) }

            /// `building:add`: builds a building (once per player) and adds
            /// its `onBuild` as a passive.
            BuildingAdd(BuildingAdd) = BuildingAdd {
                /// Building id.
                id: Key,
            }
            names [("building", "add") => "remove"]
            parse(r, def, method) {
                Ok(BuildingAdd {
                    id: r.required("id")?,
                })
            }
            run(ctx, op, effect, mult) {
                let id = op.id.as_str();
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
                        meta: Some(Arc::new(
                            serde_json::json!({"source": {"type": "building", "id": id}}),
                        )),
                        effects: building.triggers.get("onBuild").cloned().unwrap_or_default(),
                        triggers: Triggers::new(),
                        skip: None,
                    })?;
                }
                Ok(())
            }
            refers(op) { Some((RefKind::Building, &op.id)) }

            /// `building:remove`: demolishes a building and removes its passive.
            BuildingRemove(BuildingRemove) = BuildingRemove {
                /// Building id.
                id: Key,
            }
            names [("building", "remove") => "add"]
            parse(r, def, method) {
                Ok(BuildingRemove {
                    id: r.required("id")?,
                })
            }
            run(ctx, op, effect, mult) {
                let player = ctx.actor;
                for _ in 0..repetitions("building:remove", mult)? {
                    let buildings = &mut ctx.player_mut(player).buildings;
                    let Some(pos) = buildings.iter().position(|b| b == &op.id) else {
                        break;
                    };
                    buildings.remove(pos);
                    ctx.remove_passive(player, &op.id)?;
                }
                Ok(())
            }
            refers(op) { Some((RefKind::Building, &op.id)) }

            /// `passive:add`: adds a passive (setup effects, trigger lists,
            /// skip flags) for the actor.
            PassiveAdd(Box<PassiveOp>) = PassiveOp {
                /// Passive id.
                id: Key,
                /// Display name.
                name: Option<String>,
                /// Icon.
                icon: Option<String>,
                /// Detail.
                detail: Option<String>,
                /// Metadata.
                meta: Option<Arc<Value>>,
                /// Setup effects (the effect's nested `effects`).
                effects: Effects,
                /// Trigger lists (`on*` parameters holding arrays).
                triggers: OrderedMap<Effects>,
                /// Skip flags.
                skip: Option<SkipConfig>,
            }
            names [("passive", "add") => "remove"]
            parse(r, def, method) {
                let id = r.required("id")?;
                let mut triggers = OrderedMap::new();
                for (name, value) in r.params.into_iter().flatten() {
                    if name.starts_with("on") && value.is_array() {
                        let list = Effects::from_json(value)
                            .map_err(|e| r.refuse(format!("{name}: {e}")))?;
                        triggers.insert(name.as_str(), list);
                    }
                }
                let skip = match r.value("skip") {
                    Some(value) => Some(
                        SkipConfig::from_json(value)
                            .map_err(|e| r.refuse(format!("skip: {e}")))?,
                    ),
                    None => None,
                };
                Ok(PassiveOp {
                    id,
                    name: r.text("name"),
                    icon: r.text("icon"),
                    detail: r.text("detail"),
                    meta: r.value("meta").cloned().map(Arc::new),
                    effects: def.effects.clone().unwrap_or_default(),
                    triggers,
                    skip,
                })
            }
            run(ctx, op, effect, mult) {
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
            refers(op) { None }

            /// `passive:remove`: removes the actor's latest passive `id`,
            /// reversing its setup.
            PassiveRemove(PassiveRemove) = PassiveRemove {
                /// Passive id.
                id: Key,
            }
            names [("passive", "remove") => "add"]
            parse(r, def, method) {
                Ok(PassiveRemove {
                    id: r.required("id")?,
                })
            }
            run(ctx, op, effect, mult) {
                for _ in 0..repetitions("passive:remove", mult)? {
                    ctx.remove_passive(ctx.actor, &op.id)?;
                }
                Ok(())
            }
            refers(op) { None }

            /// `cost_mod:add` and `cost_mod:remove`: (un)registers a change
            /// to an action cost.
            CostMod(Box<CostModOp>) = CostModOp {
                /// Register (true) or unregister.
                add: bool,
                /// Modifier id (the owner is appended).
                id: Key,
                /// Only for this action.
                action_id: Option<Key>,
                /// Cost key.
                key: Key,
                /// Flat change.
                amount: Option<f64>,
                /// Fraction.
                percent: Option<f64>,
            }
            names [("cost_mod", "add") => "remove", ("cost_mod", "remove") => "add"]
            parse(r, def, method) {
                let id = r.required("id")?;
                let key = r.required("key")?;
                let amount = r.num("amount");
                let percent = r.num("percent");
                if amount.is_none() && percent.is_none() {
                    return Err(r.refuse("needs `amount` or `percent`"));
                }
                Ok(CostModOp {
                    add: method == "add",
                    id,
                    action_id: r.key("actionId"),
                    key,
                    amount,
                    percent,
                })
            }
            run(ctx, op, effect, mult) {
                let owner = ctx.actor;
                let modifier = CostModifier {
                    id: format!("{}_{owner}", op.id).into(),
                    owner,
                    action_id: op.action_id.clone(),
                    key: op.key.clone(),
                    amount: op.amount,
                    percent: op.percent,
                    round: effect.round,
                    count: 1,
                };
                register(&mut ctx.state.cost_modifiers, op.add, modifier);
                Ok(())
            }
            refers(op) { None }

            /// `result_mod:add` and `result_mod:remove`: (un)registers effects
            /// run after an action or step, or a change to an evaluation's
            /// gains.
            ResultMod(Box<ResultModOp>) = ResultModOp {
                /// Register (true) or unregister.
                add: bool,
                /// Modifier id (the owner is appended).
                id: Key,
                /// What it modifies.
                kind: ResultModKind,
            }
            names [("result_mod", "add") => "remove", ("result_mod", "remove") => "add"]
            parse(r, def, method) {
                let id = r.required("id")?;
                let kind = if let Some(action_id) = r.key("actionId") {
                    ResultModKind::Action { action_id }
                } else {
                    let Some(evaluation) = r.value("evaluation").and_then(Value::as_object) else {
                        return Err(r.refuse("needs `actionId` or `evaluation`"));
                    };
                    let kind = evaluation
                        .get("type")
                        .and_then(Value::as_str)
                        .ok_or_else(|| r.refuse("`evaluation` needs a `type`"))?;
                    let target: Key = match evaluation.get("id").and_then(Value::as_str) {
                        Some(target_id) => format!("{kind}:{target_id}").into(),
                        None => kind.into(),
                    };
                    let percent = match r.value("percent") {
                        None | Some(Value::Null) => None,
                        Some(value) => Some(
                            Percent::from_json(value)
                                .map_err(|e| r.refuse(format!("percent: {e}")))?,
                        ),
                    };
                    ResultModKind::Evaluation {
                        target,
                        amount: r.num("amount"),
                        adjust: r.num("adjust"),
                        percent,
                    }
                };
                Ok(ResultModOp {
                    add: method == "add",
                    id,
                    kind,
                })
            }
            run(ctx, op, effect, mult) {
                let owner = ctx.actor;
                let id: Key = format!("{}_{owner}", op.id).into();
                match &op.kind {
                    ResultModKind::Action { action_id } => {
                        let modifier = ResultModifier {
                            id,
                            owner,
                            action_id: action_id.clone(),
                            effects: effect.effects.clone().unwrap_or_default(),
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
                            round: effect.round,
                            effects: effect.effects.clone(),
                            count: 1,
                        };
                        register(&mut ctx.state.evaluation_modifiers, op.add, modifier);
                    }
                }
                Ok(())
            }
            refers(op) { None }

            /// `population:add`: new members of a role, each running the
            /// role's `onAssigned`.
            PopulationAdd(PopulationAdd) = PopulationAdd {
                /// Role.
                role: Key,
            }
            names [("population", "add") => "remove"]
            parse(r, def, method) {
                Ok(PopulationAdd {
                    role: r.required("role")?,
                })
            }
            run(ctx, op, effect, mult) {
                check_role(ctx, &op.role)?;
                for _ in 0..repetitions("population:add", mult)? {
                    assign_member(ctx, &op.role)?;
                }
                Ok(())
            }
            refers(op) { Some((RefKind::Role, &op.role)) }

            /// `population:remove`: removes members of a role, each running
            /// the role's `onUnassigned`; stops when none is left.
            PopulationRemove(PopulationRemove) = PopulationRemove {
                /// Role.
                role: Key,
            }
            names [("population", "remove") => "add"]
            parse(r, def, method) {
                Ok(PopulationRemove {
                    role: r.required("role")?,
                })
            }
            run(ctx, op, effect, mult) {
                check_role(ctx, &op.role)?;
                for _ in 0..repetitions("population:remove", mult)? {
                    if !unassign_member(ctx, &op.role)? {
                        break;
                    }
                }
                Ok(())
            }
            refers(op) { Some((RefKind::Role, &op.role)) }

            /// `action:add` (`add`) and `action:remove`: unlocks or locks an
            /// action for the actor.
            ActionUnlock(ActionUnlock) = ActionUnlock {
                /// Action id.
                id: Key,
                /// Unlock (true) or lock.
                add: bool,
            }
            names [("action", "add") => "remove", ("action", "remove") => "add"]
            parse(r, def, method) {
                Ok(ActionUnlock {
                    id: r.required("id")?,
                    add: method == "add",
                })
            }
            run(ctx, op, effect, mult) {
                let actions = &mut ctx.player_mut(ctx.actor).actions;
                let pos = actions.iter().position(|a| a == &op.id);
                match (op.add, pos) {
                    (true, None) => actions.push(op.id.clone()),
                    (false, Some(pos)) => {
                        actions.remove(pos);
                    }
                    _ => {}
                }
                Ok(())
            }
            refers(op) { None }

            /// `action:perform`: runs another action's effects without its
            /// costs, requirements or lock.
            ActionPerform(Box<PerformOp>) = PerformOp {
                /// Candidate ids (`__actionId`, `actionId`, `id`, as given):
                /// the first that names an action, else the first.
                ids: Vec<Key>,
                /// The parameters passed to the action.
                forwarded: Params,
            }
            names [("action", "perform") => "perform"]
            parse(r, def, method) {
                let ids: Vec<Key> = ["__actionId", "actionId", "id"]
                    .iter()
                    .filter_map(|n| r.key(n))
                    .collect();
                if ids.is_empty() {
                    return Err(r.refuse("missing action id"));
                }
                let mut forwarded = r.params.cloned().unwrap_or_default();
                forwarded.remove("__actionId");
                forwarded.remove("actionId");
                if let Some(dev) = forwarded.get("developmentId").cloned() {
                    forwarded.insert("id".into(), dev);
                }
                Ok(PerformOp { ids, forwarded })
            }
            run(ctx, op, effect, mult) {
                action::perform_nested(ctx, op, mult)
            }
            refers(op) { op.ids.first().map(|id| (RefKind::Action, id)) }

            /// `attack:perform`: the actor's army against the opponent
            /// (see `attack.rs`).
            AttackPerform(Box<AttackOp>) = AttackOp {
                /// What is attacked (none: the attack does nothing).
                target: Option<AttackTarget>,
                /// Skip the defender's absorption.
                ignore_absorption: bool,
                /// Skip the defender's fortification.
                ignore_fortification: bool,
                /// `onDamage.defender`, run by the defender when damage was
                /// done (an error message when the list does not parse).
                on_damage_defender: Option<Result<Effects, String>>,
                /// `onDamage.attacker`, run by the attacker.
                on_damage_attacker: Option<Result<Effects, String>>,
            }
            names [("attack", "perform") => "perform"]
            parse(r, def, method) {
                let target = r.value("target").and_then(|value| {
                    let kind = value.get("type")?.as_str()?;
                    let text = |name: &str| value.get(name).and_then(Value::as_str).map(Key::from);
                    match kind {
                        "resource" => text("key").map(AttackTarget::Resource),
                        "stat" => text("key").map(AttackTarget::Stat),
                        "building" => text("id").map(AttackTarget::Building),
                        _ => None,
                    }
                });
                let lists = r.value("onDamage").and_then(Value::as_object);
                let side = |owner: &str| {
                    lists.and_then(|lists| lists.get(owner)).map(|list| {
                        Effects::from_json(list)
                            .map_err(|e| format!("onDamage: {e}"))
                    })
                };
                Ok(AttackOp {
                    target,
                    ignore_absorption: r.flag("ignoreAbsorption"),
                    ignore_fortification: r.flag("ignoreFortification"),
                    on_damage_defender: side("defender"),
                    on_damage_attacker: side("attacker"),
                })
            }
            run(ctx, op, effect, mult) {
                attack::perform(ctx, op)
            }
            refers(op) { None }
        }
    };
}

pub(crate) use effect_kinds;

/// What a result modifier modifies (a parameter of `result_mod`).
#[derive(Clone, Debug, PartialEq)]
pub enum ResultModKind {
    /// Runs the effect's nested effects after an action or step.
    Action {
        /// Action (or step) id.
        action_id: Key,
    },
    /// Changes the gains of an evaluation.
    Evaluation {
        /// Evaluation target (`type` or `type:id`).
        target: Key,
        /// Resources added per positive gain.
        amount: Option<f64>,
        /// Added to every gain.
        adjust: Option<f64>,
        /// Fraction of every gain.
        percent: Option<super::Percent>,
    },
}

/// The target of an attack (a parameter of `attack:perform`).
#[derive(Clone, Debug, PartialEq)]
pub enum AttackTarget {
    /// A resource.
    Resource(Key),
    /// A stat.
    Stat(Key),
    /// A building.
    Building(Key),
}
