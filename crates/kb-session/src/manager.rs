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
//! * **Reads** never write. They refresh the idle timer in memory; upkeep
//!   writes it down in one batch, for a lone server only once it lags the
//!   stored time by a quarter of the idle timeout (so that a crash cannot
//!   make a session that is being read look idle), in shared mode always
//!   (below).
//! * **Hydration** (`new`) reads every header synchronously; a session's
//!   game is rebuilt from its checkpoint and log the first time it is used
//!   (lazily, so start-up time does not grow with game length). A session
//!   that cannot be rebuilt is quarantined in the store and reported.
//! * **Idle purge** (`maintain`) runs off the request path. Downtime does
//!   not count as idle time: the manager records a heartbeat, and on start
//!   a session's idle time is what it had when the server stopped.
//!
//! # Sharing a store
//!
//! With [`ManagerOptions::shared`], several processes serve one store (a
//! PostgreSQL database, or one SQLite file on one machine) and any of them
//! can serve any session. The store is the truth; memory is a cache that
//! every request checks against it:
//!
//! * A request reads the session's stored header first. A session another
//!   process created is loaded; one it deleted or purged is gone; one it
//!   wrote to is rebuilt (from the checkpoint and the log) before use.
//! * A command commits only on the version it was run on (the store's
//!   optimistic check). If another process got there first, the command is
//!   run again on the newer game, a few times at most; with `If-Match` the
//!   answer is "stale" instead. No update is lost, none applied twice.
//! * Upkeep writes the last-access time of sessions read here since the
//!   last upkeep, takes in sessions other processes created, and purges
//!   with a conditional delete that spares a session another process used
//!   since (no process purges a session another one serves).
//! * `max_sessions` counts the stored sessions; listing lists the store.
//!
//! A plain delete wins over a write racing it from another process; a
//! delete at a version (`If-Match`) is checked by the store as it commits,
//! so it never removes a write it did not see.
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

/// Shared mode: reads of a session's header and log that may race another
/// process's writes before giving up with [`SessionError::Concurrent`].
const SYNC_ATTEMPTS: usize = 4;

/// Shared mode: times a command is re-run on a fresh game after another
/// process committed to the session first.
const COMMIT_ATTEMPTS: usize = 4;

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
    /// Other processes write the same store: treat the store, not memory,
    /// as the truth (see [`SessionManager`] on sharing a store).
    pub shared: bool,
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
            shared: false,
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
    shared: bool,
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
    /// A slot whose game is rebuilt on first use.
    fn cold(record: SessionRecord, last_access: Millis) -> Arc<Slot> {
        Arc::new(Slot {
            id: Arc::from(record.session_id.as_str()),
            created_at: record.created_at,
            owner: record.owner.clone(),
            state: SlotLock::new(SlotState {
                record,
                last_access,
                read_unflushed: false,
                live: None,
                gone: false,
            }),
        })
    }

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
    /// Read since its last access time was last written (upkeep writes it,
    /// so that neither a crash nor another process purges a session in use).
    read_unflushed: bool,
    /// The game, once rebuilt.
    live: Option<Live>,
    /// Deleted, purged or quarantined: gone for every request.
    gone: bool,
}

impl SlotState {
    /// Records a read at `now`.
    fn read_at(&mut self, now: Millis) {
        self.last_access = self.last_access.max(now);
        self.read_unflushed = true;
    }
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
            shared: options.shared,
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
            let slot = Slot::cold(record, now - idle_at_stop);
            sessions.insert(slot.id.clone(), slot);
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

    /// Whether other processes share the store (see
    /// [`ManagerOptions::shared`]).
    pub fn is_shared(&self) -> bool {
        self.shared
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
        let stored = match self.shared_capacity() {
            Some(max) => Some(self.count_stored(max)?),
            None => None,
        };
        let (prepared, writes) = self.prepare_create(caller, request, stored)?;
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
        let stored = match self.shared_capacity() {
            Some(max) => {
                let store = self.store.clone();
                let count =
                    off_thread(move || store.count_sessions().map_err(SessionError::Unavailable))
                        .await?;
                Some(capacity_count(count, max))
            }
            None => None,
        };
        let (prepared, writes) = self.prepare_create(caller, request, stored)?;
        let committed = self.store.submit(writes).await;
        self.finish_create(prepared, committed, render)
    }

