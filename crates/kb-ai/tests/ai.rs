//! The AI levels from outside: their names, their determinism, the replay
//! of the moves they chose, and that they play legal, winning games.

use std::sync::{Arc, OnceLock};

use kb_ai::{Level, RandomMover, play_turn, policy};
use kb_engine::{
    AiMove, AiPolicy, ByPlayer, Command, Content, ContentDef, Game, GameOptions, PlayerId,
};
use kb_session::stored::StoredCommand;

fn content() -> Arc<Content> {
    static CONTENT: OnceLock<Arc<Content>> = OnceLock::new();
    CONTENT
        .get_or_init(|| {
            let text = include_str!("../../kb-content/content/default.json");
            let def: ContentDef = serde_json::from_str::<kb_protocol::schema::ContentDef>(text)
                .expect("default content parses")
                .into();
            Arc::new(Content::new(def).expect("default content is valid"))
        })
        .clone()
}

/// A fresh default game. Its seats are not flagged as AI seats: the
/// engine refuses `Command::Action` for a flagged seat (clients must not
/// play the AI's seat), and these games are replayed from logs of plain
/// actions. [`play_turn`] plays a seat whatever its flag.
fn new_game() -> Game {
    let options = GameOptions {
        dev_mode: false,
        ai: ByPlayer { a: false, b: false },
    };
    Game::new(content(), options).unwrap()
}

/// The state as a checkpoint stores it.
fn state_json(game: &Game) -> String {
    String::from_utf8(kb_session::stored::encode(game.state())).unwrap()
}

/// Plays a whole game, each seat by its policy, and returns the game and
/// the commands that were played, in order.
fn play_game(seats: &ByPlayer<&dyn AiPolicy>, max_turns: u32) -> (Game, Vec<Command>) {
    let mut game = new_game();
    let mut log = Vec::new();
    while game.state().conclusion.is_none() && game.state().turn <= max_turns {
        let active = game.state().active;
        log.extend(play_turn(&mut game, active, *seats.get(active)).unwrap());
    }
    (game, log)
}

#[test]
fn levels_have_names_and_unknown_names_list_them() {
    for level in Level::ALL {
        assert_eq!(level.to_string().parse::<Level>(), Ok(level));
    }
    assert_eq!("hard".parse::<Level>(), Ok(Level::Hard));
    assert_eq!(Level::default(), Level::Easy, "sessions that don't choose");
    let error = "expert".parse::<Level>().unwrap_err().to_string();
    assert_eq!(
        error,
        "unknown AI level \"expert\": the levels are easy, normal, hard"
    );
    assert!("Hard".parse::<Level>().is_err(), "names are exact");
    assert!("".parse::<Level>().is_err());
}

