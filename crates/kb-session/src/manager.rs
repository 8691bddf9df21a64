//! [`SessionManager`]: the live sessions of a server and their persistence.
//!
//! # How a session lives
//!
//! * **Create** validates the config, builds the game, and commits the
//!   header, the content (once per distinct content) and the log's first
//!   entries in one batch before the session exists for anyone.
//! * **Mutations** (`execute`) run the engine command on the session's game
//!   under the session's lock, append the command to the log and wait until
//!   the store has committed it, and only then answer. A refused command
//!   writes nothing; a failed commit drops the in-memory game, which is
//!   rebuilt from the store on next use, so memory never runs ahead of disk.
//! * **Reads** never write. They refresh the idle timer in memory only.
//! * **Hydration** (`new`) reads every header synchronously; a session's
//!   game is rebuilt from its checkpoint and log the first time it is used
//!   (lazily, so start-up time does not grow with game length). A session
//!   that cannot be rebuilt is quarantined in the store and reported.
//! * **Idle purge** (`maintain`) runs off the request path. Downtime does
//!   not count as idle time: the manager records a heartbeat, and on start
//!   a session's idle time is what it had when the server stopped.
//!
//! Requests to one session are serialized by its lock; different sessions
//! proceed in parallel. The manager is synchronous, as its store is, and
//! also offers async variants of its hot paths (`create_async`,
//! `execute_async`, `try_read`) that await commits instead of parking a
//! thread. The synchronous methods block: call them from a blocking thread,
//! never from an async task.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use std::time::Duration;
use tokio::sync::{Mutex as SlotLock, MutexGuard};

use kb_content::SessionContent;
use kb_engine::{Command, Game, GameConfig, GameState, Outcome, PlayerId};
use kb_store::{
    Checkpoint, LoadedSessions, Millis, QuarantinedSession, SessionRecord, SessionStore,
    StoreError, Write,
};
use serde_json::Value;

use crate::clock::{Clock, SystemClock};
use crate::contents::{ContentProblem, Contents};
use crate::error::SessionError;
use crate::log::{LogEntry, StartEntry};

/// The meta key of the heartbeat (last time the server was known alive).
const HEARTBEAT_KEY: &str = "last_alive_at";

/// Attempts at a fresh session id before giving up (as the reference).
const ID_ATTEMPTS: usize = 10;

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The token's user id.
    pub user_id: String,
    /// Admins see and act on every session.
    pub admin: bool,
}

impl Caller {
    /// An admin caller (tools and tests).
    pub fn admin(user_id: &str) -> Self {
        Caller {
            user_id: user_id.to_owned(),
            admin: true,
        }
    }

    /// A regular user.
    pub fn user(user_id: &str) -> Self {
        Caller {
            user_id: user_id.to_owned(),
            admin: false,
        }
    }
}

/// Options of [`SessionManager::new`].
#[derive(Clone)]
pub struct ManagerOptions {
    /// Where sessions persist.
    pub store: Arc<dyn SessionStore>,
    /// Sessions unused this long are purged; `None` keeps them forever.
    pub idle_timeout: Option<Duration>,
    /// The most live sessions; `None` for no limit.
    pub max_sessions: Option<usize>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Write a checkpoint (the serialized game) every this many log entries,
    /// so restoring replays at most that many commands.
    pub checkpoint_every: u64,
    /// Makes session ids.
    pub new_id: Arc<dyn Fn() -> String + Send + Sync>,
}

impl ManagerOptions {
    /// Defaults: 15-minute idle timeout, no session limit, the system clock,
    /// a checkpoint every 256 entries, UUID v4 ids.
    pub fn new(store: Arc<dyn SessionStore>) -> Self {
        ManagerOptions {
            store,
            idle_timeout: Some(Duration::from_secs(15 * 60)),
            max_sessions: None,
            clock: Arc::new(SystemClock),
            checkpoint_every: 256,
            new_id: Arc::new(|| uuid::Uuid::new_v4().to_string()),
        }
    }
}

/// A request to create a session.
#[derive(Clone, Debug, Default)]
pub struct CreateSession {
    /// Start in dev mode.
    pub dev_mode: bool,
    /// The config as submitted (stored verbatim), parsed.
    pub config: Option<(Value, GameConfig)>,
    /// Names to give players.
    pub player_names: Vec<(PlayerId, String)>,
    /// Seats the built-in AI plays; `None` for the default (B).
    pub ai_players: Option<Vec<PlayerId>>,
}

