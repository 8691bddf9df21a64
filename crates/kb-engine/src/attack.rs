//! `attack:perform`: army strength against the defender's absorption and
//! fortification, damage to a resource, stat or building, the on-damage
//! effects of both sides, and the attack log (game-rules §5).

use serde_json::Value;

use crate::content::{AttackOp, AttackTarget as Target, Effect};
use crate::error::EngineError;
use crate::exec::{Ctx, GainMode};
use crate::num::Num;
use crate::result::{
    AbsorptionLog, AttackEvaluation, AttackLog, FortificationLog, OnDamageEntry, PowerLog,
    TargetLog, diff,
};
use crate::state::Gain;
use crate::triggers;

const ARMY: &str = "armyStrength";
const ABSORPTION: &str = "absorption";
const FORTIFICATION: &str = "fortificationStrength";

pub(crate) fn perform(ctx: &mut Ctx<'_>, op: &AttackOp) -> Result<(), EngineError> {
    let Some(target) = &op.target else {
        return Ok(());
    };
    let ignore_absorption = op.ignore_absorption;
    let ignore_fortification = op.ignore_fortification;
    let attacker = ctx.actor;
    let defender = attacker.other();
    let rules = ctx.content.rules();

    let base = ctx.player(attacker).stats.value(ARMY);
    let target_key = match target {
        Target::Resource(k) | Target::Stat(k) | Target::Building(k) => k.clone(),
    };
    let gains = vec![Gain {
        key: target_key,
        amount: Num(base),
    }];
    let power = ctx
        .run_evaluation_modifiers("attack:power", gains, GainMode::ValueOnly)?
        .first()
        .map_or(base, |g| g.amount.0);

    triggers::fire(ctx, "onBeforeAttacked", defender)?;

    let absorption = ctx
        .player(defender)
        .stats
        .value(ABSORPTION)
        .min(rules.absorption_cap_pct);
    let after_absorption = if !ignore_absorption && absorption > 0.0 {
        rules.absorption_rounding.apply(power * (1.0 - absorption))
    } else {
        power
    };

    let fort_before = ctx.player(defender).stats.value(FORTIFICATION);
    let (fort_damage, fort_after) = if ignore_fortification {
        (0.0, fort_before)
    } else {
        let damage = fort_before.min(after_absorption).max(0.0);
        let after = (fort_before - damage).max(0.0);
        ctx.player_mut(defender).stats.set(FORTIFICATION, after);
        (damage, after)
    };
    let damage = (after_absorption - fort_damage).max(0.0);

    let target_log = match target {
        Target::Resource(key) | Target::Stat(key) => {
            let is_resource = matches!(target, Target::Resource(_));
            let bag = if is_resource {
                &ctx.player(defender).resources
            } else {
                &ctx.player(defender).stats
            };
            let before = bag.value(key);
            let after = (before - damage).max(0.0);
            if damage > 0.0 {
                if is_resource {
                    ctx.player_mut(defender).resources.set(key, after);
                    ctx.resource_changed(defender, key)?;
                } else {
                    ctx.player_mut(defender).stats.set(key, after);
                }
            }
            TargetLog::Value {
                kind: if is_resource { "resource" } else { "stat" }.into(),
                key: key.clone(),
                before: Num(before),
                damage: Num(damage),
                after: Num(if damage > 0.0 { after } else { before }),
            }
        }
        Target::Building(id) => {
            let existed = ctx.player(defender).buildings.iter().any(|b| b == id);
            if damage > 0.0 && existed {
                let remove = Effect::leaf("building", "remove", id_params(id));
                ctx.as_player(defender, |ctx| ctx.run_effect(&remove, 1.0))?;
            }
            let destroyed = existed && !ctx.player(defender).buildings.iter().any(|b| b == id);
            TargetLog::Building {
                kind: "building".into(),
                id: id.clone(),
                existed,
                destroyed,
                damage: Num(damage),
            }
        }
    };

    triggers::fire(ctx, "onAttackResolved", defender)?;
    let fort = ctx.player(defender).stats.value(FORTIFICATION);
    if fort < 0.0 {
        ctx.player_mut(defender).stats.set(FORTIFICATION, 0.0);
    }

    let mut on_damage = Vec::new();
    if damage > 0.0 {
        let sides = [
            ("defender", defender, &op.on_damage_defender),
            ("attacker", attacker, &op.on_damage_attacker),
        ];
        for (owner, side, list) in sides {
            let Some(list) = list else {
                continue;
            };
            let list = list
                .as_ref()
                .map_err(|e| EngineError::invalid("attack:perform", e.clone()))?;
            for entry in list.iter() {
                let (a0, d0) = (ctx.trace_of(attacker), ctx.trace_of(defender));
                ctx.as_player(side, |ctx| ctx.run_effect(entry, 1.0))?;
                let (a1, d1) = (ctx.trace_of(attacker), ctx.trace_of(defender));
                on_damage.push(OnDamageEntry {
                    owner: owner.into(),
                    effect: entry.clone(),
                    attacker: diff(&a0, &a1),
                    defender: diff(&d0, &d1),
                });
            }
        }
    }

    ctx.logs.push(AttackLog {
        evaluation: AttackEvaluation {
            power: PowerLog {
                base: Num(base),
                modified: Num(power),
            },
            absorption: AbsorptionLog {
                ignored: ignore_absorption,
                before: Num(absorption),
                damage_after: Num(after_absorption),
            },
            fortification: FortificationLog {
                ignored: ignore_fortification,
                before: Num(fort_before),
                damage: Num(fort_damage),
                after: Num(fort_after),
            },
            target: target_log,
        },
        on_damage,
    });
    Ok(())
}

fn id_params(id: &str) -> crate::content::Params {
    let mut params = crate::content::Params::new();
    params.insert("id".into(), Value::String(id.into()));
    params
}
