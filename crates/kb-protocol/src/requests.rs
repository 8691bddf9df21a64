//! Request bodies of the session routes, as clients of the reference server
//! send them. Unknown keys are ignored (the reference dropped them too);
//! ids in the path win over ids in the body.

use std::collections::BTreeMap;

use crate::schema::CorePhaseIds;
use kb_engine::content::Params;
use kb_engine::{PlayerId, SimulateOptions};
use serde::Deserialize;
use serde_json::Value;

/// `POST /sessions`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSessionRequest {
    /// Start with the dev-mode overlay.
    #[serde(default)]
    pub dev_mode: Option<bool>,
    /// A `GameConfig` (kept as submitted; parsed by the server).
    #[serde(default)]
    pub config: Option<Value>,
    /// Names by player id (`A`, `B`); other keys are ignored.
    #[serde(default)]
    pub player_names: Option<BTreeMap<String, NonEmptyString>>,
    /// Seats the built-in AI plays (default: `["B"]`; `[]` for two humans).
    #[serde(default)]
    pub ai_players: Option<Vec<PlayerId>>,
    /// The built-in AI's level: `easy` (the reference's AI, the default),
    /// `normal` or `hard` (checked by the server).
    #[serde(default)]
    pub ai_level: Option<String>,
    /// The seat the creator holds (default: the first seat the AI does
    /// not play).
    #[serde(default)]
    pub seat: Option<PlayerId>,
}

/// A string that must not be empty (whitespace is checked separately).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct NonEmptyString(pub String);

impl TryFrom<String> for NonEmptyString {
    type Error = &'static str;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        if value.is_empty() {
            Err("must not be empty")
        } else {
            Ok(NonEmptyString(value))
        }
    }
}

/// `POST /sessions/:id/actions`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionRequest {
    /// The action.
    pub action_id: NonEmptyString,
    /// Its parameters.
    #[serde(default)]
    pub params: Option<Params>,
}

/// `POST /sessions/:id/actions/:actionId/costs` and `.../requirements`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ActionQueryRequest {
    /// Parameters of the action.
    #[serde(default)]
    pub params: Option<Params>,
}

/// `POST /sessions/:id/ai-turn`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AiTurnRequest {
    /// The AI seat.
    pub player_id: PlayerId,
    /// How much the AI plays (default: one step, as the reference).
    #[serde(default)]
    pub mode: AiTurnMode,
}

/// How much of its turn the AI plays in one `ai-turn` request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AiTurnMode {
    /// The reference protocol: at most one action, never an advance;
    /// `phaseComplete: true` (with no action) once the AI is done with its
    /// action phase, and the client then advances the game itself.
    #[default]
    Step,
    /// The seat's whole turn: its remaining steps and actions, up to the
    /// next player's turn (or the end of the game), in one atomic change.
    Turn,
}

/// `POST /sessions/:id/simulate`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimulateRequest {
    /// Whose upcoming phases.
    pub player_id: PlayerId,
    /// Phase ids and iteration limit.
    #[serde(default)]
    pub options: Option<SimulateOptionsBody>,
}

/// The `options` of a simulation request.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimulateOptionsBody {
    /// The growth and upkeep phase ids (default: `rules.corePhaseIds`).
    #[serde(default)]
    pub phase_ids: Option<CorePhaseIds>,
    /// Iteration limit (default: phases × players × 10).
    #[serde(default)]
    pub max_iterations: Option<usize>,
}

impl From<SimulateOptionsBody> for SimulateOptions {
    fn from(body: SimulateOptionsBody) -> Self {
        SimulateOptions {
            phase_ids: body.phase_ids.map(Into::into),
            max_iterations: body.max_iterations,
        }
    }
}

/// `POST /sessions/:id/dev-mode`.
#[derive(Clone, Debug, Deserialize)]
pub struct DevModeRequest {
    /// The new flag.
    pub enabled: bool,
}

/// `PATCH /sessions/:id/player`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayerNameRequest {
    /// The player.
    pub player_id: PlayerId,
    /// The new name.
    pub player_name: NonEmptyString,
}
