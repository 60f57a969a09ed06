//! The pipeline end to end on small configurations: session affinity across many packets,
//! back-pressure (queue full, tenant quota), spill within the allowed pools, policing, a full
//! flow table; the counting invariant after every run and every descriptor accounted for.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a broken setup may panic in tests

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use infersteer::pipeline::{
    Frame, InFlight, Pipeline, PipelineConfig, RawFrame, Snapshot, Verdict,
};
use infersteer::policy::{IpPrefix, PolicyConfig, PolicyTable, Rate, RateLimit, TenantConfig};
use infersteer::queue::{Consumer, Descriptor, Ring};
use infersteer::steer::{Choice, GpuQueueSpec, PoolSpec, SteerConfig, SteerTable};
use infersteer::verdict::DropReason;
use infersteer::wire::emit::{emit_frame, FrameSpec};

struct Setup {
    pipeline: Pipeline,
    consumers: Vec<Consumer<Descriptor>>,
    inflight: Arc<InFlight>,
}

fn setup(
    tenants: Vec<TenantConfig>,
    pools: Vec<PoolSpec>,
    model_pools: Vec<Vec<u8>>,
    ring: usize,
    watermark: usize,
    config: PipelineConfig,
) -> Setup {
    let n_pools = pools.len() as u8;
    let policy = PolicyTable::build(&PolicyConfig {
        tenants,
        models: vec!["llama".into(), "mistral".into()],
        pools: n_pools,
        precedence: Vec::new(),
        ..PolicyConfig::default()
    })
    .unwrap();
    let steer = SteerTable::build(&SteerConfig {
        pools,
        model_pools,
        high_watermark: watermark,
    })
    .unwrap();
    let (producers, consumers): (Vec<_>, Vec<_>) = (0..steer.queue_count())
        .map(|_| Ring::<Descriptor>::new(ring).unwrap().split())
        .unzip();
    let inflight = Arc::new(InFlight::new(policy.tenant_count()));
    let pipeline = Pipeline::new(
        Arc::new(policy),
        Arc::new(steer),
        producers,
        inflight.clone(),
        config,
        0,
    )
    .unwrap();
    Setup {
        pipeline,
        consumers,
        inflight,
    }
}

/// One tenant ("acme", 10.1.0.0/16), one pool of four GPU queues (Maglev) for both models,
/// rings of 1024 descriptors and a spill watermark never reached: the setup several tests
/// share.
fn acme_one_pool(config: PipelineConfig) -> Setup {
    setup(
        vec![tenant("acme", [10, 1, 0, 0], vec![0])],
        vec![pool(0, 4, Choice::Maglev)],
        vec![vec![0], vec![0]],
        1024,
        usize::MAX,
        config,
    )
}

fn pool(gpu: u16, queues: u16, choice: Choice) -> PoolSpec {
    PoolSpec {
        queues: (0..queues)
            .map(|q| GpuQueueSpec {
                gpu,
                queue: q,
                weight: 1,
            })
            .collect(),
        choice,
    }
}

fn tenant(name: &str, prefix: [u8; 4], pools: Vec<u8>) -> TenantConfig {
    let mut t = TenantConfig::new(name);
    t.identity.prefixes = vec![IpPrefix::new(IpAddr::V4(Ipv4Addr::from(prefix)), 24)];
    t.models = vec!["*".into()];
    t.pools = pools;
    t.max_in_flight = u32::MAX;
    t
}

fn frame(src: [u8; 4], sport: u16, payload: &[u8]) -> Vec<u8> {
    let spec = FrameSpec::tcp_v4(src, [10, 99, 0, 1], sport, 8000, payload);
    let mut buf = vec![0u8; 2048];
    let n = emit_frame(&spec, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn request(model: &str, session: &str) -> Vec<u8> {
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nx-ai-eg-model: {model}\r\n\
         X-Dynamo-Session-ID: {session}\r\ncontent-length: 2\r\n\r\n{{}}"
    )
    .into_bytes()
}

/// The frames as the pipeline's `RawFrame`s (port 0, no RSS hash, handle 0).
fn raw_frames(frames: &[Vec<u8>]) -> Vec<RawFrame<'_>> {
    frames
        .iter()
        .map(|f| RawFrame {
            bytes: f,
            ..RawFrame::default()
        })
        .collect()
}

