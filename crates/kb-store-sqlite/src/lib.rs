//! SQLite implementation of the SessionStore contract.
