//! Batch forming on the consuming side of a GPU queue, and the [`GpuConsumer`] seam that takes
//! the batches.
//!
//! A batch waits in the ring itself: [`Consumer::pop_batch`] pops nothing until either a full
//! batch is there or the oldest descriptor has waited long enough, judged by its
//! [`Descriptor::enqueue_ns`] against the caller's clock. No state lives outside the ring, so a
//! worker can poll as often as it likes.
#![forbid(unsafe_code)]

use super::{Consumer, Descriptor};

/// When a consumer releases a batch: as soon as `max_batch` descriptors are waiting, or as soon
/// as the oldest waiting one has waited `max_wait_ns`, whichever comes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BatchPolicy {
    /// The most descriptors in one batch (a GPU kernel's batch dimension). `0` counts as `1`.
    pub max_batch: usize,
    /// The longest the oldest descriptor waits for a batch to fill, in nanoseconds of the clock
    /// that stamps [`Descriptor::enqueue_ns`]. `0` releases whatever is waiting at once.
    pub max_wait_ns: u64,
}

impl BatchPolicy {
    /// A policy of batches of `max_batch` descriptors, waiting at most `max_wait_ns`.
    pub const fn new(max_batch: usize, max_wait_ns: u64) -> Self {
        Self {
            max_batch,
            max_wait_ns,
        }
    }

    /// Whether a batch is due: `waiting` descriptors are in the ring, the oldest stamped
    /// `oldest_enqueue_ns`, the clock reads `now_ns`, and one batch holds at most `limit`
    /// (the policy's `max_batch`, or less when the caller's buffer is smaller).
    ///
    /// A timestamp later than `now_ns` (clocks read on different cores) counts as no wait.
    #[inline]
    pub const fn is_due(
        &self,
        waiting: usize,
        limit: usize,
        oldest_enqueue_ns: u64,
        now_ns: u64,
    ) -> bool {
        waiting > 0
            && (waiting >= limit || now_ns.saturating_sub(oldest_enqueue_ns) >= self.max_wait_ns)
    }
}

impl Consumer<Descriptor> {
    /// Pops one batch into the front of `out` if the `policy` says one is due at `now_ns`, and
    /// returns its size; `0` while the batch is still forming or the ring is empty.
    ///
    /// A batch holds at most `min(policy.max_batch, out.len())` descriptors (and at least one
    /// when `out` is not empty): it is due when that many are waiting, or when the oldest
    /// waiting descriptor was enqueued `policy.max_wait_ns` or more before `now_ns`, in which
    /// case everything waiting, up to that size, is released. Oldest first, no allocation.
    ///
    /// ```
    /// use infersteer::queue::{BatchPolicy, Descriptor, Ring};
    ///
    /// let (mut tx, mut rx) = Ring::<Descriptor>::new(64).unwrap().split();
    /// let policy = BatchPolicy::new(4, 1_000);
    /// let mut batch = [Descriptor::EMPTY; 4];
    /// let d = Descriptor { enqueue_ns: 100, ..Descriptor::EMPTY };
    /// assert_eq!(tx.push_burst(&[d; 3]), 3);
    /// assert_eq!(rx.pop_batch(&mut batch, policy, 500), 0); // 3 of 4, waited 400 ns
    /// assert_eq!(rx.pop_batch(&mut batch, policy, 1_100), 3); // waited 1000 ns: release
    /// ```
    #[inline]
    pub fn pop_batch(&mut self, out: &mut [Descriptor], policy: BatchPolicy, now_ns: u64) -> usize {
        let limit = policy.max_batch.max(1).min(out.len());
        if limit == 0 {
            return 0;
        }
        let waiting = self.len();
        if waiting == 0 {
            return 0;
        }
        if waiting < limit {
            let Some(oldest) = self.peek() else {
                return 0;
            };
            if !policy.is_due(waiting, limit, oldest.enqueue_ns, now_ns) {
                return 0;
            }
        }
        let Some(batch) = out.get_mut(..limit) else {
            return 0;
        };
        self.pop_burst(batch)
    }
}

