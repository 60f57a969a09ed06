//! The whole pipeline, per packet over bursts of 32.
//!
//! - `pipeline/established`: 32 established HTTP/1.1 flows of one tenant (first flights sent
//!   at setup, a packet rate limit high enough never to drop), each burst one data packet of
//!   each: parse (the fast path for plain TCP), flow lookup, policing, quota,
//!   descriptor, bulk enqueue into 4 GPU queues, counters. The consumer side (taking the
//!   descriptors in place with `peek_burst`/`advance`, reading each one's tenant and giving
//!   back the in-flight quota) runs in the same loop, as a GPU would on another core, and is
//!   included in the time.
//! - `pipeline/mix`: the embedded synthetic point of presence's realistic mix (new and
//!   established flows; TLS, HTTP/1.1, h2c, gRPC; tunnelled and not; spoofed, unknown and
//!   malformed frames; `infersteer::io::synthetic`, 20,000 frames of which about 5% open a
//!   flow), one whole pass per iteration through a fresh pipeline (setup untimed), the GPU
//!   queues drained between bursts as above.
//!
//! Run: `cargo bench --bench pipeline` (then `scripts/bench-table.py pipeline`).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use infersteer::capacity::BURST_SIZE;
use infersteer::pipeline::{InFlight, Pipeline, PipelineConfig, RawFrame, Verdict};
use infersteer::policy::{IpPrefix, PolicyConfig, PolicyTable, Rate, RateLimit, TenantConfig};
use infersteer::queue::{Consumer, Descriptor, Ring};
use infersteer::steer::{Choice, GpuQueueSpec, PoolSpec, SteerConfig, SteerTable};
use infersteer::wire::emit::{emit_frame, FrameSpec};

fn frame(sport: u16, payload: &[u8]) -> Vec<u8> {
    frame_at(sport, 1, payload)
}

fn frame_at(sport: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut spec = FrameSpec::tcp_v4([10, 1, 0, 7], [10, 99, 0, 1], sport, 8000, payload);
    if let infersteer::wire::emit::L4Spec::Tcp { seq: s, .. } = &mut spec.l4 {
        *s = seq;
    }
    let mut buf = vec![0u8; 2048];
    let n = emit_frame(&spec, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn raw(v: &[Vec<u8>]) -> Vec<RawFrame<'_>> {
    v.iter()
        .map(|b| RawFrame {
            bytes: b,
            ..RawFrame::default()
        })
        .collect()
}

/// The GPU stand-in: takes every descriptor waiting in `c` where it lies in the ring (no copy
/// out, as a GPU reads its queue), reads each one's tenant and gives the in-flight quota back,
/// one release per run of descriptors of the same tenant.
fn drain_in_place(c: &mut Consumer<Descriptor>, inflight: &InFlight) {
    let (a, b) = c.peek_burst(usize::MAX);
    let n = a.len() + b.len();
    let mut run: Option<(u32, u32)> = None;
    for d in a.iter().chain(b) {
        run = match run {
            Some((t, k)) if t == d.tenant => Some((t, k + 1)),
            Some((t, k)) => {
                inflight.release(t, k);
                Some((d.tenant, 1))
            }
            None => Some((d.tenant, 1)),
        };
    }
    if let Some((t, k)) = run {
        inflight.release(t, k);
    }
    c.advance(n);
}

fn established(c: &mut Criterion) {
    let mut t = TenantConfig::new("acme");
    t.identity.prefixes = vec![IpPrefix::new(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 0)), 16)];
    t.models = vec!["*".into()];
    t.pools = vec![0];
    t.max_in_flight = 1 << 20;
    // A real limit, high enough never to drop here, so that every packet is policed (a tenant
    // without limits would skip nothing either, but this keeps the measured work explicit).
    t.rate = RateLimit {
        packets: Some(Rate::new(1_000_000_000, 1_000_000).unwrap()),
        bytes: None,
    };
    let policy = PolicyTable::build(&PolicyConfig {
        tenants: vec![t],
        models: vec!["llama-3.1-8b-instruct".into()],
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
        model_pools: vec![vec![0]],
        high_watermark: 1024,
    })
    .unwrap();
    let (producers, mut consumers): (Vec<_>, Vec<Consumer<Descriptor>>) = (0..4)
        .map(|_| Ring::<Descriptor>::new(4096).unwrap().split())
        .unzip();
    let inflight = Arc::new(InFlight::new(1));
    let mut p = Pipeline::new(
        Arc::new(policy),
        Arc::new(steer),
        producers,
        inflight.clone(),
        PipelineConfig::default(),
        0,
    )
    .unwrap();
    // Each connection's request announces a long body; the measured frames are 256-byte
    // segments of it (keep-alive body segments: the express lane checks each one's sequence
    // range against the message's end).
    let heads: Vec<Vec<u8>> = (0..BURST_SIZE as u16)
        .map(|i| {
            format!(
                "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nx-ai-eg-model: \
                 llama-3.1-8b-instruct\r\nX-Dynamo-Session-ID: s{i}\r\n\
                 content-length: 1000000000\r\n\r\n"
            )
            .into_bytes()
        })
        .collect();
    let firsts: Vec<Vec<u8>> = (0..BURST_SIZE as u16)
        .map(|i| frame(40_000 + i, &heads[usize::from(i)]))
        .collect();
    let data: Vec<Vec<u8>> = (0..BURST_SIZE as u16)
        .map(|i| {
            let seq = 1 + heads[usize::from(i)].len() as u32;
            frame_at(40_000 + i, seq, &[0x5a; 256])
        })
        .collect();
    let first_raw = raw(&firsts);
    let first_refs: Vec<&RawFrame<'_>> = first_raw.iter().collect();
    let mut verdicts = [Verdict::Host; BURST_SIZE];
    p.process_burst(&first_refs, 1, &mut verdicts);
    assert!(
        verdicts.iter().all(|v| matches!(v, Verdict::Gpu { .. })),
        "{verdicts:?}"
    );
    let data_raw = raw(&data);
    let data_refs: Vec<&RawFrame<'_>> = data_raw.iter().collect();
    let drain = |consumers: &mut [Consumer<Descriptor>]| {
        for c in consumers.iter_mut() {
            drain_in_place(c, &inflight);
        }
    };
    drain(&mut consumers);

    let mut g = c.benchmark_group("pipeline/established");
    g.throughput(Throughput::Elements(BURST_SIZE as u64));
    let mut now = 10u64;
    g.bench_function("infersteer", |b| {
        b.iter(|| {
            now += 1_000;
            let n = p.process_burst(black_box(&data_refs), now, &mut verdicts);
            drain(&mut consumers);
            black_box(n)
        })
    });
    g.finish();
    let snap = p.snapshot();
    assert!(snap.balanced());
    assert_eq!(
        snap.total.to_gpu, snap.total.rx,
        "every established packet went to a GPU queue"
    );
}

