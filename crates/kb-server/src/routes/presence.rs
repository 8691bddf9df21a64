//! Presence: which seats of a session hold an event stream open on this
//! server, and the `presence` events that tell a session's streams when a
//! seat connects or leaves.
//!
//! A seat counts as connected while at least one stream of a caller who
//! plays it (its seat credential, or the owner for the seats the owner
//! plays) is open here. Spectators watch without counting. Presence is
//! kept in memory, per server: a player streaming from another server of a
//! shared deployment is not seen here.
//!
//! A `presence` event carries no `id`, so it never moves a client's
//! `Last-Event-ID`: resuming a stream is only about the log.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use kb_engine::{ByPlayer, PlayerId};
use serde::Serialize;
use tokio::sync::broadcast;

/// Presence changes a stream may fall behind on before it is sent the
/// current state instead.
const BACKLOG: usize = 16;

/// One session's presence on this server.
struct Session {
    /// Open streams per seat.
    streams: ByPlayer<usize>,
    /// The session's streams, told of every change.
    changes: broadcast::Sender<Arc<str>>,
}

impl Session {
    fn new() -> Self {
        Self {
            streams: ByPlayer::default(),
            changes: broadcast::channel(BACKLOG).0,
        }
    }

    fn connected(&self, seat: PlayerId) -> bool {
        *self.streams.get(seat) > 0
    }

    fn unused(&self) -> bool {
        self.changes.receiver_count() == 0 && self.streams.iter().all(|(_, count)| *count == 0)
    }
}

/// The sessions someone streams on this server.
static SESSIONS: LazyLock<Mutex<HashMap<String, Session>>> = LazyLock::new(Default::default);

/// The data of a `presence` event.
#[derive(Serialize)]
struct PresenceData {
    /// The seat that connected or left (absent in the state a stream
    /// starts with).
    #[serde(skip_serializing_if = "Option::is_none")]
    seat: Option<&'static str>,
    /// Whether it is now connected.
    #[serde(skip_serializing_if = "Option::is_none")]
    connected: Option<bool>,
    /// Whether each seat is connected (`{"A": true, "B": false}`).
    seats: BTreeMap<&'static str, bool>,
}

fn data(seat: Option<PlayerId>, session: &Session) -> Arc<str> {
    let data = PresenceData {
        seat: seat.map(PlayerId::as_str),
        connected: seat.map(|seat| session.connected(seat)),
        seats: PlayerId::ALL
            .into_iter()
            .map(|seat| (seat.as_str(), session.connected(seat)))
            .collect(),
    };
    Arc::from(serde_json::to_string(&data).expect("plain data"))
}

/// A stream's view of a session's presence: the changes to come, and while
/// it is held, the seats it plays count as connected.
pub(crate) struct Watch {
    session_id: String,
    seats: Vec<PlayerId>,
    changes: broadcast::Receiver<Arc<str>>,
}

/// Starts watching a session's presence, counting the stream as connected
/// for `seats` (telling the session's streams of each seat this connects).
/// Returns the watch and the presence to send first.
pub(crate) fn watch(session_id: &str, seats: Vec<PlayerId>) -> (Watch, Arc<str>) {
    let mut sessions = SESSIONS.lock().expect("presence lock");
    sessions.retain(|_, session| !session.unused());
    let session = sessions
        .entry(session_id.to_owned())
        .or_insert_with(Session::new);
    for seat in &seats {
        let count = session.streams.get_mut(*seat);
        *count += 1;
        if *count == 1 {
            // Nobody may be listening yet: that is fine.
            let _ = session.changes.send(data(Some(*seat), session));
        }
    }
    // Subscribed after announcing: this stream starts from the state.
    let changes = session.changes.subscribe();
    let first = data(None, session);
    let watch = Watch {
        session_id: session_id.to_owned(),
        seats,
        changes,
    };
    (watch, first)
}

impl Watch {
    /// The next presence event's data: a change, or the current state when
    /// this stream fell behind. Pending forever if nothing changes.
    pub(crate) async fn next(&mut self) -> Arc<str> {
        loop {
            match self.changes.recv().await {
                Ok(data) => return data,
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let sessions = SESSIONS.lock().expect("presence lock");
                    if let Some(session) = sessions.get(&self.session_id) {
                        return data(None, session);
                    }
                }
                Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let mut sessions = SESSIONS.lock().expect("presence lock");
        let Some(session) = sessions.get_mut(&self.session_id) else {
            return;
        };
        for seat in &self.seats {
            let count = session.streams.get_mut(*seat);
            *count = count.saturating_sub(1);
            if *count == 0 {
                let _ = session.changes.send(data(Some(*seat), session));
            }
        }
    }
}

/// Whether `seat` of a session holds an event stream open on this server.
pub(crate) fn streaming(session_id: &str, seat: PlayerId) -> bool {
    SESSIONS
        .lock()
        .expect("presence lock")
        .get(session_id)
        .is_some_and(|session| session.connected(seat))
}
