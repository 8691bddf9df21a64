//! The session log format: what the manager appends to the store, one JSON
//! text per entry.
//!
//! Entry 1 of every log is `{"type":"start", ...}` with the options the game
//! was created with; every later entry is an engine [`Command`] that
//! succeeded. Replaying the entries on the session's content rebuilds the
//! game exactly (the engine is deterministic). Refused commands change
//! nothing and are not logged.
//!
//! [`replay`] is the one place a stored log becomes a game again: the
//! manager's rebuild and the operators' audit both go through it.

use std::sync::Arc;

use kb_engine::{ByPlayer, Command, Content, Game, GameOptions, PlayerId};
use kb_store::Checkpoint;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a game was created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartEntry {
    /// Created in dev mode.
    pub dev_mode: bool,
    /// Seats played by the built-in AI.
    #[serde(default = "default_ai", skip_serializing_if = "is_default_ai")]
    pub ai_players: Vec<PlayerId>,
    /// The built-in AI's level as the session chose it at creation (a name
    /// the server validated; `None` when it chose none, which plays as the
    /// reference's AI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_level: Option<String>,
}

/// The AI level the start entry `first` (a log's entry 1) names, if any.
pub(crate) fn ai_level_of(first: Option<&String>) -> Option<String> {
    match LogEntry::parse(first?) {
        Ok(LogEntry::Start(start)) => start.ai_level,
        _ => None,
    }
}

fn default_ai() -> Vec<PlayerId> {
    vec![PlayerId::B]
}

fn is_default_ai(seats: &[PlayerId]) -> bool {
    seats == [PlayerId::B]
}

impl StartEntry {
    /// The engine options of this start.
    pub fn options(&self) -> GameOptions {
        GameOptions {
            dev_mode: self.dev_mode,
            ai: ByPlayer::new_with(|p| self.ai_players.contains(&p)),
        }
    }
}

/// One log entry.
#[derive(Clone, Debug, PartialEq)]
pub enum LogEntry {
    /// The creation options (always entry 1).
    Start(StartEntry),
    /// A command that succeeded.
    Command(Command),
}

impl LogEntry {
    /// The JSON text stored.
    pub fn to_json(&self) -> String {
        match self {
            LogEntry::Start(start) => {
                let mut value = serde_json::to_value(start).expect("plain data");
                value["type"] = Value::from("start");
                value.to_string()
            }
            LogEntry::Command(command) => crate::stored::encode_command(command),
        }
    }

    /// Parses a stored entry.
    pub fn parse(text: &str) -> Result<LogEntry, serde_json::Error> {
        let value: Value = serde_json::from_str(text)?;
        if value.get("type").and_then(Value::as_str) == Some("start") {
            serde_json::from_value(value).map(LogEntry::Start)
        } else {
            crate::stored::decode_command(value).map(LogEntry::Command)
        }
    }
}

/// Plays a stored log on `engine`: from `checkpoint` (the game after entry
/// `checkpoint.version`) through `entries`, the entries after it, or
/// without one from the start entry through every later entry. Returns the
/// game and the number of the last entry played.
///
/// A log with no entry and no checkpoint is a session adopted from the
/// reference server: a fresh game in the mode `dev_mode` (its header's)
/// gives, at version 0.
///
/// # Errors
///
/// Why the log cannot be played, naming the entry: an unreadable entry or
/// checkpoint, a log that does not begin with a start entry, or a command
/// the engine refuses.
pub(crate) fn replay(
    engine: Arc<Content>,
    dev_mode: bool,
    checkpoint: Option<&Checkpoint>,
    entries: &[String],
) -> Result<(Game, u64), String> {
    let (mut game, mut version, tail) = match checkpoint {
        Some(checkpoint) => {
            let state = crate::stored::decode(&checkpoint.state)
                .map_err(|e| format!("checkpoint {} is unreadable: {e}", checkpoint.version))?;
            let game = Game::from_state(engine, state).map_err(|e| {
                format!(
                    "checkpoint {} does not fit its content: {e}",
                    checkpoint.version
                )
            })?;
            (game, checkpoint.version, entries)
        }
        None => match entries.split_first() {
            None => {
                let start = StartEntry {
                    dev_mode,
                    ai_players: default_ai(),
                    ai_level: None,
                };
                let game = Game::new(engine, start.options())
                    .map_err(|e| format!("game cannot start: {e}"))?;
                (game, 0, entries)
            }
            Some((first, rest)) => {
                let start = match LogEntry::parse(first) {
                    Ok(LogEntry::Start(start)) => start,
                    Ok(LogEntry::Command(_)) => {
                        return Err("log does not begin with a start entry".into());
                    }
                    Err(e) => return Err(format!("log entry 1 is unreadable: {e}")),
                };
                let game = Game::new(engine, start.options())
                    .map_err(|e| format!("game cannot start: {e}"))?;
                (game, 1, rest)
            }
        },
    };
    for text in tail {
        let number = version + 1;
        let command = match LogEntry::parse(text) {
            Ok(LogEntry::Command(command)) => command,
            Ok(LogEntry::Start(_)) => return Err(format!("log entry {number} is a second start")),
            Err(e) => return Err(format!("log entry {number} is unreadable: {e}")),
        };
        game.apply(&command)
            .map_err(|e| format!("log entry {number} no longer applies: {e}"))?;
        version = number;
    }
    Ok((game, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_stay_small() {
        let start = LogEntry::Start(StartEntry {
            dev_mode: true,
            ai_players: vec![PlayerId::B],
            ai_level: None,
        });
        assert_eq!(start.to_json(), r#"{"devMode":true,"type":"start"}"#);
        assert_eq!(LogEntry::parse(&start.to_json()).unwrap(), start);
        let hard = LogEntry::Start(StartEntry {
            dev_mode: false,
            ai_players: vec![PlayerId::B],
            ai_level: Some("hard".into()),
        });
        assert_eq!(
            hard.to_json(),
            r#"{"aiLevel":"hard","devMode":false,"type":"start"}"#
        );
        assert_eq!(LogEntry::parse(&hard.to_json()).unwrap(), hard);
        assert_eq!(ai_level_of(Some(&hard.to_json())).as_deref(), Some("hard"));
        assert_eq!(ai_level_of(Some(&start.to_json())), None);
        let tax = LogEntry::Command(Command::Action {
            action_id: "tax".into(),
            params: Default::default(),
            player_id: None,
        });
        assert_eq!(tax.to_json(), r#"{"type":"action","actionId":"tax"}"#);
        assert_eq!(LogEntry::parse(&tax.to_json()).unwrap(), tax);
        assert!(LogEntry::parse(r#"{"type":"teleport"}"#).is_err());
    }
}