impl Consumer<Descriptor> {
    /// [`pop_batch`](Self::pop_batch) without the copy: lends the batch that is due (at most
    /// `max` descriptors, by the same rules) where it lies in the ring, as two runs (the second
    /// is non-empty only where the batch wraps the ring's end), or two empty runs while the
    /// batch is still forming. Nothing is popped: [`advance`](Consumer::advance) by the
    /// batch's size when done with it.
    #[cfg(not(loom))]
    #[inline]
    pub fn peek_batch(
        &mut self,
        max: usize,
        policy: BatchPolicy,
        now_ns: u64,
    ) -> (&[Descriptor], &[Descriptor]) {
        let limit = policy.max_batch.max(1).min(max);
        let waiting = self.len();
        let due = limit > 0
            && waiting > 0
            && (waiting >= limit
                || self
                    .peek()
                    .is_some_and(|d| policy.is_due(waiting, limit, d.enqueue_ns, now_ns)));
        self.peek_burst(if due { limit } else { 0 })
    }
}

/// Whatever takes batches of descriptors off a GPU queue: the seam between the ring and the
/// compute behind it.
///
/// Today's implementation is a host worker thread (any `FnMut(&[Descriptor])` is one, see
/// [`drain_into`]); a CUDA consumer would copy each batch into pinned memory and ring a
/// persistent kernel's doorbell, a DOCA GPUNetIO consumer would hand the packet handles to the
/// GPU's receive queue. Implementations must not block for long: the ring fills behind them.
pub trait GpuConsumer {
    /// Takes one batch, oldest descriptor first; never empty. The slice is only borrowed:
    /// copy out what must outlive the call.
    fn consume(&mut self, batch: &[Descriptor]);
}

impl<F: FnMut(&[Descriptor])> GpuConsumer for F {
    #[inline]
    fn consume(&mut self, batch: &[Descriptor]) {
        self(batch)
    }
}

