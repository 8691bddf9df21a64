//! rules tests (filled in below).
