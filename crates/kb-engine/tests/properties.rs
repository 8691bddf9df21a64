//! properties tests (filled in below).
