//! Property tests: random games on the default content, with invariants
//! checked after every command.
//!
//! A game is driven by a proptest-generated list of numbers; each number
//! picks, by index, the next command among advancing, the AI seat's turn,
//! the candidate moves of the active player and a few deliberately odd
//! commands (out of turn, unknown action, renames, dev-mode flips). After
//! every command the game must hold its invariants (bounds, population,
//! slots, passives per instance...), a refused command must leave the state
//! byte-identical, and every command must round-trip through serde. At
//! checkpoints and at the end the state must round-trip through JSON with
//! an identical future, and replaying the log of successful commands from a
//! fresh game must reproduce it byte for byte.
//!
//! `PROPTEST_CASES` raises (or lowers) the number of games per property.

use std::sync::Arc;

use kb_engine::{ByPlayer, Command, Content, Game, GameOptions, GameState, Outcome, PlayerId};
use kb_protocol::answers::Wire;
use kb_session::stored::StoredCommand;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::json;

use crate::support::{A, B, content};

/// Commands between two checkpoints (JSON round trip and log replay).
const CHECKPOINT: usize = 40;
/// Commands a restored game is followed for after a checkpoint.
const FUTURE: usize = 25;
/// One outcome in this many is serialized (outcomes carry player
/// snapshots, and serializing every one would dominate the run time).
const OUTCOME_SAMPLE: usize = 7;
/// Commands a long game plays after its generated list ran out (random play
/// need not end: a player whose farms outearn their upkeep never goes
/// bankrupt).
const LONG_TAIL: usize = 1200;

/// The number of games a property plays: `PROPTEST_CASES` or `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config(default_cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default_cases),
        // Shrinking replays whole games; keep a failing run's report quick.
        max_shrink_iters: 2000,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/properties.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

fn options(dev_mode: bool, ai_b: bool) -> GameOptions {
    GameOptions {
        dev_mode,
        ai: ByPlayer { a: false, b: ai_b },
    }
}

/// The state as a checkpoint stores it.
fn bytes(state: &GameState) -> Vec<u8> {
    kb_session::stored::encode(state)
}

// ----- choosing commands --------------------------------------------------------

const NAMES: &[&str] = &[
    "  Ada  ",
    "",
    "   ",
    "Zoë 👑",
    "0123456789012345678901234567890123456789x",
    "Opponent",
];

/// The command number `n` picks in `game`.
fn choose(game: &Game, n: u32) -> Command {
    let state = game.state();
    let active = state.active;
    let ai_active = *state.ai.get(active);
    let k = (n / 16) as usize;
    let action = |m: &kb_engine::Move, player_id: Option<PlayerId>| Command::Action {
        action_id: m.action_id.clone(),
        params: m.params.clone(),
        player_id,
    };
    match n % 16 {
        0..=2 => Command::Advance,
        3 => odd(game, k),
        4 => {
            // Sparingly: `legal_moves` tries every candidate.
            let legal = game.legal_moves();
            if legal.is_empty() {
                Command::Advance
            } else {
                action(&legal[k % legal.len()], None)
            }
        }
        _ if ai_active && !k.is_multiple_of(8) => Command::AiTurn { player_id: active },
        _ => {
            let candidates = game.candidate_moves();
            match (candidates.is_empty(), ai_active) {
                (true, true) => Command::AiTurn { player_id: active },
                (true, false) => Command::Advance,
                (false, _) => action(&candidates[k % candidates.len()], None),
            }
        }
    }
}

