//! [`MemoryStore`]: a [`SessionStore`] kept in memory, for tests and for a
//! server run without a database. It keeps the same contract as the SQLite
//! store, point for point; the conformance suite checks both.
//!
//! The data sits behind one `Mutex`. A batch is applied write by write while
//! an undo list records how to reverse each step, so a failing write rolls
//! the whole batch back without copying the database first.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::{
    Checkpoint, ContentRecord, GameLog, GrantRecord, GrantRefusal, LoadedSessions, Millis,
    QuarantinedSession, Scan, SessionRecord, SessionStore, StoreError, Write,
};

/// A store that keeps everything in memory.
///
/// Several handles can share one database: [`MemoryStore::reopen`] gives a
/// new handle on the same data, which is how tests "close and reopen" a
/// memory store. Closing a handle closes only that handle, as closing one
/// SQLite connection leaves the file to the others.
#[derive(Debug, Default)]
pub struct MemoryStore {
    data: Arc<Mutex<Data>>,
    closed: AtomicBool,
}

/// A live session: its header, its log and its checkpoint.
#[derive(Debug, Clone)]
struct Live {
    record: SessionRecord,
    log: Vec<String>,
    checkpoint: Option<Checkpoint>,
}

impl Live {
    /// The log is the truth: a header behind its log takes the log's count.
    fn repair_header(&mut self) {
        let entries = self.log.len() as u64;
        if self.record.version < entries {
            crate::warn_header_repaired(&self.record.session_id, self.record.version, entries);
            self.record.version = entries;
        }
    }
}

/// Everything one memory database holds.
#[derive(Debug, Default)]
struct Data {
    sessions: BTreeMap<String, Live>,
    contents: BTreeMap<String, ContentRecord>,
    /// Quarantined sessions in the order they were moved aside, with their
    /// data kept for inspection.
    quarantine: Vec<(QuarantinedSession, Live)>,
    meta: BTreeMap<String, String>,
    /// Grants by grant id.
    grants: BTreeMap<String, GrantRecord>,
}

