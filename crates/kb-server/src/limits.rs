//! What one connection may take from the server, so that slow, idle or
//! abusive clients cannot keep it from answering everyone else: the HTTP
//! listener ([`serve`]), its time limits and its connection limit, with
//! their `kingdom serve` flags ([`LimitArgs`]).
//!
//! * **Headers**: a request's headers must arrive within
//!   [`Limits::header_timeout`] of the connection's first byte wait (a new
//!   connection, or the end of its previous response): a client trickling
//!   its headers, or a keep-alive connection left idle, is closed after it.
//! * **Bodies**: a request's body must arrive within
//!   [`Limits::body_timeout`] of its headers. A body that trickles or never
//!   finishes gets 408 `REQUEST_TIMEOUT` and the connection is closed; the
//!   request never reaches the session it names.
//! * **Connections**: at most [`Limits::max_connections`] at once. When a
//!   new one arrives at the limit, an idle connection is closed to make
//!   room: the keep-alive connection idle the longest, or, when there is
//!   none, the connection that has waited the longest for its first
//!   request; when every connection has a request in progress, the new
//!   one is closed at once. Requests in progress are never cut short.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

use crate::config::parse_duration;

/// The default of [`Limits::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// The default of [`Limits::header_timeout`].
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The default of [`Limits::body_timeout`].
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The limits of [`serve`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once.
    pub max_connections: usize,
    /// From waiting for a request to having its headers (covers idle
    /// keep-alive connections).
    pub header_timeout: Duration,
    /// From a request's headers to the end of its body.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

/// The `kingdom serve` flags of [`Limits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct LimitArgs {
    /// Most connections open at once; at the limit, the connection idle
    /// the longest is closed to make room.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS,
          value_parser = parse_count)]
    pub max_connections: usize,
    /// Time a connection has to send a request's headers, counted from when
    /// the server starts waiting for them (this also closes idle keep-alive
    /// connections), like 10s.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_positive)]
    pub header_timeout: Duration,
    /// Time a request has to send its body once its headers arrived, like
    /// 30s; a slower one gets 408 and its connection is closed.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_positive)]
    pub body_timeout: Duration,
}

impl From<LimitArgs> for Limits {
    fn from(args: LimitArgs) -> Self {
        Self {
            max_connections: args.max_connections,
            header_timeout: args.header_timeout,
            body_timeout: args.body_timeout,
        }
    }
}

fn parse_count(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(count) => Ok(count),
        Err(error) => Err(error.to_string()),
    }
}

fn parse_positive(text: &str) -> Result<Duration, String> {
    match parse_duration(text) {
        Ok(duration) if duration.is_zero() => Err("must be more than 0".to_owned()),
        Ok(duration) => Ok(duration),
        Err(error) => Err(error.to_string()),
    }
}

/// Why a request body stopped: it did not arrive within the body timeout.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyTimedOut(pub Duration);

/// Middleware: the request's body must arrive within `timeout` of now (see
/// the module docs); reading it later fails with [`BodyTimedOut`].
pub async fn limit_body_time(timeout: Duration, request: Request, next: Next) -> Response {
    let request = request.map(|body| {
        if body.is_end_stream() {
            body
        } else {
            Body::new(DeadlineBody {
                inner: body,
                deadline: Box::pin(tokio::time::sleep(timeout)),
                timeout,
            })
        }
    });
    next.run(request).await
}

/// A body that fails once its deadline passes.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match this.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut(this.timeout))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether an error (or one of its causes) is a [`BodyTimedOut`].
pub fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<BodyTimedOut>() {
            return true;
        }
        current = error.source();
    }
    false
}

/// The open connections.
#[derive(Default)]
struct Connections {
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Connection>>>,
    /// Told when a connection closes.
    closed: Notify,
}

