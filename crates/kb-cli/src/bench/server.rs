//! The server benchmarks of `kingdom bench`: HTTP load, restore and
//! storage. Figures are printed (medians of several runs where asked), never
//! asserted; see BENCHMARKS.md.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use kb_bench::load::{self, LoadOptions, Scenario};
use kb_bench::restore;
use kb_bench::server::{ServerOptions, ServerProcess, database_bytes};
use kb_bench::stats::{self, Summary};

/// `kingdom bench load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// A running server to target (`http://127.0.0.1:3001`); by default
    /// one is started on a temporary database.
    #[arg(long, value_parser = parse_url)]
    url: Option<std::net::SocketAddr>,
    /// Bearer token.
    #[arg(long, default_value = "local-dev")]
    token: String,
    /// `play`, `actions`, `snapshots`, `creates` or `ai` (snapshot reads
    /// by `--clients` while `--ai-clients` more play hard AI turns).
    #[arg(long, default_value = "play")]
    scenario: Scenario,
    /// Clients playing hard AI sessions in the `ai` scenario.
    #[arg(long, default_value_t = 2)]
    ai_clients: usize,
    /// Sessions in play.
    #[arg(long, default_value_t = 1000)]
    sessions: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seed of the move choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Durability of the started server: `normal` or `full`.
    #[arg(long, default_value = "normal")]
    sync: String,
    /// Runs; medians are reported.
    #[arg(long, default_value_t = 1)]
    runs: usize,
}

/// `kingdom bench restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Sessions in the database.
    #[arg(long, default_value_t = 100_000)]
    sessions: usize,
    /// Commands per session.
    #[arg(long, default_value_t = 50)]
    commands: usize,
    /// Sessions to read (and so rebuild) after start, to measure memory per
    /// live session.
    #[arg(long, default_value_t = 20_000)]
    touch: usize,
    /// Reuse this database if it exists (it is built otherwise).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Runs; medians are reported.
    #[arg(long, default_value_t = 1)]
    runs: usize,
}

/// `kingdom bench storage`.
#[derive(Debug, Args)]
pub struct StorageArgs {
    /// Sessions.
    #[arg(long, default_value_t = 10_000)]
    sessions: usize,
    /// Commands per session.
    #[arg(long, default_value_t = 50)]
    commands: usize,
}

pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Runs `kingdom bench load`.
pub fn load(args: LoadArgs) -> anyhow::Result<()> {
    runtime()?.block_on(load_bench(args))
}

/// Runs `kingdom bench restore`.
pub fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    runtime()?.block_on(restore_bench(args))
}

/// Runs `kingdom bench storage`.
pub fn storage(args: &StorageArgs) -> anyhow::Result<()> {
    storage_bench(args)
}

