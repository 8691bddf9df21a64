//! The Kingdom Builder HTTP server (axum).