/// Commands a client might send that are unusual or wrong.
fn odd(game: &Game, k: usize) -> Command {
    let state = game.state();
    let active = state.active;
    match k % 6 {
        0 => Command::SetDevMode {
            enabled: (k / 6).is_multiple_of(2),
        },
        1 => Command::SetPlayerName {
            player_id: if (k / 6).is_multiple_of(2) { A } else { B },
            player_name: NAMES[(k / 12) % NAMES.len()].to_owned(),
        },
        2 => {
            let pick = game.candidate_moves().into_iter().nth(k / 6);
            Command::Action {
                action_id: pick.as_ref().map_or("tax".into(), |m| m.action_id.clone()),
                params: pick.map(|m| m.params).unwrap_or_default(),
                player_id: Some(active.other()),
            }
        }
        3 => Command::Action {
            action_id: ["tax", "nope", "plow", "till", "plunder"][(k / 6) % 5].into(),
            params: Default::default(),
            player_id: None,
        },
        4 => Command::AiTurn {
            player_id: active.other(),
        },
        _ => {
            let development = ["garden", "house", "castle"][(k / 6) % 3];
            let land = format!("{active}-L2");
            Command::Action {
                action_id: "develop".into(),
                params: json!({"id": development, "landId": land})
                    .as_object()
                    .unwrap()
                    .clone(),
                player_id: Some(active),
            }
        }
    }
}

// ----- invariants ------------------------------------------------------------------

/// Invariants of a default-content game, checked after every command.
/// `dev_start` is the mode the game was created in (a later `setDevMode`
/// changes only the flag).
fn check_invariants(game: &Game, dev_start: bool) {
    let content = game.content();
    let state = game.state();
    let snapshot = game.snapshot();
    for (player, p) in state.players.iter() {
        for resource in &content.def().resources {
            let value = p.resources.value(&resource.key);
            assert!(value.is_finite(), "{player} {} = {value}", resource.key);
            if let Some(bound) = resource.lower_bound {
                assert!(
                    value >= bound,
                    "{player} {} = {value} is below its bound {bound}",
                    resource.key
                );
            }
        }
        for (key, value) in p.stats.iter() {
            assert!(
                value.0.is_finite() && value.0 >= 0.0,
                "{player} stat {key} = {}",
                value.0
            );
        }

        // Population: what the snapshot reports, one passive per member (Q6).
        let reported = &snapshot.game.players[player.index()];
        assert_eq!(reported.id, player);
        assert_eq!(
            reported.population, p.population,
            "{player}'s population in the snapshot"
        );
        let reported_total: u32 = reported.population.values().sum();
        assert_eq!(reported_total, p.total_population());
        let passives = |prefix: &str| {
            state
                .passives
                .iter()
                .filter(|r| r.owner == player && r.id.starts_with(prefix))
                .count()
        };
        for role in ["legion", "fortifier"] {
            let members = p.population.get(role).copied().unwrap_or(0) as usize;
            assert_eq!(
                passives(&format!("{role}_{player}_")),
                members,
                "{player}: one {role} passive per member"
            );
        }

        // Lands: slots match developments; a land is tilled once, to 2 slots.
        for land in &p.lands {
            assert_eq!(
                land.slots_used as usize,
                land.developments.len(),
                "{land:?}"
            );
            assert!(land.slots_used <= land.slots_max, "{land:?}");
            assert_eq!(
                land.slots_max,
                1 + u32::from(land.tilled),
                "{land:?}: 1 slot, 2 once tilled"
            );
        }
        let developments = |id: &str| {
            p.lands
                .iter()
                .flat_map(|l| &l.developments)
                .filter(|d| *d == id)
                .count()
        };

        // Stat bonuses follow their instances (Q7): each House +1 max
        // population, each Watchtower +0.5 absorption, Castle Walls +0.2.
        let start_max = content
            .start(dev_start)
            .get(player)
            .stats
            .value("maxPopulation");
        assert_eq!(
            p.stats.value("maxPopulation"),
            start_max + developments("house") as f64,
            "{player}: max population follows the houses"
        );
        let walls = p.buildings.iter().any(|b| b == "castle_walls");
        let absorption = 0.5 * developments("watchtower") as f64 + if walls { 0.2 } else { 0.0 };
        assert!(
            (p.stats.value("absorption") - absorption).abs() < 1e-9,
            "{player}: absorption {} for {} watchtowers, walls {walls}",
            p.stats.value("absorption"),
            developments("watchtower")
        );

        // Buildings are owned once, each with its passive.
        for (i, building) in p.buildings.iter().enumerate() {
            assert!(!p.buildings[..i].contains(building), "{building} twice");
            let own = state
                .passives
                .iter()
                .filter(|r| r.owner == player && r.id == *building)
                .count();
            assert_eq!(own, 1, "{player}: passive of {building}");
        }

        // Tiers: one tier passive outside Steady; Grim and worse skip Growth.
        let happiness = p.resources.value("happiness");
        assert_eq!(happiness.fract(), 0.0, "whole happiness");
        let tier_passives = passives("passive:happiness:");
        let steady = (-2.0..=2.0).contains(&happiness);
        assert_eq!(
            tier_passives,
            usize::from(!steady),
            "{player} at {happiness}"
        );
        assert_eq!(
            p.skip_phases.get("growth").is_some_and(|s| !s.is_empty()),
            happiness <= -5.0,
            "{player} skips growth at happiness {happiness}"
        );
    }
    if let Some(conclusion) = &state.conclusion {
        assert_ne!(conclusion.winner_id, conclusion.loser_id);
        assert!(
            content
                .rules()
                .win_conditions
                .iter()
                .any(|c| c.id == conclusion.condition_id)
        );
    }
}