    /// Builds the game and the writes of a new session.
    /// `stored` is the stored session count in shared mode with a limit.
    fn prepare_create(
        &self,
        caller: &Caller,
        request: CreateSession,
        stored: Option<usize>,
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

        let reservation = self.reserve_capacity(stored)?;
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
                read_unflushed: false,
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

    /// The limit, when the count it applies to is the store's (shared mode).
    fn shared_capacity(&self) -> Option<usize> {
        self.max_sessions.filter(|_| self.shared)
    }

    fn count_stored(&self, max: usize) -> Result<usize, SessionError> {
        let count = self
            .store
            .count_sessions()
            .map_err(SessionError::Unavailable)?;
        Ok(capacity_count(count, max))
    }

    /// Reserves room for one more session. The count is this process's
    /// sessions, or in shared mode `stored`, the store's: processes
    /// creating at the same instant can overshoot the limit by one each.
    fn reserve_capacity(&self, stored: Option<usize>) -> Result<Reservation<'_>, SessionError> {
        let reservation = Reservation(&self.pending_creates);
        self.pending_creates.fetch_add(1, Ordering::SeqCst);
        if let Some(max) = self.max_sessions {
            let live = stored.unwrap_or_else(|| self.session_count());
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

    /// The session's slot in this process, if any.
    fn lookup(&self, session_id: &str) -> Option<Arc<Slot>> {
        self.sessions
            .read()
            .expect("sessions lock")
            .get(session_id)
            .cloned()
    }

    fn slot(&self, caller: &Caller, session_id: &str) -> Result<Arc<Slot>, SessionError> {
        let slot = match self.lookup(session_id) {
            Some(slot) => slot,
            None if self.shared => self.load_slot(session_id)?,
            None => return Err(not_found(session_id)),
        };
        visible_to(caller, slot)
    }

    /// [`SessionManager::slot`] for async callers: a session another
    /// process created is looked up on a blocking thread.
    async fn slot_async(
        self: &Arc<Self>,
        caller: &Caller,
        session_id: &str,
    ) -> Result<Arc<Slot>, SessionError> {
        let slot = match self.lookup(session_id) {
            Some(slot) => slot,
            None if self.shared => {
                let (manager, id) = (self.clone(), session_id.to_owned());
                off_thread(move || manager.load_slot(&id)).await?
            }
            None => return Err(not_found(session_id)),
        };
        visible_to(caller, slot)
    }

    /// Shared mode: a session this process does not hold yet (another
    /// process created it) gets a cold slot from its stored header.
    fn load_slot(&self, session_id: &str) -> Result<Arc<Slot>, SessionError> {
        let mut record = self
            .store
            .load_session(session_id)
            .map_err(SessionError::Unavailable)?
            .ok_or_else(|| not_found(session_id))?;
        if record.content_id.is_empty() {
            self.adopt_legacy(&mut record).map_err(|reason| {
                self.quarantine_now(session_id, &reason);
                not_found(session_id)
            })?;
        }
        let last_access = record.last_accessed_at;
        let slot = Slot::cold(record, last_access);
        let mut sessions = self.sessions.write().expect("sessions lock");
        Ok(sessions.entry(slot.id.clone()).or_insert(slot).clone())
    }

    /// Drops a slot from the map, unless another slot replaced it.
    fn forget(&self, slot: &Arc<Slot>) {
        let mut sessions = self.sessions.write().expect("sessions lock");
        if sessions
            .get(&slot.id)
            .is_some_and(|held| Arc::ptr_eq(held, slot))
        {
            sessions.remove(&slot.id);
        }
    }

    /// Locks a slot and makes sure its game is live and, in shared mode,
    /// current with the store.
    fn open<'s>(&self, slot: &'s Arc<Slot>) -> Result<MutexGuard<'s, SlotState>, SessionError> {
        let mut state = slot.state.blocking_lock();
        if state.gone {
            return Err(not_found(&slot.id));
        }
        if self.shared || state.live.is_none() {
            let synced = self.synchronize(&slot.id, &state.record, state.live.is_some());
            self.install(slot, &mut state, synced)?;
        }
        Ok(state)
    }

