//! How many image and PDF verifications run at once, and how many may wait.
//!
//! Reading a QR code from a photo takes the better part of a second of one
//! core and, at the verifier's working size, some tens of megabytes; a
//! PDF's parsing and signature check less, but more than text. So at most
//! [`Heavy::workers`] of them run at a time (about the number of cores),
//! a short queue waits behind them, and beyond it the server answers 503
//! with `Retry-After` at once, before reading a large body: memory stays
//! bounded under a storm of uploads and the server stays alive. The seal's
//! text never queues: a counter's scanner or a phone's QR link keeps its
//! answer in milliseconds while images wait.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Semaphore, SemaphorePermit};

/// Places in the queue per worker. A waiting verification holds only its
/// body (at most 10 MB, a certificate PDF about 40 KB), so the queue can be
/// long enough for a bank's batch of PDFs or a counter's rush: on two
/// cores, 32 waiting hold at most 320 MB, and what runs stays bounded by
/// the workers.
pub const QUEUE_PER_WORKER: usize = 16;

/// Seconds a client refused for a full queue is told to wait.
pub const RETRY_AFTER_SECONDS: u64 = 5;

/// The bound on heavy verifications: `workers` running, `queue` waiting.
#[derive(Debug)]
pub struct Heavy {
    running: Semaphore,
    admitted: AtomicUsize,
    workers: usize,
    capacity: usize,
}

/// A place among the admitted (running or waiting), given back on drop.
#[derive(Debug)]
pub struct Admission<'a> {
    heavy: &'a Heavy,
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.heavy.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The queue is full: try again in [`RETRY_AFTER_SECONDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl Heavy {
    /// `workers` at once (at least one) and `queue` waiting behind them.
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        Self {
            running: Semaphore::new(workers),
            admitted: AtomicUsize::new(0),
            workers,
            capacity: workers + queue,
        }
    }

    /// As many workers as the machine has cores, and [`QUEUE_PER_WORKER`]
    /// times as many waiting.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self::new(cores, QUEUE_PER_WORKER * cores)
    }

    /// How many run at once.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// How many are admitted now, running or waiting.
    pub fn admitted(&self) -> usize {
        self.admitted.load(Ordering::Acquire)
    }

    /// A place in the queue, or [`Busy`] when it is full.
    pub fn admit(&self) -> Result<Admission<'_>, Busy> {
        self.admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |admitted| {
                (admitted < self.capacity).then_some(admitted + 1)
            })
            .map(|_| Admission { heavy: self })
            .map_err(|_| Busy)
    }

    /// Waits for a worker; the admission is the caller's until it is done.
    /// (`Busy` only if the semaphore were closed, which it never is.)
    pub async fn start(&self, _admission: &Admission<'_>) -> Result<SemaphorePermit<'_>, Busy> {
        self.running.acquire().await.map_err(|_| Busy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_workers_and_queue_the_next_is_refused_until_one_leaves() {
        let heavy = Heavy::new(2, 1);
        let first = heavy.admit().expect("room");
        let _second = heavy.admit().expect("room");
        let _third = heavy.admit().expect("room in the queue");
        assert_eq!(heavy.admit().err(), Some(Busy));
        drop(first);
        assert!(heavy.admit().is_ok());
    }

    #[tokio::test]
    async fn only_the_workers_run_at_once() {
        let heavy = Heavy::new(1, 1);
        let a = heavy.admit().expect("room");
        let b = heavy.admit().expect("room");
        let running = heavy.start(&a).await.expect("a worker");
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), heavy.start(&b));
        assert!(waiting.await.is_err(), "the second waits for the first");
        drop(running);
        let _now = tokio::time::timeout(std::time::Duration::from_millis(50), heavy.start(&b))
            .await
            .expect("the second runs once the first is done")
            .expect("a worker");
    }
}
