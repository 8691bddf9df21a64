//! [`EngineError`]: why a command was refused.
//!
//! Every failure leaves the game exactly as it was. Each variant has a
//! stable machine-readable [`code`](EngineError::code) and a message for
//! people; the messages the reference server sent on the wire
//! (`Requirement not met`, `Insufficient gold: need 3, have 1`, `Game
//! already concluded`...) are kept word for word.

use crate::Key;
use crate::content::RequirementDef;
use crate::num::Num;
use crate::player::PlayerId;

/// A requirement that did not hold, with the values it compared.
#[derive(Clone, Debug, PartialEq)]
pub struct RequirementFailure {
    /// The requirement definition.
    pub requirement: RequirementDef,
    /// The compared values.
    pub details: CompareDetails,
    /// The requirement's own message, if it has one.
    pub message: Option<String>,
}

/// The two sides of a failed comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareDetails {
    /// Left value.
    pub left: Num,
    /// Right value.
    pub right: Num,
}

/// Why the engine refused a command.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The game has a conclusion; nothing acts any more.
    #[error("Game already concluded")]
    GameConcluded,
    /// Actions are only performed in an action phase.
    #[error("Actions can only be performed in an action phase (current phase: {phase})")]
    NotActionPhase {
        /// The current phase.
        phase: Key,
    },
    /// A player acted out of turn.
    #[error("It is player {active}'s turn, not player {player}'s")]
    NotActivePlayer {
        /// Who tried.
        player: PlayerId,
        /// Whose turn it is.
        active: PlayerId,
    },
    /// The acting seat is played by the AI.
    #[error("Player {player} is controlled by the AI; use an AI turn")]
    AiControlled {
        /// The seat.
        player: PlayerId,
    },
    /// No such action.
    #[error("Unknown action \"{0}\"")]
    UnknownAction(Key),
    /// A system action that was not unlocked.
    #[error("Action {0} is locked")]
    ActionLocked(Key),
    /// A requirement failed.
    #[error("{}", .0.message.as_deref().unwrap_or("Requirement not met"))]
    RequirementNotMet(Box<RequirementFailure>),
    /// An effect group without a choice.
    #[error("Action {action} requires a selection for effect group \"{group}\"")]
    MissingSelection {
        /// The action.
        action: Key,
        /// The group.
        group: Key,
    },
    /// An action parameter that the action's effects are bound to
    /// (`"id": "$id"`) was not given.
    #[error("Action {action} requires the parameter \"{parameter}\"")]
    MissingParameter {
        /// The action.
        action: Key,
        /// The parameter.
        parameter: String,
    },
    /// A choice naming no option of its group.
    #[error("Unknown option \"{option}\" for effect group \"{group}\"")]
    UnknownOption {
        /// The group.
        group: Key,
        /// The option given.
        option: String,
    },
    /// Not enough of a resource.
    #[error("Insufficient {key}: need {}, have {}", fmt_num(*.need), fmt_num(*.have))]
    Insufficient {
        /// Resource.
        key: Key,
        /// Needed.
        need: f64,
        /// Available.
        have: f64,
    },
    /// The building is already owned.
    #[error("Building {0} already built")]
    AlreadyBuilt(Key),
    /// No such building.
    #[error("Unknown building \"{0}\"")]
    UnknownBuilding(Key),
    /// No such development.
    #[error("Unknown development \"{0}\"")]
    UnknownDevelopment(Key),
    /// Player actions cannot place system developments.
    #[error("Development {0} cannot be placed by a player action")]
    SystemDevelopment(Key),
    /// No such population role.
    #[error("Unknown population role \"{0}\"")]
    UnknownRole(Key),
    /// No such land.
    #[error("Land {0} not found")]
    LandNotFound(Key),
    /// No land can be tilled.
    #[error("No tillable land available")]
    NoTillableLand,
    /// The land was tilled already.
    #[error("Land {0} is already tilled")]
    AlreadyTilled(Key),
    /// No land has a free slot.
    #[error("No land with an open development slot")]
    NoFreeLand,
    /// The land is full.
    #[error("No free slots on land {0}")]
    NoFreeSlot(Key),
    /// An effect lacks a parameter or has one of the wrong type.
    #[error("{handler}: {message}")]
    InvalidEffect {
        /// The handler (`population:add`...).
        handler: String,
        /// What is wrong.
        message: String,
    },
    /// The seat has no AI.
    #[error("No AI controller is available for player \"{0}\".")]
    NoAiController(PlayerId),
    /// A player name that is empty or too long.
    #[error("{0}")]
    InvalidPlayerName(&'static str),
    /// A phase id that does not exist.
    #[error("Unknown phase \"{0}\"")]
    UnknownPhase(Key),
    /// A simulation that did not finish within its iteration limit.
    #[error("Simulation did not finish within {0} steps")]
    SimulationLimit(usize),
    /// Effects nested deeper than the engine allows (a recursive action or
    /// passive in custom content).
    #[error("Effects nest deeper than {0} levels; is an action or passive recursive?")]
    TooDeep(u32),
    /// An effect asked for more repetitions than the engine allows.
    #[error("{handler} asks for {count} repetitions; at most {limit} are allowed")]
    TooMany {
        /// The handler.
        handler: String,
        /// Repetitions asked for.
        count: f64,
        /// The limit.
        limit: u32,
    },
    /// One command would run more effects than the engine allows.
    #[error(
        "This command would run more than {0} effects; is the content multiplying repetitions?"
    )]
    TooMuchWork(u32),
    /// A computation gave no number at all (NaN).
    #[error("{0} would not be a number")]
    OutOfRange(Key),
}

