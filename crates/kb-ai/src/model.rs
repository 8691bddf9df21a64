//! What the AI knows about the content, read once per decision: resource
//! and stat keys, upkeep and income per population role, development and
//! building, the happiness tiers, and the turn limit if the content has one.
//!
//! Everything is read from the content *as data* (the reference content
//! schema), never from engine internals: per-instance gold income from a
//! development's `onGainIncomeStep` list, AP per member from a role's
//! `onGainAPStep` list, tier consequences from each tier's informational
//! `effect` block (`incomeMultiplier`, `disableGrowth`,
//! `buildingDiscountPct`). Content that names things differently still
//! plays; the AI just values what it cannot read as nothing.

use kb_engine::content::{ActionEffect, Effects};
use kb_engine::{Content, Key};
use serde_json::Value;

/// The resource every upkeep is paid in, and the one plunder steals.
pub(crate) const GOLD: &str = "gold";
/// The resource whose loss ends the game.
pub(crate) const CASTLE: &str = "castleHP";
/// Stats the engine's attack reads.
pub(crate) const ARMY: &str = "armyStrength";
pub(crate) const FORT: &str = "fortificationStrength";
pub(crate) const ABSORPTION: &str = "absorption";
pub(crate) const WEARINESS: &str = "warWeariness";
pub(crate) const GROWTH: &str = "growth";
pub(crate) const MAX_POP: &str = "maxPopulation";
/// Roles the evaluation gives a meaning to.
pub(crate) const LEGION: &str = "legion";
pub(crate) const FORTIFIER: &str = "fortifier";

/// One happiness tier, as far as the AI cares.
#[derive(Clone, Debug)]
pub(crate) struct Tier {
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Income multiplier (1 = unchanged).
    pub income: f64,
}

/// A win condition decided by score: a per-player count of turns played,
/// the count at which the game ends, and the score that decides
/// (`turn-limit` in the default content).
#[derive(Clone, Debug)]
pub(crate) struct TurnLimit {
    /// The per-player count of turns played.
    pub key: Key,
    /// The count that ends the game.
    pub limit: f64,
    /// Score terms `(resource key, weight)`.
    pub score: Vec<(Key, f64)>,
}

/// The content, as the AI reads it.
#[derive(Clone, Debug)]
pub(crate) struct Model {
    pub ap: Key,
    pub happiness: Key,
    pub growth_phase: Key,
    /// Gold upkeep per member, AP per member, per role.
    pub roles: Vec<(Key, f64, f64)>,
    /// Gold income per instance, per development.
    pub development_income: Vec<(Key, f64)>,
    /// Gold upkeep per owned building.
    pub building_upkeep: Vec<(Key, f64)>,
    /// Extra gold per development instance while a building is owned
    /// `(building, development, gold)` (the Mill).
    pub building_income: Vec<(Key, Key, f64)>,
    /// Extra gold per Tax while a building is owned (the Market).
    pub building_tax_bonus: Vec<(Key, f64)>,
    /// Gold per population member a Tax collects.
    pub tax_per_member: f64,
    pub tiers: Vec<Tier>,
    pub turn_limit: Option<TurnLimit>,
}

