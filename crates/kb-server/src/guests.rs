//! Guests (`kingdom serve --guests`): anyone may create a session without
//! a token and gets a seat credential for it, within a per-address limit
//! on creations ([`GuestGate`], a sliding hour) and under
//! `--max-sessions` like every creation. The credential is an ordinary
//! seat credential (see `kb_session` `access`); its holder also owns the
//! session, so it may invite a friend.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The default number of guest creations per address and hour.
pub const DEFAULT_GUEST_LIMIT: usize = 20;

/// The window the guest limit counts creations in.
const WINDOW: Duration = Duration::from_secs(3600);

/// Counts guest creations per client address.
#[derive(Debug)]
pub struct GuestGate {
    per_hour: usize,
    recent: Mutex<HashMap<Option<IpAddr>, VecDeque<Instant>>>,
}

impl GuestGate {
    /// A gate letting each address create `per_hour` sessions an hour.
    pub fn new(per_hour: NonZeroUsize) -> Self {
        Self {
            per_hour: per_hour.get(),
            recent: Mutex::new(HashMap::new()),
        }
    }

    /// The limit per address and hour.
    pub fn per_hour(&self) -> usize {
        self.per_hour
    }

    /// Takes one creation for `address` (`None`: unknown, counted as one
    /// address): `false` when it already made `per_hour` in the last hour.
    pub fn admit(&self, address: Option<IpAddr>) -> bool {
        self.admit_at(address, Instant::now())
    }

    fn admit_at(&self, address: Option<IpAddr>, now: Instant) -> bool {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        // Forget addresses whose window is over, so the map stays small.
        recent.retain(|_, times| {
            while times
                .front()
                .is_some_and(|t| now.duration_since(*t) >= WINDOW)
            {
                times.pop_front();
            }
            !times.is_empty()
        });
        let key = address.map(|ip| ip.to_canonical());
        let times = recent.entry(key).or_default();
        if times.len() >= self.per_hour {
            return false;
        }
        times.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_its_limit_per_hour() {
        let gate = GuestGate::new(NonZeroUsize::new(2).unwrap());
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let t0 = Instant::now();
        assert!(gate.admit_at(Some(a), t0));
        assert!(gate.admit_at(Some(a), t0));
        assert!(!gate.admit_at(Some(a), t0));
        assert!(gate.admit_at(Some(b), t0));
        // The same address as IPv4-mapped IPv6 is the same address.
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert!(!gate.admit_at(Some(mapped), t0));
        assert!(gate.admit_at(Some(a), t0 + WINDOW));
    }
}
