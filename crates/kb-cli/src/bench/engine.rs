//! `kingdom bench engine`: how fast the rules engine plays whole games,
//! and how big a mid-game state is.
//!
//! Each run plays the same `--games` games on the default content: seat B
//! is the built-in AI (one `aiTurn` command per turn), seat A a simulated
//! human who advances through its growth and upkeep steps and, in its main
//! phase, performs legal moves picked at random (SplitMix64, seeded by
//! `--seed` and the game number) until it runs out of action points or
//! chooses to end the turn. Only the time spent in `Game::apply` counts as
//! engine time; choosing moves (`legal_moves` tries every candidate) is
//! reported separately. The median of `--runs` runs is reported.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use kb_engine::{Command, Content, EngineError, Game, GameOptions, Outcome};
use serde::Serialize;

use crate::content;
use crate::error::input;
use crate::rng::SplitMix64;

/// A game that has not ended after this many turns is stopped.
const MAX_TURNS: u32 = 300;
/// In its main phase the simulated human ends the turn early with
/// probability 1 in this.
const END_TURN_ODDS: usize = 6;

/// Arguments of `kingdom bench engine`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Whole games per run.
    #[arg(long, default_value_t = 100)]
    pub games: u32,
    /// Runs; the median is reported.
    #[arg(long, default_value_t = 5)]
    pub runs: u32,
    /// Seed of the simulated human player.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The turn at whose start the mid-game state is measured.
    #[arg(long, default_value_t = 10)]
    pub mid_turn: u32,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What one run did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct Counts {
    commands: u64,
    advances: u64,
    actions: u64,
    ai_turns: u64,
    refused: u64,
    /// Steps the AI turns advanced and actions they performed inside.
    ai_inner_steps: u64,
    turns: u64,
    castle_destroyed: u32,
    bankruptcy: u32,
    unfinished: u32,
}

/// One run's measurements.
#[derive(Clone, Debug)]
struct Run {
    counts: Counts,
    engine: Duration,
    total: Duration,
    fingerprint: u64,
}

/// The report.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    release_build: bool,
    games: u32,
    runs: u32,
    seed: u64,
    counts: Counts,
    commands_per_second_median: f64,
    commands_per_second_runs: Vec<f64>,
    commands_per_second_with_move_choice_median: f64,
    engine_seconds_median: f64,
    mid_game: MidGame,
    deterministic: bool,
    fingerprint: String,
}

/// Size of the state at the start of a mid-game turn.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MidGame {
    game: u32,
    turn: u32,
    /// `GameState` as a checkpoint stores it, uncompressed: what a session
    /// store persists.
    state_bytes: usize,
    /// `Game::snapshot()` as JSON, uncompressed: what a client receives.
    snapshot_bytes: usize,
}

/// Runs `kingdom bench engine`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    if args.games == 0 || args.runs == 0 {
        return Err(input("--games and --runs must be at least 1"));
    }
    let content = content::default_content()?;
    let mid_game = mid_game(&content, args)?;
    let runs = (0..args.runs)
        .map(|_| run_once(&content, args))
        .collect::<anyhow::Result<Vec<Run>>>()?;
    let first = &runs[0];
    let deterministic = runs
        .iter()
        .all(|r| r.fingerprint == first.fingerprint && r.counts == first.counts);
    let per_second = |r: &Run, time: Duration| r.counts.commands as f64 / time.as_secs_f64();
    let engine_rates: Vec<f64> = runs.iter().map(|r| per_second(r, r.engine)).collect();
    let total_rates: Vec<f64> = runs.iter().map(|r| per_second(r, r.total)).collect();
    let engine_seconds: Vec<f64> = runs.iter().map(|r| r.engine.as_secs_f64()).collect();
    let report = Report {
        release_build: !cfg!(debug_assertions),
        games: args.games,
        runs: args.runs,
        seed: args.seed,
        counts: first.counts.clone(),
        commands_per_second_median: median(&engine_rates),
        commands_per_second_runs: engine_rates,
        commands_per_second_with_move_choice_median: median(&total_rates),
        engine_seconds_median: median(&engine_seconds),
        mid_game,
        deterministic,
        fingerprint: format!("{:016x}", first.fingerprint),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    if !deterministic {
        bail!("runs with the same seed ended in different states");
    }
    Ok(())
}

fn print_report(r: &Report) {
    let c = &r.counts;
    if !r.release_build {
        println!("warning: debug build; build with --release for meaningful numbers");
    }
    println!(
        "kingdom bench engine: {} games x {} runs, seed {}",
        r.games, r.runs, r.seed
    );
    println!(
        "  commands per run:   {} ({} advance, {} action, {} aiTurn; {} refused), {:.0} per game",
        c.commands,
        c.advances,
        c.actions,
        c.ai_turns,
        c.refused,
        c.commands as f64 / f64::from(r.games)
    );
    println!(
        "  games:              {} castle destroyed, {} bankruptcy, {} unfinished; {:.1} turns on average",
        c.castle_destroyed,
        c.bankruptcy,
        c.unfinished,
        c.turns as f64 / f64::from(r.games)
    );
    println!(
        "  AI turns ran:       {} steps and actions inside {} aiTurn commands",
        c.ai_inner_steps, c.ai_turns
    );
    let runs: Vec<String> = r
        .commands_per_second_runs
        .iter()
        .map(|v| format!("{v:.0}"))
        .collect();
    println!(
        "  engine:             {:.0} commands/s (median; runs: {}), {:.3} s per run",
        r.commands_per_second_median,
        runs.join(", "),
        r.engine_seconds_median
    );
    println!(
        "  with move choice:   {:.0} commands/s (median, legal_moves included)",
        r.commands_per_second_with_move_choice_median
    );
    println!(
        "  mid-game state:     {} bytes GameState JSON, {} bytes snapshot JSON (turn {}, game {}, uncompressed)",
        r.mid_game.state_bytes, r.mid_game.snapshot_bytes, r.mid_game.turn, r.mid_game.game
    );
    println!(
        "  deterministic:      {} (fingerprint {})",
        if r.deterministic { "yes" } else { "NO" },
        r.fingerprint
    );
}