/// Runs `frames` in bursts of 32 at `now`, then drains every queue; returns the verdicts and
/// the drained descriptors.
fn run(
    s: &mut Setup,
    frames: &[Vec<u8>],
    now: u64,
    drain: bool,
) -> (Vec<Verdict>, Vec<Descriptor>) {
    let mut verdicts = Vec::with_capacity(frames.len());
    let mut drained = Vec::new();
    let mut out = [Verdict::Host; 32];
    for chunk in frames.chunks(32) {
        let raw = raw_frames(chunk);
        let refs: Vec<&RawFrame<'_>> = raw.iter().collect();
        let n = s.pipeline.process_burst(&refs, now, &mut out);
        assert_eq!(n, chunk.len());
        verdicts.extend_from_slice(&out[..n]);
        if drain {
            drain_all(s, &mut drained);
        }
    }
    (verdicts, drained)
}

fn drain_all(s: &mut Setup, into: &mut Vec<Descriptor>) {
    let mut buf = [Descriptor::EMPTY; 64];
    for c in &mut s.consumers {
        loop {
            let n = c.pop_burst(&mut buf);
            if n == 0 {
                break;
            }
            for d in &buf[..n] {
                s.inflight.release(d.tenant, 1);
            }
            into.extend_from_slice(&buf[..n]);
        }
    }
}

fn check_balanced(snap: &Snapshot) {
    assert!(snap.balanced(), "counting invariant broken: {snap:#?}");
    let enq: u64 = snap.queues.iter().map(|q| q.enqueued).sum();
    assert_eq!(enq, snap.total.to_gpu);
}

#[test]
fn sessions_stay_on_their_queue_across_many_packets() {
    let packets: usize = if cfg!(debug_assertions) {
        200_000
    } else {
        2_000_000
    };
    let mut s = setup(
        vec![tenant("acme", [10, 1, 0, 0], vec![0])],
        vec![pool(0, 8, Choice::Maglev)],
        vec![vec![0], vec![0]],
        4096,
        usize::MAX,
        PipelineConfig::default(),
    );
    // 2,000 flows (distinct source ports) of 200 sessions: first flights, then data packets.
    let flows = 2000u16;
    let first: Vec<Vec<u8>> = (0..flows)
        .map(|f| {
            frame(
                [10, 1, 0, 7],
                10_000 + f,
                &request("llama", &format!("s-{}", f % 200)),
            )
        })
        .collect();
    let (v, d) = run(&mut s, &first, 1_000, true);
    assert!(v.iter().all(|v| matches!(v, Verdict::Gpu { .. })), "{v:?}");
    let mut queue_of_session: HashMap<u64, u32> = HashMap::new();
    let mut queues_used = std::collections::HashSet::new();
    for d in &d {
        // The descriptor points at the request: after the 54 bytes of Ethernet, IPv4 and TCP,
        // as long as the request ("s-0" to "s-199" as the session id).
        let lens = request("llama", "s-0").len()..=request("llama", "s-199").len();
        assert_eq!(d.payload_offset, 54, "{d:?}");
        assert!(lens.contains(&(d.payload_len as usize)), "{d:?}");
        let q = *queue_of_session.entry(d.session).or_insert(d.queue);
        assert_eq!(q, d.queue, "a session's first flights on two queues");
        queues_used.insert(d.queue);
    }
    assert_eq!(queue_of_session.len(), 200);
    assert!(
        queues_used.len() >= 6,
        "200 sessions should spread over the 8 queues: {queues_used:?}"
    );
    // Data packets of every flow, round robin.
    let data: Vec<Vec<u8>> = (0..flows)
        .map(|f| frame([10, 1, 0, 7], 10_000 + f, &[0x42; 64]))
        .collect();
    let mut sent = 0usize;
    let mut checked = 0u64;
    let mut now = 2_000u64;
    while sent < packets {
        let (v, d) = run(&mut s, &data, now, true);
        now += 1_000;
        sent += v.len();
        assert!(v.iter().all(|v| matches!(v, Verdict::Gpu { .. })));
        for d in &d {
            assert_eq!(queue_of_session[&d.session], d.queue, "session moved queue");
            // The descriptor points at this packet's payload: 64 bytes after the 54 of
            // Ethernet, IPv4 and TCP.
            assert_eq!((d.payload_offset, d.payload_len), (54, 64), "payload range");
            checked += 1;
        }
    }
    let snap = s.pipeline.snapshot();
    check_balanced(&snap);
    assert_eq!(checked + flows as u64, snap.total.to_gpu);
    println!("affinity: {checked} data packets of 200 sessions checked, none moved queue");
}

