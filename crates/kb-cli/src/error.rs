//! [`InputError`]: the marker for errors caused by what the user gave us
//! (a file that cannot be read or parsed, an invalid value), which exit
//! with code 2 rather than 1.

use std::fmt;

/// An error in the user's input. Its message says what and where.
#[derive(Debug)]
pub struct InputError(pub String);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

/// An `anyhow` error marked as bad input.
pub fn input(message: impl Into<String>) -> anyhow::Error {
    InputError(message.into()).into()
}
