//! `kingdom bench ai`: how strong each AI level is, and how long its turns
//! take.
//!
//! A round robin on the default content between `easy`, `normal`, `hard`
//! and `random` (uniformly random legal moves): every pairing plays
//! `--games` games, half with each contender on seat A (with `--mirrors`,
//! each contender also plays itself). Each game's seeds
//! come from `--seed`, the pairing and the game number, so a run is
//! reproducible and the games of a pairing differ. Every turn is played by
//! [`kb_ai::play_turn`], exactly as a server would play an AI seat, and
//! timed whole (its growth and upkeep steps included), single-threaded.
//!
//! The report gives, per pairing, the wins of each side with a 95 % Wilson
//! interval, the games left unfinished at `--max-turns`, how the games
//! ended, their average length in turns and how many distinct games were
//! played; per contender, the time per turn (median and p99 of each run,
//! and the median of those over `--runs` runs); and the targets.
//! Every run must play identical games (the AI is deterministic); the
//! benchmark fails otherwise.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use kb_ai::{Level, RandomMover, SplitMix64};
use kb_engine::{AiPolicy, ByPlayer, Content, Game, GameOptions, PlayerId};
use serde::Serialize;

use crate::content;
use crate::error::input;

/// Arguments of `kingdom bench ai`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Games per pairing (half with each contender on seat A).
    #[arg(long, default_value_t = 200)]
    pub games: u32,
    /// Runs; timings are the median over runs, results must be identical.
    #[arg(long, default_value_t = 1)]
    pub runs: u32,
    /// Base seed of the games.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Contenders, comma-separated (easy, normal, hard, random).
    #[arg(long, default_value = "easy,normal,hard,random", value_delimiter = ',')]
    pub players: Vec<String>,
    /// Also play each contender against itself.
    #[arg(long)]
    pub mirrors: bool,
    /// A game still going after this many turns counts as unfinished.
    #[arg(long, default_value_t = 500)]
    pub max_turns: u32,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A contender: an AI level or the random mover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Contender {
    Level(Level),
    Random,
}

impl Contender {
    fn parse(text: &str) -> anyhow::Result<Contender> {
        if text == "random" {
            return Ok(Contender::Random);
        }
        text.parse::<Level>()
            .map(Contender::Level)
            .map_err(|e| input(format!("{e}, or random")))
    }

    fn name(self) -> String {
        match self {
            Contender::Level(level) => level.to_string(),
            Contender::Random => "random".to_owned(),
        }
    }

    fn policy(self, seed: u64) -> Box<dyn AiPolicy> {
        match self {
            Contender::Level(level) => Box::new(kb_ai::policy(level, seed)),
            Contender::Random => Box::new(RandomMover::new(seed)),
        }
    }
}

/// How one game ended.
#[derive(Clone, Debug, PartialEq)]
struct GameResult {
    /// The winning seat, if the game ended.
    winner: Option<PlayerId>,
    /// The win condition.
    condition: Option<String>,
    /// The turn the game ended in (or was stopped after).
    turns: u32,
    /// FNV-1a of the final state's JSON.
    fingerprint: u64,
}

/// One pairing's games in one run.
#[derive(Clone, Debug, PartialEq)]
struct PairingRun {
    first: usize,
    second: usize,
    /// Results, game by game; in even games `first` is on seat A.
    games: Vec<GameResult>,
}

/// Turn times of one contender in one run, in milliseconds: wall-clock
/// time, and the CPU time of the thread (which other work on a shared
/// machine does not inflate).
#[derive(Clone, Debug, Default)]
struct Times {
    wall: Vec<f64>,
    cpu: Vec<f64>,
}

