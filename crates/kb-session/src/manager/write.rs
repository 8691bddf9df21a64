//! The write path: every change to a session (create, command, delete)
//! goes through here, and every committed change passes
//! [`SessionManager::committed`], the one point where a change is known
//! durable.
//!
//! **A write, once begun, completes, whoever still waits for it.** A
//! command runs stage → commit → settle under its session's lock: the game
//! is changed in memory, the store commits, and the header in memory
//! learns the new version. Were the waiting stopped between the commit and
//! the settle (an HTTP handler's future is dropped when its client resets
//! the connection), the store would hold a version memory does not know,
//! and the next write would append at a stale version. So the async entry
//! points (`create_async`, `execute_async`) run the whole write in a task
//! of its own that owns what it needs; the caller only awaits its result,
//! and dropping the caller cancels nothing (the answer is then lost, never
//! half of the write). Deletes run on a blocking thread, which nothing
//! cancels either.
//!
//! The synchronous entry points run the same code on the calling thread
//! ([`Mode::Blocking`]): there every wait blocks, so it completes in one
//! poll.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use kb_engine::{Command, GameState, Outcome, PlayerId};
use kb_store::{Checkpoint, StoreError, Write};
use tokio::sync::MutexGuard;

use super::create::capacity_count;
use super::sync::{RebuildError, Synced};
use super::{
    Caller, Committed, CreateSession, SessionManager, SessionView, Slot, SlotState, not_found,
    off_thread, visible_to,
};
use crate::error::SessionError;
use crate::log::{LogEntry, StartEntry};

/// How a write waits: blocking its thread, or awaiting in a task that owns
/// the manager (needed to move blocking store work off the async threads).
#[derive(Clone, Copy)]
pub(super) enum Mode<'m> {
    /// On a thread that may block (a synchronous caller).
    Blocking,
    /// In an async task.
    Async(&'m Arc<SessionManager>),
}

/// A change the store has committed.
pub(super) enum Change<'a> {
    /// A session was created: its first view.
    Created {
        /// The new session.
        view: &'a SessionView<'a>,
    },
    /// A command was appended to a session's log.
    Command {
        /// The session after it.
        view: &'a SessionView<'a>,
        /// What the command did.
        outcome: &'a Outcome,
    },
    /// A session was deleted.
    Deleted {
        /// The session.
        session_id: &'a str,
    },
    /// A session was purged for being idle.
    Purged {
        /// The session.
        session_id: &'a str,
    },
}

impl SessionManager {
    /// The one point every committed change passes, once it is durable and
    /// before anyone is answered, in commit order per session (the
    /// session's lock is held, except for a creation, which nobody else
    /// can see yet). Publish live updates from here.
    pub(super) fn committed(&self, change: Change<'_>) {
        match change {
            Change::Created { view } => {
                tracing::debug!(session_id = %view.session_id, version = view.version, "session created");
            }
            Change::Command { view, outcome } => {
                let command = match outcome {
                    Outcome::Advance(_) => "advance",
                    Outcome::Action(_) => "action",
                    Outcome::AiTurn(_) => "aiTurn",
                    Outcome::DevMode => "setDevMode",
                    Outcome::PlayerName => "setPlayerName",
                };
                tracing::debug!(session_id = %view.session_id, version = view.version, command, "command committed");
                self.publish(
                    view.session_id,
                    Committed {
                        version: view.version,
                        ended: false,
                        revoked: false,
                    },
                );
            }
            Change::Deleted { session_id } => {
                tracing::debug!(%session_id, "session deleted");
                self.publish(
                    session_id,
                    Committed {
                        version: 0,
                        ended: true,
                        revoked: false,
                    },
                );
            }
            Change::Purged { session_id } => {
                tracing::debug!(%session_id, "session purged");
                self.publish(
                    session_id,
                    Committed {
                        version: 0,
                        ended: true,
                        revoked: false,
                    },
                );
            }
        }
    }

    // ----- create -----------------------------------------------------------------

