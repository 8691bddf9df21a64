//! Wire types of the Kingdom Builder HTTP API.
//!
//! This crate is the only one that knows the JSON shapes and the literal
//! messages that travel over HTTP. It has no web framework in it: the server
//! crate turns these types into responses, and a Rust client could reuse them.
//!
//! # Layout
//!
//! - [`answers`]: the reference's shapes of snapshots, command results and
//!   requirement failures, as response types built from the engine's plain
//!   data.
//! - [`error`]: the `{code, message, issues?}` error envelope and the closed
//!   set of error codes with their HTTP statuses.
//! - [`health`]: the body of `GET /healthz`.
//! - [`messages`]: wire message literals that clients and tests depend on.
//! - [`requests`]: request bodies of the session routes.
//! - [`schema`]: the reference content schema (content files, `GameConfig`,
//!   registries, the content echoed in answers), converted into and out of
//!   the engine's plain content types.

pub mod answers;
pub mod error;
pub mod health;
pub mod messages;
pub mod requests;
pub mod schema;

pub use error::{ErrorCode, ErrorEnvelope, Issue, PathSegment};
pub use health::{Health, HealthStatus};
