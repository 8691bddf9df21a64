//! A store that fails on command, for testing what its callers do when the
//! database is down, when a commit's answer is lost, or while a commit is
//! slow.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::{
    CommitSender, CommitTicket, ContentRecord, GameLog, LoadedSessions, QuarantinedSession, Scan,
    SessionRecord, SessionStore, StoreError, Write,
};

/// A batch submitted while held, with its ticket's sender.
type Held = (Vec<Write>, CommitSender);

/// Passes everything to another store and counts the commits it passes on.
/// On command it refuses every commit while it is
/// [down](FaultyStore::set_down) (reads still work, as with a full disk),
/// commits but answers with an error while its answers are
/// [lost](FaultyStore::set_answers_lost) (a connection lost after `COMMIT`),
/// or [holds](FaultyStore::hold) submitted batches until
/// [released](FaultyStore::release) (a slow commit).
pub struct FaultyStore {
    inner: Arc<dyn SessionStore>,
    commits: AtomicUsize,
    down: AtomicBool,
    answers_lost: AtomicBool,
    /// Batches submitted while held, with their tickets' senders; `None`
    /// when not holding.
    held: Mutex<Option<Vec<Held>>>,
}

impl FaultyStore {
    /// A working store in front of `inner`.
    pub fn new(inner: Arc<dyn SessionStore>) -> Arc<FaultyStore> {
        Arc::new(FaultyStore {
            inner,
            commits: AtomicUsize::new(0),
            down: AtomicBool::new(false),
            answers_lost: AtomicBool::new(false),
            held: Mutex::new(None),
        })
    }

    /// Makes every commit land and then answer with an error (`true`), or
    /// answer truly again (`false`).
    pub fn set_answers_lost(&self, lost: bool) {
        self.answers_lost.store(lost, Ordering::SeqCst);
    }

    /// Holds every batch submitted from now on: its ticket stays pending
    /// until [`FaultyStore::release`].
    pub fn hold(&self) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.get_or_insert_with(Vec::new);
    }

    /// The batches held now.
    pub fn held(&self) -> usize {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(0, Vec::len)
    }

    /// Commits the held batches, in order, answers their tickets, and stops
    /// holding. Returns how many there were.
    pub fn release(&self) -> usize {
        let held = self
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .unwrap_or_default();
        let count = held.len();
        for (writes, sender) in held {
            sender.send(self.commit(writes));
        }
        count
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
        let committed = self.inner.commit(writes);
        if committed.is_ok() && self.answers_lost.load(Ordering::SeqCst) {
            return Err(StoreError::backend(
                "commit",
                "the connection was lost while committing",
            ));
        }
        committed
    }
    fn submit(&self, writes: Vec<Write>) -> CommitTicket {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        match held.as_mut() {
            Some(held) => {
                let (sender, ticket) = CommitTicket::channel();
                held.push((writes, sender));
                ticket
            }
            None => {
                drop(held);
                CommitTicket::ready(self.commit(writes))
            }
        }
    }
    fn load_log(&self, session_id: &str) -> Result<GameLog, StoreError> {
        self.inner.load_log(session_id)
    }
    fn load_commands(&self, session_id: &str, after: u64) -> Result<Vec<String>, StoreError> {
        self.inner.load_commands(session_id, after)
    }
    fn load_grants(&self, session_id: &str) -> Result<Vec<crate::GrantRecord>, StoreError> {
        self.inner.load_grants(session_id)
    }
    fn find_grant(&self, digest: &str) -> Result<Option<crate::GrantRecord>, StoreError> {
        self.inner.find_grant(digest)
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
