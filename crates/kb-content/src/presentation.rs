//! The presentation parts of a pack, which the engine ignores and clients
//! read ([`Presentation`] and its descriptors), and [`Sources`]: everything
//! session content is built from besides its engine content.

use kb_engine::content::PopulationDef;
use kb_engine::{Num, OrderedMap};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The parts of a pack the engine ignores and clients read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Presentation {
    /// Stat descriptors, in display order.
    #[serde(default)]
    pub stats: Vec<StatInfo>,
    /// Action categories.
    #[serde(default)]
    pub action_categories: Vec<ActionCategoryInfo>,
    /// Trigger descriptors by trigger name (`onBuild`, ...).
    #[serde(default)]
    pub triggers: OrderedMap<TriggerInfo>,
    /// Descriptors of the game's fixed concepts (`passive`, `land`, `slot`,
    /// `upkeep`, `transfer`...).
    #[serde(default)]
    pub assets: OrderedMap<Descriptor>,
    /// The game overview (hero, sections, token map), sent as written.
    #[serde(default)]
    pub overview: serde_json::Map<String, Value>,
    /// The resource whose icon stands for the game.
    #[serde(default)]
    pub primary_icon_id: Option<String>,
}

/// A label, icon and description.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Descriptor {
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Describes a stat.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatInfo {
    /// Stat key, as in the start configuration.
    pub key: String,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether clients show the value as a percentage (0.25 as 25 %).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub display_as_percent: bool,
    /// How clients format a change (`{prefix?, percent?}` or a string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Value>,
}

/// Describes a trigger.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TriggerInfo {
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// When it fires, said ahead ("When you gain income").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub future: Option<String>,
    /// When it fired, said after ("Income").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub past: Option<String>,
}

/// How clients lay out an action category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CategoryLayout {
    /// The main action grid.
    GridPrimary,
    /// The secondary action grid.
    GridSecondary,
    /// A list.
    List,
}

/// An action category, as a pack writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActionCategoryInfo {
    /// Category id (what actions name in `category`).
    pub id: String,
    /// Label (the registry's `title`).
    pub label: String,
    /// Subtitle (the label when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Icon.
    pub icon: String,
    /// Sort key, lower first.
    pub order: Num,
    /// Layout.
    pub layout: CategoryLayout,
    /// Whether clients hide the category while it has no action.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hide_when_empty: bool,
    /// Analytics key, when it differs from the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analytics_key: Option<String>,
}

/// The display fields of a resource descriptor (the `rest` of a
/// [`kb_engine::content::ResourceDef`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) icon: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tags: Option<Vec<String>>,
}

/// What session content is built from besides its engine content: the
/// pack's presentation parts and descriptors.
pub(crate) struct Sources<'a> {
    pub(crate) presentation: &'a Presentation,
    pub(crate) resource_info: &'a [(String, ResourceInfo)],
    /// The pack's own population roles (a config's role without a
    /// description keeps the pack's).
    pub(crate) pack_populations: &'a [PopulationDef],
}