#[test]
fn easy_is_the_reference_tax_collector() {
    // The reference's measured AI turn: B's first turn taxes twice.
    let mut game = new_game();
    play_turn(&mut game, PlayerId::A, &policy(Level::Easy, 0)).unwrap();
    let log = play_turn(&mut game, PlayerId::B, &policy(Level::Easy, 0)).unwrap();
    let actions: Vec<&str> = log
        .iter()
        .filter_map(|c| match c {
            Command::Action { action_id, .. } => Some(action_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(actions, ["tax", "tax"]);
    let b = &game.state().players.b;
    assert_eq!(b.resources.value("gold"), 18.0);
    assert_eq!(b.resources.value("happiness"), -2.0);
    assert_eq!((game.state().turn, game.state().active), (2, PlayerId::A));
}

/// Every AI game, recorded as commands, replays on a fresh game to the
/// byte-identical state, without running any AI: the log is the truth,
/// whatever the AI code becomes.
#[test]
fn ai_games_replay_from_their_log_to_identical_states() {
    let levels = [
        (Level::Easy, Level::Easy),
        (Level::Easy, Level::Normal),
        (Level::Normal, Level::Hard),
        (Level::Hard, Level::Normal),
        (Level::Hard, Level::Hard),
    ];
    for (i, (a, b)) in levels.into_iter().enumerate() {
        let (pa, pb) = (policy(a, 11 + i as u64), policy(b, 97 + i as u64));
        let (game, log) = play_game(&ByPlayer { a: &pa, b: &pb }, 60);
        assert!(game.state().conclusion.is_some(), "{a} vs {b} ended");
        assert!(
            log.iter().any(|c| matches!(c, Command::Action { .. })),
            "{a} vs {b} acted"
        );
        // Through JSON, as a stored log travels.
        let bodies: Vec<StoredCommand> = log.iter().map(StoredCommand::from).collect();
        let stored = serde_json::to_string(&bodies).unwrap();
        let bodies: Vec<StoredCommand> = serde_json::from_str(&stored).unwrap();
        let log: Vec<Command> = bodies.into_iter().map(Command::from).collect();
        let mut replayed = new_game();
        for command in &log {
            replayed.apply(command).unwrap();
        }
        assert_eq!(state_json(&replayed), state_json(&game), "{a} vs {b}");
    }
}

/// The same game and seed give the same move: asked twice, or asked again
/// after the game went through JSON and back (a restarted server).
#[test]
fn the_same_game_gives_the_same_move() {
    let ai = [policy(Level::Hard, 5), policy(Level::Normal, 5)];
    let (pa, pb) = (policy(Level::Normal, 1), policy(Level::Hard, 2));
    let mut game = new_game();
    let mut asked = 0;
    while game.state().conclusion.is_none() && game.state().turn <= 6 {
        let active = game.state().active;
        let in_main = game.content().phases()[game.state().phase_index].action;
        if in_main {
            let restored = Game::from_state(
                content(),
                kb_session::stored::decode(state_json(&game).as_bytes()).unwrap(),
            )
            .unwrap();
            for p in &ai {
                let first = p.next_move(&game, active);
                assert_eq!(p.next_move(&game, active), first);
                assert_eq!(p.next_move(&restored, active), first);
                asked += 1;
            }
        }
        let seat: &dyn AiPolicy = if active == PlayerId::A { &pa } else { &pb };
        match in_main.then(|| seat.next_move(&game, active)) {
            Some(AiMove::Act { action_id, params }) => {
                game.perform(&action_id, &params).unwrap();
            }
            _ => {
                game.advance().unwrap();
            }
        }
    }
    assert!(asked > 6, "asked in {asked} positions");
}

/// One move per request (the reference protocol, the game restored from
/// JSON before each) plays exactly the game a whole turn at a time does.
#[test]
fn one_move_per_request_plays_the_same_game_as_whole_turns() {
    let (pa, pb) = (policy(Level::Hard, 3), policy(Level::Normal, 4));
    let seats: ByPlayer<&dyn AiPolicy> = ByPlayer { a: &pa, b: &pb };
    let (whole, _) = play_game(&seats, 30);

    let mut game = new_game();
    while game.state().conclusion.is_none() && game.state().turn <= 30 {
        game = Game::from_state(
            content(),
            kb_session::stored::decode(state_json(&game).as_bytes()).unwrap(),
        )
        .unwrap();
        let active = game.state().active;
        let in_main = game.content().phases()[game.state().phase_index].action;
        match in_main.then(|| seats.get(active).next_move(&game, active)) {
            Some(AiMove::Act { action_id, params }) => {
                game.perform(&action_id, &params).unwrap();
            }
            _ => {
                game.advance().unwrap();
            }
        }
    }
    assert_eq!(state_json(&game), state_json(&whole));
}

/// The levels only ever propose moves the engine accepts.
#[test]
fn the_levels_propose_only_legal_moves() {
    let random = RandomMover::new(9);
    for level in [Level::Normal, Level::Hard] {
        let ai = policy(level, 8);
        for ai_seat in PlayerId::ALL {
            let mut game = new_game();
            let mut moves = 0;
            while game.state().conclusion.is_none() && game.state().turn <= 40 {
                let active = game.state().active;
                let in_main = game.content().phases()[game.state().phase_index].action;
                let seat: &dyn AiPolicy = if active == ai_seat { &ai } else { &random };
                match in_main.then(|| seat.next_move(&game, active)) {
                    Some(AiMove::Act { action_id, params }) => {
                        let result = game.perform(&action_id, &params);
                        assert!(
                            result.is_ok(),
                            "{level} proposed {action_id} {params:?}: {result:?}"
                        );
                        moves += 1;
                    }
                    _ => {
                        game.advance().unwrap();
                    }
                }
            }
            assert!(moves > 5, "{level} on {ai_seat} moved {moves} times");
        }
    }
}

/// Each level wins its seeded games against the one below, from either
/// seat (the bench measures how often over hundreds of games).
#[test]
fn each_level_beats_the_one_below_on_both_seats() {
    for (strong, weak) in [(Level::Normal, Level::Easy), (Level::Hard, Level::Normal)] {
        for seed in 0..2u64 {
            for strong_seat in PlayerId::ALL {
                let (s, w) = (policy(strong, seed), policy(weak, seed + 100));
                let seats: ByPlayer<&dyn AiPolicy> = match strong_seat {
                    PlayerId::A => ByPlayer { a: &s, b: &w },
                    PlayerId::B => ByPlayer { a: &w, b: &s },
                };
                let (game, _) = play_game(&seats, 100);
                let conclusion = game.state().conclusion.clone().expect("the game ended");
                assert_eq!(
                    conclusion.winner_id, strong_seat,
                    "{strong} on {strong_seat} vs {weak}, seed {seed}: {conclusion:?}"
                );
            }
        }
    }
}

/// Players that only end their turns would play forever; the turn limit
/// ends the game after 50 turns each, on score.
#[test]
fn a_game_of_idle_players_ends_at_the_turn_limit() {
    struct Idle;
    impl AiPolicy for Idle {
        fn next_move(&self, _: &Game, _: PlayerId) -> AiMove {
            AiMove::EndTurn
        }
    }
    let (game, _) = play_game(&ByPlayer { a: &Idle, b: &Idle }, 1000);
    let conclusion = game.state().conclusion.clone().expect("the game ended");
    assert_eq!(conclusion.condition_id, "turn-limit");
    assert_eq!(game.state().players.b.resources.value("turnsPlayed"), 50.0);
    // Equal castles and gold: the tie goes to the second player.
    assert_eq!(conclusion.winner_id, PlayerId::B);
}

#[test]
fn the_random_mover_is_seeded_by_seed_and_state() {
    let mut game = new_game();
    for _ in 0..7 {
        game.advance().unwrap();
    }
    let moves = |seed| RandomMover::new(seed).next_move(&game, PlayerId::A);
    assert_eq!(moves(1), moves(1));
    let distinct: Vec<AiMove> = (0..40).map(moves).fold(Vec::new(), |mut seen, m| {
        if !seen.contains(&m) {
            seen.push(m);
        }
        seen
    });
    assert!(
        distinct.len() > 3,
        "seeds pick different moves: {distinct:?}"
    );
}

#[test]
fn policies_can_cross_threads_and_seeds_are_stable() {
    fn shared<T: Send + Sync + 'static>(_: &T) {}
    for level in Level::ALL {
        let ai = policy(level, 1);
        shared(&ai);
        assert_eq!(ai.level(), level);
    }
    // FNV-1a 64 of the id: the same on every machine and in every release.
    assert_eq!(kb_ai::session_seed(""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(kb_ai::session_seed("a"), 0xaf63_dc4c_8601_ec8c);
    assert_ne!(kb_ai::session_seed("ab"), kb_ai::session_seed("ba"));
}

/// The moves each level chooses, pinned: seeded games between the levels
/// (the random mover included, which picks among `Game::legal_moves`, so
/// the order of the engine's move list is pinned too) play exactly the
/// actions recorded in `tests/golden/moves.txt`. Speed-ups of the engine
/// or the AI must not change a single choice. `KB_GOLDEN=record` rewrites
/// the file (after a deliberate change of play).
#[test]
fn the_levels_choose_the_recorded_moves() {
    let (r1, r2, r3) = (
        RandomMover::new(3),
        RandomMover::new(4),
        RandomMover::new(5),
    );
    let (n1, n2) = (policy(Level::Normal, 4), policy(Level::Normal, 6));
    let (h1, h2) = (policy(Level::Hard, 5), policy(Level::Hard, 7));
    let games: [(&str, ByPlayer<&dyn AiPolicy>, u32); 6] = [
        ("random vs normal", ByPlayer { a: &r1, b: &n1 }, 40),
        ("hard vs random", ByPlayer { a: &h1, b: &r2 }, 25),
        ("normal vs hard", ByPlayer { a: &n2, b: &h2 }, 25),
        ("random vs random", ByPlayer { a: &r1, b: &r2 }, 60),
        ("random vs random", ByPlayer { a: &r3, b: &r1 }, 60),
        ("random vs random", ByPlayer { a: &r2, b: &r3 }, 60),
    ];
    let mut text = String::new();
    for (label, seats, turns) in games {
        text.push_str(&format!("# {label}, {turns} turns\n"));
        let mut game = new_game();
        while game.state().conclusion.is_none() && game.state().turn <= turns {
            let (turn, active) = (game.state().turn, game.state().active);
            for command in play_turn(&mut game, active, *seats.get(active)).unwrap() {
                if let Command::Action {
                    action_id, params, ..
                } = command
                {
                    let params = serde_json::to_string(&params).unwrap();
                    text.push_str(&format!("{turn} {active} {action_id} {params}\n"));
                }
            }
        }
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/moves.txt");
    if std::env::var("KB_GOLDEN").as_deref() == Ok("record") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
    }
    let recorded = std::fs::read_to_string(&path).expect("tests/golden/moves.txt");
    if text != recorded {
        let first = text
            .lines()
            .zip(recorded.lines())
            .position(|(now, then)| now != then)
            .unwrap_or(text.lines().count().min(recorded.lines().count()));
        panic!(
            "the AI chose other moves from line {}: now {:?}, recorded {:?}",
            first + 1,
            text.lines().nth(first),
            recorded.lines().nth(first)
        );
    }
}
