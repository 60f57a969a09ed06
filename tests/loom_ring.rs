//! The GPU queue ring's Acquire/Release protocol, model-checked: loom runs the producer and the
//! consumer in every interleaving its memory model allows, with the ring's atomics, `Arc` and
//! slot cells swapped for loom's, and fails on any unsynchronised slot access.
//!
//! Each model asserts that the consumer receives every item exactly once, in order.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test --release --test loom_ring`
//! (a separate `CARGO_TARGET_DIR` avoids rebuilding the normal profile afterwards).
#![cfg(loom)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches may panic on a broken setup

use infersteer::queue::Ring;
use loom::thread;

/// Receives until `n` items have arrived, yielding to the producer when the ring is empty.
fn receive_all(rx: &mut infersteer::queue::Consumer<u32>, n: usize, burst: usize) -> Vec<u32> {
    let mut got = Vec::with_capacity(n);
    let mut out = [0u32; 4];
    while got.len() < n {
        let k = if burst == 1 {
            rx.pop().map_or(0, |v| {
                out[0] = v;
                1
            })
        } else {
            rx.pop_burst(&mut out[..burst])
        };
        if k == 0 {
            thread::yield_now();
        }
        got.extend_from_slice(&out[..k]);
    }
    got
}

/// As `receive_all`, reading each item in place (`pop_burst_with`).
fn receive_all_in_place(
    rx: &mut infersteer::queue::Consumer<u32>,
    n: usize,
    burst: usize,
) -> Vec<u32> {
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        let want = burst.min(n - got.len());
        if rx.pop_burst_with(want, |_, &v| got.push(v)) == 0 {
            thread::yield_now();
        }
    }
    got
}

/// Pushes every item, retrying the rest of a burst when the ring is full.
fn send_all(tx: &mut infersteer::queue::Producer<u32>, items: &[u32], burst: usize) {
    let mut sent = 0;
    while sent < items.len() {
        let end = (sent + burst).min(items.len());
        let k = if burst == 1 {
            usize::from(tx.push(items[sent]).is_ok())
        } else {
            tx.push_burst(&items[sent..end])
        };
        if k == 0 {
            thread::yield_now();
        }
        sent += k;
    }
}

fn model(capacity: usize, items: &'static [u32], push_burst: usize, pop_burst: usize) {
    loom::model(move || {
        let (mut tx, mut rx) = Ring::<u32>::new(capacity).unwrap().split();
        let producer = thread::spawn(move || send_all(&mut tx, items, push_burst));
        let got = receive_all(&mut rx, items.len(), pop_burst);
        producer.join().unwrap();
        assert_eq!(got, items, "lost, duplicated or reordered items");
        assert_eq!(rx.pop(), None);
    });
}

/// Bursts across the wrap, the consumer reading the items in their slots: the slot reads must
/// be ordered before the producer reuses the slots.
#[test]
fn in_place_pops_across_the_wrap() {
    loom::model(|| {
        static ITEMS: [u32; 5] = [1, 2, 3, 4, 5];
        let (mut tx, mut rx) = Ring::<u32>::new(2).unwrap().split();
        let producer = thread::spawn(move || send_all(&mut tx, &ITEMS, 2));
        let got = receive_all_in_place(&mut rx, ITEMS.len(), 2);
        producer.join().unwrap();
        assert_eq!(got, ITEMS, "lost, duplicated or reordered items");
        assert_eq!(rx.pop(), None);
    });
}

/// Items staged one by one and committed two at a time across the wrap: the consumer must not
/// see a staged slot before its commit, and the slot writes must be ordered before its reads.
#[test]
fn staged_commits_across_the_wrap() {
    loom::model(|| {
        static ITEMS: [u32; 4] = [7, 8, 9, 10];
        let (mut tx, mut rx) = Ring::<u32>::new(2).unwrap().split();
        let producer = thread::spawn(move || {
            for pair in ITEMS.chunks(2) {
                for &v in pair {
                    while tx.stage(v).is_err() {
                        thread::yield_now();
                    }
                }
                assert_eq!(tx.commit(), pair.len());
            }
        });
        let got = receive_all(&mut rx, ITEMS.len(), 2);
        producer.join().unwrap();
        assert_eq!(got, ITEMS, "lost, duplicated or reordered items");
    });
}

/// Staging mixed with a push (which publishes what was staged before it) and a discard (which
/// must leave its slot free and unpublished), through a ring of two.
#[test]
fn stage_push_discard_interleavings() {
    loom::model(|| {
        let (mut tx, mut rx) = Ring::<u32>::new(2).unwrap().split();
        let producer = thread::spawn(move || {
            while tx.stage(1).is_err() {
                thread::yield_now();
            }
            while tx.push(2).is_err() {
                thread::yield_now();
            }
            while tx.stage(3).is_err() {
                thread::yield_now();
            }
            assert_eq!(tx.discard_staged(), 1);
            while tx.stage(4).is_err() {
                thread::yield_now();
            }
            assert_eq!(tx.commit(), 1);
        });
        let got = receive_all(&mut rx, 3, 2);
        producer.join().unwrap();
        assert_eq!(
            got,
            [1, 2, 4],
            "a discarded item was published, or one was lost"
        );
        assert_eq!(rx.pop(), None);
    });
}

/// Single pushes and pops through a ring of two: every slot is reused.
#[test]
fn single_push_single_pop_wraps() {
    model(2, &[1, 2, 3], 1, 1);
}

/// A burst of three into a ring of two (a partial push), popped in bursts of two.
#[test]
fn burst_push_burst_pop_partial() {
    model(2, &[10, 20, 30], 3, 2);
}

/// Bursts that straddle the end of the slot array.
#[test]
fn bursts_across_the_wrap() {
    model(4, &[1, 2, 3, 4, 5], 2, 3);
}
