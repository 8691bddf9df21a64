//! The Kingdom Builder HTTP server (axum).

pub mod error;
pub mod extract;

pub use error::ApiError;
pub use extract::{ApiJson, BodyRejection};
