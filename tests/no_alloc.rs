//! Proves that parsing allocates nothing: a counting global allocator, frames built up front,
//! then hundreds of thousands of parses (valid, truncated and corrupted frames, every kind the
//! parser knows) with the counter checked before and after.
//!
//! `harness = false`: the libtest harness allocates on its own threads while tests run, which
//! would blur the count; this binary runs one check in `main` on one thread.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches may panic on a broken setup

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::frame_model;
use infersteer::capacity::BURST_SIZE;
use infersteer::wire;
use proptest::strategy::{Strategy, ValueTree};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: delegates every call to `System`, which upholds `GlobalAlloc`'s contract; the only
// addition is an atomic counter increment, which cannot affect the returned memory.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as our caller's: `layout` has non-zero size.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was returned by `System.alloc` with this `layout` (via `alloc` above).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: forwarded unchanged; `ptr`/`layout` come from this allocator, i.e. `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() {
    // Setup (allowed to allocate): 2,000 random frames of every shape, plus corrupted copies.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut frames: Vec<Vec<u8>> = (0..2000)
        .map(|_| {
            frame_model()
                .new_tree(&mut runner)
                .unwrap()
                .current()
                .emit()
        })
        .collect();
    let corrupted: Vec<Vec<u8>> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut c = f.clone();
            let at = (i * 7919) % c.len();
            c[at] ^= 0xA5;
            c
        })
        .collect();
    frames.extend(corrupted);

    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let (mut ok, mut err, mut parses) = (0usize, 0usize, 0usize);
    for _round in 0..10 {
        for burst in frames.chunks(BURST_SIZE) {
            for frame in burst {
                // Whole frame, then a few prefixes: valid, truncated and corrupted input.
                for cut in [
                    frame.len(),
                    frame.len() / 2,
                    frame.len().saturating_sub(1),
                    20,
                ] {
                    let input = &frame[..cut.min(frame.len())];
                    match wire::parse_frame(std::hint::black_box(input)) {
                        Ok(s) => ok += std::hint::black_box(s.payload_range().len()).min(1),
                        Err(e) => err += usize::from(std::hint::black_box(e).offset < u16::MAX),
                    }
                    parses += 1;
                }
            }
        }
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    println!(
        "no_alloc: {parses} parses ({ok} ok with payload, {err} errors), {} allocations",
        after - before
    );
    assert!(ok > 0 && err > 0, "both outcomes exercised");
    assert_eq!(after - before, 0, "parse_frame allocated");

    classification_allocates_nothing();
}

/// Request classification: every real capture (TLS, HTTP/1.1, HTTP/2, gRPC), whole and cut,
/// through one classifier set up beforehand.
fn classification_allocates_nothing() {
    use infersteer::l7::{Classifier, ClassifyConfig, RequestKind};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/l7");
    let mut captures: Vec<Vec<u8>> = Vec::new();
    for sub in [dir.to_string(), format!("{dir}/shared")] {
        for entry in std::fs::read_dir(&sub).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "bin") {
                captures.push(std::fs::read(&path).unwrap());
            }
        }
    }
    assert!(captures.len() >= 13, "fixtures present");
    let mut classifier = Box::new(Classifier::new(ClassifyConfig::default()));
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let (mut ok, mut other) = (0usize, 0usize);
    for _round in 0..200 {
        for bytes in &captures {
            for cut in [bytes.len(), bytes.len() / 2, bytes.len().saturating_sub(1)] {
                match classifier.classify(std::hint::black_box(&bytes[..cut])) {
                    Ok(info) => {
                        ok += usize::from(std::hint::black_box(info).kind != RequestKind::Unknown)
                    }
                    Err(_) => other += 1,
                }
            }
        }
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    println!(
        "no_alloc: {} classifications ({ok} classified, {other} incomplete or malformed), {} allocations",
        ok + other,
        after - before
    );
    assert!(ok > 0 && other > 0, "both outcomes exercised");
    assert_eq!(after - before, 0, "classification allocated");
}