#[test]
fn back_pressure_is_counted_never_waited_for() {
    // Quota: 10 in flight, nothing drained.
    let mut t = tenant("acme", [10, 1, 0, 0], vec![0]);
    t.max_in_flight = 10;
    let mut s = setup(
        vec![t],
        vec![pool(0, 2, Choice::Maglev)],
        vec![vec![0], vec![0]],
        1024,
        usize::MAX,
        PipelineConfig::default(),
    );
    let frames: Vec<Vec<u8>> = (0..40)
        .map(|f| frame([10, 1, 0, 7], 20_000 + f, &request("llama", "q")))
        .collect();
    let (v, _) = run(&mut s, &frames, 1, false);
    let gpu = v
        .iter()
        .filter(|v| matches!(v, Verdict::Gpu { .. }))
        .count();
    let quota = v
        .iter()
        .filter(|v| **v == Verdict::Drop(DropReason::TenantQuota))
        .count();
    assert_eq!((gpu, quota), (10, 30));
    assert_eq!(s.inflight.get(0), 10);
    check_balanced(&s.pipeline.snapshot());
    // Drain: the quota frees up.
    let mut d = Vec::new();
    drain_all(&mut s, &mut d);
    assert_eq!(d.len(), 10);
    assert_eq!(s.inflight.get(0), 0);

    // Queue full: rings of 16, one queue, no drain.
    let mut s = setup(
        vec![tenant("acme", [10, 1, 0, 0], vec![0])],
        vec![pool(0, 1, Choice::Maglev)],
        vec![vec![0], vec![0]],
        16,
        usize::MAX,
        PipelineConfig::default(),
    );
    let (v, _) = run(&mut s, &frames, 1, false);
    let full = v
        .iter()
        .filter(|v| **v == Verdict::Drop(DropReason::QueueFull))
        .count();
    assert_eq!(full, 24);
    assert_eq!(
        s.inflight.get(0),
        16,
        "refused descriptors give their quota back"
    );
    let snap = s.pipeline.snapshot();
    check_balanced(&snap);
    assert_eq!(snap.queues[0].full, 24);
    assert_eq!(snap.total.drops_for(DropReason::QueueFull), 24);
}

#[test]
fn spill_stays_within_the_tenants_pools() {
    // Pool 0 (2 queues) and pool 1 (2 queues) serve llama; acme may use both, globex only 0.
    let mut s = setup(
        vec![
            tenant("acme", [10, 1, 0, 0], vec![0, 1]),
            tenant("globex", [10, 2, 0, 0], vec![0]),
        ],
        vec![pool(0, 2, Choice::Maglev), pool(1, 2, Choice::PowerOfTwo)],
        vec![vec![0, 1], vec![0, 1]],
        1024,
        4,
        PipelineConfig::default(),
    );
    // No draining: pool 0's queues pass the watermark, new acme flows spill to pool 1, globex
    // flows stay in pool 0 (its only pool) whatever the depth.
    let acme: Vec<Vec<u8>> = (0..60)
        .map(|f| {
            frame(
                [10, 1, 0, 7],
                30_000 + f,
                &request("llama", &format!("a{f}")),
            )
        })
        .collect();
    let globex: Vec<Vec<u8>> = (0..60)
        .map(|f| {
            frame(
                [10, 2, 0, 7],
                30_000 + f,
                &request("llama", &format!("g{f}")),
            )
        })
        .collect();
    let mut all = Vec::new();
    for (a, g) in acme.iter().zip(&globex) {
        all.push(a.clone());
        all.push(g.clone());
    }
    let (v, _) = run(&mut s, &all, 1, false);
    let mut d = Vec::new();
    drain_all(&mut s, &mut d);
    assert_eq!(
        d.len(),
        v.iter()
            .filter(|v| matches!(v, Verdict::Gpu { .. }))
            .count()
    );
    let acme_pool1 = d.iter().filter(|d| d.tenant == 0 && d.queue >= 2).count();
    assert!(acme_pool1 > 0, "acme spilled to pool 1");
    assert!(
        d.iter().all(|d| d.tenant != 1 || d.queue < 2),
        "globex never in pool 1"
    );
    check_balanced(&s.pipeline.snapshot());
}