/// One open connection, as the listener sees it.
struct Connection {
    /// Requests in progress.
    busy: AtomicUsize,
    /// When it last finished a request (or opened), for choosing whom to
    /// close first.
    idle_since: Mutex<Instant>,
    /// Requests it has been answered: a keep-alive connection that was
    /// served is shed before one that is still sending its first request.
    served: AtomicU64,
    /// Told when it should close (as soon as no request is in progress).
    shed: Notify,
    /// Already told.
    shedding: std::sync::atomic::AtomicBool,
}

impl Connections {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Connection>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks the connection idle the longest to close; `false` when none is
    /// idle.
    fn shed_one(&self) -> bool {
        let open = self.lock();
        let idle = open
            .values()
            .filter(|connection| {
                connection.busy.load(Ordering::SeqCst) == 0
                    && !connection.shedding.load(Ordering::SeqCst)
            })
            .min_by_key(|connection| {
                let never_served = connection.served.load(Ordering::SeqCst) == 0;
                let since = *connection
                    .idle_since
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                (never_served, since)
            });
        match idle {
            Some(connection) => {
                connection.shedding.store(true, Ordering::SeqCst);
                connection.shed.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Counts a request in progress on its connection.
struct InProgress(Arc<Connection>);

impl InProgress {
    fn enter(connection: &Arc<Connection>) -> Self {
        connection.busy.fetch_add(1, Ordering::SeqCst);
        Self(connection.clone())
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.served.fetch_add(1, Ordering::SeqCst);
        *self
            .0
            .idle_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instant::now();
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes,
/// then stops accepting, lets the requests in progress finish and closes
/// every connection.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let body_timeout = limits.body_timeout;
    let app = app.layer(axum::middleware::from_fn(move |request, next| {
        limit_body_time(body_timeout, request, next)
    }));
    let connections = Arc::new(Connections::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors, or a connection reset before it
                // was accepted: keep serving the others.
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let open = connections.lock().len();
        let shedding = connections
            .lock()
            .values()
            .filter(|connection| connection.shedding.load(Ordering::SeqCst))
            .count();
        if open - shedding >= limits.max_connections && !connections.shed_one() {
            tracing::debug!("at the connection limit with no idle connection: refused one");
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let id = connections.next_id.fetch_add(1, Ordering::Relaxed);
        let connection = Arc::new(Connection {
            busy: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            served: AtomicU64::new(0),
            shed: Notify::new(),
            shedding: std::sync::atomic::AtomicBool::new(false),
        });
        connections.lock().insert(id, connection.clone());
        tokio::spawn(serve_connection(
            stream,
            app.clone(),
            limits,
            connection,
            stop_rx.clone(),
            Closing {
                connections: connections.clone(),
                id,
            },
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection finishes its request in progress and closes.
    loop {
        let closed = connections.closed.notified();
        if connections.lock().is_empty() {
            break;
        }
        closed.await;
    }
    Ok(())
}

/// Removes a connection from the table when its task ends.
struct Closing {
    connections: Arc<Connections>,
    id: u64,
}

impl Drop for Closing {
    fn drop(&mut self) {
        self.connections.lock().remove(&self.id);
        self.connections.closed.notify_waiters();
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    app: Router,
    limits: Limits,
    connection: Arc<Connection>,
    mut stop: watch::Receiver<bool>,
    _closing: Closing,
) {
    let counted = connection.clone();
    // Handlers that limit per client address (guests) read it from here.
    let peer = stream.peer_addr().ok();
    let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
        let in_progress = InProgress::enter(&counted);
        let app = app.clone();
        let mut request = request.map(Body::new);
        if let Some(peer) = peer {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
        }
        async move {
            let response = app.oneshot(request).await;
            drop(in_progress);
            response
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let served = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    let mut served = std::pin::pin!(served);
    let mut closing = false;
    loop {
        tokio::select! {
            result = served.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended");
                }
                break;
            }
            () = connection.shed.notified(), if !closing => {
                closing = true;
                served.as_mut().graceful_shutdown();
            }
            changed = stop.changed(), if !closing => {
                if changed.is_err() || *stop.borrow() {
                    closing = true;
                    served.as_mut().graceful_shutdown();
                }
            }
        }
    }
}
