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
//! The manager's parts: this module holds its state and reads; `write`
//! is the write path (create, command, delete, and the one point every
//! committed change passes), `create` prepares new sessions, `sync` reads
//! and rebuilds them from the store, `upkeep` purges and writes down reads
//! off the request path.
//!
//! Requests to one session are serialized by its lock; different sessions
//! proceed in parallel. The manager is synchronous, as its store is, and
//! also offers async variants of its hot paths (`create_async`,
//! `execute_async`, `try_read`) that await commits instead of parking a
//! thread. An async write runs in a task of its own, so it completes even
//! when its caller stops waiting (see `write`). The synchronous methods
//! block: call them from a blocking thread, never from an async task.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use std::time::Duration;
use tokio::sync::{Mutex as SlotLock, MutexGuard};

use kb_content::SessionContent;
use kb_engine::{Game, PlayerId};
use kb_protocol::schema::GameConfig;
use kb_store::{LoadedSessions, Millis, QuarantinedSession, SessionRecord, SessionStore, Write};
use serde_json::Value;

use crate::clock::{Clock, SystemClock};
use crate::contents::Contents;
use crate::error::SessionError;

mod access;
mod create;
mod follow;
mod grants;
mod health;
mod history;
mod strategy;
mod sync;
mod upkeep;
mod write;

pub use grants::{Accepted, Invitation, SeatHolder, SeatView, digest_secret, new_guest_credential};
pub use health::StoreHealth;
use strategy::Strategy;
use write::{Mode, run_blocking};

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
    /// The token's user id (for a seat credential, `grant:<grant id>`).
    pub user_id: String,
    /// Admins see and act on every session.
    pub admin: bool,
    /// A seat credential's scope: it sees one session and acts for one
    /// seat of it (see `access`). `None` for a token's caller.
    pub grant: Option<SeatGrant>,
}

/// What a seat credential allows (from [`SessionManager::resolve_credential`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeatGrant {
    /// The credential's grant id.
    pub grant_id: String,
    /// The one session it is for.
    pub session_id: String,
    /// The seat it plays; `None` for a spectator.
    pub seat: Option<PlayerId>,
}

impl Caller {
    /// An admin caller (tools and tests).
    pub fn admin(user_id: &str) -> Self {
        Caller {
            user_id: user_id.to_owned(),
            admin: true,
            grant: None,
        }
    }

