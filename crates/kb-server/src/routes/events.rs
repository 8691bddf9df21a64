//! Live play: `GET /sessions/:id/events`, a Server-Sent Events stream of
//! every committed change of a session, and `GET /sessions/:id/log`, the
//! same entries as pages for clients that cannot hold a stream.
//!
//! **The log is what is sent.** An event is one log entry: its `id` is the
//! session's version after it, its data (see [`EventData`]) the entry as
//! logged, the seat that made it, the engine's result of it and the game's
//! state after it, so a client updates its view from the event alone. The
//! result and state are not stored: the stream plays the entry on a replica
//! of the game at the version before it (the engine is deterministic, so
//! this is what the write produced). The streams of one session in one
//! process share one replica and the last few rendered events (`Feed`);
//! a stream resuming further back plays from a replica of its own, rebuilt
//! from the log, and hands it over once it has caught up.
//!
//! A stream first replays the log after the client's version
//! (`Last-Event-ID` or `?after=`), then waits for the manager's
//! announcement of a commit (made on the write path once the commit is
//! durable) and reads the log again after the last version it sent. The
//! streams of one session read the log one at a time (the feed's `reader`
//! lock): when a commit wakes them all, the first reads and renders the
//! new entries, and the others take them from the feed (which only ever
//! holds entries read from the log) without reading the log again. So it
//! sends each entry once, in order, whatever it missed (a lagging receiver,
//! a restart, another process's write): nothing is sent that the log does
//! not hold. In shared mode on PostgreSQL, the store announces every
//! process's commits (`LISTEN`/`NOTIFY`, see `SessionManager::follow`), and
//! a stream also reads the log every [`ANNOUNCED_POLL`] in case an
//! announcement was lost; on shared SQLite, which cannot announce, a
//! stream reads the log every [`SHARED_POLL`].
//!
//! A stream sends a comment line every [`HEARTBEAT`] (configurable, see
//! `AppState::with_event_heartbeat`), ends with an `end` event when the game
//! concludes (`reason: "concluded"`, after the event that concluded it) or
//! the session is deleted or purged (`reason: "deleted"`), or the seat
//! credential it was opened with is revoked (`reason: "revoked"`: at once
//! on this server, within [`REVOCATION_CHECK`] when another server of a
//! shared deployment revoked it), and ends when the server shuts down
//! (clients resume with `Last-Event-ID`). A caller holds
//! at most [`MAX_STREAMS_PER_CALLER`] streams (429 beyond).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Duration;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use kb_engine::{Command, Conclusion, Game, PlayerId};
use kb_protocol::ErrorCode;
use kb_protocol::answers::{
    self, ConclusionAnswer, GainAnswer, GameAnswer, OutcomeAnswer, PassiveRecordAnswer,
};
use kb_session::{LogEntry, SessionError, SessionManager};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::sync::broadcast::error::RecvError;

use super::presence;
use super::sessions::{json, require, session_error};
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::state::AppState;

/// Open streams one caller may hold.
pub const MAX_STREAMS_PER_CALLER: usize = 64;
/// Interval of the comment lines that keep proxies from closing a quiet
/// stream.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// Shared mode on a store that does not announce other processes' commits
/// (shared SQLite): how often a stream reads the log for them.
pub const SHARED_POLL: Duration = Duration::from_millis(200);
/// Shared mode on a store that announces every process's commits
/// (PostgreSQL `LISTEN`/`NOTIFY`): how often a stream reads the log anyway,
/// in case an announcement was lost.
pub const ANNOUNCED_POLL: Duration = Duration::from_secs(5);
/// Entries read from the log at once.
const PAGE: usize = 256;

/// How often, at most, a stream made with a seat credential checks that
/// it was not revoked on another server of a shared deployment (on this
/// server a revocation ends its streams at once).
pub const REVOCATION_CHECK: Duration = Duration::from_secs(5);
/// The most entries `GET …/log` answers at once.
const MAX_LOG_LIMIT: usize = 1000;

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

/// Ends the event streams of a server when it begins to shut down:
/// [`crate::app::serve_within`] adds it to the router as an extension and
/// fires it when its shutdown signal completes.
#[derive(Clone)]
pub struct StreamsShutdown(tokio::sync::watch::Receiver<bool>);

