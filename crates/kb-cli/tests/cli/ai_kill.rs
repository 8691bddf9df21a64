//! SIGKILL in the middle of `hard` AI turns, against the real binary: after
//! a restart, every AI turn is either wholly done or not begun.
//!
//! Several clients each play `hard` sessions: seat A only advances, seat B
//! is played by `ai-turn` with `mode: "turn"`, which the server records as
//! one `aiMoves` log entry once the AI has thought. The process is killed
//! with SIGKILL while at least one AI turn is in flight (sent, not
//! answered), [`ROUNDS`] times. After each restart, for every session:
//!
//! * `admin check` on the killed server's database finds every log sound
//!   (it replays each one and compares it with its header and checkpoint);
//! * the log has one entry per version, and the entries seen before the
//!   kill are still its prefix;
//! * the restored version is the last acknowledged one (then the state is
//!   exactly the acknowledged one: a turn in flight was not begun, B still
//!   to play) or one more, when the mutation in flight landed (an AI turn
//!   then is the log's last entry, a single `aiMoves` of seat B, and the
//!   state shows A to play or the game over: wholly done);
//!
//! and at the end every acknowledged state is what the log replays to
//! (`snapshot?at=V`), and `kingdom replay` of each whole log ends in the
//! state the server serves.
//!
//! A kill rarely falls between an AI turn's commit and its answer, so each
//! round also has a client that never reads its answer: it sends one AI
//! turn on a raw connection and waits, through another connection, until
//! the turn is committed before the kill may come. Its turn must be found
//! wholly done after the restart, though its client never heard so.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hyper::Method;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::run::{kingdom, replay_file};
use crate::util::{Client, HANG, Launch, session_id, version};

/// Clients playing at once, each one session at a time.
const CLIENTS: usize = 4;
/// Kill-and-restart rounds.
const ROUNDS: usize = 5;
/// Acknowledged AI turns (over all clients) in a round before the kill may
/// come.
const AI_TURNS_BEFORE_KILL: usize = 6;

/// What a client sends.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mutation {
    Advance,
    AiTurn,
}

/// The snapshot of a session state without the effect logs an answer
/// carries for the change it made (a plain read has none).
fn shown(state: &Value) -> Value {
    let mut snapshot = state["snapshot"].clone();
    if let Some(metadata) = snapshot["metadata"].as_object_mut() {
        metadata.remove("effectLogs");
    }
    snapshot
}

/// An acknowledged state.
struct Acked {
    version: u64,
    snapshot: Value,
}

/// One session and what its client knows of it.
struct Run {
    id: String,
    acked: Vec<Acked>,
    /// The state the client last saw (answered, or restored).
    last: Value,
    /// Sent and unanswered when the server died.
    in_flight: Option<Mutation>,
    /// The log as read after the last restart.
    entries: Vec<Value>,
}

impl Run {
    fn new(created: Value) -> Run {
        Run {
            id: session_id(&created),
            acked: vec![Acked {
                version: version(&created),
                snapshot: shown(&created),
            }],
            last: created,
            in_flight: None,
            entries: Vec::new(),
        }
    }

    fn over(&self) -> bool {
        !self.last["snapshot"]["game"]["conclusion"].is_null()
    }

    fn next(&self) -> Mutation {
        if self.last["snapshot"]["game"]["activePlayerId"] == "B" {
            Mutation::AiTurn
        } else {
            Mutation::Advance
        }
    }
}

/// Counts shared by one round's clients.
#[derive(Default)]
struct Pace {
    /// AI turns acknowledged this round.
    ai_done: AtomicUsize,
    /// AI turns sent and not answered.
    ai_in_flight: AtomicUsize,
}

async fn send(client: &Client, id: &str, mutation: Mutation) -> Result<Value, String> {
    let (path, body) = match mutation {
        Mutation::Advance => (format!("/sessions/{id}/advance"), None),
        Mutation::AiTurn => (
            format!("/sessions/{id}/ai-turn"),
            Some(json!({"playerId": "B", "mode": "turn"})),
        ),
    };
    match client.try_send(Method::POST, &path, body.as_ref()).await {
        Ok(reply) if reply.status == 200 => Ok(reply.body),
        Ok(reply) => panic!(
            "{mutation:?} on {id} answered {}: {}",
            reply.status, reply.body
        ),
        Err(error) => Err(error.to_string()),
    }
}

