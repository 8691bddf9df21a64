//! [`ContentPack`]: one JSON document holding the engine content and the
//! presentation parts only clients read, loaded and checked as a whole.
//!
//! The engine parts (`resources`, `actions`, `buildings`, `developments`,
//! `populations`, `phases`, `start`, `rules`) are a [`ContentDef`]; the
//! presentation parts (`stats`, `actionCategories`, `triggers`, `assets`,
//! `overview`, `primaryIconId`) are a [`Presentation`].

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

use kb_engine::{Content, ContentDef, ContentError, OrderedMap};
use kb_protocol::schema;
use serde::Deserialize;
use serde_json::Value;

use crate::document::BuildError;
use crate::json::{PathError, RenderedJson, deserialize_with_path};
use crate::presentation::{Presentation, ResourceInfo, Sources};
use crate::session::SessionContent;

/// The default content pack, as shipped.
pub const DEFAULT_PACK_JSON: &str = include_str!("../content/default.json");

/// The sections a pack may have; anything else is a mistake.
const SECTIONS: [&str; 14] = [
    "resources",
    "actions",
    "buildings",
    "developments",
    "populations",
    "phases",
    "start",
    "rules",
    "stats",
    "actionCategories",
    "triggers",
    "assets",
    "overview",
    "primaryIconId",
];

/// A content pack failed to load.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The pack is not JSON, or a section does not have the expected shape.
    #[error("content pack: {path}: {source}")]
    Schema {
        /// Where (`actions[2].baseCosts`, `stats[0].label`, `.` for the whole
        /// document).
        path: String,
        /// What is wrong.
        #[source]
        source: serde_json::Error,
    },
    /// The pack has a section no part of the system reads.
    #[error("content pack: unknown section {section:?}")]
    UnknownSection {
        /// The section.
        section: String,
    },
    /// The engine content does not validate.
    #[error("content pack: {0}")]
    Engine(#[source] ContentError),
    /// A resource descriptor has display fields of the wrong shape.
    #[error("content pack: resources[{index}] ({key}): {source}")]
    ResourceInfo {
        /// Position in `resources`.
        index: usize,
        /// Resource key.
        key: String,
        /// What is wrong.
        #[source]
        source: serde_json::Error,
    },
    /// Two entries of a presentation section share an id.
    #[error("content pack: {section} has {id:?} twice")]
    Duplicate {
        /// The section (`stats`, `actionCategories`).
        section: &'static str,
        /// The id.
        id: String,
    },
    /// An action names a category the pack does not define.
    #[error("content pack: action {action:?} is in unknown category {category:?}")]
    UnknownCategory {
        /// The action.
        action: String,
        /// The category it names.
        category: String,
    },
    /// `primaryIconId` names no resource.
    #[error("content pack: primaryIconId {id:?} is not a resource key")]
    UnknownPrimaryIcon {
        /// The id.
        id: String,
    },
    /// Building the pack's own session content failed.
    #[error("content pack: {0}")]
    Build(#[source] BuildError),
}

/// A complete content pack: the engine content, validated, and the
/// presentation parts, with the session content of the pack itself (no
/// config) and the runtime config built once.
#[derive(Debug)]
pub struct ContentPack {
    presentation: Presentation,
    resource_info: Vec<(String, ResourceInfo)>,
    base: Arc<SessionContent>,
    runtime_config: RenderedJson,
}

static DEFAULT_PACK: LazyLock<ContentPack> = LazyLock::new(|| {
    ContentPack::from_json(DEFAULT_PACK_JSON)
        .unwrap_or_else(|error| panic!("the default content pack is invalid: {error}"))
});

impl ContentPack {
    /// The default pack ([`DEFAULT_PACK_JSON`]), loaded on first use and
    /// shared by the whole process.
    ///
    /// # Panics
    ///
    /// If the shipped pack does not load: a bug, which the crate's tests
    /// rule out.
    pub fn default_pack() -> &'static ContentPack {
        &DEFAULT_PACK
    }

    /// Loads and checks a pack: its JSON shape, the engine content
    /// ([`Content::new`]) and the presentation parts.
    pub fn from_json(text: &str) -> Result<ContentPack, PackError> {
        let sections: OrderedMap<serde::de::IgnoredAny> = parse(text)?;
        if let Some(section) = sections
            .keys()
            .find(|key| !SECTIONS.contains(&key.as_str()))
        {
            return Err(PackError::UnknownSection {
                section: section.to_string(),
            });
        }
        let def: ContentDef = parse::<schema::ContentDef>(text)?.into();
        let presentation: Presentation = parse(text)?;
        let resource_info = def
            .resources
            .iter()
            .enumerate()
            .map(|(index, resource)| {
                let info = ResourceInfo::deserialize(Value::Object(resource.rest.clone()))
                    .map_err(|source| PackError::ResourceInfo {
                        index,
                        key: resource.key.to_string(),
                        source,
                    })?;
                Ok((resource.key.to_string(), info))
            })
            .collect::<Result<Vec<_>, PackError>>()?;
        check_presentation(&def, &presentation)?;
        let content = Arc::new(Content::new(def).map_err(PackError::Engine)?);
        let sources = Sources {
            presentation: &presentation,
            resource_info: &resource_info,
            pack_populations: &content.def().populations,
        };
        let base = Arc::new(
            SessionContent::build(&sources, Arc::clone(&content)).map_err(PackError::Build)?,
        );
        let runtime_config = crate::runtime::render(
            content.def(),
            &crate::registries::resource_entries(&sources, &content.def().start),
            presentation.primary_icon_id.as_deref(),
        )
        .map_err(PackError::Build)?;
        Ok(ContentPack {
            presentation,
            resource_info,
            base,
            runtime_config,
        })
    }

    /// The engine content definition.
    pub fn def(&self) -> &ContentDef {
        self.base.content().def()
    }

    /// The presentation parts.
    pub fn presentation(&self) -> &Presentation {
        &self.presentation
    }

    /// The session content of this pack without a config, shared by every
    /// session that has none.
    pub fn base_session(&self) -> &Arc<SessionContent> {
        &self.base
    }

    /// The session content for `config`: the shared
    /// [`base_session`](Self::base_session) when there is no config or it
    /// overrides nothing, otherwise content built for it.
    ///
    /// Config lists that are absent or empty keep the pack's; a non-empty
    /// list replaces the pack's whole registry; `start` replaces the start
    /// configuration; `phases` replace the phases the session plays. The
    /// config is in the content schema (as a request or a log carries it).
    pub fn session(
        &self,
        config: Option<&schema::GameConfig>,
    ) -> Result<Arc<SessionContent>, BuildError> {
        match config.filter(|config| overrides_anything(config)) {
            None => Ok(Arc::clone(&self.base)),
            Some(config) => {
                let config = kb_engine::GameConfig::from(config.clone());
                let content =
                    Content::with_config(self.def(), &config).map_err(BuildError::Config)?;
                Ok(Arc::new(SessionContent::build(
                    &self.sources(),
                    Arc::new(content),
                )?))
            }
        }
    }

    /// The runtime config (`GET /runtime-config`, reference protocol §3.9):
    /// `{phases, start, rules, resources, primaryIconId}` of this pack.
    pub fn runtime_config(&self) -> &RenderedJson {
        &self.runtime_config
    }

    /// What session content is built from, besides its engine content.
    fn sources(&self) -> Sources<'_> {
        Sources {
            presentation: &self.presentation,
            resource_info: &self.resource_info,
            pack_populations: &self.def().populations,
        }
    }
}

