//! `kingdom bench live`: live play at scale. S two-human sessions, each
//! with both players and K spectators holding an event stream open
//! (`GET /sessions/:id/events`), while the players move at a target total
//! rate; then, optionally, a server restart that every stream must survive.
//!
//! **Who is who.** Every session is created as a guest (the server runs
//! with `--guests`), which gives seat A's credential; the owner invites
//! seat B and K spectators, who accept for credentials of their own. Each
//! subscriber streams with its own credential (the server limits streams
//! per caller), one connection and one task per stream. Each session has a
//! mover: one keep-alive connection that plays both seats with their own
//! credentials, checking every answer against a local mirror of the game
//! (the engine is deterministic). Sessions use the `actions` scenario's
//! config (a billion AP and gold), so no game ends: the active seat takes
//! up to three actions (expand, develop a farm, tax) in its action phase,
//! then advances, and the seats alternate turns.
//!
//! **What is checked.** Every subscriber must receive every version after
//! the one it had, once and in order: an event id other than `last + 1`
//! counts as a gap (ahead) or a repeat (not ahead), and an event's data must
//! start with its own version. After the moves stop, every subscriber must
//! reach its session's last version. After a restart, every stream
//! reconnects with `Last-Event-ID` and must receive exactly the events it
//! missed, then live ones again.
//!
//! **What is measured.** Latency is measured in this process, on one
//! monotonic clock, from the moment a write request is handed to the
//! socket (*from send*) and from the moment its answer is read (*from ack*,
//! negative when the event arrived before the answer) to the moment a
//! subscriber has read the event's last byte. The server sends an event
//! only once its change is durable, so *from send* is an upper bound of
//! commit-to-delivery: it also holds the write's own parsing, engine work
//! and commit. Server memory per open stream is the server's resident set
//! (`/proc/PID/status`) with every stream open and idle minus before any
//! was opened, divided by the number of streams.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Empty, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use kb_content::ContentPack;
use kb_engine::content::Params;
use kb_engine::{ByPlayer, Command, Content, Game, GameOptions, PlayerId};
use kb_protocol::schema::GameConfig;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, watch};

use crate::load::{Mirror, actions_config, matches, parse_state};
use crate::server::{ServerOptions, ServerProcess, cpu_time, memory_of};

/// Actions the active seat takes in its action phase before advancing.
const ACTIONS_PER_TURN: usize = 3;
/// Idle keep-alive connections opened to compare their memory with a
/// stream's.
pub const IDLE_CONNECTIONS: usize = 1000;
/// How long to wait for streams to open, deliver or catch up before the
/// run fails.
const PATIENCE: Duration = Duration::from_secs(300);

/// How the server is restarted, if it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Restart {
    /// No restart.
    None,
    /// SIGKILL: no shutdown of any kind.
    Kill,
    /// SIGTERM: the server ends its streams and drains.
    Term,
}

impl std::str::FromStr for Restart {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "none" => Ok(Restart::None),
            "kill" => Ok(Restart::Kill),
            "term" => Ok(Restart::Term),
            other => Err(format!("unknown restart {other:?} (none, kill, term)")),
        }
    }
}

/// A live run.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Two-human sessions.
    pub sessions: usize,
    /// Spectator streams per session (beside the two players' streams).
    pub spectators: usize,
    /// Moves per second over all sessions.
    pub rate: f64,
    /// Length of the measured phase.
    pub duration: Duration,
    /// Seed of the movers' start offsets.
    pub seed: u64,
    /// The restart after the measured phase.
    pub restart: Restart,
    /// Moves made in each session after the restart, before the streams
    /// reconnect: what each must catch up on.
    pub missed: usize,
    /// Streams connecting at once (the rest wait for a slot).
    pub connect_concurrency: usize,
    /// Pause before each memory reading.
    pub settle: Duration,
}

