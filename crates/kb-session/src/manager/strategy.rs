//! The two ways a manager can own its sessions, as one [`Strategy`]: a
//! **lone** server, whose memory is the truth once a game is rebuilt, and a
//! **shared** one, one of several processes serving one store, where the
//! store is the truth and memory a cache checked on every request.
//!
//! Every place where the two differ asks the strategy here, by what it
//! decides (may a read skip the store? is a slot unknown here perhaps
//! stored? is a lost version check worth a retry? which write purges?), so
//! the rest of the manager has no branch on the mode. New behaviour that
//! differs between the modes (for example where a live update can come from:
//! only this process, or also the store's change feed) goes here too.

use kb_store::{Millis, SessionRecord, StoreError, Write};

use super::COMMIT_ATTEMPTS;

/// How a manager shares its store (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Strategy {
    /// The only process writing the store.
    Lone,
    /// Other processes write the same store.
    Shared,
}

impl Strategy {
    /// From [`super::ManagerOptions::shared`].
    pub(super) fn new(shared: bool) -> Self {
        if shared {
            Strategy::Shared
        } else {
            Strategy::Lone
        }
    }

    /// Whether other processes write the store.
    pub(super) fn is_shared(self) -> bool {
        self == Strategy::Shared
    }

    /// A session this process does not hold may still be stored (another
    /// process created it): look it up in the store.
    pub(super) fn looks_up_unknown(self) -> bool {
        self.is_shared()
    }

    /// Whether a slot must read the store before use: always when shared
    /// (another process may have moved the session on), else only when its
    /// game is not rebuilt yet.
    pub(super) fn must_sync(self, has_live: bool) -> bool {
        self.is_shared() || !has_live
    }

    /// Whether a live game may be trusted without reading the stored header.
    pub(super) fn trusts_memory(self) -> bool {
        !self.is_shared()
    }

    /// Whether a read may be served from memory without I/O.
    pub(super) fn reads_from_memory(self) -> bool {
        !self.is_shared()
    }

    /// Whether a command whose commit lost the store's version check (at
    /// `attempt`) is re-run on the game as stored.
    pub(super) fn retries(self, committed: &Result<(), StoreError>, attempt: usize) -> bool {
        self.is_shared()
            && matches!(committed, Err(StoreError::Conflict { .. }))
            && attempt < COMMIT_ATTEMPTS
    }

    /// The session limit, when the count it applies to is the store's.
    pub(super) fn stored_capacity(self, max_sessions: Option<usize>) -> Option<usize> {
        max_sessions.filter(|_| self.is_shared())
    }

    /// Whether `list` and a delete read the store (the sessions of every
    /// process) rather than memory.
    pub(super) fn lists_store(self) -> bool {
        self.is_shared()
    }

    /// How much a session's last-access time may lag the stored one before
    /// upkeep writes it: a quarter of the idle timeout for a lone server
    /// (bounds what a crash can lose); nothing when shared (other processes
    /// purge by the stored time). `None`: nothing to write.
    pub(super) fn read_flush_lag(self, idle_timeout: Option<Millis>) -> Option<Millis> {
        match self {
            Strategy::Lone => idle_timeout.map(|timeout| timeout / 4),
            Strategy::Shared => Some(0),
        }
    }

    /// Whether upkeep takes in sessions other processes created.
    pub(super) fn reconciles(self) -> bool {
        self.is_shared()
    }

    /// The write that purges an idle session: unconditional on a lone
    /// server; shared, one that spares a session another process used since.
    pub(super) fn purge_write(self, record: &SessionRecord) -> Write {
        match self {
            Strategy::Lone => Write::Delete {
                session_id: record.session_id.clone(),
                at_version: None,
            },
            Strategy::Shared => Write::DeleteIfIdle {
                session_id: record.session_id.clone(),
                idle_before: record.last_accessed_at + 1,
            },
        }
    }

    /// Whether a purged session is surely gone (shared: another process may
    /// have kept it, so a request holding the slot checks the store).
    pub(super) fn purge_is_final(self) -> bool {
        !self.is_shared()
    }
}
