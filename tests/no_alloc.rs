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
    process_burst_allocates_nothing();
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

/// The whole pipeline over a long mixed run: new flows (HTTP/1.1 with models, sessions and
/// claims, real TLS hellos, a ClientHello split over two segments), established data packets,
/// spoofed claims, unknown tenants, malformed and non-IP frames, queues that fill up (the
/// consumer drains only every other burst) and a tenant at its in-flight cap; every frame
/// built up front, then zero allocations across all of `process_burst`.
fn process_burst_allocates_nothing() {
    use infersteer::pipeline::{InFlight, Pipeline, PipelineConfig, RawFrame, Verdict};
    use infersteer::policy::{IpPrefix, PolicyConfig, PolicyTable, TenantConfig};
    use infersteer::queue::{Descriptor, Ring};
    use infersteer::steer::{Choice, GpuQueueSpec, PoolSpec, SteerConfig, SteerTable};
    use infersteer::wire::emit::{emit_frame, FrameSpec};
    use std::net::{IpAddr, Ipv4Addr};
    use std::sync::Arc;

    let mut acme = TenantConfig::new("acme");
    acme.identity.prefixes = vec![IpPrefix::new(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 0)), 16)];
    acme.identity.sni = vec!["*.infer.example".into()];
    acme.models = vec!["*".into()];
    acme.pools = vec![0];
    acme.max_in_flight = 200;
    let policy = PolicyTable::build(&PolicyConfig {
        tenants: vec![acme],
        models: vec!["llama".into(), "mistral-7b".into()],
        pools: 1,
        precedence: Vec::new(),
        ..PolicyConfig::default()
    })
    .unwrap();
    let steer = SteerTable::build(&SteerConfig {
        pools: vec![PoolSpec {
            queues: (0..4)
                .map(|q| GpuQueueSpec {
                    gpu: 0,
                    queue: q,
                    weight: 1,
                })
                .collect(),
            choice: Choice::Maglev,
        }],
        model_pools: vec![vec![0], vec![0]],
        high_watermark: 64,
    })
    .unwrap();
    let (producers, mut consumers): (Vec<_>, Vec<_>) = (0..4)
        .map(|_| Ring::<Descriptor>::new(128).unwrap().split())
        .unzip();
    let inflight = Arc::new(InFlight::new(1));
    let mut p = Pipeline::new(
        Arc::new(policy),
        Arc::new(steer),
        producers,
        inflight.clone(),
        PipelineConfig {
            flow_capacity: 4096,
            flow_idle_ns: 1_000_000,
            ..PipelineConfig::default()
        },
        0,
    )
    .unwrap();

    let fixture = |name: &str| {
        std::fs::read(format!(
            "{}/tests/fixtures/l7/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    let emit = |src: [u8; 4], sport: u16, seq: u32, payload: &[u8]| {
        let mut spec = FrameSpec::tcp_v4(src, [10, 9, 0, 1], sport, 443, payload);
        if let infersteer::wire::emit::L4Spec::Tcp { seq: s, .. } = &mut spec.l4 {
            *s = seq;
        }
        let mut buf = vec![0u8; 2048];
        let n = emit_frame(&spec, &mut buf).unwrap();
        buf.truncate(n);
        buf
    };
    let chromium = fixture("chromium.bin");
    let (c1, c2) = chromium.split_at(1200);
    let curl = fixture("curl_tls13.bin");
    let mut frames: Vec<Vec<u8>> = Vec::new();
    for f in 0..3000u16 {
        let port = 1024 + f;
        match f % 8 {
            0 => {
                frames.push(emit(
                    [10, 1, 0, 5],
                    port,
                    1,
                    format!(
                "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nx-ai-eg-model: llama\r\n\
                 X-Dynamo-Session-ID: s{}\r\n\r\n", f % 50)
                    .as_bytes(),
                ))
            }
            1 => frames.push(emit(
                [10, 1, 0, 5],
                port,
                1,
                b"POST /v1/completions HTTP/1.1\r\nHost: gw\r\n\
                 x-gateway-inference-fairness-id: globex\r\nx-ai-eg-model: llama\r\n\r\n",
            )),
            2 => frames.push(emit([10, 1, 0, 5], port, 1, &curl)),
            3 => {
                frames.push(emit([10, 1, 0, 5], port, 1, c1));
                frames.push(emit([10, 1, 0, 5], port, 1 + c1.len() as u32, c2));
            }
            4 => frames.push(emit([192, 168, 0, 1], port, 1, b"GET / HTTP/1.1\r\n\r\n")),
            5 => {
                let mut cut = emit([10, 1, 0, 5], port, 1, b"x");
                cut.truncate(20);
                frames.push(cut);
            }
            6 => {
                let mut arp = emit([10, 1, 0, 5], port, 1, b"x");
                arp[12] = 0x08;
                arp[13] = 0x06;
                frames.push(arp);
            }
            _ => frames.push(emit([10, 1, 0, 5], port, 1, &[0u8; 0])),
        }
        // Established data packets of earlier flows.
        let old = 1024 + (f / 2) / 8 * 8;
        frames.push(emit([10, 1, 0, 5], old, 5000, &[0x42; 300]));
    }
    let raw: Vec<RawFrame<'_>> = frames
        .iter()
        .map(|b| RawFrame {
            bytes: b,
            ..RawFrame::default()
        })
        .collect();
    let refs: Vec<&RawFrame<'_>> = raw.iter().collect();
    let mut verdicts = [Verdict::Host; BURST_SIZE];
    let mut scratch = [Descriptor::EMPTY; 64];

    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let mut now = 1_000u64;
    let mut bursts = 0u64;
    for round in 0..20 {
        for (b, burst) in refs.chunks(BURST_SIZE).enumerate() {
            now += 2_000;
            let n = p.process_burst(std::hint::black_box(burst), now, &mut verdicts);
            std::hint::black_box(&verdicts[..n]);
            bursts += 1;
            if (b + round) % 2 == 0 {
                for c in &mut consumers {
                    let k = c.pop_burst(&mut scratch);
                    inflight.release(0, k as u32);
                }
            }
        }
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    let snap = p.snapshot();
    println!(
        "no_alloc: {bursts} bursts, {} frames through process_burst ({} to GPU, {} terminated, {} to host, {} dropped), {} allocations",
        snap.total.rx, snap.total.to_gpu, snap.total.terminated, snap.total.to_host, snap.total.dropped(), after - before
    );
    assert!(snap.balanced());
    assert!(snap.total.to_gpu > 0 && snap.total.terminated > 0 && snap.total.to_host > 0);
    for r in ["spoofed_tenant", "unknown_tenant", "malformed", "not_ip"] {
        let n = infersteer::verdict::DropReason::ALL
            .iter()
            .find(|d| d.name() == r)
            .map(|d| snap.total.drops_for(*d))
            .unwrap();
        assert!(n > 0, "no {r} drop exercised");
    }
    assert_eq!(after - before, 0, "process_burst allocated");
}
