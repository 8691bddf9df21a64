//! Content validation: every effect compiled to a known handler, every
//! evaluator and requirement is known, phases have steps, and literal
//! references (action, building, development and role ids) exist. Errors
//! carry the path of the entry at fault. The handler, evaluator and
//! operator sets are not listed here: compiling (`op.rs`) is the one place
//! that knows them, and this module reads what it found.

use super::op::{CompareOp, EvalOp, MAX_REPETITIONS, Op, Operand, RefKind};
use super::{
    ActionEffect, Content, ContentDef, ContentError, Effect, Effects, Params, PlayerStart,
    WinTriggerKind,
};

/// Structural checks on a definition.
pub(super) fn content(def: &ContentDef) -> Result<(), ContentError> {
    if def.phases.is_empty() {
        return Err(ContentError::new(
            "phases",
            "at least one phase is required",
        ));
    }
    for (i, phase) in def.phases.iter().enumerate() {
        let path = format!("phases[{i}] ({})", phase.id);
        if phase.id.is_empty() {
            return Err(ContentError::new(path, "phase id must not be empty"));
        }
        if def.phases[..i].iter().any(|p| p.id == phase.id) {
            return Err(ContentError::new(path, "duplicate phase id"));
        }
        if phase.steps.is_empty() {
            return Err(ContentError::new(path, "a phase needs at least one step"));
        }
        for (j, step) in phase.steps.iter().enumerate() {
            let path = format!("{path}.steps[{j}] ({})", step.id);
            if step.id.is_empty() {
                return Err(ContentError::new(path, "step id must not be empty"));
            }
            if phase.steps[..j].iter().any(|s| s.id == step.id) {
                return Err(ContentError::new(path, "duplicate step id"));
            }
            if let Some(effects) = &step.effects {
                effect_list(effects.as_slice(), &format!("{path}.effects"))?;
            }
        }
    }
    for (i, action) in def.actions.iter().enumerate() {
        let path = format!("actions[{i}] ({})", action.id);
        for (j, req) in action.requirements.iter().enumerate() {
            let path = format!("{path}.requirements[{j}]");
            if req.kind != "evaluator" || req.method != "compare" {
                return Err(ContentError::new(
                    path,
                    format!("unknown requirement \"{}:{}\"", req.kind, req.method),
                ));
            }
            compare(req.compare(), &path)?;
        }
        for (j, entry) in action.effects.iter().enumerate() {
            let path = format!("{path}.effects[{j}]");
            match entry {
                ActionEffect::Effect(effect) => self::effect(effect, &path)?,
                ActionEffect::Group(group) => {
                    if group.options.is_empty() {
                        return Err(ContentError::new(
                            path,
                            "an effect group needs at least one option",
                        ));
                    }
                }
            }
        }
    }
    for (i, b) in def.buildings.iter().enumerate() {
        trigger_lists(&b.rest, &format!("buildings[{i}] ({})", b.id))?;
    }
    for (i, d) in def.developments.iter().enumerate() {
        trigger_lists(&d.rest, &format!("developments[{i}] ({})", d.id))?;
    }
    for (i, p) in def.populations.iter().enumerate() {
        trigger_lists(&p.rest, &format!("populations[{i}] ({})", p.id))?;
    }
    let rules = &def.rules;
    if rules.slots_per_new_land == 0 || rules.max_slots_per_land < rules.slots_per_new_land {
        return Err(ContentError::new(
            "rules",
            "slotsPerNewLand must be at least 1 and at most maxSlotsPerLand",
        ));
    }
    for (i, tier) in rules.tier_definitions.iter().enumerate() {
        let path = format!("rules.tierDefinitions[{i}] ({})", tier.id);
        if let Some(effects) = &tier.enter_effects {
            effect_list(effects.as_slice(), &format!("{path}.enterEffects"))?;
        }
        if let Some(effects) = &tier.exit_effects {
            effect_list(effects.as_slice(), &format!("{path}.exitEffects"))?;
        }
    }
    for (i, condition) in rules.win_conditions.iter().enumerate() {
        let path = format!("rules.winConditions[{i}] ({})", condition.id);
        if let Some(score) = &condition.score
            && (score.terms.is_empty()
                || score
                    .terms
                    .iter()
                    .any(|t| t.key.is_empty() || !t.weight.is_finite()))
        {
            return Err(ContentError::new(
                format!("{path}.score"),
                "a score needs at least one term, each with a key and a finite weight",
            ));
        }
        match &condition.trigger.kind {
            WinTriggerKind::Resource => {
                if condition.trigger.comparison.is_none() || condition.trigger.value.is_none() {
                    return Err(ContentError::new(
                        path,
                        "a resource trigger needs a comparison and a value",
                    ));
                }
            }
            WinTriggerKind::Bankruptcy => {}
            WinTriggerKind::Unknown(other) => {
                return Err(ContentError::new(
                    path,
                    format!("unknown win trigger type {:?}", other.as_str()),
                ));
            }
        }
    }
    for (who, start) in player_starts(def) {
        for (k, v) in start.population.iter().flat_map(|p| p.iter()) {
            if v.0 < 0.0 || v.0.fract() != 0.0 || v.0 > f64::from(MAX_REPETITIONS) {
                return Err(ContentError::new(
                    format!("{who}.population.{k}"),
                    format!(
                        "a population count must be a whole number from 0 to {MAX_REPETITIONS}"
                    ),
                ));
            }
        }
        for (j, land) in start.lands.iter().flatten().enumerate() {
            trigger_lists(&land.rest, &format!("{who}.lands[{j}]"))?;
        }
    }
    Ok(())
}

