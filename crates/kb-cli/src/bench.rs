//! `kingdom bench`: benchmarks. `engine` measures the rules engine alone;
//! HTTP load benchmarks join this group as further subcommands.

pub mod engine;

/// The benchmarks.
#[derive(Debug, clap::Subcommand)]
pub enum Bench {
    /// Engine commands per second over whole games, and the serialized size
    /// of a mid-game state.
    Engine(engine::Args),
}

impl Bench {
    /// Runs the chosen benchmark.
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Bench::Engine(args) => engine::run(&args),
        }
    }
}
