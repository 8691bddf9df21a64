//! Logging: the tracing subscriber and the per-request log line.
//!
//! [`init`] installs the process-wide subscriber (text or JSON, filtered by
//! `RUST_LOG`, default `info`). [`log_requests`] opens a span per request
//! and logs one line when it is answered: method, path, matched route,
//! status and latency. Headers are never logged, so tokens never reach the
//! logs; neither is the query string. Internal errors are logged here with
//! their cause chain (see [`crate::error::ErrorReport`]).

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use kb_protocol::ErrorCode;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::util::SubscriberInitExt;

use crate::error::ErrorReport;
use crate::metrics::UNMATCHED_ROUTE;

/// The filter used when `RUST_LOG` is unset or blank.
pub const DEFAULT_FILTER: &str = "info";

/// How log lines are written to standard error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// `RUST_LOG` is not a valid filter.
    #[error("invalid RUST_LOG filter {filter:?}: {source}")]
    InvalidFilter {
        /// The rejected filter text.
        filter: String,
        /// The parser's complaint.
        source: tracing_subscriber::filter::ParseError,
    },
    /// A global subscriber is already installed.
    #[error("a global tracing subscriber is already installed: {0}")]
    AlreadyInstalled(#[source] tracing_subscriber::util::TryInitError),
}

/// Installs the global subscriber writing to standard error.
///
/// `rust_log` is the value of `RUST_LOG` (the caller reads the environment),
/// [`DEFAULT_FILTER`] when `None` or blank.
pub fn init(format: LogFormat, rust_log: Option<&str>) -> Result<(), TelemetryError> {
    let filter = env_filter(rust_log)?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.finish().try_init(),
        LogFormat::Json => builder.json().finish().try_init(),
    }
    .map_err(TelemetryError::AlreadyInstalled)
}

/// The filter for a `RUST_LOG` value.
pub fn env_filter(rust_log: Option<&str>) -> Result<EnvFilter, TelemetryError> {
    let filter = rust_log
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .unwrap_or(DEFAULT_FILTER);
    EnvFilter::try_new(filter).map_err(|source| TelemetryError::InvalidFilter {
        filter: filter.to_owned(),
        source,
    })
}

/// Middleware: one span and one log line per request.
pub async fn log_requests(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|matched| matched.as_str().to_owned());
    let span = tracing::info_span!("request", %method, %path);
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    let _entered = span.enter();
    if let Some(report) = response.extensions().get::<ErrorReport>() {
        if report.code == ErrorCode::Internal {
            tracing::error!(code = %report.code, error = %report.chain, "request failed");
        } else {
            tracing::warn!(code = %report.code, error = %report.chain, "request failed");
        }
    }
    tracing::info!(
        status,
        route = %route.as_deref().unwrap_or(UNMATCHED_ROUTE),
        latency_ms,
        "request answered"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_defaults_to_info_and_rejects_garbage() {
        assert_eq!(env_filter(None).unwrap().to_string(), "info");
        assert_eq!(env_filter(Some("  ")).unwrap().to_string(), "info");
        assert_eq!(
            env_filter(Some("kb_server=debug")).unwrap().to_string(),
            "kb_server=debug"
        );
        let error = env_filter(Some("kb_server=notalevel")).unwrap_err();
        assert!(error.to_string().contains("RUST_LOG"), "{error}");
    }
}