/// How to reverse one applied step of a batch.
enum Undo {
    /// Put the session back as it was (`None`: it did not exist).
    Session(String, Option<Live>),
    /// Restore the header of an existing session.
    Header(SessionRecord),
    /// Restore the header and cut the log back to its former length.
    Append(SessionRecord, usize),
    /// Restore the checkpoint of an existing session.
    Checkpoint(String, Option<Checkpoint>),
    /// Put a content record back as it was (`None`: remove it).
    Content(String, Option<ContentRecord>),
    /// Restore the last-access time of an existing session.
    Touch(String, Millis),
    /// Take the last quarantine entry back into the live set.
    Quarantine,
    /// Restore a metadata value (`None`: it did not exist).
    Meta(String, Option<String>),
    /// Put a grant back as it was (`None`: remove it).
    Grant(String, Option<GrantRecord>),
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new, open handle on the same database as `self` (which may itself
    /// be closed): what reopening the file is for a SQLite store.
    pub fn reopen(&self) -> Self {
        Self {
            data: Arc::clone(&self.data),
            closed: AtomicBool::new(false),
        }
    }

    /// Sets a stored header's version behind the store's back, as a bug or a
    /// hand edit could (for the conformance suite's log-is-truth cases).
    #[cfg(feature = "testkit")]
    pub fn set_stored_version(&self, session_id: &str, version: u64) {
        let mut data = self.data.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(live) = data.sessions.get_mut(session_id) {
            live.record.version = version;
        }
    }

    /// Locks the data, or fails when this handle is closed.
    fn lock(&self) -> Result<MutexGuard<'_, Data>, StoreError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        // A panic while the lock was held cannot leave a half-applied batch
        // behind (batches are undone before the lock is released, and no
        // step panics midway), so a poisoned lock still guards sound data.
        Ok(self.data.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Data {
    /// Applies one write, recording how to undo it.
    fn apply(&mut self, write: Write, undo: &mut Vec<Undo>) -> Result<(), StoreError> {
        match write {
            Write::PutContent(content) => {
                let previous = self
                    .contents
                    .insert(content.content_id.clone(), content.clone());
                undo.push(Undo::Content(content.content_id, previous));
            }
            Write::SaveSession(record) => {
                self.check_content(&record)?;
                let stored = self.version_of(&record.session_id);
                if record.version != stored {
                    return Err(StoreError::conflict(
                        &record.session_id,
                        record.version,
                        stored,
                    ));
                }
                match self.sessions.get_mut(&record.session_id) {
                    Some(live) => {
                        undo.push(Undo::Header(std::mem::replace(&mut live.record, record)));
                    }
                    None => {
                        undo.push(Undo::Session(record.session_id.clone(), None));
                        let live = Live {
                            record,
                            log: Vec::new(),
                            checkpoint: None,
                        };
                        self.sessions.insert(live.record.session_id.clone(), live);
                    }
                }
            }
            Write::Append {
                session_id,
                version,
                last_accessed_at,
                dev_mode,
                commands,
            } => {
                let stored = self.version_of(&session_id);
                let expected = version.saturating_sub(commands.len() as u64);
                let Some(live) = self.sessions.get_mut(&session_id) else {
                    return Err(StoreError::conflict(&session_id, expected, 0));
                };
                if version < commands.len() as u64 || expected != stored {
                    return Err(StoreError::conflict(&session_id, expected, stored));
                }
                let old_len = live.log.len();
                live.log.extend(commands);
                let record = SessionRecord {
                    version,
                    last_accessed_at,
                    dev_mode,
                    ..live.record.clone()
                };
                undo.push(Undo::Append(
                    std::mem::replace(&mut live.record, record),
                    old_len,
                ));
            }
            Write::Checkpoint {
                session_id,
                checkpoint,
            } => {
                let Some(live) = self.sessions.get_mut(&session_id) else {
                    return Err(StoreError::conflict(&session_id, checkpoint.version, 0));
                };
                if checkpoint.version > live.record.version {
                    return Err(StoreError::conflict(
                        &session_id,
                        checkpoint.version,
                        live.record.version,
                    ));
                }
                let stored_is_newer = live
                    .checkpoint
                    .as_ref()
                    .is_some_and(|stored| stored.version > checkpoint.version);
                if !stored_is_newer {
                    let old = live.checkpoint.replace(checkpoint);
                    undo.push(Undo::Checkpoint(session_id, old));
                }
            }
            Write::Touch {
                session_id,
                last_accessed_at,
            } => {
                if let Some(live) = self.sessions.get_mut(&session_id) {
                    let later = live.record.last_accessed_at.max(last_accessed_at);
                    let old = std::mem::replace(&mut live.record.last_accessed_at, later);
                    undo.push(Undo::Touch(session_id, old));
                }
            }
            Write::Delete {
                session_id,
                at_version,
            } => {
                if let (Some(live), Some(expected)) = (self.sessions.get(&session_id), at_version)
                    && live.record.version != expected
                {
                    return Err(StoreError::conflict(
                        &session_id,
                        expected,
                        live.record.version,
                    ));
                }
                if let Some(live) = self.sessions.remove(&session_id) {
                    self.delete_grants(&session_id, undo);
                    undo.push(Undo::Session(session_id, Some(live)));
                }
            }
            Write::DeleteIfIdle {
                session_id,
                idle_before,
            } => {
                let idle = self
                    .sessions
                    .get(&session_id)
                    .is_some_and(|live| live.record.last_accessed_at < idle_before);
                if idle && let Some(live) = self.sessions.remove(&session_id) {
                    self.delete_grants(&session_id, undo);
                    undo.push(Undo::Session(session_id, Some(live)));
                }
            }
            Write::Quarantine {
                session_id,
                reason,
                at,
            } => {
                if let Some(live) = self.sessions.remove(&session_id) {
                    self.delete_grants(&session_id, undo);
                    let entry = QuarantinedSession {
                        session_id: session_id.clone(),
                        reason,
                        quarantined_at: at,
                    };
                    self.quarantine.push((entry, live));
                    undo.push(Undo::Quarantine);
                }
            }
            Write::PutMeta { key, value } => {
                let old = self.meta.insert(key.clone(), value);
                undo.push(Undo::Meta(key, old));
            }
            Write::PutGrant(grant) => {
                let taken = grant.holds_seat()
                    && self.grants.values().any(|held| {
                        held.session_id == grant.session_id
                            && held.role == grant.role
                            && held.holds_seat()
                    });
                if taken {
                    return Err(StoreError::GrantRefused {
                        grant_id: grant.grant_id,
                        reason: GrantRefusal::SeatTaken,
                    });
                }
                let id = grant.grant_id.clone();
                let old = self.grants.insert(id.clone(), grant);
                undo.push(Undo::Grant(id, old));
            }
            Write::UseInvitation { grant_id, at } => {
                let refusal = match self.grants.get(&grant_id) {
                    None => Some(GrantRefusal::Unknown),
                    Some(grant) => grant.refusal_at(at),
                };
                if let Some(reason) = refusal {
                    return Err(StoreError::GrantRefused { grant_id, reason });
                }
                let grant = self.grants.get_mut(&grant_id).expect("checked");
                if grant.is_seat() {
                    let old = grant.clone();
                    grant.used_at = Some(at);
                    undo.push(Undo::Grant(grant_id, Some(old)));
                }
            }
            Write::RevokeGrant { grant_id, at } => {
                if let Some(grant) = self.grants.get_mut(&grant_id)
                    && grant.revoked_at.is_none()
                {
                    let old = grant.clone();
                    grant.revoked_at = Some(at);
                    undo.push(Undo::Grant(grant_id, Some(old)));
                }
            }
        }
        Ok(())
    }

    /// Deletes every grant of a session, recording how to undo it.
    fn delete_grants(&mut self, session_id: &str, undo: &mut Vec<Undo>) {
        let ids: Vec<String> = self
            .grants
            .values()
            .filter(|grant| grant.session_id == session_id)
            .map(|grant| grant.grant_id.clone())
            .collect();
        for id in ids {
            let old = self.grants.remove(&id);
            undo.push(Undo::Grant(id, old));
        }
    }

    /// Reverses applied steps, newest first.
    fn undo(&mut self, undo: Vec<Undo>) {
        for step in undo.into_iter().rev() {
            match step {
                Undo::Session(session_id, Some(live)) => {
                    self.sessions.insert(session_id, live);
                }
                Undo::Session(session_id, None) => {
                    self.sessions.remove(&session_id);
                }
                Undo::Header(record) => {
                    if let Some(live) = self.sessions.get_mut(&record.session_id) {
                        live.record = record;
                    }
                }
                Undo::Append(record, old_len) => {
                    if let Some(live) = self.sessions.get_mut(&record.session_id) {
                        live.log.truncate(old_len);
                        live.record = record;
                    }
                }
                Undo::Checkpoint(session_id, checkpoint) => {
                    if let Some(live) = self.sessions.get_mut(&session_id) {
                        live.checkpoint = checkpoint;
                    }
                }
                Undo::Content(content_id, previous) => match previous {
                    Some(previous) => {
                        self.contents.insert(content_id, previous);
                    }
                    None => {
                        self.contents.remove(&content_id);
                    }
                },
                Undo::Touch(session_id, last_accessed_at) => {
                    if let Some(live) = self.sessions.get_mut(&session_id) {
                        live.record.last_accessed_at = last_accessed_at;
                    }
                }
                Undo::Quarantine => {
                    if let Some((entry, live)) = self.quarantine.pop() {
                        self.sessions.insert(entry.session_id, live);
                    }
                }
                Undo::Meta(key, Some(value)) => {
                    self.meta.insert(key, value);
                }
                Undo::Meta(key, None) => {
                    self.meta.remove(&key);
                }
                Undo::Grant(id, Some(grant)) => {
                    self.grants.insert(id, grant);
                }
                Undo::Grant(id, None) => {
                    self.grants.remove(&id);
                }
            }
        }
    }

    /// The stored version of a session (0 when it does not exist).
    fn version_of(&self, session_id: &str) -> u64 {
        self.sessions
            .get(session_id)
            .map_or(0, |live| live.record.version)
    }

    /// Fails when a header references content that is not stored.
    fn check_content(&self, record: &SessionRecord) -> Result<(), StoreError> {
        if record.content_id.is_empty() || self.contents.contains_key(&record.content_id) {
            Ok(())
        } else {
            Err(StoreError::UnknownContent {
                session_id: record.session_id.clone(),
                content_id: record.content_id.clone(),
            })
        }
    }
}

impl SessionStore for MemoryStore {
    fn load_all(&self) -> Result<LoadedSessions, StoreError> {
        let mut data = self.lock()?;
        for live in data.sessions.values_mut() {
            live.repair_header();
        }
        Ok(LoadedSessions {
            records: data
                .sessions
                .values()
                .map(|live| live.record.clone())
                .collect(),
            // Writes are checked, so the memory store never holds a row it
            // cannot read.
            quarantined: Vec::new(),
        })
    }

    fn scan(&self) -> Result<Scan, StoreError> {
        let data = self.lock()?;
        Ok(Scan {
            records: data
                .sessions
                .values()
                .map(|live| live.record.clone())
                .collect(),
            unreadable: Vec::new(),
        })
    }

    fn commit(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let mut data = self.lock()?;
        let mut undo = Vec::new();
        for write in writes {
            if let Err(error) = data.apply(write, &mut undo) {
                data.undo(undo);
                return Err(error);
            }
        }
        Ok(())
    }

    fn load_log(&self, session_id: &str) -> Result<GameLog, StoreError> {
        let data = self.lock()?;
        let Some(live) = data.sessions.get(session_id) else {
            return Ok(GameLog::default());
        };
        let from = live
            .checkpoint
            .as_ref()
            .map_or(0, |checkpoint| checkpoint.version as usize);
        Ok(GameLog {
            checkpoint: live.checkpoint.clone(),
            commands: live.log[from..].to_vec(),
        })
    }

    fn load_commands(&self, session_id: &str, after: u64) -> Result<Vec<String>, StoreError> {
        let data = self.lock()?;
        let Some(live) = data.sessions.get(session_id) else {
            return Ok(Vec::new());
        };
        let from = usize::try_from(after).unwrap_or(usize::MAX);
        Ok(live
            .log
            .get(from..)
            .map(<[String]>::to_vec)
            .unwrap_or_default())
    }

    fn load_content(&self, content_id: &str) -> Result<Option<ContentRecord>, StoreError> {
        Ok(self.lock()?.contents.get(content_id).cloned())
    }

    fn load_grants(&self, session_id: &str) -> Result<Vec<GrantRecord>, StoreError> {
        let data = self.lock()?;
        let mut grants: Vec<GrantRecord> = data
            .grants
            .values()
            .filter(|grant| grant.session_id == session_id)
            .cloned()
            .collect();
        grants.sort_by(|a, b| (a.created_at, &a.grant_id).cmp(&(b.created_at, &b.grant_id)));
        Ok(grants)
    }

    fn find_grant(&self, digest: &str) -> Result<Option<GrantRecord>, StoreError> {
        let data = self.lock()?;
        Ok(data
            .grants
            .values()
            .find(|grant| grant.digest.as_deref() == Some(digest))
            .cloned())
    }

    fn load_session(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.lock()?.sessions.get_mut(session_id).map(|live| {
            live.repair_header();
            live.record.clone()
        }))
    }

    fn count_sessions(&self) -> Result<u64, StoreError> {
        Ok(self.lock()?.sessions.len() as u64)
    }

    fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.lock()?.meta.get(key).cloned())
    }

    fn list_quarantined(&self) -> Result<Vec<QuarantinedSession>, StoreError> {
        let data = self.lock()?;
        let mut list: Vec<QuarantinedSession> =
            data.quarantine.iter().map(|(q, _)| q.clone()).collect();
        // Stable: entries quarantined at the same instant keep their order.
        list.sort_by_key(|q| q.quarantined_at);
        Ok(list)
    }

    fn close(&self) -> Result<(), StoreError> {
        self.closed.store(true, Ordering::Release);
        Ok(())
    }
}
