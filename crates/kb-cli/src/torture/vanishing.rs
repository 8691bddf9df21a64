//! Vanishing clients: many connections that send a write and reset the
//! connection (`SO_LINGER` 0) at a random point (before the body is
//! complete, as soon as it is sent, a moment later while it is queued or
//! committing, or once the answer starts), mixed with polite writers of the
//! same sessions, whose every request must succeed.
//!
//! Then: the server still serves every session, at the version its store
//! holds (memory never behind or ahead of the store), and after a
//! graceful stop the store holds every acknowledged write once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use hyper::Method;
use kb_store::SessionStore;

use super::client::{Client, VanishPoint, raw_request, vanish};
use super::game::{Mutation, at_a_main, rich_session};
use super::ledger::{Ledger, Outcome};
use super::server::ServerSpec;
use super::verify::open_store;
use super::{FaultReport, Round};
use crate::rng::SplitMix64;

/// Runs one round.
pub fn run(round: &mut Round<'_>) -> anyhow::Result<FaultReport> {
    let mut report = FaultReport::new("vanishing-clients", "connections reset mid-request");
    let db = round.dir.join("sessions.db");
    let spec = ServerSpec::new(
        round.exe,
        db.to_string_lossy(),
        round.dir.join("server.log"),
    );
    let server = spec.start()?;
    let plan = Plan {
        sessions: round.size(4, 8),
        polite_per_session: round.size(2, 3),
        polite_requests: round.size(40, 150),
        vanishers: round.size(16, 32),
        resets_each: round.size(60, 250),
    };
    let seed = round.seed();
    let (ledger, resets, mut problems) =
        round
            .runtime
            .block_on(storm(server.address(), &plan, seed))?;
    report.injected = resets;
    report.acknowledged = ledger.acknowledged();
    let store = open_store(&db.to_string_lossy())?;
    problems.extend(round.runtime.block_on(memory_matches_store(
        server.address(),
        &ledger,
        store.as_ref(),
    )));
    drop(store);
    report.problems.extend(problems);
    report.conclude(server, &db.to_string_lossy(), &ledger)?;
    Ok(report)
}

/// How much of everything.
pub struct Plan {
    /// Sessions written.
    pub sessions: usize,
    /// Polite writers per session.
    pub polite_per_session: usize,
    /// Requests per polite writer.
    pub polite_requests: usize,
    /// Vanishing clients, each on random sessions.
    pub vanishers: usize,
    /// Requests per vanishing client.
    pub resets_each: usize,
}

/// Creates the sessions (A in its main phase with AP to spare), then lets
/// the polite and the vanishing clients loose on them. Returns what the
/// polite clients were told, the requests the vanishing ones sent in full
/// (as unanswered), the number of resets, and any refusal of a polite
/// request.
pub async fn storm(
    address: SocketAddr,
    plan: &Plan,
    seed: u64,
) -> anyhow::Result<(Ledger, u64, Vec<String>)> {
    let mut ledger = Ledger::default();
    let mut ids = Vec::new();
    let mut setup = Client::new(address);
    for _ in 0..plan.sessions {
        let (id, version) = rich_session_at_main(&mut setup).await?;
        ledger.created(&id, version, false);
        ids.push(id);
    }
    let ids = Arc::new(ids);
    let resets = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    let mut rng = SplitMix64::new(seed);
    for (index, id) in ids.iter().enumerate() {
        for writer in 0..plan.polite_per_session {
            let tag = format!("p{index}.{writer}");
            tasks.push(tokio::spawn(polite(
                address,
                id.clone(),
                tag,
                plan.polite_requests,
                rng.next_u64(),
            )));
        }
    }
    for vanisher in 0..plan.vanishers {
        tasks.push(tokio::spawn(vanishing(
            address,
            ids.clone(),
            format!("v{vanisher}"),
            plan.resets_each,
            rng.next_u64(),
            resets.clone(),
        )));
    }
    let mut problems = Vec::new();
    for task in tasks {
        let (theirs, refusals) = task.await.context("a client task failed")?;
        ledger.merge(theirs);
        problems.extend(refusals);
    }
    // A polite writer's sessions were created by the setup client.
    for session in ledger.sessions.values_mut() {
        session.single_writer = false;
    }
    Ok((ledger, resets.load(Ordering::Relaxed), problems))
}

/// Creates `count` rich sessions at A's main phase on the server at
/// `address`, each recorded in `ledger`; their ids.
pub fn rich_sessions_at_main(
    runtime: &tokio::runtime::Runtime,
    address: SocketAddr,
    count: usize,
    ledger: &mut Ledger,
) -> anyhow::Result<Vec<String>> {
    runtime.block_on(async {
        let mut client = Client::new(address);
        let mut ids = Vec::new();
        for _ in 0..count {
            let (id, version) = rich_session_at_main(&mut client).await?;
            ledger.created(&id, version, true);
            ids.push(id);
        }
        Ok(ids)
    })
}

