//! Logging: the tracing subscriber, the per-request log line and the
//! periodic request summary.
//!
//! [`init`] installs the process-wide subscriber (text or JSON, filtered by
//! `RUST_LOG`, default `info`). [`log_requests`] opens a span per request
//! (method, path, and the session id when the path names one, so that
//! every line logged while serving it carries them) and logs one line at
//! `debug` when it is answered: status, matched route and latency. A busy
//! server answers tens of thousands of requests a second, so by default
//! these lines are off; [`log_request_summary`] logs, every
//! [`SUMMARY_INTERVAL`] (`--log-summary-every`), one `info` line counting the requests answered
//! per status. `RUST_LOG=kb_server=debug` brings the per-request lines
//! back.
//!
//! Headers are never logged, so tokens never reach the logs; neither is the
//! query string. Internal errors are logged at `error` with their cause
//! chain (see [`crate::error::ErrorReport`]), always. A write refused
//! because the store cannot write is logged at `debug` per request: the
//! session manager logs the store's failure once when it begins and once
//! when it ends, and the summary counts the 503s.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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

/// How often [`log_request_summary`] is logged by a serving server.
pub const SUMMARY_INTERVAL: Duration = Duration::from_secs(60);

/// Requests answered since the last summary, by status code (index
/// `status - 100`); process-wide.
static ANSWERED: [AtomicU64; 500] = [const { AtomicU64::new(0) }; 500];

/// The session id a path names (`/sessions/ID/...`, also under `/api`).
fn session_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(crate::app::API_PREFIX).unwrap_or(path);
    let id = rest.strip_prefix("/sessions/")?.split('/').next()?;
    (!id.is_empty()).then_some(id)
}

/// Middleware: one span and one (debug) log line per request, and its
/// count in the summary.
pub async fn log_requests(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|matched| matched.as_str().to_owned());
    let span = match session_of(&path) {
        Some(session_id) => tracing::info_span!("request", %method, %path, session_id),
        None => tracing::info_span!("request", %method, %path),
    };
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    if let Some(count) = ANSWERED.get(usize::from(status.saturating_sub(100))) {
        count.fetch_add(1, Ordering::Relaxed);
    }
    let _entered = span.enter();
    if let Some(report) = response.extensions().get::<ErrorReport>() {
        match report.code {
            ErrorCode::Internal => {
                tracing::error!(code = %report.code, error = %report.chain, "request failed");
            }
            ErrorCode::StorageUnavailable => {
                tracing::debug!(code = %report.code, error = %report.chain, "request failed");
            }
            _ => tracing::warn!(code = %report.code, error = %report.chain, "request failed"),
        }
    }
    tracing::debug!(
        status,
        route = %route.as_deref().unwrap_or(UNMATCHED_ROUTE),
        latency_ms,
        "request answered"
    );
    response
}

/// Logs, at `info`, how many requests were answered since the last call,
/// per status (`total=1200 statuses="200:1180 404:12 503:8"`), and starts
/// counting again; logs nothing when there were none.
pub fn log_request_summary() {
    let mut total = 0;
    let mut statuses = String::new();
    for (index, count) in ANSWERED.iter().enumerate() {
        let count = count.swap(0, Ordering::Relaxed);
        if count > 0 {
            total += count;
            if !statuses.is_empty() {
                statuses.push(' ');
            }
            statuses.push_str(&format!("{}:{count}", index + 100));
        }
    }
    if total > 0 {
        tracing::info!(total, statuses = %statuses, "requests answered");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_id_is_read_from_session_paths_only() {
        assert_eq!(session_of("/sessions/abc/advance"), Some("abc"));
        assert_eq!(session_of("/api/sessions/abc"), Some("abc"));
        assert_eq!(session_of("/sessions"), None);
        assert_eq!(session_of("/sessions/"), None);
        assert_eq!(session_of("/healthz"), None);
    }

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
