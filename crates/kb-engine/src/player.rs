//! The two seats of a game: [`PlayerId`] and the per-player container
//! [`ByPlayer`].

use serde::{Deserialize, Serialize};

/// One of the two players. `A` moves first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PlayerId {
    /// The first player (index 0).
    A,
    /// The second player (index 1), AI-controlled by default.
    B,
}

impl PlayerId {
    /// Both players in turn order.
    pub const ALL: [PlayerId; 2] = [PlayerId::A, PlayerId::B];

    /// The other player.
    pub fn other(self) -> PlayerId {
        match self {
            PlayerId::A => PlayerId::B,
            PlayerId::B => PlayerId::A,
        }
    }

    /// The turn-order index (A = 0, B = 1).
    pub fn index(self) -> usize {
        match self {
            PlayerId::A => 0,
            PlayerId::B => 1,
        }
    }

    /// The wire id, `"A"` or `"B"`.
    pub fn as_str(self) -> &'static str {
        match self {
            PlayerId::A => "A",
            PlayerId::B => "B",
        }
    }

    /// Parses a wire id.
    pub fn parse(text: &str) -> Option<PlayerId> {
        match text {
            "A" => Some(PlayerId::A),
            "B" => Some(PlayerId::B),
            _ => None,
        }
    }
}

impl std::fmt::Display for PlayerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One value per player.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ByPlayer<T> {
    /// Player A's value.
    pub a: T,
    /// Player B's value.
    pub b: T,
}

impl<T> ByPlayer<T> {
    /// Builds the pair by calling `f` for A, then for B.
    pub fn new_with(mut f: impl FnMut(PlayerId) -> T) -> Self {
        let a = f(PlayerId::A);
        let b = f(PlayerId::B);
        ByPlayer { a, b }
    }

    /// The value of `player`.
    pub fn get(&self, player: PlayerId) -> &T {
        match player {
            PlayerId::A => &self.a,
            PlayerId::B => &self.b,
        }
    }

    /// The value of `player`, mutably.
    pub fn get_mut(&mut self, player: PlayerId) -> &mut T {
        match player {
            PlayerId::A => &mut self.a,
            PlayerId::B => &mut self.b,
        }
    }

    /// Maps both values.
    pub fn map<U>(&self, mut f: impl FnMut(PlayerId, &T) -> U) -> ByPlayer<U> {
        ByPlayer {
            a: f(PlayerId::A, &self.a),
            b: f(PlayerId::B, &self.b),
        }
    }

    /// Both values with their player, in turn order.
    pub fn iter(&self) -> impl Iterator<Item = (PlayerId, &T)> {
        [(PlayerId::A, &self.a), (PlayerId::B, &self.b)].into_iter()
    }
}
