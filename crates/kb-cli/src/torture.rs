//! `kingdom torture`: the fault suite. It runs the real `kingdom serve` and
//! hits it with the faults a server meets in production (clients that
//! vanish mid-request, crowds on one session, SIGKILL, a full or read-only
//! disk, a restarted or shared PostgreSQL, slow and abusive connections)
//! while clients play. After every fault it checks the database: every
//! acknowledged mutation is there, at the version its answer showed, none
//! is applied twice, every session replays to its header's version, and
//! nothing is quarantined.
//!
//! `--quick` is the short form `cargo test` runs; `--minutes N` cycles
//! through the faults for N minutes with heavier loads (RELIABILITY.md
//! publishes its figures). Exit code 0 when nothing was lost, 1 when a
//! check failed, 2 for bad arguments.

mod abuse;
mod client;
mod crowd;
mod game;
mod ledger;
mod postgres;
mod server;
mod sigkill;
mod storage;
mod vanishing;
mod verify;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;

use crate::error::input;
use crate::rng::SplitMix64;

/// The faults, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// Clients that reset their connection mid-request (before the body is
    /// complete, while queued, during the commit, while the answer is
    /// written), among polite writers of the same sessions.
    VanishingClients,
    /// Many connections writing one session at once.
    OneSession,
    /// SIGKILL at random moments under mixed load, a restart after each.
    Sigkill,
    /// The disk fills up under a running server (a tmpfs the round mounts),
    /// then space returns.
    DiskFull,
    /// The database file is made read-only under a running server
    /// (`chattr +i`), then writable again.
    ReadOnly,
    /// PostgreSQL stopped and started again under load (a private cluster
    /// the round creates).
    PgRestart,
    /// Two servers on one PostgreSQL database, one SIGKILLed mid-load.
    TwoServers,
    /// Headers and bodies trickled a byte a second, bodies that never
    /// finish, more idle keep-alive connections than the server allows.
    SlowClients,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::VanishingClients => "vanishing-clients",
            Fault::OneSession => "one-session",
            Fault::Sigkill => "sigkill",
            Fault::DiskFull => "disk-full",
            Fault::ReadOnly => "read-only",
            Fault::PgRestart => "pg-restart",
            Fault::TwoServers => "two-servers",
            Fault::SlowClients => "slow-clients",
        }
    }

    fn run(self, round: &mut Round<'_>) -> anyhow::Result<FaultReport> {
        match self {
            Fault::VanishingClients => vanishing::run(round),
            Fault::OneSession => crowd::run(round),
            Fault::Sigkill => sigkill::run(round),
            Fault::DiskFull => storage::disk_full(round),
            Fault::ReadOnly => storage::read_only(round),
            Fault::PgRestart => {
                let bin = round.pg_bin.clone();
                postgres::restart(round, &bin)
            }
            Fault::TwoServers => {
                let url = round.postgres.clone();
                postgres::two_servers(round, &url)
            }
            Fault::SlowClients => abuse::run(round),
        }
    }
}

/// `kingdom torture`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The faults to inject (comma-separated); all by default.
    #[arg(long, value_delimiter = ',')]
    faults: Vec<Fault>,
    /// The short form: each fault once, with light loads (what `cargo test`
    /// runs).
    #[arg(long, conflicts_with = "minutes")]
    quick: bool,
    /// The long form: cycle through the faults, with heavy loads, for this
    /// many minutes.
    #[arg(long)]
    minutes: Option<f64>,
    /// Seed of every random choice (which client vanishes where, ...).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to keep databases and server logs (a fresh temporary directory
    /// by default, removed when every check passed).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Write the figures as JSON to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// The `kingdom` binary to torture (this one by default): an older
    /// build can be checked with the same suite.
    #[arg(long)]
    server: Option<PathBuf>,
    /// The PostgreSQL server of the two-servers fault (a schema of the
    /// round's own is created and dropped in it).
    #[arg(long, env = "KB_TEST_POSTGRES_URL", default_value = postgres::DEFAULT_URL)]
    postgres: String,
    /// Where PostgreSQL's programs are (`initdb`, `pg_ctl`), for the private
    /// cluster the pg-restart fault starts and restarts; the newest under
    /// /usr/lib/postgresql by default.
    #[arg(long)]
    pg_bin: Option<PathBuf>,
}