/// The server of a run.
pub enum Target {
    /// Started (and restarted) by the benchmark.
    Launch(ServerOptions),
    /// Already running; memory is read when its pid is known. It must run
    /// with `--guests`.
    Running {
        /// Where it listens.
        address: SocketAddr,
        /// Its process id, for memory readings.
        pid: Option<u32>,
    },
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Percentiles {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

fn percentiles(mut micros: Vec<i64>) -> Percentiles {
    micros.sort_unstable();
    let pick = |p: f64| -> f64 {
        if micros.is_empty() {
            return 0.0;
        }
        let index = ((micros.len() as f64 - 1.0) * p).round() as usize;
        micros[index] as f64 / 1000.0
    };
    Percentiles {
        count: micros.len() as u64,
        p50_ms: pick(0.5),
        p90_ms: pick(0.9),
        p99_ms: pick(0.99),
        max_ms: pick(1.0),
    }
}

/// Server memory readings.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryReport {
    /// Resident set with the sessions set up and no stream open.
    pub rss_no_streams: u64,
    /// Resident set with every stream open, before any move.
    pub rss_streams_open: u64,
    /// Their difference over the number of streams.
    pub bytes_per_stream: f64,
    /// For comparison, with the streams open: what one more connection
    /// costs that has answered one request (`GET /healthz`) and is idle
    /// (its resident set growth over [`IDLE_CONNECTIONS`] of them).
    pub bytes_per_idle_connection: f64,
    /// Resident set after the measured phase (each session's feed holds
    /// a replica and its last events).
    pub rss_after_moves: u64,
}

/// The restart's figures.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestartReport {
    /// How the server was stopped.
    pub mode: Restart,
    /// From the kill (or SIGTERM) to the new server's first answer.
    pub down_seconds: f64,
    /// Moves made after the restart, before the streams reconnected.
    pub missed_moves: u64,
    /// Events the streams had to catch up on (from their last event id to
    /// their session's version when they reconnected).
    pub events_to_catch_up: u64,
    /// From the moment every stream began to reconnect to the moment the
    /// last one had caught up.
    pub catch_up_seconds: f64,
    /// The median stream's time to catch up.
    pub catch_up_p50_seconds: f64,
    /// Every stream caught up.
    pub all_caught_up: bool,
    /// Every stream then received the live moves made after it.
    pub live_after: bool,
}

/// What a run measured.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveReport {
    /// Sessions.
    pub sessions: usize,
    /// Spectators per session.
    pub spectators: usize,
    /// Streams open (sessions × (2 + spectators)).
    pub streams: usize,
    /// Creating the sessions and accepting every invitation.
    pub setup_seconds: f64,
    /// Opening every stream.
    pub open_seconds: f64,
    /// Server memory, when its pid is known.
    pub memory: Option<MemoryReport>,
    /// The target total rate.
    pub target_moves_per_second: f64,
    /// Moves made in the measured phase.
    pub moves: u64,
    /// Its length.
    pub measured_seconds: f64,
    /// Moves per second achieved.
    pub moves_per_second: f64,
    /// The write route's latency (answer read).
    pub write: Percentiles,
    /// Events delivered in the measured phase (to every subscriber).
    pub events_delivered: u64,
    /// Per second, from the first move to the last delivery.
    pub events_per_second: f64,
    /// Mean bytes of an event on the wire.
    pub event_bytes_mean: u64,
    /// The server's CPU time over the measured phase (moves and the
    /// deliveries after them), when its pid is known.
    pub server_cpu_seconds: Option<f64>,
    /// That CPU time per event delivered, in microseconds.
    pub server_cpu_per_event_us: Option<f64>,
    /// This process's CPU time over the same phase (the movers, their
    /// mirrors and every stream's client).
    pub bench_cpu_seconds: f64,
    /// From the write request's send to each subscriber's receipt.
    pub latency_from_send: Percentiles,
    /// The same, at the players' streams.
    pub latency_from_send_players: Percentiles,
    /// The same, at the spectators' streams.
    pub latency_from_send_spectators: Percentiles,
    /// From the write's answer to each receipt (negative: the event came
    /// first).
    pub latency_from_ack: Percentiles,
    /// Every subscriber reached its session's last version after the
    /// moves.
    pub all_delivered: bool,
    /// Events whose id skipped versions.
    pub gaps: u64,
    /// Events whose id was not ahead of the last.
    pub repeats: u64,
    /// Events whose data was not of their version, and `end` events.
    pub bad_events: u64,
    /// Streams the server closed while it was up.
    pub unexpected_drops: u64,
    /// Stream requests refused (not 200) or failed while the server was up.
    pub refused: u64,
    /// The restart, if one was asked for.
    pub restart: Option<RestartReport>,
}

impl LiveReport {
    /// Whether every check held (no gap, repeat, bad event, drop or
    /// refusal; everything delivered; every stream caught up).
    pub fn clean(&self) -> bool {
        self.all_delivered
            && self.gaps + self.repeats + self.bad_events + self.unexpected_drops + self.refused
                == 0
            && self
                .restart
                .as_ref()
                .is_none_or(|r| r.all_caught_up && r.live_after)
    }
}

// ----- HTTP ----------------------------------------------------------------------

/// One keep-alive connection for writes, each request with its own
/// credential.
struct Writer {
    sender: SendRequest<Full<Bytes>>,
}