/// Creates a rich session and advances it to A's main phase.
pub async fn rich_session_at_main(client: &mut Client) -> anyhow::Result<(String, u64)> {
    let created = client
        .send(Method::POST, "/sessions", Some(&rich_session()))
        .await
        .map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        created.status == 201,
        "creating a session answered {}: {}",
        created.status,
        created.body
    );
    let id = created.body["sessionId"]
        .as_str()
        .context("a session id")?
        .to_owned();
    let mut state = created;
    while !at_a_main(&state.body) {
        state = Mutation::Advance
            .send(client, &id)
            .await
            .map_err(anyhow::Error::msg)?;
        anyhow::ensure!(state.status == 200, "advance answered {}", state.status);
    }
    Ok((id, state.version().context("a version")?))
}

/// A polite writer: one request at a time on its session, renames (tagged)
/// and taxes, every one of which must succeed.
async fn polite(
    address: SocketAddr,
    id: String,
    tag: String,
    requests: usize,
    seed: u64,
) -> (Ledger, Vec<String>) {
    let mut ledger = Ledger::default();
    ledger.created(&id, 0, false);
    let mut problems = Vec::new();
    let mut client = Client::new(address);
    let mut rng = SplitMix64::new(seed);
    for n in 0..requests {
        let mutation = if rng.below(2) == 0 {
            Mutation::Rename(format!("{tag}.{n}"))
        } else {
            Mutation::Tax
        };
        let answer = mutation.send(&mut client, &id).await;
        let (outcome, problem) = mutation.judge(&format!("{id}: a polite "), answer);
        problems.extend(problem);
        ledger.sent(&id, mutation, outcome);
    }
    (ledger, problems)
}

/// A vanishing client: writes to random sessions, each time resetting the
/// connection at a random point.
async fn vanishing(
    address: SocketAddr,
    ids: Arc<Vec<String>>,
    tag: String,
    requests: usize,
    seed: u64,
    resets: Arc<AtomicU64>,
) -> (Ledger, Vec<String>) {
    let mut ledger = Ledger::default();
    for id in ids.iter() {
        ledger.created(id, 0, false);
    }
    let mut rng = SplitMix64::new(seed);
    for n in 0..requests {
        let id = &ids[rng.below(ids.len())];
        let mutation = if rng.below(2) == 0 {
            Mutation::Rename(format!("{tag}.{n}"))
        } else {
            Mutation::Tax
        };
        let (method, path, body) = mutation.request(id);
        let raw = raw_request(method.as_str(), &path, body.as_ref());
        let point = VanishPoint::pick(rng.next_u64());
        match vanish(address, &raw, point).await {
            Ok(sent_all) => {
                resets.fetch_add(1, Ordering::Relaxed);
                let outcome = if sent_all {
                    Outcome::Unknown
                } else {
                    // An incomplete request can never run.
                    Outcome::Refused(0)
                };
                ledger.sent(id, mutation, outcome);
            }
            // The connection failed before the request was complete:
            // nothing was sent that could run. Back off a moment.
            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
    (ledger, Vec::new())
}

/// Waits until the sessions stop moving (the server finishes the writes
/// whose clients vanished), then checks that the server serves each at the
/// version its store holds, and at or past every acknowledged one.
pub async fn memory_matches_store(
    address: SocketAddr,
    ledger: &Ledger,
    store: &dyn SessionStore,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut client = Client::new(address);
    for (id, session) in &ledger.sessions {
        let newest_ack = session
            .sent
            .iter()
            .filter_map(|sent| match sent.outcome {
                Outcome::Acked(version) => Some(version),
                _ => None,
            })
            .max()
            .unwrap_or(session.base);
        let mut previous = None;
        let mut served = None;
        for _ in 0..200 {
            let reply = client
                .send(Method::GET, &format!("/sessions/{id}/snapshot"), None)
                .await;
            match reply {
                Ok(reply) if reply.status == 200 => {
                    let version = reply.version();
                    if version == previous {
                        served = version;
                        break;
                    }
                    previous = version;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(reply) => {
                    problems.push(format!(
                        "{id}: the server no longer serves it: {} {}",
                        reply.status, reply.body
                    ));
                    break;
                }
                Err(error) => {
                    problems.push(format!("{id}: a snapshot got no answer: {error}"));
                    break;
                }
            }
        }
        let Some(served) = served else { continue };
        if served < newest_ack {
            problems.push(format!(
                "{id}: served at version {served}, {newest_ack} was acknowledged"
            ));
        }
        match store.load_session(id) {
            Ok(Some(header)) if header.version != served => problems.push(format!(
                "{id}: the server holds version {served}, its store {}",
                header.version
            )),
            Ok(Some(_)) => {}
            Ok(None) => problems.push(format!("{id}: served, but not stored")),
            Err(error) => problems.push(format!("{id}: cannot read its header: {error}")),
        }
    }
    problems
}