/// The synthetic point of presence's mix, one whole pass per iteration through a fresh
/// pipeline (setup untimed), so that every pass has its share of new flows.
fn mix(c: &mut Criterion) {
    use infersteer::io::synthetic::{pop_config, Traffic};
    use std::time::{Duration as D, Instant};
    let traffic = Traffic::mix(11, 20_000);
    let frames = traffic.frames();
    let (policy_cfg, steer_cfg) = pop_config();
    let policy = Arc::new(PolicyTable::build(&policy_cfg).unwrap());
    let steer = Arc::new(SteerTable::build(&steer_cfg).unwrap());
    let fresh = || {
        let (producers, consumers): (Vec<_>, Vec<Consumer<Descriptor>>) = (0..steer.queue_count())
            .map(|_| Ring::<Descriptor>::new(4096).unwrap().split())
            .unzip();
        let inflight = Arc::new(InFlight::new(policy.tenant_count()));
        let p = Pipeline::new(
            policy.clone(),
            steer.clone(),
            producers,
            inflight.clone(),
            PipelineConfig::default(),
            0,
        )
        .unwrap();
        (p, consumers, inflight)
    };
    let mut g = c.benchmark_group("pipeline/mix");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.bench_function("infersteer", |b| {
        b.iter_custom(|iters| {
            let mut total = D::ZERO;
            for _ in 0..iters {
                let (mut p, mut consumers, inflight) = fresh();
                let mut verdicts = [Verdict::Host; BURST_SIZE];
                let refs: Vec<&infersteer::io::synthetic::TrafficFrame> = frames.iter().collect();
                let start = Instant::now();
                let mut now = 1_000u64;
                for burst in refs.chunks(BURST_SIZE) {
                    now += 1_000;
                    black_box(p.process_burst(black_box(burst), now, &mut verdicts));
                    for c in consumers.iter_mut() {
                        drain_in_place(c, &inflight);
                    }
                }
                total += start.elapsed();
                assert!(p.snapshot().balanced());
            }
            total
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    targets = established, mix
}
criterion_main!(benches);
