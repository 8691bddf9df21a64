//! Wire message literals (reference protocol §1.5) that clients and tests
//! match on.
//!
//! Keep these byte-for-byte: the reference web client and its gateway show
//! them to players and compare them in tests. Messages with a parameter are
//! functions so the quoting is right everywhere.

/// 401: no usable token in `Authorization` or `X-KB-Dev-Token`.
pub const MISSING_TOKEN: &str = "Missing authentication token.";
/// 403: the presented token is not in the server's token table.
pub const UNKNOWN_TOKEN: &str = "Token is not authorized for this server.";

/// 403: the caller's token lacks `role` (and is not `admin`).
pub fn missing_role(role: &str) -> String {
    format!("Missing required role \"{role}\".")
}

/// 400: a session id in a path or query is not acceptable.
pub const INVALID_SESSION_IDENTIFIER: &str = "Invalid session identifier.";
/// 400: body of `POST /sessions`.
pub const INVALID_SESSION_CREATE_REQUEST: &str = "Invalid session create request.";
/// 400: a player name longer than the limit.
pub const PLAYER_NAME_TOO_LONG: &str = "Player names must be 40 characters or fewer.";
/// 400: a player name that is blank after trimming.
pub const PLAYER_NAME_BLANK: &str = "Player names must include visible characters.";
/// 400: body of `PATCH /sessions/:id/player`.
pub const INVALID_PLAYER_NAME_UPDATE_REQUEST: &str = "Invalid player name update request.";
/// 400: `POST /sessions/:id/advance`.
pub const INVALID_SESSION_ADVANCE_REQUEST: &str = "Invalid session advance request.";
/// 400: body of `POST /sessions/:id/actions/:actionId/costs`.
pub const INVALID_ACTION_COST_REQUEST: &str = "Invalid action cost request.";
/// 400: body of `POST /sessions/:id/actions/:actionId/requirements`.
pub const INVALID_ACTION_REQUIREMENT_REQUEST: &str = "Invalid action requirement request.";
/// 400: `GET /sessions/:id/actions/:actionId/options`.
pub const INVALID_ACTION_OPTIONS_REQUEST: &str = "Invalid action options request.";
/// 400: body of `POST /sessions/:id/ai-turn`.
pub const INVALID_AI_TURN_REQUEST: &str = "Invalid AI turn request.";
/// 400: body of `POST /sessions/:id/simulate`.
pub const INVALID_SIMULATION_REQUEST: &str = "Invalid simulation request.";
/// 400: body of `POST /sessions/:id/dev-mode`.
pub const INVALID_SESSION_DEV_MODE_REQUEST: &str = "Invalid session dev mode request.";
/// 400 (action envelope): body of `POST /sessions/:id/actions`.
pub const INVALID_ACTION_REQUEST: &str = "Invalid action request.";

/// 404: the addressed session does not exist (or is not the caller's).
pub fn session_not_found(session_id: &str) -> String {
    format!("Session \"{session_id}\" was not found.")
}

/// 404: the action does not exist in the session's content.
pub fn action_not_found(action_id: &str, session_id: &str) -> String {
    format!("Action \"{action_id}\" was not found in session \"{session_id}\".")
}

/// 409: every generated session id collided.
pub const SESSION_ID_EXHAUSTED: &str = "Failed to generate a unique session identifier.";
/// 409: the session could not be created (cause not exposed).
pub const SESSION_CREATE_FAILED: &str = "Failed to create session.";
/// 409: the engine refused to advance.
pub const SESSION_ADVANCE_FAILED: &str = "Failed to advance session.";
/// 409: the AI turn failed.
pub const AI_TURN_FAILED: &str = "Failed to execute AI turn.";

/// 409: the player has no AI controller.
pub fn no_ai_controller(player_id: &str) -> String {
    format!("No AI controller is available for player \"{player_id}\".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameterised_messages_quote_their_arguments() {
        assert_eq!(
            missing_role("session:create"),
            "Missing required role \"session:create\"."
        );
        assert_eq!(session_not_found("abc"), "Session \"abc\" was not found.");
        assert_eq!(
            action_not_found("build", "abc"),
            "Action \"build\" was not found in session \"abc\"."
        );
        assert_eq!(
            no_ai_controller("A"),
            "No AI controller is available for player \"A\"."
        );
    }
}
