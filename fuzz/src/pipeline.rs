//! The whole pipeline over bursts of arbitrary frames (raw bytes, and frames built from
//! arbitrary fields so that flows, requests and ClientHellos are reached) and clock steps,
//! forward and back. After every burst:
//!
//! - the counters balance, in total and for every tenant;
//! - every tenant has been counted exactly the frames its trusted attributes name (an oracle:
//!   tenant 0 is ingress port 1, tenants 1 to 3 VLANs 101 to 103), and the unattributed share
//!   the rest: no tenant's frame is counted as another's;
//! - every GPU verdict has exactly one descriptor, for that frame, on that queue, carrying the
//!   frame's own tenant, and no other verdict has one;
//! - once the queues are drained and the descriptors given back, no tenant has quota in flight.

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use infersteer::pipeline::{InFlight, Pipeline, PipelineConfig, RawFrame, Verdict};
use infersteer::policy::{
    Attribute, PolicyConfig, PolicyTable, Rate, RateLimit, TenantConfig, Termination, TlsPolicy,
};
use infersteer::queue::{Consumer, Descriptor, Ring};
use infersteer::steer::{Choice, GpuQueueSpec, PoolSpec, SteerConfig, SteerTable};
use infersteer::wire::emit::{emit_frame, FrameSpec, HopSpec, IpSpec, L4Spec, VlanSpec};
use infersteer::wire::ethernet::EtherType;

/// A packet-rate limit.
fn policy_rate(per_sec: u64, burst: u64) -> RateLimit {
    RateLimit {
        packets: Some(Rate::new(per_sec, burst).unwrap()),
        bytes: None,
    }
}

const MODELS: [&str; 3] = ["llama", "mistral", "secret"];
const TENANTS: usize = 4;

fn policy() -> PolicyConfig {
    let mut tenants = Vec::new();
    for k in 0..TENANTS {
        let mut t = TenantConfig::new(&format!("t{k}"));
        if k == 0 {
            t.identity.ports = vec![1];
        } else {
            t.identity.vlans = vec![100 + k as u16];
        }
        t.claims = vec![format!("t{k}")];
        t.models = match k {
            0 => vec!["llama".into(), "mistral".into()],
            1 => vec!["mistral".into()],
            2 => vec!["secret".into()],
            _ => vec!["llama".into()],
        };
        t.default_model = t.models.first().cloned();
        t.pools = match k {
            0 => vec![0, 1],
            1 => vec![1],
            2 => vec![2],
            _ => vec![0],
        };
        t.max_in_flight = if k == 3 { 4 } else { 1 << 16 };
        t.rate = if k == 2 {
            policy_rate(2_000, 8)
        } else {
            RateLimit::UNLIMITED
        };
        if k == 1 {
            t.tls = TlsPolicy {
                terminate: Termination::Passthrough,
                ..TlsPolicy::default()
            };
        }
        tenants.push(t);
    }
    PolicyConfig {
        tenants,
        models: MODELS.iter().map(|m| m.to_string()).collect(),
        pools: 3,
        precedence: vec![Attribute::Port, Attribute::Vlan],
        tunnel_endpoints: Vec::new(),
        unattributed_rate: policy_rate(10_000, 16),
    }
}

/// The tenant the oracle says frame `bytes` from `port` belongs to.
fn owner(bytes: &[u8], port: u16) -> Option<u32> {
    let s = infersteer::wire::parse_frame(bytes).ok()?;
    s.tuple?;
    if port == 1 {
        return Some(0);
    }
    match s.outer.vlans.as_slice().first() {
        Some(&v) if (101..=103).contains(&v) => Some(u32::from(v - 100)),
        _ => None,
    }
}

const HELLO: &[u8] = include_bytes!("../../tests/fixtures/l7/curl_tls13.bin");
const H2: &[u8] = include_bytes!("../../tests/fixtures/l7/h2c_prior_knowledge.bin");

/// A frame built from arbitrary fields.
#[derive(Arbitrary, Debug)]
struct Built {
    port: u8,
    vlan: Option<u8>,
    src: u8,
    sport: u8,
    dport: u8,
    seq: u32,
    flags: u8,
    payload: Payload,
    cut: u16,
}