/// Whether a config changes anything (absent and empty lists keep the
/// pack's, as in the reference).
fn overrides_anything(config: &schema::GameConfig) -> bool {
    fn given<T>(list: &Option<Vec<T>>) -> bool {
        list.as_ref().is_some_and(|list| !list.is_empty())
    }
    config.start.is_some()
        || given(&config.actions)
        || given(&config.buildings)
        || given(&config.developments)
        || given(&config.populations)
        || given(&config.phases)
}

/// Deserializes the whole pack text as `T`, naming the path of a failure.
fn parse<'de, T: Deserialize<'de>>(text: &'de str) -> Result<T, PackError> {
    deserialize_with_path(text)
        .map_err(|PathError { path, source }| PackError::Schema { path, source })
}

fn check_presentation(def: &ContentDef, presentation: &Presentation) -> Result<(), PackError> {
    unique("stats", presentation.stats.iter().map(|s| s.key.as_str()))?;
    unique(
        "actionCategories",
        presentation.action_categories.iter().map(|c| c.id.as_str()),
    )?;
    for action in &def.actions {
        let Some(category) = action.rest.get("category") else {
            continue;
        };
        let known = category
            .as_str()
            .is_some_and(|id| presentation.action_categories.iter().any(|c| c.id == id));
        if !known {
            return Err(PackError::UnknownCategory {
                action: action.id.to_string(),
                category: category
                    .as_str()
                    .map_or_else(|| category.to_string(), str::to_owned),
            });
        }
    }
    if let Some(id) = &presentation.primary_icon_id
        && !def.resources.iter().any(|r| r.key == id.as_str())
    {
        return Err(PackError::UnknownPrimaryIcon { id: id.clone() });
    }
    Ok(())
}

fn unique<'a>(section: &'static str, ids: impl Iterator<Item = &'a str>) -> Result<(), PackError> {
    let mut seen = BTreeSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(PackError::Duplicate {
                section,
                id: id.to_owned(),
            });
        }
    }
    Ok(())
}
