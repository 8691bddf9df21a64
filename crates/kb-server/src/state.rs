//! [`AppState`]: the cheap-to-clone handle every handler receives.

use std::sync::Arc;

use crate::auth::Authenticator;
use crate::metrics::Metrics;

/// Shared server state: an `Arc` around the parts, so cloning it per request
/// costs one reference count.
///
/// Add long-lived services (the session manager is next) as fields of
/// `Parts` with an accessor here; handlers reach them through
/// `State<AppState>`.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Parts>,
}

#[derive(Debug)]
struct Parts {
    /// Checks request tokens; see [`crate::auth`].
    auth: Authenticator,
    /// The registry behind `/metrics`; modules register their own metrics
    /// on it at startup.
    metrics: Metrics,
}

impl AppState {
    /// State from its parts.
    pub fn new(auth: Authenticator, metrics: Metrics) -> Self {
        Self {
            inner: Arc::new(Parts { auth, metrics }),
        }
    }

    /// The request authenticator.
    pub fn auth(&self) -> &Authenticator {
        &self.inner.auth
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }
}
