//! Who may do what with a session: the one place where permission is
//! checked, for every route, so that no route can forget it.
//!
//! * An **admin** sees and does everything.
//! * The **owner** (the caller that created the session) sees it, plays
//!   any seat the engine lets it play, and manages it (invitations,
//!   credentials, delete).
//! * A **seat credential** ([`SeatGrant`] with a seat) sees only its own
//!   session (any other answers "not found", as for a stranger) and acts
//!   only for its own seat: actions, advancing and renaming when it is
//!   that seat's turn or name; an AI turn for its own seat or an AI seat.
//!   Anything else is [`SessionError::Forbidden`]. The engine's turn rules
//!   still apply on top.
//! * A **spectator** credential sees its session and writes nothing.
//! * Anyone else does not see the session.

use std::sync::Arc;

use kb_engine::{Command, Game, PlayerId};

use super::{Caller, SeatGrant, SessionManager, Slot};
use crate::error::SessionError;

impl SessionManager {
    /// Whether `caller` may run `command` on the session as it is now: for
    /// a route that reads (and perhaps thinks) before it writes, so that a
    /// caller who may not write is told so before anything else (a stale
    /// version, a phase already complete). The write checks again under
    /// the session's lock.
    pub async fn authorize_async(
        self: &Arc<Self>,
        caller: &Caller,
        session_id: &str,
        command: Command,
    ) -> Result<(), SessionError> {
        let asking = caller.clone();
        self.read_async(caller, session_id, move |view| {
            may_command(&asking, view.game, &command)
        })
        .await?
    }
}

/// Whether `caller` may see the session in `slot` at all.
pub(super) fn may_see(caller: &Caller, slot: &Slot) -> bool {
    if let Some(grant) = &caller.grant {
        return grant.session_id == *slot.id;
    }
    caller.admin || slot.owner.is_none() || slot.owner.as_deref() == Some(caller.user_id.as_str())
}

/// Whether `caller` may manage the session (invite, revoke, delete): its
/// owner or an admin.
pub(super) fn may_manage(caller: &Caller, slot: &Slot) -> Result<(), SessionError> {
    if caller.admin || slot.owner.as_deref() == Some(caller.user_id.as_str()) {
        Ok(())
    } else {
        Err(SessionError::Forbidden(
            "Only the session's owner may do this.".to_owned(),
        ))
    }
}

/// Whether `caller` may run `command` on `game` (checked under the
/// session's lock, on the game the command would run on).
pub(super) fn may_command(
    caller: &Caller,
    game: &Game,
    command: &Command,
) -> Result<(), SessionError> {
    let Some(grant) = &caller.grant else {
        return Ok(());
    };
    let seat = seat_of(grant)?;
    let state = game.state();
    let forbidden = |message: String| Err(SessionError::Forbidden(message));
    let own_turn = || {
        if state.active == seat {
            Ok(())
        } else {
            forbidden(format!(
                "This credential plays seat {}; it is seat {}'s turn.",
                seat.as_str(),
                state.active.as_str()
            ))
        }
    };
    match command {
        Command::Advance => own_turn(),
        Command::Action { player_id, .. } => match player_id {
            Some(player) if *player != seat => forbidden(format!(
                "This credential plays seat {}, not {}.",
                seat.as_str(),
                player.as_str()
            )),
            _ => own_turn(),
        },
        Command::AiAction { player_id, .. }
        | Command::AiTurn { player_id }
        | Command::AiMoves { player_id, .. } => {
            if *player_id == seat || *state.ai.get(*player_id) {
                Ok(())
            } else {
                forbidden(format!(
                    "This credential plays seat {}; seat {} is another player's.",
                    seat.as_str(),
                    player_id.as_str()
                ))
            }
        }
        Command::SetPlayerName { player_id, .. } if *player_id == seat => Ok(()),
        Command::SetPlayerName { player_id, .. } => forbidden(format!(
            "This credential may rename seat {} only, not {}.",
            seat.as_str(),
            player_id.as_str()
        )),
        Command::SetDevMode { .. } => {
            forbidden("Only the session's owner may change dev mode.".to_owned())
        }
    }
}

/// The seat a credential plays; a spectator's writes are refused.
fn seat_of(grant: &SeatGrant) -> Result<PlayerId, SessionError> {
    grant.seat.ok_or_else(|| {
        SessionError::Forbidden("A spectator may only watch the session.".to_owned())
    })
}
