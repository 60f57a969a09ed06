//! The GPU queue ring against a model and across threads.
//!
//! - Random sequences of `push`, `push_burst`, `stage`, `commit`, `discard_staged`, `pop`,
//!   `pop_burst`, `pop_burst_with`, `peek`, and `peek_burst` + `advance` on rings of random
//!   power-of-two capacities, each step checked against a `VecDeque` bounded to the same
//!   capacity (plus the staged items): same results, same lengths, same order.
//! - Two-thread stress runs: the producer pushes (or stages and commits) `0..N` in bursts of
//!   varying size, the consumer pops, or peeks and advances, in bursts of other sizes and
//!   checks that it sees exactly `0..N` in order.
//! - Batch forming across threads: every descriptor arrives once, in order, in batches no
//!   larger than the policy's.

#![cfg(not(loom))] // the loom build checks the ring in tests/loom_ring.rs
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches may panic on a broken setup

use std::collections::VecDeque;
use std::thread;

use infersteer::queue::{drain_into, BatchPolicy, Descriptor, Producer, Ring, RingError};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Push(u32),
    PushBurst(Vec<u32>),
    Pop,
    PopBurst(usize),
    Peek,
    /// `peek_burst(max)` then `advance(n)`.
    PeekAdvance(usize, usize),
    /// `pop_burst_with(max)`.
    PopWith(usize),
    Stage(u32),
    Commit,
    Discard,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<u32>().prop_map(Op::Push),
        prop::collection::vec(any::<u32>(), 0..40).prop_map(Op::PushBurst),
        Just(Op::Pop),
        (0usize..40).prop_map(Op::PopBurst),
        Just(Op::Peek),
        (0usize..40, 0usize..40).prop_map(|(m, n)| Op::PeekAdvance(m, n)),
        (0usize..40).prop_map(Op::PopWith),
        any::<u32>().prop_map(Op::Stage),
        Just(Op::Commit),
        Just(Op::Discard),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn ring_matches_vecdeque(cap_log2 in 0u32..6, ops in prop::collection::vec(op(), 0..200)) {
        let cap = 1usize << cap_log2;
        let (mut tx, mut rx) = Ring::<u32>::new(cap).unwrap().split();
        let mut model = VecDeque::with_capacity(cap);
        // Staged items: written, taking room, not yet visible to the consumer.
        let mut staged: Vec<u32> = Vec::new();
        for op in ops {
            match op {
                Op::Push(v) => {
                    let expect = if model.len() + staged.len() < cap {
                        model.extend(staged.drain(..));
                        model.push_back(v);
                        Ok(())
                    } else {
                        Err(v)
                    };
                    prop_assert_eq!(tx.push(v), expect);
                }
                Op::PushBurst(vs) => {
                    let room = cap - model.len() - staged.len();
                    let expect = vs.len().min(room);
                    if expect > 0 {
                        model.extend(staged.drain(..));
                    }
                    model.extend(&vs[..expect]);
                    prop_assert_eq!(tx.push_burst(&vs), expect);
                }
                Op::Stage(v) => {
                    let expect = if model.len() + staged.len() < cap { staged.push(v); Ok(()) } else { Err(v) };
                    prop_assert_eq!(tx.stage(v), expect);
                }
                Op::Commit => {
                    prop_assert_eq!(tx.commit(), staged.len());
                    model.extend(staged.drain(..));
                }
                Op::Discard => {
                    prop_assert_eq!(tx.discard_staged(), staged.len());
                    staged.clear();
                }
                Op::Pop => prop_assert_eq!(rx.pop(), model.pop_front()),
                Op::PopBurst(n) => {
                    let mut out = vec![u32::MAX; n];
                    let got = rx.pop_burst(&mut out);
                    let expect: Vec<u32> = model.drain(..n.min(model.len())).collect();
                    prop_assert_eq!(&out[..got], &expect[..]);
                    // Slots past the count are untouched.
                    prop_assert!(out[got..].iter().all(|&v| v == u32::MAX));
                }
                Op::Peek => prop_assert_eq!(rx.peek(), model.front().copied()),
                Op::PeekAdvance(max, n) => {
                    let (a, b) = rx.peek_burst(max);
                    let lent: Vec<u32> = a.iter().chain(b).copied().collect();
                    let expect: Vec<u32> = model.iter().take(max).copied().collect();
                    prop_assert_eq!(lent, expect);
                    let popped = rx.advance(n);
                    prop_assert_eq!(popped, n.min(model.len()));
                    model.drain(..popped);
                }
                Op::PopWith(max) => {
                    let mut seen = Vec::new();
                    let got = rx.pop_burst_with(max, |i, &v| seen.push((i, v)));
                    let expect: Vec<(usize, u32)> =
                        model.drain(..max.min(model.len())).enumerate().collect();
                    prop_assert_eq!(got, expect.len());
                    prop_assert_eq!(seen, expect);
                }
            }
            prop_assert_eq!(tx.staged(), staged.len());
            prop_assert_eq!(tx.len(), model.len() + staged.len());
            prop_assert_eq!(rx.len(), model.len());
            prop_assert_eq!(tx.is_full(), model.len() + staged.len() == cap);
            prop_assert_eq!(rx.is_empty(), model.is_empty());
        }
    }

    #[test]
    fn capacities(cap in 0usize..5000) {
        let r = Ring::<u64>::new(cap);
        if cap == 0 {
            prop_assert_eq!(r.err(), Some(RingError::ZeroCapacity));
        } else if cap.is_power_of_two() {
            prop_assert_eq!(r.map(|r| r.capacity()), Ok(cap));
        } else {
            prop_assert_eq!(r.err(), Some(RingError::NotPowerOfTwo(cap)));
        }
    }
}

