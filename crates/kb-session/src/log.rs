//! The session log format: what the manager appends to the store, one JSON
//! text per entry.
//!
//! Entry 1 of every log is `{"type":"start", ...}` with the options the game
//! was created with; every later entry is an engine [`Command`] that
//! succeeded. Replaying the entries on the session's content rebuilds the
//! game exactly (the engine is deterministic). Refused commands change
//! nothing and are not logged.

use kb_engine::{ByPlayer, Command, GameOptions, PlayerId};
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
            LogEntry::Command(command) => serde_json::to_string(command).expect("plain data"),
        }
    }

    /// Parses a stored entry.
    pub fn parse(text: &str) -> Result<LogEntry, serde_json::Error> {
        let value: Value = serde_json::from_str(text)?;
        if value.get("type").and_then(Value::as_str) == Some("start") {
            serde_json::from_value(value).map(LogEntry::Start)
        } else {
            serde_json::from_value(value).map(LogEntry::Command)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_stay_small() {
        let start = LogEntry::Start(StartEntry {
            dev_mode: true,
            ai_players: vec![PlayerId::B],
        });
        assert_eq!(start.to_json(), r#"{"devMode":true,"type":"start"}"#);
        assert_eq!(LogEntry::parse(&start.to_json()).unwrap(), start);
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
