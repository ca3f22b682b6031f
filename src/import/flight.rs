//! A channel between an import's reading thread and its writing one that
//! bounds what is in flight by bytes as well as by count.
//!
//! `std::sync::mpsc::sync_channel` bounds only the count: four batches of
//! exported articles can be four times 256 texts of 20 MB, and an Omnivore
//! export of 2,000 items that share one 20 MB page ran out of memory. Here
//! the sender says what each item weighs and waits while the items not yet
//! taken weigh more than the bound. One item is always let through, however
//! heavy, so that an item larger than the bound cannot stop the import.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

struct State<T> {
    queue: VecDeque<(T, usize)>,
    /// The bytes of what is queued.
    bytes: usize,
    sender: bool,
    receiver: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Wakes the sender when the receiver takes an item or goes.
    taken: Condvar,
    /// Wakes the receiver when the sender queues an item or goes.
    sent: Condvar,
    max_bytes: usize,
    max_count: usize,
}

impl<T> Shared<T> {
    // A thread that panicked while holding the lock left the queue whole
    // (no operation on it can panic halfway), so the lock is taken anyway.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The sending end; dropping it ends the receiver's iteration once the
/// queue is empty.
pub(crate) struct Sender<T>(Arc<Shared<T>>);

/// The receiving end; dropping it makes every later send fail.
pub(crate) struct Receiver<T>(Arc<Shared<T>>);

/// The receiver has gone.
#[derive(Debug)]
pub(crate) struct Disconnected;

/// A channel that holds at most `max_count` items and, beyond the first,
/// at most `max_bytes` of them.
pub(crate) fn channel<T>(max_bytes: usize, max_count: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            bytes: 0,
            sender: true,
            receiver: true,
        }),
        taken: Condvar::new(),
        sent: Condvar::new(),
        max_bytes,
        max_count: max_count.max(1),
    });
    (Sender(shared.clone()), Receiver(shared))
}

impl<T> Sender<T> {
    /// Queues `item`, which weighs `bytes`, waiting while the queue is
    /// full.
    pub(crate) fn send(&self, item: T, bytes: usize) -> Result<(), Disconnected> {
        let shared = &self.0;
        let mut state = shared.lock();
        loop {
            if !state.receiver {
                return Err(Disconnected);
            }
            let full = state.queue.len() >= shared.max_count
                || (!state.queue.is_empty() && state.bytes + bytes > shared.max_bytes);
            if !full {
                break;
            }
            state = shared.taken.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.bytes += bytes;
        state.queue.push_back((item, bytes));
        shared.sent.notify_one();
        Ok(())
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.0.lock().sender = false;
        self.0.sent.notify_one();
    }
}

impl<T> Receiver<T> {
    /// The next item, waiting for one; `None` once the sender has gone and
    /// the queue is empty.
    pub(crate) fn recv(&self) -> Option<T> {
        let shared = &self.0;
        let mut state = shared.lock();
        loop {
            if let Some((item, bytes)) = state.queue.pop_front() {
                state.bytes -= bytes;
                shared.taken.notify_one();
                return Some(item);
            }
            if !state.sender {
                return None;
            }
            state = shared.sent.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.receiver = false;
        // What was queued is not wanted: free it now, not with the sender.
        state.queue.clear();
        state.bytes = 0;
        drop(state);
        self.0.taken.notify_one();
    }
}

impl<T> Iterator for Receiver<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.recv()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_sender_waits_while_the_queue_weighs_more_than_the_bound() {
        let (send, receive) = channel::<u32>(100, 10);
        std::thread::scope(|s| {
            let sender = s.spawn(move || {
                send.send(1, 80).unwrap();
                // Over the bound with the first queued: waits for it.
                send.send(2, 80).unwrap();
            });
            std::thread::sleep(Duration::from_millis(100));
            {
                let state = receive.0.lock();
                assert_eq!(state.queue.len(), 1, "the second item waited");
                assert_eq!(state.bytes, 80);
            }
            let got: Vec<u32> = receive.collect();
            assert_eq!(got, [1, 2]);
            sender.join().unwrap();
        });
    }

    #[test]
    fn one_item_heavier_than_the_bound_goes_through() {
        let (send, receive) = channel::<u32>(10, 4);
        send.send(7, 1_000).unwrap();
        drop(send);
        assert_eq!(receive.collect::<Vec<_>>(), [7]);
    }

    #[test]
    fn the_count_is_bounded_too_and_a_gone_receiver_fails_sends() {
        let (send, receive) = channel::<u32>(usize::MAX, 2);
        send.send(1, 0).unwrap();
        send.send(2, 0).unwrap();
        std::thread::scope(|s| {
            let sender = s.spawn(|| send.send(3, 0));
            std::thread::sleep(Duration::from_millis(100));
            assert_eq!(receive.0.lock().queue.len(), 2, "the third item waited");
            drop(receive);
            assert!(sender.join().unwrap().is_err());
        });
    }
}
