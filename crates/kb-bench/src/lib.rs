//! Benchmarks of the server, run by `kingdom bench`: an HTTP load generator
//! whose clients play real, legal games and check every response, a restore
//! benchmark, and storage figures. Figures are printed, never asserted.
//!
//! # Layout
//!
//! * `live`: event streams at scale: latency, memory, a restart.
//! * `load`: scenarios (play, actions, snapshots, creates, ai) and the clients.
//! * `restore`: building a large database, timing start-up, memory.
//! * `server`: the server under test as a child process.
//! * `client`: one keep-alive HTTP/1.1 connection per client.
//! * `wire`: what compressing answers costs the server, per encoding.
//! * `stats`: per-route counts, percentiles and the report table.

pub mod client;
pub mod live;
pub mod load;
pub mod restore;
pub mod server;
pub mod stats;
pub mod wire;