/// Plays a client's sessions until the server stops answering; a session
/// whose game ends is followed by a new one.
async fn drive(client: Client, mut runs: Vec<Run>, pace: Arc<Pace>) -> Vec<Run> {
    loop {
        let run = runs.last_mut().expect("a session");
        if run.over() {
            match client
                .try_send(Method::POST, "/sessions", Some(&json!({"aiLevel": "hard"})))
                .await
            {
                Ok(reply) => {
                    assert_eq!(reply.status, 201, "{}", reply.body);
                    runs.push(Run::new(reply.body));
                    continue;
                }
                // A creation in flight at the kill is not this test's
                // concern (crash.rs covers it).
                Err(_) => return runs,
            }
        }
        let mutation = run.next();
        let ai = mutation == Mutation::AiTurn;
        if ai {
            pace.ai_in_flight.fetch_add(1, Ordering::SeqCst);
        }
        let answer = send(&client, &run.id, mutation).await;
        match answer {
            Ok(state) => {
                if ai {
                    pace.ai_in_flight.fetch_sub(1, Ordering::SeqCst);
                }
                let game = &state["snapshot"]["game"];
                assert_eq!(version(&state), version(&run.last) + 1, "{}", run.id);
                if ai {
                    assert_eq!(state["ranTurn"], true);
                    assert!(
                        game["activePlayerId"] == "A" || !game["conclusion"].is_null(),
                        "{}: a whole turn ends B's turn",
                        run.id
                    );
                    pace.ai_done.fetch_add(1, Ordering::SeqCst);
                }
                run.acked.push(Acked {
                    version: version(&state),
                    snapshot: shown(&state),
                });
                run.last = state;
            }
            Err(_) => {
                // Still counted in `ai_in_flight`: it was in flight at the
                // kill.
                run.in_flight = Some(mutation);
                return runs;
            }
        }
    }
}

/// The log of a session, as `GET /sessions/:id/log` sends it (entries only).
async fn log_entries(client: &Client, id: &str) -> Vec<Value> {
    let page = client.get_ok(&format!("/sessions/{id}/log")).await;
    let entries: Vec<Value> = page["entries"].as_array().expect("entries").clone();
    assert_eq!(
        entries.len() as u64,
        version(&page),
        "{id}: one entry per version"
    );
    for (n, entry) in entries.iter().enumerate() {
        assert_eq!(entry["version"], n as u64 + 1, "{id}: entries in order");
    }
    entries.into_iter().map(|e| e["entry"].clone()).collect()
}

/// Checks one session right after a restart. Returns whether a mutation
/// was in flight, and whether it landed.
async fn check_restored(client: &Client, run: &mut Run) -> (Option<Mutation>, bool) {
    let id = run.id.clone();
    let restored = client.snapshot(&id).await;
    let entries = log_entries(client, &id).await;
    assert_eq!(
        entries.len() as u64,
        version(&restored),
        "{id}: the log and the version agree"
    );
    assert!(
        entries.starts_with(&run.entries),
        "{id}: the log changed before the last restart's end"
    );
    let in_flight = run.in_flight.take();
    let last = version(&run.last);
    let landed = match version(&restored) {
        v if v == last => {
            assert!(
                shown(&restored) == shown(&run.last),
                "{id}: at the acknowledged version, another state ({in_flight:?} in flight)"
            );
            false
        }
        v if v == last + 1 => {
            let mutation = in_flight.unwrap_or_else(|| {
                panic!("{id}: a version beyond the last acknowledged one, nothing in flight")
            });
            let entry = entries.last().unwrap();
            let game = &restored["snapshot"]["game"];
            match mutation {
                Mutation::AiTurn => {
                    assert_eq!(entry["type"], "aiMoves", "{id}: {entry}");
                    assert_eq!(entry["playerId"], "B", "{id}: {entry}");
                    assert!(
                        game["activePlayerId"] == "A" || !game["conclusion"].is_null(),
                        "{id}: the AI turn landed half done"
                    );
                }
                Mutation::Advance => assert_eq!(entry, &json!({"type": "advance"})),
            }
            run.acked.push(Acked {
                version: v,
                snapshot: shown(&restored),
            });
            true
        }
        v => panic!("{id}: acknowledged {last}, restored {v}"),
    };
    // Every AI turn in the log is one entry of the moves it chose.
    for entry in &entries[1..] {
        assert!(
            entry["type"] == "aiMoves" || entry["type"] == "advance",
            "{id}: {entry}"
        );
    }
    run.entries = entries;
    run.last = restored;
    (in_flight, landed)
}

