//! [`CommitTicket`]: the answer to a queued commit, which a caller can wait
//! for on its thread ([`CommitTicket::wait`]) or `.await` from async code,
//! so an async server need not park a thread per write in flight.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::StoreError;

/// The answer to a queued commit.
#[must_use = "a commit is only known durable once its ticket resolves"]
pub struct CommitTicket(Inner);

enum Inner {
    Ready(Option<Result<(), StoreError>>),
    Pending(Arc<Shared>),
}

/// The store's end: resolves the ticket.
pub struct CommitSender(Option<Arc<Shared>>);

struct Shared {
    state: Mutex<State>,
    resolved: Condvar,
}

#[derive(Default)]
struct State {
    result: Option<Result<(), StoreError>>,
    taken: bool,
    waker: Option<Waker>,
}

impl CommitTicket {
    /// A pending ticket and the sender that resolves it.
    pub fn channel() -> (CommitSender, CommitTicket) {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            resolved: Condvar::new(),
        });
        (
            CommitSender(Some(shared.clone())),
            CommitTicket(Inner::Pending(shared)),
        )
    }

    /// A ticket that is already resolved.
    pub fn ready(result: Result<(), StoreError>) -> CommitTicket {
        CommitTicket(Inner::Ready(Some(result)))
    }

    /// Blocks this thread until the commit is resolved.
    pub fn wait(self) -> Result<(), StoreError> {
        match self.0 {
            Inner::Ready(result) => result.expect("a ready ticket holds its result"),
            Inner::Pending(shared) => {
                let mut state = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
                loop {
                    if let Some(result) = state.result.take() {
                        state.taken = true;
                        return result;
                    }
                    state = shared
                        .resolved
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }
}

impl Future for CommitTicket {
    type Output = Result<(), StoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            Inner::Ready(result) => Poll::Ready(result.take().expect("polled after completion")),
            Inner::Pending(shared) => {
                let mut state = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
                match state.result.take() {
                    Some(result) => {
                        state.taken = true;
                        Poll::Ready(result)
                    }
                    None => {
                        assert!(!state.taken, "polled after completion");
                        state.waker = Some(cx.waker().clone());
                        Poll::Pending
                    }
                }
            }
        }
    }
}

impl CommitSender {
    /// Resolves the ticket.
    pub fn send(mut self, result: Result<(), StoreError>) {
        if let Some(shared) = self.0.take() {
            resolve(&shared, result);
        }
    }
}

impl Drop for CommitSender {
    /// A sender dropped unsent (the store stopped) resolves its ticket with
    /// an error rather than leaving the caller waiting forever.
    fn drop(&mut self) {
        if let Some(shared) = self.0.take() {
            resolve(
                &shared,
                Err(StoreError::backend(
                    "commit",
                    "the store stopped before answering",
                )),
            );
        }
    }
}

fn resolve(shared: &Shared, result: Result<(), StoreError>) {
    let waker = {
        let mut state = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.result = Some(result);
        state.waker.take()
    };
    shared.resolved.notify_all();
    if let Some(waker) = waker {
        waker.wake();
    }
}

#[cfg(test)]
mod tests {
    use std::task::Wake;

    use super::*;

    struct CountWakes(Mutex<usize>);

    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            *self.0.lock().unwrap() += 1;
        }
    }

    #[test]
    fn a_ticket_resolves_for_a_waiting_thread() {
        let (sender, ticket) = CommitTicket::channel();
        let waiter = std::thread::spawn(move || ticket.wait());
        sender.send(Ok(()));
        assert!(waiter.join().unwrap().is_ok());
    }

    #[test]
    fn a_ticket_wakes_its_task_once_resolved() {
        let (sender, mut ticket) = CommitTicket::channel();
        let wakes = Arc::new(CountWakes(Mutex::new(0)));
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut ticket).poll(&mut cx).is_pending());
        sender.send(Err(StoreError::Closed));
        assert_eq!(*wakes.0.lock().unwrap(), 1);
        assert!(matches!(
            Pin::new(&mut ticket).poll(&mut cx),
            Poll::Ready(Err(StoreError::Closed))
        ));
    }

    #[test]
    fn a_dropped_sender_resolves_with_an_error() {
        let (sender, ticket) = CommitTicket::channel();
        drop(sender);
        assert!(ticket.wait().is_err());
        assert!(CommitTicket::ready(Ok(())).wait().is_ok());
    }
}
