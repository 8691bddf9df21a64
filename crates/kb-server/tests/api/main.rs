//! Black-box tests of the server: one test binary, one file per feature or
//! resource, sharing `helpers`. Every request goes through the whole router
//! in-process, and `helpers` fails any test whose request is answered with
//! a 5xx by a real route.

mod actions;
mod ai_level;
mod ai_turn;
mod auth;
mod bodies;
mod catalogue;
mod compression;
mod concurrency;
mod config;
mod cors;
mod errors;
mod events;
mod favicon;
mod forecast;
mod gateway;
mod golden;
mod helpers;
mod history;
mod lifecycle;
mod limits;
mod metrics;
mod openapi;
mod ownership;
mod play;
mod queries;
mod reference;
mod restart;
mod schemas;
mod seats;
mod sessions;
mod unavailable;
