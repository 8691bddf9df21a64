//! A session's past: the game as it was at a version (rebuilt from the
//! log, never from memory) and forks, new sessions that start from a
//! prefix of another's log.

use std::sync::Arc;

use kb_content::SessionContent;
use kb_engine::Game;
use kb_store::{SessionRecord, Write};

use super::write::Mode;
use super::{Caller, Live, SessionManager, SessionView, off_thread};
use crate::error::SessionError;

/// Where [`SessionManager::past`] replays from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum From {
    /// The session's checkpoint when it is not after the version asked
    /// for (a stream resuming near the end of a long game replays a few
    /// entries, not the whole game); the start otherwise.
    Checkpoint,
    /// The start entry, always: the caller needs every entry up to the
    /// version ([`Past::commands`]).
    Start,
}

/// A session rebuilt at a version.
struct Past {
    record: SessionRecord,
    /// The AI level its start entry names.
    ai_level: Option<String>,
    content: Arc<SessionContent>,
    game: Game,
    /// The log's entries up to the version: all of them from
    /// [`From::Start`], only those after the checkpoint otherwise.
    commands: Vec<String>,
}

impl SessionManager {
    /// Reads the session as it was at version `at` (1 to its version, else
    /// [`SessionError::InvalidRequest`]), rebuilt from its log.
    pub async fn read_at_async<R: Send + 'static>(
        self: &Arc<Self>,
        caller: &Caller,
        session_id: &str,
        at: u64,
        f: impl FnOnce(&SessionView<'_>) -> R + Send + 'static,
    ) -> Result<R, SessionError> {
        let (manager, caller, id) = (Arc::clone(self), caller.clone(), session_id.to_owned());
        off_thread(move || {
            let past = manager.past(&caller, &id, at, From::Checkpoint)?;
            let view = SessionView {
                session_id: &id,
                version: at,
                created_at: past.record.created_at,
                game: &past.game,
                content: &past.content,
                ai_level: past.ai_level.as_deref(),
            };
            Ok(f(&view))
        })
        .await
    }

    /// Starts a new session, owned by `caller`, from the session's log up to
    /// version `at` (its current version when `None`); `render` sees its
    /// first view. Like a creation, it counts against the session limit
    /// and runs in a task of its own.
    pub async fn fork_async<R: Send + 'static>(
        self: &Arc<Self>,
        caller: &Caller,
        session_id: &str,
        at: Option<u64>,
        render: impl FnOnce(&SessionView<'_>) -> R + Send + 'static,
    ) -> Result<R, SessionError> {
        let at = match at {
            Some(at) => at,
            None => {
                self.read_async(caller, session_id, |view| view.version)
                    .await?
            }
        };
        let (manager, reader, id) = (Arc::clone(self), caller.clone(), session_id.to_owned());
        let past = off_thread(move || manager.past(&reader, &id, at, From::Start)).await?;
        let (manager, caller) = (Arc::clone(self), caller.clone());
        super::write::detached(async move {
            manager.check_open()?;
            let stored = manager.stored_count(Mode::Async(&manager)).await?;
            let reservation = manager.reserve_capacity(stored)?;
            let id = manager.fresh_id()?;
            let now = manager.clock.now_ms();
            let mut record = SessionRecord {
                session_id: id.to_string(),
                created_at: now,
                last_accessed_at: now,
                dev_mode: past.game.state().dev_mode,
                config: past.record.config.clone(),
                content_id: past.record.content_id.clone(),
                owner: Some(caller.user_id.clone()),
                version: 0,
            };
            let mut writes: Vec<Write> = manager
                .contents
                .put_if_new(&past.content)
                .into_iter()
                .collect();
            writes.push(Write::SaveSession(record.clone()));
            record.version = at;
            writes.push(Write::append(&record, past.commands));
            let committed = manager.commit_in(Mode::Async(&manager), writes).await;
            committed.map_err(SessionError::Unavailable)?;
            drop(reservation);
            let live = Live {
                content: past.content,
                game: past.game,
                ai_level: past.ai_level,
            };
            Ok(manager.install_new(id, record, live, render))
        })
        .await
    }

    /// The session at version `at`, rebuilt from its log (from where
    /// `from` says). Blocks.
    fn past(
        &self,
        caller: &Caller,
        session_id: &str,
        at: u64,
        from: From,
    ) -> Result<Past, SessionError> {
        self.check_open()?;
        let slot = self.slot(caller, session_id)?;
        let state = self.open(&slot)?;
        let version = state.record.version;
        if at == 0 || at > version {
            return Err(SessionError::InvalidRequest(format!(
                "Version {at} is not in the session (versions 1 to {version})."
            )));
        }
        let record = state.record.clone();
        let live = state.live.as_ref().expect("opened");
        let (content, ai_level) = (live.content.clone(), live.ai_level.clone());
        drop(state);
        let limit = usize::try_from(at).unwrap_or(usize::MAX);
        let unavailable = SessionError::Unavailable;
        let mut log = match from {
            From::Checkpoint => self.store.load_log(session_id).map_err(unavailable)?,
            From::Start => kb_store::GameLog::default(),
        };
        let checkpoint = log.checkpoint.take().filter(|c| c.version <= at);
        let commands = match &checkpoint {
            Some(checkpoint) => {
                log.commands
                    .truncate(usize::try_from(at - checkpoint.version).unwrap_or(usize::MAX));
                log.commands
            }
            None => self
                .store
                .load_range(session_id, 0, limit)
                .map_err(unavailable)?,
        };
        let (game, reached) = crate::log::replay(
            content.content().clone(),
            record.dev_mode,
            checkpoint.as_ref(),
            &commands,
        )
        .map_err(|reason| {
            tracing::error!(session_id, reason, "a session's log does not replay");
            SessionError::Concurrent {
                session_id: session_id.to_owned(),
            }
        })?;
        if reached != at {
            // The session was deleted (or its log cut) meanwhile.
            return Err(SessionError::NotFound {
                session_id: session_id.to_owned(),
            });
        }
        Ok(Past {
            ai_level,
            record,
            content,
            game,
            commands,
        })
    }
}