#[test]
fn policing_and_a_full_flow_table_are_counted() {
    let mut t = tenant("acme", [10, 1, 0, 0], vec![0]);
    t.rate = RateLimit {
        packets: Some(Rate::new(1000, 10).unwrap()),
        bytes: None,
    };
    let mut s = setup(
        vec![t],
        vec![pool(0, 1, Choice::Maglev)],
        vec![vec![0], vec![0]],
        1024,
        usize::MAX,
        PipelineConfig {
            flow_capacity: 8,
            flow_idle_ns: u64::MAX,
            // The one tenant may fill the table: this test is about the probe window.
            tenant_flow_permille: 1000,
            ..PipelineConfig::default()
        },
    );
    // One flow, 50 packets at one instant: the burst of 10 passes.
    let one: Vec<Vec<u8>> = std::iter::once(frame([10, 1, 0, 7], 40_000, &request("llama", "x")))
        .chain((0..49).map(|_| frame([10, 1, 0, 7], 40_000, &[1; 10])))
        .collect();
    let (v, _) = run(&mut s, &one, 5, true);
    assert_eq!(
        v.iter()
            .filter(|v| matches!(v, Verdict::Gpu { .. }))
            .count(),
        10
    );
    assert_eq!(
        v.iter()
            .filter(|v| **v == Verdict::Drop(DropReason::RateLimited))
            .count(),
        40
    );
    // 1 ms later one more token.
    let (v, _) = run(&mut s, &one[1..2], 1_000_005, true);
    assert_eq!(v, [Verdict::Gpu { queue: 0 }]);
    // Many new flows into a table of 8 that never ages: refused, counted.
    let many: Vec<Vec<u8>> = (0..64)
        .map(|f| frame([10, 1, 0, 8], 41_000 + f, &request("llama", "y")))
        .collect();
    let (v, _) = run(&mut s, &many, 10_000_000_000, true);
    let full = v
        .iter()
        .filter(|v| **v == Verdict::Drop(DropReason::FlowTableFull))
        .count();
    assert!(full > 0);
    let snap = s.pipeline.snapshot();
    assert_eq!(snap.flows.full, full as u64);
    check_balanced(&snap);
}

/// A frame whose `handle()` panics when told to: stands in for a bug that interrupts a burst
/// half-way (a caller that catches the panic goes on with the same pipeline).
struct Exploding<'a> {
    bytes: &'a [u8],
    explode: bool,
}

impl Frame for Exploding<'_> {
    fn bytes(&self) -> &[u8] {
        self.bytes
    }
    fn handle(&self) -> u64 {
        assert!(!self.explode, "frame handle failed");
        7
    }
}

