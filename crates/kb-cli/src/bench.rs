//! `kingdom bench`: the project's benchmarks. `engine` measures the rules
//! engine alone; `ai` the AI levels' strength and speed; `load`, `live`, `wire`, `restore` and `storage` measure the server. See
//! BENCHMARKS.md for the figures and how to reproduce them.

pub mod ai;
pub mod engine;
pub mod live;
pub mod server;
pub mod wire;

/// The benchmarks.
#[derive(Debug, clap::Subcommand)]
pub enum Bench {
    /// Engine commands per second over whole games, and the serialized size
    /// of a mid-game state.
    Engine(engine::Args),
    /// AI strength: a round robin between the levels and a random player,
    /// with win rates, game lengths and time per AI turn.
    Ai(ai::Args),
    /// HTTP load: concurrent clients play real games and check every answer.
    Load(server::LoadArgs),
    /// Live play: many event streams (players and spectators) while
    /// players move: delivery latency, memory per stream, a restart.
    Live(live::LiveArgs),
    /// Bytes on the wire: a snapshot's size and the server's CPU per
    /// answer with each compression, and 304.
    Wire(wire::WireArgs),
    /// Restore: a database of many sessions, time to serve, memory.
    Restore(server::RestoreArgs),
    /// Bytes on disk per fresh session and per logged command.
    Storage(server::StorageArgs),
}

impl Bench {
    /// Runs the chosen benchmark.
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Bench::Engine(args) => engine::run(&args),
            Bench::Ai(args) => ai::run(&args),
            Bench::Load(args) => server::load(args),
            Bench::Live(args) => live::run(args),
            Bench::Wire(args) => wire::run(&args),
            Bench::Restore(args) => server::restore(args),
            Bench::Storage(args) => server::storage(&args),
        }
    }
}
