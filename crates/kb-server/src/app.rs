//! The application: the route table, the middleware stack, binding, serving
//! with graceful shutdown, and the shutdown signal.
//!
//! The server is a function of `(listener, state, shutdown)` ([`run`]):
//! the binary binds the configured address and passes [`shutdown_signal`],
//! tests bind `127.0.0.1:0` or call [`router`] in-process.
//!
//! Every route is served twice, at the root and under `/api` (the browser
//! client's prefix): [`router_with`] nests the same route table once, so a
//! route added to [`api_routes`] gets both paths. The browser client's
//! page and assets ([`routes::web`]) are served at the root only.
//!
//! Event streams ([`stream_routes`]) have the same stack as every other
//! route except compression: they are never compressed, and a compression
//! wrapper around a body that lives as long as the stream would cost each
//! open stream 5.8 KB for nothing.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;

use crate::error::{envelope_non_json_errors, method_not_allowed, panic_response, route_not_found};
use crate::extract::BODY_LIMIT_BYTES;
use crate::limits::Limits;
use crate::metrics::track_requests;
use crate::routes;
use crate::routes::sessions;
use crate::state::AppState;
use crate::telemetry::log_requests;

/// The prefix under which every route is also served.
pub const API_PREFIX: &str = "/api";

/// The route table, without prefix or middleware. Add routes here.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(routes::health::get_healthz))
        .route("/metrics", get(routes::metrics::get_metrics))
        .route("/openapi.json", get(routes::health::get_openapi))
        .route("/runtime-config", get(sessions::runtime_config))
        .route("/metadata", get(sessions::metadata))
        .route("/sessions", post(sessions::create).get(sessions::list))
        .route("/sessions/{id}", axum::routing::delete(sessions::delete))
        .route("/sessions/{id}/snapshot", get(sessions::snapshot))
        .route("/sessions/{id}/seats", get(routes::seats::seats))
        .route("/sessions/{id}/invitations", post(routes::seats::invite))
        .route(
            "/sessions/{id}/invitations/{grant_id}",
            axum::routing::delete(routes::seats::revoke_invitation),
        )
        .route(
            "/sessions/{id}/credentials/{grant_id}",
            axum::routing::delete(routes::seats::revoke_credential),
        )
        .route("/invitations/accept", post(routes::seats::accept))
        .route("/sessions/{id}/fork", post(sessions::fork))
        .route("/sessions/{id}/log", get(routes::events::log))
        .route("/sessions/{id}/advance", post(sessions::advance))
        .route("/sessions/{id}/actions", post(sessions::perform_action))
        .route(
            "/sessions/{id}/actions/{action_id}/costs",
            post(sessions::costs),
        )
        .route(
            "/sessions/{id}/actions/{action_id}/requirements",
            post(sessions::requirements),
        )
        .route(
            "/sessions/{id}/actions/{action_id}/options",
            get(sessions::options),
        )
        .route("/sessions/{id}/ai-turn", post(routes::ai::ai_turn))
        .route("/sessions/{id}/simulate", post(sessions::simulate))
        .route("/sessions/{id}/forecast", get(routes::forecast::forecast))
        .route("/sessions/{id}/proceed", post(routes::proceed::proceed))
        .route("/sessions/{id}/dev-mode", post(sessions::dev_mode))
        .route(
            "/sessions/{id}/player",
            axum::routing::patch(sessions::player_name),
        )
}

/// The routes whose answers are long-lived event streams, without prefix
/// or middleware; served like [`api_routes`], minus compression.
pub fn stream_routes() -> Router<AppState> {
    Router::new().route("/sessions/{id}/events", get(routes::events::events))
}