/// Enough to cross many wraps and interleavings; a debug build still runs it in about a second.
const STRESS_ITEMS: u64 = 1_000_000;

/// A producer thread sending 0, 1, 2, … up to `STRESS_ITEMS` in bursts whose sizes cycle
/// through 1..=`max_burst`; with `stage`, every other burst is staged item by item and then
/// committed instead of pushed.
fn spawn_counter(mut tx: Producer<u64>, max_burst: usize, stage: bool) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut burst = vec![0u64; max_burst];
        let (mut next, mut size, mut round) = (0u64, 1usize, 0u64);
        while next < STRESS_ITEMS {
            let n = size.min((STRESS_ITEMS - next) as usize);
            for (i, slot) in burst[..n].iter_mut().enumerate() {
                *slot = next + i as u64;
            }
            let pushed = if stage && round % 2 == 1 {
                let k = burst[..n]
                    .iter()
                    .take_while(|&&v| tx.stage(v).is_ok())
                    .count();
                assert_eq!(tx.commit(), k);
                k
            } else {
                tx.push_burst(&burst[..n])
            };
            if pushed == 0 {
                thread::yield_now();
            }
            next += pushed as u64;
            size = size % max_burst + 1;
            round += 1;
        }
    })
}

#[test]
fn two_threads_in_order() {
    let (tx, mut rx) = Ring::<u64>::new(256).unwrap().split();
    let producer = spawn_counter(tx, 37, false);
    let mut out = [0u64; 29];
    let mut expect = 0u64;
    let mut size = 1usize;
    while expect < STRESS_ITEMS {
        let got = if size == 1 {
            rx.pop().map_or(0, |v| {
                out[0] = v;
                1
            })
        } else {
            rx.pop_burst(&mut out[..size])
        };
        if got == 0 {
            thread::yield_now();
        }
        for &v in &out[..got] {
            assert_eq!(v, expect, "lost, duplicated or reordered item");
            expect += 1;
        }
        size = size % out.len() + 1;
    }
    producer.join().unwrap();
    assert_eq!(rx.pop(), None);
}

