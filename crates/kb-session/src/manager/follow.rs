//! Live updates: who follows a session, and what they are told.
//!
//! [`SessionManager::committed`] announces this process's commits; in shared
//! mode, a store that can ([`SessionStore::watch_changes`], PostgreSQL's
//! `LISTEN`/`NOTIFY`) also announces every process's commits, so a follower
//! here hears of a write made by another server as soon as it is committed.
//! An announcement says only where the log now ends: followers read the
//! entries from the log, so what they send is the log whoever announced it.
//! A store that cannot announce (SQLite, the memory store) leaves shared
//! followers to poll.
//!
//! [`SessionStore::watch_changes`]: kb_store::SessionStore::watch_changes

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use super::{Committed, SessionManager};

/// Announcements a follower may fall behind by before it is told it lagged
/// (and reads the log, which holds everything): each followed session's
/// channel holds this many slots whoever follows it, so a small number
/// keeps the memory of a session followed by a stream or two small (256
/// slots took about 14 KiB a session).
const CHANNEL_CAPACITY: usize = 16;

/// A followed session's channel and the newest version announced on it.
type Channel = (broadcast::Sender<Committed>, u64);

/// The followed sessions: a broadcast channel each, and the newest version
/// announced on it (so that a process hearing its own commit again from
/// the store does not wake its followers twice).
#[derive(Default)]
pub(super) struct Followers {
    channels: Mutex<HashMap<Arc<str>, Channel>>,
}

impl Followers {
    fn subscribe(&self, session_id: &str) -> broadcast::Receiver<Committed> {
        let mut channels = self.channels.lock().expect("followers lock");
        channels
            .entry(Arc::from(session_id))
            .or_insert_with(|| (broadcast::channel(CHANNEL_CAPACITY).0, 0))
            .0
            .subscribe()
    }

    /// Announces a change to the session's followers, if it is news.
    fn publish(&self, session_id: &str, change: Committed) {
        let mut channels = self.channels.lock().expect("followers lock");
        if let Some((sender, newest)) = channels.get_mut(session_id) {
            if change.revoked {
                // Not news of the log: every follower is told all the same.
                let _ = sender.send(change);
                return;
            }
            if !change.ended && change.version <= *newest {
                return;
            }
            *newest = change.version;
            let delivered = sender.send(change.clone()).is_ok();
            if !delivered || change.ended {
                // Nobody follows any more, or nothing will follow.
                channels.remove(session_id);
            }
        }
    }

    /// Wakes every follower (announcements may have been missed): each
    /// reads the log for what it has not sent.
    fn wake_all(&self) {
        let mut channels = self.channels.lock().expect("followers lock");
        channels.retain(|_, (sender, newest)| {
            sender
                .send(Committed {
                    version: *newest,
                    ended: false,
                    revoked: false,
                })
                .is_ok()
        });
    }

    /// What the store announced: `Some((session, version))` (0: deleted)
    /// or `None` (some may have been missed).
    fn announced(&self, change: Option<(&str, u64)>) {
        match change {
            Some((session_id, 0)) => self.publish(
                session_id,
                Committed {
                    version: 0,
                    ended: true,
                    revoked: false,
                },
            ),
            Some((session_id, version)) => self.publish(
                session_id,
                Committed {
                    version,
                    ended: false,
                    revoked: false,
                },
            ),
            None => self.wake_all(),
        }
    }
}

impl SessionManager {
    /// Follows a session's committed changes: every change committed after
    /// this call is announced, in commit order: those of this process,
    /// and in shared mode those of every process when the store announces
    /// them ([`SessionManager::hears_other_processes`]). A receiver that
    /// lags is told so (`Lagged`) and should read the log.
    pub fn follow(&self, session_id: &str) -> broadcast::Receiver<Committed> {
        self.changes.subscribe(session_id)
    }

    /// Whether followers hear of other processes' commits (shared mode on
    /// a store that announces them); when not, a shared follower polls.
    pub fn hears_other_processes(&self) -> bool {
        self.others_announced.load(Ordering::Relaxed)
    }

    /// Announces a committed change of this process to the session's
    /// followers.
    pub(super) fn publish(&self, session_id: &str, change: Committed) {
        self.changes.publish(session_id, change);
    }

    /// In shared mode, asks the store to announce every process's commits.
    pub(super) fn watch_others(&self) {
        if !self.is_shared() {
            return;
        }
        let followers = Arc::clone(&self.changes);
        let watching = self
            .store
            .watch_changes(Arc::new(move |change| followers.announced(change)));
        self.others_announced.store(watching, Ordering::Relaxed);
    }
}
