//! The durability promise, end to end: several clients play games over
//! HTTP against the real binary, the process is killed with SIGKILL in the
//! middle of their stream of mutations, and a new process on the same
//! database must hold every acknowledged mutation and exactly the state the
//! last acknowledged response showed.
//!
//! # What exactly is asserted
//!
//! Each session is driven by one client task, one request at a time, so
//! for each session there is an ordered list of acknowledged mutations
//! (2xx answers, each with its version and snapshot) and at most one
//! mutation in flight when the process died (sent, no answer). A mutation
//! is durable before it is answered, and a mutation in flight may or may
//! not have been committed. So for every session, after the restart:
//!
//! * it exists, and its version `r` is either the last acknowledged version
//!   `v` (then its snapshot equals, exactly, the last acknowledged
//!   response's snapshot), or `v + 1` when a mutation was in flight (its
//!   commit landed before the kill, its answer did not); nothing else;
//! * the restored game keeps playing: the clients go on from the restored
//!   states, and the process is killed again, [`CYCLES`] times; a mutation
//!   found committed after a kill joins the session's log;
//! * at the end, replaying each session's whole log on a fresh session
//!   answers, at each acknowledged step, the version and snapshot that
//!   were acknowledged for it, and ends in the restored state.
//!
//! Sessions created during the streams (by a fifth client, one per
//! [`CREATE_EVERY`] mutations): every acknowledged creation exists after
//! the restart with its acknowledged state, and the number of sessions is
//! the known ones plus at most the creations that were in flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hyper::Method;
use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore};

use crate::util::{Client, Launch, session_id, version};

/// Sessions played at once, one client task each.
const SESSIONS: usize = 4;
/// Acknowledged mutations (over all sessions) before each kill.
const KILL_AFTER: usize = 100;
/// One session is created for every this many acknowledged mutations.
const CREATE_EVERY: usize = 4;

/// A mutation a client sends.
#[derive(Clone, Debug, PartialEq)]
enum Mutation {
    Advance,
    Tax,
    AiTurn,
    DevMode(bool),
    Rename(String),
}

impl Mutation {
    fn request(&self, id: &str) -> (Method, String, Option<Value>) {
        let path = |suffix: &str| format!("/sessions/{id}/{suffix}");
        match self {
            Mutation::Advance => (Method::POST, path("advance"), None),
            Mutation::Tax => (
                Method::POST,
                path("actions"),
                Some(json!({"actionId": "tax"})),
            ),
            Mutation::AiTurn => (
                Method::POST,
                path("ai-turn"),
                Some(json!({"playerId": "B", "mode": "turn"})),
            ),
            Mutation::DevMode(enabled) => (
                Method::POST,
                path("dev-mode"),
                Some(json!({"enabled": enabled})),
            ),
            Mutation::Rename(name) => (
                Method::PATCH,
                path("player"),
                Some(json!({"playerId": "A", "playerName": name})),
            ),
        }
    }

    /// Sends it; `Ok` only for a 200.
    async fn send(&self, client: &Client, id: &str) -> Result<Value, String> {
        let (method, path, body) = self.request(id);
        match client.try_send(method, &path, body.as_ref()).await {
            Ok(reply) if reply.status == 200 => Ok(reply.body),
            Ok(reply) => panic!("{self:?} on {id} answered {}: {}", reply.status, reply.body),
            Err(error) => Err(error.to_string()),
        }
    }
}

/// What a client plays next, from the last state it was shown: A taxes
/// while it has AP in its main phase, B is played by the AI, and now and
/// then the flag or a name changes. `None` once the game is over.
fn next_mutation(state: &Value, step: usize) -> Option<Mutation> {
    let game = &state["snapshot"]["game"];
    if !game["conclusion"].is_null() {
        return None;
    }
    if step % 11 == 5 {
        return Some(Mutation::DevMode(game["devMode"] != true));
    }
    if step % 13 == 7 {
        return Some(Mutation::Rename(format!("Ruler {step}")));
    }
    if game["activePlayerId"] == "B" {
        return Some(Mutation::AiTurn);
    }
    let ap = game["players"][0]["resources"]["ap"]
        .as_f64()
        .unwrap_or(0.0);
    if game["currentPhase"] == "main" && ap > 0.0 {
        return Some(Mutation::Tax);
    }
    Some(Mutation::Advance)
}