    /// [`SessionManager::open`] for async callers: store reads and replay
    /// run on a blocking thread.
    async fn open_async<'s>(
        self: &Arc<Self>,
        slot: &'s Arc<Slot>,
    ) -> Result<MutexGuard<'s, SlotState>, SessionError> {
        let mut state = slot.state.lock().await;
        if state.gone {
            return Err(not_found(&slot.id));
        }
        if self.shared || state.live.is_none() {
            let (manager, id, record) = (self.clone(), slot.id.clone(), state.record.clone());
            let has_live = state.live.is_some();
            let synced =
                off_thread(move || Ok(manager.synchronize(&id, &record, has_live))).await?;
            self.install(slot, &mut state, synced)?;
        }
        Ok(state)
    }

    /// Reads what a slot needs from the store: in shared mode the stored
    /// header first (the session may have moved on or be gone), then the
    /// game when there is none or it is behind. `record` is the header the
    /// slot holds.
    fn synchronize(
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
    fn install(
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
        Ok((Live { content, game }, version))
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
        state.read_at(self.clock.now_ms());
        let live = state.live.as_ref().expect("opened");
        let view = slot.view(&state.record, live);
        Ok(f(&view))
    }

    /// Reads a session without blocking: `None` when that would wait (the
    /// session's lock is held, for example by a write waiting for its
    /// commit) or need I/O (its game is not rebuilt yet). Async callers try
    /// this on their own thread and fall back to [`SessionManager::read`] on
    /// a blocking thread. Always declines in shared mode, where every read
    /// checks the store.
    pub fn try_read<R>(
        &self,
        caller: &Caller,
        session_id: &str,
        f: impl FnOnce(&SessionView<'_>) -> R,
    ) -> Option<Result<R, SessionError>> {
        if let Err(error) = self.check_open() {
            return Some(Err(error));
        }
        if self.shared {
            // Every read checks the stored header: I/O.
            return None;
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
        state.read_at(self.clock.now_ms());
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
        let mut attempt = 1;
        loop {
            let mut state = self.open(&slot)?;
            let (staged, writes) =
                self.stage(&slot, &mut state, command.clone(), expected_version)?;
            let committed = if writes.is_empty() {
                Ok(())
            } else {
                self.store.commit(writes)
            };
            if self.lost_race(&mut state, &committed, &mut attempt) {
                continue;
            }
            return self.settle(&slot, &mut state, staged, committed, render);
        }
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
        let slot = self.slot_async(caller, session_id).await?;
        let mut attempt = 1;
        loop {
            let mut state = self.open_async(&slot).await?;
            let (staged, writes) =
                self.stage(&slot, &mut state, command.clone(), expected_version)?;
            let committed = if writes.is_empty() {
                Ok(())
            } else {
                self.store.submit(writes).await
            };
            if self.lost_race(&mut state, &committed, &mut attempt) {
                continue;
            }
            return self.settle(&slot, &mut state, staged, committed, render);
        }
    }

    /// Shared mode: another process committed to the session between our
    /// read of it and our commit. The command is run again on the game as
    /// stored (with `If-Match`, that answers "stale"), a few times at most.
    fn lost_race(
        &self,
        state: &mut SlotState,
        committed: &Result<(), StoreError>,
        attempt: &mut usize,
    ) -> bool {
        let retry = self.shared
            && matches!(committed, Err(StoreError::Conflict { .. }))
            && *attempt < COMMIT_ATTEMPTS;
        if retry {
            state.live = None;
            *attempt += 1;
        }
        retry
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
            return Err(not_found(session_id));
        }
        if self.shared {
            // `If-Match` is checked against the stored version.
            let header = self.store.load_session(session_id);
            let synced = header
                .map(|header| header.map_or(Synced::Gone, Synced::Header))
                .map_err(RebuildError::Store);
            if let Ok(Synced::Header(header)) = &synced
                && header.version != state.record.version
            {
                state.live = None;
            }
            self.install(&slot, &mut state, synced)?;
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
        // Another process may write between the check above and the commit:
        // the store checks the version again, atomically.
        let delete = Write::Delete {
            session_id: session_id.to_owned(),
            at_version: expected_version,
        };
        match self.store.commit(vec![delete]) {
            Ok(()) => {}
            Err(StoreError::Conflict {
                expected, actual, ..
            }) => {
                // The session lives on at a newer version; the next request
                // rebuilds it from the store.
                state.live = None;
                return Err(SessionError::Stale {
                    session_id: session_id.to_owned(),
                    expected,
                    actual,
                });
            }
            Err(error) => return Err(SessionError::Unavailable(error)),
        }
        state.gone = true;
        state.live = None;
        drop(state);
        self.forget(&slot);
        Ok(())
    }

    /// The sessions `caller` may see, ordered by id. In shared mode, the
    /// sessions in the store, with this process's later reads.
    pub fn list(&self, caller: &Caller) -> Result<Vec<SessionSummary>, SessionError> {
        let may_see = |owner: Option<&str>| caller.admin || owner == Some(caller.user_id.as_str());
        let mut out: Vec<SessionSummary> = if self.shared {
            let stored = self.store.load_all().map_err(SessionError::Unavailable)?;
            stored
                .records
                .into_iter()
                .filter(|record| may_see(record.owner.as_deref()))
                .map(|record| {
                    let local = self
                        .lookup(&record.session_id)
                        .and_then(|slot| slot.state.try_lock().map(|s| s.last_access).ok());
                    SessionSummary {
                        last_accessed_at: local
                            .unwrap_or(record.last_accessed_at)
                            .max(record.last_accessed_at),
                        session_id: record.session_id,
                        owner: record.owner,
                        created_at: record.created_at,
                        dev_mode: record.dev_mode,
                        version: record.version,
                    }
                })
                .collect()
        } else {
            let slots: Vec<Arc<Slot>> = self
                .sessions
                .read()
                .expect("sessions lock")
                .values()
                .filter(|slot| may_see(slot.owner.as_deref()))
                .cloned()
                .collect();
            slots
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
                .collect()
        };
        out.sort_by(|a, b| a.session_id.cmp(&b.session_id));
        Ok(out)
    }

    // ----- maintenance ----------------------------------------------------------------

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
        if self.shared {
            self.flush_reads(0);
            self.reconcile();
        } else if let Some(timeout) = self.idle_timeout {
            self.flush_reads(timeout / 4);
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
        if let Err(error) = self.store.commit(writes) {
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
            .map(|(slot, state)| {
                let session_id = slot.id.to_string();
                if self.shared {
                    Write::DeleteIfIdle {
                        session_id,
                        idle_before: state.record.last_accessed_at + 1,
                    }
                } else {
                    Write::Delete {
                        session_id,
                        at_version: None,
                    }
                }
            })
            .collect();
        if let Err(error) = self.store.commit(writes) {
            tracing::warn!(%error, "could not purge idle sessions; will retry");
            return 0;
        }
        let count = expired.len();
        let mut sessions = self.sessions.write().expect("sessions lock");
        for (slot, mut state) in expired {
            // Shared: not marked gone, as another process may have kept it;
            // a request still holding this slot checks the store.
            state.gone = !self.shared;
            state.live = None;
            sessions.remove(&slot.id);
            if self.shared {
                tracing::info!(session_id = %slot.id, "purged idle session (unless used elsewhere)");
            } else {
                tracing::info!(session_id = %slot.id, "purged idle session");
            }
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

/// What a slot learned from the store.
enum Synced {
    /// The game is current; the stored header (its last access may have
    /// moved).
    Header(SessionRecord),
    /// The game, rebuilt at the stored header's version.
    Rebuilt(SessionRecord, Box<Live>),
    /// The session is no longer stored (deleted or purged elsewhere).
    Gone,
}

enum RebuildError {
    Store(StoreError),
    Corrupt(String),
    /// The session kept moving under the rebuild (other processes writing).
    Busy,
}

fn not_found(session_id: &str) -> SessionError {
    SessionError::NotFound {
        session_id: session_id.to_owned(),
    }
}

/// The slot, if `caller` may see it (others get "not found").
fn visible_to(caller: &Caller, slot: Arc<Slot>) -> Result<Arc<Slot>, SessionError> {
    let visible = caller.admin
        || slot.owner.is_none()
        || slot.owner.as_deref() == Some(caller.user_id.as_str());
    if visible {
        Ok(slot)
    } else {
        Err(not_found(&slot.id))
    }
}

/// Runs blocking store work off the async thread; a panic there resumes
/// here.
async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SessionError> + Send + 'static,
) -> Result<T, SessionError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(error) => match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => Err(SessionError::Closed),
        },
    }
}

/// A stored count as a `usize` (saturating: only compared to `max`).
fn capacity_count(count: u64, max: usize) -> usize {
    usize::try_from(count).unwrap_or(max)
}

/// Releases a capacity reservation.
struct Reservation<'a>(&'a AtomicUsize);

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
