//! A store that cannot write, under a running server: the disk fills up
//! (the database lives on a small tmpfs the round mounts, and a file fills
//! it), or the database file is made read-only (`chattr +i` on the
//! database and its WAL). Polite writers keep writing and readers keep
//! reading throughout.
//!
//! During the outage: writes answer 503 `STORAGE_UNAVAILABLE` with a
//! `Retry-After`, never anything else; every read is answered; `/healthz`
//! answers 503. Then space returns (the file is removed) or the file is
//! made writable again, and with no restart `/healthz` answers 200 and
//! writes succeed again. The database then holds every acknowledged write.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hyper::Method;

use super::client::Client;
use super::game::Mutation;
use super::ledger::{Ledger, Outcome, gather};
use super::server::ServerSpec;
use super::vanishing::rich_sessions_at_main;
use super::{FaultReport, Round};
use crate::rng::SplitMix64;

/// How long an outage may take to show, or to end, before the round fails.
pub(super) const PATIENCE: Duration = Duration::from_secs(60);

/// Runs the disk-full round.
pub fn disk_full(round: &mut Round<'_>) -> anyhow::Result<FaultReport> {
    let disk = round.dir.join("disk");
    let _mount = Tmpfs::mount(&disk, "16m")?;
    let filler = disk.join("filler");
    outage(
        round,
        FaultReport::new("disk-full", "disk-full outages"),
        &disk,
        || fill(&filler),
        || std::fs::remove_file(&filler).context("cannot remove the filler file"),
    )
}

/// Runs the read-only round.
pub fn read_only(round: &mut Round<'_>) -> anyhow::Result<FaultReport> {
    let dir = round.dir.join("db");
    std::fs::create_dir_all(&dir)?;
    let files = [dir.join("sessions.db"), dir.join("sessions.db-wal")];
    outage(
        round,
        FaultReport::new("read-only", "read-only outages"),
        &dir,
        || chattr("+i", &files),
        || chattr("-i", &files),
    )
}

