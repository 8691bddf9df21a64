//! Who may do what with a session: the one place where permission is
//! checked, for every route, so that no route can forget it.
//!
//! * An **admin** sees and does everything.
//! * The **owner** (the caller that created the session) sees it, plays
//!   any seat the engine lets it play except one an invited player holds
//!   (a live seat credential: the owner revokes it to play that seat
//!   again), and manages it (invitations, credentials, delete).
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
    /// the session's lock, with the seats invited players hold.
    pub async fn authorize_async(
        self: &Arc<Self>,
        caller: &Caller,
        session_id: &str,
        command: Command,
    ) -> Result<(), SessionError> {
        let asking = caller.clone();
        self.read_async(caller, session_id, move |view| {
            may_command(&asking, view.game, &command, &[])
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

/// The seat `command` acts for on `game`, if it acts for one: `None` for
/// dev mode (the owner's) and for the AI playing its own seat (anyone who
/// may write may ask it to).
fn acting_for(game: &Game, command: &Command) -> Option<PlayerId> {
    let state = game.state();
    match command {
        Command::Advance => Some(state.active),
        Command::Action { player_id, .. } => Some(player_id.unwrap_or(state.active)),
        Command::AiAction { player_id, .. }
        | Command::AiTurn { player_id }
        | Command::AiMoves { player_id, .. } => (!*state.ai.get(*player_id)).then_some(*player_id),
        Command::SetPlayerName { player_id, .. } => Some(*player_id),
        Command::SetDevMode { .. } => None,
    }
}

/// Whether `caller` may run `command` on `game` (checked under the
/// session's lock, on the game the command would run on). `invited` are
/// the seats live seat credentials hold.
pub(super) fn may_command(
    caller: &Caller,
    game: &Game,
    command: &Command,
    invited: &[PlayerId],
) -> Result<(), SessionError> {
    let seat = acting_for(game, command);
    let Some(grant) = &caller.grant else {
        return match seat {
            Some(seat) if !caller.admin && invited.contains(&seat) => {
                Err(SessionError::Forbidden(format!(
                    "Seat {} is played by an invited player; revoke its credential to play it.",
                    seat.as_str()
                )))
            }
            _ => Ok(()),
        };
    };
    let own = seat_of(grant)?;
    let state = game.state();
    let forbidden = |message: String| Err(SessionError::Forbidden(message));
    match (command, seat) {
        (Command::SetDevMode { .. }, _) => {
            forbidden("Only the session's owner may change dev mode.".to_owned())
        }
        (Command::SetPlayerName { .. }, Some(seat)) if seat != own => forbidden(format!(
            "This credential may rename seat {} only, not {}.",
            own.as_str(),
            seat.as_str()
        )),
        (Command::SetPlayerName { .. }, _) | (_, None) => Ok(()),
        (
            Command::Action {
                player_id: Some(_), ..
            },
            Some(seat),
        ) if seat != own => forbidden(format!(
            "This credential plays seat {}, not {}.",
            own.as_str(),
            seat.as_str()
        )),
        (
            Command::AiAction { .. } | Command::AiTurn { .. } | Command::AiMoves { .. },
            Some(seat),
        ) if seat != own => forbidden(format!(
            "This credential plays seat {}; seat {} is another player's.",
            own.as_str(),
            seat.as_str()
        )),
        // The engine says whether it is the AI's turn to play.
        (Command::AiAction { .. } | Command::AiTurn { .. } | Command::AiMoves { .. }, _) => Ok(()),
        (_, Some(seat)) if seat != own || state.active != own => forbidden(format!(
            "This credential plays seat {}; it is seat {}'s turn.",
            own.as_str(),
            state.active.as_str()
        )),
        _ => Ok(()),
    }
}

/// The seat a credential plays; a spectator's writes are refused.
fn seat_of(grant: &SeatGrant) -> Result<PlayerId, SessionError> {
    grant.seat.ok_or_else(|| {
        SessionError::Forbidden("A spectator may only watch the session.".to_owned())
    })
}
