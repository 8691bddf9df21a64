//! Numbers: the rounding modes of effects and the JSON form of game
//! values.
//!
//! Game values are `f64`, as in the reference (so that content may use
//! fractions such as growth 0.25), with the reference's operation order.
//! On the wire a value that is a whole number is written as an integer
//! (`10`, not `10.0`), which is what JavaScript clients print.

use serde::{Deserialize, Serialize, Serializer};

/// How a fractional result is rounded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rounding {
    /// Away from zero: ceiling for non-negative values, floor for negative
    /// ones (the magnitude grows).
    Up,
    /// Toward zero: floor for non-negative values, ceiling for negative
    /// ones (the magnitude shrinks).
    #[default]
    Down,
    /// To the nearest integer, halves toward positive infinity (JavaScript
    /// `Math.round`).
    Nearest,
}

impl Rounding {
    /// Rounds `value` by this mode.
    pub fn apply(self, value: f64) -> f64 {
        match self {
            Rounding::Up => round_away(value),
            Rounding::Down => round_toward(value),
            Rounding::Nearest => (value + 0.5).floor(),
        }
    }
}

/// Rounds away from zero.
pub fn round_away(value: f64) -> f64 {
    if value >= 0.0 {
        value.ceil()
    } else {
        value.floor()
    }
}

/// Rounds toward zero.
pub fn round_toward(value: f64) -> f64 {
    if value >= 0.0 {
        value.floor()
    } else {
        value.ceil()
    }
}

/// Rounds by `mode` when one is given, otherwise returns `value` unchanged.
pub fn round_opt(value: f64, mode: Option<Rounding>) -> f64 {
    mode.map_or(value, |mode| mode.apply(value))
}

/// The largest integer an `f64` represents exactly.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// Serializes a game value: whole numbers as integers, others as floats,
/// non-finite values (which the engine never produces) as `null`.
pub fn serialize_num<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    let value = *value;
    if value.fract() == 0.0 && value.abs() <= MAX_EXACT {
        // Exact: |value| <= 2^53 fits in i64 and the cast does not round.
        #[allow(clippy::cast_possible_truncation)]
        serializer.serialize_i64(value as i64)
    } else if value.is_finite() {
        serializer.serialize_f64(value)
    } else {
        serializer.serialize_none()
    }
}

/// A game value that serializes as the snapshots write numbers: whole
/// numbers as integers, others as floats, non-finite values as `null`.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Deserialize)]
#[serde(transparent)]
pub struct Num(pub f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_num(&self.0, serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_modes_match_the_reference() {
        assert_eq!(round_away(1.25), 2.0);
        assert_eq!(round_away(-0.5), -1.0);
        assert_eq!(round_toward(6.5), 6.0);
        assert_eq!(round_toward(-2.4000000000000004), -2.0);
        assert_eq!(Rounding::Nearest.apply(0.5), 1.0);
        assert_eq!(Rounding::Nearest.apply(0.4), 0.0);
        assert_eq!(Rounding::Nearest.apply(-0.5), 0.0);
        // The reference's f64 quirk: 12 × -0.2 is not exactly -2.4.
        assert_eq!(12.0 + round_away(12.0 * -0.2), 9.0);
    }

    #[test]
    fn whole_numbers_serialize_as_integers() {
        let json =
            serde_json::to_string(&[Num(10.0), Num(0.25), Num(-3.0), Num(f64::NAN)]).unwrap();
        assert_eq!(json, "[10,0.25,-3,null]");
    }
}
