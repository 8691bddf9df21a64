//! The registries a session sends its clients (reference protocol §3.5):
//! every action, building, development and population keyed by id as
//! written, the action categories, and the resources.

use kb_engine::content::{PlayerStart, StartConfig};
use kb_engine::{ContentDef, Num, OrderedMap};
use kb_protocol::schema::{ActionDef, BuildingDef, DevelopmentDef, PopulationDef};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::presentation::{ActionCategoryInfo, CategoryLayout, ResourceInfo, Sources};

/// The registries document.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Registries<'a> {
    actions: ById<ActionDef>,
    buildings: ById<BuildingDef>,
    developments: ById<DevelopmentDef>,
    populations: ById<PopulationDef>,
    resources: &'a OrderedMap<ResourceEntry>,
    action_categories: OrderedMap<ActionCategory<'a>>,
}

impl<'a> Registries<'a> {
    /// The registries of `def`, with `resources` from [`resource_entries`].
    pub(crate) fn new(
        sources: &Sources<'a>,
        def: &'a ContentDef,
        resources: &'a OrderedMap<ResourceEntry>,
    ) -> Registries<'a> {
        Registries {
            actions: ById::new(&def.actions, |a| &a.id),
            buildings: ById::new(&def.buildings, |b| &b.id),
            developments: ById::new(&def.developments, |d| &d.id),
            populations: ById::new(&def.populations, |p| &p.id),
            resources,
            action_categories: sources
                .presentation
                .action_categories
                .iter()
                .map(|c| (c.id.as_str(), ActionCategory::from(c)))
                .collect(),
        }
    }
}

/// Entries in the content schema, serialized as an object keyed by each
/// entry's id, in registry order.
struct ById<T>(Vec<(kb_engine::Key, T)>);

impl<T> ById<T> {
    /// The schema form of the engine's `entries`, keyed by `id`.
    fn new<'e, E: 'e>(entries: &'e [E], id: fn(&E) -> &kb_engine::Key) -> ById<T>
    where
        T: From<&'e E>,
    {
        ById(
            entries
                .iter()
                .map(|entry| (id(entry).clone(), T::from(entry)))
                .collect(),
        )
    }
}

impl<T: Serialize> Serialize for ById<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (id, item) in &self.0 {
            map.serialize_entry(id.as_str(), item)?;
        }
        map.end()
    }
}

/// A resource registry entry: `{key, icon?, label?, description?, tags?}`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ResourceEntry {
    pub(crate) key: String,
    #[serde(flatten)]
    pub(crate) info: ResourceInfo,
}

/// The resource registry: the pack's resource descriptors in pack order,
/// then every other resource key the start configuration mentions (base
/// player, per-player overrides, dev-mode overlays), described by key only.
pub(crate) fn resource_entries(
    sources: &Sources<'_>,
    start: &StartConfig,
) -> OrderedMap<ResourceEntry> {
    let mut entries: OrderedMap<ResourceEntry> = sources
        .resource_info
        .iter()
        .map(|(key, info)| {
            let entry = ResourceEntry {
                key: key.clone(),
                info: info.clone(),
            };
            (key.as_str(), entry)
        })
        .collect();
    let dev = start.modes.as_ref().and_then(|modes| modes.dev.as_ref());
    let player_starts = std::iter::once(&start.player)
        .chain(start.players.values())
        .chain(dev.and_then(|dev| dev.player.as_ref()))
        .chain(dev.into_iter().flat_map(|dev| dev.players.values()));
    for key in player_starts.flat_map(resource_keys) {
        entries.entry_or_insert_with(key, || ResourceEntry {
            key: key.to_owned(),
            info: ResourceInfo::default(),
        });
    }
    entries
}

fn resource_keys(start: &PlayerStart) -> impl Iterator<Item = &str> {
    start
        .resources
        .iter()
        .flat_map(|bag| bag.keys().map(|key| key.as_str()))
}

/// An action category registry entry: `{id, title, subtitle, icon, order,
/// layout, description?, hideWhenEmpty?, analyticsKey?}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ActionCategory<'a> {
    id: &'a str,
    title: &'a str,
    subtitle: &'a str,
    icon: &'a str,
    order: Num,
    layout: CategoryLayout,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    hide_when_empty: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    analytics_key: Option<&'a str>,
}

impl<'a> From<&'a ActionCategoryInfo> for ActionCategory<'a> {
    fn from(info: &'a ActionCategoryInfo) -> Self {
        ActionCategory {
            id: &info.id,
            title: &info.label,
            subtitle: info.subtitle.as_deref().unwrap_or(&info.label),
            icon: &info.icon,
            order: info.order,
            layout: info.layout,
            description: info.description.as_deref(),
            hide_when_empty: info.hide_when_empty,
            analytics_key: info.analytics_key.as_deref(),
        }
    }
}