/// CPU time the current thread has used.
#[cfg(unix)]
fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// CPU time the current thread has used (wall time where the platform
/// does not say).
#[cfg(not(unix))]
fn thread_cpu() -> Duration {
    use std::sync::OnceLock;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

/// The report.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    release_build: bool,
    games_per_pairing: u32,
    runs: u32,
    seed: u64,
    max_turns: u32,
    pairings: Vec<PairingReport>,
    turn_times: Vec<TimeReport>,
    targets: Vec<Target>,
    deterministic: bool,
}

/// One pairing, `first` against `second`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PairingReport {
    first: String,
    second: String,
    games: u32,
    first_wins: u32,
    second_wins: u32,
    unfinished: u32,
    /// `first`'s share of all games, and its 95 % Wilson interval.
    first_win_rate: f64,
    first_win_rate_low: f64,
    first_win_rate_high: f64,
    /// Wins of `first` with `first` on seat A, and on seat B.
    first_wins_as_a: u32,
    first_wins_as_b: u32,
    /// Wins of seat A and of seat B, whoever sat there.
    seat_a_wins: u32,
    seat_b_wins: u32,
    average_turns: f64,
    /// Endings by win condition id (`unfinished` for none).
    endings: Vec<(String, u32)>,
    distinct_games: usize,
}

/// Turn times of one contender.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TimeReport {
    player: String,
    turns_per_run: usize,
    /// Wall-clock time per turn (ms).
    wall: Quantiles,
    /// Thread CPU time per turn (ms).
    cpu: Quantiles,
}

/// Medians over runs of each run's median, p99 and maximum, and each
/// run's (median, p99), in ms.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Quantiles {
    median_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    runs: Vec<(f64, f64)>,
}

/// One of the targets.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    what: String,
    measured: String,
    met: bool,
}

/// Runs `kingdom bench ai`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    if args.games == 0 || args.runs == 0 || args.max_turns == 0 {
        return Err(input("--games, --runs and --max-turns must be at least 1"));
    }
    let mut contenders: Vec<Contender> = Vec::new();
    for name in &args.players {
        let contender = Contender::parse(name.trim())?;
        if !contenders.contains(&contender) {
            contenders.push(contender);
        }
    }
    if contenders.len() < 2 && !args.mirrors {
        return Err(input(
            "--players needs at least two different contenders (or --mirrors)",
        ));
    }
    let content = content::default_content()?;
    let mut runs: Vec<(Vec<PairingRun>, Vec<Times>)> = Vec::new();
    for _ in 0..args.runs {
        runs.push(run_once(&content, args, &contenders)?);
    }
    let deterministic = runs.iter().all(|(p, _)| *p == runs[0].0);
    let pairings: Vec<PairingReport> = runs[0]
        .0
        .iter()
        .map(|p| pairing_report(p, &contenders))
        .collect();
    let turn_times = contenders
        .iter()
        .enumerate()
        .map(|(i, c)| time_report(c.name(), runs.iter().map(|(_, t)| &t[i])))
        .collect::<Vec<_>>();
    let targets = targets(&pairings, &turn_times);
    let report = Report {
        release_build: !cfg!(debug_assertions),
        games_per_pairing: args.games,
        runs: args.runs,
        seed: args.seed,
        max_turns: args.max_turns,
        pairings,
        turn_times,
        targets,
        deterministic,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    if !deterministic {
        bail!("runs with the same seed played different games");
    }
    Ok(())
}

/// Plays the round robin once.
fn run_once(
    content: &Arc<Content>,
    args: &Args,
    contenders: &[Contender],
) -> anyhow::Result<(Vec<PairingRun>, Vec<Times>)> {
    let mut times = vec![Times::default(); contenders.len()];
    let mut pairings = Vec::new();
    let mut pairing_index = 0u64;
    for first in 0..contenders.len() {
        let from = if args.mirrors { first } else { first + 1 };
        for second in from..contenders.len() {
            pairing_index += 1;
            let mut games = Vec::new();
            for game_index in 0..args.games {
                let mut rng = SplitMix64::new(
                    args.seed
                        ^ pairing_index.wrapping_mul(0xa076_1d64_78bd_642f)
                        ^ u64::from(game_index).wrapping_mul(0xe703_7ed1_a0b4_28db),
                );
                let (a, b) = if game_index % 2 == 0 {
                    (first, second)
                } else {
                    (second, first)
                };
                let seats = ByPlayer {
                    a: (a, contenders[a].policy(rng.next_u64())),
                    b: (b, contenders[b].policy(rng.next_u64())),
                };
                games.push(play(content, &seats, args.max_turns, &mut times)?);
            }
            pairings.push(PairingRun {
                first,
                second,
                games,
            });
        }
    }
    Ok((pairings, times))
}

