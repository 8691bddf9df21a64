//! Upkeep, off the request path: writing down reads, taking in other
//! processes' sessions (shared mode), purging idle sessions, the heartbeat.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use kb_store::{Millis, SessionRecord, Write};
use tokio::sync::MutexGuard;

use super::write::Change;
use super::{HEARTBEAT_KEY, SessionManager, Slot, SlotState};

impl SessionManager {
    /// Periodic upkeep, off the request path: write down reads, purge idle
    /// sessions and record a heartbeat. Returns the number of sessions
    /// purged (in shared mode, offered for purging: another process may have
    /// used one since).
    ///
    /// A lone server writes the last-access time of a session read since
    /// only when the stored one is more than a quarter of the idle timeout
    /// behind: after a crash, a session's idle time is counted from the
    /// stored time, and this bounds the error to that quarter (plus the
    /// upkeep interval) at a write per session per quarter timeout at most.
    /// In shared mode it writes every read since the last upkeep (other
    /// processes purge by the stored time, so run it well within the idle
    /// timeout), then takes in the sessions other processes created and
    /// lets go of those they deleted.
    pub fn maintain(&self) -> usize {
        if self.closed.load(Ordering::SeqCst) {
            return 0;
        }
        if let Some(lag) = self.strategy.read_flush_lag(self.idle_timeout) {
            self.flush_reads(lag);
        }
        if self.strategy.reconciles() {
            self.reconcile();
        }
        let purged = self.purge_expired();
        self.heartbeat();
        purged
    }

    pub(super) fn heartbeat(&self) {
        let now = self.clock.now_ms();
        if let Err(error) = self.commit_noted(vec![Write::PutMeta {
            key: HEARTBEAT_KEY.to_owned(),
            value: now.to_string(),
        }]) {
            tracing::warn!(%error, "could not record the heartbeat");
        }
    }

    /// Writes the last-access time of sessions read here since it was last
    /// written, where it is more than `lag` ahead of the stored one.
    fn flush_reads(&self, lag: Millis) {
        let read: Vec<(Arc<Slot>, Millis)> = self
            .slots()
            .into_iter()
            .filter_map(|slot| {
                let state = slot.state.try_lock().ok()?;
                let at = state.last_access;
                (!state.gone && state.read_unflushed && at > state.record.last_accessed_at + lag)
                    .then(|| (slot.clone(), at))
            })
            .collect();
        if read.is_empty() {
            return;
        }
        let writes = read
            .iter()
            .map(|(slot, at)| Write::Touch {
                session_id: slot.id.to_string(),
                last_accessed_at: *at,
            })
            .collect();
        if let Err(error) = self.commit_noted(writes) {
            tracing::warn!(%error, "could not record reads; will retry");
            return;
        }
        for (slot, at) in read {
            // A slot busy now keeps its flag and is written again next time.
            if let Ok(mut state) = slot.state.try_lock() {
                state.record.last_accessed_at = state.record.last_accessed_at.max(at);
                state.read_unflushed = state.last_access > at;
            }
        }
    }

    /// Shared mode: takes in sessions other processes created (so that
    /// sessions of a process that died are purged too), refreshes the
    /// stored last-access times, and lets go of sessions no longer stored.
    fn reconcile(&self) {
        let listed_at = self.clock.now_ms();
        let loaded = match self.store.load_all() {
            Ok(loaded) => loaded,
            Err(error) => {
                tracing::warn!(%error, "could not list the stored sessions; will retry");
                return;
            }
        };
        self.report
            .lock()
            .expect("report lock")
            .quarantined
            .extend(loaded.quarantined);
        let mut stored: HashMap<String, SessionRecord> = loaded
            .records
            .into_iter()
            // A reference session is adopted by whichever process uses it.
            .filter(|record| !record.content_id.is_empty())
            .map(|record| (record.session_id.clone(), record))
            .collect();
        let mut sessions = self.sessions.write().expect("sessions lock");
        sessions.retain(|id, slot| match stored.remove(id.as_ref()) {
            Some(record) => {
                if let Ok(mut state) = slot.state.try_lock() {
                    state.last_access = state.last_access.max(record.last_accessed_at);
                }
                true
            }
            // Created after the listing began, busy, or gone from the
            // store. Letting go of a session still stored costs a rebuild.
            None => slot.created_at >= listed_at || slot.state.try_lock().is_err(),
        });
        for (_, record) in stored {
            let last_access = record.last_accessed_at;
            let slot = Slot::cold(record, last_access);
            sessions.insert(slot.id.clone(), slot);
        }
    }

    /// Every slot held now.
    fn slots(&self) -> Vec<Arc<Slot>> {
        self.sessions
            .read()
            .expect("sessions lock")
            .values()
            .cloned()
            .collect()
    }

    /// Purges sessions idle longer than the timeout (strictly longer, as the
    /// reference). Busy sessions are skipped: they are in use.
    ///
    /// In shared mode a session is deleted only if its stored last-access
    /// time is still the one this process knows: one another process used
    /// since stays (this process lets go of its copy).
    pub fn purge_expired(&self) -> usize {
        let Some(timeout) = self.idle_timeout else {
            return 0;
        };
        let now = self.clock.now_ms();
        let slots: Vec<Arc<Slot>> = self
            .sessions
            .read()
            .expect("sessions lock")
            .values()
            .cloned()
            .collect();
        let mut expired: Vec<(Arc<Slot>, MutexGuard<'_, SlotState>)> = Vec::new();
        for slot in &slots {
            let Ok(state) = slot.state.try_lock() else {
                continue;
            };
            if !state.gone && state.last_access < now - timeout {
                expired.push((slot.clone(), state));
            }
        }
        if expired.is_empty() {
            return 0;
        }
        let writes = expired
            .iter()
            .map(|(_, state)| self.strategy.purge_write(&state.record))
            .collect();
        if let Err(error) = self.commit_noted(writes) {
            tracing::warn!(%error, "could not purge idle sessions; will retry");
            return 0;
        }
        let count = expired.len();
        let mut sessions = self.sessions.write().expect("sessions lock");
        for (slot, state) in &mut expired {
            // Shared: not marked gone, as another process may have kept it;
            // a request still holding this slot checks the store.
            state.gone = self.strategy.purge_is_final();
            state.live = None;
            sessions.remove(&slot.id);
        }
        drop(sessions);
        for (slot, _state) in expired {
            self.committed(Change::Purged {
                session_id: &slot.id,
            });
            tracing::info!(
                session_id = %slot.id,
                final = self.strategy.purge_is_final(),
                "purged idle session (unless used elsewhere, when not final)"
            );
        }
        count
    }
}