/// What one round of one fault did and found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FaultReport {
    /// The fault.
    pub fault: String,
    /// Rounds run.
    pub rounds: usize,
    /// Seconds spent.
    pub seconds: f64,
    /// Faults injected (resets, kills, outages...), counted as `injected_what`.
    pub injected: u64,
    /// What `injected` counts.
    pub injected_what: String,
    /// Acknowledged mutations, creations and deletions.
    pub acknowledged: usize,
    /// Of them, checked against the store.
    pub checked: usize,
    /// Acknowledged and not in the store as acknowledged.
    pub lost: usize,
    /// Applied twice, or from nowhere.
    pub duplicated: usize,
    /// Other observations (a polite client refused, a quarantine, ...).
    pub problems: Vec<String>,
    /// Figures worth reading that are not checks (one line per round).
    pub notes: Vec<String>,
}

impl FaultReport {
    fn new(fault: &str, injected_what: &str) -> Self {
        Self {
            fault: fault.to_owned(),
            rounds: 1,
            injected_what: injected_what.to_owned(),
            ..Self::default()
        }
    }

    /// Takes in a verification's tally.
    pub fn absorb(&mut self, tally: ledger::Tally) {
        self.checked += tally.checked;
        self.lost += tally.lost;
        self.duplicated += tally.duplicated;
        self.problems.extend(tally.problems);
    }

    fn add(&mut self, other: FaultReport) {
        self.rounds += other.rounds;
        self.seconds += other.seconds;
        self.injected += other.injected;
        self.acknowledged += other.acknowledged;
        self.checked += other.checked;
        self.lost += other.lost;
        self.duplicated += other.duplicated;
        self.problems.extend(other.problems);
        self.notes.extend(other.notes);
    }

    /// The end of a round: stops `server` gracefully, then counts what
    /// `ledger` acknowledged, checks the store at `db` against it, and
    /// reports every quarantine the server logged.
    pub fn conclude(
        &mut self,
        server: server::Server,
        db: &str,
        ledger: &ledger::Ledger,
    ) -> anyhow::Result<()> {
        let log = server.log().to_owned();
        server.stop()?;
        self.acknowledged = ledger.acknowledged();
        let store = verify::open_store(db)?;
        self.absorb(verify::verify(store.as_ref(), ledger)?);
        drop(store);
        self.problems.extend(server::quarantine_lines(&log));
        Ok(())
    }

    fn passed(&self) -> bool {
        self.lost == 0 && self.duplicated == 0 && self.problems.is_empty()
    }
}

/// The whole run.
#[derive(Debug, Serialize)]
struct Report {
    seed: u64,
    form: &'static str,
    seconds: f64,
    faults: Vec<FaultReport>,
    injected: u64,
    acknowledged: usize,
    checked: usize,
    lost: usize,
    duplicated: usize,
    passed: bool,
}

/// One run of one fault: where it works and what it may use.
pub struct Round<'a> {
    /// The `kingdom` binary under test.
    pub exe: &'a Path,
    /// A directory of its own.
    pub dir: PathBuf,
    /// Random choices.
    pub rng: SplitMix64,
    /// The long form's heavier loads.
    pub long: bool,
    /// The runtime clients run on.
    pub runtime: &'a tokio::runtime::Runtime,
    /// The PostgreSQL server of the two-servers fault.
    pub postgres: String,
    /// PostgreSQL's programs, for a private cluster.
    pub pg_bin: PathBuf,
}

impl Round<'_> {
    /// `quick` in the short form, `long` in the long one.
    pub fn size(&self, quick: usize, long: usize) -> usize {
        if self.long { long } else { quick }
    }

    /// A fresh seed for a client.
    pub fn seed(&mut self) -> u64 {
        self.rng.next_u64()
    }
}

