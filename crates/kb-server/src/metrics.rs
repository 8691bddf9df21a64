//! Prometheus metrics: the registry behind `GET /metrics`, the per-request
//! middleware, and the API other modules use to publish their own numbers.
//!
//! Built on `prometheus-client`, with one registry per [`Metrics`] value (no
//! global state, so parallel tests do not see each other's numbers). The
//! exposition is the OpenMetrics text format, which Prometheus scrapes
//! natively. Every metric name gets the `kb_` prefix; counters also get the
//! `_total` suffix.
//!
//! Built in:
//! - `kb_http_requests_total{method, route, status}`: requests answered.
//! - `kb_http_request_duration_seconds{route}`: latency histogram.
//!
//! `route` is the matched route template (`/api/sessions/{id}`), never the
//! raw path, so the number of series stays bounded; requests that match no
//! route are counted under [`UNMATCHED_ROUTE`].

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::state::AppState;

pub use prometheus_client::metrics::counter::Counter;
pub use prometheus_client::metrics::gauge::Gauge;

/// The prefix of every metric name.
pub const PREFIX: &str = "kb";

/// The `route` label of requests no route matched.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The `Content-Type` of the `/metrics` response.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Latency buckets in seconds, from 1 ms to 10 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0,
];

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// Why a metric could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    /// The name is not `[a-zA-Z_][a-zA-Z0-9_]*`.
    #[error(
        "invalid metric name {0:?}: use letters, digits and underscores, not starting with a digit"
    )]
    InvalidName(String),
    /// A metric with this name is already registered.
    #[error("metric {0:?} is already registered")]
    Duplicate(String),
}

/// The server's metrics. Cheap to clone; clones share the registry.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    /// The registry and the names in it. A std mutex: registration happens
    /// at startup and encoding is a short, await-free section per scrape.
    registry: Mutex<(Registry, BTreeSet<String>)>,
    http_requests: Family<RequestLabels, Counter>,
    http_latency: Family<RouteLabels, Histogram>,
}

impl Metrics {
    /// A fresh registry with the built-in HTTP metrics.
    pub fn new() -> Self {
        let http_requests = Family::<RequestLabels, Counter>::default();
        let http_latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(LATENCY_BUCKETS)) as fn() -> Histogram,
        );
        let mut registry = Registry::with_prefix(PREFIX);
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, matched route and status",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency in seconds, by matched route",
            http_latency.clone(),
        );
        let names = ["http_requests", "http_request_duration_seconds"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        Self {
            inner: Arc::new(Inner {
                registry: Mutex::new((registry, names)),
                http_requests,
                http_latency,
            }),
        }
    }

    /// Registers a counter named `kb_<name>_total`; increment the returned
    /// handle (it is cheap to clone and shared with the registry).
    pub fn register_counter(&self, name: &str, help: &str) -> Result<Counter, MetricsError> {
        let counter = Counter::default();
        self.register(name, help, counter.clone())?;
        Ok(counter)
    }

    /// Registers a gauge named `kb_<name>`; set the returned handle (for
    /// example to the number of live sessions).
    pub fn register_gauge(&self, name: &str, help: &str) -> Result<Gauge, MetricsError> {
        let gauge = Gauge::default();
        self.register(name, help, gauge.clone())?;
        Ok(gauge)
    }

    fn register(
        &self,
        name: &str,
        help: &str,
        metric: impl prometheus_client::registry::Metric,
    ) -> Result<(), MetricsError> {
        let valid = name
            .chars()
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
            && name
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || character == '_');
        if !valid {
            return Err(MetricsError::InvalidName(name.to_owned()));
        }
        let mut guard = self
            .inner
            .registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (registry, names) = &mut *guard;
        if !names.insert(name.to_owned()) {
            return Err(MetricsError::Duplicate(name.to_owned()));
        }
        registry.register(name, help, metric);
        Ok(())
    }

    /// Records one answered request.
    pub fn record_request(&self, method: &Method, route: &str, status: u16, latency: Duration) {
        self.inner
            .http_requests
            .get_or_create(&RequestLabels {
                method: method_label(method),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.inner
            .http_latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(latency.as_secs_f64());
    }

    /// The whole registry in the OpenMetrics text format.
    pub fn encode(&self) -> Result<String, fmt::Error> {
        let guard = self
            .inner
            .registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &guard.0)?;
        Ok(text)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// A bounded label for the method: the standard ones, else `OTHER`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

/// Middleware: counts and times every request by its matched route.
pub async fn track_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || UNMATCHED_ROUTE.to_owned(),
        |path| path.as_str().to_owned(),
    );
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics().record_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_metrics_show_up_with_prefix() {
        let metrics = Metrics::new();
        let live = metrics
            .register_gauge("sessions_live", "Live sessions")
            .unwrap();
        let commits = metrics
            .register_counter("store_commits", "Store commits")
            .unwrap();
        live.set(3);
        commits.inc_by(2);
        let text = metrics.encode().unwrap();
        assert!(text.contains("kb_sessions_live 3"), "{text}");
        assert!(text.contains("kb_store_commits_total 2"), "{text}");
    }

    #[test]
    fn names_are_validated_and_unique() {
        let metrics = Metrics::new();
        assert_eq!(
            metrics.register_gauge("9lives", "x").unwrap_err(),
            MetricsError::InvalidName("9lives".to_owned())
        );
        assert!(metrics.register_gauge("a-b", "x").is_err());
        assert!(metrics.register_gauge("", "x").is_err());
        metrics.register_gauge("sessions", "x").unwrap();
        assert_eq!(
            metrics.register_counter("sessions", "x").unwrap_err(),
            MetricsError::Duplicate("sessions".to_owned())
        );
        assert!(metrics.register_counter("http_requests", "x").is_err());
    }

    #[test]
    fn requests_are_counted_by_route_method_and_status() {
        let metrics = Metrics::new();
        for _ in 0..2 {
            metrics.record_request(&Method::GET, "/healthz", 200, Duration::from_millis(3));
        }
        metrics.record_request(
            &Method::from_bytes(b"BREW").unwrap(),
            UNMATCHED_ROUTE,
            404,
            Duration::ZERO,
        );
        let text = metrics.encode().unwrap();
        assert!(
            text.contains(
                r#"kb_http_requests_total{method="GET",route="/healthz",status="200"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"kb_http_requests_total{method="OTHER",route="unmatched",status="404"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"kb_http_request_duration_seconds_count{route="/healthz"} 2"#),
            "{text}"
        );
    }
}
