//! The `kingdom` binary: `kingdom serve` hosts games over HTTP; `kingdom
//! bench` measures it.

mod bench;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Kingdom Builder: game server and tools.
#[derive(Parser)]
#[command(name = "kingdom", version, about)]
struct Cli {
    #[command(subcommand)]
    command: CommandLine,
}

#[derive(Subcommand)]
enum CommandLine {
    /// Start the HTTP game server.
    Serve(kb_server::ServeArgs),
    /// Measure the server (see BENCHMARKS.md).
    #[command(subcommand)]
    Bench(bench::Bench),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        CommandLine::Serve(args) => serve::run(args),
        CommandLine::Bench(bench) => bench::run(bench),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kingdom: {error:#}");
            ExitCode::FAILURE
        }
    }
}