/// Once a game has concluded, no game command is accepted, whoever sends it.
fn check_concluded(game: &mut Game) {
    let before = bytes(game.state());
    assert!(game.candidate_moves().is_empty());
    let mut commands = vec![Command::Advance];
    for action_id in ["tax", "expand", "build", "plow", "nope"] {
        commands.push(Command::Action {
            action_id: action_id.into(),
            params: Default::default(),
            player_id: None,
        });
    }
    for player in PlayerId::ALL {
        if *game.state().ai.get(player) {
            commands.push(Command::AiTurn { player_id: player });
        }
    }
    let active_is_ai = *game.state().ai.get(game.state().active);
    for command in commands {
        let error = game
            .apply(&command)
            .expect_err("a concluded game refuses commands");
        let expected = match command {
            Command::Action { .. } if active_is_ai => "AI_CONTROLLED",
            _ => "GAME_CONCLUDED",
        };
        assert_eq!(error.code(), expected, "{command:?}");
        assert_eq!(bytes(game.state()), before);
    }
}

// ----- the driver --------------------------------------------------------------------

/// A game being played, with what is needed to check it.
struct Run {
    content: Arc<Content>,
    options: GameOptions,
    game: Game,
    /// The serialized state of `game`, while known (refusals keep it).
    known_bytes: Option<Vec<u8>>,
    /// The successful commands, in order.
    log: Vec<Command>,
    /// A fresh game that replays `log` (lazily: `replayed` entries so far).
    replay: Game,
    replayed: usize,
    /// A game restored from JSON at the last checkpoint, following the
    /// original for a number of commands.
    shadow: Option<(Game, usize)>,
    steps: usize,
}

impl Run {
    fn new(options: GameOptions) -> Run {
        let content = content();
        let game = Game::new(content.clone(), options.clone()).expect("a new game");
        check_invariants(&game, options.dev_mode);
        Run {
            replay: game.clone(),
            content,
            options,
            game,
            known_bytes: None,
            log: Vec::new(),
            replayed: 0,
            shadow: None,
            steps: 0,
        }
    }

    fn concluded(&self) -> bool {
        self.game.state().conclusion.is_some()
    }

