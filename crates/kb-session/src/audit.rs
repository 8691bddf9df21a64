//! Auditing a store: every session's whole log replayed on the content it
//! was stored with, and compared with its header and its checkpoint. It
//! changes nothing, so it can look at the database of a running server
//! (`kingdom admin check`, and the fault suite after every fault).
//!
//! A session is sound when its log replays from its start entry to
//! exactly the version its header says, its checkpoint (if any) is the
//! state the log gives at that version, and its header's dev-mode flag is
//! the game's.

use kb_store::{QuarantinedSession, Scan, SessionRecord, SessionStore, StoreError, UnreadableRow};

use crate::contents::{ContentProblem, Contents};
use crate::log::replay;

/// What the audit found for one session.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionAudit {
    /// The session.
    pub session_id: String,
    /// The version its header says.
    pub version: u64,
    /// The entries its log holds.
    pub entries: u64,
    /// What is wrong with it, in words; empty when it is sound.
    pub problems: Vec<String>,
}

impl SessionAudit {
    /// Whether nothing is wrong with it.
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What the audit found in a whole store.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoreAudit {
    /// Every live session, in session id order.
    pub sessions: Vec<SessionAudit>,
    /// Header rows that cannot be read.
    pub unreadable: Vec<UnreadableRow>,
    /// Sessions in quarantine.
    pub quarantined: Vec<QuarantinedSession>,
}

impl StoreAudit {
    /// Whether every session is sound, no row is unreadable and nothing is
    /// in quarantine.
    pub fn is_sound(&self) -> bool {
        self.sessions.iter().all(SessionAudit::is_sound)
            && self.unreadable.is_empty()
            && self.quarantined.is_empty()
    }
}

/// Reads a session's whole log and checkpoint again when the session moved
/// on between reads (a running server writing it), at most this often.
const ATTEMPTS: usize = 3;

/// Audits every live session of `store`, and lists its unreadable rows and
/// its quarantine.
///
/// # Errors
///
/// When the store cannot be read.
pub fn audit_store(store: &dyn SessionStore) -> Result<StoreAudit, StoreError> {
    let Scan {
        records,
        unreadable,
    } = store.scan()?;
    let contents = Contents::new();
    let mut sessions = Vec::with_capacity(records.len());
    for record in records {
        if let Some(audit) = audit_with(store, &contents, record)? {
            sessions.push(audit);
        }
    }
    Ok(StoreAudit {
        sessions,
        unreadable,
        quarantined: store.list_quarantined()?,
    })
}

/// Audits one session from its stored header; `None` when it is not stored
/// (any more).
///
/// # Errors
///
/// When the store cannot be read.
pub fn audit_session(
    store: &dyn SessionStore,
    session_id: &str,
) -> Result<Option<SessionAudit>, StoreError> {
    let Some(record) = store.load_session(session_id)? else {
        return Ok(None);
    };
    audit_with(store, &Contents::new(), record)
}

fn audit_with(
    store: &dyn SessionStore,
    contents: &Contents,
    mut record: SessionRecord,
) -> Result<Option<SessionAudit>, StoreError> {
    for _ in 1..ATTEMPTS {
        let audit = audit_record(store, contents, &record)?;
        if audit.is_sound() {
            return Ok(Some(audit));
        }
        // A server may have written the session between the reads: look
        // again if it moved on.
        match store.load_session(&record.session_id)? {
            None => return Ok(None),
            Some(now) if now.version == record.version => return Ok(Some(audit)),
            Some(now) => record = now,
        }
    }
    audit_record(store, contents, &record).map(Some)
}

fn audit_record(
    store: &dyn SessionStore,
    contents: &Contents,
    record: &SessionRecord,
) -> Result<SessionAudit, StoreError> {
    let session_id = record.session_id.as_str();
    let entries = store.load_commands(session_id, 0)?;
    let mut audit = SessionAudit {
        session_id: session_id.to_owned(),
        version: record.version,
        entries: entries.len() as u64,
        problems: Vec::new(),
    };
    if record.content_id.is_empty() {
        // Adopted from the reference server and never played since: no
        // content and no log yet.
        if !entries.is_empty() {
            audit
                .problems
                .push("a session without content has a log".to_owned());
        }
        return Ok(audit);
    }
    let content = match contents.load(store, &record.content_id) {
        Ok(content) => content,
        Err(ContentProblem::Store(error)) => return Err(error),
        Err(ContentProblem::Corrupt(reason)) => {
            audit.problems.push(reason);
            return Ok(audit);
        }
    };
    let engine = content.content().clone();
    let (game, reached) = match replay(engine.clone(), record.dev_mode, None, &entries) {
        Ok(played) => played,
        Err(reason) => {
            audit
                .problems
                .push(format!("the log cannot be replayed: {reason}"));
            return Ok(audit);
        }
    };
    if reached != record.version {
        audit.problems.push(format!(
            "the header says version {}, the log holds {reached} entries",
            record.version
        ));
    }
    if game.state().dev_mode != record.dev_mode {
        audit.problems.push(format!(
            "the header says dev mode {}, the log gives {}",
            record.dev_mode,
            game.state().dev_mode
        ));
    }
    let log = store.load_log(session_id)?;
    if let Some(checkpoint) = &log.checkpoint {
        let start = usize::try_from(checkpoint.version).unwrap_or(usize::MAX);
        let through = start.saturating_add(log.commands.len());
        match replay(engine, record.dev_mode, Some(checkpoint), &log.commands) {
            Err(reason) => audit.problems.push(format!(
                "the log from checkpoint {} cannot be replayed: {reason}",
                checkpoint.version
            )),
            Ok((from_checkpoint, _)) if through == entries.len() => {
                if from_checkpoint.state() != game.state() {
                    audit.problems.push(format!(
                        "checkpoint {} is not the state its log gives",
                        checkpoint.version
                    ));
                }
            }
            // The log moved on between the two reads; the next attempt
            // reads both again.
            Ok(_) => audit.problems.push(format!(
                "the log changed while it was read ({} then {through} entries)",
                entries.len()
            )),
        }
    }
    Ok(audit)
}
