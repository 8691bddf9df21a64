//! Content: the data a game plays by.
//!
//! [`ContentDef`] is the raw definition (what JSON files and `GameConfig`
//! overrides contain, as plain data: their JSON form, the reference content
//! schema, is `kb_protocol::schema`); [`Content`] is the validated, indexed
//! form the engine runs. Building a `Content` checks every effect, evaluator, requirement
//! and reference, and an error names the entry at fault
//! (`actions[2] (tax).effects[0]: unknown effect handler "foo:bar"`).

mod def;
mod effect;
mod json;
mod kinds;
mod op;
mod validate;

use std::collections::BTreeMap;

pub use def::*;
pub use effect::{
    Effect, EffectDef, Effects, Evaluator, Params, substitute_params, substitute_value,
};
pub(crate) use kinds::effect_kinds;
pub use op::*;

use crate::Key;
use crate::map::OrderedMap;
use crate::player::{ByPlayer, PlayerId};

/// A content definition that failed validation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ContentError {
    /// Where in the content the problem is, e.g. `buildings[3] (market).onBuild[0]`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl ContentError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ContentError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Trigger lists by trigger name (`onBuild`, `onGainIncomeStep`, ...).
pub type Triggers = OrderedMap<Effects>;

/// An ordered registry of content entries, looked up by id.
#[derive(Clone, Debug)]
pub struct Registry<T> {
    items: Vec<T>,
    index: BTreeMap<Key, usize>,
}

impl<T> Registry<T> {
    fn build(items: Vec<T>, id: impl Fn(&T) -> &Key, what: &str) -> Result<Self, ContentError> {
        let mut index = BTreeMap::new();
        for (i, item) in items.iter().enumerate() {
            let key = id(item);
            if key.is_empty() {
                return Err(ContentError::new(
                    format!("{what}[{i}]"),
                    "id must not be empty",
                ));
            }
            if index.insert(key.clone(), i).is_some() {
                return Err(ContentError::new(
                    format!("{what}[{i}] ({key})"),
                    format!("duplicate id {key:?}"),
                ));
            }
        }
        Ok(Registry { items, index })
    }

    /// The entry with `id`.
    pub fn get(&self, id: &str) -> Option<&T> {
        self.index.get(id).map(|&i| &self.items[i])
    }

    /// Whether an entry has `id`.
    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// Entries in registry order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }
}

/// A building, compiled.
#[derive(Clone, Debug)]
pub struct Building {
    /// Id.
    pub id: Key,
    /// Build costs.
    pub costs: Bag,
    /// Upkeep.
    pub upkeep: Option<Bag>,
    /// Triggers, including `onBuild`.
    pub triggers: Triggers,
}

/// A development, compiled.
#[derive(Clone, Debug)]
pub struct Development {
    /// Id.
    pub id: Key,
    /// Whether player actions may not place it.
    pub system: bool,
    /// Upkeep per instance.
    pub upkeep: Option<Bag>,
    /// Triggers, including `onBuild`.
    pub triggers: Triggers,
}

/// A population role, compiled.
#[derive(Clone, Debug)]
pub struct Population {
    /// Id.
    pub id: Key,
    /// Upkeep per member.
    pub upkeep: Option<Bag>,
    /// Triggers, including `onAssigned` and `onUnassigned`.
    pub triggers: Triggers,
}

/// A phase, compiled.
#[derive(Clone, Debug)]
pub struct Phase {
    /// Id.
    pub id: Key,
    /// Whether players act in it.
    pub action: bool,
    /// Steps.
    pub steps: Vec<Step>,
}

/// A step, compiled.
#[derive(Clone, Debug)]
pub struct Step {
    /// Id.
    pub id: Key,
    /// Triggers fired.
    pub triggers: Vec<Key>,
    /// The step's own effects.
    pub effects: Option<Effects>,
}

/// A player's resolved start (mode overlay and per-player override merged
/// over the base).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResolvedStart {
    /// Resources.
    pub resources: Bag,
    /// Stats.
    pub stats: Bag,
    /// Population per role.
    pub population: Bag,
    /// Lands.
    pub lands: Vec<LandStart>,
}

/// Validated, indexed content. Cheap to share (`Arc<Content>`) between
/// every game that plays by it.
#[derive(Clone, Debug)]
pub struct Content {
    def: ContentDef,
    actions: Registry<ActionDef>,
    buildings: Registry<Building>,
    developments: Registry<Development>,
    populations: Registry<Population>,
    phases: Vec<Phase>,
    /// Resolved starts: `[normal, dev]`.
    starts: [ByPlayer<ResolvedStart>; 2],
    /// Compensations shown in snapshots: `[normal, dev]`.
    compensations: [ByPlayer<PlayerStart>; 2],
    action_cost_resource: Key,
    lower_bounds: OrderedMap<f64>,
}

