//! Kingdom Builder rules engine: pure, deterministic, data-driven.
