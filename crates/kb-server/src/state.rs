//! [`AppState`]: the cheap-to-clone handle every handler receives.

use std::sync::Arc;
use std::time::Duration;

use kb_session::SessionManager;

use crate::ai_pool::AiPool;
use crate::auth::Authenticator;
use crate::cors::CorsOrigins;
use crate::metrics::Metrics;

/// Shared server state: an `Arc` around the parts, so cloning it per request
/// costs one reference count.
///
/// Add long-lived services (the session manager is next) as fields of
/// `Parts` with an accessor here; handlers reach them through
/// `State<AppState>`.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Parts>,
}

struct Parts {
    /// Checks request tokens; see [`crate::auth`].
    auth: Authenticator,
    /// The registry behind `/metrics`; modules register their own metrics
    /// on it at startup.
    metrics: Metrics,
    /// Anonymous creation (`--guests`), if allowed.
    guests: Option<Arc<crate::guests::GuestGate>>,
    /// The live sessions.
    manager: Arc<SessionManager>,
    /// Origins allowed to call the API from a browser (none by default).
    cors: CorsOrigins,
    /// Where the built-in AI thinks (see [`crate::ai_pool`]).
    ai: AiPool,
    /// Interval of the event streams' heartbeats.
    event_heartbeat: Duration,
}

impl AppState {
    /// State from its parts.
    pub fn new(auth: Authenticator, metrics: Metrics, manager: Arc<SessionManager>) -> Self {
        Self {
            inner: Arc::new(Parts {
                auth,
                metrics,
                guests: None,
                manager,
                cors: CorsOrigins::none(),
                ai: AiPool::default(),
                event_heartbeat: crate::routes::events::HEARTBEAT,
            }),
        }
    }

    /// The same state, allowing cross-origin requests from `origins`
    /// (see [`crate::cors`]). Call before the router is built.
    pub fn with_cors(self, cors: CorsOrigins) -> Self {
        let parts = self.into_parts();
        Self {
            inner: Arc::new(Parts { cors, ..parts }),
        }
    }

    /// The same state, with the AI thinking on at most `threads` threads at
    /// once (see [`crate::ai_pool`]). Call before the router is built.
    pub fn with_ai_threads(self, threads: usize) -> Self {
        let parts = self.into_parts();
        Self {
            inner: Arc::new(Parts {
                ai: AiPool::new(threads),
                ..parts
            }),
        }
    }

    /// The same state, with event streams sending a heartbeat every
    /// `interval` (default [`crate::routes::events::HEARTBEAT`]; shorter in
    /// tests). Call before the router is built.
    pub fn with_event_heartbeat(self, interval: Duration) -> Self {
        let parts = self.into_parts();
        Self {
            inner: Arc::new(Parts {
                event_heartbeat: interval,
                ..parts
            }),
        }
    }

    /// Interval of the event streams' heartbeats.
    pub fn event_heartbeat(&self) -> Duration {
        self.inner.event_heartbeat
    }

    fn into_parts(self) -> Parts {
        Arc::try_unwrap(self.inner).unwrap_or_else(|shared| Parts {
            auth: shared.auth.clone(),
            metrics: shared.metrics.clone(),
            guests: shared.guests.clone(),
            manager: shared.manager.clone(),
            cors: shared.cors.clone(),
            ai: shared.ai.clone(),
            event_heartbeat: shared.event_heartbeat,
        })
    }

    /// Where the built-in AI thinks.
    pub fn ai_pool(&self) -> &AiPool {
        &self.inner.ai
    }

    /// The origins allowed to make cross-origin requests.
    pub fn cors(&self) -> &CorsOrigins {
        &self.inner.cors
    }

    /// The session manager.
    pub fn manager(&self) -> &Arc<SessionManager> {
        &self.inner.manager
    }

    /// The request authenticator.
    pub fn auth(&self) -> &Authenticator {
        &self.inner.auth
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The same state, letting anyone create sessions without a token
    /// within `gate`'s per-address limit (see [`crate::guests`]). Call
    /// before the router is built.
    pub fn with_guests(self, gate: crate::guests::GuestGate) -> Self {
        let parts = self.into_parts();
        Self {
            inner: Arc::new(Parts {
                guests: Some(Arc::new(gate)),
                ..parts
            }),
        }
    }

    /// The guest gate, when guests may create sessions.
    pub fn guests(&self) -> Option<&crate::guests::GuestGate> {
        self.inner.guests.as_deref()
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("auth", &self.inner.auth)
            .field("cors", &self.inner.cors)
            .field("sessions", &self.inner.manager.session_count())
            .finish_non_exhaustive()
    }
}
