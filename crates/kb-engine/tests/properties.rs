//! Property tests: random games on the default content, with invariants
//! checked after every command, and the serialization guarantees they rely
//! on.

use kb_engine::GameState;
use serde_json::json;

use crate::support::A;

fn bytes(state: &GameState) -> Vec<u8> {
    serde_json::to_vec(state).expect("a state serializes")
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
            crate::support::add_stat("growth", 1.7541231056256178)
        ]),
    );
    assert_eq!(
        crate::support::stat(&game, A, "armyStrength").to_bits(),
        1.2031622776601683_f64.to_bits()
    );
    let json = bytes(game.state());
    let restored: GameState = serde_json::from_slice(&json).unwrap();
    for key in ["armyStrength", "absorption", "growth"] {
        assert_eq!(
            restored.players.a.stats.value(key).to_bits(),
            game.state().players.a.stats.value(key).to_bits(),
            "{key}"
        );
    }
    assert_eq!(&restored, game.state());
}
