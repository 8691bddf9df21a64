//! Whether the store can write, for health checks: every commit's outcome
//! is noted, and a probe (writing the heartbeat) answers when nothing was
//! written in the last second or the last write failed, so that a full disk or a
//! database server that went down shows before a client's write meets it,
//! and its end shows without one.

use std::sync::Mutex;

use kb_store::{Millis, StoreError, Write};

use super::{HEARTBEAT_KEY, SessionManager};

/// Without a successful write for this long, a health check writes one to
/// find out (a write can fail before its commit, on the store's reads).
const QUIET_MS: Millis = 1_000;
/// Health checks write at most once in this long.
const PROBE_EVERY_MS: Millis = 1_000;

/// Whether the store can save changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreHealth {
    /// Its last write worked.
    Writable,
    /// Its writes fail, since this time, for this reason.
    Failing {
        /// When the first of the failing writes failed.
        since: Millis,
        /// The last failure, in words.
        error: String,
    },
}

#[derive(Default)]
pub(super) struct HealthState {
    last_ok: Option<Millis>,
    failing: Option<(Millis, String)>,
    last_probe: Option<Millis>,
}

impl SessionManager {
    /// Notes a commit's outcome. A refusal by the store's contract
    /// ([`StoreError::is_refusal`]: a conflict, unknown content, a grant
    /// rule) is a store that works.
    pub(super) fn note_commit(&self, result: &Result<(), StoreError>) {
        let now = self.clock.now_ms();
        let mut health = lock(&self.health);
        match result {
            Err(error) if !error.is_refusal() => {
                if health.failing.is_none() {
                    tracing::error!(%error, "the session store cannot write; writes are refused until it can");
                }
                let since = health.failing.as_ref().map_or(now, |(since, _)| *since);
                health.failing = Some((since, error.to_string()));
            }
            _ => {
                if let Some((since, _)) = health.failing.take() {
                    tracing::warn!(
                        failing_for_ms = now - since,
                        "the session store can write again"
                    );
                }
                health.last_ok = Some(now);
            }
        }
    }

    /// Commits a batch and notes the outcome (blocks).
    pub(super) fn commit_noted(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let result = self.store.commit(writes);
        self.note_commit(&result);
        result
    }

    /// Whether the store can save changes now. When its last write failed,
    /// or nothing was written in the last second, this writes the heartbeat
    /// to find out (at most once a second; blocks while it does). Under
    /// load it writes nothing: the commits of requests answer.
    pub fn store_health(&self) -> StoreHealth {
        let now = self.clock.now_ms();
        let probe = {
            let mut health = lock(&self.health);
            let stale =
                health.failing.is_some() || health.last_ok.is_none_or(|at| now - at >= QUIET_MS);
            let may = health
                .last_probe
                .is_none_or(|at| now - at >= PROBE_EVERY_MS);
            if stale && may {
                health.last_probe = Some(now);
            }
            stale && may
        };
        if probe && !self.closed.load(std::sync::atomic::Ordering::SeqCst) {
            let _ = self.commit_noted(vec![Write::PutMeta {
                key: HEARTBEAT_KEY.to_owned(),
                value: now.to_string(),
            }]);
        }
        match &lock(&self.health).failing {
            None => StoreHealth::Writable,
            Some((since, error)) => StoreHealth::Failing {
                since: *since,
                error: error.clone(),
            },
        }
    }
}

fn lock(health: &Mutex<HealthState>) -> std::sync::MutexGuard<'_, HealthState> {
    health
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
