//! The HTTP load generator: concurrent clients playing real, legal games
//! against a server, checking every response.
//!
//! Each client owns a connection and a share of the sessions, and mirrors
//! each of its sessions with a local engine (the engine is deterministic,
//! so the mirror is what the server must hold). It picks legal moves from
//! the mirror, sends them, applies them to the mirror, and checks that the
//! server's answer (status, version, turn, phase, active player, every
//! player's resources) matches. Any difference counts as an error.
//!
//! The `ai` scenario runs `hard` AI turns beside snapshot reads, to show
//! that a thinking AI does not stall other requests. Its AI clients cannot
//! mirror the AI's search without doing the server's work a second time on
//! the same machine, so after each AI turn they read the move the server
//! logged (`GET /sessions/:id/log?after=V`), play it on the mirror, and
//! check the AI turn's answer against that.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hyper::{Method, StatusCode};
use kb_content::{ContentPack, SessionContent};
use kb_engine::content::Params;
use kb_engine::{Command, Content, Game, GameOptions, PlayerId};
use kb_protocol::schema::{GameConfig, StartConfig};
use serde::Deserialize;
use serde_json::json;

use crate::client::Connection;
use crate::stats::Recorder;

/// What the clients do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Whole games: actions, advances, AI turns, snapshots (one in five
    /// requests reads a snapshot).
    Play,
    /// Actions only, in sessions whose players have ample AP and gold (so
    /// the action phase never ends): measures the action route.
    Actions,
    /// Snapshot reads of sessions in play.
    Snapshots,
    /// Session creation.
    Creates,
    /// Snapshot reads (as [`Scenario::Snapshots`]) while other clients
    /// play `hard` AI sessions: seat A advances through its turn, seat B
    /// plays whole turns by `ai-turn`.
    Ai,
}

impl std::str::FromStr for Scenario {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "play" => Ok(Scenario::Play),
            "actions" => Ok(Scenario::Actions),
            "snapshots" => Ok(Scenario::Snapshots),
            "creates" => Ok(Scenario::Creates),
            "ai" => Ok(Scenario::Ai),
            other => Err(format!(
                "unknown scenario {other:?} (play, actions, snapshots, creates, ai)"
            )),
        }
    }
}

/// A load run.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// The server.
    pub address: SocketAddr,
    /// Bearer token.
    pub token: String,
    /// Sessions in play (created before the measured phase).
    pub sessions: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// Length of the measured phase.
    pub duration: Duration,
    /// Seed of the move choices.
    pub seed: u64,
    /// What to do.
    pub scenario: Scenario,
    /// Clients playing `hard` AI sessions beside the others
    /// ([`Scenario::Ai`] only).
    pub ai_clients: usize,
}

/// The creation body of an AI client's sessions.
const HARD_SESSION: &[u8] = br#"{"aiLevel":"hard"}"#;

/// What a run measured.
#[derive(Debug)]
pub struct LoadResult {
    /// Session creation (before the measured phase, or the measured phase
    /// itself for [`Scenario::Creates`]).
    pub setup: Recorder,
    /// How long setup took.
    pub setup_elapsed: Duration,
    /// The measured phase.
    pub measured: Recorder,
    /// Its length.
    pub elapsed: Duration,
}

/// A small deterministic PRNG (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A session and its mirror.
pub(crate) struct Mirror {
    pub(crate) id: String,
    pub(crate) game: Game,
    pub(crate) version: u64,
}

// ----- response shapes (only what is checked) ---------------------------------

/// The checked part of a session-state answer: its version and the game.
///
/// Answers carry ~15-25 KB of static registries and metadata; the client
/// reads the `version` field and deserializes only the `game` object (which
/// starts the snapshot), so checking every answer stays cheap next to the
/// server's work.
pub(crate) struct StateBody {
    pub(crate) session_id: Option<String>,
    pub(crate) version: u64,
    game: GameBody,
}

