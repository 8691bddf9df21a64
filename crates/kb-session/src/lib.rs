//! Sessions: the [`SessionManager`] that keeps live games, persists every
//! change through a [`SessionStore`](kb_store::SessionStore) before it is
//! acknowledged, restores them after a restart, and purges idle ones.
//!
//! # Layout
//!
//! * `manager`: [`SessionManager`], its options, requests and views.
//! * [`audit`]: every stored session replayed and checked, changing
//!   nothing (for operators and the fault suite).
//! * [`archive`]: one session as one JSON document, to export and import.
//! * `log`: the format of a session's log (a start entry, then commands).
//! * [`stored`]: the stored form of a game state (checkpoints), with fixed
//!   field names, converted from and into the engine's plain data.
//! * `contents`: the per-content-id cache of [`kb_content::SessionContent`].
//! * `clock`: injected time.
//! * `error`: [`SessionError`].

#![deny(missing_docs)]

pub mod archive;
pub mod audit;
mod clock;
mod contents;
mod error;
mod log;
mod manager;
pub mod stored;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::SessionError;
pub use log::{LogEntry, StartEntry};
pub use manager::{
    Accepted, Caller, Committed, CreateSession, HydrationReport, Invitation, LogPage,
    ManagerOptions, SeatGrant, SeatHolder, SeatView, SessionManager, SessionSummary, SessionView,
    StoreHealth, digest_secret, new_guest_credential,
};
