//! The pause before the writer tries a commit group again.
//!
//! A group is tried again after PostgreSQL chose it as a deadlock victim or
//! failed it for serialization, or after its connection was lost before the
//! `COMMIT`. Trying again at once tends to meet the same collision: the
//! other process (another server's writer, most often) has not yet taken
//! the locks our rollback released, so we take them back first and the two
//! deadlock again. So each new attempt waits first, and waits a random
//! amount so that two writers that collided do not come back in step:
//! before attempt `n` (2 for the first retry) the pause is drawn uniformly
//! from `[c / 2, c)` where `c` is [`FIRST_PAUSE`] doubled `n - 2` times and
//! capped at [`LONGEST_PAUSE`] ("equal jitter": never less than half, so
//! the other side always gets time to finish). After [`MAX_ATTEMPTS`] the
//! group's batches fail with [`GaveUp`], which says how often it was tried.
//!
//! The writer thread sleeps through the pause, so batches queued meanwhile
//! wait too; they join the next group. The pauses of one group add up to
//! under 550 ms (20 + 40 + 80 + 160 + 250).

use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

/// The pause before the first retry is at most this (and at least half).
pub(crate) const FIRST_PAUSE: Duration = Duration::from_millis(20);
/// No pause is longer.
pub(crate) const LONGEST_PAUSE: Duration = Duration::from_millis(250);
/// How many times one group is tried (the first attempt included) before
/// its batches fail.
pub(crate) const MAX_ATTEMPTS: u32 = 6;

/// The longest pause before attempt `attempt` (2 is the first retry):
/// [`FIRST_PAUSE`] doubled for every retry before it, capped at
/// [`LONGEST_PAUSE`]. Zero for the first attempt.
pub(crate) fn ceiling(attempt: u32) -> Duration {
    if attempt < 2 {
        return Duration::ZERO;
    }
    let doublings = (attempt - 2).min(16);
    FIRST_PAUSE
        .saturating_mul(1 << doublings)
        .min(LONGEST_PAUSE)
}

/// The pause before attempt `attempt` for a random `unit` in `[0, 1)`:
/// between half of [`ceiling`] (`unit` 0) and [`ceiling`] (excluded).
pub(crate) fn pause(attempt: u32, unit: f64) -> Duration {
    let ceiling = ceiling(attempt);
    let half = ceiling / 2;
    let window = half.as_nanos() as f64;
    // Rounded down, so the ceiling itself is never reached.
    let extra = (window * unit.clamp(0.0, 1.0 - f64::EPSILON)).floor() as u64;
    half + Duration::from_nanos(extra)
}

/// The most one group can spend pausing before it gives up.
#[cfg(test)]
fn worst_total() -> Duration {
    (2..=MAX_ATTEMPTS).map(ceiling).sum()
}

/// Random pauses for one writer: a SplitMix64 sequence seeded differently
/// in every process and writer (from the standard library's per-process
/// random hash keys), so two servers' writers do not draw the same pauses.
pub(crate) struct Jitter {
    state: u64,
}

impl Jitter {
    /// A sequence of its own.
    pub fn new() -> Self {
        Self {
            state: RandomState::new().hash_one(std::process::id()),
        }
    }

    /// A sequence from `seed`, for tests.
    #[cfg(test)]
    fn seeded(seed: u64) -> Self {
        Self { state: seed }
    }

    /// A number uniformly in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        // The top 53 bits make an f64 in [0, 1).
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The pause before attempt `attempt`.
    pub fn pause(&mut self, attempt: u32) -> Duration {
        pause(attempt, self.unit())
    }
}

/// Why a group's batches failed after every attempt: each failed with an
/// error worth trying again (a deadlock, a serialization failure, a lost
/// connection), and the last one is kept.
#[derive(Debug)]
pub(crate) struct GaveUp {
    pub attempts: u32,
    pub last: Arc<postgres::Error>,
}

impl fmt::Display for GaveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gave up after {} attempts, each failed by a deadlock, a serialization \
             failure or a lost connection; the last: {}",
            self.attempts, self.last
        )
    }
}

impl std::error::Error for GaveUp {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.last.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_ceiling_starts_at_20_ms_doubles_and_is_capped() {
        let ceilings: Vec<Duration> = (1..=8).map(ceiling).collect();
        assert_eq!(
            ceilings,
            [
                ms(0),
                ms(20),
                ms(40),
                ms(80),
                ms(160),
                ms(250),
                ms(250),
                ms(250)
            ]
        );
        // Far past any real attempt count, still capped (no overflow).
        assert_eq!(ceiling(u32::MAX), LONGEST_PAUSE);
    }

    #[test]
    fn a_pause_lies_between_half_the_ceiling_and_the_ceiling() {
        for attempt in 2..=MAX_ATTEMPTS {
            let ceiling = ceiling(attempt);
            assert_eq!(pause(attempt, 0.0), ceiling / 2, "attempt {attempt}");
            assert!(pause(attempt, 0.999_999) < ceiling, "attempt {attempt}");
            // Out-of-range draws are clamped into the window.
            assert_eq!(pause(attempt, -1.0), ceiling / 2);
            assert!(pause(attempt, 2.0) < ceiling);
        }
        assert_eq!(pause(1, 0.5), Duration::ZERO);
    }

    #[test]
    fn the_attempts_are_bounded_and_so_is_the_time_spent_pausing() {
        assert_eq!(MAX_ATTEMPTS, 6);
        assert_eq!(worst_total(), ms(20 + 40 + 80 + 160 + 250));
    }

    #[test]
    fn drawn_pauses_stay_in_their_window_and_differ() {
        let mut jitter = Jitter::seeded(8);
        for attempt in 2..=MAX_ATTEMPTS {
            let draws: Vec<Duration> = (0..200).map(|_| jitter.pause(attempt)).collect();
            let ceiling = ceiling(attempt);
            assert!(
                draws.iter().all(|d| *d >= ceiling / 2 && *d < ceiling),
                "attempt {attempt}: {draws:?}"
            );
            let lowest = draws.iter().min().unwrap();
            let highest = draws.iter().max().unwrap();
            // Spread over the window, not one value.
            assert!(
                *highest - *lowest > ceiling / 4,
                "attempt {attempt}: {lowest:?}..{highest:?}"
            );
        }
    }

    #[test]
    fn two_writers_draw_different_pauses() {
        let mut a = Jitter::seeded(1);
        let mut b = Jitter::seeded(2);
        let a: Vec<Duration> = (0..8).map(|_| a.pause(3)).collect();
        let b: Vec<Duration> = (0..8).map(|_| b.pause(3)).collect();
        assert_ne!(a, b);
        // And fresh writers of one process are seeded differently.
        let mut c = Jitter::new();
        let mut d = Jitter::new();
        let c: Vec<Duration> = (0..8).map(|_| c.pause(3)).collect();
        let d: Vec<Duration> = (0..8).map(|_| d.pause(3)).collect();
        assert_ne!(c, d);
    }
}