/// One polling step of a host worker: pops every batch that `policy` says is due at `now_ns`
/// into `scratch` and hands each to `sink`, and returns how many descriptors were consumed.
///
/// A batch holds at most `min(policy.max_batch, scratch.len())` descriptors. The step stops at
/// the first batch that is not yet due (a partial batch still inside its wait), or once a
/// ring's capacity worth has been consumed, so that a producer that never pauses cannot keep
/// it from returning. Call it in a loop with a fresh `now_ns` each time.
///
/// ```
/// use infersteer::queue::{drain_into, BatchPolicy, Descriptor, Ring};
///
/// let (mut tx, mut rx) = Ring::<Descriptor>::new(64).unwrap().split();
/// let d = Descriptor { enqueue_ns: 0, ..Descriptor::EMPTY };
/// tx.push_burst(&[d; 10]);
///
/// let mut sizes = Vec::new();
/// let mut sink = |batch: &[Descriptor]| sizes.push(batch.len());
/// let mut scratch = [Descriptor::EMPTY; 32];
/// let policy = BatchPolicy::new(4, 50_000);
/// // At t = 10 µs two full batches go; the last two descriptors wait for more.
/// assert_eq!(drain_into(&mut rx, &mut sink, policy, 10_000, &mut scratch), 8);
/// // At t = 60 µs they have waited long enough.
/// assert_eq!(drain_into(&mut rx, &mut sink, policy, 60_000, &mut scratch), 2);
/// assert_eq!(sizes, [4, 4, 2]);
/// ```
pub fn drain_into<C: GpuConsumer + ?Sized>(
    consumer: &mut Consumer<Descriptor>,
    sink: &mut C,
    policy: BatchPolicy,
    now_ns: u64,
    scratch: &mut [Descriptor],
) -> usize {
    let budget = consumer.capacity();
    let mut total = 0usize;
    while total < budget {
        let n = consumer.pop_batch(scratch, policy, now_ns);
        let Some(batch) = scratch.get(..n) else {
            break;
        };
        if batch.is_empty() {
            break;
        }
        sink.consume(batch);
        total += n;
    }
    total
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::queue::Ring;

    fn at(enqueue_ns: u64, packet: u64) -> Descriptor {
        Descriptor {
            packet,
            enqueue_ns,
            ..Descriptor::EMPTY
        }
    }

    #[test]
    fn is_due_rules() {
        let p = BatchPolicy::new(8, 100);
        assert!(!p.is_due(0, 8, 0, 1_000));
        assert!(p.is_due(8, 8, 50, 50));
        assert!(!p.is_due(7, 8, 50, 149));
        assert!(p.is_due(7, 8, 50, 150));
        assert!(!p.is_due(1, 8, 500, 100)); // stamped in the future: no wait yet
        assert!(BatchPolicy::new(8, 0).is_due(1, 8, 500, 100));
    }

    #[test]
    fn full_batch_then_timeout() {
        let (mut tx, mut rx) = Ring::<Descriptor>::new(16).unwrap().split();
        let p = BatchPolicy::new(4, 1_000);
        let mut out = [Descriptor::EMPTY; 8];
        for i in 0..6 {
            assert!(tx.push(at(10 * i, i)).is_ok());
        }
        assert_eq!(rx.pop_batch(&mut out, p, 20), 4);
        assert_eq!(
            out[..4].iter().map(|d| d.packet).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        // Two left, oldest stamped 40: not due before 1040.
        assert_eq!(rx.pop_batch(&mut out, p, 1_039), 0);
        assert_eq!(rx.pop_batch(&mut out, p, 1_040), 2);
        assert_eq!(
            out[..2].iter().map(|d| d.packet).collect::<Vec<_>>(),
            [4, 5]
        );
        assert_eq!(rx.pop_batch(&mut out, p, u64::MAX), 0);
    }

    #[test]
    fn peek_batch_follows_pop_batch_rules() {
        let (mut tx, mut rx) = Ring::<Descriptor>::new(8).unwrap().split();
        let p = BatchPolicy::new(4, 1_000);
        // Wrap the ring's end first: 6 in and out.
        tx.push_burst(&[at(0, 0); 6]);
        assert_eq!(rx.advance(6), 6);
        tx.push_burst(&[at(10, 1), at(20, 2), at(30, 3)]);
        assert_eq!(rx.peek_batch(8, p, 500), (&[][..], &[][..])); // 3 of 4, waited 490
        let (a, b) = rx.peek_batch(8, p, 1_010); // the oldest waited 1000: due
        assert_eq!((a.len(), b.len()), (2, 1)); // slots 6, 7 then 0
        assert_eq!([a[0].packet, a[1].packet, b[0].packet], [1, 2, 3]);
        tx.push_burst(&[at(40, 4), at(50, 5)]);
        let (a, b) = rx.peek_batch(8, p, 0); // 5 waiting: a full batch of 4, at once
        assert_eq!(a.len() + b.len(), 4);
        assert_eq!(rx.peek_batch(2, p, 0).0.len(), 2); // a smaller buffer caps it
        assert_eq!(rx.advance(4), 4);
        assert_eq!(rx.pop().map(|d| d.packet), Some(5));
        assert_eq!(rx.peek_batch(8, p, u64::MAX), (&[][..], &[][..]));
    }

    #[test]
    fn small_buffer_and_zero_batch() {
        let (mut tx, mut rx) = Ring::<Descriptor>::new(16).unwrap().split();
        assert_eq!(tx.push_burst(&[at(0, 0); 5]), 5);
        let mut out = [Descriptor::EMPTY; 2];
        // max_batch 8 but only 2 fit: a full buffer is a full batch.
        assert_eq!(rx.pop_batch(&mut out, BatchPolicy::new(8, u64::MAX), 0), 2);
        // max_batch 0 counts as 1.
        assert_eq!(rx.pop_batch(&mut out, BatchPolicy::new(0, u64::MAX), 0), 1);
        assert_eq!(rx.pop_batch(&mut [], BatchPolicy::new(8, 0), 0), 0);
        assert_eq!(rx.len(), 2);
    }

    #[test]
    fn drain_is_bounded_by_capacity() {
        let (mut tx, mut rx) = Ring::<Descriptor>::new(8).unwrap().split();
        assert_eq!(tx.push_burst(&[at(0, 0); 8]), 8);
        let mut seen = 0usize;
        let mut scratch = [Descriptor::EMPTY; 3];
        let mut sink = |b: &[Descriptor]| {
            assert!(!b.is_empty() && b.len() <= 3);
            seen += b.len();
        };
        assert_eq!(
            drain_into(&mut rx, &mut sink, BatchPolicy::new(3, 0), 0, &mut scratch),
            8
        );
        assert_eq!(seen, 8);
    }
}