/// The complete application: [`api_routes`] at the root and under
/// [`API_PREFIX`], with the error fallbacks and the middleware stack.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// Like [`router`], with `extra_routes` added to [`api_routes`]: they are
/// served at the root and under [`API_PREFIX`] behind the same fallbacks and
/// middleware. Tests use it to mount routes of their own.
///
/// The browser client ([`routes::web::routes`]) is mounted at the root
/// beside them, not under the prefix.
///
/// The middleware, outermost first: request log, CORS ([`crate::cors`]),
/// metrics, compression (per `Accept-Encoding`; not for [`stream_routes`]),
/// the body size limit, the non-JSON-error safety net, and panic catching.
/// Unknown paths answer a 404 envelope; known paths with another method a
/// 405 envelope.
pub fn router_with(state: AppState, extra_routes: Router<AppState>) -> Router {
    let routes = api_routes().merge(extra_routes);
    let answers = Router::new()
        .merge(routes.clone())
        .merge(routes::web::routes())
        .nest(API_PREFIX, routes)
        .fallback(route_not_found)
        // Must come before `layer` so the 405 handler sits inside the stack.
        .method_not_allowed_fallback(method_not_allowed);
    let streams = Router::new()
        .merge(stream_routes())
        .nest(API_PREFIX, stream_routes())
        .method_not_allowed_fallback(method_not_allowed);
    // gzip, br or zstd per Accept-Encoding, for answers above 32 bytes.
    // Event streams stay out of it: their events must leave as they are
    // written, and its body wrapper would be held for a stream's life.
    let answers = guarded(answers).layer(CompressionLayer::new());
    guarded(streams)
        .merge(answers)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            track_requests,
        ))
        .layer(state.cors().layer())
        .layer(middleware::from_fn(log_requests))
        .with_state(state)
}

/// The innermost middleware of every route, innermost last: the body size
/// limit, the non-JSON-error safety net, and panic catching.
fn guarded(routes: Router<AppState>) -> Router<AppState> {
    routes
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(envelope_non_json_errors))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
}

/// Why the server could not bind its address.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {host}:{port}: {source}")]
pub struct BindError {
    /// The configured host.
    pub host: String,
    /// The configured port.
    pub port: u16,
    /// The I/O error.
    pub source: io::Error,
}

/// Binds `host:port` (port 0 picks a free port).
pub async fn bind(host: &str, port: u16) -> Result<TcpListener, BindError> {
    TcpListener::bind((host, port))
        .await
        .map_err(|source| BindError {
            host: host.to_owned(),
            port,
            source,
        })
}

/// Serves [`router`] on `listener` until `shutdown` completes, then stops
/// accepting connections and waits for in-flight requests to finish.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve(listener, router(state), shutdown).await
}

/// [`run`] with a ready-made router (for example from [`router_with`]),
/// within the default [`Limits`].
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_within(listener, app, Limits::default(), shutdown).await
}

/// [`serve_within`] with the request summary logged every `summary_every`
/// instead of every [`crate::telemetry::SUMMARY_INTERVAL`].
pub async fn serve_logged(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    summary_every: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let address: SocketAddr = listener.local_addr()?;
    tracing::info!(%address, "Kingdom Builder server listening on http://{address}");
    let summary = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(summary_every);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            crate::telemetry::log_request_summary();
        }
    });
    // Event streams would hold graceful shutdown forever: they end when
    // it begins.
    let (end_streams, streams) = routes::events::StreamsShutdown::new();
    let app = app.layer(axum::Extension(streams));
    let shutdown = async move {
        shutdown.await;
        let _ = end_streams.send(true);
    };
    let served = crate::limits::serve(listener, app, limits, shutdown).await;
    summary.abort();
    crate::telemetry::log_request_summary();
    served?;
    tracing::info!("Kingdom Builder server stopped");
    Ok(())
}

/// [`serve`] within `limits` (see [`crate::limits`]).
pub async fn serve_within(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_logged(
        listener,
        app,
        limits,
        crate::telemetry::SUMMARY_INTERVAL,
        shutdown,
    )
    .await
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
///
/// If a signal handler cannot be installed the error is logged and that
/// signal is ignored, rather than shutting down at once.
pub async fn shutdown_signal() {
    let interrupt = async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "SIGINT",
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGINT");
                std::future::pending().await
            }
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
                "SIGTERM"
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending().await
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<&str>();
    let signal = tokio::select! {
        name = interrupt => name,
        name = terminate => name,
    };
    tracing::info!(signal, "shutting down: finishing in-flight requests");
}