/// Plays every game once, timing `Game::apply`.
fn run_once(content: &Arc<Content>, args: &Args) -> anyhow::Result<Run> {
    let mut counts = Counts::default();
    let mut engine = Duration::ZERO;
    let mut fingerprint = Fnv::new();
    let started = Instant::now();
    for index in 0..args.games {
        let mut player = Player::new(args.seed, index);
        let mut game =
            Game::new(content.clone(), GameOptions::default()).context("cannot start a game")?;
        while game.state().conclusion.is_none() && game.state().turn <= MAX_TURNS {
            let (command, result, took) = player.play(&mut game);
            engine += took;
            counts.record(&command, &result);
        }
        counts.finish(&game);
        fingerprint.write(&kb_session::stored::encode(game.state()));
    }
    Ok(Run {
        counts,
        engine,
        total: started.elapsed(),
        fingerprint: fingerprint.0,
    })
}

/// Plays the games until one reaches `--mid-turn` and measures its state.
fn mid_game(content: &Arc<Content>, args: &Args) -> anyhow::Result<MidGame> {
    for index in 0..args.games {
        let mut player = Player::new(args.seed, index);
        let mut game = Game::new(content.clone(), GameOptions::default())?;
        while game.state().conclusion.is_none() && game.state().turn < args.mid_turn {
            // Only the state matters here, not what each command answered.
            let _ = player.play(&mut game);
        }
        if game.state().turn == args.mid_turn && game.state().conclusion.is_none() {
            return Ok(MidGame {
                game: index,
                turn: args.mid_turn,
                state_bytes: kb_session::stored::encode(game.state()).len(),
                snapshot_bytes: serde_json::to_vec(&kb_protocol::answers::Wire(&game.snapshot()))?
                    .len(),
            });
        }
    }
    Err(input(format!(
        "no game reached turn {}; lower --mid-turn",
        args.mid_turn
    )))
}

/// The simulated players: the AI plays its seat's turns; a human advances
/// outside its action phase and picks legal moves inside it.
struct Player {
    rng: SplitMix64,
    refusals: u32,
}

impl Player {
    fn new(seed: u64, game: u32) -> Self {
        Player {
            rng: SplitMix64::new(seed ^ u64::from(game).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            refusals: 0,
        }
    }

    fn next(&mut self, game: &Game) -> Command {
        let state = game.state();
        let active = state.active;
        if *state.ai.get(active) {
            return Command::AiTurn { player_id: active };
        }
        let ap = game.content().action_cost_resource();
        let points = state.players.get(active).resources.value(ap);
        let in_action_phase = game.content().phases()[state.phase_index].action;
        if !in_action_phase || points <= 0.0 || self.refusals > 2 {
            return Command::Advance;
        }
        if self.rng.below(END_TURN_ODDS) == 0 {
            return Command::Advance;
        }
        let moves = game.legal_moves();
        if moves.is_empty() {
            return Command::Advance;
        }
        let chosen = &moves[self.rng.below(moves.len())];
        Command::Action {
            action_id: chosen.action_id.clone(),
            params: chosen.params.clone(),
            player_id: Some(active),
        }
    }

    /// Picks and applies the next command; returns it, its result and the
    /// time `Game::apply` took.
    fn play(&mut self, game: &mut Game) -> (Command, Result<Outcome, EngineError>, Duration) {
        let command = self.next(game);
        let started = Instant::now();
        let result = game.apply(&command);
        let took = started.elapsed();
        self.refusals = if result.is_ok() { 0 } else { self.refusals + 1 };
        (command, result, took)
    }
}

impl Counts {
    fn record(&mut self, command: &Command, result: &Result<Outcome, EngineError>) {
        self.commands += 1;
        match command {
            Command::Advance => self.advances += 1,
            Command::Action { .. } | Command::AiAction { .. } => self.actions += 1,
            Command::AiTurn { .. } | Command::AiMoves { .. } => self.ai_turns += 1,
            Command::SetDevMode { .. } | Command::SetPlayerName { .. } => {}
        }
        match result {
            Ok(Outcome::AiTurn(turn)) => {
                self.ai_inner_steps += (turn.advances.len() + turn.actions.len()) as u64;
            }
            Ok(_) => {}
            Err(_) => self.refused += 1,
        }
    }

    fn finish(&mut self, game: &Game) {
        let state = game.state();
        self.turns += u64::from(state.turn);
        match state.conclusion.as_ref().map(|c| c.condition_id.as_str()) {
            Some("castle-destroyed") => self.castle_destroyed += 1,
            Some(_) => self.bankruptcy += 1,
            None => self.unfinished += 1,
        }
    }
}

/// FNV-1a over the final states: equal across runs when play is
/// deterministic.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    }
}