/// `http://host:port` (or `host:port`) to a socket address.
pub(super) fn parse_url(text: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let authority = text
        .strip_prefix("http://")
        .unwrap_or(text)
        .trim_end_matches('/');
    if authority.contains('/') || text.starts_with("https://") {
        return Err(format!(
            "{text:?}: give the server's root, http://HOST:PORT"
        ));
    }
    authority
        .to_socket_addrs()
        .map_err(|e| format!("{text:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("{text:?}: no address"))
}

pub(super) fn exe() -> anyhow::Result<PathBuf> {
    std::env::current_exe().context("cannot find the kingdom executable")
}

pub(super) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

async fn load_bench(args: LoadArgs) -> anyhow::Result<()> {
    let mut runs: Vec<Vec<Summary>> = Vec::new();
    for run in 1..=args.runs.max(1) {
        let dir = tempfile::tempdir()?;
        let server = match args.url {
            Some(_) => None,
            None => Some(
                ServerProcess::start(&ServerOptions {
                    exe: exe()?,
                    db: dir.path().join("sessions.db"),
                    sync: args.sync.clone(),
                    extra: vec!["--idle-timeout".into(), "0".into()],
                    port: None,
                })
                .await?,
            ),
        };
        let address = args
            .url
            .or(server.as_ref().map(|s| s.address))
            .expect("one of them");
        let options = LoadOptions {
            address,
            token: args.token.clone(),
            sessions: args.sessions,
            clients: args.clients,
            duration: Duration::from_secs(args.seconds),
            seed: args.seed,
            scenario: args.scenario,
            ai_clients: args.ai_clients,
        };
        let result = load::run(&options).await?;
        let ai_clients = if args.scenario == Scenario::Ai {
            format!(" + {} hard AI clients", args.ai_clients)
        } else {
            String::new()
        };
        println!(
            "run {run}: scenario {:?}, {} sessions, {} clients{ai_clients}, sync {}",
            args.scenario, args.sessions, args.clients, args.sync
        );
        let setup = result.setup.summaries(result.setup_elapsed);
        print!(
            "setup ({:.1} s)\n{}",
            result.setup_elapsed.as_secs_f64(),
            stats::table(&setup)
        );
        let measured = result.measured.summaries(result.elapsed);
        print!(
            "measured ({:.1} s)\n{}",
            result.elapsed.as_secs_f64(),
            stats::table(&measured)
        );
        if let Some(server) = server {
            let memory = server.memory()?;
            println!(
                "server memory: rss {:.1} MiB, peak {:.1} MiB; database {:.1} MiB",
                memory.rss as f64 / 1048576.0,
                memory.peak as f64 / 1048576.0,
                database_bytes(&dir.path().join("sessions.db")) as f64 / 1048576.0
            );
            server.stop()?;
        }
        anyhow::ensure!(
            result.setup.errors() + result.measured.errors() == 0,
            "some responses were not what the game required"
        );
        runs.push(measured);
        println!();
    }
    if runs.len() > 1 {
        println!("medians over {} runs", runs.len());
        let routes: Vec<&'static str> = runs[0].iter().map(|s| s.route).collect();
        for route in routes {
            let pick = |f: fn(&Summary) -> f64| {
                median(
                    runs.iter()
                        .filter_map(|r| r.iter().find(|s| s.route == route))
                        .map(f)
                        .collect(),
                )
            };
            println!(
                "{route:<12} {:>10.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
                pick(|s| s.per_second),
                pick(|s| s.p50_ms),
                pick(|s| s.p99_ms)
            );
        }
    }
    Ok(())
}

async fn restore_bench(args: RestoreArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = args
        .db
        .clone()
        .unwrap_or_else(|| dir.path().join("sessions.db"));
    if !db.exists() {
        println!(
            "building {} sessions × {} commands at {} ...",
            args.sessions,
            args.commands,
            db.display()
        );
        let built = restore::build_database(&db, args.sessions, args.commands)?;
        println!("built in {:.1} s", built.as_secs_f64());
    }
    let mut ready = Vec::new();
    let mut first = Vec::new();
    for run in 1..=args.runs.max(1) {
        let result = restore::restore(&exe()?, &db, args.sessions, args.touch, 8).await?;
        let mib = |b: u64| b as f64 / 1048576.0;
        let per_session = result
            .memory_after_touch
            .rss
            .saturating_sub(result.memory_at_start.rss) as f64
            / result.touched.max(1) as f64;
        println!(
            "run {run}: database {:.1} MiB; ready after {:.0} ms; first session served after {:.0} ms; \
             rss at start {:.1} MiB (peak {:.1}); {} sessions rebuilt in {:.1} s; rss after {:.1} MiB \
             (peak {:.1}): {:.1} KiB per live session",
            mib(result.db_bytes),
            result.ready_after.as_secs_f64() * 1000.0,
            result.first_snapshot_after.as_secs_f64() * 1000.0,
            mib(result.memory_at_start.rss),
            mib(result.memory_at_start.peak),
            result.touched,
            result.touch_elapsed.as_secs_f64(),
            mib(result.memory_after_touch.rss),
            mib(result.memory_after_touch.peak),
            per_session / 1024.0
        );
        ready.push(result.ready_after.as_secs_f64() * 1000.0);
        first.push(result.first_snapshot_after.as_secs_f64() * 1000.0);
    }
    println!(
        "median: ready after {:.0} ms, first session served after {:.0} ms",
        median(ready),
        median(first)
    );
    Ok(())
}

fn storage_bench(args: &StorageArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let empty = dir.path().join("empty.db");
    restore::build_database(&empty, 0, 0)?;
    let fresh = dir.path().join("fresh.db");
    restore::build_database(&fresh, args.sessions, 0)?;
    let played = dir.path().join("played.db");
    restore::build_database(&played, args.sessions, args.commands)?;
    let (e, f, p) = (
        database_bytes(&empty),
        database_bytes(&fresh),
        database_bytes(&played),
    );
    let per_session = (f - e) as f64 / args.sessions as f64;
    let per_command = (p - f) as f64 / (args.sessions * args.commands) as f64;
    println!(
        "{} sessions: empty database {} B (the default content stored once); \
         {:.0} B per fresh session (header + start entry); {:.1} B per logged command",
        args.sessions, e, per_session, per_command
    );
    Ok(())
}
