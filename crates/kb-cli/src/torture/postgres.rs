//! PostgreSQL faults: the database server restarted in the middle of load
//! (a private cluster the round starts, never the machine's), and two
//! servers sharing one database (the machine's, in a schema of the
//! round's own), one of them SIGKILLed mid-load.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hyper::Method;
use serde_json::Value;

use super::client::Client;
use super::game::next_move;
use super::ledger::{Ledger, Outcome, Sent, gather};
use super::server::{ServerSpec, quarantine_lines};
use super::storage::{Counters, PATIENCE, health, wait_for, write_on};
use super::vanishing::rich_sessions_at_main;
use super::verify::{open_store, verify};
use super::{FaultReport, Round};
use crate::rng::SplitMix64;

/// The machine's PostgreSQL, used when `--postgres` and
/// `KB_TEST_POSTGRES_URL` say nothing.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The restart round.
pub fn restart(round: &mut Round<'_>, bin: &Path) -> anyhow::Result<FaultReport> {
    let mut report = FaultReport::new("pg-restart", "PostgreSQL restarts");
    let cluster = Cluster::create(bin)?;
    let url = cluster.url();
    let spec = ServerSpec::new(round.exe, url.clone(), round.dir.join("server.log"));
    let server = spec.start()?;
    let address = server.address();
    let runtime = round.runtime;
    let writers = round.size(4, 8);
    let restarts = round.size(1, 3);
    let mut ledger = Ledger::default();
    let ids = rich_sessions_at_main(runtime, address, writers, &mut ledger)?;
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut rng = SplitMix64::new(round.seed());
    let tasks: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| {
            runtime.spawn(write_on(
                address,
                id.clone(),
                format!("r{n}"),
                rng.next_u64(),
                counters.clone(),
                stop.clone(),
            ))
        })
        .collect();
    let mut problems = Vec::new();
    let mut result = Ok(());
    for _ in 0..restarts {
        let acked = counters.acked();
        result = runtime.block_on(wait_for("writes to succeed", || {
            counters.acked() >= acked + 20
        }));
        if result.is_err() {
            break;
        }
        // Down long enough for writes to meet the outage, then up again.
        let refused = counters.refused();
        cluster.stop()?;
        report.injected += 1;
        let down = Instant::now();
        runtime.block_on(async {
            while down.elapsed() < Duration::from_secs(2) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        // Writes failed while the database was down: none waited for it.
        if counters.refused() == refused {
            problems.push("no write was refused while PostgreSQL was down".to_owned());
        }
        if runtime.block_on(health(address)) != Some(503) {
            problems.push("/healthz did not answer 503 while PostgreSQL was down".to_owned());
        }
        cluster.start()?;
        result = runtime.block_on(async {
            let up = Instant::now();
            while health(address).await != Some(200) {
                if up.elapsed() > PATIENCE {
                    bail!("/healthz still answers 503 {PATIENCE:?} after PostgreSQL came back");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let acked = counters.acked();
            wait_for("writes to succeed after the restart", || {
                counters.acked() >= acked + 20
            })
            .await
        });
        if result.is_err() {
            break;
        }
    }
    stop.store(true, Ordering::SeqCst);
    gather(runtime, tasks, &mut ledger, &mut problems)?;
    if let Err(error) = result {
        problems.push(format!("{error:#}"));
    }
    report.notes.push(counters.note());
    report.problems.extend(problems);
    report.conclude(server, &url, &ledger)?;
    Ok(report)
}

/// The two-servers round.
pub fn two_servers(round: &mut Round<'_>, admin_url: &str) -> anyhow::Result<FaultReport> {
    let mut report = FaultReport::new("two-servers", "SIGKILLs of one of two servers");
    let schema = Schema::create(admin_url, &round.dir)?;
    let url = schema.url();
    let spec_a = ServerSpec::new(round.exe, url.clone(), round.dir.join("server-a.log"));
    let spec_b = ServerSpec::new(round.exe, url.clone(), round.dir.join("server-b.log"));
    let survivor = spec_b.start()?;
    let runtime = round.runtime;
    let sessions = round.size(6, 12);
    let kills = round.size(1, 4);
    let mut ledger = Ledger::default();
    let mut states: Vec<(String, Value)> = Vec::new();
    runtime.block_on(async {
        let mut client = Client::new(survivor.address());
        for n in 0..sessions {
            let body = serde_json::json!({"playerNames": {"A": format!("t.{n}")}});
            let reply = client
                .send(Method::POST, "/sessions", Some(&body))
                .await
                .map_err(anyhow::Error::msg)?;
            anyhow::ensure!(reply.status == 201, "create: {}", reply.body);
            let id = reply.body["sessionId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            ledger.created(&id, reply.version().unwrap_or(0), true);
            states.push((id, reply.body));
        }
        anyhow::Ok(())
    })?;
    let mut problems = Vec::new();
    let mut late_commits = 0;
    for kill in 0..kills {
        let doomed = spec_a.start()?;
        let (a, b) = (doomed.address(), survivor.address());
        let delay = Duration::from_millis(200 + round.rng.below(800) as u64);
        let mut rng = SplitMix64::new(round.seed());
        let drivers: Vec<_> = states
            .drain(..)
            .map(|(id, state)| {
                runtime.spawn(drive_two(
                    a,
                    b,
                    id,
                    state,
                    rng.next_u64(),
                    format!("t{kill}"),
                ))
            })
            .collect();
        runtime.block_on(async { tokio::time::sleep(delay).await });
        doomed.kill()?;
        report.injected += 1;
        for driver in drivers {
            let run = runtime.block_on(driver).context("a driver failed")?;
            for sent in run.sent {
                ledger.sent(&run.id, sent.mutation, sent.outcome);
            }
            problems.extend(run.problems);
            late_commits += run.late_commits;
            states.push((run.id, run.state));
        }
    }
    let log = survivor.log().to_owned();
    survivor.stop()?;
    report.acknowledged = ledger.acknowledged();
    report.notes.push(format!(
        "{late_commits} requests refused because a request to the killed server \
         committed after the survivor had answered a read"
    ));
    report.problems.extend(problems);
    let store = open_store(&url)?;
    report.absorb(verify(store.as_ref(), &ledger)?);
    drop(store);
    report.problems.extend(quarantine_lines(&log));
    report
        .problems
        .extend(quarantine_lines(&round.dir.join("server-a.log")));
    Ok(report)
}

/// One session's client in the two-servers round.
struct TwoRun {
    id: String,
    state: Value,
    sent: Vec<Sent>,
    problems: Vec<String>,
    /// Requests refused because a request to the killed server committed
    /// after the survivor had shown the state they were chosen from.
    late_commits: usize,
}

/// Plays one session, each request to either server, until the first one
/// dies; then goes on with the survivor for as many requests again, which
/// must all succeed (it serves every session).
async fn drive_two(
    a: SocketAddr,
    b: SocketAddr,
    id: String,
    mut state: Value,
    seed: u64,
    tag: String,
) -> TwoRun {
    let mut rng = SplitMix64::new(seed);
    let mut to_a = Client::new(a);
    let mut to_b = Client::new(b);
    let mut run = TwoRun {
        id: id.clone(),
        state: Value::Null,
        sent: Vec::new(),
        problems: Vec::new(),
        late_commits: 0,
    };
    let mut a_alive = true;
    // A request to the killed server may still commit after the kill (its
    // COMMIT was on its way to PostgreSQL): until the next answer, the
    // state this client holds may be behind the game.
    let mut unsure = false;
    let mut after_kill = 0;
    let mut step = 0;
    while after_kill < 30 {
        step += 1;
        let Some(mutation) = next_move(&state, rng.next_u64(), || format!("{tag}.{step}")) else {
            break;
        };
        let use_a = a_alive && rng.below(2) == 0;
        let client = if use_a { &mut to_a } else { &mut to_b };
        if !a_alive {
            after_kill += 1;
        }
        match mutation.send(client, &id).await {
            Ok(reply) if reply.status == 200 => {
                run.sent.push(Sent {
                    outcome: mutation.outcome(&reply),
                    mutation,
                });
                state = reply.body;
                unsure = false;
            }
            Ok(reply) if reply.status == 409 && unsure => {
                // Refused by a game that moved on: the late commit landed.
                run.sent.push(Sent {
                    mutation,
                    outcome: Outcome::Refused(409),
                });
                run.late_commits += 1;
                unsure = false;
                match to_b
                    .send(Method::GET, &format!("/sessions/{id}/snapshot"), None)
                    .await
                {
                    Ok(reply) if reply.status == 200 => state = reply.body,
                    other => {
                        run.problems
                            .push(format!("{id}: the survivor does not serve it: {other:?}"));
                        break;
                    }
                }
            }
            Ok(reply) => {
                run.problems.push(format!(
                    "{id}: {mutation:?} answered {} {}",
                    reply.status, reply.body
                ));
                let outcome = if reply.status < 500 {
                    Outcome::Refused(reply.status)
                } else {
                    Outcome::Unknown
                };
                run.sent.push(Sent { mutation, outcome });
                break;
            }
            Err(error) if use_a => {
                // The first server died with it in flight.
                run.sent.push(Sent {
                    mutation: mutation.clone(),
                    outcome: Outcome::Unknown,
                });
                a_alive = false;
                unsure = true;
                // Go on from what the survivor holds.
                match to_b
                    .send(Method::GET, &format!("/sessions/{id}/snapshot"), None)
                    .await
                {
                    Ok(reply) if reply.status == 200 => state = reply.body,
                    other => {
                        run.problems.push(format!(
                            "{id}: the survivor does not serve it after the kill ({error}): {other:?}"
                        ));
                        break;
                    }
                }
            }
            Err(error) => {
                run.problems.push(format!(
                    "{id}: the survivor did not answer {mutation:?}: {error}"
                ));
                run.sent.push(Sent {
                    mutation,
                    outcome: Outcome::Unknown,
                });
                break;
            }
        }
    }
    run.state = state;
    run
}

/// A PostgreSQL cluster of the round's own, in a temporary directory,
/// listening on a free port of 127.0.0.1; stopped and removed when
/// dropped.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    fn create(bin: &Path) -> anyhow::Result<Cluster> {
        let dir = tempfile::Builder::new()
            .prefix("kingdom-torture-pg-")
            .tempdir()
            .context("cannot make the cluster's directory")?;
        // PostgreSQL runs as its own user, and refuses to run as root.
        run(Command::new("chown")
            .args(["postgres:postgres"])
            .arg(dir.path()))?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let cluster = Cluster {
            bin: bin.to_owned(),
            dir,
            port,
        };
        run(cluster
            .as_postgres("initdb")
            .args(["--auth=trust", "--username=postgres", "-D"])
            .arg(cluster.data()))
        .context("initdb failed (is PostgreSQL installed? see --pg-bin)")?;
        cluster.start()?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn as_postgres(&self, program: &str) -> Command {
        let mut command = Command::new("runuser");
        command
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(program));
        command
    }

    fn start(&self) -> anyhow::Result<()> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        run(self
            .as_postgres("pg_ctl")
            .args(["-w", "-D"])
            .arg(self.data())
            .args(["-l"])
            .arg(self.dir.path().join("postgres.log"))
            .args(["-o", &options, "start"]))
        .context("cannot start the private PostgreSQL")
    }

    fn stop(&self) -> anyhow::Result<()> {
        run(self
            .as_postgres("pg_ctl")
            .args(["-w", "-m", "fast", "-D"])
            .arg(self.data())
            .arg("stop"))
        .context("cannot stop the private PostgreSQL")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// A schema of the round's own on a shared server, dropped at the end.
struct Schema {
    admin_url: String,
    name: String,
}

impl Schema {
    fn create(admin_url: &str, dir: &Path) -> anyhow::Result<Schema> {
        let round = dir
            .file_name()
            .map(|name| name.to_string_lossy().chars().take(4).collect::<String>())
            .unwrap_or_default();
        let schema = Schema {
            admin_url: admin_url.to_owned(),
            name: format!("kb_torture_{}_{round}", std::process::id()),
        };
        schema.execute(&format!(
            "DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}",
            schema.name
        ))?;
        Ok(schema)
    }

    fn url(&self) -> String {
        let separator = if self.admin_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{separator}options=-c%20search_path%3D{}",
            self.admin_url, self.name
        )
    }

    fn execute(&self, sql: &str) -> anyhow::Result<()> {
        let mut client = postgres::Client::connect(&self.admin_url, postgres::NoTls)
            .with_context(|| format!("cannot connect to PostgreSQL at {}", self.admin_url))?;
        client.batch_execute(sql)?;
        Ok(())
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = self.execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}

/// Runs a command to success.
fn run(command: &mut Command) -> anyhow::Result<()> {
    let output = command
        .output()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// The newest PostgreSQL installed under `/usr/lib/postgresql`.
pub fn default_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}