impl StreamsShutdown {
    /// A trigger and the extension it fires.
    pub fn new() -> (tokio::sync::watch::Sender<bool>, StreamsShutdown) {
        let (trigger, watch) = tokio::sync::watch::channel(false);
        (trigger, StreamsShutdown(watch))
    }
}

/// `GET /sessions/:id/events`: see the module doc.
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    shutdown: Option<Extension<StreamsShutdown>>,
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
    let (version, conclusion) = manager
        .read_async(&caller, &id, |view| {
            (view.version, view.game.state().conclusion.clone())
        })
        .await
        .map_err(session_error)?;
    manager
        .log_async(&caller, &id, after, 0)
        .await
        .map_err(session_error)?;
    let permit = StreamPermit::take(&caller.user_id)?;
    let playing = manager
        .seats_played_by(&caller, &id)
        .await
        .map_err(session_error)?;
    let (presence, present) = presence::watch(&id, playing);
    let last = after.unwrap_or(version);
    let feed = Feed::of(&id);
    let reader = feed.lock().expect("feed lock").reader.clone();
    let mut stream = Stream {
        manager,
        caller,
        feed,
        reader,
        id,
        last,
        announced: last,
        pending: VecDeque::from([presence_event(&present)]),
        follow,
        presence,
        done: false,
        recheck: false,
        checked: tokio::time::Instant::now(),
        caught_up: false,
        own: None,
        shutdown: shutdown.map(|Extension(StreamsShutdown(watch))| watch),
        _permit: permit,
    };
    if last == version
        && let Some(conclusion) = conclusion
    {
        // Over already: nothing will follow.
        stream.end_concluded(&conclusion);
    }
    let events = futures_util::stream::unfold(stream, Stream::next);
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(state.event_heartbeat()))
        .into_response())
}

/// The data of an event: the log entry, who made it, what it did and the
/// state after it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventData<'a> {
    /// The session's version after the entry (the event's `id`).
    pub version: u64,
    /// The entry as logged (`{"type":"start",…}` or an engine command).
    pub entry: &'a RawValue,
    /// The seat that made it (`None` for the start entry and dev mode).
    pub player_id: Option<PlayerId>,
    /// Whether the built-in AI made it.
    pub ai: bool,
    /// The engine's result (`None` for the start entry): the route's own
    /// fields (`advance`, an action's `costs`/`traces`/`attackLogs`, an AI
    /// turn's actions).
    pub result: Option<OutcomeAnswer<'a>>,
    /// The game after it (`snapshot.game` of the session state).
    pub game: GameAnswer<'a>,
    /// `snapshot.recentResourceGains` after it.
    pub recent_resource_gains: Vec<GainAnswer<'a>>,
    /// `snapshot.passiveRecords` after it.
    pub passive_records: kb_protocol::schema::ByPlayer<Vec<PassiveRecordAnswer<'a>>>,
}

/// One rendered event.
#[derive(Clone)]
struct Rendered {
    version: u64,
    /// The entry it was rendered from.
    entry: Arc<str>,
    data: Arc<str>,
    conclusion: Option<Conclusion>,
}

/// The game at a version.
#[derive(Clone)]
struct Replica {
    version: u64,
    game: Game,
}

/// Renders the event of entry `version` of a log, played on `before` (the
/// game at `version - 1`; for the start entry, the game it created).
fn render(game: &mut Game, version: u64, entry: &str) -> Result<Rendered, String> {
    let raw: &RawValue = serde_json::from_str(entry).map_err(|e| e.to_string())?;
    let (player_id, ai, result) = match LogEntry::parse(entry).map_err(|e| e.to_string())? {
        LogEntry::Start(_) => (None, false, None),
        LogEntry::Command(command) => {
            let active = game.state().active;
            let (player_id, ai) = match &command {
                Command::AiAction { player_id, .. }
                | Command::AiTurn { player_id }
                | Command::AiMoves { player_id, .. } => (Some(*player_id), true),
                Command::SetPlayerName { player_id, .. } => (Some(*player_id), false),
                Command::Action {
                    player_id: Some(player_id),
                    ..
                } => (Some(*player_id), false),
                Command::SetDevMode { .. } => (None, false),
                _ => (Some(active), false),
            };
            let outcome = game.apply(&command).map_err(|e| e.to_string())?;
            (player_id, ai, Some(outcome))
        }
    };
    let snapshot = game.snapshot();
    let data = serde_json::to_string(&EventData {
        version,
        entry: raw,
        player_id,
        ai,
        result: result.as_ref().map(OutcomeAnswer::from),
        game: GameAnswer::from(&snapshot.game),
        recent_resource_gains: answers::gains(snapshot.recent_resource_gains),
        passive_records: answers::passive_records(&snapshot.passive_records),
    })
    .map_err(|e| e.to_string())?;
    Ok(Rendered {
        version,
        entry: Arc::from(entry),
        data: Arc::from(data),
        conclusion: game.state().conclusion.clone(),
    })
}

