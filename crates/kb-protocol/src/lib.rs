//! Wire types of the Kingdom Builder HTTP API.
