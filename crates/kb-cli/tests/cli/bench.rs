//! `kingdom bench engine` and `kingdom bench ai`: small runs report
//! sensible figures.

use crate::run::*;

#[test]
fn a_small_engine_benchmark_reports_its_figures() {
    let run = kingdom(
        &[
            "bench", "engine", "--games", "3", "--runs", "2", "--seed", "7", "--json",
        ],
        None,
    );
    let report = run.json();
    assert_eq!(report["games"], 3);
    assert_eq!(report["deterministic"], true, "same seed, same games");
    let counts = &report["counts"];
    let commands = counts["commands"].as_u64().unwrap();
    assert!(commands > 0);
    assert_eq!(
        commands,
        ["advances", "actions", "aiTurns"]
            .iter()
            .map(|k| counts[k].as_u64().unwrap())
            .sum::<u64>()
    );
    assert_eq!(counts["refused"], 0, "the human picks legal moves");
    let ended = ["castleDestroyed", "bankruptcy", "unfinished"]
        .iter()
        .map(|k| counts[k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(ended, 3);
    assert!(report["commandsPerSecondMedian"].as_f64().unwrap() > 0.0);
    assert_eq!(report["commandsPerSecondRuns"].as_array().unwrap().len(), 2);
    let mid = &report["midGame"];
    assert_eq!(mid["turn"], 10);
    assert!(mid["stateBytes"].as_u64().unwrap() > 1000);
    assert!(mid["snapshotBytes"].as_u64().unwrap() > mid["stateBytes"].as_u64().unwrap());

    // Another seed plays other games.
    let other = kingdom(
        &[
            "bench", "engine", "--games", "3", "--runs", "1", "--seed", "8", "--json",
        ],
        None,
    )
    .json();
    assert_ne!(other["fingerprint"], report["fingerprint"]);

    let text = kingdom(&["bench", "engine", "--games", "1", "--runs", "1"], None);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("commands/s"), "{}", text.stdout);
    assert!(
        text.stdout.contains("bytes GameState JSON"),
        "{}",
        text.stdout
    );
}

#[test]
fn bad_benchmark_arguments_exit_with_2() {
    kingdom(&["bench", "engine", "--games", "0"], None).bad_input(&["--games"]);
    kingdom(
        &[
            "bench",
            "engine",
            "--mid-turn",
            "500",
            "--games",
            "1",
            "--runs",
            "1",
        ],
        None,
    )
    .bad_input(&["no game reached turn 500"]);
    assert_eq!(kingdom(&["bench", "engine", "--runs", "x"], None).code, 2);
}

/// A small AI round robin: every pairing played on both seats, win rates
/// with intervals, a time per turn for each contender, identical runs.
#[test]
fn a_small_ai_benchmark_reports_win_rates_and_turn_times() {
    let run = kingdom(
        &[
            "bench",
            "ai",
            "--games",
            "2",
            "--runs",
            "2",
            "--players",
            "easy,normal,random",
            "--json",
        ],
        None,
    );
    let report = run.json();
    assert_eq!(report["deterministic"], true, "same seed, same games");
    let pairings = report["pairings"].as_array().unwrap();
    let names: Vec<(&str, &str)> = pairings
        .iter()
        .map(|p| (p["first"].as_str().unwrap(), p["second"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        [("easy", "normal"), ("easy", "random"), ("normal", "random")]
    );
    for p in pairings {
        let games = p["games"].as_u64().unwrap();
        assert_eq!(games, 2);
        let decided = ["firstWins", "secondWins", "unfinished"]
            .iter()
            .map(|k| p[k].as_u64().unwrap())
            .sum::<u64>();
        assert_eq!(decided, games);
        let (low, rate, high) = (
            p["firstWinRateLow"].as_f64().unwrap(),
            p["firstWinRate"].as_f64().unwrap(),
            p["firstWinRateHigh"].as_f64().unwrap(),
        );
        assert!(
            low <= rate && rate <= high && low >= 0.0 && high <= 1.0,
            "{p}"
        );
        assert!(p["averageTurns"].as_f64().unwrap() >= 1.0);
    }
    // normal beats easy from both seats.
    assert_eq!(pairings[0]["secondWins"], 2);
    let times = report["turnTimes"].as_array().unwrap();
    assert_eq!(times.len(), 3);
    for t in times {
        assert!(t["turnsPerRun"].as_u64().unwrap() > 0, "{t}");
        assert!(t["cpu"]["p99Ms"].as_f64().unwrap() >= t["cpu"]["medianMs"].as_f64().unwrap());
        assert_eq!(t["wall"]["runs"].as_array().unwrap().len(), 2);
    }
    let target = &report["targets"][0];
    assert_eq!(target["what"], "normal beats easy in ≥ 75 % of games");
    assert_eq!(target["met"], true);

    let text = kingdom(
        &[
            "bench",
            "ai",
            "--games",
            "1",
            "--players",
            "easy,easy",
            "--mirrors",
        ],
        None,
    );
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("| easy vs easy |"), "{}", text.stdout);
}

#[test]
fn bad_ai_benchmark_arguments_exit_with_2() {
    kingdom(&["bench", "ai", "--players", "easy,expert"], None).bad_input(&[
        "unknown AI level \"expert\"",
        "easy, normal, hard, or random",
    ]);
    kingdom(&["bench", "ai", "--players", "hard"], None).bad_input(&["at least two"]);
    kingdom(&["bench", "ai", "--games", "0"], None).bad_input(&["--games"]);
}

/// `kingdom bench load` starts its own server, plays real games and fails
/// when any answer differs from what the game must be; a short run of each
/// scenario must pass with every answer checked.
#[test]
fn bench_load_plays_every_scenario_and_checks_every_answer() {
    for scenario in ["play", "actions", "snapshots", "creates", "ai"] {
        let run = kingdom(
            &[
                "bench",
                "load",
                "--scenario",
                scenario,
                "--sessions",
                "6",
                "--clients",
                "2",
                "--seconds",
                "1",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{scenario}: {}", run.stderr);
        let routes: &[&str] = match scenario {
            "play" => &["advance"],
            "actions" => &["action"],
            "snapshots" => &["snapshot"],
            // Hard AI turns (each checked against the move it logged)
            // beside the snapshot reads.
            "ai" => &["snapshot", "ai-turn", "log"],
            _ => &["create"],
        };
        for route in routes {
            let row = run
                .stdout
                .lines()
                .skip_while(|line| !line.starts_with("measured"))
                .find(|line| line.split_whitespace().next() == Some(route))
                .unwrap_or_else(|| panic!("{scenario}: no {route} row in {}", run.stdout));
            let columns: Vec<&str> = row.split_whitespace().collect();
            let requests: u64 = columns[1].parse().unwrap();
            let errors: u64 = columns[7].parse().unwrap();
            assert!(requests > 0, "{scenario}: {row}");
            assert_eq!(errors, 0, "{scenario}: {row}");
        }
    }
}

/// `kingdom bench live` at a tiny size: every stream (players and
/// spectators) receives every move once and in order, catches up on what
/// it missed across a SIGKILL and a SIGTERM, and the report counts what
/// the checks saw. Figures are not asserted.
#[test]
fn bench_live_delivers_every_move_to_every_stream_across_a_restart() {
    for (restart, spectators) in [("kill", 2), ("term", 0)] {
        let run = kingdom(
            &[
                "bench",
                "live",
                "--sessions",
                "3",
                "--spectators",
                &spectators.to_string(),
                "--rate",
                "40",
                "--seconds",
                "1",
                "--missed",
                "2",
                "--settle-ms",
                "50",
                "--restart",
                restart,
                "--json",
            ],
            None,
        );
        let report = run.json();
        let r = &report["runs"][0];
        let per_session = 2 + spectators;
        assert_eq!(r["streams"], 3 * per_session, "{restart}");
        let moves = r["moves"].as_u64().unwrap();
        assert!(moves > 0, "{restart}: {r}");
        // Each move reached each of its session's streams once.
        assert_eq!(
            r["eventsDelivered"].as_u64().unwrap(),
            moves * per_session as u64,
            "{restart}: {r}"
        );
        assert_eq!(r["allDelivered"], true, "{restart}");
        for count in ["gaps", "repeats", "badEvents", "unexpectedDrops", "refused"] {
            assert_eq!(r[count], 0, "{restart}: {count}");
        }
        assert!(r["memory"]["rssStreamsOpen"].as_u64().unwrap() > 0);
        let x = &r["restart"];
        assert_eq!(x["mode"], restart);
        assert_eq!(x["missedMoves"], 2 * 3);
        // Everything before the restart was delivered, so each stream
        // catches up on exactly the moves made while it was away.
        assert_eq!(x["eventsToCatchUp"], 2 * 3 * per_session, "{restart}");
        assert_eq!(x["allCaughtUp"], true, "{restart}");
        assert_eq!(x["liveAfter"], true, "{restart}");
    }
    kingdom(&["bench", "live", "--sessions", "0"], None).bad_input(&["--sessions"]);
}

/// `kingdom bench wire` reads one snapshot with each encoding: the
/// compressed answers are smaller than identity, a matching
/// `If-None-Match` answers 304 with nothing, and every encoding was read.
/// Its CPU figures are not asserted.
#[test]
fn bench_wire_reads_a_snapshot_with_each_encoding() {
    let report = kingdom(&["bench", "wire", "--seconds", "1", "--json"], None).json();
    let encodings = report["runs"][0]["encodings"].as_array().unwrap();
    let names: Vec<&str> = encodings
        .iter()
        .map(|e| e["encoding"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["identity", "gzip", "br", "zstd", "304"]);
    let bytes = |i: usize| encodings[i]["bytes"].as_u64().unwrap();
    assert!(bytes(0) > 10_000, "a whole session state");
    for compressed in &encodings[1..=3] {
        assert!(
            compressed["bytes"].as_u64().unwrap() < bytes(0) / 2,
            "{compressed}"
        );
    }
    assert_eq!(bytes(4), 0);
    for e in encodings {
        assert!(e["answers"].as_u64().unwrap() > 0, "{e}");
    }
    kingdom(&["bench", "wire", "--runs", "0"], None).bad_input(&["--runs"]);
}
