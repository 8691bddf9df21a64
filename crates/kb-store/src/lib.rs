//! The persistence contract for sessions: [`SessionStore`], the records it
//! keeps, an in-memory implementation ([`MemoryStore`]) and, behind the
//! `testkit` feature, the conformance suite every store must pass.
//!
//! # Model
//!
//! A session is stored as three things:
//!
//! * a **header** ([`SessionRecord`]): id, timestamps, dev-mode flag, the
//!   game config as submitted, the owner, the id of the content it plays by,
//!   and `version`, the number of commands in its log;
//! * a **command log**: the ordered, append-only list of the commands that
//!   changed the game (JSON text, opaque to the store), numbered `1..=version`;
//! * an optional **checkpoint**: the serialized game state after command
//!   `n` (opaque bytes), so that restoring does not replay the whole log.
//!
//! Content (the rules data a session plays by, with its registries and
//! metadata) is stored once per distinct content in [`ContentRecord`]s and
//! referenced by id, so a default session's row stays small.
//!
//! Beside each session, its **grants** ([`GrantRecord`]): invitations and
//! seat credentials, stored by the SHA-256 digest of their secret, with
//! rules the store checks as it writes (see the `grant` module).
//!
//! The store knows nothing of the engine: commands and checkpoints are
//! opaque. This keeps backends small and lets one conformance suite check
//! them all.
//!
//! # Contract
//!
//! * Every method is **synchronous**: the session manager hydrates itself in
//!   its constructor and cannot await (the owner's guide).
//! * [`SessionStore::commit`] is **atomic and durable**: when it returns
//!   `Ok`, every write of the batch is stored (as durably as the store's
//!   sync setting promises); when it returns `Err`, none is.
//! * `save` is an idempotent upsert and `delete` is idempotent.
//! * An append carries the version the caller expects the log to be at;
//!   a mismatch is [`StoreError::Conflict`] and writes nothing. This is the
//!   optimistic concurrency that lets several processes share a database.
//! * A row that cannot be read is **quarantined**, not fatal: `load_all`
//!   moves it aside, reports it in [`LoadedSessions::quarantined`], and
//!   returns every other session.
//! * **The log is the truth.** A header's version is derived from its log.
//!   Where a stored header says fewer commands than its log holds (a bug,
//!   a hand edit, a half-restored backup), `load_all` and `load_session`
//!   return the log's count, write it back to the header and log a
//!   warning: nothing acknowledged is hidden behind a stale header. (A
//!   header that says *more* than its log holds is returned as stored: that
//!   log cannot be replayed to its header, and the session manager
//!   quarantines it.)

#![deny(missing_docs)]

mod grant;
mod memory;
mod queue;
#[cfg(feature = "testkit")]
pub mod testkit;
mod ticket;

pub use grant::{GrantKind, GrantRecord, GrantRefusal, SPECTATOR};
pub use memory::MemoryStore;
pub use queue::WriterQueue;
pub use ticket::{CommitSender, CommitTicket};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// The header of one session: everything but its command log and checkpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionRecord {
    /// The session id (any non-empty string; the server generates UUIDs).
    pub session_id: String,
    /// When the session was created.
    pub created_at: Millis,
    /// When the session was last used, as last persisted.
    pub last_accessed_at: Millis,
    /// The current dev-mode flag of the game.
    pub dev_mode: bool,
    /// The game config submitted at creation, as JSON, or `None` for the
    /// default content.
    pub config: Option<serde_json::Value>,
    /// The id of the [`ContentRecord`] this session plays by. It must be
    /// stored (earlier, or in the same batch): a header naming unknown
    /// content is [`StoreError::UnknownContent`]. The empty id marks a
    /// session adopted from the reference server's database, to be rebuilt
    /// from `config` and `dev_mode`; it needs no content record.
    pub content_id: String,
    /// The user id of the token that created the session, if any.
    pub owner: Option<String>,
    /// The number of commands in the session's log.
    pub version: u64,
}

/// Content a session plays by, stored once and shared by every session that
/// references its id.
#[derive(Clone, Debug, PartialEq)]
pub struct ContentRecord {
    /// Content id: a hash of `content`, so equal content has equal ids.
    pub content_id: String,
    /// The engine content as JSON text.
    pub content: String,
    /// The registries served to clients for this content, as JSON text.
    pub registries: String,
    /// The static descriptors served to clients for this content, as JSON
    /// text.
    pub metadata: String,
}

/// A serialized game state after command number `version`.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// The number of log commands this state includes.
    pub version: u64,
    /// The serialized state (opaque to the store).
    pub state: Vec<u8>,
}

