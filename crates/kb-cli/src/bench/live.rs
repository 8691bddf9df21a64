//! `kingdom bench live`: S two-human sessions, each streamed by both
//! players and K spectators while the players move at a target rate; then
//! a server restart every stream must survive (see `kb_bench::live` for
//! what is measured and checked). Figures are printed (medians of several
//! runs where asked), never asserted; the run fails when a stream missed,
//! repeated or reordered an event.

use std::time::Duration;

use anyhow::Context;
use clap::Args;
use kb_bench::live::{self, LiveOptions, LiveReport, Percentiles, Restart, Target};
use kb_bench::server::ServerOptions;

use super::server::{exe, median, parse_url, runtime};
use crate::error::input;

/// `kingdom bench live`.
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// A running server to target (`http://127.0.0.1:3001`, started with
    /// `--guests` and a `--max-connections` above the streams); by default
    /// one is started on a temporary database.
    #[arg(long, value_parser = parse_url)]
    url: Option<std::net::SocketAddr>,
    /// The process id of the `--url` server, to read its memory.
    #[arg(long, requires = "url")]
    pid: Option<u32>,
    /// Two-human sessions.
    #[arg(long, default_value_t = 1000)]
    sessions: usize,
    /// Spectators per session (each session also has its two players'
    /// streams).
    #[arg(long, default_value_t = 8)]
    spectators: usize,
    /// Moves per second over all sessions.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// How the started server is restarted after the measured phase:
    /// `kill` (SIGKILL), `term` (SIGTERM) or `none`.
    #[arg(long, default_value = "kill")]
    restart: Restart,
    /// Moves made in each session after the restart, before the streams
    /// reconnect (what each must catch up on).
    #[arg(long, default_value_t = 5)]
    missed: usize,
    /// Streams connecting at once.
    #[arg(long, default_value_t = 256)]
    connect_concurrency: usize,
    /// Pause before each memory reading, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    settle_ms: u64,
    /// Seed of the movers' offsets.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Durability of the started server: `normal` or `full`.
    #[arg(long, default_value = "normal")]
    sync: String,
    /// Runs; medians are reported.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Print the reports as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `kingdom bench live`.
pub fn run(args: LiveArgs) -> anyhow::Result<()> {
    if args.sessions == 0
        || args.runs == 0
        || args.rate.is_nan()
        || args.rate <= 0.0
        || args.seconds == 0
    {
        return Err(input(
            "--sessions, --runs, --rate and --seconds must be above 0",
        ));
    }
    let files = crate::fdlimit::raise();
    let streams = args.sessions * (2 + args.spectators);
    if let Some(files) = files
        && files < (streams + args.sessions + 64) as u64
    {
        eprintln!(
            "warning: {streams} streams need more descriptors than this process may open ({files})"
        );
    }
    runtime()?.block_on(bench(args))
}

async fn bench(args: LiveArgs) -> anyhow::Result<()> {
    let options = LiveOptions {
        sessions: args.sessions,
        spectators: args.spectators,
        rate: args.rate,
        duration: Duration::from_secs(args.seconds),
        seed: args.seed,
        restart: if args.url.is_some() {
            Restart::None
        } else {
            args.restart
        },
        missed: args.missed,
        connect_concurrency: args.connect_concurrency,
        settle: Duration::from_millis(args.settle_ms),
    };
    let streams = args.sessions * (2 + args.spectators);
    let mut reports = Vec::new();
    for run in 1..=args.runs {
        let dir = tempfile::tempdir()?;
        let target = match args.url {
            Some(address) => Target::Running {
                address,
                pid: args.pid,
            },
            None => Target::Launch(ServerOptions {
                exe: exe()?,
                db: dir.path().join("sessions.db"),
                sync: args.sync.clone(),
                extra: [
                    "--idle-timeout",
                    "0",
                    "--guests",
                    "--guest-limit",
                    &(args.sessions * 2).to_string(),
                    "--max-connections",
                    &(streams + args.sessions + 1024).to_string(),
                ]
                .map(String::from)
                .to_vec(),
                port: None,
            }),
        };
        let quiet = args.json;
        let report = live::run(target, &options, &move |what: &str| {
            if !quiet {
                eprintln!("run {run}: {what}");
            }
        })
        .await
        .with_context(|| format!("run {run}"))?;
        if !args.json {
            print_report(run, &report);
        }
        anyhow::ensure!(
            report.clean(),
            "run {run}: a stream missed, repeated or reordered an event, or did not catch up: {}",
            serde_json::to_string(&report)?
        );
        reports.push(report);
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "runs": reports,
                "median": medians(&reports),
            }))?
        );
    } else if reports.len() > 1 {
        let m = medians(&reports);
        println!("medians over {} runs: {}", reports.len(), m);
    }
    Ok(())
}

