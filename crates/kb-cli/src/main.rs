//! The `kingdom` binary.

fn main() {}
