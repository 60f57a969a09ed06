//! GPU queue round trip, per descriptor over bursts of 32: infersteer's SPSC ring beside
//! crossbeam's `ArrayQueue` on the same descriptors in the same criterion group.
//!
//! One iteration enqueues a burst of 32 one-cache-line [`Descriptor`]s and dequeues them again
//! on the same thread (ring and queue both of capacity 1024, so the slots in use rotate through
//! the whole ring as a real queue's do). Throughput is counted in descriptors, so criterion's
//! time per element is the cost of one enqueue plus one dequeue. infersteer uses
//! `push_burst`/`pop_burst`; crossbeam has no burst calls, so its side is 32 `push` then 32
//! `pop`. A third entry, `memcpy_floor`, copies the same bytes into and out of a 1024-slot array
//! with no queue logic: one round trip moves 128 bytes per descriptor, so that is the floor for
//! any queue of 64-byte descriptors. This measures the operations' own cost, not cross-core
//! cache traffic.
//!
//! Run: `cargo bench --bench queue` (then `scripts/bench-table.py queue` for the ratio table).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches may panic on a broken setup

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use crossbeam_queue::ArrayQueue;
use infersteer::capacity::BURST_SIZE;
use infersteer::queue::{DescFlags, Descriptor, Ring};

const RING_CAPACITY: usize = 1024;

fn descriptors() -> [Descriptor; BURST_SIZE] {
    core::array::from_fn(|i| {
        let i = i as u64;
        Descriptor {
            packet: 0x7f00_0000_0000 + i * 2048,
            session: i.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            flow_hash: i ^ 0xdead_beef,
            enqueue_ns: 1_000_000 + i,
            cookie: 0,
            tenant: 7,
            model: 3,
            payload_offset: 54,
            payload_len: 400,
            flags: DescFlags::TLS | DescFlags::HTTP2,
            queue: 1,
        }
    })
}

fn queue_bench(c: &mut Criterion) {
    let burst = descriptors();
    let mut g = c.benchmark_group(format!("queue/burst{BURST_SIZE}"));
    g.throughput(Throughput::Elements(BURST_SIZE as u64));

    let (mut tx, mut rx) = Ring::<Descriptor>::new(RING_CAPACITY).unwrap().split();
    let mut out = [Descriptor::EMPTY; BURST_SIZE];
    // Sanity: a round trip returns the burst unchanged.
    assert_eq!(tx.push_burst(&burst), BURST_SIZE);
    assert_eq!(rx.pop_burst(&mut out), BURST_SIZE);
    assert_eq!(out, burst);
    g.bench_function("infersteer", |b| {
        b.iter(|| {
            let pushed = tx.push_burst(black_box(&burst));
            let popped = rx.pop_burst(black_box(&mut out));
            black_box((pushed, popped));
        })
    });

    let q = ArrayQueue::<Descriptor>::new(RING_CAPACITY);
    g.bench_function("crossbeam_ArrayQueue", |b| {
        b.iter(|| {
            for d in black_box(&burst) {
                let _ = black_box(q.push(*d));
            }
            for slot in black_box(&mut out).iter_mut() {
                if let Some(d) = q.pop() {
                    *slot = d;
                }
            }
            black_box(&mut out);
        })
    });

    // The floor: the same bytes copied into a 1024-slot array at the same rotating offset and
    // back out, with no ring logic at all. No queue of 64-byte descriptors can beat this.
    let mut slots = vec![Descriptor::EMPTY; RING_CAPACITY];
    let mut at = 0usize;
    g.bench_function("memcpy_floor", |b| {
        b.iter(|| {
            let run = &mut slots[at..at + BURST_SIZE];
            run.copy_from_slice(black_box(&burst));
            black_box(&mut out).copy_from_slice(black_box(run));
            at = (at + BURST_SIZE) % RING_CAPACITY;
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    targets = queue_bench
}
criterion_main!(benches);
