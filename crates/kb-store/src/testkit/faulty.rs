//! A store that fails on command, for testing what its callers do when the
//! database is down.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::{
    ContentRecord, GameLog, LoadedSessions, QuarantinedSession, Scan, SessionRecord, SessionStore,
    StoreError, Write,
};

/// Passes everything to another store, counts the commits it passes on, and
/// refuses every commit while it is [down](FaultyStore::set_down) (reads
/// still work, as with a full disk).
pub struct FaultyStore {
    inner: Arc<dyn SessionStore>,
    commits: AtomicUsize,
    down: AtomicBool,
}

impl FaultyStore {
    /// A working store in front of `inner`.
    pub fn new(inner: Arc<dyn SessionStore>) -> Arc<FaultyStore> {
        Arc::new(FaultyStore {
            inner,
            commits: AtomicUsize::new(0),
            down: AtomicBool::new(false),
        })
    }

    /// Makes every commit fail (`true`) or work again (`false`).
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// The commits passed on to the inner store so far.
    pub fn commits(&self) -> usize {
        self.commits.load(Ordering::SeqCst)
    }
}

impl SessionStore for FaultyStore {
    fn load_all(&self) -> Result<LoadedSessions, StoreError> {
        self.inner.load_all()
    }
    fn scan(&self) -> Result<Scan, StoreError> {
        self.inner.scan()
    }
    fn commit(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::backend("commit", "the disk is unplugged"));
        }
        self.commits.fetch_add(1, Ordering::SeqCst);
        self.inner.commit(writes)
    }
    fn load_log(&self, session_id: &str) -> Result<GameLog, StoreError> {
        self.inner.load_log(session_id)
    }
    fn load_commands(&self, session_id: &str, after: u64) -> Result<Vec<String>, StoreError> {
        self.inner.load_commands(session_id, after)
    }
    fn load_content(&self, content_id: &str) -> Result<Option<ContentRecord>, StoreError> {
        self.inner.load_content(content_id)
    }
    fn load_session(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.inner.load_session(session_id)
    }
    fn count_sessions(&self) -> Result<u64, StoreError> {
        self.inner.count_sessions()
    }
    fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.inner.get_meta(key)
    }
    fn list_quarantined(&self) -> Result<Vec<QuarantinedSession>, StoreError> {
        self.inner.list_quarantined()
    }
    fn close(&self) -> Result<(), StoreError> {
        self.inner.close()
    }
}