    /// Applies one command and checks everything a single command must keep.
    fn step(&mut self, command: Command) {
        let text =
            serde_json::to_string(&StoredCommand::from(&command)).expect("a command serializes");
        let parsed: StoredCommand = serde_json::from_str(&text).expect("a command parses");
        assert_eq!(Command::from(parsed), command, "{text}");

        let before = match self.known_bytes.take() {
            Some(known) => Before::Bytes(known),
            None => Before::State(Box::new(self.game.state().clone())),
        };
        let result = self.game.apply(&command);
        let unchanged = match &result {
            Ok(Outcome::AiTurn(turn)) => !turn.ran_turn,
            Ok(_) => false,
            Err(error) => {
                assert!(!error.code().is_empty());
                assert!(!error.to_string().is_empty());
                true
            }
        };
        if unchanged {
            let after = bytes(self.game.state());
            assert!(
                before.bytes() == after,
                "{command:?} answered {result:?} but changed the state"
            );
            self.known_bytes = Some(after);
        }
        if let Ok(outcome) = &result {
            if self.steps.is_multiple_of(OUTCOME_SAMPLE) {
                serde_json::to_string(&Wire(outcome)).expect("an outcome serializes");
            }
            self.log.push(command.clone());
        }
        if let Some((shadow, left)) = &mut self.shadow {
            let shadow_result = shadow.apply(&command);
            assert_eq!(shadow_result, result, "restored game answers {command:?}");
            assert_eq!(
                shadow.state(),
                self.game.state(),
                "restored game diverged on {command:?}"
            );
            *left -= 1;
            if *left == 0 {
                assert_eq!(bytes(shadow.state()), bytes(self.game.state()));
                self.shadow = None;
            }
        }
        check_invariants(&self.game, self.options.dev_mode);
        self.steps += 1;
        if self.steps.is_multiple_of(CHECKPOINT) {
            self.checkpoint();
        }
    }

    /// JSON round trip (restored game followed for a while) and log replay.
    fn checkpoint(&mut self) {
        let restored = self.round_trip();
        self.shadow = Some((restored, FUTURE));
        self.check_replay();
    }

    /// `GameState` → JSON → `GameState`: equal, and re-serialized to the
    /// same bytes. Returns the restored game.
    fn round_trip(&self) -> Game {
        let json = bytes(self.game.state());
        let state = kb_session::stored::decode(&json).expect("a state deserializes");
        assert_eq!(&state, self.game.state());
        assert_eq!(bytes(&state), json);
        Game::from_state(self.content.clone(), state).expect("a restored game")
    }

    /// Replaying the successful commands on a fresh game gives the same
    /// state, byte for byte. (The replaying game catches up on the log
    /// since the last check.)
    fn check_replay(&mut self) {
        for command in &self.log[self.replayed..] {
            self.replay
                .apply(command)
                .unwrap_or_else(|e| panic!("logged {command:?} refused on replay: {e}"));
        }
        self.replayed = self.log.len();
        assert_eq!(bytes(self.replay.state()), bytes(self.game.state()));
    }

    /// The end of a run: round trip with an identical future, replay, and
    /// (after a conclusion) every command refused.
    fn finish(mut self) {
        let mut restored = self.round_trip();
        for n in [0u32, 5, 21, 0, 5, 37, 0, 1, 2, 5, 6, 7, 0, 0, 0, 0, 5, 5] {
            let command = choose(&self.game, n);
            let original = self.game.apply(&command);
            let copy = restored.apply(&command);
            assert_eq!(copy, original, "restored game answers {command:?}");
            assert_eq!(restored.state(), self.game.state(), "after {command:?}");
            if original.is_ok() {
                self.log.push(command);
            }
        }
        assert_eq!(bytes(restored.state()), bytes(self.game.state()));
        self.check_replay();
        if self.concluded() {
            check_concluded(&mut self.game);
        }
    }
}

/// The state before a command: its bytes when known, else a copy.
enum Before {
    Bytes(Vec<u8>),
    State(Box<GameState>),
}

impl Before {
    fn bytes(self) -> Vec<u8> {
        match self {
            Before::Bytes(known) => known,
            Before::State(state) => bytes(&state),
        }
    }
}

/// Plays `numbers`, then `tail` more commands picked by numbers derived
/// from them (or until the game concludes).
fn play(options: GameOptions, numbers: &[u32], tail: usize) -> Run {
    let mut run = Run::new(options);
    for &n in numbers {
        if run.concluded() {
            break;
        }
        let command = choose(&run.game, n);
        run.step(command);
    }
    let mut seed = numbers.iter().fold(0x9e37_79b9_7f4a_7c15_u64, |h, &n| {
        (h ^ u64::from(n)).rotate_left(7)
    });
    for _ in 0..tail {
        if run.concluded() {
            break;
        }
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let command = choose(&run.game, (seed >> 33) as u32);
        run.step(command);
    }
    run
}

fn numbers(max_len: usize) -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(any::<u32>(), 1..max_len)
}

