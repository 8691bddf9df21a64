//! The deterministic PRNG of the benchmarks' simulated players: the AI's
//! own SplitMix64 (one generator for the whole project's seeded play).

pub use kb_ai::SplitMix64;
