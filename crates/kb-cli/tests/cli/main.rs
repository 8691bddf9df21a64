//! Black-box tests of the `kingdom` binary: each test runs the real
//! executable with files in its own temporary directory or on stdin.

mod util;

mod bench;
mod replay;
