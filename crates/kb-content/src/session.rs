//! [`SessionContent`]: what one session plays by and shows, its
//! [`ContentId`], and its stored form, [`ContentRecord`].
//!
//! A session's content is fixed when the session is created. It is stored
//! with the session as three JSON texts (engine content, registries,
//! metadata) and rebuilt from those texts alone, so a restored session plays
//! by the content it was created with even after the server's default
//! content changed (PRODUCT.md §3).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use kb_engine::{Content, ContentDef, ContentError};
use kb_protocol::schema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::document::{BuildError, Document};
use crate::id::ContentId;
use crate::json::{PathError, RenderedJson, deserialize_with_path};
use crate::metadata::Metadata;
use crate::presentation::Sources;
use crate::registries::{Registries, resource_entries};

/// Stored session content could not be rebuilt.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// A stored text is not JSON.
    #[error("stored {part} is not valid JSON: {source}")]
    Json {
        /// The document.
        part: Document,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A stored text is JSON but not an object.
    #[error("stored {part} is not a JSON object")]
    NotObject {
        /// The document.
        part: Document,
    },
    /// The stored engine content does not fit the content schema.
    #[error("stored engine content: {path}: {source}")]
    Schema {
        /// Where.
        path: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The stored engine content does not validate.
    #[error("stored engine content is invalid: {0}")]
    Engine(#[source] ContentError),
    /// The stored texts are not the content the stored id names.
    #[error("stored content has id {actual}, but the session names {expected}")]
    IdMismatch {
        /// The id stored with the session.
        expected: ContentId,
        /// The id of the stored texts.
        actual: ContentId,
    },
}

/// The stored form of a [`SessionContent`]: three JSON texts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentRecord {
    /// The engine content definition (a `ContentDef`) the session plays by.
    pub engine: String,
    /// The registries, as sent to clients.
    pub registries: String,
    /// The static metadata, as sent to clients.
    pub metadata: String,
}

/// What a session plays by and shows: the engine [`Content`], the
/// registries and the static metadata, each rendered once, and the
/// [`ContentId`] naming all three.
pub struct SessionContent {
    id: ContentId,
    content: Arc<Content>,
    engine: String,
    registries: RenderedJson,
    metadata: RenderedJson,
    /// The metadata's top-level fields, each pre-rendered, built on first
    /// use (responses merge engine fields among them).
    metadata_sections: OnceLock<Vec<(String, Box<RawValue>)>>,
    /// The static parts of every snapshot, pre-rendered on first use.
    snapshot_statics: OnceLock<SnapshotStatics>,
}

/// The parts of a game snapshot that depend only on the content (and the
/// dev-mode flag), rendered once so responses can write them verbatim.
#[derive(Debug)]
pub struct SnapshotStatics {
    /// `phases`.
    pub phases: Box<RawValue>,
    /// `rules`: `{tieredResourceKey, tierDefinitions, winConditions}`.
    pub rules: Box<RawValue>,
    /// `compensations`, without and with dev mode.
    pub compensations: [Box<RawValue>; 2],
}

impl fmt::Debug for SessionContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionContent")
            .field("id", &self.id)
            .field("registries_bytes", &self.registries.byte_len())
            .field("metadata_bytes", &self.metadata.byte_len())
            .finish_non_exhaustive()
    }
}

fn render<T: Serialize + ?Sized>(part: Document, doc: &T) -> Result<String, BuildError> {
    serde_json::to_string(doc).map_err(|source| BuildError::Render { part, source })
}

impl SessionContent {
    /// Builds the session content of `content` from `sources`.
    pub(crate) fn build(
        sources: &Sources<'_>,
        content: Arc<Content>,
    ) -> Result<SessionContent, BuildError> {
        let def = content.def();
        let resources = resource_entries(sources, &def.start);
        let registries = render(
            Document::Registries,
            &Registries::new(sources, def, &resources),
        )?;
        let metadata = render(Document::Metadata, &Metadata::new(sources, def, &resources))?;
        let engine = render(Document::Engine, &schema::ContentDef::from(def))?;
        SessionContent::assemble(content, engine, registries, metadata)
            .map_err(|(part, source)| BuildError::Render { part, source })
    }

