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
    /// Reads what a slot needs from the store: in shared mode the stored
    /// header first (the session may have moved on or be gone), then the
    /// game when there is none or it is behind. `record` is the header the
    /// slot holds.
    pub(super) fn synchronize(
        &self,
        session_id: &str,
        record: &SessionRecord,
        has_live: bool,
    ) -> Result<Synced, RebuildError> {
        let mut header = if self.shared {
            match self
                .store
                .load_session(session_id)
                .map_err(RebuildError::Store)?
            {
                Some(header) => header,
                None => return Ok(Synced::Gone),
            }
        } else {
            record.clone()
        };
        if has_live && header.version == record.version {
            return Ok(Synced::Header(header));
        }
        for _ in 0..SYNC_ATTEMPTS {
            let (live, reached) = self.rebuild(session_id, &header)?;
            if reached == header.version {
                return Ok(Synced::Rebuilt(header, Box::new(live)));
            }
            let mismatch = || {
                RebuildError::Corrupt(format!(
                    "log holds {reached} entries, header says {}",
                    header.version
                ))
            };
            if !self.shared {
                return Err(mismatch());
            }
            // Another process may have written between the header and the
            // log: read the header again.
            match self
                .store
                .load_session(session_id)
                .map_err(RebuildError::Store)?
            {
                None => return Ok(Synced::Gone),
                Some(newer) if newer.version == reached => {
                    return Ok(Synced::Rebuilt(newer, Box::new(live)));
                }
                Some(newer) if newer.version == header.version => return Err(mismatch()),
                Some(newer) => header = newer,
            }
        }
        Err(RebuildError::Busy)
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
        Ok((Live { content, game }, version))
    }
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
