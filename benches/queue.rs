//! GPU queue round trip, per descriptor over bursts of 32: infersteer's SPSC ring beside
//! crossbeam's `ArrayQueue` on the same descriptors in the same criterion group.
//!
//! One iteration enqueues a burst of 32 one-cache-line [`Descriptor`]s and dequeues them again
//! on the same thread (ring and queue both of capacity 1024, so the slots in use rotate through
//! the whole ring as a real queue's do). Throughput is counted in descriptors, so criterion's
//! time per element is the cost of one enqueue plus one dequeue. infersteer enters twice:
//!
//! - `infersteer`: `push_burst` then `pop_burst`, copying the descriptors in and then out into
//!   the consumer's array;
//! - `infersteer_zero_copy`: `push_burst` then `peek_burst` + `advance`, the consumer taking
//!   the descriptors where they lie in the ring (as a GPU or DMA consumer reads them) with no
//!   copy out. What the consumer then does with each descriptor is its own work and is not in
//!   either figure.
//!
//! crossbeam has no burst calls, so its side is 32 `push` then 32 `pop`. `memcpy_floor` copies
//! the same bytes into and out of a 1024-slot array with no queue logic: one copying round trip
//! moves 128 bytes per descriptor, so that is the floor for any queue that copies 64-byte
//! descriptors in and out (the zero-copy consumer skips the copy out). This measures the
//! operations' own cost, not cross-core cache traffic.
//!
//! With `--features dpdk`, DPDK 22.11's `rte_ring` joins (the EAL is started once, before the
//! first measurement, with `-l 0 --no-huge --no-pci --no-shconf`, so every peer runs on the
//! main lcore's pinned thread). `rte_ring` natively stores pointers (8 bytes), not 64-byte
//! descriptors, so it enters two ways:
//!
//! - `rte_ring_sp_sc`, the like-for-like peer: an element ring (`rte_ring_create_elem` with
//!   64-byte elements, 1,024 slots so 1,023 usable, `RING_F_SP_ENQ | RING_F_SC_DEQ`) fed with
//!   `rte_ring_sp_enqueue_burst_elem` and drained with `rte_ring_sc_dequeue_burst_elem`, which
//!   copy the descriptors themselves in and out: the same work as infersteer's ring. Both are
//!   `static inline` in C and are reached through out-of-line shim functions
//!   (`infersteer_ring_{sp_enqueue,sc_dequeue}_burst_elem`), so each burst pays two C calls.
//!   DPDK 22.11 has wide copies only for 8- and 16-byte elements; any other size is copied 32
//!   bits at a time (`__rte_ring_enqueue_elems_32`, 16 scalar loads and stores per descriptor
//!   each way), which is most of its cost here.
//! - `rte_ring_sp_sc_ptr`, the classic pointer ring: the safe `infersteer::dpdk::Ring` (SP/SC,
//!   exactly 1,024 handles) carries slot indices of a 1,024-descriptor array, as a DPDK
//!   application passes pointers to descriptors kept elsewhere. The producer writes the burst
//!   into the array and enqueues 32 handles; the consumer dequeues them and copies the
//!   descriptors out, so it moves the same 128 bytes per descriptor plus 16 bytes of handles.
//!
//! Run: `cargo bench --bench queue` (then `scripts/bench-table.py queue` for the ratio table),
//! or `cargo bench --features dpdk --bench queue` with the DPDK peers.

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
    // Start DPDK before the first measurement: the EAL pins this thread to lcore 0, and every
    // peer should run under the same affinity.
    #[cfg(feature = "dpdk")]
    let eal = rte::eal();
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

    // The same ring with a zero-copy consumer: `push_burst` as above, then `peek_burst` lends
    // the consumer the descriptors where they lie in the ring (a GPU or DMA consumer reads
    // them there) and `advance` pops them; nothing is copied out.
    let (mut tx2, mut rx2) = Ring::<Descriptor>::new(RING_CAPACITY).unwrap().split();
    for _ in 0..3 {
        // Sanity, also across the wrap: the runs lent are the burst, in order.
        assert_eq!(tx2.push_burst(&burst), BURST_SIZE);
        let (r1, r2) = rx2.peek_burst(BURST_SIZE);
        assert!(r1.iter().chain(r2).eq(burst.iter()));
        assert_eq!(rx2.advance(BURST_SIZE), BURST_SIZE);
    }
    g.bench_function("infersteer_zero_copy", |b| {
        b.iter(|| {
            let pushed = tx2.push_burst(black_box(&burst));
            let (r1, r2) = rx2.peek_burst(BURST_SIZE);
            let n = r1.len() + r2.len();
            black_box((r1, r2));
            let popped = rx2.advance(n);
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

    #[cfg(feature = "dpdk")]
    {
        let mut ring = rte::ElemRing::new("bench_desc", RING_CAPACITY as u32);
        // Sanity: a round trip returns the burst unchanged.
        out = [Descriptor::EMPTY; BURST_SIZE];
        assert_eq!(ring.enqueue_burst(&burst), BURST_SIZE);
        assert_eq!(ring.dequeue_burst(&mut out), BURST_SIZE);
        assert_eq!(out, burst);
        g.bench_function("rte_ring_sp_sc", |b| {
            b.iter(|| {
                let pushed = ring.enqueue_burst(black_box(&burst));
                let popped = ring.dequeue_burst(black_box(&mut out));
                black_box((pushed, popped));
            })
        });
        drop(ring);

        use infersteer::dpdk::{Ring as RteRing, RingSync};
        let mut handles_ring = RteRing::new(
            eal,
            "bench_ptr",
            RING_CAPACITY as u32,
            RingSync::SingleProducerSingleConsumer,
        )
        .unwrap();
        let (mut prod, mut cons) = handles_ring.split();
        let mut at = 0usize;
        let mut round_trip = |out: &mut [Descriptor; BURST_SIZE]| {
            // Producer: descriptors into their slots, then one burst of their handles.
            slots[at..at + BURST_SIZE].copy_from_slice(black_box(&burst));
            let handles: [u64; BURST_SIZE] = core::array::from_fn(|j| (at + j) as u64);
            let pushed = prod.enqueue_burst(&handles);
            // Consumer: one burst of handles, then the descriptors out of their slots.
            let mut got = [0u64; BURST_SIZE];
            let popped = cons.dequeue_burst(&mut got);
            for (o, h) in out.iter_mut().zip(&got[..popped]) {
                *o = slots[*h as usize];
            }
            at = (at + BURST_SIZE) % RING_CAPACITY;
            (pushed, popped)
        };
        out = [Descriptor::EMPTY; BURST_SIZE];
        assert_eq!(round_trip(&mut out), (BURST_SIZE, BURST_SIZE));
        assert_eq!(out, burst);
        g.bench_function("rte_ring_sp_sc_ptr", |b| {
            b.iter(|| black_box(round_trip(black_box(&mut out))))
        });
    }
    g.finish();
}

/// The DPDK peer (feature `dpdk`): an owner of an `rte_ring` of 64-byte descriptor elements
/// over the raw bindings. Setup may panic (a bench with a broken setup has nothing to measure).
#[cfg(feature = "dpdk")]
#[allow(unsafe_code)] // FFI: every unsafe block carries a `// SAFETY:` proof.
mod rte {
    use core::ptr::NonNull;
    use std::ffi::CString;
    use std::sync::OnceLock;

    use infersteer::dpdk::{sys, Eal};
    use infersteer::queue::Descriptor;

    /// One element: a whole descriptor (64 bytes, a multiple of 4 as DPDK requires).
    const ESIZE: u32 = size_of::<Descriptor>() as u32;
    const _: () = assert!(ESIZE == 64 && ESIZE % 4 == 0);

    /// The process's EAL, started on first use and never dropped (DPDK cannot start twice).
    pub(crate) fn eal() -> &'static Eal {
        static EAL: OnceLock<Eal> = OnceLock::new();
        EAL.get_or_init(|| {
            let prefix = format!(
                "--file-prefix=infersteer-bench-queue-{}",
                std::process::id()
            );
            let args = [
                "-l",
                "0",
                "--no-huge",
                "-m",
                "256",
                "--no-pci",
                "--no-shconf",
                "--no-telemetry",
                &prefix,
                "--log-level=critical",
            ];
            Eal::init(&args).expect("EAL init")
        })
    }

    /// An SP/SC `rte_ring` of [`Descriptor`] elements (`rte_ring_create_elem`), freed on drop.
    /// `&mut self` on both ends keeps the single-producer/single-consumer rule.
    pub(crate) struct ElemRing {
        raw: NonNull<sys::rte_ring>,
    }

    impl ElemRing {
        /// `count` slots (a power of two), `count - 1` usable.
        pub(crate) fn new(name: &str, count: u32) -> Self {
            let eal = eal();
            let c_name = CString::new(name).expect("name");
            // SAFETY: a NUL-terminated name DPDK copies; DPDK validates esize, count and
            // flags and returns NULL with rte_errno on error; the EAL is up.
            let raw = unsafe {
                sys::rte_ring_create_elem(
                    c_name.as_ptr(),
                    ESIZE,
                    count,
                    eal.socket_id(),
                    sys::consts::RING_F_SP_ENQ | sys::consts::RING_F_SC_DEQ,
                )
            };
            Self {
                raw: NonNull::new(raw).expect("rte_ring_create_elem"),
            }
        }

        /// Copies as many of `descs` as fit into the ring; returns how many.
        #[inline]
        pub(crate) fn enqueue_burst(&mut self, descs: &[Descriptor]) -> usize {
            let n = u32::try_from(descs.len()).unwrap_or(u32::MAX);
            // SAFETY: `raw` is a live ring of ESIZE-byte elements; `descs` provides `n`
            // readable elements of exactly ESIZE bytes; `&mut self` makes this the only
            // producer, as the SP path needs; a NULL `free_space` is allowed.
            let done = unsafe {
                sys::infersteer_ring_sp_enqueue_burst_elem(
                    self.raw.as_ptr(),
                    descs.as_ptr().cast(),
                    ESIZE,
                    n,
                    core::ptr::null_mut(),
                )
            };
            (done as usize).min(descs.len())
        }

        /// Copies up to `out.len()` descriptors out of the ring; returns how many.
        #[inline]
        pub(crate) fn dequeue_burst(&mut self, out: &mut [Descriptor]) -> usize {
            let n = u32::try_from(out.len()).unwrap_or(u32::MAX);
            // SAFETY: `out` provides `n` writable ESIZE-byte slots; every element in the ring
            // is a bit copy of a valid `Descriptor` (only `enqueue_burst` fills it), so what
            // DPDK writes there is one too; `&mut self` makes this the only consumer.
            let done = unsafe {
                sys::infersteer_ring_sc_dequeue_burst_elem(
                    self.raw.as_ptr(),
                    out.as_mut_ptr().cast(),
                    ESIZE,
                    n,
                    core::ptr::null_mut(),
                )
            };
            (done as usize).min(out.len())
        }
    }

    impl Drop for ElemRing {
        fn drop(&mut self) {
            // SAFETY: `raw` came from `rte_ring_create_elem` and is freed once, here.
            unsafe { sys::rte_ring_free(self.raw.as_ptr()) }
        }
    }
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