proptest! {
    #![proptest_config(config(800))]

    #[test]
    fn random_games_against_the_ai(numbers in numbers(160)) {
        play(options(false, true), &numbers, 0).finish();
    }

    #[test]
    fn random_games_between_two_humans(numbers in numbers(160)) {
        play(options(false, false), &numbers, 0).finish();
    }

}

proptest! {
    // Dev-mode games are the costliest (every player is rich).
    #![proptest_config(config(500))]

    #[test]
    fn random_games_in_dev_mode(numbers in numbers(160)) {
        play(options(true, true), &numbers, 0).finish();
    }
}

proptest! {
    #![proptest_config(config(25))]

    #[test]
    fn long_random_games(numbers in numbers(200), dev in any::<bool>(), ai in any::<bool>()) {
        play(options(dev, ai), &numbers, LONG_TAIL).finish();
    }
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn the_same_commands_give_the_same_states(numbers in numbers(300), dev in any::<bool>()) {
        let mut first = Game::new(content(), options(dev, true)).unwrap();
        let mut commands = Vec::new();
        for &n in &numbers {
            let command = choose(&first, n);
            let result = first.apply(&command);
            commands.push((command, result));
        }
        let mut second = Game::new(content(), options(dev, true)).unwrap();
        for (command, result) in &commands {
            prop_assert_eq!(&second.apply(command), result);
        }
        prop_assert_eq!(bytes(second.state()), bytes(first.state()));
    }
}

#[test]
fn fractional_values_round_trip_exactly() {
    // Stats reach fractions such as 0.2 + 0.5 − 0.5 = 0.20000000000000015
    // in play; every f64 must come back from JSON bit for bit, or a restored
    // game drifts from the original. (serde_json parses these exactly only
    // with its `float_roundtrip` feature.)
    let mut game = crate::support::new_game();
    crate::support::setup(
        &mut game,
        A,
        json!([
            crate::support::add_stat("armyStrength", 1.2031622776601683),
            crate::support::add_stat("absorption", 0.9026457513110647),
            crate::support::add_stat("growth", 1.754_123_105_625_618)
        ]),
    );
    assert_eq!(
        crate::support::stat(&game, A, "armyStrength").to_bits(),
        1.2031622776601683_f64.to_bits()
    );
    let json = bytes(game.state());
    let restored = kb_session::stored::decode(&json).unwrap();
    for key in ["armyStrength", "absorption", "growth"] {
        assert_eq!(
            restored.players.a.stats.value(key).to_bits(),
            game.state().players.a.stats.value(key).to_bits(),
            "{key}"
        );
    }
    assert_eq!(&restored, game.state());
}

// ----- bounded state ---------------------------------------------------------------

/// Actions left out of the random play: those whose success makes the state
/// larger for good (new lands, and with them slots, developments and room
/// for population: a game that takes them grows for a reason), and the
/// attack, which ends most games within a few turns.
const LEFT_OUT: &[&str] = &["expand", "royal_decree", "plow", "raise_pop", "army_attack"];

/// Largest `GameState` and snapshot (as JSON) a default game can reach
/// without the left-out actions: both players with every building and
/// passive, with room to spare. Before `recentResourceGains` was emptied at
/// each step, it alone grew by about 75 bytes a turn, without end.
const MAX_STATE_BYTES: usize = 20_000;
const MAX_SNAPSHOT_BYTES: usize = 40_000;