/// Rendered events kept per session for the streams that follow it live.
const RECENT: usize = 16;

/// What the streams of one session in this process share: a replica of the
/// game at the newest version any of them rendered, and the last events
/// rendered, so a commit is played and rendered once however many streams
/// follow it.
#[derive(Default)]
struct Feed {
    replica: Option<Replica>,
    recent: VecDeque<Rendered>,
    /// Held by the stream of this session that reads the log for new
    /// entries, so the others wait and take what it rendered.
    reader: Arc<tokio::sync::Mutex<()>>,
}

/// The feeds of the sessions someone streams (dropped with their last
/// stream).
static FEEDS: LazyLock<Mutex<HashMap<String, Weak<Mutex<Feed>>>>> = LazyLock::new(Default::default);

impl Feed {
    fn of(session_id: &str) -> Arc<Mutex<Feed>> {
        let mut feeds = FEEDS.lock().expect("feeds lock");
        if let Some(feed) = feeds.get(session_id).and_then(Weak::upgrade) {
            return feed;
        }
        feeds.retain(|_, feed| feed.strong_count() > 0);
        let feed = Arc::new(Mutex::new(Feed::default()));
        feeds.insert(session_id.to_owned(), Arc::downgrade(&feed));
        feed
    }

    fn remember(&mut self, rendered: Rendered) {
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(rendered);
    }

    /// The event of entry `version`, if this feed has it or can render it
    /// (its replica is at the version before).
    fn get(&mut self, version: u64, entry: &str) -> Option<Result<Rendered, String>> {
        if let Some(done) = self
            .recent
            .iter()
            .rev()
            .find(|r| r.version == version && &*r.entry == entry)
        {
            return Some(Ok(done.clone()));
        }
        let replica = self.replica.as_mut()?;
        if replica.version + 1 != version {
            return None;
        }
        let mut game = replica.game.clone();
        let rendered = render(&mut game, version, entry);
        if let Ok(rendered) = &rendered {
            *replica = Replica { version, game };
            self.remember(rendered.clone());
        }
        Some(rendered)
    }

    /// The events after version `last` up to `upto`, when this feed holds
    /// every one of them.
    fn after(&self, last: u64, upto: u64) -> Option<Vec<Rendered>> {
        let mut events = Vec::new();
        let mut next = last + 1;
        for rendered in &self.recent {
            if rendered.version == next && next <= upto {
                events.push(rendered.clone());
                next += 1;
            }
        }
        (next == upto + 1 && !events.is_empty()).then_some(events)
    }

    /// Takes a stream's replica (and its last event) if it is ahead.
    fn adopt(&mut self, replica: Replica, last: Option<Rendered>) {
        if self
            .replica
            .as_ref()
            .is_none_or(|r| r.version < replica.version)
        {
            self.replica = Some(replica);
            if let Some(last) = last {
                self.remember(last);
            }
        }
    }
}

/// Why an event could not be rendered.
enum Unrendered {
    /// The session could not be read (gone, or the store failed).
    Session(SessionError),
    /// The entry does not play (a log the engine refuses).
    Entry(String),
}

