//! The Kingdom Builder HTTP server (axum).
//!
//! # Layout
//!
//! - [`app`]: the route table ([`app::api_routes`]), the router with its
//!   middleware ([`app::router`]), binding and serving with graceful
//!   shutdown ([`app::run`], [`app::shutdown_signal`]).
//! - [`state`]: [`AppState`], the cheap-clone handle handlers receive.
//! - [`ai_pool`]: [`AiPool`], the bounded pool the built-in AI thinks on,
//!   off the async workers.
//! - [`error`]: [`ApiError`], the one place errors become statuses and
//!   `{code, message, issues?}` envelopes; panic and framework-error nets.
//! - [`extract`]: [`ApiJson`], the JSON body extractor with envelope
//!   rejections (400/413/415).
//! - [`limits`]: the listener and what one connection may take (header
//!   and body time limits, the connection limit) with their flags.
//! - [`auth`]: token table, header parsing, the [`Caller`] extractor and
//!   role checks.
//! - [`cors`]: [`CorsOrigins`], which other origins' pages may call the API.
//! - [`guests`]: [`guests::GuestGate`], the per-address limit on anonymous
//!   creations with `--guests`.
//! - [`config`]: `kingdom serve` flags ([`ServeArgs`]) and the validated
//!   [`ServeConfig`].
//! - [`telemetry`]: tracing subscriber and per-request logging.
//! - [`metrics`]: Prometheus registry, request metrics and the API for
//!   other modules' gauges and counters.
//! - [`routes`]: handlers, one file per resource.
//!
//! # Adding a route
//!
//! Write the handler in `routes/<resource>.rs`, taking [`Caller`] for auth
//! and `Result<ApiJson<T>, BodyRejection>` for a body whose errors carry the
//! route's literal message, returning `Result<_, ApiError>`; then add it to
//! [`app::api_routes`]. It is served at the root and under `/api`.

pub mod ai_pool;
pub mod app;
pub mod auth;
pub mod config;
pub mod cors;
pub mod error;
pub mod extract;
pub mod guests;
pub mod limits;
pub mod metrics;
pub mod routes;
pub mod state;
pub mod telemetry;

pub use ai_pool::AiPool;
pub use app::{router, run, shutdown_signal};
pub use auth::{AuthContext, AuthError, Authenticator, Caller, Role, TokenTable};
pub use config::{ServeArgs, ServeConfig};
pub use cors::CorsOrigins;
pub use error::ApiError;
pub use extract::{ApiJson, BodyRejection};
pub use metrics::Metrics;
pub use state::AppState;