/// A session as a request sees it.
pub struct SessionView<'a> {
    /// Session id.
    pub session_id: &'a str,
    /// Number of log entries (moves on every successful mutation).
    pub version: u64,
    /// Creation time.
    pub created_at: Millis,
    /// The game.
    pub game: &'a Game,
    /// The content it plays by.
    pub content: &'a SessionContent,
}

/// A live session's summary (for listings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSummary {
    /// Session id.
    pub session_id: String,
    /// Creator.
    pub owner: Option<String>,
    /// Creation time.
    pub created_at: Millis,
    /// Last use (in memory).
    pub last_accessed_at: Millis,
    /// Dev mode.
    pub dev_mode: bool,
    /// Log entries.
    pub version: u64,
}

/// What hydration found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HydrationReport {
    /// Sessions loaded.
    pub loaded: usize,
    /// Sessions purged right away because they were idle too long when the
    /// server stopped.
    pub purged: usize,
    /// Rows quarantined while loading.
    pub quarantined: Vec<QuarantinedSession>,
}

/// Live sessions backed by a [`SessionStore`].
pub struct SessionManager {
    store: Arc<dyn SessionStore>,
    clock: Arc<dyn Clock>,
    idle_timeout: Option<Millis>,
    max_sessions: Option<usize>,
    checkpoint_every: u64,
    new_id: Arc<dyn Fn() -> String + Send + Sync>,
    contents: Contents,
    sessions: RwLock<HashMap<Arc<str>, Arc<Slot>>>,
    /// Creates between the capacity check and the insert.
    pending_creates: AtomicUsize,
    report: Mutex<HydrationReport>,
    closed: AtomicBool,
}

struct Slot {
    id: Arc<str>,
    created_at: Millis,
    owner: Option<String>,
    /// An async-capable lock: held across the commit of a write.
    state: SlotLock<SlotState>,
}

impl Slot {
    /// The view of this slot's live game.
    fn view<'a>(&'a self, record: &SessionRecord, live: &'a Live) -> SessionView<'a> {
        SessionView {
            session_id: &self.id,
            version: record.version,
            created_at: self.created_at,
            game: &live.game,
            content: &live.content,
        }
    }
}

struct SlotState {
    /// The header as stored.
    record: SessionRecord,
    /// Last use, in memory (reads do not write it).
    last_access: Millis,
    /// The game, once rebuilt.
    live: Option<Live>,
    /// Deleted, purged or quarantined: gone for every request.
    gone: bool,
}

struct Live {
    content: Arc<SessionContent>,
    game: Game,
}

