//! End-to-end test of the browser client served at `/` by `kingdom serve`.
//!
//! This crate holds no library code: the test is `tests/browser/main.rs`
//! and its harness `tests/browser/harness.rs` (the real server on a
//! loopback socket over SQLite, headless Chromium over WebDriver). Keeping
//! them in the test target makes the browser client crates dev-dependencies,
//! built only for tests, never by `cargo build`.
//!
//! Run it with `cargo test -p kb-web-e2e`. It needs Debian's `chromium` and
//! `chromium-driver` and axe-core from npm, which `.ci/setup` installs; it
//! writes screenshots of both screen sizes to `target/e2e-screenshots/`.
