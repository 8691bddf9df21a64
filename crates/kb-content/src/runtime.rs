//! The runtime config (reference protocol §3.9 and §5.9): what a client
//! needs before it joins a session, served unauthenticated.

use kb_engine::{ContentDef, OrderedMap};
use kb_protocol::schema::{PhaseDef, RulesDef, StartConfig};
use serde::Serialize;

use crate::document::{BuildError, Document};
use crate::json::RenderedJson;
use crate::registries::ResourceEntry;

/// `{phases, start, rules, resources, primaryIconId}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuntimeConfig<'a> {
    phases: Vec<PhaseDef>,
    start: StartConfig,
    rules: RulesDef,
    resources: &'a OrderedMap<ResourceEntry>,
    primary_icon_id: Option<&'a str>,
}

/// Renders the runtime config of a pack whose definition is `def`, whose
/// resource registry is `resources` and whose primary icon is
/// `primary_icon_id` (`null` when none).
pub(crate) fn render(
    def: &ContentDef,
    resources: &OrderedMap<ResourceEntry>,
    primary_icon_id: Option<&str>,
) -> Result<RenderedJson, BuildError> {
    let doc = RuntimeConfig {
        phases: def.phases.iter().map(PhaseDef::from).collect(),
        start: StartConfig::from(&def.start),
        rules: RulesDef::from(&def.rules),
        resources,
        primary_icon_id,
    };
    RenderedJson::render(&doc).map_err(|source| BuildError::Render {
        part: Document::RuntimeConfig,
        source,
    })
}
