//! Route handlers, one file per resource. The route table itself is
//! [`crate::app::api_routes`].

pub mod ai;
pub mod events;
pub mod forecast;
pub mod health;
pub mod metrics;
pub(crate) mod presence;
pub mod proceed;
pub(crate) mod render;
pub mod seats;
pub mod sessions;
pub mod web;