    /// Creates a session and passes its first view to `render`. Blocks: call
    /// it from a thread that may block, never from an async task.
    pub fn create<R>(
        &self,
        caller: &Caller,
        request: CreateSession,
        render: impl FnOnce(&SessionView<'_>) -> R,
    ) -> Result<R, SessionError> {
        run_blocking(self.create_in(Mode::Blocking, caller, request, render))
    }

    /// [`SessionManager::create`] for async callers. The creation runs in a
    /// task of its own: it completes even if the caller stops waiting.
    /// Must run inside a tokio runtime.
    pub async fn create_async<R: Send + 'static>(
        self: &Arc<Self>,
        caller: &Caller,
        request: CreateSession,
        render: impl FnOnce(&SessionView<'_>) -> R + Send + 'static,
    ) -> Result<R, SessionError> {
        let manager = Arc::clone(self);
        let caller = caller.clone();
        detached(async move {
            manager
                .create_in(Mode::Async(&manager), &caller, request, render)
                .await
        })
        .await
    }

    async fn create_in<R>(
        &self,
        mode: Mode<'_>,
        caller: &Caller,
        request: CreateSession,
        render: impl FnOnce(&SessionView<'_>) -> R,
    ) -> Result<R, SessionError> {
        self.check_open()?;
        let stored = self.stored_count(mode).await?;
        let (prepared, writes) = self.prepare_create(caller, request, stored)?;
        let committed = self.commit_in(mode, writes).await;
        self.finish_create(prepared, committed, render)
    }

    /// The stored session count, when the session limit counts the store's
    /// sessions (shared mode with a limit).
    pub(super) async fn stored_count(&self, mode: Mode<'_>) -> Result<Option<usize>, SessionError> {
        let Some(max) = self.stored_capacity() else {
            return Ok(None);
        };
        let count = match mode {
            Mode::Blocking => self.store.count_sessions(),
            Mode::Async(_) => {
                let store = self.store.clone();
                off_thread(move || Ok(store.count_sessions())).await?
            }
        };
        Ok(Some(capacity_count(
            count.map_err(SessionError::Unavailable)?,
            max,
        )))
    }

    // ----- commands ---------------------------------------------------------------

    /// Runs a command on a session and persists it before `render` sees the
    /// result. `expected_version` (from `If-Match`) must be current. Blocks:
    /// call it from a thread that may block, never from an async task.
    pub fn execute<R>(
        &self,
        caller: &Caller,
        session_id: &str,
        command: Command,
        expected_version: Option<u64>,
        render: impl FnOnce(&SessionView<'_>, &Outcome) -> R,
    ) -> Result<R, SessionError> {
        run_blocking(self.execute_in(
            Mode::Blocking,
            caller,
            session_id,
            command,
            expected_version,
            render,
        ))
    }

    /// [`SessionManager::execute`] for async callers. The command runs in a
    /// task of its own, which holds the session's lock across the commit
    /// and awaits it instead of parking a thread: it completes, and memory
    /// learns the new version, even if the caller stops waiting. Must run
    /// inside a tokio runtime (a game that must be rebuilt from the store is
    /// rebuilt on a blocking thread).
    pub async fn execute_async<R: Send + 'static>(
        self: &Arc<Self>,
        caller: &Caller,
        session_id: &str,
        command: Command,
        expected_version: Option<u64>,
        render: impl FnOnce(&SessionView<'_>, &Outcome) -> R + Send + 'static,
    ) -> Result<R, SessionError> {
        let manager = Arc::clone(self);
        let caller = caller.clone();
        let session_id = session_id.to_owned();
        detached(async move {
            manager
                .execute_in(
                    Mode::Async(&manager),
                    &caller,
                    &session_id,
                    command,
                    expected_version,
                    render,
                )
                .await
        })
        .await
    }

    /// The write path of a command: stage, commit, settle, under the
    /// session's lock.
    async fn execute_in<R>(
        &self,
        mode: Mode<'_>,
        caller: &Caller,
        session_id: &str,
        command: Command,
        expected_version: Option<u64>,
        render: impl FnOnce(&SessionView<'_>, &Outcome) -> R,
    ) -> Result<R, SessionError> {
        self.check_open()?;
        let slot = self.slot_in(mode, caller, session_id).await?;
        let mut attempt = 1;
        loop {
            let mut state = self.open_in(mode, &slot).await?;
            let invited = self.invited_seats(mode, caller, &slot, &mut state).await?;
            let game = &state.live.as_ref().expect("opened").game;
            super::access::may_command(caller, game, &command, &invited)?;
            let (staged, writes) =
                self.stage(&slot, &mut state, command.clone(), expected_version)?;
            let committed = self.commit_in(mode, writes).await;
            if self.lost_race(&mut state, &committed, &mut attempt) {
                continue;
            }
            return self.settle(&slot, &mut state, staged, committed, render);
        }
    }

    /// The seats live seat credentials hold, which a token's caller who is
    /// not an admin (the owner) may not play: read from the store once per
    /// slot (every time in shared mode, where another process may have
    /// granted one). Not needed, so not read, for anyone else.
    async fn invited_seats(
        &self,
        mode: Mode<'_>,
        caller: &Caller,
        slot: &Slot,
        state: &mut SlotState,
    ) -> Result<Vec<PlayerId>, SessionError> {
        if caller.admin || caller.grant.is_some() {
            return Ok(Vec::new());
        }
        if let Some(invited) = &state.invited {
            return Ok(invited.clone());
        }
        let grants = match mode {
            Mode::Blocking => self.store.load_grants(&slot.id),
            Mode::Async(_) => {
                let (store, id) = (Arc::clone(&self.store), slot.id.to_string());
                off_thread(move || Ok(store.load_grants(&id))).await?
            }
        }
        .map_err(SessionError::Unavailable)?;
        let invited: Vec<PlayerId> = grants
            .iter()
            .filter(|grant| grant.holds_seat() && !grant.is_owners())
            .filter_map(|grant| PlayerId::parse(&grant.role))
            .collect();
        if !self.is_shared() {
            state.invited = Some(invited.clone());
        }
        Ok(invited)
    }

    /// Commits a batch (none for an empty one), waiting as `mode` says.
    pub(super) async fn commit_in(
        &self,
        mode: Mode<'_>,
        writes: Vec<Write>,
    ) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let ticket = self.store.submit(writes);
        let result = match mode {
            Mode::Blocking => ticket.wait(),
            Mode::Async(_) => ticket.await,
        };
        self.note_commit(&result);
        result
    }

    /// The session's slot, if `caller` may see it; in shared mode a session
    /// another process created is looked up (off the async threads).
    pub(super) async fn slot_in(
        &self,
        mode: Mode<'_>,
        caller: &Caller,
        session_id: &str,
    ) -> Result<Arc<Slot>, SessionError> {
        let slot = match self.lookup(session_id) {
            Some(slot) => slot,
            None if self.strategy.looks_up_unknown() => match mode {
                Mode::Blocking => self.load_slot(session_id)?,
                Mode::Async(manager) => {
                    let (manager, id) = (Arc::clone(manager), session_id.to_owned());
                    off_thread(move || manager.load_slot(&id)).await?
                }
            },
            None => return Err(not_found(session_id)),
        };
        visible_to(caller, slot)
    }

    /// Locks a slot and makes sure its game is live and, in shared mode,
    /// current with the store (store reads and replay off the async
    /// threads).
    pub(super) async fn open_in<'s>(
        &self,
        mode: Mode<'_>,
        slot: &'s Arc<Slot>,
    ) -> Result<MutexGuard<'s, SlotState>, SessionError> {
        let mut state = match mode {
            Mode::Blocking => slot.state.blocking_lock(),
            Mode::Async(_) => slot.state.lock().await,
        };
        if state.gone {
            return Err(not_found(&slot.id));
        }
        if self.strategy.must_sync(state.live.is_some()) {
            let has_live = state.live.is_some();
            let synced = match mode {
                Mode::Blocking => self.synchronize(&slot.id, &state.record, has_live),
                Mode::Async(manager) => {
                    let (manager, id) = (Arc::clone(manager), slot.id.clone());
                    let record = state.record.clone();
                    off_thread(move || Ok(manager.synchronize(&id, &record, has_live))).await?
                }
            };
            self.install(slot, &mut state, synced)?;
        }
        Ok(state)
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
        let retry = self.strategy.retries(committed, *attempt);
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
                old_version: version,
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
                ai_level: None,
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
            old_version: version,
            new_version,
            dev_mode,
            now,
        };
        Ok((staged, writes))
    }