impl Model {
    pub(crate) fn new(content: &Content) -> Model {
        let def = content.def();
        let rules = &def.rules;
        let roles = def
            .populations
            .iter()
            .map(|role| {
                let upkeep = role
                    .upkeep
                    .as_ref()
                    .map_or(0.0, |bag| bag.value(GOLD).max(0.0));
                let rest = Value::Object(role.rest.clone());
                let ap = added(&rest["onGainAPStep"], content.action_cost_resource());
                (role.id.clone(), upkeep, ap)
            })
            .collect();
        let development_income = def
            .developments
            .iter()
            .map(|d| {
                let rest = Value::Object(d.rest.clone());
                (d.id.clone(), added(&rest["onGainIncomeStep"], GOLD))
            })
            .collect();
        let building_upkeep = def
            .buildings
            .iter()
            .filter_map(|b| {
                let gold = b.upkeep.as_ref()?.value(GOLD);
                (gold > 0.0).then(|| (b.id.clone(), gold))
            })
            .collect();
        let mut building_income = Vec::new();
        let mut building_tax_bonus = Vec::new();
        for building in &def.buildings {
            let rest = Value::Object(building.rest.clone());
            for group in rest["onGainIncomeStep"].as_array().into_iter().flatten() {
                let evaluator = &group["evaluator"];
                if evaluator["type"] == "development"
                    && let Some(dev) = evaluator["params"]["id"].as_str()
                {
                    let gold = added(&group["effects"], GOLD);
                    if gold > 0.0 {
                        building_income.push((building.id.clone(), Key::from(dev), gold));
                    }
                }
            }
            for effect in rest["onBuild"].as_array().into_iter().flatten() {
                let params = &effect["params"];
                if effect["type"] == "result_mod"
                    && params["evaluation"]["type"] == "population"
                    && params["evaluation"]["id"] == "tax"
                    && let Some(amount) = params["amount"].as_f64()
                {
                    building_tax_bonus.push((building.id.clone(), amount));
                }
            }
        }
        let tax_per_member = def
            .actions
            .iter()
            .find(|a| a.id == "tax")
            .and_then(|tax| {
                tax.effects.iter().find_map(|entry| match entry {
                    ActionEffect::Effect(group)
                        if group
                            .evaluator
                            .as_ref()
                            .is_some_and(|e| e.kind == "population") =>
                    {
                        Some(added_by(group.effects.as_ref()?, GOLD))
                    }
                    _ => None,
                })
            })
            .unwrap_or(0.0);
        let tiers = rules
            .tier_definitions
            .iter()
            .map(|tier| {
                let effect = tier.rest.get("effect");
                let number = |name: &str| effect.and_then(|e| e.get(name)).and_then(Value::as_f64);
                Tier {
                    min: tier.range.min,
                    max: tier.range.max,
                    income: number("incomeMultiplier").unwrap_or(1.0),
                }
            })
            .collect();
        let turn_limit = rules.win_conditions.iter().find_map(|condition| {
            let score = condition.score.as_ref()?;
            Some(TurnLimit {
                key: condition.trigger.key.clone(),
                limit: condition.trigger.value?,
                score: score
                    .terms
                    .iter()
                    .map(|t| (t.key.clone(), t.weight))
                    .collect(),
            })
        });
        Model {
            ap: content.action_cost_resource().into(),
            happiness: rules.tiered_resource_key.clone(),
            growth_phase: rules
                .core_phase_ids
                .as_ref()
                .map_or_else(|| "growth".into(), |ids| ids.growth.clone()),
            roles,
            development_income,
            building_upkeep,
            building_income,
            building_tax_bonus,
            tax_per_member,
            tiers,
            turn_limit,
        }
    }

    /// The tier `value` falls in (the last one whose range holds it; below
    /// the lowest minimum, the lowest tier).
    pub(crate) fn tier(&self, value: f64) -> Option<&Tier> {
        let mut found = None;
        for tier in &self.tiers {
            if tier.min.is_some_and(|min| value < min) {
                break;
            }
            if tier.max.is_some_and(|max| value > max) {
                continue;
            }
            found = Some(tier);
        }
        if found.is_none() && self.tiers.first()?.min.is_some_and(|min| value < min) {
            return self.tiers.first();
        }
        found
    }
}

/// The sum of `resource:add` amounts of `key` in a plain effect list.
/// What the `resource:add` effects of `list` add to `key`.
fn added_by(list: &Effects, key: &str) -> f64 {
    list.iter()
        .filter(|e| e.handler() == Some(("resource", "add")))
        .filter(|e| e.param("key").and_then(Value::as_str) == Some(key))
        .filter_map(|e| e.param("amount").and_then(Value::as_f64))
        .sum()
}

fn added(list: &Value, key: &str) -> f64 {
    list.as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == "resource" && e["method"] == "add" && e["params"]["key"] == key)
        .filter_map(|e| e["params"]["amount"].as_f64())
        .sum()
}