/// Checks that literal references name existing entries.
pub(super) fn references(content: &Content) -> Result<(), ContentError> {
    let def = content.def();
    for (i, action) in def.actions.iter().enumerate() {
        let path = format!("actions[{i}] ({})", action.id);
        for (j, entry) in action.effects.iter().enumerate() {
            let path = format!("{path}.effects[{j}]");
            match entry {
                ActionEffect::Effect(effect) => effect_references(content, effect, &path)?,
                ActionEffect::Group(group) => {
                    for (k, option) in group.options.iter().enumerate() {
                        if !content.actions().contains(&option.action_id) {
                            return Err(ContentError::new(
                                format!("{path}.options[{k}] ({})", option.id),
                                format!("unknown action {:?}", option.action_id.as_str()),
                            ));
                        }
                    }
                }
            }
        }
    }
    for b in content.buildings().iter() {
        for (name, list) in b.triggers.iter() {
            list_references(content, list, &format!("buildings ({}).{name}", b.id))?;
        }
    }
    for d in content.developments().iter() {
        for (name, list) in d.triggers.iter() {
            list_references(content, list, &format!("developments ({}).{name}", d.id))?;
        }
    }
    for p in content.populations().iter() {
        for (name, list) in p.triggers.iter() {
            list_references(content, list, &format!("populations ({}).{name}", p.id))?;
        }
    }
    for (who, start) in player_starts(def) {
        for role in start.population.iter().flat_map(|p| p.keys()) {
            if !content.populations().contains(role) {
                return Err(ContentError::new(
                    format!("{who}.population"),
                    format!("unknown population role {:?}", role.as_str()),
                ));
            }
        }
        for (j, land) in start.lands.iter().flatten().enumerate() {
            for id in &land.developments {
                if !content.developments().contains(id) {
                    return Err(ContentError::new(
                        format!("{who}.lands[{j}].developments"),
                        format!("unknown development {:?}", id.as_str()),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Every player start block with its path: the base, the per-player
/// overrides, and the dev-mode overlays of both.
fn player_starts(def: &ContentDef) -> Vec<(String, &PlayerStart)> {
    let start = &def.start;
    let mut out = vec![("start.player".to_owned(), &start.player)];
    out.extend(
        start
            .players
            .iter()
            .map(|(k, v)| (format!("start.players.{k}"), v)),
    );
    if let Some(dev) = start.modes.as_ref().and_then(|m| m.dev.as_ref()) {
        out.extend(
            dev.player
                .iter()
                .map(|p| ("start.modes.dev.player".to_owned(), p)),
        );
        out.extend(
            dev.players
                .iter()
                .map(|(k, v)| (format!("start.modes.dev.players.{k}"), v)),
        );
    }
    out
}

fn trigger_lists(rest: &Params, path: &str) -> Result<(), ContentError> {
    let triggers = super::triggers(rest, path)?;
    for (name, list) in triggers.iter() {
        effect_list(list.as_slice(), &format!("{path}.{name}"))?;
    }
    Ok(())
}

fn effect_list(list: &[Effect], path: &str) -> Result<(), ContentError> {
    for (i, e) in list.iter().enumerate() {
        effect(e, &format!("{path}[{i}]"))?;
    }
    Ok(())
}

/// Checks one compiled effect: validation is reading what compiling found.
fn effect(effect: &Effect, path: &str) -> Result<(), ContentError> {
    match effect.op() {
        Op::Group(group) => evaluator(&group.eval, &format!("{path}.evaluator"))?,
        Op::Unknown(handler) => {
            return Err(ContentError::new(
                path,
                format!("unknown effect handler {handler:?}"),
            ));
        }
        Op::Incomplete => {
            return Err(ContentError::new(
                path,
                "an effect needs both `type` and `method`",
            ));
        }
        _ => {}
    }
    if let Some(nested) = &effect.effects {
        effect_list(nested.as_slice(), &format!("{path}.effects"))?;
    }
    Ok(())
}

fn evaluator(evaluator: &EvalOp, path: &str) -> Result<(), ContentError> {
    match evaluator {
        EvalOp::Unknown(kind) => Err(ContentError::new(
            path,
            format!("unknown evaluator {:?}", kind.as_str()),
        )),
        EvalOp::Compare(op) => compare(op, path),
        EvalOp::Development { .. } | EvalOp::Population { .. } | EvalOp::Stat { .. } => Ok(()),
    }
}

fn compare(op: &CompareOp, path: &str) -> Result<(), ContentError> {
    if !op.has_params {
        return Err(ContentError::new(path, "compare needs params"));
    }
    for (side, operand) in [("left", &op.left), ("right", &op.right)] {
        let path = format!("{path}.{side}");
        match operand {
            Operand::Num(_) => {}
            Operand::Eval(nested) => evaluator(nested, &path)?,
            Operand::Malformed(message) => return Err(ContentError::new(path, message.clone())),
            Operand::Absent => {
                return Err(ContentError::new(path, "expected a number or an evaluator"));
            }
        }
    }
    match op.operator {
        Some(_) => Ok(()),
        None => Err(ContentError::new(
            format!("{path}.operator"),
            "expected one of lt, lte, gt, gte, eq, ne",
        )),
    }
}

fn list_references(content: &Content, list: &Effects, path: &str) -> Result<(), ContentError> {
    for (i, e) in list.iter().enumerate() {
        effect_references(content, e, &format!("{path}[{i}]"))?;
    }
    Ok(())
}

fn effect_references(content: &Content, effect: &Effect, path: &str) -> Result<(), ContentError> {
    if let Some((what, id)) = effect.op().reference() {
        let known = match what {
            RefKind::Action => content.actions().contains(id),
            RefKind::Building => content.buildings().contains(id),
            RefKind::Development => content.developments().contains(id),
            RefKind::Role => content.populations().contains(id),
        };
        if !known {
            let what = what.noun();
            return Err(ContentError::new(path, format!("unknown {what} {id:?}")));
        }
    }
    if let Some(nested) = &effect.effects {
        list_references(content, nested, &format!("{path}.effects"))?;
    }
    Ok(())
}