    /// A regular user.
    pub fn user(user_id: &str) -> Self {
        Caller {
            user_id: user_id.to_owned(),
            admin: false,
            grant: None,
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
    /// The built-in AI's level (a name the caller validated), stored in
    /// the log's start entry; `None` for the reference's AI.
    pub ai_level: Option<String>,
    /// The seat the creator holds; `None`: the first seat the AI does not
    /// play (none when it plays both). A seat the AI plays is refused.
    pub seat: Option<PlayerId>,
    /// The hex SHA-256 digest of a credential for the creator's seat (a
    /// guest creating a session gets one; its grant id must be in the
    /// caller's user id as `grant:<id>`, see [`CreateSession::guest`]).
    pub credential: Option<(String, String)>,
}

impl CreateSession {
    /// The caller a guest creates a session as, and the request's
    /// credential: `(grant id, digest)`.
    pub fn guest(&mut self, grant_id: &str, digest: String) -> Caller {
        self.credential = Some((grant_id.to_owned(), digest));
        Caller::user(&format!("grant:{grant_id}"))
    }
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
    /// The built-in AI's level as chosen at creation (`None`: none chosen).
    pub ai_level: Option<&'a str>,
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
    /// Lone or shared: every behaviour that differs between them.
    strategy: Strategy,
    contents: Contents,
    sessions: RwLock<HashMap<Arc<str>, Arc<Slot>>>,
    /// Creates between the capacity check and the insert.
    pending_creates: AtomicUsize,
    report: Mutex<HydrationReport>,
    closed: AtomicBool,
    /// Whether the store's writes work (see `health`).
    health: Mutex<health::HealthState>,
    /// Live updates: a channel per session someone follows.
    changes: Arc<follow::Followers>,
    /// The store announces other processes' commits (see `follow.rs`).
    others_announced: AtomicBool,
    /// Presence: when each credential was last used here (memory only: a
    /// read never writes a row).
    seen: Mutex<HashMap<String, Millis>>,
}

/// A change committed to a session, as published to its followers
/// ([`SessionManager::follow`]). It says only where the log now ends:
/// followers read the entries from the log, so what they send is the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// The session's version after the change.
    pub version: u64,
    /// The session is gone (deleted or purged): nothing will follow.
    pub ended: bool,
    /// A credential of the session was revoked (the log did not move): a
    /// follower holding one checks that it still may
    /// ([`SessionManager::credential_revoked_async`]).
    pub revoked: bool,
}

/// A page of a session's log ([`SessionManager::log_async`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogPage {
    /// The session's version when the page was read.
    pub version: u64,
    /// `(version after the entry, the entry as JSON)`, in log order.
    pub entries: Vec<(u64, String)>,
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
                invited: None,
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
            ai_level: live.ai_level.as_deref(),
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
    /// The seats live seat credentials hold (so the owner plays them no
    /// more), once read from the store; cleared when this process accepts
    /// or revokes a grant of the session.
    invited: Option<Vec<PlayerId>>,
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
    /// The AI level from the log's start entry.
    ai_level: Option<String>,
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
            strategy: Strategy::new(options.shared),
            contents: Contents::new(),
            sessions: RwLock::new(HashMap::new()),
            pending_creates: AtomicUsize::new(0),
            report: Mutex::new(HydrationReport::default()),
            closed: AtomicBool::new(false),
            health: Mutex::new(health::HealthState::default()),
            changes: Arc::default(),
            others_announced: AtomicBool::new(false),
            seen: Mutex::new(HashMap::new()),
        };
        manager.hydrate()?;
        manager.watch_others();
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
        self.strategy.is_shared()
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
        run_blocking(self.slot_in(Mode::Blocking, caller, session_id))
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
    /// current with the store. Blocks.
    fn open<'s>(&self, slot: &'s Arc<Slot>) -> Result<MutexGuard<'s, SlotState>, SessionError> {
        run_blocking(self.open_in(Mode::Blocking, slot))
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
        if !self.strategy.reads_from_memory() {
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

    /// Reads a session from an async task: on this thread when that cannot
    /// wait (see [`SessionManager::try_read`]), else on a blocking thread.
    pub async fn read_async<R: Send + 'static>(
        self: &Arc<Self>,
        caller: &Caller,
        session_id: &str,
        f: impl FnOnce(&SessionView<'_>) -> R + Send + 'static,
    ) -> Result<R, SessionError> {
        let mut f = Some(f);
        if let Some(result) = self.try_read(caller, session_id, |view| {
            (f.take().expect("called once"))(view)
        }) {
            return result;
        }
        let f = f.expect("not called when try_read declines");
        let (manager, caller, id) = (Arc::clone(self), caller.clone(), session_id.to_owned());
        off_thread(move || manager.read(&caller, &id, f)).await
    }

    /// [`SessionManager::delete_at`] from an async task. It runs on a
    /// blocking thread, which nothing cancels: a begun delete completes.
    pub async fn delete_async(
        self: &Arc<Self>,
        caller: &Caller,
        session_id: &str,
        expected_version: Option<u64>,
    ) -> Result<(), SessionError> {
        let (manager, caller, id) = (Arc::clone(self), caller.clone(), session_id.to_owned());
        off_thread(move || manager.delete_at(&caller, &id, expected_version)).await
    }

    /// [`SessionManager::list`] from an async task.
    pub async fn list_async(
        self: &Arc<Self>,
        caller: &Caller,
    ) -> Result<Vec<SessionSummary>, SessionError> {
        let (manager, caller) = (Arc::clone(self), caller.clone());
        off_thread(move || manager.list(&caller)).await
    }

    /// At most `limit` entries of a session's log after version `after`
    /// (`None`: from the start), for `caller`. An `after` beyond the
    /// session's version is [`SessionError::InvalidRequest`].
    pub async fn log_async(
        self: &Arc<Self>,
        caller: &Caller,
        session_id: &str,
        after: Option<u64>,
        limit: usize,
    ) -> Result<LogPage, SessionError> {
        let version = self
            .read_async(caller, session_id, |view| view.version)
            .await?;
        let after = after.unwrap_or(0);
        if after > version {
            return Err(SessionError::InvalidRequest(format!(
                "Version {after} is ahead of the session (at version {version})."
            )));
        }
        let store = Arc::clone(&self.store);
        let id = session_id.to_owned();
        let commands = off_thread(move || {
            store
                .load_range(&id, after, limit)
                .map_err(SessionError::Unavailable)
        })
        .await?;
        let entries = commands
            .into_iter()
            .zip(after + 1..)
            .map(|(entry, at)| (at, entry))
            .collect();
        Ok(LogPage { version, entries })
    }

    /// The sessions `caller` may see, ordered by id. In shared mode, the
    /// sessions in the store, with this process's later reads.
    pub fn list(&self, caller: &Caller) -> Result<Vec<SessionSummary>, SessionError> {
        let may_see = |owner: Option<&str>| caller.admin || owner == Some(caller.user_id.as_str());
        let mut out: Vec<SessionSummary> = if self.strategy.lists_store() {
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

fn not_found(session_id: &str) -> SessionError {
    SessionError::NotFound {
        session_id: session_id.to_owned(),
    }
}

/// The slot, if `caller` may see it (others get "not found").
fn visible_to(caller: &Caller, slot: Arc<Slot>) -> Result<Arc<Slot>, SessionError> {
    if access::may_see(caller, &slot) {
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