/// Plays one game, timing every turn of each seat.
fn play(
    content: &Arc<Content>,
    seats: &ByPlayer<(usize, Box<dyn AiPolicy>)>,
    max_turns: u32,
    times: &mut [Times],
) -> anyhow::Result<GameResult> {
    let options = GameOptions {
        dev_mode: false,
        ai: ByPlayer { a: true, b: true },
    };
    let mut game = Game::new(content.clone(), options).context("cannot start a game")?;
    let mut turn = 1;
    while game.state().conclusion.is_none() && game.state().turn <= max_turns {
        let active = game.state().active;
        let (index, policy) = seats.get(active);
        turn = game.state().turn;
        let cpu = thread_cpu();
        let started = Instant::now();
        kb_ai::play_turn(&mut game, active, policy.as_ref())
            .with_context(|| format!("an AI turn failed in turn {turn}"))?;
        let wall = started.elapsed();
        let times = &mut times[*index];
        times.wall.push(wall.as_secs_f64() * 1000.0);
        times
            .cpu
            .push((thread_cpu().saturating_sub(cpu)).as_secs_f64() * 1000.0);
    }
    let state = game.state();
    let mut fingerprint: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in kb_session::stored::encode(state) {
        fingerprint = (fingerprint ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    Ok(GameResult {
        winner: state.conclusion.as_ref().map(|c| c.winner_id),
        condition: state
            .conclusion
            .as_ref()
            .map(|c| c.condition_id.to_string()),
        turns: turn,
        fingerprint,
    })
}

fn pairing_report(p: &PairingRun, contenders: &[Contender]) -> PairingReport {
    let n = p.games.len() as u32;
    let mut report = PairingReport {
        first: contenders[p.first].name(),
        second: contenders[p.second].name(),
        games: n,
        first_wins: 0,
        second_wins: 0,
        unfinished: 0,
        first_win_rate: 0.0,
        first_win_rate_low: 0.0,
        first_win_rate_high: 0.0,
        first_wins_as_a: 0,
        first_wins_as_b: 0,
        seat_a_wins: 0,
        seat_b_wins: 0,
        average_turns: 0.0,
        endings: Vec::new(),
        distinct_games: 0,
    };
    let mut fingerprints = Vec::new();
    let mut turns = 0u64;
    for (i, game) in p.games.iter().enumerate() {
        let first_seat = if i % 2 == 0 { PlayerId::A } else { PlayerId::B };
        match game.winner {
            Some(PlayerId::A) => report.seat_a_wins += 1,
            Some(PlayerId::B) => report.seat_b_wins += 1,
            None => {}
        }
        match game.winner {
            Some(seat) if seat == first_seat => {
                report.first_wins += 1;
                if seat == PlayerId::A {
                    report.first_wins_as_a += 1;
                } else {
                    report.first_wins_as_b += 1;
                }
            }
            Some(_) => report.second_wins += 1,
            None => report.unfinished += 1,
        }
        let ending = game
            .condition
            .clone()
            .unwrap_or_else(|| "unfinished".into());
        match report.endings.iter_mut().find(|(e, _)| *e == ending) {
            Some((_, count)) => *count += 1,
            None => report.endings.push((ending, 1)),
        }
        turns += u64::from(game.turns);
        if !fingerprints.contains(&game.fingerprint) {
            fingerprints.push(game.fingerprint);
        }
    }
    report.endings.sort();
    report.distinct_games = fingerprints.len();
    report.average_turns = turns as f64 / f64::from(n);
    let (rate, low, high) = wilson(report.first_wins, n);
    report.first_win_rate = rate;
    report.first_win_rate_low = low;
    report.first_win_rate_high = high;
    report
}

/// The share `k / n` and its 95 % Wilson score interval.
fn wilson(k: u32, n: u32) -> (f64, f64, f64) {
    if n == 0 {
        return (0.0, 0.0, 1.0);
    }
    let z = 1.959_963_984_540_054_f64;
    let n = f64::from(n);
    let p = f64::from(k) / n;
    let denominator = 1.0 + z * z / n;
    let center = (p + z * z / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denominator;
    (p, (center - half).max(0.0), (center + half).min(1.0))
}

fn time_report<'a>(player: String, runs: impl Iterator<Item = &'a Times> + Clone) -> TimeReport {
    TimeReport {
        player,
        turns_per_run: runs.clone().next().map_or(0, |t| t.wall.len()),
        wall: quantiles(runs.clone().map(|t| &t.wall)),
        cpu: quantiles(runs.map(|t| &t.cpu)),
    }
}

fn quantiles<'a>(runs: impl Iterator<Item = &'a Vec<f64>>) -> Quantiles {
    let mut per_run = Vec::new();
    let mut maxima = Vec::new();
    for times in runs {
        let mut sorted = times.clone();
        sorted.sort_by(f64::total_cmp);
        per_run.push((quantile(&sorted, 0.5), quantile(&sorted, 0.99)));
        maxima.push(sorted.last().copied().unwrap_or(0.0));
    }
    Quantiles {
        median_ms: median(per_run.iter().map(|r| r.0)),
        p99_ms: median(per_run.iter().map(|r| r.1)),
        max_ms: median(maxima.into_iter()),
        runs: per_run,
    }
}

/// The `q` quantile of sorted values (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut sorted: Vec<f64> = values.collect();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return 0.0;
    }
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// The targets, for the pairings that were played.
fn targets(pairings: &[PairingReport], times: &[TimeReport]) -> Vec<Target> {
    let rate = |winner: &str, loser: &str| {
        pairings.iter().find_map(|p| {
            if p.first == winner && p.second == loser {
                Some((p.first_wins, p.games))
            } else if p.second == winner && p.first == loser {
                Some((p.second_wins, p.games))
            } else {
                None
            }
        })
    };
    let mut out = Vec::new();
    for (winner, loser, at_least) in [
        ("hard", "easy", 0.90),
        ("hard", "random", 0.99),
        ("normal", "easy", 0.75),
        ("hard", "normal", 0.5),
    ] {
        if let Some((wins, games)) = rate(winner, loser) {
            let (share, low, high) = wilson(wins, games);
            let strict = at_least == 0.5;
            out.push(Target {
                what: format!(
                    "{winner} beats {loser} in {} {:.0} % of games",
                    if strict { ">" } else { "≥" },
                    at_least * 100.0
                ),
                measured: format!(
                    "{:.1} % ({wins}/{games}; 95 % CI {:.1}–{:.1} %)",
                    share * 100.0,
                    low * 100.0,
                    high * 100.0
                ),
                met: if strict {
                    share > at_least
                } else {
                    share >= at_least
                },
            });
        }
    }
    if let Some(hard) = times.iter().find(|t| t.player == "hard") {
        out.push(Target {
            what: "a hard turn takes ≤ 50 ms at p99".into(),
            measured: format!(
                "p99 {:.2} ms wall, {:.2} ms CPU (medians of runs)",
                hard.wall.p99_ms, hard.cpu.p99_ms
            ),
            met: hard.wall.p99_ms <= 50.0,
        });
    }
    out
}