impl Writer {
    async fn open(address: SocketAddr) -> anyhow::Result<Writer> {
        let stream = TcpStream::connect(address)
            .await
            .with_context(|| format!("cannot connect to {address}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Writer { sender })
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        credential: Option<&str>,
    ) -> anyhow::Result<(StatusCode, Bytes, Instant)> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost");
        if let Some(credential) = credential {
            request = request.header("authorization", format!("Bearer {credential}"));
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
        self.sender.ready().await?;
        let sent = Instant::now();
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, bytes, sent))
    }
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

// ----- sessions and movers -----------------------------------------------------------

/// A session's credentials.
struct Seats {
    id: String,
    players: ByPlayer<String>,
    spectators: Vec<String>,
}

/// Creates a two-human session as a guest (seat A), invites and accepts
/// seat B and the spectators.
async fn set_up(
    writer: &mut Writer,
    engine: &Arc<Content>,
    create_body: &[u8],
    spectators: usize,
) -> anyhow::Result<(Seats, Mirror)> {
    let (status, bytes, _) = writer
        .send(Method::POST, "/sessions", Some(create_body.to_vec()), None)
        .await?;
    if status != StatusCode::CREATED {
        bail!(
            "a guest's create answered {status} (does the server run with --guests?): {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    let body = json_of(&bytes);
    let credential_a = body["credential"].as_str().context("a guest credential")?;
    ensure!(body["seat"] == "A", "the guest holds seat A");
    let parsed = parse_state(&bytes).context("a session state")?;
    let game = Game::new(
        engine.clone(),
        GameOptions {
            dev_mode: false,
            ai: ByPlayer { a: false, b: false },
        },
    )?;
    let mirror = Mirror {
        id: parsed.session_id.clone().unwrap_or_default(),
        game,
        version: 1,
    };
    ensure!(matches(&parsed, &mirror), "the new session is the mirror's");
    let id = mirror.id.clone();
    let invite = async |writer: &mut Writer, seat: &str| -> anyhow::Result<String> {
        let (status, bytes, _) = writer
            .send(
                Method::POST,
                &format!("/sessions/{id}/invitations"),
                Some(json!({ "seat": seat }).to_string().into_bytes()),
                Some(credential_a),
            )
            .await?;
        ensure!(
            status == StatusCode::CREATED,
            "invitation: {status} {}",
            String::from_utf8_lossy(&bytes)
        );
        Ok(json_of(&bytes)["code"]
            .as_str()
            .context("an invitation code")?
            .to_owned())
    };
    let accept = async |writer: &mut Writer, code: &str| -> anyhow::Result<String> {
        let (status, bytes, _) = writer
            .send(
                Method::POST,
                "/invitations/accept",
                Some(json!({ "code": code }).to_string().into_bytes()),
                None,
            )
            .await?;
        ensure!(
            status == StatusCode::OK,
            "accept: {status} {}",
            String::from_utf8_lossy(&bytes)
        );
        Ok(json_of(&bytes)["credential"]
            .as_str()
            .context("a credential")?
            .to_owned())
    };
    let code_b = invite(writer, "B").await?;
    let credential_b = accept(writer, &code_b).await?;
    let mut watchers = Vec::with_capacity(spectators);
    if spectators > 0 {
        let code = invite(writer, "spectator").await?;
        for _ in 0..spectators {
            watchers.push(accept(writer, &code).await?);
        }
    }
    Ok((
        Seats {
            id,
            players: ByPlayer {
                a: credential_a.to_owned(),
                b: credential_b,
            },
            spectators: watchers,
        },
        mirror,
    ))
}

/// A session's mover: plays both seats, each with its own credential.
struct Mover {
    index: usize,
    mirror: Mirror,
    players: ByPlayer<String>,
    writer: Option<Writer>,
    /// The turn and seat of the action phase being played, and the actions
    /// taken in it.
    turn: (u32, PlayerId),
    acted: usize,
    /// Each recorded move: version, sent, answered.
    times: Vec<(u64, Instant, Instant)>,
}

impl Mover {
    /// The next move, applied to the mirror, and the seat that makes it.
    fn choose(&mut self) -> anyhow::Result<(Command, PlayerId)> {
        let state = self.mirror.game.state();
        let active = state.active;
        let action_phase = self.mirror.game.content().phases()[state.phase_index].action;
        if (state.turn, active) != self.turn {
            self.turn = (state.turn, active);
            self.acted = 0;
        }
        if action_phase && self.acted < ACTIONS_PER_TURN {
            let (action, params) = match self.acted % 3 {
                0 => ("expand", Params::new()),
                1 => (
                    "develop",
                    json!({"id": "farm"})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                ),
                _ => ("tax", Params::new()),
            };
            let command = Command::Action {
                action_id: action.into(),
                params,
                player_id: None,
            };
            self.acted += 1;
            if self.mirror.game.apply(&command).is_ok() {
                return Ok((command, active));
            }
            self.acted = ACTIONS_PER_TURN;
        }
        self.mirror
            .game
            .apply(&Command::Advance)
            .map_err(|e| anyhow::anyhow!("the mirror cannot advance: {e}"))?;
        Ok((Command::Advance, active))
    }

    /// Makes one move and checks the answer; records its times if asked.
    async fn step(&mut self, address: SocketAddr, record: bool) -> anyhow::Result<()> {
        if self.mirror.game.state().conclusion.is_some() {
            return Ok(());
        }
        let (command, seat) = self.choose()?;
        let id = &self.mirror.id;
        let (path, body) = match &command {
            Command::Advance => (format!("/sessions/{id}/advance"), None),
            Command::Action {
                action_id, params, ..
            } => (
                format!("/sessions/{id}/actions"),
                Some(serde_json::to_vec(
                    &json!({"actionId": action_id.as_str(), "params": params}),
                )?),
            ),
            _ => unreachable!("movers send advances and actions"),
        };
        if self.writer.is_none() {
            self.writer = Some(Writer::open(address).await?);
        }
        let writer = self.writer.as_mut().expect("opened");
        let credential = self.players.get(seat);
        let (status, bytes, sent) = writer
            .send(Method::POST, &path, body, Some(credential))
            .await?;
        let answered = Instant::now();
        self.mirror.version += 1;
        let ok = status == StatusCode::OK
            && parse_state(&bytes).is_some_and(|body| matches(&body, &self.mirror));
        if !ok {
            bail!(
                "{command:?} on {id} answered {status}, not the mirror's version {}: {}",
                self.mirror.version,
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
            );
        }
        if record {
            self.times.push((self.mirror.version, sent, answered));
        }
        Ok(())
    }
}

/// Runs every mover for `duration` at `rate` moves per second in all,
/// each at its own offset; returns them with their times.
async fn move_for(
    movers: Vec<Mover>,
    address: SocketAddr,
    rate: f64,
    duration: Duration,
    seed: u64,
    record: bool,
) -> anyhow::Result<Vec<Mover>> {
    let count = movers.len().max(1);
    let period = Duration::from_secs_f64(count as f64 / rate.max(0.001));
    let start = tokio::time::Instant::now() + Duration::from_millis(10);
    let deadline = start + duration;
    let mut tasks = Vec::with_capacity(movers.len());
    for mut mover in movers {
        // Spread the movers over one period (a fixed hash of seed and
        // index, so runs are alike).
        let mut z = seed ^ (mover.index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z ^= z >> 31;
        let offset = period.mul_f64((z % 1_000_000) as f64 / 1_000_000.0);
        mover.writer = None;
        tasks.push(tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(start + offset, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                let tick = ticks.tick().await;
                if tick >= deadline {
                    break;
                }
                mover.step(address, record).await?;
            }
            anyhow::Ok(mover)
        }));
    }
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await??);
    }
    Ok(out)
}