#[test]
fn a_burst_interrupted_by_a_panic_publishes_nothing_of_it() {
    let mut s = setup(
        vec![tenant("acme", [10, 1, 0, 0], vec![0])],
        vec![pool(0, 2, Choice::Maglev)],
        vec![vec![0], vec![0]],
        64,
        64,
        PipelineConfig::default(),
    );
    let firsts: Vec<Vec<u8>> = (0..8)
        .map(|i| {
            frame(
                [10, 1, 0, 5],
                41_000 + i,
                &request("llama", &format!("s{i}")),
            )
        })
        .collect();
    let (v, d) = run(&mut s, &firsts, 10, true);
    assert!(v.iter().all(|v| matches!(v, Verdict::Gpu { .. })), "{v:?}");
    assert_eq!(d.len(), 8);
    assert_eq!(s.inflight.get(0), 0);

    // Eight data packets of those flows; the sixth one's handle panics, after five
    // descriptors were staged.
    let data: Vec<Vec<u8>> = (0..8)
        .map(|i| frame([10, 1, 0, 5], 41_000 + i, b"more of the body"))
        .collect();
    let frames: Vec<Exploding<'_>> = data
        .iter()
        .enumerate()
        .map(|(i, b)| Exploding {
            bytes: b,
            explode: i == 5,
        })
        .collect();
    let refs: Vec<&Exploding<'_>> = frames.iter().collect();
    let mut out = [Verdict::Host; 32];
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.pipeline.process_burst(&refs, 20, &mut out)
    }));
    std::panic::set_hook(hook);
    assert!(caught.is_err());
    // Nothing of the interrupted burst is visible to the consumers; five quota slots are
    // still held by the staged descriptors (none by the frame that failed).
    assert!(s.consumers.iter_mut().all(|c| c.peek().is_none()));
    assert_eq!(s.inflight.get(0), 5);

    // The next burst discards them: quota given back, counts taken back, nothing published.
    let (v, d) = run(&mut s, &data[..2], 30, true);
    assert!(v.iter().all(|v| matches!(v, Verdict::Gpu { .. })), "{v:?}");
    assert_eq!(d.len(), 2, "only the new burst's descriptors: {d:?}");
    assert!(
        d.iter().all(|d| d.packet == 0),
        "no descriptor of the interrupted burst"
    );
    assert_eq!(s.inflight.get(0), 0);
    let snap = s.pipeline.snapshot();
    check_balanced(&snap);
    assert_eq!(
        snap.total.rx,
        8 + 2,
        "the interrupted burst's frames are not counted"
    );
    assert_eq!(snap.total.to_gpu, 8 + 2);
}