fn medians(reports: &[LiveReport]) -> serde_json::Value {
    let pick = |f: &dyn Fn(&LiveReport) -> Option<f64>| -> Option<f64> {
        let values: Vec<f64> = reports.iter().filter_map(f).collect();
        (!values.is_empty()).then(|| median(values))
    };
    serde_json::json!({
        "openSeconds": pick(&|r| Some(r.open_seconds)),
        "bytesPerStream": pick(&|r| r.memory.as_ref().map(|m| m.bytes_per_stream)),
        "bytesPerIdleConnection": pick(&|r| r.memory.as_ref().map(|m| m.bytes_per_idle_connection)),
        "movesPerSecond": pick(&|r| Some(r.moves_per_second)),
        "serverCpuPerEventUs": pick(&|r| r.server_cpu_per_event_us),
        "eventsPerSecond": pick(&|r| Some(r.events_per_second)),
        "latencyFromSendP50Ms": pick(&|r| Some(r.latency_from_send.p50_ms)),
        "latencyFromSendP99Ms": pick(&|r| Some(r.latency_from_send.p99_ms)),
        "latencyFromAckP50Ms": pick(&|r| Some(r.latency_from_ack.p50_ms)),
        "latencyFromAckP99Ms": pick(&|r| Some(r.latency_from_ack.p99_ms)),
        "writeP99Ms": pick(&|r| Some(r.write.p99_ms)),
        "restartDownSeconds": pick(&|r| r.restart.as_ref().map(|x| x.down_seconds)),
        "catchUpSeconds": pick(&|r| r.restart.as_ref().map(|x| x.catch_up_seconds)),
        "catchUpP50Seconds": pick(&|r| r.restart.as_ref().map(|x| x.catch_up_p50_seconds)),
    })
}

fn line(name: &str, p: &Percentiles) -> String {
    format!(
        "{name:<28} {:>9} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
        p.count, p.p50_ms, p.p90_ms, p.p99_ms, p.max_ms
    )
}

fn print_report(run: usize, r: &LiveReport) {
    let mib = |b: u64| b as f64 / 1048576.0;
    println!(
        "run {run}: {} sessions × (2 players + {} spectators) = {} streams; set up in {:.1} s, \
         streams opened in {:.2} s",
        r.sessions, r.spectators, r.streams, r.setup_seconds, r.open_seconds
    );
    if let Some(m) = &r.memory {
        println!(
            "server memory: rss {:.1} MiB with no stream, {:.1} MiB with {} open: {:.0} B ({:.1} KiB) \
             per open stream ({:.1} KiB per idle keep-alive connection); {:.1} MiB after the moves",
            mib(m.rss_no_streams),
            mib(m.rss_streams_open),
            r.streams,
            m.bytes_per_stream,
            m.bytes_per_stream / 1024.0,
            m.bytes_per_idle_connection / 1024.0,
            mib(m.rss_after_moves)
        );
    }
    println!(
        "moves: {} in {:.1} s = {:.0}/s (target {:.0}/s); events delivered: {} = {:.0}/s, {} B each",
        r.moves,
        r.measured_seconds,
        r.moves_per_second,
        r.target_moves_per_second,
        r.events_delivered,
        r.events_per_second,
        r.event_bytes_mean
    );
    if let (Some(seconds), Some(per_event)) = (r.server_cpu_seconds, r.server_cpu_per_event_us) {
        println!(
            "cpu: server {seconds:.2} s ({per_event:.1} µs per event delivered); this benchmark {:.2} s",
            r.bench_cpu_seconds
        );
    }
    println!(
        "{:<28} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "latency (ms)", "count", "p50", "p90", "p99", "max"
    );
    println!("{}", line("write (answer read)", &r.write));
    println!("{}", line("delivery from send", &r.latency_from_send));
    println!("{}", line("  at players", &r.latency_from_send_players));
    println!(
        "{}",
        line("  at spectators", &r.latency_from_send_spectators)
    );
    println!("{}", line("delivery from ack", &r.latency_from_ack));
    println!(
        "checks: all delivered {}, gaps {}, repeats {}, bad events {}, unexpected drops {}, refused {}",
        r.all_delivered, r.gaps, r.repeats, r.bad_events, r.unexpected_drops, r.refused
    );
    if let Some(x) = &r.restart {
        println!(
            "restart ({:?}): down {:.2} s (stop to first answer); {} moves missed, {} events to \
             catch up; all {} streams reconnected and caught up in {:.2} s (median stream {:.2} s): \
             {}; live after: {}",
            x.mode,
            x.down_seconds,
            x.missed_moves,
            x.events_to_catch_up,
            r.streams,
            x.catch_up_seconds,
            x.catch_up_p50_seconds,
            x.all_caught_up,
            x.live_after
        );
    }
    println!();
}
