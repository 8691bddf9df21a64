//! [`MemoryStore`]: a [`SessionStore`](crate::SessionStore) kept in memory.
//! To be implemented.

/// A store that keeps everything in memory.
#[derive(Debug, Default)]
pub struct MemoryStore;
