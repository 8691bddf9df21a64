//! Live play: `GET /sessions/:id/events`, a Server-Sent Events stream of
//! every committed change of a session, and `GET /sessions/:id/log`, the
//! same entries as pages for clients that cannot hold a stream.
//!
//! **The log is what is sent.** An event is one log entry: its `id` is the
//! session's version after it, its data `{"version", "entry"}` (the command
//! as recorded, with who made it where the command says). A stream first
//! replays the log after the client's version (`Last-Event-ID` or
//! `?after=`), then waits for the manager's announcement of a commit (made
//! on the write path once the commit is durable) and reads the log again
//! after the last version it sent. So it sends each entry once, in order,
//! whatever it missed (a lagging receiver, a restart, another process's
//! write): nothing is sent from memory that the log does not hold. In
//! shared mode the manager hears only its own commits, so a stream also
//! reads the log every [`SHARED_POLL`].
//!
//! A stream sends a comment line every [`HEARTBEAT`], ends with an `end`
//! event when the session is deleted or purged, and ends when the server
//! shuts down (clients resume with `Last-Event-ID`). A caller holds at
//! most [`MAX_STREAMS_PER_CALLER`] streams (429 beyond).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use kb_protocol::ErrorCode;
use kb_session::{SessionError, SessionManager};
use serde::Deserialize;
use tokio::sync::Notify;
use tokio::sync::broadcast::error::RecvError;

use super::sessions::{json, require, session_error};
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::state::AppState;

/// Open streams one caller may hold.
pub const MAX_STREAMS_PER_CALLER: usize = 64;
/// Interval of the comment lines that keep proxies from closing a quiet
/// stream.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// Shared mode: how often a stream reads the log for other processes'
/// commits.
pub const SHARED_POLL: Duration = Duration::from_millis(200);
/// Entries read from the log at once.
const PAGE: usize = 256;
/// The most entries `GET …/log` answers at once.
const MAX_LOG_LIMIT: usize = 1000;

/// Wakes every open stream at shutdown, so graceful shutdown does not wait
/// for clients that would stay forever.
static SHUTDOWN: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Ends every open stream (called when the server begins to shut down).
pub fn end_streams() {
    SHUTDOWN.notify_waiters();
}

/// Open streams per caller.
static OPEN: LazyLock<Mutex<HashMap<String, usize>>> = LazyLock::new(Default::default);

/// One open stream of a caller; dropping it releases the slot.
struct StreamPermit(String);

impl StreamPermit {
    fn take(user_id: &str) -> Result<StreamPermit, ApiError> {
        let mut open = OPEN.lock().expect("streams lock");
        let count = open.entry(user_id.to_owned()).or_default();
        if *count >= MAX_STREAMS_PER_CALLER {
            return Err(ApiError::new(
                ErrorCode::TooManyRequests,
                format!("At most {MAX_STREAMS_PER_CALLER} event streams may be open at once."),
            ));
        }
        *count += 1;
        Ok(StreamPermit(user_id.to_owned()))
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut open = OPEN.lock().expect("streams lock");
        if let Some(count) = open.get_mut(&self.0) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.0);
            }
        }
    }
}

/// The event streams `user_id` holds open in this process (a seat
/// credential's user id is `grant:<grant id>`; `GET …/seats` shows its
/// seat as connected while it streams).
pub(crate) fn open_streams(user_id: &str) -> usize {
    OPEN.lock()
        .expect("streams lock")
        .get(user_id)
        .copied()
        .unwrap_or(0)
}

/// Query of the event and log routes (numbers as text, so that a bad one is
/// this route's 400, not a generic rejection).
#[derive(Deserialize)]
pub struct AfterQuery {
    after: Option<String>,
    limit: Option<String>,
}

fn version_param(text: &str, what: &str) -> Result<u64, ApiError> {
    text.trim().parse::<u64>().map_err(|_| {
        ApiError::invalid_request(format!("{what} must be a session version (a number)."))
    })
}

fn bad_query() -> ApiError {
    ApiError::invalid_request("The query must be after=VERSION and limit=N.")
}

/// `GET /sessions/:id/log?after=V&limit=N`: the log entries after version
/// `V` (default 0), at most `N` (default and maximum 1000).
pub async fn log(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Result<Query<AfterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = require(&caller, Role::SessionAdvance)?;
    let Query(query) = query.map_err(|_| bad_query())?;
    let after = query
        .after
        .as_deref()
        .map(|text| version_param(text, "after"))
        .transpose()?;
    let limit = match query.limit.as_deref() {
        None => MAX_LOG_LIMIT,
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LOG_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::invalid_request(format!(
                    "limit must be a number from 1 to {MAX_LOG_LIMIT}."
                ))
            })?,
    };
    let page = state
        .manager()
        .log_async(&caller, &id, after, limit)
        .await
        .map_err(session_error)?;
    let mut body = format!(
        "{{\"sessionId\":{},\"version\":{},\"entries\":[",
        serde_json::to_string(&id).expect("a string"),
        page.version
    );
    for (index, (version, entry)) in page.entries.iter().enumerate() {
        if index > 0 {
            body.push(',');
        }
        body.push_str(&entry_json(*version, entry));
    }
    body.push_str("]}");
    Ok(json(StatusCode::OK, body.into_bytes(), Some(page.version)))
}

