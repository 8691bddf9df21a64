//! `kingdom bench wire`: a snapshot's bytes and the server's CPU time per
//! answer with each compression (gzip, br, zstd at the server's levels)
//! against identity, and with a matching `If-None-Match` (304). See
//! `kb_bench::wire`; figures are printed, never asserted.

use std::time::Duration;

use clap::Args;
use kb_bench::server::{ServerOptions, ServerProcess};
use kb_bench::wire;

use super::server::{exe, median, runtime};
use crate::error::input;

/// `kingdom bench wire`.
#[derive(Debug, Args)]
pub struct WireArgs {
    /// Concurrent clients.
    #[arg(long, default_value_t = 2)]
    clients: usize,
    /// Measured seconds per encoding.
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// Runs (each on a new server); medians are reported.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Print the reports as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `kingdom bench wire`.
pub fn run(args: &WireArgs) -> anyhow::Result<()> {
    if args.runs == 0 || args.seconds == 0 || args.clients == 0 {
        return Err(input("--runs, --seconds and --clients must be above 0"));
    }
    runtime()?.block_on(bench(args))
}

async fn bench(args: &WireArgs) -> anyhow::Result<()> {
    let mut reports = Vec::new();
    for run in 1..=args.runs {
        let dir = tempfile::tempdir()?;
        let server = ServerProcess::start(&ServerOptions {
            exe: exe()?,
            db: dir.path().join("sessions.db"),
            sync: "normal".into(),
            extra: vec!["--idle-timeout".into(), "0".into()],
            port: None,
        })
        .await?;
        let report = wire::run(
            server.address,
            server.pid(),
            args.clients,
            Duration::from_secs(args.seconds),
        )
        .await?;
        server.stop()?;
        if !args.json {
            println!(
                "run {run}: snapshot at version {}, {} clients, {} s per encoding",
                report.version, args.clients, args.seconds
            );
            println!(
                "{:<9} {:>9} {:>9} {:>9} {:>13} {:>13} {:>8} {:>8}",
                "encoding",
                "answers",
                "ans/s",
                "bytes",
                "server CPU µs",
                "over identity",
                "p50 ms",
                "p99 ms"
            );
            let identity = report.encodings[0].server_cpu_us;
            for e in &report.encodings {
                println!(
                    "{:<9} {:>9} {:>9.0} {:>9} {:>13.1} {:>13.1} {:>8.3} {:>8.3}",
                    e.encoding,
                    e.answers,
                    e.per_second,
                    e.bytes,
                    e.server_cpu_us,
                    e.server_cpu_us - identity,
                    e.p50_ms,
                    e.p99_ms
                );
            }
            println!();
        }
        reports.push(report);
    }
    let medians: Vec<serde_json::Value> = wire::ENCODINGS
        .iter()
        .enumerate()
        .map(|(i, encoding)| {
            let of = |f: fn(&wire::EncodingReport) -> f64| {
                median(reports.iter().map(|r| f(&r.encodings[i])).collect())
            };
            serde_json::json!({
                "encoding": encoding,
                "bytes": of(|e| e.bytes as f64),
                "serverCpuUs": of(|e| e.server_cpu_us),
                "perSecond": of(|e| e.per_second),
                "p50Ms": of(|e| e.p50_ms),
            })
        })
        .collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"runs": reports, "median": medians}))?
        );
    } else if reports.len() > 1 {
        println!("medians over {} runs:", reports.len());
        for m in &medians {
            println!("{m}");
        }
    }
    Ok(())
}