    /// Records a committed command, or forgets the game when the commit
    /// failed (memory must not run ahead of the store: the game is rebuilt
    /// from the stored log on next use, whether the commit landed or not),
    /// then renders.
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
        if staged.new_version != staged.old_version {
            self.committed(Change::Command {
                view: &view,
                outcome: &staged.outcome,
            });
        }
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
        super::access::may_manage(caller, &slot)?;
        let mut state = slot.state.blocking_lock();
        if state.gone {
            return Err(not_found(session_id));
        }
        if self.strategy.lists_store() {
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
        match self.commit_noted(vec![delete]) {
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
            Err(error) => {
                // The delete may have landed all the same (a lost answer):
                // the next request reads the store again.
                state.live = None;
                return Err(SessionError::Unavailable(error));
            }
        }
        state.gone = true;
        state.live = None;
        self.committed(Change::Deleted {
            session_id: &slot.id,
        });
        drop(state);
        self.forget(&slot);
        Ok(())
    }
}

/// A command applied in memory, waiting for its commit.
struct Staged {
    outcome: Outcome,
    old_version: u64,
    new_version: u64,
    dev_mode: bool,
    now: kb_store::Millis,
}

/// Runs a write in a task of its own and waits for its result: the caller
/// may stop waiting (its request was cancelled), the write goes on to the
/// end. A panic in it resumes here.
pub(super) async fn detached<T: Send + 'static>(
    write: impl Future<Output = Result<T, SessionError>> + Send + 'static,
) -> Result<T, SessionError> {
    match tokio::spawn(write).await {
        Ok(result) => result,
        Err(error) => match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // The runtime is shutting down.
            Err(_) => Err(SessionError::Closed),
        },
    }
}

/// Runs a write path in [`Mode::Blocking`] on this thread. Every wait in it
/// blocks the thread, so it completes in its first poll.
pub(super) fn run_blocking<T>(write: impl Future<Output = T>) -> T {
    let mut write = std::pin::pin!(write);
    match write.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("a blocking write path never waits asynchronously"),
    }
}

/// The state serialized for a checkpoint, if reading it back gives the
/// same state. JSON cannot hold every `f64` (serde_json writes infinity as
/// `null`), and a checkpoint that does not read back would get the session
/// quarantined at the next start.
fn checkpoint_bytes(state: &GameState) -> Option<Vec<u8>> {
    let bytes = crate::stored::encode(state);
    let back = crate::stored::decode(&bytes).ok()?;
    (back == *state).then_some(bytes)
}
