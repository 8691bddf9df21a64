//! [`SessionError`]: why the manager refused a request.

use kb_engine::{ContentError, EngineError};
use kb_store::StoreError;

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// No such session, or not one the caller may see.
    #[error("Session \"{session_id}\" was not found.")]
    NotFound {
        /// The id asked for.
        session_id: String,
    },
    /// A write carried a version (`If-Match`) that is no longer current.
    #[error("Session \"{session_id}\" is at version {actual}, not {expected}.")]
    Stale {
        /// The session.
        session_id: String,
        /// The version the client expected.
        expected: u64,
        /// The current version.
        actual: u64,
    },
    /// The session changed in the store under this process (another process
    /// wrote it); the request can be retried.
    #[error("Session \"{session_id}\" was changed concurrently; retry the request.")]
    Concurrent {
        /// The session.
        session_id: String,
    },
    /// The live session count is at `max_sessions`.
    #[error("Maximum session count reached.")]
    CapacityReached {
        /// The limit.
        max_sessions: usize,
    },
    /// The session id generator kept producing ids in use.
    #[error("Failed to generate a unique session identifier.")]
    IdsExhausted,
    /// The submitted game config is not valid content.
    #[error("Invalid game config: {0}")]
    InvalidConfig(String),
    /// A request that is malformed in a way only the manager can see.
    #[error("{0}")]
    InvalidRequest(String),
    /// The caller may see the session but not do this (a spectator
    /// writing, a seat credential acting for the other seat, a non-owner
    /// managing invitations).
    #[error("{0}")]
    Forbidden(String),
    /// An invitation or credential that does not exist, expired or was
    /// revoked.
    #[error("{0}")]
    GrantNotFound(String),
    /// An invitation already used, or a seat already held.
    #[error("{0}")]
    GrantConflict(String),
    /// The engine refused the command.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The store failed; nothing was changed.
    #[error("The session store is unavailable: {0}")]
    Unavailable(#[source] StoreError),
    /// The manager was closed.
    #[error("The server is shutting down.")]
    Closed,
}

impl From<ContentError> for SessionError {
    fn from(error: ContentError) -> Self {
        SessionError::InvalidConfig(error.to_string())
    }
}
