//! Seeded randomness and state fingerprints.
//!
//! The AI has no randomness of its own: every random choice is drawn from a
//! [`SplitMix64`] seeded by the caller's seed mixed with a fingerprint of
//! the game state it decides on. The same seed and the same state therefore
//! always give the same draw, whatever happened before (a restarted server
//! asking again gets the same move).

use kb_engine::{GameState, PlayerId};

/// SplitMix64: a small, fast, well-mixed 64-bit generator.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        // The modulo bias is irrelevant for picking moves.
        (self.next_u64() % n as u64) as usize
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// FNV-1a over 64-bit words.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fnv(u64);

impl Fnv {
    pub(crate) fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn word(&mut self, word: u64) -> &mut Self {
        for byte in word.to_le_bytes() {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        self
    }

    pub(crate) fn num(&mut self, value: f64) -> &mut Self {
        self.word(value.to_bits())
    }

    pub(crate) fn text(&mut self, text: &str) -> &mut Self {
        for byte in text.bytes() {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        self.word(0xff)
    }

    pub(crate) fn finish(&self) -> u64 {
        self.0
    }
}

/// A fingerprint of what a decision depends on: the turn, the position in
/// it, and both players' resources, stats, population, lands and buildings.
/// Equal states give equal fingerprints; it is not a cryptographic hash.
pub fn fingerprint(state: &GameState) -> u64 {
    let mut h = Fnv::new();
    h.word(u64::from(state.turn))
        .word(state.active.index() as u64)
        .word(state.phase_index as u64)
        .word(state.step_index as u64);
    for id in PlayerId::ALL {
        let player = state.players.get(id);
        for (key, value) in player.resources.iter().chain(player.stats.iter()) {
            h.text(key).num(value.0);
        }
        for (role, count) in player.population.iter() {
            h.text(role).word(u64::from(*count));
        }
        for land in &player.lands {
            h.word(u64::from(land.slots_max));
            for development in &land.developments {
                h.text(development);
            }
        }
        for building in &player.buildings {
            h.text(building);
        }
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_sequence_for_seed_zero() {
        // Reference values of SplitMix64 seeded with 0.
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(rng.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn draws_stay_in_range() {
        let mut rng = SplitMix64::new(7);
        assert!((0..1000).all(|_| rng.below(3) < 3));
        assert!(
            (0..1000)
                .map(|_| rng.unit())
                .all(|u| (0.0..1.0).contains(&u))
        );
    }
}