impl SessionManager {
    /// Builds a manager and hydrates it from the store, synchronously.
    pub fn new(options: ManagerOptions) -> Result<SessionManager, SessionError> {
        let manager = SessionManager {
            store: options.store,
            clock: options.clock,
            idle_timeout: options
                .idle_timeout
                .filter(|d| !d.is_zero())
                .map(|d| Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)),
            max_sessions: options.max_sessions,
            checkpoint_every: options.checkpoint_every.max(1),
            new_id: options.new_id,
            contents: Contents::new(),
            sessions: RwLock::new(HashMap::new()),
            pending_creates: AtomicUsize::new(0),
            report: Mutex::new(HydrationReport::default()),
            closed: AtomicBool::new(false),
        };
        manager.hydrate()?;
        Ok(manager)
    }

    fn hydrate(&self) -> Result<(), SessionError> {
        let LoadedSessions {
            records,
            quarantined,
        } = self.store.load_all().map_err(SessionError::Unavailable)?;
        for row in &quarantined {
            tracing::error!(session_id = %row.session_id, reason = %row.reason, "quarantined an unreadable session row");
        }
        let last_alive = self
            .store
            .get_meta(HEARTBEAT_KEY)
            .map_err(SessionError::Unavailable)?
            .and_then(|v| v.parse::<Millis>().ok());
        let now = self.clock.now_ms();
        let mut report = HydrationReport {
            quarantined,
            ..HydrationReport::default()
        };
        let mut sessions = self.sessions.write().expect("sessions lock");
        for record in records {
            // Idle time is frozen while the server is down: a session keeps
            // the idle time it had at the last heartbeat.
            let idle_at_stop =
                last_alive.map_or(0, |alive| (alive - record.last_accessed_at).max(0));
            let mut record = record;
            if record.content_id.is_empty() {
                match self.adopt_legacy(&mut record) {
                    Ok(()) => {}
                    Err(reason) => {
                        report
                            .quarantined
                            .push(self.quarantine_now(&record.session_id, &reason));
                        continue;
                    }
                }
            }
            // Referenced content is not marked as known-good here: a damaged
            // content row must not be reused by new sessions. It is marked
            // once it loads, or rewritten (repaired) by the next session
            // created with that content.
            let id: Arc<str> = Arc::from(record.session_id.as_str());
            let slot = Slot {
                id: id.clone(),
                created_at: record.created_at,
                owner: record.owner.clone(),
                state: SlotLock::new(SlotState {
                    record,
                    last_access: now - idle_at_stop,
                    live: None,
                    gone: false,
                }),
            };
            sessions.insert(id, Arc::new(slot));
        }
        report.loaded = sessions.len();
        if let Some(max) = self.max_sessions
            && sessions.len() > max
        {
            tracing::warn!(
                live = sessions.len(),
                max,
                "more sessions are stored than max_sessions allows; new sessions are refused until some end"
            );
        }
        drop(sessions);
        report.purged = self.purge_expired();
        self.heartbeat();
        tracing::info!(
            loaded = report.loaded,
            purged = report.purged,
            quarantined = report.quarantined.len(),
            "sessions hydrated"
        );
        *self.report.lock().expect("report lock") = report;
        Ok(())
    }

    /// A session adopted from the reference server's database: rebuilt from
    /// its config and dev-mode flag, as the reference itself did.
    fn adopt_legacy(&self, record: &mut SessionRecord) -> Result<(), String> {
        let config = match &record.config {
            None => None,
            Some(value) => Some(
                serde_json::from_value::<GameConfig>(value.clone())
                    .map_err(|e| format!("legacy config is not a game config: {e}"))?,
            ),
        };
        let content = self
            .contents
            .for_new_session(config.as_ref())
            .map_err(|e| format!("legacy config is invalid: {e}"))?;
        record.content_id = content.id().as_str().to_owned();
        let mut writes: Vec<Write> = self.contents.put_if_new(&content).into_iter().collect();
        writes.push(Write::SaveSession(record.clone()));
        self.store
            .commit(writes)
            .map_err(|e| format!("could not adopt legacy session: {e}"))?;
        self.contents.mark_stored(content.id().as_str());
        Ok(())
    }

    fn quarantine_now(&self, session_id: &str, reason: &str) -> QuarantinedSession {
        let at = self.clock.now_ms();
        tracing::error!(session_id, reason, "quarantining session");
        if let Err(error) = self.store.commit(vec![Write::Quarantine {
            session_id: session_id.to_owned(),
            reason: reason.to_owned(),
            at,
        }]) {
            tracing::error!(session_id, %error, "could not quarantine session");
        }
        QuarantinedSession {
            session_id: session_id.to_owned(),
            reason: reason.to_owned(),
            quarantined_at: at,
        }
    }

    /// What hydration found (and sessions quarantined since).
    pub fn report(&self) -> HydrationReport {
        self.report.lock().expect("report lock").clone()
    }

    /// The number of live sessions.
    pub fn session_count(&self) -> usize {
        self.sessions.read().expect("sessions lock").len()
    }

    /// The shared default content.
    pub fn default_content(&self) -> &Arc<SessionContent> {
        self.contents.default_content()
    }

    fn check_open(&self) -> Result<(), SessionError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(SessionError::Closed);
        }
        Ok(())
    }

    // ----- create -----------------------------------------------------------

    /// Creates a session and passes its first view to `render`.
    pub fn create<R>(
        &self,
        caller: &Caller,
        request: CreateSession,
        render: impl FnOnce(&SessionView<'_>) -> R,
    ) -> Result<R, SessionError> {
        let (prepared, writes) = self.prepare_create(caller, request)?;
        let committed = self.store.commit(writes);
        self.finish_create(prepared, committed, render)
    }

    /// [`SessionManager::create`] for async callers: waits for the commit
    /// without parking a thread.
    pub async fn create_async<R>(
        &self,
        caller: &Caller,
        request: CreateSession,
        render: impl FnOnce(&SessionView<'_>) -> R,
    ) -> Result<R, SessionError> {
        let (prepared, writes) = self.prepare_create(caller, request)?;
        let committed = self.store.submit(writes).await;
        self.finish_create(prepared, committed, render)
    }

    /// Builds the game and the writes of a new session.
    fn prepare_create(
        &self,
        caller: &Caller,
        request: CreateSession,
    ) -> Result<(PreparedSession<'_>, Vec<Write>), SessionError> {
        self.check_open()?;
        let (config_json, config) = match request.config {
            Some((json, config)) => (Some(json), Some(config)),
            None => (None, None),
        };
        let content = self.contents.for_new_session(config.as_ref())?;
        let mut ai_players = request.ai_players.unwrap_or_else(|| vec![PlayerId::B]);
        ai_players.sort();
        ai_players.dedup();
        let start = StartEntry {
            dev_mode: request.dev_mode,
            ai_players,
        };
        let mut game = Game::new(content.content().clone(), start.options())?;
        let mut entries = vec![LogEntry::Start(start)];
        for (player, name) in request.player_names {
            let command = Command::SetPlayerName {
                player_id: player,
                player_name: name,
            };
            game.apply(&command)?;
            entries.push(LogEntry::Command(command));
        }

        let reservation = self.reserve_capacity()?;
        let id = self.fresh_id()?;
        let now = self.clock.now_ms();
        let mut record = SessionRecord {
            session_id: id.to_string(),
            created_at: now,
            last_accessed_at: now,
            dev_mode: game.state().dev_mode,
            config: config_json,
            content_id: content.id().as_str().to_owned(),
            owner: Some(caller.user_id.clone()),
            version: 0,
        };
        let mut writes: Vec<Write> = self.contents.put_if_new(&content).into_iter().collect();
        writes.push(Write::SaveSession(record.clone()));
        record.version = entries.len() as u64;
        writes.push(Write::append(
            &record,
            entries.iter().map(LogEntry::to_json).collect(),
        ));
        let prepared = PreparedSession {
            _reservation: reservation,
            id,
            record,
            live: Live { content, game },
        };
        Ok((prepared, writes))
    }

    /// Registers a new session once its writes are committed.
    fn finish_create<R>(
        &self,
        prepared: PreparedSession<'_>,
        committed: Result<(), StoreError>,
        render: impl FnOnce(&SessionView<'_>) -> R,
    ) -> Result<R, SessionError> {
        committed.map_err(SessionError::Unavailable)?;
        let PreparedSession {
            id, record, live, ..
        } = prepared;
        self.contents.mark_stored(live.content.id().as_str());
        let now = record.created_at;
        let view = SessionView {
            session_id: &id,
            version: record.version,
            created_at: now,
            game: &live.game,
            content: &live.content,
        };
        let rendered = render(&view);
        let slot = Arc::new(Slot {
            id: id.clone(),
            created_at: now,
            owner: record.owner.clone(),
            state: SlotLock::new(SlotState {
                record,
                last_access: now,
                live: Some(live),
                gone: false,
            }),
        });
        self.sessions
            .write()
            .expect("sessions lock")
            .insert(id, slot);
        Ok(rendered)
    }

    fn reserve_capacity(&self) -> Result<Reservation<'_>, SessionError> {
        let reservation = Reservation(&self.pending_creates);
        self.pending_creates.fetch_add(1, Ordering::SeqCst);
        if let Some(max) = self.max_sessions {
            let live = self.session_count();
            if live + self.pending_creates.load(Ordering::SeqCst) > max {
                return Err(SessionError::CapacityReached { max_sessions: max });
            }
        }
        Ok(reservation)
    }

    fn fresh_id(&self) -> Result<Arc<str>, SessionError> {
        let sessions = self.sessions.read().expect("sessions lock");
        for _ in 0..ID_ATTEMPTS {
            let id = (self.new_id)();
            if !id.is_empty() && !sessions.contains_key(id.as_str()) {
                return Ok(Arc::from(id));
            }
        }
        Err(SessionError::IdsExhausted)
    }

    // ----- access ----------------------------------------------------------------

    fn slot(&self, caller: &Caller, session_id: &str) -> Result<Arc<Slot>, SessionError> {
        let not_found = || SessionError::NotFound {
            session_id: session_id.to_owned(),
        };
        let slot = self
            .sessions
            .read()
            .expect("sessions lock")
            .get(session_id)
            .cloned()
            .ok_or_else(not_found)?;
        let visible = caller.admin
            || slot.owner.is_none()
            || slot.owner.as_deref() == Some(caller.user_id.as_str());
        if !visible {
            return Err(not_found());
        }
        Ok(slot)
    }

    /// Locks a slot and makes sure its game is live.
    fn open<'s>(&self, slot: &'s Slot) -> Result<MutexGuard<'s, SlotState>, SessionError> {
        let mut state = slot.state.blocking_lock();
        if state.gone {
            return Err(SessionError::NotFound {
                session_id: slot.id.to_string(),
            });
        }
        if state.live.is_none() {
            let rebuilt = self.rebuild(&slot.id, &state.record);
            self.install(slot, &mut state, rebuilt)?;
        }
        Ok(state)
    }

    /// [`SessionManager::open`] for async callers: the rebuild (store reads
    /// and replay) runs on a blocking thread.
    async fn open_async<'s>(
        self: &Arc<Self>,
        slot: &'s Slot,
    ) -> Result<MutexGuard<'s, SlotState>, SessionError> {
        let mut state = slot.state.lock().await;
        if state.gone {
            return Err(SessionError::NotFound {
                session_id: slot.id.to_string(),
            });
        }
        if state.live.is_none() {
            let (manager, id, record) = (self.clone(), slot.id.clone(), state.record.clone());
            let rebuilt = tokio::task::spawn_blocking(move || manager.rebuild(&id, &record))
                .await
                .map_err(|e| {
                    SessionError::InvalidRequest(format!("rebuilding the session failed: {e}"))
                })?;
            self.install(slot, &mut state, rebuilt)?;
        }
        Ok(state)
    }

    /// Installs a rebuilt game, or quarantines a session that cannot be
    /// rebuilt.
    fn install(
        &self,
        slot: &Slot,
        state: &mut SlotState,
        rebuilt: Result<Live, RebuildError>,
    ) -> Result<(), SessionError> {
        match rebuilt {
            Ok(live) => {
                state.live = Some(live);
                Ok(())
            }
            Err(RebuildError::Store(error)) => Err(SessionError::Unavailable(error)),
            Err(RebuildError::Corrupt(reason)) => {
                state.gone = true;
                let row = self.quarantine_now(&slot.id, &reason);
                self.report
                    .lock()
                    .expect("report lock")
                    .quarantined
                    .push(row);
                self.sessions
                    .write()
                    .expect("sessions lock")
                    .remove(&slot.id);
                Err(SessionError::NotFound {
                    session_id: slot.id.to_string(),
                })
            }
        }
    }

    /// Rebuilds a game from its checkpoint and log.
    fn rebuild(&self, session_id: &str, record: &SessionRecord) -> Result<Live, RebuildError> {
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
        let engine = content.content().clone();
        let (mut game, mut version, tail) = match log.checkpoint {
            Some(checkpoint) => {
                let state = serde_json::from_slice(&checkpoint.state).map_err(|e| {
                    RebuildError::Corrupt(format!(
                        "checkpoint {} is unreadable: {e}",
                        checkpoint.version
                    ))
                })?;
                let game = Game::from_state(engine, state).map_err(|e| {
                    RebuildError::Corrupt(format!(
                        "checkpoint {} does not fit its content: {e}",
                        checkpoint.version
                    ))
                })?;
                (game, checkpoint.version, &log.commands[..])
            }
            None => match log.commands.split_first() {
                // No log at all: a session adopted from the reference, a fresh
                // game in the mode its header records (what the reference did).
                None => {
                    let start = StartEntry {
                        dev_mode: record.dev_mode,
                        ai_players: vec![PlayerId::B],
                    };
                    let game = Game::new(engine, start.options())
                        .map_err(|e| RebuildError::Corrupt(format!("game cannot start: {e}")))?;
                    (game, 0, &log.commands[..])
                }
                Some((first, rest)) => {
                    let start = match LogEntry::parse(first) {
                        Ok(LogEntry::Start(start)) => start,
                        Ok(LogEntry::Command(_)) => {
                            return Err(RebuildError::Corrupt(
                                "log does not begin with a start entry".into(),
                            ));
                        }
                        Err(e) => {
                            return Err(RebuildError::Corrupt(format!(
                                "log entry 1 is unreadable: {e}"
                            )));
                        }
                    };
                    let game = Game::new(engine, start.options())
                        .map_err(|e| RebuildError::Corrupt(format!("game cannot start: {e}")))?;
                    (game, 1, rest)
                }
            },
        };
        for text in tail {
            let number = version + 1;
            let command = match LogEntry::parse(text) {
                Ok(LogEntry::Command(command)) => command,
                Ok(LogEntry::Start(_)) => {
                    return Err(RebuildError::Corrupt(format!(
                        "log entry {number} is a second start"
                    )));
                }
                Err(e) => {
                    return Err(RebuildError::Corrupt(format!(
                        "log entry {number} is unreadable: {e}"
                    )));
                }
            };
            game.apply(&command).map_err(|e| {
                RebuildError::Corrupt(format!("log entry {number} no longer applies: {e}"))
            })?;
            version = number;
        }
        if version != record.version {
            return Err(RebuildError::Corrupt(format!(
                "log holds {version} entries, header says {}",
                record.version
            )));
        }
        Ok(Live { content, game })
    }

    /// Reads a session: `f` sees it under its lock. Never writes.
    pub fn read<R>(
        &self,
        caller: &Caller,
        session_id: &str,
        f: impl FnOnce(&SessionView<'_>) -> R,
    ) -> Result<R, SessionError> {
        self.check_open()?;
        let slot = self.slot(caller, session_id)?;
        let mut state = self.open(&slot)?;
        state.last_access = state.last_access.max(self.clock.now_ms());
        let live = state.live.as_ref().expect("opened");
        let view = slot.view(&state.record, live);
        Ok(f(&view))
    }

    /// Reads a session without blocking: `None` when that would wait (the
    /// session's lock is held, for example by a write waiting for its
    /// commit) or need I/O (its game is not rebuilt yet). Async callers try
    /// this on their own thread and fall back to [`SessionManager::read`] on
    /// a blocking thread.
    pub fn try_read<R>(
        &self,
        caller: &Caller,
        session_id: &str,
        f: impl FnOnce(&SessionView<'_>) -> R,
    ) -> Option<Result<R, SessionError>> {
        if let Err(error) = self.check_open() {
            return Some(Err(error));
        }
        let slot = match self.slot(caller, session_id) {
            Ok(slot) => slot,
            Err(error) => return Some(Err(error)),
        };
        let mut state = slot.state.try_lock().ok()?;
        if state.gone {
            return Some(Err(SessionError::NotFound {
                session_id: session_id.to_owned(),
            }));
        }
        let live = state.live.as_ref()?;
        let view = slot.view(&state.record, live);
        let result = f(&view);
        state.last_access = state.last_access.max(self.clock.now_ms());
        Some(Ok(result))
    }

    /// Runs a command on a session and persists it before `render` sees the
    /// result. `expected_version` (from `If-Match`) must be current.
    pub fn execute<R>(
        &self,
        caller: &Caller,
        session_id: &str,
        command: Command,
        expected_version: Option<u64>,
        render: impl FnOnce(&SessionView<'_>, &Outcome) -> R,
    ) -> Result<R, SessionError> {
        self.check_open()?;
        let slot = self.slot(caller, session_id)?;
        let mut state = self.open(&slot)?;
        let (staged, writes) = self.stage(&slot, &mut state, command, expected_version)?;
        let committed = if writes.is_empty() {
            Ok(())
        } else {
            self.store.commit(writes)
        };
        self.settle(&slot, &mut state, staged, committed, render)
    }

    /// [`SessionManager::execute`] for async callers: the session's lock is
    /// held across the commit, which is awaited rather than waited for on a
    /// parked thread. Must run inside a tokio runtime (a game that must be
    /// rebuilt from the store is rebuilt on a blocking thread).
    pub async fn execute_async<R>(
        self: &Arc<Self>,
        caller: &Caller,
        session_id: &str,
        command: Command,
        expected_version: Option<u64>,
        render: impl FnOnce(&SessionView<'_>, &Outcome) -> R,
    ) -> Result<R, SessionError> {
        self.check_open()?;
        let slot = self.slot(caller, session_id)?;
        let mut state = self.open_async(&slot).await?;
        let (staged, writes) = self.stage(&slot, &mut state, command, expected_version)?;
        let committed = if writes.is_empty() {
            Ok(())
        } else {
            self.store.submit(writes).await
        };
        self.settle(&slot, &mut state, staged, committed, render)
    }

    /// Applies a command to a live game and builds the writes that make it
    /// durable (none when nothing changed).
    fn stage(
        &self,
        slot: &Slot,
        state: &mut SlotState,
        command: Command,
        expected_version: Option<u64>,
    ) -> Result<(Staged, Vec<Write>), SessionError> {
        let version = state.record.version;
        if let Some(expected) = expected_version
            && expected != version
        {
            return Err(SessionError::Stale {
                session_id: slot.id.to_string(),
                expected,
                actual: version,
            });
        }
        let now = self.clock.now_ms();
        let live = state.live.as_mut().expect("opened");
        let outcome = live.game.apply(&command)?;
        let dev_mode = live.game.state().dev_mode;
        let changed = !matches!(&outcome, Outcome::AiTurn(ai) if !ai.ran_turn);
        if !changed {
            let staged = Staged {
                outcome,
                new_version: version,
                dev_mode,
                now,
            };
            return Ok((staged, Vec::new()));
        }
        let mut entries = Vec::with_capacity(2);
        if version == 0 {
            // An adopted session has no log yet: record how its game was
            // started before its first command.
            entries.push(LogEntry::Start(StartEntry {
                dev_mode: state.record.dev_mode,
                ai_players: vec![PlayerId::B],
            }));
        }
        entries.push(LogEntry::Command(command));
        let new_version = version + entries.len() as u64;
        let mut writes = vec![Write::Append {
            session_id: slot.id.to_string(),
            version: new_version,
            last_accessed_at: now,
            dev_mode,
            commands: entries.iter().map(LogEntry::to_json).collect(),
        }];
        // A checkpoint each time the log crosses a multiple of the interval.
        if new_version / self.checkpoint_every != version / self.checkpoint_every {
            match checkpoint_bytes(live.game.state()) {
                Some(state_bytes) => writes.push(Write::Checkpoint {
                    session_id: slot.id.to_string(),
                    checkpoint: Checkpoint {
                        version: new_version,
                        state: state_bytes,
                    },
                }),
                None => tracing::warn!(
                    session_id = %slot.id,
                    version = new_version,
                    "the game state does not survive JSON (a non-finite number?): \
                     no checkpoint, its log alone restores it"
                ),
            }
        }
        let staged = Staged {
            outcome,
            new_version,
            dev_mode,
            now,
        };
        Ok((staged, writes))
    }

    /// Records a committed command, or forgets the game when the commit
    /// failed (memory must not run ahead of the store: the game is rebuilt
    /// from the log on next use), then renders.
    fn settle<R>(
        &self,
        slot: &Slot,
        state: &mut SlotState,
        staged: Staged,
        committed: Result<(), StoreError>,
        render: impl FnOnce(&SessionView<'_>, &Outcome) -> R,
    ) -> Result<R, SessionError> {
        if let Err(error) = committed {
            state.live = None;
            return Err(match error {
                StoreError::Conflict { .. } => SessionError::Concurrent {
                    session_id: slot.id.to_string(),
                },
                other => SessionError::Unavailable(other),
            });
        }
        if staged.new_version != state.record.version {
            // Committed: the stored header moved with it.
            state.record.version = staged.new_version;
            state.record.dev_mode = staged.dev_mode;
            state.record.last_accessed_at = staged.now;
        }
        state.last_access = state.last_access.max(staged.now);
        let live = state.live.as_ref().expect("still live");
        let view = slot.view(&state.record, live);
        Ok(render(&view, &staged.outcome))
    }

    /// Deletes a session and its log.
    pub fn delete(&self, caller: &Caller, session_id: &str) -> Result<(), SessionError> {
        self.delete_at(caller, session_id, None)
    }

    /// Deletes a session and its log if it is at `expected_version` (from
    /// `If-Match`); `None` deletes it at any version.
    pub fn delete_at(
        &self,
        caller: &Caller,
        session_id: &str,
        expected_version: Option<u64>,
    ) -> Result<(), SessionError> {
        self.check_open()?;
        let slot = self.slot(caller, session_id)?;
        let mut state = slot.state.blocking_lock();
        if state.gone {
            return Err(SessionError::NotFound {
                session_id: session_id.to_owned(),
            });
        }
        if let Some(expected) = expected_version
            && expected != state.record.version
        {
            return Err(SessionError::Stale {
                session_id: session_id.to_owned(),
                expected,
                actual: state.record.version,
            });
        }
        self.store
            .commit(vec![Write::Delete {
                session_id: session_id.to_owned(),
            }])
            .map_err(SessionError::Unavailable)?;
        state.gone = true;
        drop(state);
        self.sessions
            .write()
            .expect("sessions lock")
            .remove(session_id);
        Ok(())
    }

    /// The sessions `caller` may see, ordered by id.
    pub fn list(&self, caller: &Caller) -> Vec<SessionSummary> {
        let slots: Vec<Arc<Slot>> = self
            .sessions
            .read()
            .expect("sessions lock")
            .values()
            .filter(|s| caller.admin || s.owner.as_deref() == Some(caller.user_id.as_str()))
            .cloned()
            .collect();
        let mut out: Vec<SessionSummary> = slots
            .iter()
            .filter_map(|slot| {
                let state = slot.state.blocking_lock();
                (!state.gone).then(|| SessionSummary {
                    session_id: slot.id.to_string(),
                    owner: slot.owner.clone(),
                    created_at: slot.created_at,
                    last_accessed_at: state.last_access,
                    dev_mode: state.record.dev_mode,
                    version: state.record.version,
                })
            })
            .collect();
        out.sort_by(|a, b| a.session_id.cmp(&b.session_id));
        out
    }

    // ----- maintenance ----------------------------------------------------------------

    /// Periodic upkeep, off the request path: purge idle sessions and record
    /// a heartbeat. Returns the number of sessions purged.
    pub fn maintain(&self) -> usize {
        if self.closed.load(Ordering::SeqCst) {
            return 0;
        }
        let purged = self.purge_expired();
        self.heartbeat();
        purged
    }

    fn heartbeat(&self) {
        let now = self.clock.now_ms();
        if let Err(error) = self.store.commit(vec![Write::PutMeta {
            key: HEARTBEAT_KEY.to_owned(),
            value: now.to_string(),
        }]) {
            tracing::warn!(%error, "could not record the heartbeat");
        }
    }

    /// Purges sessions idle longer than the timeout (strictly longer, as the
    /// reference). Busy sessions are skipped: they are in use.
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
            .map(|(slot, _)| Write::Delete {
                session_id: slot.id.to_string(),
            })
            .collect();
        if let Err(error) = self.store.commit(writes) {
            tracing::warn!(%error, "could not purge idle sessions; will retry");
            return 0;
        }
        let count = expired.len();
        let mut sessions = self.sessions.write().expect("sessions lock");
        for (slot, mut state) in expired {
            state.gone = true;
            sessions.remove(&slot.id);
            tracing::info!(session_id = %slot.id, "purged idle session");
        }
        count
    }

    /// Flushes last-access times and closes the store. Later calls fail with
    /// [`SessionError::Closed`].
    pub fn close(&self) -> Result<(), SessionError> {
        if self.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let slots: Vec<Arc<Slot>> = self
            .sessions
            .read()
            .expect("sessions lock")
            .values()
            .cloned()
            .collect();
        let mut writes = Vec::new();
        for slot in slots {
            let state = slot.state.blocking_lock();
            if !state.gone && state.last_access > state.record.last_accessed_at {
                writes.push(Write::Touch {
                    session_id: slot.id.to_string(),
                    last_accessed_at: state.last_access,
                });
            }
        }
        writes.push(Write::PutMeta {
            key: HEARTBEAT_KEY.to_owned(),
            value: self.clock.now_ms().to_string(),
        });
        let flushed = self.store.commit(writes);
        let closed = self.store.close();
        flushed.map_err(SessionError::Unavailable)?;
        closed.map_err(SessionError::Unavailable)
    }
}

/// A command applied in memory, waiting for its commit.
struct Staged {
    outcome: Outcome,
    new_version: u64,
    dev_mode: bool,
    now: Millis,
}

/// A new session, built and waiting for its commit.
struct PreparedSession<'a> {
    _reservation: Reservation<'a>,
    id: Arc<str>,
    record: SessionRecord,
    live: Live,
}

/// The state serialized for a checkpoint, if reading it back gives the
/// same state. JSON cannot hold every `f64` (serde_json writes infinity as
/// `null`), and a checkpoint that does not read back would get the session
/// quarantined at the next start.
fn checkpoint_bytes(state: &GameState) -> Option<Vec<u8>> {
    let bytes = serde_json::to_vec(state).expect("plain data");
    let back: GameState = serde_json::from_slice(&bytes).ok()?;
    (back == *state).then_some(bytes)
}

enum RebuildError {
    Store(StoreError),
    Corrupt(String),
}

/// Releases a capacity reservation.
struct Reservation<'a>(&'a AtomicUsize);

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