/// A new hard session brought to B's turn, whose AI turn is then sent on
/// a raw connection that nobody reads; returns once the turn is committed
/// (the session's version moved), with the connection, which must stay
/// open until the kill.
async fn unheard_ai_turn(client: &Client, address: std::net::SocketAddr) -> (Run, TcpStream) {
    let mut run = Run::new(client.create(&json!({"aiLevel": "hard"})).await);
    while run.next() == Mutation::Advance {
        let state = send(client, &run.id, Mutation::Advance)
            .await
            .expect("an answer");
        run.acked.push(Acked {
            version: version(&state),
            snapshot: shown(&state),
        });
        run.last = state;
    }
    let body = json!({"playerId": "B", "mode": "turn"}).to_string();
    let request = format!(
        "POST /sessions/{}/ai-turn HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer local-dev\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        run.id,
        body.len()
    );
    let mut stream = TcpStream::connect(address).await.expect("connects");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("the request is sent");
    run.in_flight = Some(Mutation::AiTurn);
    let before = version(&run.last);
    tokio::time::timeout(HANG, async {
        while version(&client.snapshot(&run.id).await) == before {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the unheard AI turn is committed");
    (run, stream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_hard_ai_turns_leaves_each_turn_done_or_not_begun() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    // Two AI threads, so two turns can think at once on any machine.
    let launch = Launch::new().args(&["--ai-threads", "2"]);
    let mut server = launch.start(&db);
    let mut client = server.client(Some("local-dev"));

    let mut clients: Vec<Vec<Run>> = Vec::new();
    for _ in 0..CLIENTS {
        let created = client.create(&json!({"aiLevel": "hard"})).await;
        assert_eq!(created["aiLevel"], "hard");
        clients.push(vec![Run::new(created)]);
    }
    let (mut ai_at_kills, mut ai_landed, mut ai_acked) = (0, 0, 0);
    // The sessions whose AI turn was never heard, one per round.
    let mut unheard: Vec<Run> = Vec::new();
    for round in 0..ROUNDS {
        let pace = Arc::new(Pace::default());
        let drivers: Vec<_> = clients
            .into_iter()
            .map(|runs| tokio::spawn(drive(client.clone(), runs, pace.clone())))
            .collect();
        let (run, connection) = unheard_ai_turn(&client, server.address()).await;
        unheard.push(run);
        // Kill once some AI turns were answered this round and another is
        // in flight.
        tokio::time::timeout(HANG, async {
            while pace.ai_done.load(Ordering::SeqCst) < AI_TURNS_BEFORE_KILL
                || pace.ai_in_flight.load(Ordering::SeqCst) == 0
            {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("the clients reach the kill point");
        server.kill();
        drop(connection);
        clients = Vec::new();
        for driver in drivers {
            clients.push(driver.await.expect("a client task"));
        }
        ai_acked += pace.ai_done.load(Ordering::SeqCst);

        // The killed server's database, checked offline.
        let check = kingdom(
            &["admin", "--db", db.to_str().unwrap(), "check", "--json"],
            None,
        );
        assert_eq!(
            check.code, 0,
            "round {round}: {}{}",
            check.stdout, check.stderr
        );

        server = launch.start(&db);
        client = server.client(Some("local-dev"));
        for runs in &mut clients {
            for run in runs.iter_mut() {
                let (in_flight, landed) = check_restored(&client, run).await;
                if in_flight == Some(Mutation::AiTurn) {
                    ai_at_kills += 1;
                    ai_landed += usize::from(landed);
                }
            }
        }
        for (n, run) in unheard.iter_mut().enumerate() {
            let (in_flight, landed) = check_restored(&client, run).await;
            if n == round {
                assert_eq!(in_flight, Some(Mutation::AiTurn));
                assert!(landed, "{}: a committed AI turn was lost", run.id);
            }
        }
    }
    assert!(
        ai_at_kills >= 1,
        "no kill came while an AI turn was in flight"
    );

    // Every acknowledged state is what its log replays to, and the whole
    // log replayed by the engine alone ends where the server is.
    let mut sessions = 0;
    for run in clients.iter().flatten().chain(&unheard) {
        sessions += 1;
        for acked in &run.acked {
            let past = client
                .get_ok(&format!(
                    "/sessions/{}/snapshot?at={}",
                    run.id, acked.version
                ))
                .await;
            assert!(
                shown(&past) == acked.snapshot,
                "{}: the state at {} is not what the log replays to",
                run.id,
                acked.version
            );
        }
        let commands = Value::Array(run.entries[1..].to_vec());
        let file = replay_file(&json!({ "commands": commands }).to_string());
        let replayed = kingdom(&["replay", file.path.to_str().unwrap()], None).json();
        assert!(
            replayed["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["ok"] == true),
            "{}: a logged command was refused on replay",
            run.id
        );
        assert!(
            replayed["snapshot"]["game"] == run.last["snapshot"]["game"],
            "{}: `kingdom replay` of the log ends elsewhere",
            run.id
        );
    }
    eprintln!(
        "ai kill test: {ROUNDS} kills, {sessions} hard sessions, {ai_acked} AI turns acknowledged, \
         {ai_at_kills} in flight at a kill, {ai_landed} of them committed, {ROUNDS} more committed \
         and never heard"
    );
}