/// What is needed to rebuild a session's game: the latest checkpoint (if
/// any) and the commands after it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct GameLog {
    /// The latest checkpoint, if one was written.
    pub checkpoint: Option<Checkpoint>,
    /// The commands numbered `checkpoint.version + 1 ..= version`, in order
    /// (all commands when there is no checkpoint).
    pub commands: Vec<String>,
}

/// One write of a [`SessionStore::commit`] batch.
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    /// Store a content record, replacing any record with the same id. A
    /// content id names its content (it is a hash of it), so writing it again
    /// is idempotent, and rewriting a damaged record repairs it.
    PutContent(ContentRecord),
    /// Insert or replace a session header (the guide's `save`). Replacing a
    /// header never touches the session's log or checkpoint. The header's
    /// `version` must equal the stored log's (0 for a new session): a lower
    /// one is a stale writer, a higher one would claim commands the log
    /// does not hold; both are rejected with [`StoreError::Conflict`].
    /// Only [`Write::Append`] moves the version.
    SaveSession(SessionRecord),
    /// Append commands to a session's log, moving its version and the
    /// header fields a command can change.
    ///
    /// `version` is the version *after* the append; the stored version must
    /// equal `version - commands.len()`, or the write is a
    /// [`StoreError::Conflict`] (so is a `version` smaller than the number of
    /// commands). The session must exist (it may have been saved earlier in
    /// the same batch); a missing one is a conflict with `actual: 0`. The
    /// other header fields are left as stored. Build one with
    /// [`Write::append`].
    Append {
        /// The session.
        session_id: String,
        /// The version after the append.
        version: u64,
        /// The new last-access time.
        last_accessed_at: Millis,
        /// The dev-mode flag after the commands.
        dev_mode: bool,
        /// The commands to append, in order (JSON text).
        commands: Vec<String>,
    },
    /// Replace a session's checkpoint. Ignored when the stored checkpoint is
    /// newer; a conflict when `version` is beyond the log or the session
    /// does not exist (`actual: 0`).
    Checkpoint {
        /// The session.
        session_id: String,
        /// The new checkpoint.
        checkpoint: Checkpoint,
    },
    /// Move `last_accessed_at` of an existing session forward to this time
    /// (never back: processes sharing a store each write what they saw); a
    /// missing session is not an error.
    Touch {
        /// The session.
        session_id: String,
        /// The new last-access time.
        last_accessed_at: Millis,
    },
    /// Delete a session with its log, checkpoint and grants. Idempotent: a missing
    /// session is not an error. With `at_version`, the stored version must
    /// equal it, or the write is a [`StoreError::Conflict`] (a delete under
    /// `If-Match` that another process's write overtook).
    Delete {
        /// The session.
        session_id: String,
        /// The version the session must be at, if any.
        at_version: Option<u64>,
    },
    /// Delete a session with its log, checkpoint and grants only if its stored
    /// `last_accessed_at` is before `idle_before`: an idle purge that leaves
    /// alone a session another process used since. A missing or recently
    /// used session is not an error.
    DeleteIfIdle {
        /// The session.
        session_id: String,
        /// The purge cutoff.
        idle_before: Millis,
    },
    /// Move a session (header, log, checkpoint) out of the live set and
    /// into quarantine, with the reason; its grants are deleted. `load_all` no longer returns it;
    /// [`SessionStore::list_quarantined`] does. Idempotent.
    Quarantine {
        /// The session.
        session_id: String,
        /// Why it was quarantined (shown to operators).
        reason: String,
        /// When.
        at: Millis,
    },
    /// Store a new grant (see [`GrantRecord`]). A seat credential for a
    /// seat another live credential of the session holds is refused with
    /// [`StoreError::GrantRefused`] ([`GrantRefusal::SeatTaken`]).
    PutGrant(GrantRecord),
    /// Use an invitation at time `at`: refused with
    /// [`StoreError::GrantRefused`] when it is unknown, revoked, expired at
    /// `at`, or a seat invitation already used; a seat invitation is
    /// marked used. Commit it with the credential's [`Write::PutGrant`] in
    /// one batch, so that exactly one of two racing joiners gets the seat.
    UseInvitation {
        /// The invitation.
        grant_id: String,
        /// When.
        at: Millis,
    },
    /// Revoke a grant (idempotent; a missing grant is not an error).
    RevokeGrant {
        /// The grant.
        grant_id: String,
        /// When.
        at: Millis,
    },
    /// Set a store-wide metadata value (for example the server's last
    /// heartbeat).
    PutMeta {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
}

impl Write {
    /// The append that takes a session's log to `after` (its header after
    /// the commands) by adding `commands`.
    pub fn append(after: &SessionRecord, commands: Vec<String>) -> Write {
        Write::Append {
            session_id: after.session_id.clone(),
            version: after.version,
            last_accessed_at: after.last_accessed_at,
            dev_mode: after.dev_mode,
            commands,
        }
    }
}