// ----- subscribers -------------------------------------------------------------------

/// One stream's state, shared with the controller.
struct Subscriber {
    session: usize,
    player: bool,
    credential: String,
    /// The last event id received (the session's version at the start).
    last: AtomicU64,
    events: AtomicU64,
    bytes: AtomicU64,
    gaps: AtomicU64,
    repeats: AtomicU64,
    bad: AtomicU64,
    drops: AtomicU64,
    refused: AtomicU64,
    /// Microseconds from the reconnection to catching up (`u64::MAX`: not
    /// yet).
    caught_up_us: AtomicU64,
    /// Event ids and receipt times of the measured phase.
    receipts: Mutex<Vec<(u64, Instant)>>,
}

/// Whether the server is up, and whether the run is over.
#[derive(Clone, Copy, Debug)]
struct Phase {
    generation: u64,
    up: bool,
    stop: bool,
}

/// What every subscriber shares.
struct Control {
    address: SocketAddr,
    session_ids: Vec<String>,
    base: Instant,
    measuring: AtomicBool,
    catching_up: AtomicBool,
    /// Microseconds after `base` when the streams began to reconnect.
    reconnect_from_us: AtomicU64,
    /// Per session, the version to catch up to.
    targets: Vec<AtomicU64>,
    caught: AtomicUsize,
    connected: AtomicUsize,
    connect_gate: Semaphore,
}

impl Control {
    fn check_caught_up(&self, me: &Subscriber, now: Instant) {
        if !self.catching_up.load(Ordering::Acquire)
            || me.caught_up_us.load(Ordering::Relaxed) != u64::MAX
            || me.last.load(Ordering::Relaxed) < self.targets[me.session].load(Ordering::Relaxed)
        {
            return;
        }
        let from = self.reconnect_from_us.load(Ordering::Relaxed);
        let at = u64::try_from(now.duration_since(self.base).as_micros()).unwrap_or(u64::MAX);
        me.caught_up_us
            .store(at.saturating_sub(from), Ordering::Relaxed);
        self.caught.fetch_add(1, Ordering::AcqRel);
    }
}