#[derive(Arbitrary, Debug)]
enum Payload {
    Empty,
    Request {
        model: u8,
        claim: Option<u8>,
        body: u8,
    },
    Hello,
    H2,
    Bytes(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Frame {
    Raw { port: u8, bytes: Vec<u8> },
    Built(Built),
}

impl Built {
    fn emit(&self) -> (u16, Vec<u8>) {
        let mut payload = match &self.payload {
            Payload::Empty => Vec::new(),
            Payload::Request { model, claim, body } => {
                let model = MODELS
                    .get(usize::from(*model % 4))
                    .copied()
                    .unwrap_or("other");
                let claim = claim
                    .map(|c| format!("x-gateway-inference-fairness-id: t{}\r\n", c % 5))
                    .unwrap_or_default();
                let body = "x".repeat(usize::from(*body));
                format!(
                    "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nx-ai-eg-model: {model}\r\n{claim}content-length: {}\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes()
            }
            Payload::Hello => HELLO.to_vec(),
            Payload::H2 => H2.to_vec(),
            Payload::Bytes(b) => b.clone(),
        };
        if self.cut != 0 && usize::from(self.cut) < payload.len() {
            payload.truncate(usize::from(self.cut));
        }
        payload.truncate(1400);
        let tags: Vec<VlanSpec> = self
            .vlan
            .iter()
            .map(|v| VlanSpec {
                tpid: EtherType::VLAN,
                pcp: 0,
                vid: 100 + u16::from(v % 5),
            })
            .collect();
        let spec = FrameSpec {
            outer: HopSpec {
                vlans: &tags,
                ..HopSpec::new(IpSpec::v4([10, 0, 0, self.src % 4], [10, 99, 0, 1]))
            },
            tunnel: None,
            l4: L4Spec::Tcp {
                src_port: 40_000 + u16::from(self.sport % 8),
                dst_port: [8000, 443, 80][usize::from(self.dport % 3)],
                seq: self.seq,
                ack: 1,
                flags: self.flags,
                window: 65535,
                options: &[],
            },
            payload: &payload,
        };
        let mut buf = vec![0u8; 2048];
        let n = emit_frame(&spec, &mut buf).unwrap_or(0);
        buf.truncate(n);
        (u16::from(self.port % 3), buf)
    }
}

/// One input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let policy = PolicyTable::build(&policy()).unwrap();
    let queue = |q| PoolSpec {
        queues: vec![GpuQueueSpec {
            gpu: 0,
            queue: q,
            weight: 1,
        }],
        choice: Choice::Maglev,
    };
    let steer = SteerTable::build(&SteerConfig {
        pools: (0..3).map(queue).collect(),
        model_pools: vec![vec![0], vec![1], vec![2]],
        high_watermark: usize::MAX,
    })
    .unwrap();
    let (producers, mut consumers): (Vec<_>, Vec<Consumer<Descriptor>>) = (0..steer.queue_count())
        .map(|_| Ring::<Descriptor>::new(64).unwrap().split())
        .unzip();
    let inflight = Arc::new(InFlight::new(TENANTS));
    let config = PipelineConfig {
        flow_capacity: 64,
        h2_connections: 4,
        tenant_h2_connections: 2,
        ..PipelineConfig::default()
    };
    let mut p = Pipeline::new(
        Arc::new(policy),
        Arc::new(steer),
        producers,
        inflight.clone(),
        config,
        0,
    )
    .unwrap();
    let mut now = 1_000u64;
    let mut owners: Vec<Option<u32>> = Vec::new();
    for _ in 0..u.int_in_range(1..=8u8).unwrap_or(1) {
        let step: i32 = u.arbitrary().unwrap_or(0);
        now = now.saturating_add_signed(i64::from(step) * 1000);
        let n = u.int_in_range(0..=32usize).unwrap_or(0);
        let mut frames = Vec::with_capacity(n);
        for _ in 0..n {
            let Ok(f) = Frame::arbitrary(&mut u) else {
                break;
            };
            frames.push(match f {
                Frame::Raw { port, bytes } => (u16::from(port % 3), bytes),
                Frame::Built(b) => b.emit(),
            });
        }
        let base = owners.len() as u64;
        let raw: Vec<RawFrame<'_>> = frames
            .iter()
            .enumerate()
            .map(|(i, (port, b))| RawFrame {
                bytes: b,
                port: *port,
                rss: None,
                handle: base + i as u64,
            })
            .collect();
        let mut verdicts = vec![Verdict::Host; raw.len()];
        let done = p.process_burst(&raw, now, &mut verdicts);
        assert_eq!(done, raw.len(), "every frame of the burst decided");
        owners.extend(frames.iter().map(|(port, b)| owner(b, *port)));

        // Every GPU verdict has its descriptor, with the frame's own tenant.
        let mut descs = Vec::new();
        for c in &mut consumers {
            while let Some(d) = c.pop() {
                descs.push(d);
            }
        }
        let gpu = verdicts
            .iter()
            .filter(|v| matches!(v, Verdict::Gpu { .. }))
            .count();
        assert_eq!(descs.len(), gpu, "descriptors vs GPU verdicts");
        for d in &descs {
            let i = (d.packet - base) as usize;
            assert_eq!(
                verdicts[i],
                Verdict::Gpu {
                    queue: d.queue as u16
                }
            );
            assert_eq!(
                owners[d.packet as usize],
                Some(d.tenant),
                "frame {i} steered as another tenant's"
            );
            inflight.release(d.tenant, 1);
        }
        for t in 0..TENANTS as u32 {
            assert_eq!(inflight.get(t), 0, "tenant {t} keeps quota in flight");
        }
        // Counters: balanced, and each tenant counted its own frames.
        let s = p.snapshot();
        assert!(s.balanced(), "{s:#?}");
        for (k, c) in s.tenants.iter().enumerate() {
            let want = owners.iter().filter(|o| **o == Some(k as u32)).count() as u64;
            assert_eq!(
                c.rx, want,
                "tenant {k} counted {} frames, owns {want}",
                c.rx
            );
        }
        let none = owners.iter().filter(|o| o.is_none()).count() as u64;
        assert_eq!(s.unattributed.rx, none, "unattributed");
    }
}