/// One open stream's state.
struct Stream {
    manager: Arc<SessionManager>,
    caller: kb_session::Caller,
    id: String,
    feed: Arc<Mutex<Feed>>,
    /// The feed's reader lock.
    reader: Arc<tokio::sync::Mutex<()>>,
    /// The version of the last entry sent (or the client had).
    last: u64,
    /// The newest version announced to this stream.
    announced: u64,
    /// Events rendered, not sent yet.
    pending: VecDeque<Event>,
    follow: tokio::sync::broadcast::Receiver<kb_session::Committed>,
    /// The session's presence; while held, the seats this stream's caller
    /// plays count as connected.
    presence: presence::Watch,
    done: bool,
    /// The caller's credential may have been revoked: check before going on.
    recheck: bool,
    /// When the credential was last checked (see [`REVOCATION_CHECK`]).
    checked: tokio::time::Instant,
    /// The last read of the log found less than a page.
    caught_up: bool,
    /// This stream's replica while it plays entries the feed is past, and
    /// the last event it rendered. Boxed: a game is 800 bytes, and the
    /// thousands of streams that follow live never hold one.
    own: Option<Box<(Replica, Rendered)>>,
    shutdown: Option<tokio::sync::watch::Receiver<bool>>,
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
            if self.recheck {
                self.recheck = false;
                self.check_credential_boxed().await;
                continue;
            }
            if !self.caught_up {
                // A full page was read (or none yet): read on before
                // waiting.
                self.caught_up = true;
            } else if !self.wait().await || self.done || self.take_from_feed() {
                continue;
            }
            // One stream of the session reads the log at a time; the
            // others then find its entries in the feed: after a commit,
            // and when many resume together (after a restart), where the
            // first rebuilds a replica and the others use what it
            // rendered. (A stream catching up on its own replica reads
            // alone, so it does not hold up the others.)
            if self.own.is_none() {
                let _reading = self.reader.clone().lock_owned().await;
                if self.take_from_feed() {
                    continue;
                }
                self.read_log_boxed().await;
                continue;
            }
            self.read_log_boxed().await;
        }
    }

    /// [`Stream::read_log`] on the heap: a waiting stream's future then
    /// holds a pointer, not room for the log read's own futures, which
    /// every one of thousands of idle streams would carry.
    async fn read_log_boxed(&mut self) {
        Box::pin(self.read_log()).await;
    }

    /// Ends the stream when the credential it was opened with has been
    /// revoked. (On the heap, as [`Stream::read_log_boxed`].) A store that
    /// cannot answer now leaves the stream as it is: it asks again later.
    async fn check_credential_boxed(&mut self) {
        self.checked = tokio::time::Instant::now();
        let revoked = Box::pin(self.manager.credential_revoked_async(&self.caller)).await;
        if revoked.unwrap_or(false) {
            self.end(format!(
                "{{\"reason\":\"revoked\",\"version\":{}}}",
                self.last
            ));
        }
    }

    /// Takes the events announced since the last one sent from the feed,
    /// when another stream of the session already read and rendered them
    /// from the log; `false` when the feed does not hold them all.
    fn take_from_feed(&mut self) -> bool {
        if self.own.is_some() || self.announced <= self.last {
            return false;
        }
        let Some(events) = self
            .feed
            .lock()
            .expect("feed lock")
            .after(self.last, self.announced)
        else {
            return false;
        };
        for rendered in events {
            self.pending.push_back(
                Event::default()
                    .id(rendered.version.to_string())
                    .data(&*rendered.data),
            );
            self.last = rendered.version;
            if let Some(conclusion) = &rendered.conclusion {
                self.end_concluded(conclusion);
                break;
            }
        }
        true
    }

    /// Reads the log after the last entry sent and renders its entries.
    async fn read_log(&mut self) {
        let page = match self
            .manager
            .log_async(&self.caller, &self.id, Some(self.last), PAGE)
            .await
        {
            Ok(page) => page,
            Err(SessionError::NotFound { .. }) => return self.end_deleted(),
            // The client resumes from its last event id.
            Err(_) => {
                self.done = true;
                return;
            }
        };
        self.caught_up = page.entries.len() < PAGE;
        for (version, entry) in &page.entries {
            let rendered = match self.rendered(*version, entry).await {
                Ok(rendered) => rendered,
                Err(Unrendered::Session(SessionError::NotFound { .. })) => {
                    return self.end_deleted();
                }
                Err(Unrendered::Entry(reason)) => {
                    tracing::error!(session_id = %self.id, version, reason, "a log entry does not play");
                    self.done = true;
                    return;
                }
                // The client resumes from its last event id.
                Err(Unrendered::Session(_)) => {
                    self.done = true;
                    return;
                }
            };
            self.pending.push_back(
                Event::default()
                    .id(version.to_string())
                    .data(&*rendered.data),
            );
            self.last = *version;
            if let Some(conclusion) = &rendered.conclusion {
                self.end_concluded(conclusion);
                break;
            }
        }
        if self.caught_up || self.done {
            // Live from here: the feed's replica serves, not this one.
            if let Some(own) = self.own.take() {
                let (replica, last) = *own;
                self.feed
                    .lock()
                    .expect("feed lock")
                    .adopt(replica, Some(last));
            }
        }
    }

    /// The event of entry `version`: from the feed when it has it, else
    /// played on this stream's replica (rebuilt from the log when needed).
    async fn rendered(&mut self, version: u64, entry: &str) -> Result<Rendered, Unrendered> {
        let unrenderable = Unrendered::Entry;
        if self.own.is_none()
            && let Some(done) = self.feed.lock().expect("feed lock").get(version, entry)
        {
            return done.map_err(unrenderable);
        }
        let at = version.saturating_sub(1).max(1);
        let mut replica = match self.own.take() {
            Some(own) if own.0.version + 1 == version => own.0,
            _ => {
                let game = self
                    .manager
                    .read_at_async(&self.caller, &self.id, at, |view| view.game.clone())
                    .await
                    .map_err(Unrendered::Session)?;
                Replica { version: at, game }
            }
        };
        let rendered = if version == 1 {
            // The start entry: the replica at 1 is the game it created.
            render_start(&replica.game, entry)
        } else {
            let rendered = render(&mut replica.game, version, entry);
            replica.version = version;
            rendered
        }
        .map_err(unrenderable)?;
        self.own = Some(Box::new((replica, rendered.clone())));
        Ok(rendered)
    }

    fn end_deleted(&mut self) {
        self.end(format!(
            "{{\"reason\":\"deleted\",\"version\":{}}}",
            self.last
        ));
    }

    fn end_concluded(&mut self, conclusion: &Conclusion) {
        self.end(format!(
            "{{\"reason\":\"concluded\",\"version\":{},\"conclusion\":{}}}",
            self.last,
            serde_json::to_string(&ConclusionAnswer::from(conclusion)).expect("plain data")
        ));
    }

    fn end(&mut self, data: String) {
        self.pending
            .push_back(Event::default().event("end").data(data));
        self.done = true;
    }

    /// Waits until there may be something new in the log (`true`), or
    /// until something else happened: a presence change was queued, or the
    /// stream is done (`false`).
    async fn wait(&mut self) -> bool {
        let poll = async {
            if !self.manager.is_shared() {
                std::future::pending::<()>().await;
            } else if self.manager.hears_other_processes() {
                tokio::time::sleep(ANNOUNCED_POLL).await;
            } else {
                tokio::time::sleep(SHARED_POLL).await;
            }
        };
        let shutdown = async {
            match &mut self.shutdown {
                Some(watch) => {
                    let _ = watch.wait_for(|stopping| *stopping).await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            change = self.follow.recv() => match change {
                Ok(change) if change.ended => {
                    self.end_deleted();
                    false
                }
                Ok(change) if change.revoked => {
                    self.recheck = self.caller.grant.is_some();
                    false
                }
                Ok(change) => {
                    self.announced = self.announced.max(change.version);
                    true
                }
                Err(RecvError::Lagged(_)) => {
                    // A revocation may be among what was missed.
                    self.recheck = self.caller.grant.is_some();
                    true
                }
                Err(RecvError::Closed) => {
                    // Nobody publishes on this channel any more (the
                    // session ended): the log says what is left.
                    self.follow = self.manager.follow(&self.id);
                    true
                }
            },
            present = self.presence.next() => {
                self.pending.push_back(presence_event(&present));
                false
            }
            () = poll => {
                // Another server may have revoked the credential.
                self.recheck = self.caller.grant.is_some()
                    && self.checked.elapsed() >= REVOCATION_CHECK;
                true
            }
            () = shutdown => {
                self.done = true;
                false
            }
        }
    }
}

/// A `presence` event (no `id`: it does not move `Last-Event-ID`).
fn presence_event(data: &str) -> Event {
    Event::default().event("presence").data(data)
}

/// The event of the start entry (version 1), `game` being the game it
/// created.
fn render_start(game: &Game, entry: &str) -> Result<Rendered, String> {
    let mut game = game.clone();
    render(&mut game, 1, entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Thousands of streams each hold a [`Stream`] (twice while it waits:
    /// the unfold keeps its slot beside the future that owns it), and
    /// almost all of them follow live: the replica of one catching up must
    /// not be carried inline by all.
    #[test]
    fn an_open_stream_does_not_carry_a_game() {
        assert!(
            size_of::<Stream>() < size_of::<Game>(),
            "a stream is {} bytes, a game {}",
            size_of::<Stream>(),
            size_of::<Game>()
        );
    }
}
