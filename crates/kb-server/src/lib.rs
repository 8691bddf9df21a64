//! The Kingdom Builder HTTP server (axum).

pub mod auth;
pub mod config;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod state;
pub mod telemetry;

pub use auth::{AuthContext, AuthError, Authenticator, Caller, Role, TokenTable};
pub use config::{ServeArgs, ServeConfig};
pub use error::ApiError;
pub use extract::{ApiJson, BodyRejection};
pub use metrics::Metrics;
pub use state::AppState;
