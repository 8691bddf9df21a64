//! What the fault suite's clients play: the mutations they send, each with
//! the log entry it must leave, and the moves of a real game.

use hyper::Method;
use kb_engine::{Command, PlayerId};
use kb_session::LogEntry;
use serde_json::{Value, json};

use super::client::{Client, Reply};
use super::ledger::Outcome;

/// A mutation a client sends.
#[derive(Clone, Debug, PartialEq)]
pub enum Mutation {
    /// `POST /advance`.
    Advance,
    /// `POST /actions {"actionId":"tax"}`.
    Tax,
    /// `POST /ai-turn {"playerId":"B","mode":"turn"}`: B's whole turn, one
    /// log entry, or nothing at all when it is not B's turn.
    AiTurn,
    /// `POST /dev-mode`.
    DevMode(bool),
    /// `PATCH /player`, A's name: a tag no other request carries, so its
    /// log entry names the one request it came from.
    Rename(String),
}

impl Mutation {
    /// Method, path and body.
    pub fn request(&self, id: &str) -> (Method, String, Option<Value>) {
        let path = |suffix: &str| format!("/sessions/{id}/{suffix}");
        match self {
            Mutation::Advance => (Method::POST, path("advance"), None),
            Mutation::Tax => (
                Method::POST,
                path("actions"),
                Some(json!({"actionId": "tax"})),
            ),
            Mutation::AiTurn => (
                Method::POST,
                path("ai-turn"),
                Some(json!({"playerId": "B", "mode": "turn"})),
            ),
            Mutation::DevMode(enabled) => (
                Method::POST,
                path("dev-mode"),
                Some(json!({"enabled": enabled})),
            ),
            Mutation::Rename(name) => (
                Method::PATCH,
                path("player"),
                Some(json!({"playerId": "A", "playerName": name})),
            ),
        }
    }

    /// The log entry it leaves when it is applied.
    pub fn entry(&self) -> LogEntry {
        LogEntry::Command(match self {
            Mutation::Advance => Command::Advance,
            Mutation::Tax => Command::Action {
                action_id: "tax".into(),
                params: Default::default(),
                player_id: None,
            },
            Mutation::AiTurn => Command::AiTurn {
                player_id: PlayerId::B,
            },
            Mutation::DevMode(enabled) => Command::SetDevMode { enabled: *enabled },
            Mutation::Rename(name) => Command::SetPlayerName {
                player_id: PlayerId::A,
                player_name: name.clone(),
            },
        })
    }

    /// What a 2xx answer to it says: acknowledged at the version it shows,
    /// or, for an AI turn that played nothing (`ranTurn: false`), only
    /// observed at that version, with no entry of its own.
    pub fn outcome(&self, reply: &Reply) -> Outcome {
        match reply.version() {
            None => Outcome::Unknown,
            Some(version) if *self == Mutation::AiTurn && reply.body["ranTurn"] == false => {
                Outcome::Observed(version)
            }
            Some(version) => Outcome::Acked(version),
        }
    }

    /// What an answer to a writer that expects success says: the outcome
    /// to record, and the problem to report unless it was a 200. `who`
    /// names the writer in the problem (like `"ID: a polite "`). A
    /// refusal (4xx) was not applied; a 5xx or no answer may have been.
    pub fn judge(&self, who: &str, answer: Result<Reply, String>) -> (Outcome, Option<String>) {
        match answer {
            Ok(reply) if reply.status == 200 => (self.outcome(&reply), None),
            Ok(reply) => {
                let problem = format!("{who}{self:?} answered {} {}", reply.status, reply.body);
                let outcome = if reply.status < 500 {
                    Outcome::Refused(reply.status)
                } else {
                    Outcome::Unknown
                };
                (outcome, Some(problem))
            }
            Err(error) => (
                Outcome::Unknown,
                Some(format!("{who}{self:?} got no answer: {error}")),
            ),
        }
    }

    /// The tag of a rename.
    pub fn tag(&self) -> Option<&str> {
        match self {
            Mutation::Rename(name) => Some(name),
            _ => None,
        }
    }

    /// Sends it.
    pub async fn send(&self, client: &mut Client, id: &str) -> Result<Reply, String> {
        let (method, path, body) = self.request(id);
        client.send(method, &path, body.as_ref()).await
    }
}

/// The tag a rename carries, if the entry is one.
pub fn tag_of(entry: &LogEntry) -> Option<&str> {
    match entry {
        LogEntry::Command(Command::SetPlayerName {
            player_id: PlayerId::A,
            player_name,
        }) => Some(player_name),
        _ => None,
    }
}

/// The body of a session whose player A can tax for a very long time: many
/// writes on one session without ever leaving A's main phase.
pub fn rich_session() -> Value {
    json!({"config": {"start": {"player": {"resources": {"ap": 1_000_000}}}}})
}

/// Whether a state is A's main phase.
pub fn at_a_main(state: &Value) -> bool {
    let game = &state["snapshot"]["game"];
    game["currentPhase"] == "main" && game["activePlayerId"] == "A"
}

/// What a player of a real game does next, from the last state it was
/// shown: A taxes while it has AP in its main phase, B is played by the AI,
/// now and then the flag changes or A takes a new name (tagged with
/// `tag`). `None` once the game is over.
pub fn next_move(state: &Value, roll: u64, tag: impl FnOnce() -> String) -> Option<Mutation> {
    let game = &state["snapshot"]["game"];
    if !game["conclusion"].is_null() {
        return None;
    }
    match roll % 16 {
        0 => return Some(Mutation::DevMode(game["devMode"] != true)),
        1 | 2 => return Some(Mutation::Rename(tag())),
        _ => {}
    }
    if game["activePlayerId"] == "B" {
        return Some(Mutation::AiTurn);
    }
    let ap = game["players"][0]["resources"]["ap"]
        .as_f64()
        .unwrap_or(0.0);
    if game["currentPhase"] == "main" && ap > 0.0 && !roll.is_multiple_of(5) {
        return Some(Mutation::Tax);
    }
    Some(Mutation::Advance)
}