/// A mutation in a session's log: acknowledged (with the snapshot its
/// answer showed), or in flight at a kill and found committed after it.
struct Entry {
    mutation: Mutation,
    version: u64,
    snapshot: Option<Value>,
}

/// One session's stream.
struct Run {
    create_body: Value,
    created: Value,
    log: Vec<Entry>,
    /// The state the client last saw (answered, or restored).
    last: Value,
    /// Sent and unanswered when the server died.
    in_flight: Option<Mutation>,
}

impl Run {
    fn id(&self) -> String {
        session_id(&self.created)
    }
}

/// Signals shared by the client tasks of one cycle.
struct Pace {
    /// Acknowledged mutations in this cycle.
    acked: AtomicUsize,
    /// Told when `acked` reaches [`KILL_AFTER`].
    kill: Notify,
    /// Lets the creator create one session per [`CREATE_EVERY`] mutations.
    creations: Semaphore,
}

/// Plays one session until the server stops answering.
async fn drive(client: Client, mut run: Run, pace: Arc<Pace>) -> Run {
    let id = run.id();
    for step in run.log.len().. {
        let Some(mutation) = next_mutation(&run.last, step) else {
            break;
        };
        match mutation.send(&client, &id).await {
            Ok(state) => {
                run.log.push(Entry {
                    mutation,
                    version: version(&state),
                    snapshot: Some(state["snapshot"].clone()),
                });
                run.last = state;
                let acked = pace.acked.fetch_add(1, Ordering::SeqCst) + 1;
                if acked.is_multiple_of(CREATE_EVERY) {
                    pace.creations.add_permits(1);
                }
                if acked == KILL_AFTER {
                    pace.kill.notify_one();
                }
            }
            Err(_) => {
                run.in_flight = Some(mutation);
                break;
            }
        }
    }
    run
}

/// Creates sessions, at the pace the drivers set, until the server stops
/// answering (or the drivers are done): the acknowledged states and
/// whether a creation was in flight.
async fn keep_creating(client: Client, cycle: usize, pace: Arc<Pace>) -> (Vec<Value>, bool) {
    let mut created = Vec::new();
    for n in 0.. {
        match pace.creations.acquire().await {
            Ok(permit) => permit.forget(),
            Err(_closed) => return (created, false),
        }
        let body = json!({"playerNames": {"B": format!("Rival {cycle}.{n}")}});
        match client
            .try_send(Method::POST, "/sessions", Some(&body))
            .await
        {
            Ok(reply) => {
                assert_eq!(reply.status, 201, "{}", reply.body);
                created.push(reply.body);
            }
            Err(_) => return (created, true),
        }
    }
    unreachable!()
}

/// Checks a run against its restored state, right after a restart, and
/// records the in-flight mutation if it was committed. Returns whether it
/// was.
fn check_restored(run: &mut Run, restored: Value) -> bool {
    let id = run.id();
    let in_flight = run.in_flight.take();
    let last = version(&run.last);
    let restored_version = version(&restored);
    let landed = if restored_version == last {
        assert!(
            restored["snapshot"] == run.last["snapshot"],
            "{id}: the restored state is not the last acknowledged one"
        );
        false
    } else {
        assert_eq!(
            restored_version,
            last + 1,
            "{id}: acknowledged {last}, restored {restored_version}"
        );
        let mutation = in_flight.unwrap_or_else(|| {
            panic!("{id}: a version beyond the last acknowledged one, with nothing in flight")
        });
        run.log.push(Entry {
            mutation,
            version: restored_version,
            snapshot: None,
        });
        true
    };
    run.last = restored;
    landed
}