impl Content {
    /// Validates and compiles a content definition.
    pub fn new(def: ContentDef) -> Result<Content, ContentError> {
        validate::content(&def)?;
        let actions = Registry::build(def.actions.clone(), |a| &a.id, "actions")?;
        let buildings = Registry::build(
            def.buildings
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    Ok(Building {
                        id: b.id.clone(),
                        costs: b.costs.clone(),
                        upkeep: b.upkeep.clone(),
                        triggers: triggers(&b.rest, &format!("buildings[{i}] ({})", b.id))?,
                    })
                })
                .collect::<Result<_, ContentError>>()?,
            |b| &b.id,
            "buildings",
        )?;
        let developments = Registry::build(
            def.developments
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    Ok(Development {
                        id: d.id.clone(),
                        system: d.system,
                        upkeep: d.upkeep.clone(),
                        triggers: triggers(&d.rest, &format!("developments[{i}] ({})", d.id))?,
                    })
                })
                .collect::<Result<_, ContentError>>()?,
            |d| &d.id,
            "developments",
        )?;
        let populations = Registry::build(
            def.populations
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    Ok(Population {
                        id: p.id.clone(),
                        upkeep: p.upkeep.clone(),
                        triggers: triggers(&p.rest, &format!("populations[{i}] ({})", p.id))?,
                    })
                })
                .collect::<Result<_, ContentError>>()?,
            |p| &p.id,
            "populations",
        )?;
        let phases = def
            .phases
            .iter()
            .map(|p| Phase {
                id: p.id.clone(),
                action: p.action,
                steps: p
                    .steps
                    .iter()
                    .map(|s| Step {
                        id: s.id.clone(),
                        triggers: s.triggers.clone(),
                        effects: s.effects.clone(),
                    })
                    .collect(),
            })
            .collect();
        let starts = [
            resolve_starts(&def.start, false),
            resolve_starts(&def.start, true),
        ];
        let compensations = [
            compensations(&def.start, false),
            compensations(&def.start, true),
        ];
        let action_cost_resource = action_cost_resource(&def.actions);
        let lower_bounds = def
            .resources
            .iter()
            .filter_map(|r| Some((r.key.clone(), r.lower_bound?)))
            .collect();
        let content = Content {
            def,
            actions,
            buildings,
            developments,
            populations,
            phases,
            starts,
            compensations,
            action_cost_resource,
            lower_bounds,
        };
        validate::references(&content)?;
        Ok(content)
    }

    /// Applies a per-session override to `base` and validates the result.
    pub fn with_config(base: &ContentDef, config: &GameConfig) -> Result<Content, ContentError> {
        Content::new(apply_config(base, config))
    }

    /// The definition this content was built from.
    pub fn def(&self) -> &ContentDef {
        &self.def
    }

    /// Actions.
    pub fn actions(&self) -> &Registry<ActionDef> {
        &self.actions
    }

    /// Buildings.
    pub fn buildings(&self) -> &Registry<Building> {
        &self.buildings
    }

    /// Developments.
    pub fn developments(&self) -> &Registry<Development> {
        &self.developments
    }

    /// Population roles.
    pub fn populations(&self) -> &Registry<Population> {
        &self.populations
    }

    /// Phases.
    pub fn phases(&self) -> &[Phase] {
        &self.phases
    }

    /// Rules.
    pub fn rules(&self) -> &RulesDef {
        &self.def.rules
    }

    /// The resource every action costs (`ap` by default), or `""`.
    pub fn action_cost_resource(&self) -> &str {
        &self.action_cost_resource
    }

    /// The resolved start of each player.
    pub fn start(&self, dev_mode: bool) -> &ByPlayer<ResolvedStart> {
        &self.starts[usize::from(dev_mode)]
    }

    /// What each player's start differs from the base by (snapshot
    /// `compensations`).
    pub fn compensations(&self, dev_mode: bool) -> &ByPlayer<PlayerStart> {
        &self.compensations[usize::from(dev_mode)]
    }

    /// The lower bound of a resource, if it has one.
    pub fn lower_bound(&self, key: &str) -> Option<f64> {
        self.lower_bounds.get(key).copied()
    }
}

/// Applies a `GameConfig` to a base definition.
pub fn apply_config(base: &ContentDef, config: &GameConfig) -> ContentDef {
    fn pick<T: Clone>(base: &[T], over: &Option<Vec<T>>) -> Vec<T> {
        match over {
            Some(list) if !list.is_empty() => list.clone(),
            _ => base.to_vec(),
        }
    }
    ContentDef {
        resources: base.resources.clone(),
        actions: pick(&base.actions, &config.actions),
        buildings: pick(&base.buildings, &config.buildings),
        developments: pick(&base.developments, &config.developments),
        populations: pick(&base.populations, &config.populations),
        phases: pick(&base.phases, &config.phases),
        start: config.start.clone().unwrap_or_else(|| base.start.clone()),
        rules: base.rules.clone(),
    }
}