/// A stream's body and its connection (boxed: the connection is large).
type OpenStream = Box<(
    hyper::body::Incoming,
    hyper::client::conn::http1::Connection<TokioIo<TcpStream>, Empty<Bytes>>,
)>;

enum Opened {
    Stream(OpenStream),
    Refused,
}

async fn open_stream(
    address: SocketAddr,
    session_id: &str,
    credential: &str,
    last: u64,
) -> anyhow::Result<Opened> {
    let stream = TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let (mut sender, mut connection) =
        hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream)).await?;
    let request = Request::builder()
        .method(Method::GET)
        .uri(format!("/sessions/{session_id}/events"))
        .header("host", "localhost")
        .header("accept", "text/event-stream")
        .header("authorization", format!("Bearer {credential}"))
        .header("last-event-id", last.to_string())
        .body(Empty::new())?;
    let response = {
        let answer = sender.send_request(request);
        tokio::pin!(answer);
        tokio::select! {
            response = &mut answer => response?,
            done = &mut connection => {
                done?;
                bail!("the connection closed before the answer");
            }
        }
    };
    if response.status() != StatusCode::OK {
        return Ok(Opened::Refused);
    }
    Ok(Opened::Stream(Box::new((response.into_body(), connection))))
}

/// A subscriber's task: holds its stream open, reconnecting with
/// `Last-Event-ID` when the server comes back, until the run stops.
async fn subscribe(control: Arc<Control>, me: Arc<Subscriber>, mut phase: watch::Receiver<Phase>) {
    let session_id = control.session_ids[me.session].clone();
    loop {
        let now = match phase.wait_for(|p| p.up || p.stop).await {
            Ok(now) => *now,
            Err(_) => return,
        };
        if now.stop {
            return;
        }
        let opened = {
            let _slot = control.connect_gate.acquire().await;
            open_stream(
                control.address,
                &session_id,
                &me.credential,
                me.last.load(Ordering::Relaxed),
            )
            .await
        };
        let (mut body, mut connection) = match opened {
            Ok(Opened::Stream(opened)) => *opened,
            Ok(Opened::Refused) | Err(_) => {
                let later = *phase.borrow();
                if later.up && later.generation == now.generation {
                    me.refused.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        control.connected.fetch_add(1, Ordering::AcqRel);
        control.check_caught_up(&me, Instant::now());
        let mut buffer = BytesMut::new();
        let mut closed = false;
        loop {
            tokio::select! {
                frame = body.frame() => match frame {
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            buffer.extend_from_slice(&data);
                            read_events(&control, &me, &mut buffer, Instant::now());
                        }
                    }
                    _ => break,
                },
                _ = &mut connection, if !closed => closed = true,
                changed = phase.changed() => {
                    if changed.is_err() || phase.borrow().stop {
                        break;
                    }
                }
            }
        }
        control.connected.fetch_sub(1, Ordering::AcqRel);
        let later = *phase.borrow();
        if later.stop {
            return;
        }
        if later.up && later.generation == now.generation {
            me.drops.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Reads the complete events in `buffer`, checking their order.
fn read_events(control: &Control, me: &Subscriber, buffer: &mut BytesMut, now: Instant) {
    while let Some(end) = buffer.windows(2).position(|w| w == b"\n\n") {
        let block = buffer.split_to(end + 2);
        let mut id = None;
        let mut data: &[u8] = &[];
        let mut name: &[u8] = b"";
        for line in block[..].split(|b| *b == b'\n') {
            if let Some(rest) = line.strip_prefix(b"id:") {
                id = std::str::from_utf8(rest)
                    .ok()
                    .and_then(|t| t.trim().parse::<u64>().ok());
            } else if let Some(rest) = line.strip_prefix(b"data:") {
                data = rest.strip_prefix(b" ").unwrap_or(rest);
            } else if let Some(rest) = line.strip_prefix(b"event:") {
                name = rest.strip_prefix(b" ").unwrap_or(rest);
            }
        }
        if name == b"end" {
            // No session here ends: an `end` is wrong.
            me.bad.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let Some(id) = id else {
            // A heartbeat.
            continue;
        };
        me.bytes.fetch_add(block.len() as u64, Ordering::Relaxed);
        let last = me.last.load(Ordering::Relaxed);
        if id <= last {
            me.repeats.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        if id != last + 1 {
            me.gaps.fetch_add(1, Ordering::Relaxed);
        }
        let prefix = format!("{{\"version\":{id},");
        if !data.starts_with(prefix.as_bytes()) {
            me.bad.fetch_add(1, Ordering::Relaxed);
        }
        me.last.store(id, Ordering::Relaxed);
        me.events.fetch_add(1, Ordering::Relaxed);
        if control.measuring.load(Ordering::Relaxed) {
            me.receipts.lock().expect("receipts").push((id, now));
        }
        control.check_caught_up(me, now);
    }
}

// ----- the run -------------------------------------------------------------------------

/// Waits until `done` holds, checking every few milliseconds; `false`
/// after [`PATIENCE`].
async fn wait_until(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    true
}

fn all_reached(subscribers: &[Arc<Subscriber>], movers: &[Mover]) -> bool {
    subscribers
        .iter()
        .all(|s| s.last.load(Ordering::Relaxed) >= movers[s.session].mirror.version)
}

/// Runs `kingdom bench live` once; `progress` hears what it is doing.
pub async fn run(
    target: Target,
    options: &LiveOptions,
    progress: &dyn Fn(&str),
) -> anyhow::Result<LiveReport> {
    let (mut launched, address, pid) = match target {
        Target::Launch(server_options) => {
            let server = ServerProcess::start(&server_options).await?;
            let (address, pid) = (server.address, Some(server.pid()));
            (Some((server, server_options)), address, pid)
        }
        Target::Running { address, pid } => (None, address, pid),
    };
    let rss = |pid: Option<u32>| pid.and_then(|pid| memory_of(pid).ok()).map(|m| m.rss);

    // Sessions, seats and invitations.
    let config = actions_config();
    let parsed: GameConfig = serde_json::from_value(config.clone())?;
    let engine = ContentPack::default_pack()
        .session(Some(&parsed))
        .context("the actions config")?
        .content()
        .clone();
    let create_body = serde_json::to_vec(&json!({"aiPlayers": [], "config": config, "seat": "A"}))?;
    progress(&format!(
        "setting up {} sessions, {} spectators each",
        options.sessions, options.spectators
    ));
    let setup_started = Instant::now();
    let workers = options.sessions.clamp(1, 32);
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let (engine, body, spectators) = (engine.clone(), create_body.clone(), options.spectators);
        let indices: Vec<usize> = (worker..options.sessions).step_by(workers).collect();
        tasks.push(tokio::spawn(async move {
            let mut writer = Writer::open(address).await?;
            let mut made = Vec::with_capacity(indices.len());
            for index in indices {
                made.push((
                    index,
                    set_up(&mut writer, &engine, &body, spectators).await?,
                ));
            }
            anyhow::Ok(made)
        }));
    }
    let mut made = Vec::with_capacity(options.sessions);
    for task in tasks {
        made.extend(task.await??);
    }
    made.sort_by_key(|(index, _)| *index);
    let setup_seconds = setup_started.elapsed().as_secs_f64();

    let mut subscribers = Vec::new();
    let mut movers = Vec::with_capacity(made.len());
    let mut session_ids = Vec::with_capacity(made.len());
    for (index, (seats, mirror)) in made {
        let stream = |credential: &str, player: bool| {
            Arc::new(Subscriber {
                session: index,
                player,
                credential: credential.to_owned(),
                last: AtomicU64::new(mirror.version),
                events: AtomicU64::new(0),
                bytes: AtomicU64::new(0),
                gaps: AtomicU64::new(0),
                repeats: AtomicU64::new(0),
                bad: AtomicU64::new(0),
                drops: AtomicU64::new(0),
                refused: AtomicU64::new(0),
                caught_up_us: AtomicU64::new(u64::MAX),
                receipts: Mutex::new(Vec::new()),
            })
        };
        subscribers.push(stream(&seats.players.a, true));
        subscribers.push(stream(&seats.players.b, true));
        for spectator in &seats.spectators {
            subscribers.push(stream(spectator, false));
        }
        session_ids.push(seats.id);
        movers.push(Mover {
            index,
            mirror,
            players: seats.players,
            writer: None,
            turn: (0, PlayerId::A),
            acted: 0,
            times: Vec::new(),
        });
    }
    tokio::time::sleep(options.settle).await;
    let rss_no_streams = rss(pid);

    // Every stream opens.
    let streams = subscribers.len();
    progress(&format!("opening {streams} streams"));
    let control = Arc::new(Control {
        address,
        targets: session_ids.iter().map(|_| AtomicU64::new(0)).collect(),
        session_ids,
        base: Instant::now(),
        measuring: AtomicBool::new(false),
        catching_up: AtomicBool::new(false),
        reconnect_from_us: AtomicU64::new(0),
        caught: AtomicUsize::new(0),
        connected: AtomicUsize::new(0),
        connect_gate: Semaphore::new(options.connect_concurrency.max(1)),
    });
    let (phase, phase_rx) = watch::channel(Phase {
        generation: 1,
        up: true,
        stop: false,
    });
    let open_started = Instant::now();
    let mut stream_tasks = Vec::with_capacity(streams);
    for subscriber in &subscribers {
        stream_tasks.push(tokio::spawn(subscribe(
            control.clone(),
            subscriber.clone(),
            phase_rx.clone(),
        )));
    }
    let opened = wait_until(|| control.connected.load(Ordering::Acquire) == streams).await;
    ensure!(
        opened,
        "only {} of {streams} streams opened",
        control.connected.load(Ordering::Acquire)
    );
    let open_seconds = open_started.elapsed().as_secs_f64();
    tokio::time::sleep(options.settle).await;
    let rss_streams_open = rss(pid);
    // What an idle connection costs, for comparison (opened after the
    // streams, so nothing freed before is reused; closed before the moves).
    let rss_idle = match pid {
        Some(_) => {
            let mut idle = Vec::with_capacity(IDLE_CONNECTIONS);
            for _ in 0..IDLE_CONNECTIONS {
                let mut writer = Writer::open(address).await?;
                let (status, _, _) = writer.send(Method::GET, "/healthz", None, None).await?;
                ensure!(status.is_success(), "healthz: {status}");
                idle.push(writer);
            }
            tokio::time::sleep(options.settle).await;
            let with_idle = rss(pid);
            drop(idle);
            with_idle
        }
        None => None,
    };

    // The measured phase.
    progress(&format!(
        "moving at {} moves/s for {:.0} s",
        options.rate,
        options.duration.as_secs_f64()
    ));
    let cpu = |pid: Option<u32>| pid.and_then(|pid| cpu_time(pid).ok());
    let (server_cpu_before, bench_cpu_before) = (cpu(pid), cpu(Some(std::process::id())));
    control.measuring.store(true, Ordering::Release);
    let moves_started = Instant::now();
    let mut movers = move_for(
        movers,
        address,
        options.rate,
        options.duration,
        options.seed,
        true,
    )
    .await?;
    let measured_seconds = moves_started.elapsed().as_secs_f64();
    let all_delivered = wait_until(|| all_reached(&subscribers, &movers)).await;
    control.measuring.store(false, Ordering::Release);
    let server_cpu_seconds = cpu(pid)
        .zip(server_cpu_before)
        .map(|(after, before)| after.saturating_sub(before).as_secs_f64());
    let bench_cpu_seconds = cpu(Some(std::process::id()))
        .zip(bench_cpu_before)
        .map_or(0.0, |(after, before)| {
            after.saturating_sub(before).as_secs_f64()
        });
    let rss_after_moves = rss(pid);

    // What the measured phase delivered, and how fast.
    let mut sent: Vec<HashMap<u64, (Instant, Instant)>> = movers
        .iter()
        .map(|m| {
            m.times
                .iter()
                .map(|&(version, sent, answered)| (version, (sent, answered)))
                .collect()
        })
        .collect();
    let moves: u64 = sent.iter().map(|m| m.len() as u64).sum();
    let write = percentiles(
        movers
            .iter()
            .flat_map(|m| m.times.iter())
            .map(|&(_, sent, answered)| micros(answered.duration_since(sent)))
            .collect(),
    );
    let (mut from_send, mut players, mut spectators, mut from_ack) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut last_receipt = moves_started;
    for subscriber in &subscribers {
        let receipts = std::mem::take(&mut *subscriber.receipts.lock().expect("receipts"));
        for (version, at) in receipts {
            let Some(&(sent_at, answered)) = sent[subscriber.session].get(&version) else {
                continue;
            };
            last_receipt = last_receipt.max(at);
            let latency = micros(at.duration_since(sent_at));
            from_send.push(latency);
            if subscriber.player {
                players.push(latency);
            } else {
                spectators.push(latency);
            }
            from_ack.push(if at >= answered {
                micros(at.duration_since(answered))
            } else {
                -micros(answered.duration_since(at))
            });
        }
    }
    for mover in &mut movers {
        mover.times.clear();
    }
    sent.clear();
    let events_delivered = from_send.len() as u64;
    let delivered_bytes: u64 = subscribers
        .iter()
        .map(|s| s.bytes.load(Ordering::Relaxed))
        .sum();
    let delivered_events: u64 = subscribers
        .iter()
        .map(|s| s.events.load(Ordering::Relaxed))
        .sum();
    let window = last_receipt.duration_since(moves_started).as_secs_f64();

    // The restart.
    let restart = match (options.restart, launched.take()) {
        (Restart::None, server) | (_, server @ None) => {
            launched = server;
            None
        }
        (mode, Some((server, server_options))) => {
            progress(&format!("restarting the server ({mode:?})"));
            phase.send_modify(|p| p.up = false);
            let stopped = Instant::now();
            match mode {
                Restart::Kill => server.kill()?,
                _ => server.stop()?,
            }
            let again = ServerProcess::start(&ServerOptions {
                port: Some(address.port()),
                ..server_options.clone()
            })
            .await?;
            let down_seconds = stopped.elapsed().as_secs_f64();
            launched = Some((again, server_options));
            // Moves the streams miss: made before any reconnects.
            let mut tasks = Vec::with_capacity(movers.len());
            for mut mover in movers {
                let missed = options.missed;
                mover.writer = None;
                tasks.push(tokio::spawn(async move {
                    for _ in 0..missed {
                        mover.step(address, false).await?;
                    }
                    anyhow::Ok(mover)
                }));
            }
            movers = Vec::with_capacity(tasks.len());
            for task in tasks {
                movers.push(task.await??);
            }
            let mut events_to_catch_up = 0;
            for (target, mover) in control.targets.iter().zip(&movers) {
                target.store(mover.mirror.version, Ordering::Relaxed);
            }
            for subscriber in &subscribers {
                events_to_catch_up += movers[subscriber.session]
                    .mirror
                    .version
                    .saturating_sub(subscriber.last.load(Ordering::Relaxed));
            }
            ensure!(
                wait_until(|| control.connected.load(Ordering::Acquire) == 0).await,
                "streams stayed open after the server stopped"
            );
            progress(&format!(
                "{streams} streams reconnect and catch up on {events_to_catch_up} events"
            ));
            let from = micros(control.base.elapsed());
            control
                .reconnect_from_us
                .store(u64::try_from(from).unwrap_or(0), Ordering::Relaxed);
            control.catching_up.store(true, Ordering::Release);
            phase.send_modify(|p| {
                p.up = true;
                p.generation += 1;
            });
            let all_caught_up =
                wait_until(|| control.caught.load(Ordering::Acquire) == streams).await;
            control.catching_up.store(false, Ordering::Release);
            let mut caught: Vec<i64> = subscribers
                .iter()
                .map(|s| s.caught_up_us.load(Ordering::Relaxed))
                .filter(|&us| us != u64::MAX)
                .map(|us| i64::try_from(us).unwrap_or(i64::MAX))
                .collect();
            caught.sort_unstable();
            let catch_up_seconds = caught.last().copied().unwrap_or(0) as f64 / 1e6;
            let catch_up_p50_seconds =
                caught.get(caught.len() / 2).copied().unwrap_or(0) as f64 / 1e6;
            // Live again: a second of moves, every one delivered.
            movers = move_for(
                movers,
                address,
                options.rate,
                Duration::from_secs(1),
                options.seed ^ 1,
                false,
            )
            .await?;
            let live_after = wait_until(|| all_reached(&subscribers, &movers)).await;
            Some(RestartReport {
                mode,
                down_seconds,
                missed_moves: (options.missed * movers.len()) as u64,
                events_to_catch_up,
                catch_up_seconds,
                catch_up_p50_seconds,
                all_caught_up,
                live_after,
            })
        }
    };

    // The end.
    phase.send_modify(|p| p.stop = true);
    for task in stream_tasks {
        let _ = task.await;
    }
    let sum = |f: fn(&Subscriber) -> &AtomicU64| -> u64 {
        subscribers
            .iter()
            .map(|s| f(s).load(Ordering::Relaxed))
            .sum()
    };
    let report = LiveReport {
        sessions: options.sessions,
        spectators: options.spectators,
        streams,
        setup_seconds,
        open_seconds,
        memory: match (rss_no_streams, rss_streams_open, rss_after_moves, rss_idle) {
            (Some(none), Some(open), Some(after), Some(idle)) => Some(MemoryReport {
                rss_no_streams: none,
                rss_streams_open: open,
                bytes_per_stream: open.saturating_sub(none) as f64 / streams.max(1) as f64,
                bytes_per_idle_connection: idle.saturating_sub(open) as f64
                    / IDLE_CONNECTIONS as f64,
                rss_after_moves: after,
            }),
            _ => None,
        },
        target_moves_per_second: options.rate,
        moves,
        measured_seconds,
        moves_per_second: moves as f64 / measured_seconds.max(1e-9),
        write,
        events_delivered,
        events_per_second: events_delivered as f64 / window.max(1e-9),
        event_bytes_mean: delivered_bytes.checked_div(delivered_events).unwrap_or(0),
        server_cpu_seconds,
        server_cpu_per_event_us: server_cpu_seconds
            .map(|seconds| seconds * 1e6 / events_delivered.max(1) as f64),
        bench_cpu_seconds,
        latency_from_send: percentiles(from_send),
        latency_from_send_players: percentiles(players),
        latency_from_send_spectators: percentiles(spectators),
        latency_from_ack: percentiles(from_ack),
        all_delivered,
        gaps: sum(|s| &s.gaps),
        repeats: sum(|s| &s.repeats),
        bad_events: sum(|s| &s.bad),
        unexpected_drops: sum(|s| &s.drops),
        refused: sum(|s| &s.refused),
        restart,
    };
    if let Some((server, _)) = launched {
        server.stop()?;
    }
    Ok(report)
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}
