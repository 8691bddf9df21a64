//! The static metadata a session sends its clients (reference protocol
//! §3.6): labels, icons and descriptions of resources, populations,
//! buildings, developments and stats; the phases; triggers; assets; and the
//! overview. A section with no entry is left out, except `overview`.

use kb_engine::content::{Params, PhaseDef, StepDef};
use kb_engine::{ContentDef, Key, OrderedMap};
use serde::Serialize;
use serde_json::Value;

use crate::presentation::{Descriptor, Sources, StatInfo, TriggerInfo};
use crate::registries::ResourceEntry;

/// The static metadata document.
#[derive(Serialize)]
pub(crate) struct Metadata<'a> {
    #[serde(skip_serializing_if = "OrderedMap::is_empty")]
    resources: OrderedMap<Descriptor>,
    #[serde(skip_serializing_if = "OrderedMap::is_empty")]
    populations: OrderedMap<Descriptor>,
    #[serde(skip_serializing_if = "OrderedMap::is_empty")]
    buildings: OrderedMap<Descriptor>,
    #[serde(skip_serializing_if = "OrderedMap::is_empty")]
    developments: OrderedMap<Descriptor>,
    #[serde(skip_serializing_if = "OrderedMap::is_empty")]
    stats: OrderedMap<StatDescriptor<'a>>,
    #[serde(skip_serializing_if = "OrderedMap::is_empty")]
    phases: OrderedMap<PhaseMetadata<'a>>,
    #[serde(skip_serializing_if = "OrderedMap::is_empty")]
    triggers: &'a OrderedMap<TriggerInfo>,
    #[serde(skip_serializing_if = "OrderedMap::is_empty")]
    assets: &'a OrderedMap<Descriptor>,
    overview: &'a serde_json::Map<String, Value>,
}

impl<'a> Metadata<'a> {
    /// The metadata of `def` (the session's own registries and phases),
    /// with resource descriptors from the resource registry.
    pub(crate) fn new(
        sources: &Sources<'a>,
        def: &'a ContentDef,
        resources: &OrderedMap<ResourceEntry>,
    ) -> Metadata<'a> {
        let presentation = sources.presentation;
        Metadata {
            resources: resources
                .iter()
                .map(|(key, entry)| {
                    let descriptor = Descriptor {
                        label: entry.info.label.clone(),
                        icon: entry.info.icon.clone(),
                        description: entry.info.description.clone(),
                    };
                    (key.clone(), descriptor)
                })
                .collect(),
            populations: def
                .populations
                .iter()
                .map(|p| {
                    let mut descriptor = describe(&p.name, &p.rest);
                    if descriptor.description.is_none() {
                        // A config's role without a description keeps the
                        // pack's description of the same role.
                        descriptor.description = sources
                            .pack_populations
                            .iter()
                            .find(|base| base.id == p.id)
                            .and_then(|base| text(&base.rest, "description"));
                    }
                    (p.id.clone(), descriptor)
                })
                .collect(),
            buildings: def
                .buildings
                .iter()
                .map(|b| (b.id.clone(), describe(&b.name, &b.rest)))
                .collect(),
            developments: def
                .developments
                .iter()
                .map(|d| (d.id.clone(), describe(&d.name, &d.rest)))
                .collect(),
            stats: presentation
                .stats
                .iter()
                .map(|stat| (stat.key.as_str(), StatDescriptor::from(stat)))
                .collect(),
            phases: def
                .phases
                .iter()
                .map(|phase| (phase.id.clone(), PhaseMetadata::from(phase)))
                .collect(),
            triggers: &presentation.triggers,
            assets: &presentation.assets,
            overview: &presentation.overview,
        }
    }
}

/// `{label: name, icon?, description?}` of a registry entry.
fn describe(name: &str, rest: &Params) -> Descriptor {
    Descriptor {
        label: Some(name.to_owned()),
        icon: text(rest, "icon"),
        description: text(rest, "description"),
    }
}

/// A non-empty string field of an entry's display fields.
fn text(rest: &Params, key: &str) -> Option<String> {
    str_field(rest, key).map(str::to_owned)
}

fn str_field<'a>(rest: &'a Params, key: &str) -> Option<&'a str> {
    rest.get(key)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
}

/// `{label?, icon?, description?, displayAsPercent?, format?}` of a stat.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatDescriptor<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icon: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    display_as_percent: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<&'a Value>,
}

impl<'a> From<&'a StatInfo> for StatDescriptor<'a> {
    fn from(stat: &'a StatInfo) -> Self {
        StatDescriptor {
            label: stat.label.as_deref(),
            icon: stat.icon.as_deref(),
            description: stat.description.as_deref(),
            display_as_percent: stat.display_as_percent,
            format: stat.format.as_ref(),
        }
    }
}

/// `{id, label?, icon?, action?, steps?}` of a phase.
#[derive(Serialize)]
struct PhaseMetadata<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icon: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    action: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    steps: Vec<StepMetadata<'a>>,
}

impl<'a> From<&'a PhaseDef> for PhaseMetadata<'a> {
    fn from(phase: &'a PhaseDef) -> Self {
        PhaseMetadata {
            id: &phase.id,
            label: str_field(&phase.rest, "label"),
            icon: str_field(&phase.rest, "icon"),
            action: phase.action,
            steps: phase.steps.iter().map(StepMetadata::from).collect(),
        }
    }
}

/// `{id, label? (the step's title), icon?, triggers?}` of a step.
#[derive(Serialize)]
struct StepMetadata<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icon: Option<&'a str>,
    #[serde(skip_serializing_if = "<[Key]>::is_empty")]
    triggers: &'a [Key],
}

impl<'a> From<&'a StepDef> for StepMetadata<'a> {
    fn from(step: &'a StepDef) -> Self {
        StepMetadata {
            id: &step.id,
            label: str_field(&step.rest, "title"),
            icon: str_field(&step.rest, "icon"),
            triggers: &step.triggers,
        }
    }
}