impl EngineError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::GameConcluded => "GAME_CONCLUDED",
            EngineError::NotActionPhase { .. } => "NOT_ACTION_PHASE",
            EngineError::NotActivePlayer { .. } => "NOT_ACTIVE_PLAYER",
            EngineError::AiControlled { .. } => "AI_CONTROLLED",
            EngineError::UnknownAction(_) => "UNKNOWN_ACTION",
            EngineError::ActionLocked(_) => "ACTION_LOCKED",
            EngineError::RequirementNotMet(_) => "REQUIREMENT_NOT_MET",
            EngineError::MissingSelection { .. } => "MISSING_SELECTION",
            EngineError::UnknownOption { .. } => "UNKNOWN_OPTION",
            EngineError::Insufficient { .. } => "INSUFFICIENT_RESOURCE",
            EngineError::AlreadyBuilt(_) => "ALREADY_BUILT",
            EngineError::UnknownBuilding(_) => "UNKNOWN_BUILDING",
            EngineError::UnknownDevelopment(_) => "UNKNOWN_DEVELOPMENT",
            EngineError::SystemDevelopment(_) => "SYSTEM_DEVELOPMENT",
            EngineError::UnknownRole(_) => "UNKNOWN_ROLE",
            EngineError::LandNotFound(_) => "LAND_NOT_FOUND",
            EngineError::NoTillableLand => "NO_TILLABLE_LAND",
            EngineError::AlreadyTilled(_) => "ALREADY_TILLED",
            EngineError::NoFreeLand => "NO_FREE_LAND",
            EngineError::NoFreeSlot(_) => "NO_FREE_SLOT",
            EngineError::InvalidEffect { .. } => "INVALID_EFFECT",
            EngineError::MissingParameter { .. } => "MISSING_PARAMETER",
            EngineError::NoAiController(_) => "NO_AI_CONTROLLER",
            EngineError::InvalidPlayerName(_) => "INVALID_PLAYER_NAME",
            EngineError::UnknownPhase(_) => "UNKNOWN_PHASE",
            EngineError::SimulationLimit(_) => "SIMULATION_LIMIT",
            EngineError::TooDeep(_) => "TOO_DEEP",
            EngineError::TooMany { .. } => "TOO_MANY",
            EngineError::OutOfRange(_) => "OUT_OF_RANGE",
            EngineError::TooMuchWork(_) => "TOO_MUCH_WORK",
        }
    }

    /// The failed requirement, when this is a requirement failure.
    pub fn requirement_failure(&self) -> Option<&RequirementFailure> {
        match self {
            EngineError::RequirementNotMet(failure) => Some(failure),
            _ => None,
        }
    }

    pub(crate) fn invalid(handler: &str, message: impl Into<String>) -> Self {
        EngineError::InvalidEffect {
            handler: handler.to_owned(),
            message: message.into(),
        }
    }
}

fn fmt_num(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}