/// Extracts the trigger lists (`on*` keys) of an entry. A trigger key
/// holding anything but a list (or `null`, no trigger) is refused: it
/// would otherwise be kept as display data and never run.
pub(crate) fn triggers(rest: &Params, path: &str) -> Result<Triggers, ContentError> {
    let mut out = Triggers::new();
    for (key, value) in rest {
        if !is_trigger_name(key) || value.is_null() {
            continue;
        }
        if !value.is_array() {
            return Err(ContentError::new(
                format!("{path}.{key}"),
                "a trigger is a list of effects",
            ));
        }
        let effects =
            Effects::from_json(value).map_err(|e| ContentError::new(format!("{path}.{key}"), e))?;
        out.insert(key.as_str(), effects);
    }
    Ok(out)
}

fn is_trigger_name(key: &str) -> bool {
    key.strip_prefix("on")
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_uppercase())
}

fn merge_bag(base: &Option<Bag>, over: &Option<Bag>) -> Option<Bag> {
    match (base, over) {
        (None, None) => None,
        (Some(b), None) => Some(b.clone()),
        (None, Some(o)) => Some(o.clone()),
        (Some(b), Some(o)) => {
            let mut merged = b.clone();
            for (k, v) in o.iter() {
                merged.insert(k.clone(), *v);
            }
            Some(merged)
        }
    }
}

fn merge_start(base: &PlayerStart, over: &PlayerStart) -> PlayerStart {
    PlayerStart {
        resources: merge_bag(&base.resources, &over.resources),
        stats: merge_bag(&base.stats, &over.stats),
        population: merge_bag(&base.population, &over.population),
        lands: over.lands.clone().or_else(|| base.lands.clone()),
    }
}

/// The base player and per-player overrides after the mode overlay.
fn mode_start(start: &StartConfig, dev_mode: bool) -> (PlayerStart, OrderedMap<PlayerStart>) {
    let dev = start
        .modes
        .as_ref()
        .and_then(|m| m.dev.as_ref())
        .filter(|_| dev_mode);
    let base = match dev.and_then(|d| d.player.as_ref()) {
        Some(over) => merge_start(&start.player, over),
        None => start.player.clone(),
    };
    let mut players = start.players.clone();
    if let Some(dev) = dev {
        for (id, over) in dev.players.iter() {
            let merged = match players.get(id) {
                Some(existing) => merge_start(existing, over),
                None => over.clone(),
            };
            players.insert(id.clone(), merged);
        }
    }
    (base, players)
}

fn resolve_starts(start: &StartConfig, dev_mode: bool) -> ByPlayer<ResolvedStart> {
    let (base, players) = mode_start(start, dev_mode);
    ByPlayer::new_with(|player| {
        let merged = match players.get(player.as_str()) {
            Some(over) => merge_start(&base, over),
            None => base.clone(),
        };
        ResolvedStart {
            resources: merged.resources.unwrap_or_default(),
            stats: merged.stats.unwrap_or_default(),
            population: merged.population.unwrap_or_default(),
            lands: merged.lands.unwrap_or_default(),
        }
    })
}

/// The per-player overrides (after the mode overlay), reduced to what differs
/// from the base: the reference's "compensations" (B's extra AP).
fn compensations(start: &StartConfig, dev_mode: bool) -> ByPlayer<PlayerStart> {
    let (base, players) = mode_start(start, dev_mode);
    let base_resources = base.resources.unwrap_or_default();
    let base_stats = base.stats.unwrap_or_default();
    let base_population = base.population.unwrap_or_default();
    let diff = |over: &Option<Bag>, base: &Bag| -> Option<Bag> {
        let bag: Bag = over
            .iter()
            .flat_map(|o| o.iter())
            .filter(|(k, v)| base.get(k) != Some(v))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        (!bag.is_empty()).then_some(bag)
    };
    ByPlayer::new_with(|player: PlayerId| match players.get(player.as_str()) {
        None => PlayerStart::default(),
        Some(over) => PlayerStart {
            resources: diff(&over.resources, &base_resources),
            stats: diff(&over.stats, &base_stats),
            population: diff(&over.population, &base_population),
            lands: over.lands.clone(),
        },
    })
}

fn action_cost_resource(actions: &[ActionDef]) -> Key {
    let mut common: Option<Vec<Key>> = None;
    for action in actions.iter().filter(|a| !a.system) {
        let Some(costs) = action.base_costs.as_ref().filter(|c| !c.is_empty()) else {
            continue;
        };
        common = Some(match common {
            None => costs.keys().cloned().collect(),
            Some(keys) => keys.into_iter().filter(|k| costs.contains_key(k)).collect(),
        });
    }
    common
        .and_then(|keys| keys.into_iter().next())
        .unwrap_or_default()
}