    /// Puts rendered texts together with the content they describe and
    /// computes the id. Building and restoring both end here, so equal
    /// texts always give equal ids.
    fn assemble(
        content: Arc<Content>,
        engine: String,
        registries: String,
        metadata: String,
    ) -> Result<SessionContent, (Document, serde_json::Error)> {
        let engine_value: Value =
            serde_json::from_str(&engine).map_err(|e| (Document::Engine, e))?;
        let registries =
            RenderedJson::from_text(registries).map_err(|e| (Document::Registries, e))?;
        let metadata = RenderedJson::from_text(metadata).map_err(|e| (Document::Metadata, e))?;
        let id = ContentId::compute(&engine_value, registries.value(), metadata.value());
        Ok(SessionContent {
            id,
            content,
            engine,
            registries,
            metadata,
            metadata_sections: OnceLock::new(),
            snapshot_statics: OnceLock::new(),
        })
    }

    /// The static parts of this content's snapshots, rendered once.
    pub fn snapshot_statics(&self) -> &SnapshotStatics {
        self.snapshot_statics.get_or_init(|| {
            let raw = |value: &dyn erased::Render| value.render();
            let content = &self.content;
            let rules = content.rules();
            SnapshotStatics {
                phases: raw(&schema_phases(content)),
                rules: raw(&kb_protocol::answers::RulesAnswer::from(
                    &kb_engine::RulesSnapshot {
                        tiered_resource_key: &rules.tiered_resource_key,
                        tier_definitions: &rules.tier_definitions,
                        win_conditions: &rules.win_conditions,
                    },
                )),
                compensations: [
                    raw(&schema_compensations(content, false)),
                    raw(&schema_compensations(content, true)),
                ],
            }
        })
    }

    /// The static metadata's top-level fields (`resources`, `stats`,
    /// `overview`...), each rendered once, so a response can write them
    /// verbatim beside fields of its own without re-rendering or re-parsing
    /// the whole document.
    pub fn metadata_sections(&self) -> &[(String, Box<RawValue>)] {
        self.metadata_sections.get_or_init(|| {
            self.metadata
                .value()
                .as_object()
                .into_iter()
                .flatten()
                .map(|(key, value)| {
                    let raw = serde_json::value::to_raw_value(value).expect("a JSON value renders");
                    (key.clone(), raw)
                })
                .collect()
        })
    }

    /// Rebuilds session content from its stored texts alone: the engine
    /// content is parsed and validated again, the registries and metadata
    /// are kept exactly as stored. The current default content is not
    /// consulted.
    pub fn from_record(record: &ContentRecord) -> Result<SessionContent, RestoreError> {
        let def: schema::ContentDef =
            deserialize_with_path(&record.engine).map_err(|PathError { path, source }| {
                if source.is_syntax() || source.is_eof() {
                    RestoreError::Json {
                        part: Document::Engine,
                        source,
                    }
                } else {
                    RestoreError::Schema { path, source }
                }
            })?;
        let content = Content::new(def.into()).map_err(RestoreError::Engine)?;
        let restored = SessionContent::assemble(
            Arc::new(content),
            record.engine.clone(),
            record.registries.clone(),
            record.metadata.clone(),
        )
        .map_err(|(part, source)| RestoreError::Json { part, source })?;
        for (part, doc) in [
            (Document::Registries, &restored.registries),
            (Document::Metadata, &restored.metadata),
        ] {
            if !doc.value().is_object() {
                return Err(RestoreError::NotObject { part });
            }
        }
        Ok(restored)
    }

    /// [`from_record`](Self::from_record), and checks that the texts are
    /// the content `expected` names (the id stored beside them).
    pub fn from_record_checked(
        record: &ContentRecord,
        expected: &ContentId,
    ) -> Result<SessionContent, RestoreError> {
        let restored = SessionContent::from_record(record)?;
        if restored.id != *expected {
            return Err(RestoreError::IdMismatch {
                expected: expected.clone(),
                actual: restored.id,
            });
        }
        Ok(restored)
    }

    /// The stored form: the three texts [`from_record`](Self::from_record)
    /// rebuilds this content from.
    pub fn to_record(&self) -> ContentRecord {
        ContentRecord {
            engine: self.engine.clone(),
            registries: self.registries.as_str().to_owned(),
            metadata: self.metadata.as_str().to_owned(),
        }
    }

    /// The content id.
    pub fn id(&self) -> &ContentId {
        &self.id
    }

    /// The engine content, to create and restore games with.
    pub fn content(&self) -> &Arc<Content> {
        &self.content
    }

    /// The engine content definition.
    pub fn def(&self) -> &ContentDef {
        self.content.def()
    }