/// Finds `"key":` at the top level of the object at the start of `bytes`
/// (keys this server writes in a fixed order before any nested object
/// holding the same key), returning the offset of its value.
pub(crate) fn value_offset(bytes: &[u8], key: &str) -> Option<usize> {
    let needle = format!("\"{key}\":");
    bytes
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .map(|p| p + needle.len())
}

pub(crate) fn parse_state(bytes: &[u8]) -> Option<StateBody> {
    let version_at = value_offset(bytes, "version")?;
    let digits = bytes[version_at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let version = std::str::from_utf8(&bytes[version_at..version_at + digits])
        .ok()?
        .parse()
        .ok()?;
    let session_id = value_offset(bytes, "sessionId").and_then(|at| {
        let mut de = serde_json::Deserializer::from_slice(&bytes[at..]);
        String::deserialize(&mut de).ok()
    });
    let game_at = value_offset(bytes, "game")?;
    let mut de = serde_json::Deserializer::from_slice(&bytes[game_at..]);
    let game = GameBody::deserialize(&mut de).ok()?;
    Some(StateBody {
        session_id,
        version,
        game,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GameBody {
    turn: u32,
    current_phase: String,
    active_player_id: String,
    players: Vec<PlayerBody>,
}

#[derive(Deserialize)]
struct PlayerBody {
    resources: BTreeMap<String, f64>,
}

/// Whether a response's state is the mirror's.
pub(crate) fn matches(body: &StateBody, mirror: &Mirror) -> bool {
    let state = mirror.game.state();
    let phase = &mirror.game.content().phases()[state.phase_index];
    body.version == mirror.version
        && body.game.turn == state.turn
        && body.game.current_phase == phase.id
        && body.game.active_player_id == state.active.as_str()
        && body.game.players.len() == 2
        && PlayerId::ALL
            .iter()
            .zip(&body.game.players)
            .all(|(&p, wire)| {
                let resources = &state.players.get(p).resources;
                resources.len() == wire.resources.len()
                    && resources
                        .iter()
                        .all(|(k, v)| wire.resources.get(k.as_str()) == Some(&v.0))
            })
}

// ----- content of each scenario ------------------------------------------------------

/// The config of [`Scenario::Actions`]: the default start with a billion AP
/// and gold for both players.
pub(crate) fn actions_config() -> serde_json::Value {
    let def = ContentPack::default_pack().def();
    let mut start = serde_json::to_value(StartConfig::from(&def.start)).expect("plain data");
    start["player"]["resources"]["ap"] = json!(1_000_000_000);
    start["player"]["resources"]["gold"] = json!(1_000_000_000);
    json!({ "start": start })
}

fn content_for(scenario: Scenario) -> anyhow::Result<(Arc<SessionContent>, Vec<u8>)> {
    let pack = ContentPack::default_pack();
    if scenario == Scenario::Actions {
        let config_json = actions_config();
        let config: GameConfig = serde_json::from_value(config_json.clone())?;
        let content = pack.session(Some(&config)).context("actions config")?;
        Ok((
            content,
            serde_json::to_vec(&json!({ "config": config_json }))?,
        ))
    } else {
        Ok((pack.base_session().clone(), b"{}".to_vec()))
    }
}

// ----- the run ---------------------------------------------------------------------

/// Runs a load test.
pub async fn run(options: &LoadOptions) -> anyhow::Result<LoadResult> {
    let (content, create_body) = content_for(options.scenario)?;
    let engine = content.content().clone();
    let clients = options.clients.max(1);
    let per_client =
        |i: usize| options.sessions / clients + usize::from(i < options.sessions % clients);

    // Setup: each client creates its sessions.
    let setup_started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..clients {
        let (options, engine, body) = (options.clone(), engine.clone(), create_body.clone());
        let count = if options.scenario == Scenario::Creates {
            0
        } else {
            per_client(i)
        };
        tasks.push(tokio::spawn(async move {
            let mut connection = Connection::open(options.address, &options.token).await?;
            let mut recorder = Recorder::default();
            let mut mirrors = Vec::with_capacity(count);
            for _ in 0..count {
                mirrors.push(create(&mut connection, &mut recorder, &engine, &body).await?);
            }
            anyhow::Ok((connection, mirrors, recorder))
        }));
    }
    let mut setup = Recorder::default();
    let mut prepared = Vec::new();
    for task in tasks {
        let (connection, mirrors, recorder) = task.await??;
        setup.merge(recorder);
        prepared.push((connection, mirrors));
    }
    // The AI clients of the `ai` scenario, one hard session each to start.
    let mut ai_prepared = Vec::new();
    if options.scenario == Scenario::Ai {
        for _ in 0..options.ai_clients {
            let mut connection = Connection::open(options.address, &options.token).await?;
            let mirror = create(&mut connection, &mut setup, &engine, HARD_SESSION).await?;
            ai_prepared.push((connection, mirror));
        }
    }
    let setup_elapsed = setup_started.elapsed();

    // Scenario-specific preparation outside the measured phase.
    if matches!(
        options.scenario,
        Scenario::Actions | Scenario::Snapshots | Scenario::Ai
    ) {
        let mut tasks = Vec::new();
        for (mut connection, mut mirrors) in prepared {
            tasks.push(tokio::spawn(async move {
                let mut recorder = Recorder::default();
                for mirror in &mut mirrors {
                    for _ in 0..7 {
                        step(&mut connection, &mut recorder, mirror, Command::Advance).await?;
                    }
                }
                anyhow::Ok((connection, mirrors, recorder))
            }));
        }
        prepared = Vec::new();
        for task in tasks {
            let (connection, mirrors, recorder) = task.await??;
            setup.merge(recorder);
            prepared.push((connection, mirrors));
        }
    }

    // The measured phase.
    let started = Instant::now();
    let deadline = started + options.duration;
    let mut tasks = Vec::new();
    for (i, (connection, mirrors)) in prepared.into_iter().enumerate() {
        let (scenario, engine, body) = (options.scenario, engine.clone(), create_body.clone());
        let rng = Rng(options.seed ^ (0x5851_f42d_4c95_7f2d_u64.wrapping_mul(i as u64 + 1)));
        tasks.push(tokio::spawn(async move {
            client(scenario, connection, mirrors, rng, deadline, engine, body).await
        }));
    }
    for (connection, mirror) in ai_prepared {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            ai_client(connection, mirror, deadline, engine).await
        }));
    }
    let mut measured = Recorder::default();
    for task in tasks {
        measured.merge(task.await??);
    }
    Ok(LoadResult {
        setup,
        setup_elapsed,
        measured,
        elapsed: started.elapsed(),
    })
}

async fn client(
    scenario: Scenario,
    mut connection: Connection,
    mut mirrors: Vec<Mirror>,
    mut rng: Rng,
    deadline: Instant,
    engine: Arc<Content>,
    create_body: Vec<u8>,
) -> anyhow::Result<Recorder> {
    let mut recorder = Recorder::default();
    let mut turn = 0usize;
    let cycle = [
        ("expand", Params::new()),
        (
            "develop",
            json!({"id": "farm"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        ),
        ("tax", Params::new()),
    ];
    while Instant::now() < deadline {
        turn += 1;
        match scenario {
            Scenario::Creates => {
                create(&mut connection, &mut recorder, &engine, &create_body).await?;
            }
            Scenario::Snapshots | Scenario::Ai => {
                let index = rng.below(mirrors.len());
                snapshot(&mut connection, &mut recorder, &mirrors[index]).await?;
            }
            Scenario::Actions => {
                let index = rng.below(mirrors.len());
                // Each session cycles expand, develop (on the new land), tax.
                let (action, params) = &cycle[(mirrors[index].version % 3) as usize];
                let command = Command::Action {
                    action_id: (*action).into(),
                    params: params.clone(),
                    player_id: None,
                };
                step(&mut connection, &mut recorder, &mut mirrors[index], command).await?;
            }
            Scenario::Play => {
                let index = rng.below(mirrors.len());
                if turn.is_multiple_of(5) {
                    snapshot(&mut connection, &mut recorder, &mirrors[index]).await?;
                    continue;
                }
                let mirror = &mut mirrors[index];
                if mirror.game.state().conclusion.is_some() {
                    // A finished game is replaced by a new one.
                    *mirror = create(&mut connection, &mut recorder, &engine, &create_body).await?;
                    continue;
                }
                let command = choose(&mirror.game, &mut rng);
                step(&mut connection, &mut recorder, mirror, command).await?;
            }
        }
    }
    Ok(recorder)
}

/// An AI client of [`Scenario::Ai`]: plays `hard` sessions until the
/// deadline, seat A advancing through its turn and seat B by whole AI
/// turns, each checked against the mirror after the logged move is played
/// on it; a finished game is replaced by a new one.
async fn ai_client(
    mut connection: Connection,
    mut mirror: Mirror,
    deadline: Instant,
    engine: Arc<Content>,
) -> anyhow::Result<Recorder> {
    let mut recorder = Recorder::default();
    while Instant::now() < deadline {
        let state = mirror.game.state();
        if state.conclusion.is_some() {
            mirror = create(&mut connection, &mut recorder, &engine, HARD_SESSION).await?;
            continue;
        }
        if !*state.ai.get(state.active) {
            step(
                &mut connection,
                &mut recorder,
                &mut mirror,
                Command::Advance,
            )
            .await?;
            continue;
        }
        let seat = state.active;
        let path = format!("/sessions/{}/ai-turn", mirror.id);
        let body = serde_json::to_vec(&json!({"playerId": seat.as_str(), "mode": "turn"}))?;
        let started = Instant::now();
        let (status, bytes) = connection.send(Method::POST, &path, Some(body)).await?;
        let latency = started.elapsed();
        // The move the server logged for the turn.
        let log_path = format!("/sessions/{}/log?after={}", mirror.id, mirror.version);
        let log_started = Instant::now();
        let (log_status, log_bytes) = connection.send(Method::GET, &log_path, None).await?;
        let log_latency = log_started.elapsed();
        let logged = (log_status == StatusCode::OK)
            .then(|| logged_command(&log_bytes, mirror.version + 1))
            .flatten();
        recorder.record("log", log_latency, log_bytes.len(), logged.is_some());
        let applied = match logged {
            Some(command @ Command::AiMoves { player_id, .. }) if player_id == seat => {
                mirror.game.apply(&command).is_ok()
            }
            _ => false,
        };
        if applied {
            mirror.version += 1;
        }
        let ok = applied
            && status == StatusCode::OK
            && parse_state(&bytes).is_some_and(|body| matches(&body, &mirror));
        recorder.record("ai-turn", latency, bytes.len(), ok);
        if !ok {
            bail!(
                "the hard AI turn on {} was not one logged aiMoves entry the mirror accepts",
                mirror.id
            );
        }
    }
    Ok(recorder)
}

/// The command of a log page that holds exactly the entry `version`.
fn logged_command(page: &[u8], version: u64) -> Option<Command> {
    #[derive(Deserialize)]
    struct Page {
        entries: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        version: u64,
        entry: serde_json::Value,
    }
    let page: Page = serde_json::from_slice(page).ok()?;
    match <[Entry; 1]>::try_from(page.entries) {
        Ok([entry]) if entry.version == version => {
            kb_session::stored::decode_command(entry.entry).ok()
        }
        _ => None,
    }
}

/// A legal next command for the mirror's game.
fn choose(game: &Game, rng: &mut Rng) -> Command {
    let state = game.state();
    let active = state.active;
    if *state.ai.get(active) {
        return Command::AiTurn { player_id: active };
    }
    let phase = &game.content().phases()[state.phase_index];
    let ap = game.content().action_cost_resource();
    if phase.action && state.players.get(active).resources.value(ap) > 0.0 {
        let candidates = game.candidate_moves();
        if !candidates.is_empty() {
            let start = rng.below(candidates.len());
            for offset in 0..4 {
                let candidate = &candidates[(start + offset) % candidates.len()];
                if game
                    .clone()
                    .perform(&candidate.action_id, &candidate.params)
                    .is_ok()
                {
                    return Command::Action {
                        action_id: candidate.action_id.clone(),
                        params: candidate.params.clone(),
                        player_id: None,
                    };
                }
            }
        }
    }
    Command::Advance
}

async fn create(
    connection: &mut Connection,
    recorder: &mut Recorder,
    engine: &Arc<Content>,
    body: &[u8],
) -> anyhow::Result<Mirror> {
    let started = Instant::now();
    let (status, bytes) = connection
        .send(Method::POST, "/sessions", Some(body.to_vec()))
        .await?;
    let latency = started.elapsed();
    let parsed = parse_state(&bytes);
    let game = Game::new(engine.clone(), GameOptions::default())?;
    let Some(parsed) = parsed.filter(|_| status == StatusCode::CREATED) else {
        recorder.record("create", latency, bytes.len(), false);
        bail!(
            "create failed: {status} {}",
            String::from_utf8_lossy(&bytes)
        );
    };
    let mirror = Mirror {
        id: parsed.session_id.clone().unwrap_or_default(),
        game,
        version: 1,
    };
    recorder.record("create", latency, bytes.len(), matches(&parsed, &mirror));
    Ok(mirror)
}

async fn snapshot(
    connection: &mut Connection,
    recorder: &mut Recorder,
    mirror: &Mirror,
) -> anyhow::Result<()> {
    let path = format!("/sessions/{}/snapshot", mirror.id);
    let started = Instant::now();
    let (status, bytes) = connection.send(Method::GET, &path, None).await?;
    let latency = started.elapsed();
    let ok =
        status == StatusCode::OK && parse_state(&bytes).is_some_and(|body| matches(&body, mirror));
    recorder.record("snapshot", latency, bytes.len(), ok);
    Ok(())
}

/// Sends a command, applies it to the mirror and checks the answer.
async fn step(
    connection: &mut Connection,
    recorder: &mut Recorder,
    mirror: &mut Mirror,
    command: Command,
) -> anyhow::Result<()> {
    let (route, path, body) = match &command {
        Command::Advance => ("advance", format!("/sessions/{}/advance", mirror.id), None),
        Command::Action {
            action_id, params, ..
        } => (
            "action",
            format!("/sessions/{}/actions", mirror.id),
            Some(serde_json::to_vec(
                &json!({"actionId": action_id.as_str(), "params": params}),
            )?),
        ),
        Command::AiTurn { player_id } => (
            "ai-turn",
            format!("/sessions/{}/ai-turn", mirror.id),
            Some(serde_json::to_vec(
                &json!({"playerId": player_id.as_str(), "mode": "turn"}),
            )?),
        ),
        other => bail!("the load generator does not send {other:?}"),
    };
    let started = Instant::now();
    let (status, bytes) = connection.send(Method::POST, &path, body).await?;
    let latency = started.elapsed();
    let changed = match mirror.game.apply(&command) {
        Ok(kb_engine::Outcome::AiTurn(turn)) => turn.ran_turn,
        Ok(_) => true,
        Err(error) => bail!("the mirror refused {command:?}: {error}"),
    };
    if changed {
        mirror.version += 1;
    }
    let ok =
        status == StatusCode::OK && parse_state(&bytes).is_some_and(|body| matches(&body, mirror));
    recorder.record(route, latency, bytes.len(), ok);
    Ok(())
}