/// The zero-copy ends across threads: the producer stages and commits every other burst;
/// `peek_burst` lends runs in place and `advance` pops a varying part of them (sometimes less
/// than was lent, sometimes more than is there).
#[test]
fn two_threads_zero_copy_in_order() {
    let (tx, mut rx) = Ring::<u64>::new(128).unwrap().split();
    let producer = spawn_counter(tx, 33, true);
    let mut expect = 0u64;
    let mut round = 0usize;
    while expect < STRESS_ITEMS {
        let max = round % 40 + 1;
        let (a, b) = rx.peek_burst(max);
        let lent = a.len() + b.len();
        assert!(lent <= max);
        for (k, &v) in a.iter().chain(b).enumerate() {
            assert_eq!(v, expect + k as u64, "lost, duplicated or reordered item");
        }
        // Consume all of them, part of them, or ask for more than were lent.
        let want = match round % 3 {
            0 => lent,
            1 => lent / 2,
            _ => lent + 5,
        };
        let popped = rx.advance(want);
        assert!(
            popped >= want.min(lent),
            "advance popped {popped} of {want}"
        );
        expect += popped as u64;
        if lent == 0 {
            thread::yield_now();
        }
        round += 1;
    }
    producer.join().unwrap();
    assert_eq!(rx.pop(), None);
}

#[test]
fn batches_across_threads() {
    const ITEMS: u64 = 50_000;
    let (mut tx, mut rx) = Ring::<Descriptor>::new(64).unwrap().split();
    let producer = thread::spawn(move || {
        let mut next = 0u64;
        while next < ITEMS {
            let d = Descriptor {
                packet: next,
                enqueue_ns: next,
                ..Descriptor::EMPTY
            };
            if tx.push(d).is_ok() {
                next += 1;
            } else {
                thread::yield_now();
            }
        }
    });
    let policy = BatchPolicy::new(16, 8);
    let mut expect = 0u64;
    let mut batches = 0u64;
    let mut sink = |batch: &[Descriptor]| {
        assert!(!batch.is_empty() && batch.len() <= 16);
        for d in batch {
            assert_eq!(d.packet, expect);
            expect += 1;
        }
        batches += 1;
    };
    let mut scratch = [Descriptor::EMPTY; 32];
    // The "clock" is the count of descriptors pushed so far, so partial batches time out.
    let mut now = 0u64;
    let mut total = 0u64;
    while total < ITEMS {
        let n = drain_into(&mut rx, &mut sink, policy, now, &mut scratch);
        if n == 0 {
            thread::yield_now();
            now += 1;
        }
        total += n as u64;
    }
    producer.join().unwrap();
    assert_eq!(total, ITEMS);
    assert!(batches >= ITEMS / 16);
}

#[test]
fn batch_release_rules() {
    let (mut tx, mut rx) = Ring::<Descriptor>::new(32).unwrap().split();
    let policy = BatchPolicy::new(8, 1_000);
    let mut out = [Descriptor::EMPTY; 8];
    let at = |t: u64| Descriptor {
        enqueue_ns: t,
        packet: t,
        ..Descriptor::EMPTY
    };

    // Empty ring: nothing, however late.
    assert_eq!(rx.pop_batch(&mut out, policy, u64::MAX), 0);
    // Seven waiting: not a full batch, released only once the oldest waited 1000 ns.
    for t in 100..107 {
        tx.push(at(t)).unwrap();
    }
    assert_eq!(rx.pop_batch(&mut out, policy, 1_099), 0);
    assert_eq!(rx.len(), 7);
    assert_eq!(rx.pop_batch(&mut out, policy, 1_100), 7);
    assert_eq!(out[6].packet, 106);
    // Twenty waiting: full batches go at once, the rest waits.
    for t in 2_000..2_020 {
        tx.push(at(t)).unwrap();
    }
    assert_eq!(rx.pop_batch(&mut out, policy, 2_020), 8);
    assert_eq!(rx.pop_batch(&mut out, policy, 2_020), 8);
    assert_eq!(out[0].packet, 2_008);
    assert_eq!(rx.pop_batch(&mut out, policy, 2_020), 0);
    // The oldest of the last four was stamped 2016.
    assert_eq!(rx.pop_batch(&mut out, policy, 3_015), 0);
    assert_eq!(rx.pop_batch(&mut out, policy, 3_016), 4);
    assert!(rx.is_empty());
}
