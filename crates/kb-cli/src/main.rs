//! The `kingdom` binary: `kingdom serve` hosts games over HTTP.

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        CommandLine::Serve(args) => serve::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kingdom: {error:#}");
            ExitCode::FAILURE
        }
    }
}