/// A session that was moved aside because it could not be loaded.
#[derive(Clone, Debug, PartialEq)]
pub struct QuarantinedSession {
    /// The session id (as far as it could be read).
    pub session_id: String,
    /// Why it was quarantined.
    pub reason: String,
    /// When it was quarantined.
    pub quarantined_at: Millis,
}

/// The result of [`SessionStore::load_all`].
#[derive(Clone, Debug, PartialEq, Default)]
pub struct LoadedSessions {
    /// Every live session header, ordered by session id.
    pub records: Vec<SessionRecord>,
    /// Rows found unreadable during this load; they have been quarantined.
    pub quarantined: Vec<QuarantinedSession>,
}

/// The result of [`SessionStore::scan`]: the headers as they are stored.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Scan {
    /// Every readable live session header, ordered by session id, with
    /// its version as stored (even where its log says otherwise).
    pub records: Vec<SessionRecord>,
    /// Header rows that cannot be read, with why (left where they are).
    pub unreadable: Vec<UnreadableRow>,
}

/// A header row [`SessionStore::scan`] could not read.
#[derive(Clone, Debug, PartialEq)]
pub struct UnreadableRow {
    /// The session id, as far as it could be read.
    pub session_id: String,
    /// Why the row cannot be used.
    pub reason: String,
}

/// Errors of a [`SessionStore`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The stored log is not at the version the writer expected: another
    /// writer got there first (or the caller has a bug).
    #[error("session {session_id:?} is at version {actual}, expected {expected}")]
    Conflict {
        /// The session.
        session_id: String,
        /// The version the writer expected.
        expected: u64,
        /// The stored version (0 when the session does not exist).
        actual: u64,
    },
    /// A session header references content that is not stored, so the
    /// session could not be restored; the batch writes nothing.
    #[error("session {session_id:?} references unknown content {content_id:?}")]
    UnknownContent {
        /// The session.
        session_id: String,
        /// The content id that is not stored.
        content_id: String,
    },
    /// A table name that is not `[A-Za-z0-9_]+`.
    #[error("invalid table name {0:?}: use letters, digits and underscores only")]
    InvalidTableName(String),
    /// A grant write broke a grant rule (see [`GrantRecord`]); the batch
    /// writes nothing.
    #[error("grant {grant_id:?} refused: {reason}")]
    GrantRefused {
        /// The grant concerned.
        grant_id: String,
        /// Why.
        reason: GrantRefusal,
    },
    /// The store was closed.
    #[error("the session store is closed")]
    Closed,
    /// The store was opened for reading only.
    #[error("the session store was opened read-only")]
    ReadOnly,
    /// The database holds a schema newer than this program understands.
    #[error("database schema version {found} is newer than supported version {supported}")]
    SchemaTooNew {
        /// Version found in the database.
        found: u32,
        /// Newest version this program knows.
        supported: u32,
    },
    /// The backend failed (I/O, database error, ...).
    #[error("session store {operation} failed: {source}")]
    Backend {
        /// What the store was doing.
        operation: &'static str,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl StoreError {
    /// Whether this is a batch the store refused by its contract (a version
    /// conflict, unknown content, a grant rule): the store works, and the
    /// request was wrong or lost a race. Every other error is a store that
    /// cannot write.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            StoreError::Conflict { .. }
                | StoreError::UnknownContent { .. }
                | StoreError::GrantRefused { .. }
        )
    }

    /// A [`StoreError::Conflict`] on `session_id`.
    pub fn conflict(session_id: &str, expected: u64, actual: u64) -> Self {
        StoreError::Conflict {
            session_id: session_id.to_owned(),
            expected,
            actual,
        }
    }

    /// Wraps a backend error with the operation that failed and, when there
    /// is one, the session it concerns (shown as `session "id": …`).
    pub fn backend_on(
        operation: &'static str,
        session_id: Option<&str>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        let source = source.into();
        match session_id {
            Some(session_id) => StoreError::backend(
                operation,
                InSession {
                    session_id: session_id.to_owned(),
                    source,
                },
            ),
            None => StoreError::backend(operation, source),
        }
    }

    /// Wraps a backend error with the operation that failed.
    pub fn backend(
        operation: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        StoreError::Backend {
            operation,
            source: source.into(),
        }
    }
}

/// The context of a backend error: which session it happened on.
#[derive(Debug)]
struct InSession {
    session_id: String,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl std::fmt::Display for InSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "session {:?}: {}", self.session_id, self.source)
    }
}

