//! The SIGKILL loop: clients play real games (creates, actions, advances,
//! AI turns, dev-mode flips, renames, deletes), one client per session,
//! while the server is killed with SIGKILL at a random moment and
//! restarted, again and again. After every kill the database must hold
//! every acknowledged change, in order, and nothing twice.

use std::net::SocketAddr;
use std::time::Duration;

use hyper::Method;
use serde_json::{Value, json};

use super::client::Client;
use super::game::next_move;
use super::ledger::{Ledger, Outcome};
use super::server::ServerSpec;
use super::verify::{open_store, verify};
use super::{FaultReport, Round};
use crate::rng::SplitMix64;

/// A session in play: its last known state, whether its game goes on.
struct Player {
    id: String,
    state: Value,
    done: bool,
}

/// Runs one round.
pub fn run(round: &mut Round<'_>) -> anyhow::Result<FaultReport> {
    let mut report = FaultReport::new("sigkill", "SIGKILLs");
    let db = round.dir.join("sessions.db");
    let db_arg = db.to_string_lossy().into_owned();
    let spec = ServerSpec::new(round.exe, db_arg.clone(), round.dir.join("server.log"));
    let kills = round.size(12, 50);
    let initial = round.size(6, 12);
    let mut ledger = Ledger::default();
    let mut players: Vec<Player> = Vec::new();
    let mut server = spec.start()?;
    {
        let mut client = Client::new(server.address());
        for n in 0..initial {
            let body = json!({"playerNames": {"A": format!("k0.{n}")}});
            let created = round
                .runtime
                .block_on(client.send(Method::POST, "/sessions", Some(&body)))
                .map_err(anyhow::Error::msg)?;
            anyhow::ensure!(created.status == 201, "create: {}", created.body);
            let id = created.body["sessionId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            ledger.created(&id, created.version().unwrap_or(0), true);
            players.push(Player {
                id,
                state: created.body,
                done: false,
            });
        }
    }
    for kill in 0..kills {
        let delay = Duration::from_millis(30 + round.rng.below(600) as u64);
        let mut rng = SplitMix64::new(round.seed());
        let address = server.address();
        let tag = format!("k{kill}");
        let (drivers, creator) = round.runtime.block_on(async {
            let drivers: Vec<_> = players
                .drain(..)
                .map(|player| tokio::spawn(drive(address, player, rng.next_u64(), tag.clone())))
                .collect();
            let creator = tokio::spawn(create_some(address, tag.clone()));
            tokio::time::sleep(delay).await;
            (drivers, creator)
        });
        // SIGKILL, mid-stream: the clients are still sending.
        server.kill()?;
        report.injected += 1;
        let (sent_runs, new_sessions, unanswered) = round.runtime.block_on(async {
            let mut sent_runs = Vec::new();
            for driver in drivers {
                sent_runs.push(driver.await);
            }
            let (new_sessions, unanswered) = creator.await.unwrap_or_default();
            (sent_runs, new_sessions, unanswered)
        });
        ledger.unknown_creates += unanswered;
        for run in sent_runs {
            let run = run?;
            if let Some(session) = ledger.sessions.get_mut(&run.player.id) {
                session.sent.extend(run.sent);
                if run.deleted.is_some() {
                    session.deleted = run.deleted;
                }
            }
            report.problems.extend(run.problems);
            if run.deleted.is_none() {
                players.push(run.player);
            }
        }
        for (id, state) in new_sessions {
            ledger.created(&id, state["version"].as_u64().unwrap_or(0), true);
            players.push(Player {
                id,
                state,
                done: false,
            });
        }
        // After every kill: the database as the dead server left it.
        let store = open_store(&db_arg)?;
        let tally = verify(store.as_ref(), &ledger)?;
        drop(store);
        if !tally.problems.is_empty() {
            report.problems.push(format!(
                "after kill {}: {} lost, {} duplicated, {} problems, first: {}",
                kill + 1,
                tally.lost,
                tally.duplicated,
                tally.problems.len(),
                tally.problems[0]
            ));
        }
        server = spec.start()?;
        // Every client goes on from the state the restarted server holds.
        let mut client = Client::new(server.address());
        let mut alive = Vec::new();
        for mut player in players.drain(..) {
            let reply = round.runtime.block_on(client.send(
                Method::GET,
                &format!("/sessions/{}/snapshot", player.id),
                None,
            ));
            match reply {
                Ok(reply) if reply.status == 200 => {
                    player.state = reply.body;
                    alive.push(player);
                }
                // Deleted by a request whose answer was lost.
                Ok(reply) if reply.status == 404 => {}
                Ok(reply) => report.problems.push(format!(
                    "{}: after a restart, a snapshot answered {} {}",
                    player.id, reply.status, reply.body
                )),
                Err(error) => report.problems.push(format!(
                    "{}: after a restart, no snapshot: {error}",
                    player.id
                )),
            }
        }
        players = alive;
    }
    report.conclude(server, &db_arg, &ledger)?;
    Ok(report)
}

/// What one client did between two kills.
struct Run {
    player: Player,
    sent: Vec<super::ledger::Sent>,
    deleted: Option<Outcome>,
    problems: Vec<String>,
}

/// Plays one session until the server stops answering (or the game ends,
/// or the client deletes it).
async fn drive(address: SocketAddr, mut player: Player, seed: u64, tag: String) -> Run {
    let mut client = Client::new(address);
    let mut rng = SplitMix64::new(seed);
    let mut run = Run {
        sent: Vec::new(),
        deleted: None,
        problems: Vec::new(),
        player: Player {
            id: String::new(),
            state: Value::Null,
            done: true,
        },
    };
    let id = player.id.clone();
    let mut step = 0;
    while !player.done {
        step += 1;
        if rng.below(80) == 0 {
            let reply = client
                .send(Method::DELETE, &format!("/sessions/{id}"), None)
                .await;
            run.deleted = Some(match reply {
                Ok(reply) if reply.status == 200 => Outcome::Acked(0),
                Ok(reply) if reply.status < 500 => {
                    run.problems.push(format!(
                        "{id}: delete answered {} {}",
                        reply.status, reply.body
                    ));
                    Outcome::Refused(reply.status)
                }
                _ => Outcome::Unknown,
            });
            if run.deleted != Some(Outcome::Unknown) {
                player.done = true;
            }
            break;
        }
        let roll = rng.next_u64();
        let Some(mutation) = next_move(&player.state, roll, || format!("{tag}.{step}")) else {
            player.done = true;
            break;
        };
        match mutation.send(&mut client, &id).await {
            Ok(reply) if reply.status == 200 => {
                run.sent.push(super::ledger::Sent {
                    outcome: mutation.outcome(&reply),
                    mutation,
                });
                player.state = reply.body;
            }
            Ok(reply) if reply.status < 500 => {
                run.problems.push(format!(
                    "{id}: {mutation:?} answered {} {}",
                    reply.status, reply.body
                ));
                run.sent.push(super::ledger::Sent {
                    mutation,
                    outcome: Outcome::Refused(reply.status),
                });
                break;
            }
            // No answer: the server died with it in flight.
            _ => {
                run.sent.push(super::ledger::Sent {
                    mutation,
                    outcome: Outcome::Unknown,
                });
                break;
            }
        }
    }
    run.player = player;
    run
}

/// Creates sessions until the server stops answering: the acknowledged
/// ones (id and state), and how many went unanswered.
async fn create_some(address: SocketAddr, tag: String) -> (Vec<(String, Value)>, usize) {
    let mut client = Client::new(address);
    let mut created = Vec::new();
    for n in 0.. {
        tokio::time::sleep(Duration::from_millis(40)).await;
        let body = json!({"playerNames": {"A": format!("{tag}.new{n}")}});
        match client.send(Method::POST, "/sessions", Some(&body)).await {
            Ok(reply) if reply.status == 201 => {
                let id = reply.body["sessionId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                created.push((id, reply.body));
            }
            Ok(_) => return (created, 0),
            Err(_) => return (created, 1),
        }
    }
    (created, 0)
}