    /// The registries (reference protocol §3.5): `actions`, `buildings`,
    /// `developments`, `populations`, `resources`, `actionCategories`.
    pub fn registries(&self) -> &RenderedJson {
        &self.registries
    }

    /// The static metadata (reference protocol §3.6): `resources`,
    /// `populations`, `buildings`, `developments`, `stats`, `phases`,
    /// `triggers`, `assets` (sections with entries) and `overview`.
    pub fn metadata(&self) -> &RenderedJson {
        &self.metadata
    }
}

/// Shares one [`SessionContent`] between every restored session that plays
/// by the same content, so restoring many sessions of the default content
/// builds it once.
///
/// Entries are weak: content no session holds any more is dropped.
#[derive(Debug, Default)]
pub struct ContentInterner {
    state: Mutex<InternerState>,
}

#[derive(Debug, Default)]
struct InternerState {
    entries: BTreeMap<ContentId, Weak<SessionContent>>,
    /// Entry count after the last pruning of dead entries.
    live_after_prune: usize,
}

impl InternerState {
    fn get(&self, id: &ContentId) -> Option<Arc<SessionContent>> {
        self.entries.get(id).and_then(Weak::upgrade)
    }

    fn insert(&mut self, content: &Arc<SessionContent>) {
        self.entries
            .insert(content.id().clone(), Arc::downgrade(content));
        if self.entries.len() > 2 * self.live_after_prune + 16 {
            self.entries.retain(|_, entry| entry.strong_count() > 0);
            self.live_after_prune = self.entries.len();
        }
    }
}

impl ContentInterner {
    /// An empty interner.
    pub fn new() -> ContentInterner {
        ContentInterner::default()
    }

    /// Makes `content` the shared content for its id (for example the
    /// default pack's [`base_session`](crate::ContentPack::base_session),
    /// which sessions created without a config already share). Sharing is
    /// sound because equal ids mean equal content.
    pub fn insert(&self, content: &Arc<SessionContent>) {
        self.lock().insert(content);
    }

    /// The shared content with `content`'s id: the one already known, or
    /// `content` itself, which becomes the shared one.
    pub fn share(&self, content: Arc<SessionContent>) -> Arc<SessionContent> {
        let mut state = self.lock();
        if let Some(known) = state.get(content.id()) {
            return known;
        }
        state.insert(&content);
        content
    }

    /// The shared content `record` holds.
    ///
    /// With `stored_id` (the id saved beside the record), content already
    /// known under that id is returned without reading the record; otherwise
    /// the record is rebuilt and, when `stored_id` is given, checked against
    /// it ([`SessionContent::from_record_checked`]).
    pub fn restore(
        &self,
        record: &ContentRecord,
        stored_id: Option<&ContentId>,
    ) -> Result<Arc<SessionContent>, RestoreError> {
        if let Some(known) = stored_id.and_then(|id| self.lock().get(id)) {
            return Ok(known);
        }
        let restored = match stored_id {
            Some(id) => SessionContent::from_record_checked(record, id)?,
            None => SessionContent::from_record(record)?,
        };
        let mut state = self.lock();
        if let Some(known) = state.get(restored.id()) {
            return Ok(known);
        }
        let restored = Arc::new(restored);
        state.insert(&restored);
        Ok(restored)
    }

    /// The number of entries whose content is still held somewhere.
    pub fn live_len(&self) -> usize {
        self.lock()
            .entries
            .values()
            .filter(|entry| entry.strong_count() > 0)
            .count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, InternerState> {
        // The state is a map of weak pointers: a panic elsewhere cannot
        // leave it inconsistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

mod erased {
    //! Rendering of the statics, whatever their type.

    use serde::Serialize;
    use serde_json::value::RawValue;

    pub(super) trait Render {
        fn render(&self) -> Box<RawValue>;
    }

    impl<T: Serialize> Render for T {
        fn render(&self) -> Box<RawValue> {
            serde_json::value::to_raw_value(self).expect("content renders")
        }
    }
}

/// The content's phases in the content schema.
fn schema_phases(content: &Content) -> Vec<schema::PhaseDef> {
    content
        .def()
        .phases
        .iter()
        .map(schema::PhaseDef::from)
        .collect()
}

/// What each player's start differs from the base by, in the content
/// schema.
fn schema_compensations(content: &Content, dev: bool) -> schema::ByPlayer<schema::PlayerStart> {
    use schema::Mirror;
    schema::ByPlayer::from_engine_with(content.compensations(dev), schema::PlayerStart::from_engine)
}
