//! [`AiPool`]: where the built-in AI thinks, off the async workers.
//!
//! A `hard` turn searches for tens of milliseconds. Run on an async
//! worker, it would stall every other request that worker serves, so AI
//! work runs on tokio's blocking threads behind a semaphore of
//! `--ai-threads` permits: at most that many AI decisions run at once
//! (the rest wait their turn, asynchronously), and the async workers stay
//! free for reads, writes and the connections themselves. The default
//! leaves half the machine's cores to the rest of the server.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::error::ApiError;

/// A bounded pool for AI work. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AiPool {
    permits: Arc<Semaphore>,
    threads: usize,
}

impl AiPool {
    /// A pool running at most `threads` AI decisions at once (at least one).
    pub fn new(threads: usize) -> Self {
        let threads = threads.max(1);
        AiPool {
            permits: Arc::new(Semaphore::new(threads)),
            threads,
        }
    }

    /// The default size: half the cores the process may use, at least one.
    pub fn default_threads() -> usize {
        std::thread::available_parallelism()
            .map(|n| n.get() / 2)
            .unwrap_or(1)
            .max(1)
    }

    /// How many AI decisions may run at once.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `work` on a blocking thread once a permit is free, and returns
    /// its result. Dropping the returned future before the work starts
    /// gives the permit back; work already started runs to its end (its
    /// result is then dropped).
    pub async fn run<R: Send + 'static>(
        &self,
        work: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, ApiError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(ApiError::internal)
    }
}

impl Default for AiPool {
    fn default() -> Self {
        AiPool::new(AiPool::default_threads())
    }
}