/// An entry as sent: `{"version":V,"entry":<the command as logged>}`.
fn entry_json(version: u64, entry: &str) -> String {
    format!("{{\"version\":{version},\"entry\":{entry}}}")
}

/// `GET /sessions/:id/events`: see the module doc.
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    query: Result<Query<AfterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = require(&caller, Role::SessionAdvance)?;
    let Query(query) = query.map_err(|_| bad_query())?;
    let last_event_id = headers
        .get("last-event-id")
        .map(|value| version_param(value.to_str().unwrap_or("?"), "Last-Event-ID"))
        .transpose()?;
    let after = match last_event_id {
        Some(version) => Some(version),
        None => query
            .after
            .as_deref()
            .map(|text| version_param(text, "after"))
            .transpose()?,
    };
    let manager = state.manager().clone();
    // Follow before reading, so no commit falls between the two.
    let follow = manager.follow(&id);
    // Checks that the session exists for the caller and that `after` is
    // not ahead of it; without `after`, the stream starts at the current
    // version.
    let first = manager
        .log_async(&caller, &id, after, if after.is_some() { PAGE } else { 0 })
        .await
        .map_err(session_error)?;
    let permit = StreamPermit::take(&caller.user_id)?;
    let pending: VecDeque<Event> = first
        .entries
        .iter()
        .map(|(version, entry)| entry_event(*version, entry))
        .collect();
    let last = first
        .entries
        .last()
        .map_or(after.unwrap_or(first.version), |(version, _)| *version);
    let stream = Stream {
        manager,
        caller,
        id,
        last,
        pending,
        follow,
        done: false,
        caught_up: first.entries.len() < PAGE,
        _permit: permit,
    };
    let events = futures_util::stream::unfold(stream, Stream::next);
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(HEARTBEAT))
        .into_response())
}

fn entry_event(version: u64, entry: &str) -> Event {
    Event::default()
        .id(version.to_string())
        .data(entry_json(version, entry))
}

/// One open stream's state.
struct Stream {
    manager: Arc<SessionManager>,
    caller: kb_session::Caller,
    id: String,
    /// The version of the last entry sent (or the client had).
    last: u64,
    /// Events read from the log, not sent yet.
    pending: VecDeque<Event>,
    follow: tokio::sync::broadcast::Receiver<kb_session::Committed>,
    done: bool,
    /// The last read of the log found less than a page.
    caught_up: bool,
    _permit: StreamPermit,
}

impl Stream {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Stream)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some((Ok(event), self));
            }
            if self.done {
                return None;
            }
            if !self.caught_up {
                // A full page was read: read on before waiting.
                self.caught_up = true;
            } else {
                self.wait().await;
                if self.done {
                    continue;
                }
            }
            self.read_log().await;
        }
    }

    /// Reads the log after the last entry sent.
    async fn read_log(&mut self) {
        match self
            .manager
            .log_async(&self.caller, &self.id, Some(self.last), PAGE)
            .await
        {
            Ok(page) => {
                self.caught_up = page.entries.len() < PAGE;
                for (version, entry) in &page.entries {
                    self.pending.push_back(entry_event(*version, entry));
                    self.last = *version;
                }
            }
            Err(SessionError::NotFound { .. }) => self.end("deleted"),
            // The client resumes from its last event id.
            Err(_) => self.done = true,
        }
    }

    fn end(&mut self, reason: &str) {
        self.pending
            .push_back(Event::default().event("end").data(format!(
                "{{\"reason\":\"{reason}\",\"version\":{}}}",
                self.last
            )));
        self.done = true;
    }

    /// Waits until there may be something new in the log.
    async fn wait(&mut self) {
        let shutdown = SHUTDOWN.notified();
        let poll = async {
            if self.manager.is_shared() {
                tokio::time::sleep(SHARED_POLL).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            change = self.follow.recv() => match change {
                Ok(change) if change.ended => self.end("deleted"),
                Ok(change) if change.version <= self.last => {}
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => {
                    // Nobody publishes on this channel any more (the
                    // session ended): the log says what is left.
                    self.follow = self.manager.follow(&self.id);
                }
            },
            () = poll => {}
            () = shutdown => self.done = true,
        }
    }
}