fn print_report(r: &Report) {
    if !r.release_build {
        println!("warning: debug build; build with --release for meaningful timings");
    }
    println!(
        "kingdom bench ai: {} games per pairing (half on each seat), {} run(s), seed {}, unfinished after turn {}",
        r.games_per_pairing, r.runs, r.seed, r.max_turns
    );
    println!();
    println!(
        "| Pairing (X vs Y) | X wins | Y wins | Unfinished | X win rate (95 % CI) | X wins as A / as B | Seat A / B wins | Avg turns | Endings | Distinct games |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for p in &r.pairings {
        let endings: Vec<String> = p.endings.iter().map(|(e, n)| format!("{e} {n}")).collect();
        println!(
            "| {} vs {} | {} | {} | {} | {:.1} % ({:.1}–{:.1} %) | {} / {} | {} / {} | {:.1} | {} | {} |",
            p.first,
            p.second,
            p.first_wins,
            p.second_wins,
            p.unfinished,
            p.first_win_rate * 100.0,
            p.first_win_rate_low * 100.0,
            p.first_win_rate_high * 100.0,
            p.first_wins_as_a,
            p.first_wins_as_b,
            p.seat_a_wins,
            p.seat_b_wins,
            p.average_turns,
            endings.join(", "),
            p.distinct_games
        );
    }
    println!();
    println!(
        "| Player | Turns per run | Wall per turn: median | p99 | max | CPU per turn: median | p99 | max |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for t in &r.turn_times {
        println!(
            "| {} | {} | {:.3} ms | {:.2} ms | {:.2} ms | {:.3} ms | {:.2} ms | {:.2} ms |",
            t.player,
            t.turns_per_run,
            t.wall.median_ms,
            t.wall.p99_ms,
            t.wall.max_ms,
            t.cpu.median_ms,
            t.cpu.p99_ms,
            t.cpu.max_ms
        );
    }
    if r.runs > 1 {
        for t in &r.turn_times {
            let runs: Vec<String> = t
                .wall
                .runs
                .iter()
                .zip(&t.cpu.runs)
                .map(|(w, c)| format!("{:.2}/{:.2} (CPU {:.2}/{:.2})", w.0, w.1, c.0, c.1))
                .collect();
            println!("  {} per run, median/p99 ms: {}", t.player, runs.join("; "));
        }
    }
    println!();
    for t in &r.targets {
        println!(
            "  [{}] {}: {}",
            if t.met { "met" } else { "NOT MET" },
            t.what,
            t.measured
        );
    }
    println!(
        "  deterministic: {}",
        if r.deterministic {
            "yes (every run played the same games)"
        } else {
            "NO"
        }
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval_matches_known_values() {
        // 8 of 10: the interval is 0.490 to 0.943 (Wilson 1927).
        let (p, low, high) = wilson(8, 10);
        assert_eq!(p, 0.8);
        assert!((low - 0.4902).abs() < 1e-3, "{low}");
        assert!((high - 0.9433).abs() < 1e-3, "{high}");
        // All wins still leave room below.
        let (_, low, high) = wilson(200, 200);
        assert!(low < 1.0 && low > 0.98, "{low}");
        assert_eq!(high, 1.0);
    }

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&sorted, 0.5), 50.0);
        assert_eq!(quantile(&sorted, 0.99), 99.0);
        assert_eq!(quantile(&[3.0], 0.99), 3.0);
    }

    #[test]
    fn contenders_parse_with_a_clear_error() {
        assert_eq!(Contender::parse("random").unwrap(), Contender::Random);
        assert_eq!(
            Contender::parse("hard").unwrap(),
            Contender::Level(Level::Hard)
        );
        let error = Contender::parse("expert").unwrap_err().to_string();
        assert!(error.contains("easy, normal, hard, or random"), "{error}");
    }
}