proptest! {
    #![proptest_config(config(3))]

    /// After 5,000 commands of random legal play between two humans, the
    /// state and the snapshot are still within a fixed size.
    #[test]
    fn five_thousand_commands_leave_the_state_within_a_fixed_size(seed in any::<u64>(), dev in any::<bool>()) {
        let mut game = Game::new(content(), options(dev, false)).unwrap();
        let mut rng = seed | 1;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let (mut max_state, mut max_snapshot, mut games) = (0, 0, 1);
        for n in 0..5_000 {
            if game.state().conclusion.is_some() {
                // A game that ends stops growing; play the rest of the
                // commands on a new one.
                game = Game::new(content(), options(dev, false)).unwrap();
                games += 1;
            }
            let state = game.state();
            let in_action = game.content().phases()[state.phase_index].action;
            let command = if in_action && next() % 6 == 0 {
                // Candidates, not only legal moves: a refused one changes
                // nothing, and trying them all is what makes `legal_moves`
                // slow.
                let candidates: Vec<_> = game
                    .candidate_moves()
                    .into_iter()
                    .filter(|m| !LEFT_OUT.contains(&m.action_id.as_str()))
                    .collect();
                match candidates.get(next() as usize % candidates.len().max(1)) {
                    Some(m) => Command::Action {
                        action_id: m.action_id.clone(),
                        params: m.params.clone(),
                        player_id: None,
                    },
                    None => Command::Advance,
                }
            } else {
                Command::Advance
            };
            let result = game.apply(&command);
            prop_assert!(result.is_ok() || matches!(command, Command::Action { .. }), "{result:?}");
            if n % 50 == 0 || n == 4_999 {
                max_state = max_state.max(bytes(game.state()).len());
                max_snapshot = max_snapshot.max(serde_json::to_vec(&Wire(&game.snapshot())).unwrap().len());
            }
        }
        if std::env::var("KB_SHOW_STATE").is_ok() {
            eprintln!("{games} games, turn {}, {max_state} / {max_snapshot} bytes", game.state().turn);
        }
        prop_assert!(max_state <= MAX_STATE_BYTES, "state reached {max_state} bytes");
        prop_assert!(max_snapshot <= MAX_SNAPSHOT_BYTES, "snapshot reached {max_snapshot} bytes");
    }
}

/// The measurement that found the growth: 3,000 advances of a default game
/// between two humans (nobody acts, so no evaluator group ever empties the
/// gains) once took the state from 4 KB to over 25 KB. The state at the
/// end of each turn is now the same size as at the end of the first.
/// The content's turn limit would end this game after 50 turns each; it is
/// taken out so that the game runs long enough to show any growth.
#[test]
fn a_game_that_only_advances_does_not_grow() {
    let mut def = crate::support::default_def();
    def.rules.win_conditions.retain(|c| c.id != "turn-limit");
    let unlimited = Arc::new(Content::new(def).expect("valid content"));
    let mut game = Game::new(unlimited, options(false, false)).unwrap();
    let mut sizes = Vec::new();
    for _ in 0..3_000 {
        game.apply(&Command::Advance).unwrap();
        let state = game.state();
        if state.phase_index == 0 && state.step_index == 0 && state.active == A {
            sizes.push(bytes(state).len());
        }
    }
    assert!(sizes.len() > 150, "{} turns", sizes.len());
    let first = sizes[0];
    let largest = *sizes.iter().max().unwrap();
    assert!(
        largest <= first + 64,
        "{first} bytes after turn 1, {largest} later"
    );
}

/// The copy a command runs on is the state exactly, whatever the reused
/// storage held before.
#[test]
fn a_state_copied_into_reused_storage_equals_the_state() {
    let content = content();
    // Dev mode's riches keep the game going (no bankruptcy).
    let options = GameOptions {
        dev_mode: true,
        ..GameOptions::default()
    };
    let mut game = Game::new(content, options).unwrap();
    let mut states = vec![game.state().clone()];
    for step in 0..400_usize {
        let moves = game.legal_moves();
        match moves.get(step % moves.len().max(1)) {
            Some(chosen) if step % 3 != 0 => {
                let _ = game.perform(&chosen.action_id, &chosen.params);
            }
            _ => {
                let _ = game.advance();
            }
        }
        states.push(game.state().clone());
        if game.state().conclusion.is_some() {
            break;
        }
    }
    assert!(
        states.len() > 100,
        "the game went on: {} states",
        states.len()
    );
    let last = states.len() - 1;
    for (i, source) in states.iter().enumerate() {
        for stale in [0, last, (i * 7 + 3) % states.len()] {
            let mut target = states[stale].clone();
            target.copy_from(source);
            assert_eq!(&target, source, "state {i} copied over state {stale}");
        }
    }
}