/// Replays a run's log on a fresh session: every acknowledged step must
/// answer the version and snapshot that were acknowledged for it; returns
/// the final state.
async fn replay(client: &Client, run: &Run) -> Value {
    let fresh = client.create(&run.create_body).await;
    assert_eq!(version(&fresh), version(&run.created));
    assert_eq!(fresh["snapshot"], run.created["snapshot"]);
    let id = session_id(&fresh);
    let mut last = fresh;
    for (n, entry) in run.log.iter().enumerate() {
        let state = entry
            .mutation
            .send(client, &id)
            .await
            .expect("replay answers");
        assert_eq!(
            version(&state),
            entry.version,
            "step {n}: {:?}",
            entry.mutation
        );
        if let Some(snapshot) = &entry.snapshot {
            assert!(
                &state["snapshot"] == snapshot,
                "step {n} ({:?}) answered another state on replay",
                entry.mutation
            );
        }
        last = state;
    }
    last
}

/// Kill-and-restart cycles per test: each kill lands at another point of
/// the streams.
const CYCLES: usize = 3;

async fn crash_and_restore(flags: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let launch = Launch::new().args(flags);
    let mut server = launch.start(&db);
    let mut client = server.client(Some("local-dev"));

    let mut runs = Vec::new();
    for n in 0..SESSIONS {
        let create_body = json!({"playerNames": {"A": format!("Player {n}")}});
        let created = client.create(&create_body).await;
        runs.push(Run {
            create_body,
            last: created.clone(),
            created,
            log: Vec::new(),
            in_flight: None,
        });
    }
    let mut created = Vec::new();
    let mut creations_in_flight = 0;
    let (mut acknowledged, mut in_flight, mut landed) = (0, 0, 0);
    for cycle in 0..CYCLES {
        let pace = Arc::new(Pace {
            acked: AtomicUsize::new(0),
            kill: Notify::new(),
            creations: Semaphore::new(0),
        });
        let drivers: Vec<_> = runs
            .into_iter()
            .map(|run| tokio::spawn(drive(client.clone(), run, pace.clone())))
            .collect();
        let creator = tokio::spawn(keep_creating(client.clone(), cycle, pace.clone()));

        tokio::time::timeout(crate::util::HANG, pace.kill.notified())
            .await
            .expect("the clients reach the kill point");
        // SIGKILL, mid-stream: the clients are still sending.
        server.kill();
        runs = Vec::new();
        for driver in drivers {
            runs.push(driver.await.expect("a client task"));
        }
        pace.creations.close();
        let (new, creating) = creator.await.expect("the creator task");
        acknowledged += pace.acked.load(Ordering::SeqCst);
        in_flight += runs.iter().filter(|r| r.in_flight.is_some()).count();

        server = launch.start(&db);
        client = server.client(Some("local-dev"));
        for run in &mut runs {
            let restored = client.snapshot(&run.id()).await;
            landed += usize::from(check_restored(run, restored));
        }
        for state in &new {
            let restored = client.snapshot(&session_id(state)).await;
            assert_eq!(version(&restored), version(state));
            assert_eq!(restored["snapshot"], state["snapshot"]);
        }
        created.extend(new);
        creations_in_flight += usize::from(creating);
    }
    assert!(
        runs.iter().all(|r| r.log.len() > 3 * CYCLES),
        "every client played in every cycle"
    );

    // The whole log of each session replays to its restored state.
    for run in &runs {
        let replayed = replay(&client, run).await;
        assert_eq!(version(&replayed), version(&run.last), "{}", run.id());
        assert!(
            replayed["snapshot"] == run.last["snapshot"],
            "{}: the restored state is not the replay of its log",
            run.id()
        );
    }
    // Every acknowledged creation is still there; besides them, the driven
    // sessions and their replays, only creations that were in flight.
    for state in &created {
        client.snapshot(&session_id(state)).await;
    }
    let listing = client.get_ok("/sessions").await;
    let count = listing["sessions"].as_array().unwrap().len();
    let known = 2 * SESSIONS + created.len();
    assert!(
        (known..=known + creations_in_flight).contains(&count),
        "{count} sessions, {known} known, {creations_in_flight} creations in flight"
    );
    eprintln!(
        "crash test {flags:?}: {CYCLES} kills, {acknowledged} acknowledged mutations, \
         {} creations, {in_flight} mutations in flight at a kill, {landed} of them committed",
        created.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_stream_loses_no_acknowledged_mutation() {
    crash_and_restore(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_stream_loses_nothing_under_sync_full() {
    crash_and_restore(&["--sync", "full"]).await;
}
