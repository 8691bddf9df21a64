//! Trigger bundles: what runs when a step or an attack fires a trigger
//! (`onGainIncomeStep`, `onPayUpkeepStep`, `onAttackResolved`...).
//!
//! Bundles are collected for one player, all before any runs, in the
//! reference order: population roles (in population order), lands and the
//! developments on them, buildings, then passives. Upkeep costs are
//! synthesized as `resource:remove` bundles when the trigger is
//! `onPayUpkeepStep`.

use serde_json::{Value, json};

use crate::content::{Bag, Effect, EffectDef, Effects, Params};
use crate::error::EngineError;
use crate::exec::{Ctx, Frame, development_vars, passive_frame};
use crate::player::PlayerId;

/// The trigger whose bundles also pay upkeep.
pub(crate) const PAY_UPKEEP: &str = "onPayUpkeepStep";

/// Effects run together, `repeat` times.
pub(crate) struct Bundle {
    pub effects: Effects,
    pub repeat: u32,
    /// A synthesized upkeep payment (its failure is bankruptcy).
    pub upkeep: bool,
    /// Attribution frame (for passives' bundles).
    pub frame: Option<Frame>,
}

impl Bundle {
    fn plain(effects: Effects, repeat: u32) -> Bundle {
        Bundle {
            effects,
            repeat,
            upkeep: false,
            frame: None,
        }
    }
}

fn upkeep_bundles(out: &mut Vec<Bundle>, upkeep: Option<&Bag>, count: f64, source: Value) {
    for (key, per) in upkeep.into_iter().flat_map(|u| u.iter()) {
        let mut params = Params::new();
        params.insert("key".into(), Value::String(key.to_string()));
        params.insert("amount".into(), json!(per.0 * count));
        let effect = Effect::new(EffectDef {
            kind: Some("resource".into()),
            method: Some("remove".into()),
            params: Some(params),
            meta: Some(json!({ "source": source })),
            ..EffectDef::default()
        });
        out.push(Bundle {
            effects: Effects::new(vec![effect]),
            repeat: 1,
            upkeep: true,
            frame: None,
        });
    }
}

/// Collects the bundles of `trigger` for `player`.
pub(crate) fn collect(ctx: &Ctx<'_>, trigger: &str, player: PlayerId) -> Vec<Bundle> {
    let content = ctx.content;
    let state = ctx.player(player);
    let pay_upkeep = trigger == PAY_UPKEEP;
    let mut out = Vec::new();
    for (role, &count) in state.population.iter() {
        let Some(population) = content.populations().get(role) else {
            continue;
        };
        if pay_upkeep {
            upkeep_bundles(
                &mut out,
                population.upkeep.as_ref(),
                f64::from(count),
                json!({"type": "population", "id": role, "count": count}),
            );
        }
        if let Some(list) = population.triggers.get(trigger)
            && count > 0
        {
            out.push(Bundle::plain(list.clone(), count));
        }
    }
    for land in &state.lands {
        if pay_upkeep {
            upkeep_bundles(
                &mut out,
                land.upkeep.as_ref(),
                1.0,
                json!({"type": "land", "id": land.id}),
            );
        }
        if let Some(list) = land.triggers.get(trigger) {
            let mut vars = Params::new();
            vars.insert("landId".into(), Value::String(land.id.to_string()));
            out.push(Bundle::plain(list.substitute(&vars), 1));
        }
        for id in &land.developments {
            let Some(development) = content.developments().get(id) else {
                continue;
            };
            if pay_upkeep {
                upkeep_bundles(
                    &mut out,
                    development.upkeep.as_ref(),
                    1.0,
                    json!({"type": "development", "id": id, "landId": land.id}),
                );
            }
            if let Some(list) = development.triggers.get(trigger) {
                out.push(Bundle::plain(
                    list.substitute(&development_vars(id, &land.id)),
                    1,
                ));
            }
        }
    }
    for id in &state.buildings {
        let Some(building) = content.buildings().get(id) else {
            continue;
        };
        if pay_upkeep {
            upkeep_bundles(
                &mut out,
                building.upkeep.as_ref(),
                1.0,
                json!({"type": "building", "id": id}),
            );
        }
        if let Some(list) = building.triggers.get(trigger) {
            out.push(Bundle::plain(list.clone(), 1));
        }
    }
    for record in ctx.state.passives.iter().filter(|p| p.owner == player) {
        if let Some(list) = record.triggers.get(trigger) {
            out.push(Bundle {
                effects: list.clone(),
                repeat: 1,
                upkeep: false,
                frame: Some(passive_frame(record)),
            });
        }
    }
    out
}

/// Runs a bundle for the actor, appending every effect run to `record`.
pub(crate) fn run_bundle(
    ctx: &mut Ctx<'_>,
    bundle: &Bundle,
    mut record: Option<&mut Vec<Effect>>,
) -> Result<(), EngineError> {
    for _ in 0..bundle.repeat {
        if let Some(record) = record.as_deref_mut() {
            record.extend(bundle.effects.iter().cloned());
        }
        match &bundle.frame {
            Some(frame) => ctx.in_frame(frame.clone(), |ctx| {
                ctx.run_effects(bundle.effects.as_slice(), 1.0)
            })?,
            None => ctx.run_effects(bundle.effects.as_slice(), 1.0)?,
        }
    }
    Ok(())
}

/// Collects and runs `trigger` for `player`, acting as that player.
pub(crate) fn fire(ctx: &mut Ctx<'_>, trigger: &str, player: PlayerId) -> Result<(), EngineError> {
    ctx.as_player(player, |ctx| {
        let bundles = collect(ctx, trigger, player);
        for bundle in &bundles {
            run_bundle(ctx, bundle, None)?;
        }
        Ok(())
    })
}