/// Writes and reads through an outage that `inject` starts and `heal`
/// ends.
fn outage(
    round: &mut Round<'_>,
    mut report: FaultReport,
    dir: &Path,
    inject: impl FnOnce() -> anyhow::Result<()>,
    heal: impl FnOnce() -> anyhow::Result<()>,
) -> anyhow::Result<FaultReport> {
    let db = dir.join("sessions.db").to_string_lossy().into_owned();
    let spec = ServerSpec::new(round.exe, db.clone(), round.dir.join("server.log"));
    let server = spec.start()?;
    let address = server.address();
    let writers = round.size(4, 8);
    let seed = round.seed();
    let runtime = round.runtime;
    let mut ledger = Ledger::default();
    let ids = rich_sessions_at_main(runtime, address, writers, &mut ledger)?;
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut rng = SplitMix64::new(seed);
    let tasks: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| {
            runtime.spawn(write_on(
                address,
                id.clone(),
                format!("w{n}"),
                rng.next_u64(),
                counters.clone(),
                stop.clone(),
            ))
        })
        .collect();
    let mut problems = Vec::new();
    let result = runtime.block_on(async {
        // Writing works.
        wait_for("writes to succeed", || counters.acked() >= 20).await?;
        inject()?;
        report.injected += 1;
        // Writes fail (503), the health check says so, reads go on.
        let during = Instant::now();
        loop {
            let health = health(address).await;
            if health == Some(503) && counters.refused() > 0 {
                break;
            }
            problems.extend(read_all(address, &ids).await);
            if during.elapsed() > PATIENCE {
                bail!(
                    "the outage never showed: /healthz {health:?}, {} writes refused",
                    counters.refused()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for _ in 0..10 {
            problems.extend(read_all(address, &ids).await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        heal()?;
        // Without a restart: healthy again, and writes succeed again.
        let after = Instant::now();
        while health(address).await != Some(200) {
            if after.elapsed() > PATIENCE {
                bail!("/healthz still answers 503 {PATIENCE:?} after the outage ended");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let acked = counters.acked();
        wait_for("writes to succeed again", || counters.acked() >= acked + 20).await?;
        anyhow::Ok(())
    });
    stop.store(true, Ordering::SeqCst);
    gather(runtime, tasks, &mut ledger, &mut problems)?;
    if let Err(error) = result {
        problems.push(format!("{error:#}"));
    }
    report.notes.push(counters.note());
    report.problems.extend(problems);
    report.conclude(server, &db, &ledger)?;
    Ok(report)
}

/// What the writers of an outage saw.
#[derive(Default)]
pub(super) struct Counters {
    acked: AtomicU64,
    refused: AtomicU64,
    /// The slowest 503, in microseconds: a refused write must not wait for
    /// the outage to end.
    slowest_refusal_us: AtomicU64,
}

impl Counters {
    /// Writes acknowledged.
    pub(super) fn acked(&self) -> u64 {
        self.acked.load(Ordering::SeqCst)
    }

    /// Writes refused with 503.
    pub(super) fn refused(&self) -> u64 {
        self.refused.load(Ordering::SeqCst)
    }

    /// A line for the report.
    pub(super) fn note(&self) -> String {
        format!(
            "{} writes refused with 503 during outages, the slowest answered in {:.0} ms",
            self.refused(),
            self.slowest_refusal_us.load(Ordering::SeqCst) as f64 / 1000.0
        )
    }
}

/// Waits until `done`, failing after [`PATIENCE`].
pub(super) async fn wait_for(what: &str, done: impl Fn() -> bool) -> anyhow::Result<()> {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > PATIENCE {
            bail!("waited {PATIENCE:?} for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// The status `/healthz` answers.
pub(super) async fn health(address: SocketAddr) -> Option<u16> {
    Client::new(address)
        .send(Method::GET, "/healthz", None)
        .await
        .ok()
        .map(|reply| reply.status)
}

/// Reads every session: each must be answered 200.
async fn read_all(address: SocketAddr, ids: &[String]) -> Vec<String> {
    let mut client = Client::new(address);
    let mut problems = Vec::new();
    for id in ids {
        match client
            .send(Method::GET, &format!("/sessions/{id}/snapshot"), None)
            .await
        {
            Ok(reply) if reply.status == 200 => {}
            Ok(reply) => problems.push(format!(
                "{id}: a read during the outage answered {} {}",
                reply.status, reply.body
            )),
            Err(error) => problems.push(format!("{id}: a read during the outage failed: {error}")),
        }
    }
    problems
}

/// One polite writer of one session, until told to stop: every answer is
/// 200, or 503 `STORAGE_UNAVAILABLE` with a `Retry-After`.
pub(super) async fn write_on(
    address: SocketAddr,
    id: String,
    tag: String,
    seed: u64,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
) -> (String, Vec<super::ledger::Sent>, Vec<String>) {
    let mut client = Client::new(address);
    let mut rng = SplitMix64::new(seed);
    let mut sent = Vec::new();
    let mut problems = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let mutation = if rng.below(2) == 0 {
            Mutation::Rename(format!("{tag}.{n}"))
        } else {
            Mutation::Tax
        };
        let sent_at = Instant::now();
        let outcome = match mutation.send(&mut client, &id).await {
            Ok(reply) if reply.status == 503 => {
                if reply.code() != "STORAGE_UNAVAILABLE" || reply.retry_after.is_none() {
                    problems.push(format!(
                        "{id}: a refused write answered {} (Retry-After {:?})",
                        reply.body, reply.retry_after
                    ));
                }
                counters.refused.fetch_add(1, Ordering::SeqCst);
                let waited = u64::try_from(sent_at.elapsed().as_micros()).unwrap_or(u64::MAX);
                counters
                    .slowest_refusal_us
                    .fetch_max(waited, Ordering::SeqCst);
                // Not sure it did not land: the log decides.
                tokio::time::sleep(Duration::from_millis(10)).await;
                Outcome::Unknown
            }
            answer => {
                let (outcome, problem) = mutation.judge(&format!("{id}: "), answer);
                match problem {
                    None => {
                        counters.acked.fetch_add(1, Ordering::SeqCst);
                    }
                    Some(problem) => problems.push(problem),
                }
                outcome
            }
        };
        sent.push(super::ledger::Sent { mutation, outcome });
    }
    (id, sent, problems)
}

/// Fills the filesystem of `path` to the last byte.
fn fill(path: &Path) -> anyhow::Result<()> {
    let mut file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    for chunk in [1 << 20, 1 << 12, 1] {
        let block = vec![0_u8; chunk];
        while file.write_all(&block).and_then(|()| file.flush()).is_ok() {}
    }
    Ok(())
}

/// `chattr FLAG FILES`: `+i` makes a file immutable (writes through open
/// descriptors fail too, unlike `chmod`), `-i` makes it writable again.
fn chattr(flag: &str, files: &[PathBuf]) -> anyhow::Result<()> {
    let status = Command::new("chattr")
        .arg(flag)
        .args(files)
        .status()
        .context("cannot run chattr")?;
    if !status.success() {
        bail!(
            "chattr {flag} failed ({status}): the read-only fault needs root and a \
             filesystem with the immutable flag (ext4, xfs, btrfs), not tmpfs"
        );
    }
    Ok(())
}

/// A tmpfs mounted for the round, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> anyhow::Result<Tmpfs> {
        std::fs::create_dir_all(path)?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "kb-torture"])
            .arg(path)
            .status()
            .context("cannot run mount")?;
        if !status.success() {
            bail!(
                "cannot mount a tmpfs on {} ({status}): the disk-full fault needs root \
                 (CAP_SYS_ADMIN) to give the database a small disk of its own",
                path.display()
            );
        }
        Ok(Tmpfs(path.to_owned()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}
