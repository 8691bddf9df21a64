//! The front of a store's writer thread: the queue the store's handles send
//! jobs to, shut by `close`, and the count of commit batches handed over.
//! The SQLite and PostgreSQL stores each run one writer thread behind it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender, SyncSender};
use std::sync::{PoisonError, RwLock};

use crate::{CommitSender, CommitTicket, StoreError, Write};

/// Sends jobs of type `J` to a writer thread until [`WriterQueue::shut`].
#[derive(Debug)]
pub struct WriterQueue<J> {
    jobs: RwLock<Option<Sender<J>>>,
    submitted: AtomicU64,
}

impl<J> WriterQueue<J> {
    /// A queue feeding the writer that receives from `sender`'s channel.
    pub fn new(sender: Sender<J>) -> Self {
        WriterQueue {
            jobs: RwLock::new(Some(sender)),
            submitted: AtomicU64::new(0),
        }
    }

    /// Queues the job `job` builds around a reply channel and waits for the
    /// writer's answer. [`StoreError::Closed`] once shut.
    pub fn call<T>(
        &self,
        operation: &'static str,
        job: impl FnOnce(SyncSender<Result<T, StoreError>>) -> J,
    ) -> Result<T, StoreError> {
        let (reply, answer) = mpsc::sync_channel(1);
        {
            let jobs = self.jobs.read().unwrap_or_else(PoisonError::into_inner);
            let jobs = jobs.as_ref().ok_or(StoreError::Closed)?;
            // The queue is open, so a gone receiver means the writer died.
            jobs.send(job(reply))
                .map_err(|_| writer_stopped(operation))?;
        }
        answer.recv().map_err(|_| writer_stopped(operation))?
    }

    /// Queues a batch of writes as the job `job` builds, and returns the
    /// ticket its answer will resolve. An empty batch is answered at once.
    pub fn submit(
        &self,
        writes: Vec<Write>,
        job: impl FnOnce(Vec<Write>, CommitSender) -> J,
    ) -> CommitTicket {
        let jobs = self.jobs.read().unwrap_or_else(PoisonError::into_inner);
        let Some(jobs) = jobs.as_ref() else {
            return CommitTicket::ready(Err(StoreError::Closed));
        };
        if writes.is_empty() {
            // Nothing to write, but a shut queue still says so (above).
            return CommitTicket::ready(Ok(()));
        }
        let (reply, ticket) = CommitTicket::channel();
        match jobs.send(job(writes, reply)) {
            Ok(()) => {
                self.submitted.fetch_add(1, Ordering::Relaxed);
                ticket
            }
            Err(_) => CommitTicket::ready(Err(writer_stopped("commit"))),
        }
    }

    /// Non-empty batches handed to the writer so far.
    pub fn submitted(&self) -> u64 {
        self.submitted.load(Ordering::Relaxed)
    }

    /// Takes no more jobs. The queued ones still run; the writer stops
    /// once the returned sender, the last one, is dropped.
    pub fn shut(&self) -> Option<Sender<J>> {
        self.jobs
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// The error for a writer thread that is gone while its store is open.
fn writer_stopped(operation: &'static str) -> StoreError {
    StoreError::backend(operation, "the writer thread stopped unexpectedly")
}
