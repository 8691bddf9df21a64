//! `kingdom`: the Kingdom Builder binary (`serve`, `admin`, `replay`,
//! `bench`, `torture`). Each
//! subcommand lives in its own module; this file only parses the command
//! line and maps errors to exit codes.
//!
//! Exit codes: 0 success, 1 failure, 2 bad input (unreadable or malformed
//! files, invalid arguments).

mod admin;
mod bench;
mod content;
mod error;
mod fdlimit;
mod replay;
mod rng;
mod serve;
mod torture;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::InputError;

/// Kingdom Builder: game server and tools.
#[derive(Debug, Parser)]
#[command(name = "kingdom", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the HTTP game server.
    Serve(kb_server::ServeArgs),
    /// The operator's tools: backup, check, list, export, import, delete.
    Admin(admin::Args),
    /// Play a command file on a fresh game and print the results and the
    /// final snapshot as JSON.
    Replay(replay::Args),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(bench::Bench),
    /// The fault suite: runs the server under faults and checks that
    /// nothing acknowledged is lost.
    Torture(torture::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Admin(args) => admin::run(args),
        Command::Replay(args) => replay::run(&args),
        Command::Bench(bench) => bench.run(),
        Command::Torture(args) => torture::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kingdom: {error:#}");
            if error.downcast_ref::<InputError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
