//! Black-box tests of the `kingdom` binary: each test runs the real
//! executable on a database in a temporary directory and talks HTTP to it.

mod crash;
mod ops;
mod util;