impl std::error::Error for InSession {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// Logs the repair of a header that was behind its log (every store says it
/// the same way).
pub fn warn_header_repaired(session_id: &str, stored: u64, log: u64) {
    tracing::warn!(
        session_id,
        header_version = stored,
        log_entries = log,
        "a session header was behind its log; rebuilt it from the log"
    );
}

/// Receives the changes a store announces ([`SessionStore::watch_changes`]).
pub type OnChange = std::sync::Arc<dyn Fn(Option<(&str, u64)>) + Send + Sync>;

/// Persistent storage of sessions. See the [crate docs](crate) for the
/// contract every implementation keeps.
pub trait SessionStore: Send + Sync {
    /// Returns every live session header. Unreadable rows are quarantined
    /// and reported, never fatal; headers behind their logs are repaired
    /// (see the crate docs).
    fn load_all(&self) -> Result<LoadedSessions, StoreError>;

    /// Every live session header as stored, changing nothing: unlike
    /// [`load_all`](SessionStore::load_all), an unreadable row is reported
    /// and left in place, and a header is returned as stored. For checks by
    /// operators, which must not change the database they look at.
    fn scan(&self) -> Result<Scan, StoreError>;

    /// Applies a batch of writes atomically; durable when it returns `Ok`.
    fn commit(&self, writes: Vec<Write>) -> Result<(), StoreError>;

    /// The checkpoint and command tail of a session (empty for an unknown
    /// session).
    fn load_log(&self, session_id: &str) -> Result<GameLog, StoreError>;

    /// The commands of a session's log numbered after `after`, in order:
    /// the whole log for 0, empty for an unknown session. Unlike
    /// [`load_log`](SessionStore::load_log) it ignores checkpoints; it is for
    /// reading a log as a record (operators' checks, exports), not for
    /// restoring a game.
    fn load_commands(&self, session_id: &str, after: u64) -> Result<Vec<String>, StoreError>;

    /// At most `limit` commands of a session's log after the first `after`
    /// (entries `after + 1 ..`), in log order: a page of the log for a
    /// client catching up (the event stream, `GET …/log`). Empty for an
    /// unknown session or when `after` is at or past the end.
    fn load_range(
        &self,
        session_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let mut commands = self.load_commands(session_id, after)?;
        commands.truncate(limit);
        Ok(commands)
    }

    /// Every grant of a session (revoked and used ones too), oldest first
    /// (ties by grant id).
    fn load_grants(&self, session_id: &str) -> Result<Vec<GrantRecord>, StoreError>;

    /// The grant whose secret has this hex SHA-256 digest, if any.
    fn find_grant(&self, digest: &str) -> Result<Option<GrantRecord>, StoreError>;

    /// A content record by id.
    fn load_content(&self, content_id: &str) -> Result<Option<ContentRecord>, StoreError>;

    /// One live session header (not quarantined), if stored, with its
    /// version repaired from its log where it was behind (see the crate
    /// docs). Several processes sharing a store use it to find sessions
    /// another process created and to notice that one moved on.
    fn load_session(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError>;

    /// The number of live sessions stored.
    fn count_sessions(&self) -> Result<u64, StoreError>;

    /// A store-wide metadata value.
    fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Sessions in quarantine, oldest first.
    fn list_quarantined(&self) -> Result<Vec<QuarantinedSession>, StoreError>;

    /// Releases the store's resources (flushes, closes files). Later calls
    /// fail with [`StoreError::Closed`]; closing twice is fine.
    fn close(&self) -> Result<(), StoreError>;

    /// Announces commits made by any process on this store to `on_change`,
    /// from a thread of the store's, where the store can (PostgreSQL's
    /// `LISTEN`/`NOTIFY`): `Some((session_id, version))` after a commit
    /// moved a session's log to `version` (0: the session was deleted),
    /// `None` when announcements may have been missed (at start and after
    /// the store reconnected), so that followers read what they have.
    /// Returns whether the store will announce; the default cannot, and
    /// followers of such a store poll.
    fn watch_changes(&self, on_change: OnChange) -> bool {
        let _ = on_change;
        false
    }

    /// Queues a batch and returns at once; the ticket resolves when
    /// [`commit`](SessionStore::commit) would have returned, with the same
    /// result and the same guarantees. Stores that cannot queue commit here
    /// and return a resolved ticket (the default).
    fn submit(&self, writes: Vec<Write>) -> CommitTicket {
        CommitTicket::ready(self.commit(writes))
    }

    /// Inserts or replaces a session header: the guide's idempotent `save`.
    fn save(&self, record: &SessionRecord) -> Result<(), StoreError> {
        self.commit(vec![Write::SaveSession(record.clone())])
    }

    /// Deletes a session and its log: the guide's idempotent `delete`.
    fn delete(&self, session_id: &str) -> Result<(), StoreError> {
        self.commit(vec![Write::Delete {
            session_id: session_id.to_owned(),
            at_version: None,
        }])
    }
}
