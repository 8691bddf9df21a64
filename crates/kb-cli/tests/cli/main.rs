//! Black-box tests of the `kingdom` binary: each test runs the real
//! executable, with files in its own temporary directory or on stdin
//! (`run`), or as a server on a temporary database spoken to over HTTP
//! (`util`).

mod run;
mod util;

mod admin;
mod ai_kill;
mod bench;
mod crash;
mod live;
mod logging;
mod on_postgres;
mod ops;
mod replay;
mod shared;
mod stored;
mod torture;
