//! The store is the truth: reading what a slot needs from it (in shared
//! mode the stored header first, since another process may have moved the
//! session on or deleted it) and rebuilding a game from its checkpoint and
//! log.

use std::sync::Arc;

use kb_store::{SessionRecord, StoreError};

use super::{Live, SYNC_ATTEMPTS, SessionManager, Slot, SlotState, not_found};
use crate::contents::ContentProblem;
use crate::error::SessionError;

impl SessionManager {
    /// Reads what a slot needs from the store: the stored header first in
    /// shared mode (the session may have moved on or be gone) and whenever
    /// the game must be rebuilt, then the game when there is none or it is
    /// behind. `record` is the header the slot holds.
    ///
    /// The log is the truth. The stored header is read before a rebuild
    /// even by a lone server: memory may be behind the store (a commit
    /// whose answer was lost landed all the same), and the store rebuilds a
    /// header that is behind its log. A log longer than the header read is
    /// re-checked against the header (another process may have appended
    /// meanwhile) and, if the header still says less, wins. Only a log that
    /// cannot be played to its header (shorter than it, or refused by the
    /// engine) is corrupt.
    pub(super) fn synchronize(
        &self,
        session_id: &str,
        record: &SessionRecord,
        has_live: bool,
    ) -> Result<Synced, RebuildError> {
        if has_live && self.strategy.trusts_memory() {
            return Ok(Synced::Header(record.clone()));
        }
        let Some(mut header) = self.stored_header(session_id)? else {
            return Ok(Synced::Gone);
        };
        if has_live && header.version == record.version {
            return Ok(Synced::Header(header));
        }
        if self.strategy.trusts_memory() && header.version != record.version {
            tracing::warn!(
                session_id,
                memory = record.version,
                stored = header.version,
                "the session's header in memory disagreed with the store; the store's log wins"
            );
        }
        for _ in 0..SYNC_ATTEMPTS {
            let (live, reached) = self.rebuild(session_id, &header)?;
            if reached == header.version {
                return Ok(Synced::Rebuilt(derived(header, &live), Box::new(live)));
            }
            let mismatch = || {
                RebuildError::Corrupt(format!(
                    "log holds {reached} entries, header says {}",
                    header.version
                ))
            };
            // Another process may have written between the header and the
            // log: read the header again.
            let Some(newer) = self.stored_header(session_id)? else {
                return Ok(Synced::Gone);
            };
            if newer.version == reached {
                return Ok(Synced::Rebuilt(derived(newer, &live), Box::new(live)));
            }
            if newer.version == header.version {
                if reached < header.version {
                    return Err(mismatch());
                }
                // A header the store left behind its log: the log wins.
                kb_store::warn_header_repaired(session_id, header.version, reached);
                header.version = reached;
                return Ok(Synced::Rebuilt(derived(header, &live), Box::new(live)));
            }
            header = newer;
        }
        Err(RebuildError::Busy)
    }

    fn stored_header(&self, session_id: &str) -> Result<Option<SessionRecord>, RebuildError> {
        self.store
            .load_session(session_id)
            .map_err(RebuildError::Store)
    }

    /// Installs what [`SessionManager::synchronize`] found, or quarantines
    /// a session that cannot be rebuilt.
    pub(super) fn install(
        &self,
        slot: &Arc<Slot>,
        state: &mut SlotState,
        synced: Result<Synced, RebuildError>,
    ) -> Result<(), SessionError> {
        match synced {
            Ok(Synced::Header(header)) => {
                state.last_access = state.last_access.max(header.last_accessed_at);
                state.record = header;
                Ok(())
            }
            Ok(Synced::Rebuilt(header, live)) => {
                state.last_access = state.last_access.max(header.last_accessed_at);
                state.record = header;
                state.live = Some(*live);
                Ok(())
            }
            Ok(Synced::Gone) => {
                state.gone = true;
                state.live = None;
                self.forget(slot);
                Err(not_found(&slot.id))
            }
            Err(RebuildError::Store(error)) => Err(SessionError::Unavailable(error)),
            Err(RebuildError::Busy) => Err(SessionError::Concurrent {
                session_id: slot.id.to_string(),
            }),
            Err(RebuildError::Corrupt(reason)) => {
                state.gone = true;
                state.live = None;
                let row = self.quarantine_now(&slot.id, &reason);
                self.report
                    .lock()
                    .expect("report lock")
                    .quarantined
                    .push(row);
                self.forget(slot);
                Err(not_found(&slot.id))
            }
        }
    }

    /// Rebuilds a game from its checkpoint and log; returns it with the
    /// version the log reached, which the caller checks against the header.
    fn rebuild(
        &self,
        session_id: &str,
        record: &SessionRecord,
    ) -> Result<(Live, u64), RebuildError> {
        let content = self
            .contents
            .load(self.store.as_ref(), &record.content_id)
            .map_err(|problem| match problem {
                ContentProblem::Store(error) => RebuildError::Store(error),
                ContentProblem::Corrupt(reason) => RebuildError::Corrupt(reason),
            })?;
        let log = self
            .store
            .load_log(session_id)
            .map_err(RebuildError::Store)?;
        let (game, version) = crate::log::replay(
            content.content().clone(),
            record.dev_mode,
            log.checkpoint.as_ref(),
            &log.commands,
        )
        .map_err(RebuildError::Corrupt)?;
        // The AI level lives in the start entry (entry 1), which a log
        // read from a checkpoint does not hold: read it on its own then.
        let ai_level = if log.checkpoint.is_none() {
            crate::log::ai_level_of(log.commands.first())
        } else {
            let first = self
                .store
                .load_range(session_id, 0, 1)
                .map_err(RebuildError::Store)?;
            crate::log::ai_level_of(first.first())
        };
        Ok((
            Live {
                content,
                game,
                ai_level,
            },
            version,
        ))
    }
}

/// The header with what the log decides: its dev-mode flag is the game's.
fn derived(mut header: SessionRecord, live: &Live) -> SessionRecord {
    let dev_mode = live.game.state().dev_mode;
    if header.dev_mode != dev_mode {
        tracing::warn!(
            session_id = %header.session_id,
            header = header.dev_mode,
            log = dev_mode,
            "a session header's dev-mode flag disagreed with its log; the log wins"
        );
        header.dev_mode = dev_mode;
    }
    header
}

/// What a slot learned from the store.
pub(super) enum Synced {
    /// The game is current; the stored header (its last access may have
    /// moved).
    Header(SessionRecord),
    /// The game, rebuilt at the stored header's version.
    Rebuilt(SessionRecord, Box<Live>),
    /// The session is no longer stored (deleted or purged elsewhere).
    Gone,
}

pub(super) enum RebuildError {
    Store(StoreError),
    Corrupt(String),
    /// The session kept moving under the rebuild (other processes writing).
    Busy,
}
