//! The JSON form of an engine command, as `kingdom replay` documents and
//! clients write it: `{"type": "action", "actionId": "tax", "params": {…},
//! "playerId": "A"}`. The engine's `Command` is plain data; this is its
//! wire shape, with conversions both ways. (A session's log stores its own
//! copy of this form, `kb_session::stored`, so that the log never changes
//! with the wire.)

use kb_engine::content::Params;
use kb_engine::{AiStep, Command, Key, PlayerId};
use serde::{Deserialize, Serialize};

/// A command in its JSON form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum CommandBody {
    /// Run one step of the active player's turn.
    Advance,
    /// Perform an action for the active player.
    Action {
        /// The action.
        action_id: Key,
        /// Its parameters.
        #[serde(default, skip_serializing_if = "Params::is_empty")]
        params: Params,
        /// If given, the player who means to act.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        player_id: Option<PlayerId>,
    },
    /// Perform the action the built-in AI chose for its seat.
    AiAction {
        /// The AI seat.
        player_id: PlayerId,
        /// The action.
        action_id: Key,
        /// Its parameters.
        #[serde(default, skip_serializing_if = "Params::is_empty")]
        params: Params,
    },
    /// Let the built-in AI play the seat's whole turn.
    AiTurn {
        /// The AI seat.
        player_id: PlayerId,
    },
    /// A turn of the built-in AI as the moves it chose.
    AiMoves {
        /// The AI seat.
        player_id: PlayerId,
        /// The moves, in order.
        moves: Vec<AiStepBody>,
    },
    /// Set the dev-mode flag.
    SetDevMode {
        /// The new flag.
        enabled: bool,
    },
    /// Rename a player.
    SetPlayerName {
        /// The player.
        player_id: PlayerId,
        /// The new name.
        player_name: String,
    },
}

/// One move of a recorded AI turn in its JSON form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum AiStepBody {
    /// Run the seat's current step.
    Advance,
    /// Perform an action.
    Action {
        /// The action.
        action_id: Key,
        /// Its parameters.
        #[serde(default, skip_serializing_if = "Params::is_empty")]
        params: Params,
    },
}

impl From<CommandBody> for Command {
    fn from(body: CommandBody) -> Self {
        match body {
            CommandBody::Advance => Command::Advance,
            CommandBody::Action {
                action_id,
                params,
                player_id,
            } => Command::Action {
                action_id,
                params,
                player_id,
            },
            CommandBody::AiAction {
                player_id,
                action_id,
                params,
            } => Command::AiAction {
                player_id,
                action_id,
                params,
            },
            CommandBody::AiTurn { player_id } => Command::AiTurn { player_id },
            CommandBody::AiMoves { player_id, moves } => Command::AiMoves {
                player_id,
                moves: moves.into_iter().map(AiStep::from).collect(),
            },
            CommandBody::SetDevMode { enabled } => Command::SetDevMode { enabled },
            CommandBody::SetPlayerName {
                player_id,
                player_name,
            } => Command::SetPlayerName {
                player_id,
                player_name,
            },
        }
    }
}

impl From<AiStepBody> for AiStep {
    fn from(body: AiStepBody) -> Self {
        match body {
            AiStepBody::Advance => AiStep::Advance,
            AiStepBody::Action { action_id, params } => AiStep::Action { action_id, params },
        }
    }
}

impl From<&Command> for CommandBody {
    fn from(command: &Command) -> Self {
        match command.clone() {
            Command::Advance => CommandBody::Advance,
            Command::Action {
                action_id,
                params,
                player_id,
            } => CommandBody::Action {
                action_id,
                params,
                player_id,
            },
            Command::AiAction {
                player_id,
                action_id,
                params,
            } => CommandBody::AiAction {
                player_id,
                action_id,
                params,
            },
            Command::AiTurn { player_id } => CommandBody::AiTurn { player_id },
            Command::AiMoves { player_id, moves } => CommandBody::AiMoves {
                player_id,
                moves: moves
                    .into_iter()
                    .map(|step| match step {
                        AiStep::Advance => AiStepBody::Advance,
                        AiStep::Action { action_id, params } => {
                            AiStepBody::Action { action_id, params }
                        }
                    })
                    .collect(),
            },
            Command::SetDevMode { enabled } => CommandBody::SetDevMode { enabled },
            Command::SetPlayerName {
                player_id,
                player_name,
            } => CommandBody::SetPlayerName {
                player_id,
                player_name,
            },
        }
    }
}
