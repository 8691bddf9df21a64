//! Black-box tests of the server infrastructure: one test binary, one file
//! per feature, sharing `helpers`.

mod auth;
mod config;
mod errors;
mod helpers;
mod lifecycle;
mod metrics;