/// A request with no session header and `body` (with its Content-Length).
fn request_with_body(session: Option<&str>, body: &str) -> Vec<u8> {
    let session = session.map_or(String::new(), |s| format!("X-Dynamo-Session-ID: {s}\r\n"));
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\n{session}content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The steering key is the session id, else the body-prefix hash, else the flow: requests
/// without a session that share a prompt prefix land on one queue, others spread.
#[test]
fn shared_prompt_prefixes_share_a_queue() {
    let mut s = setup(
        vec![tenant("acme", [10, 1, 0, 0], vec![0])],
        vec![pool(0, 4, Choice::Maglev)],
        vec![vec![0], vec![0]],
        1024,
        1024,
        PipelineConfig::default(),
    );
    let system = |tag: usize| {
        format!(
            "{{\"model\":\"llama\",\"messages\":[{{\"role\":\"system\",\"content\":\"prompt {tag} {}\"}},",
            "Answer briefly. ".repeat(20)
        )
    };
    let body = |tag: usize, q: usize| {
        format!(
            "{}{{\"role\":\"user\",\"content\":\"q{q}\"}}]}}",
            system(tag)
        )
    };
    // 64 flows (distinct source ports), one system prompt, distinct questions, no session.
    let same: Vec<Vec<u8>> = (0..64)
        .map(|q| {
            frame(
                [10, 1, 0, 9],
                42_000 + q as u16,
                &request_with_body(None, &body(7, q)),
            )
        })
        .collect();
    let (v, d) = run(&mut s, &same, 10, true);
    assert!(v.iter().all(|v| matches!(v, Verdict::Gpu { .. })), "{v:?}");
    let queues: std::collections::HashSet<u32> = d.iter().map(|d| d.queue).collect();
    assert_eq!(queues.len(), 1, "one prompt prefix, one queue: {queues:?}");
    // 64 flows with 64 different system prompts spread over the pool.
    let different: Vec<Vec<u8>> = (0..64)
        .map(|t| {
            frame(
                [10, 1, 0, 10],
                43_000 + t as u16,
                &request_with_body(None, &body(100 + t, 0)),
            )
        })
        .collect();
    let (_, d) = run(&mut s, &different, 20, true);
    let queues: std::collections::HashSet<u32> = d.iter().map(|d| d.queue).collect();
    assert_eq!(d.len(), 64);
    assert!(queues.len() >= 3, "64 prefixes over 4 queues: {queues:?}");
    // A session id wins over the prefix: one session, many prefixes, one queue; one prefix,
    // many sessions, spread.
    let sessions: Vec<Vec<u8>> = (0..32)
        .map(|t| {
            frame(
                [10, 1, 0, 11],
                44_000 + t as u16,
                &request_with_body(Some("user-5"), &body(200 + t, 0)),
            )
        })
        .collect();
    let (_, d) = run(&mut s, &sessions, 30, true);
    let queues: std::collections::HashSet<u32> = d.iter().map(|d| d.queue).collect();
    assert_eq!((d.len(), queues.len()), (32, 1), "{queues:?}");
    let many: Vec<Vec<u8>> = (0..32)
        .map(|t| {
            frame(
                [10, 1, 0, 12],
                45_000 + t as u16,
                &request_with_body(Some(&format!("user-{t}")), &body(7, 1)),
            )
        })
        .collect();
    let (_, d) = run(&mut s, &many, 40, true);
    let queues: std::collections::HashSet<u32> = d.iter().map(|d| d.queue).collect();
    assert!(queues.len() >= 3, "32 sessions over 4 queues: {queues:?}");
    check_balanced(&s.pipeline.snapshot());
}

/// A frame whose flow's entry an earlier frame of the same burst evicted (the table was full
/// and the flow idle) is looked up as it is now, not as it was when the burst began: it never
/// follows the decision of the flow that took its slot.
#[test]
fn a_flow_evicted_earlier_in_the_burst_is_not_followed() {
    let mut s = acme_one_pool(PipelineConfig {
        flow_capacity: 8, // one probe window: every flow competes for the same 8 slots
        flow_idle_ns: 1_000,
        age_budget: 0,              // only eviction frees a slot
        tenant_flow_permille: 1000, // the one tenant may fill the table
        ..PipelineConfig::default()
    });
    // Flow 1 at t = 0, flows 2..=8 at t = 500: the table is full.
    let flow = |n: u16, payload: &[u8]| frame([10, 1, 0, 1], 30_000 + n, payload);
    let (v, _) = run(&mut s, &[flow(1, &request("llama", "one"))], 0, true);
    assert!(matches!(v[0], Verdict::Gpu { .. }));
    let rest: Vec<Vec<u8>> = (2..=8)
        .map(|n| flow(n, &request("llama", &format!("s{n}"))))
        .collect();
    let (v, _) = run(&mut s, &rest, 500, true);
    assert!(v.iter().all(|v| matches!(v, Verdict::Gpu { .. })), "{v:?}");
    assert_eq!(s.pipeline.snapshot().flows.live, 8);
    // At t = 1200 only flow 1 is idle. Flow 9's request evicts it; flow 1's next segment,
    // later in the same burst, finds no entry: a segment with no request in it is never
    // steered (it must not ride on flow 9's decision).
    let (v, drained) = run(
        &mut s,
        &[
            flow(9, &request("mistral", "nine")),
            flow(1, b"rest of the body"),
        ],
        1_200,
        true,
    );
    assert!(matches!(v[0], Verdict::Gpu { .. }), "{v:?}");
    assert!(!matches!(v[1], Verdict::Gpu { .. }), "{v:?}");
    assert_eq!(drained.len(), 1);
    let snap = s.pipeline.snapshot();
    assert_eq!(snap.flows.evicted, 1);
    check_balanced(&snap);
}

/// A burst is a slice of frames or of references to frames: the same verdicts and the same
/// descriptors either way (`&[Mbuf]` from DPDK is the first kind, most callers the second).
#[test]
fn frames_by_value_or_by_reference_agree() {
    let make = || acme_one_pool(PipelineConfig::default());
    let (mut a, mut b) = (make(), make());
    let frames: Vec<Vec<u8>> = (0..20u16)
        .map(|n| {
            frame(
                [10, 1, 0, 2],
                31_000 + n,
                &request("llama", &format!("s{n}")),
            )
        })
        .chain((0..20u16).map(|n| frame([10, 1, 0, 2], 31_000 + n, b"more of the body")))
        .chain(std::iter::once(vec![0u8; 10])) // malformed
        .collect();
    let raw = raw_frames(&frames);
    let refs: Vec<&RawFrame<'_>> = raw.iter().collect();
    let (mut va, mut vb) = (vec![Verdict::Host; 32], vec![Verdict::Host; 32]);
    let (mut da, mut db) = (Vec::new(), Vec::new());
    for (by_value, by_ref) in raw.chunks(32).zip(refs.chunks(32)) {
        let n = a.pipeline.process_burst(by_value, 7, &mut va);
        assert_eq!(b.pipeline.process_burst(by_ref, 7, &mut vb), n);
        assert_eq!(va[..n], vb[..n]);
        let gpu = va[..n]
            .iter()
            .filter(|v| matches!(v, Verdict::Gpu { .. }))
            .count();
        assert_eq!(a.pipeline.last_burst_to_gpu(), gpu);
        drain_all(&mut a, &mut da);
        drain_all(&mut b, &mut db);
    }
    assert_eq!(da, db);
    assert_eq!(da.len(), 40);
    // An empty call processes nothing and reports no GPU frames (not the last burst's).
    let empty: &[RawFrame<'_>] = &[];
    assert_eq!(a.pipeline.process_burst(empty, 8, &mut va), 0);
    assert_eq!(a.pipeline.last_burst_to_gpu(), 0);
    check_balanced(&a.pipeline.snapshot());
}

/// A frame that logs when the pipeline prefetches it (`p3`) and when it first reads its bytes
/// (`b3`).
struct Logged<'a> {
    id: usize,
    bytes: &'a [u8],
    log: &'a std::cell::RefCell<Vec<String>>,
}

impl Frame for Logged<'_> {
    fn bytes(&self) -> &[u8] {
        let read = format!("b{}", self.id);
        let mut log = self.log.borrow_mut();
        if !log.contains(&read) {
            log.push(read);
        }
        self.bytes
    }
    fn prefetch(&self) {
        self.log.borrow_mut().push(format!("p{}", self.id));
    }
}

