//! The engine's integration tests: one binary, one module per topic.

mod support;

mod content;
mod fuzz;
mod layers;
mod limits;
mod properties;
mod rules;
mod scenarios;
