//! Creating sessions: the session limit (this process's sessions, or in
//! shared mode the store's), fresh ids, the game and the writes of a new
//! session, and registering it once committed. The write itself runs in
//! `write`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use kb_engine::{Command, Game, PlayerId};
use kb_store::{GrantKind, GrantRecord, SessionRecord, StoreError, Write};
use tokio::sync::Mutex as SlotLock;

use super::write::Change;
use super::{
    Caller, CreateSession, ID_ATTEMPTS, Live, SessionManager, SessionView, Slot, SlotState,
};
use crate::error::SessionError;
use crate::log::{LogEntry, StartEntry};

impl SessionManager {
    /// Builds the game and the writes of a new session.
    /// `stored` is the stored session count in shared mode with a limit.
    pub(super) fn prepare_create(
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
        let ai_seats = ai_players.clone();
        let start = StartEntry {
            dev_mode: request.dev_mode,
            ai_players,
            ai_level: request.ai_level.clone(),
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

        let holder_seat = match request.seat {
            Some(seat) if ai_seats.contains(&seat) => {
                return Err(SessionError::InvalidRequest(format!(
                    "Seat {} is played by the AI; the creator may hold a human seat only.",
                    seat.as_str()
                )));
            }
            Some(seat) => Some(seat),
            None => PlayerId::ALL
                .into_iter()
                .find(|seat| !ai_seats.contains(seat)),
        };
        if holder_seat.is_none() && request.credential.is_some() {
            return Err(SessionError::InvalidRequest(
                "A guest must hold a seat: leave one seat to a human.".to_owned(),
            ));
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
        if let Some(seat) = holder_seat {
            let (grant_id, digest) = match request.credential {
                Some((grant_id, digest)) => (grant_id, Some(digest)),
                None => (uuid::Uuid::new_v4().to_string(), None),
            };
            writes.push(Write::PutGrant(GrantRecord {
                grant_id,
                session_id: id.to_string(),
                kind: GrantKind::Credential,
                role: seat.as_str().to_owned(),
                digest,
                created_at: now,
                expires_at: None,
                used_at: None,
                revoked_at: None,
                invitation_id: None,
            }));
        }
        let prepared = PreparedSession {
            _reservation: reservation,
            id,
            record,
            live: Live {
                content,
                game,
                ai_level: request.ai_level,
            },
        };
        Ok((prepared, writes))
    }

    /// Registers a new session once its writes are committed.
    pub(super) fn finish_create<R>(
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
        Ok(self.install_new(id, record, live, render))
    }

    /// Announces a session just committed for the first time (created or
    /// forked), renders its first view and makes it live in memory.
    pub(super) fn install_new<R>(
        &self,
        id: Arc<str>,
        record: SessionRecord,
        live: Live,
        render: impl FnOnce(&SessionView<'_>) -> R,
    ) -> R {
        let now = record.created_at;
        let view = SessionView {
            session_id: &id,
            version: record.version,
            created_at: now,
            game: &live.game,
            content: &live.content,
            ai_level: live.ai_level.as_deref(),
        };
        self.committed(Change::Created { view: &view });
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
                invited: None,
            }),
        });
        self.sessions
            .write()
            .expect("sessions lock")
            .insert(id, slot);
        rendered
    }

    /// The limit, when the count it applies to is the store's (shared mode).
    pub(super) fn stored_capacity(&self) -> Option<usize> {
        self.strategy.stored_capacity(self.max_sessions)
    }

    /// Reserves room for one more session. The count is this process's
    /// sessions, or in shared mode `stored`, the store's: processes
    /// creating at the same instant can overshoot the limit by one each.
    pub(super) fn reserve_capacity(
        &self,
        stored: Option<usize>,
    ) -> Result<Reservation<'_>, SessionError> {
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

    pub(super) fn fresh_id(&self) -> Result<Arc<str>, SessionError> {
        let sessions = self.sessions.read().expect("sessions lock");
        for _ in 0..ID_ATTEMPTS {
            let id = (self.new_id)();
            if !id.is_empty() && !sessions.contains_key(id.as_str()) {
                return Ok(Arc::from(id));
            }
        }
        Err(SessionError::IdsExhausted)
    }
}

/// A new session, built and waiting for its commit.
pub(super) struct PreparedSession<'a> {
    _reservation: Reservation<'a>,
    id: Arc<str>,
    record: SessionRecord,
    live: Live,
}

/// A stored count as a `usize` (saturating: only compared to `max`).
pub(super) fn capacity_count(count: u64, max: usize) -> usize {
    usize::try_from(count).unwrap_or(max)
}

/// Releases a capacity reservation.
pub(super) struct Reservation<'a>(&'a AtomicUsize);

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
