//! One request at a time per session where it matters.
//!
//! A cell that waits for I/O (R2, `fetch`) yields the object to other events, so a second `exec`,
//! a file upload or a delete could otherwise run in the middle of it. Those take a [`Turn`] first
//! and run in arrival order; reads that only look at committed state do not need one.

use std::{
    cell::{Cell, RefCell},
    collections::VecDeque,
    future::poll_fn,
    task::{Poll, Waker},
};

#[derive(Default)]
pub struct Turns {
    busy: Cell<bool>,
    waiting: RefCell<VecDeque<Waker>>,
}

// The object must be unwind-safe under panic=unwind (see `object::Shared`). A panic cannot leave
// `Turns` half-updated: each method changes one cell at a time.
impl std::panic::UnwindSafe for Turns {}
impl std::panic::RefUnwindSafe for Turns {}

/// Held while a request has its turn; the next waiter goes on drop.
pub struct Turn<'a>(&'a Turns);

impl Turns {
    pub async fn take(&self) -> Turn<'_> {
        poll_fn(|cx| {
            if self.busy.get() {
                self.waiting.borrow_mut().push_back(cx.waker().clone());
                Poll::Pending
            } else {
                self.busy.set(true);
                Poll::Ready(())
            }
        })
        .await;
        Turn(self)
    }
}

/// A turn owned by a task (a streaming exec goes on after its request has answered).
pub struct OwnedTurn(std::rc::Rc<Turns>);

impl Turns {
    pub async fn take_owned(self: &std::rc::Rc<Self>) -> OwnedTurn {
        // Released by `OwnedTurn`'s drop, through a `Turn` made again there.
        std::mem::forget(self.take().await);
        OwnedTurn(self.clone())
    }
}

impl Drop for OwnedTurn {
    fn drop(&mut self) {
        drop(Turn(&self.0));
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.0.busy.set(false);
        if let Some(next) = self.0.waiting.borrow_mut().pop_front() {
            next.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{
        future::Future,
        pin::pin,
        sync::Arc,
        task::{Context, Wake},
    };

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    #[test]
    fn a_second_taker_waits_until_the_first_turn_ends() {
        let turns = Turns::default();
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        let mut first = pin!(turns.take());
        let Poll::Ready(turn) = first.as_mut().poll(&mut cx) else {
            panic!("the first taker gets the turn at once");
        };
        let mut second = pin!(turns.take());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        drop(turn);
        assert!(second.as_mut().poll(&mut cx).is_ready());
    }

    #[test]
    fn an_owned_turn_is_held_until_dropped() {
        let turns = std::rc::Rc::new(Turns::default());
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        let mut first = pin!(turns.take_owned());
        let Poll::Ready(owned) = first.as_mut().poll(&mut cx) else {
            panic!("the first taker gets the turn at once");
        };
        let mut second = pin!(turns.take());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        drop(owned);
        assert!(second.as_mut().poll(&mut cx).is_ready());
    }
}