/// Runs `kingdom torture`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let exe = match &args.server {
        Some(path) if !path.is_file() => {
            return Err(input(format!("--server {}: no such file", path.display())));
        }
        Some(path) => path.clone(),
        None => std::env::current_exe().context("cannot find this program's path")?,
    };
    if !(args.postgres.starts_with("postgres://") || args.postgres.starts_with("postgresql://")) {
        return Err(input(format!(
            "--postgres {:?}: give a postgres:// URL",
            args.postgres
        )));
    }
    let pg_bin = args
        .pg_bin
        .clone()
        .or_else(postgres::default_bin)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/bin"));
    let mut faults = args.faults.clone();
    if faults.is_empty() {
        faults = <Fault as clap::ValueEnum>::value_variants().to_vec();
    }
    faults.sort();
    faults.dedup();
    let (keep, dir) = match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            (None, dir.clone())
        }
        None => {
            let temp = tempfile::Builder::new()
                .prefix("kingdom-torture-")
                .tempdir()
                .context("cannot make a temporary directory")?;
            let path = temp.path().to_owned();
            (Some(temp), path)
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let budget = args
        .minutes
        .map(|m| Duration::from_secs_f64(m.max(0.0) * 60.0));
    let started = Instant::now();
    let mut rng = SplitMix64::new(args.seed);
    let mut totals: Vec<FaultReport> = Vec::new();
    let mut round_number = 0;
    'rounds: loop {
        for &fault in &faults {
            round_number += 1;
            let round_dir = dir.join(format!("{round_number:04}-{}", fault.name()));
            std::fs::create_dir_all(&round_dir)
                .with_context(|| format!("cannot create {}", round_dir.display()))?;
            let mut round = Round {
                exe: &exe,
                dir: round_dir,
                rng: SplitMix64::new(rng.next_u64()),
                long: budget.is_some(),
                runtime: &runtime,
                postgres: args.postgres.clone(),
                pg_bin: pg_bin.clone(),
            };
            let began = Instant::now();
            eprintln!("torture: round {round_number}: {}", fault.name());
            let mut report = match fault.run(&mut round) {
                Ok(report) => report,
                Err(error) => {
                    let mut report = FaultReport::new(fault.name(), "");
                    report
                        .problems
                        .push(format!("the round could not run: {error:#}"));
                    report
                }
            };
            report.seconds = began.elapsed().as_secs_f64();
            eprintln!(
                "torture: {}: {} {}, {} acknowledged, {} checked, {} lost, {} duplicated, {} problems ({:.1} s)",
                report.fault,
                report.injected,
                report.injected_what,
                report.acknowledged,
                report.checked,
                report.lost,
                report.duplicated,
                report.problems.len(),
                report.seconds
            );
            for note in &report.notes {
                eprintln!("torture:   ({note})");
            }
            for problem in report.problems.iter().take(20) {
                eprintln!("torture:   {problem}");
            }
            match totals.iter_mut().find(|total| total.fault == report.fault) {
                Some(total) => total.add(report),
                None => totals.push(report),
            }
            let over = budget.is_none_or(|budget| started.elapsed() >= budget);
            if over && round_number >= faults.len() {
                break 'rounds;
            }
        }
    }
    let report = Report {
        seed: args.seed,
        form: if budget.is_some() { "long" } else { "quick" },
        seconds: started.elapsed().as_secs_f64(),
        injected: totals.iter().map(|t| t.injected).sum(),
        acknowledged: totals.iter().map(|t| t.acknowledged).sum(),
        checked: totals.iter().map(|t| t.checked).sum(),
        lost: totals.iter().map(|t| t.lost).sum(),
        duplicated: totals.iter().map(|t| t.duplicated).sum(),
        passed: totals.iter().all(FaultReport::passed),
        faults: totals,
    };
    print_summary(&report);
    if let Some(path) = &args.report {
        let text = serde_json::to_string_pretty(&report).expect("plain data");
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if !report.passed {
        if let Some(temp) = keep {
            // Keep the evidence.
            let kept = temp.keep();
            eprintln!("torture: databases and logs kept in {}", kept.display());
        }
        bail!("the fault suite found problems (see above)");
    }
    Ok(())
}

fn print_summary(report: &Report) {
    println!(
        "{:<20} {:>6} {:>10} {:>14} {:>8} {:>6} {:>6} {:>8}",
        "fault", "rounds", "injected", "acknowledged", "checked", "lost", "dup", "problems"
    );
    for fault in &report.faults {
        println!(
            "{:<20} {:>6} {:>10} {:>14} {:>8} {:>6} {:>6} {:>8}",
            fault.fault,
            fault.rounds,
            fault.injected,
            fault.acknowledged,
            fault.checked,
            fault.lost,
            fault.duplicated,
            fault.problems.len()
        );
    }
    println!(
        "{:<20} {:>6} {:>10} {:>14} {:>8} {:>6} {:>6}   {:.0} s, seed {}, {}",
        "total",
        report.faults.iter().map(|f| f.rounds).sum::<usize>(),
        report.injected,
        report.acknowledged,
        report.checked,
        report.lost,
        report.duplicated,
        report.seconds,
        report.seed,
        if report.passed { "PASSED" } else { "FAILED" }
    );
}
