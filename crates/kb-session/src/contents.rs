//! The content a session plays by: the shared default, content built from a
//! config, and content restored from the store by id (shared between every
//! session with that id through [`ContentInterner`]), so that a session always
//! plays by the content it was created with.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use kb_content::{ContentId, ContentInterner, ContentPack, SessionContent};
use kb_protocol::schema::GameConfig;
use kb_store::{SessionStore, Write};

use crate::error::SessionError;

/// Why stored content could not be used.
#[derive(Debug)]
pub(crate) enum ContentProblem {
    /// The store failed.
    Store(kb_store::StoreError),
    /// The stored content is unusable (quarantine the session).
    Corrupt(String),
}

pub(crate) struct Contents {
    pack: &'static ContentPack,
    interner: ContentInterner,
    /// Content ids known to be stored.
    stored: Mutex<HashSet<String>>,
    /// Content built from a config, by the config's JSON text, so sessions
    /// created with the same config share one content without rebuilding it.
    by_config: Mutex<HashMap<String, Weak<SessionContent>>>,
}

impl Contents {
    pub fn new() -> Self {
        let pack = ContentPack::default_pack();
        let interner = ContentInterner::new();
        interner.insert(pack.base_session());
        Contents {
            pack,
            interner,
            stored: Mutex::new(HashSet::new()),
            by_config: Mutex::new(HashMap::new()),
        }
    }

    pub fn default_content(&self) -> &Arc<SessionContent> {
        self.pack.base_session()
    }

    /// The content for a new session: the default, or the default with a
    /// config applied (shared with live sessions of the same content).
    pub fn for_new_session(
        &self,
        config: Option<&GameConfig>,
    ) -> Result<Arc<SessionContent>, SessionError> {
        let Some(config) = config else {
            return Ok(self.pack.base_session().clone());
        };
        let key = serde_json::to_string(config).expect("a config renders");
        let mut by_config = self
            .by_config
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(known) = by_config.get(&key).and_then(Weak::upgrade) {
            return Ok(known);
        }
        let built = self
            .pack
            .session(Some(config))
            .map_err(|e| SessionError::InvalidConfig(e.to_string()))?;
        let shared = self.interner.share(built);
        if by_config.len() > 1024 {
            by_config.retain(|_, weak| weak.strong_count() > 0);
        }
        by_config.insert(key, Arc::downgrade(&shared));
        Ok(shared)
    }

    /// The write storing `content`, unless it is known to be stored.
    pub fn put_if_new(&self, content: &SessionContent) -> Option<Write> {
        let id = content.id().as_str();
        if self
            .stored
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(id)
        {
            return None;
        }
        let record = content.to_record();
        Some(Write::PutContent(kb_store::ContentRecord {
            content_id: id.to_owned(),
            content: record.engine,
            registries: record.registries,
            metadata: record.metadata,
        }))
    }

    /// Remembers that `id` is stored.
    pub fn mark_stored(&self, id: &str) {
        self.stored
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.to_owned());
    }

    /// The content stored under `id`, played exactly as stored (the current
    /// default content is not consulted).
    pub fn load(
        &self,
        store: &dyn SessionStore,
        id: &str,
    ) -> Result<Arc<SessionContent>, ContentProblem> {
        let record = store
            .load_content(id)
            .map_err(ContentProblem::Store)?
            .ok_or_else(|| ContentProblem::Corrupt(format!("content {id} is not stored")))?;
        self.restore(&record)
    }

    /// The content of a stored record, checked against its id.
    pub fn restore(
        &self,
        record: &kb_store::ContentRecord,
    ) -> Result<Arc<SessionContent>, ContentProblem> {
        let id = record.content_id.as_str();
        let content_id = ContentId::try_from(id.to_owned())
            .map_err(|e| ContentProblem::Corrupt(format!("content id {id:?} is malformed: {e}")))?;
        let content_record = kb_content::ContentRecord {
            engine: record.content.clone(),
            registries: record.registries.clone(),
            metadata: record.metadata.clone(),
        };
        let content = self
            .interner
            .restore(&content_record, Some(&content_id))
            .map_err(|e| {
                ContentProblem::Corrupt(format!("stored content {id} is unusable: {e}"))
            })?;
        self.mark_stored(id);
        Ok(content)
    }
}