#[test]
fn frames_are_prefetched_once_each_a_set_distance_ahead() {
    let frames: Vec<Vec<u8>> = (0..6u16)
        .map(|n| frame([10, 1, 0, 2], 32_000 + n, &request("llama", "s")))
        .collect();
    for (ahead, want) in [
        // The first `ahead` frames up front, then frame i + ahead just before frame i is read.
        (4, "p0 p1 p2 p3 p4 b0 p5 b1 b2 b3 b4 b5"),
        (1, "p0 p1 b0 p2 b1 p3 b2 p4 b3 p5 b4 b5"),
        // At least the burst: all of it up front.
        (40, "p0 p1 p2 p3 p4 p5 b0 b1 b2 b3 b4 b5"),
        // Never.
        (0, "b0 b1 b2 b3 b4 b5"),
    ] {
        let mut s = acme_one_pool(PipelineConfig {
            prefetch_ahead: ahead,
            ..PipelineConfig::default()
        });
        let log = std::cell::RefCell::new(Vec::new());
        let burst: Vec<Logged<'_>> = frames
            .iter()
            .enumerate()
            .map(|(id, b)| Logged {
                id,
                bytes: b,
                log: &log,
            })
            .collect();
        let mut v = vec![Verdict::Host; 32];
        assert_eq!(s.pipeline.process_burst(&burst, 1, &mut v), 6);
        assert_eq!(log.borrow().join(" "), want, "prefetch_ahead {ahead}");
        // Prefetching changes no verdict.
        assert!(v[..6].iter().all(|v| matches!(v, Verdict::Gpu { .. })));
        check_balanced(&s.pipeline.snapshot());
    }
}
