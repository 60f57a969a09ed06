//! A multi-tenant point of presence for attack tests: tenants told apart by every kind of
//! trusted attribute, a frame builder that can forge any of them, and a runner that drains
//! the GPU queues after every burst and keeps every descriptor.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use infersteer::pipeline::{InFlight, Pipeline, PipelineConfig, RawFrame, Snapshot, Verdict};
use infersteer::policy::{
    Attribute, IpPrefix, PolicyConfig, PolicyTable, RateLimit, TenantConfig, Termination, TlsPolicy,
};
use infersteer::queue::{Consumer, Descriptor, Ring};
use infersteer::steer::{Choice, GpuQueueSpec, PoolSpec, SteerConfig, SteerTable};
use infersteer::wire::emit::{
    emit_frame, FrameSpec, HopSpec, IpSpec, L4Spec, TunnelProto, TunnelSpec, VlanSpec,
};
use infersteer::wire::ethernet::EtherType;

/// Tenant ids, in configuration order.
pub const ALPHA: u32 = 0; // ingress port 1 (and 10.1.0.0/16 from anywhere)
pub const BRAVO: u32 = 1; // VLAN 100
pub const CHARLIE: u32 = 2; // VXLAN VNI 5000
pub const DELTA: u32 = 3; // 10.4.0.0/16, also inside tunnels from the trusted VTEPs
pub const ECHO: u32 = 4; // SNI echo.example only (TLS passthrough)

pub const MODELS: [&str; 3] = ["llama", "mistral", "secret"];
/// The trusted tunnel endpoints.
pub const VTEP: [u8; 4] = [192, 0, 2, 10];
pub const ROGUE_VTEP: [u8; 4] = [198, 51, 100, 66];
pub const SERVER: [u8; 4] = [10, 99, 0, 1];
pub const HTTP: u16 = 8000;
pub const TLS: u16 = 443;

/// Queue `q` serves pool `q` (one queue per pool): pool 0 llama, 1 mistral, 2 secret, 3 llama
/// for echo's passthrough.
pub fn tenants() -> Vec<TenantConfig> {
    let prefix = |a: [u8; 4], len| IpPrefix::new(IpAddr::V4(Ipv4Addr::from(a)), len);
    let mut alpha = TenantConfig::new("alpha");
    alpha.identity.ports = vec![1];
    alpha.identity.prefixes = vec![prefix([10, 1, 0, 0], 16)];
    alpha.identity.sni = vec!["alpha.example".into()];
    // llama (pool 0) and mistral (pool 1): a connection steered for one cannot carry the other.
    alpha.models = vec!["llama".into(), "mistral".into()];
    alpha.default_model = Some("llama".into());
    alpha.pools = vec![0, 1];
    let mut bravo = TenantConfig::new("bravo");
    bravo.identity.vlans = vec![100];
    // The real Chromium capture (tests/fixtures/l7/chromium.bin) names tenant-f.infer.example.
    bravo.identity.sni = vec!["bravo.example".into(), "tenant-f.infer.example".into()];
    bravo.models = vec!["mistral".into()];
    bravo.pools = vec![1];
    let mut charlie = TenantConfig::new("charlie");
    charlie.identity.vnis = vec![5000];
    charlie.models = vec!["secret".into()];
    charlie.pools = vec![2];
    let mut delta = TenantConfig::new("delta");
    delta.identity.prefixes = vec![prefix([10, 4, 0, 0], 16)];
    delta.models = vec!["llama".into()];
    delta.pools = vec![0];
    let mut echo = TenantConfig::new("echo");
    echo.identity.sni = vec!["echo.example".into()];
    echo.models = vec!["llama".into()];
    echo.default_model = Some("llama".into());
    echo.pools = vec![3];
    echo.tls = TlsPolicy {
        terminate: Termination::Passthrough,
        ..TlsPolicy::default()
    };
    let mut all = vec![alpha, bravo, charlie, delta, echo];
    for t in &mut all {
        t.max_in_flight = 1 << 20;
        t.rate = RateLimit::UNLIMITED;
    }
    all
}

pub fn policy_config(tenants: Vec<TenantConfig>) -> PolicyConfig {
    PolicyConfig {
        tenants,
        models: MODELS.iter().map(|m| m.to_string()).collect(),
        pools: 4,
        precedence: vec![
            Attribute::Port,
            Attribute::Vni,
            Attribute::Vlan,
            Attribute::SourcePrefix,
            Attribute::Sni,
        ],
        tunnel_endpoints: vec![IpPrefix::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 0)), 24)],
        unattributed_rate: RateLimit::UNLIMITED,
    }
}

pub struct World {
    pub pipeline: Pipeline,
    pub consumers: Vec<Consumer<Descriptor>>,
    pub inflight: Arc<InFlight>,
    /// Every descriptor consumed, in order.
    pub descs: Vec<Descriptor>,
    /// Every verdict, in frame order.
    pub verdicts: Vec<Verdict>,
    /// The ingress port and bytes of every frame sent, by handle.
    pub sent: Vec<(u16, Vec<u8>)>,
    pub now: u64,
    /// Whether consumers release in-flight quota after each burst.
    pub drain: bool,
}

impl World {
    pub fn new() -> Self {
        Self::with(policy_config(tenants()), PipelineConfig::default())
    }

    pub fn with_config(config: PipelineConfig) -> Self {
        Self::with(policy_config(tenants()), config)
    }

    pub fn with(policy: PolicyConfig, config: PipelineConfig) -> Self {
        let policy = PolicyTable::build(&policy).unwrap();
        let queue = |q| PoolSpec {
            queues: vec![GpuQueueSpec {
                gpu: 0,
                queue: q,
                weight: 1,
            }],
            choice: Choice::Maglev,
        };
        let steer = SteerTable::build(&SteerConfig {
            pools: (0..4).map(queue).collect(),
            // llama: pools 0 and 3; mistral: 1; secret: 2.
            model_pools: vec![vec![0, 3], vec![1], vec![2]],
            high_watermark: usize::MAX,
        })
        .unwrap();
        let (producers, consumers): (Vec<_>, Vec<_>) = (0..steer.queue_count())
            .map(|_| Ring::<Descriptor>::new(4096).unwrap().split())
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
        Self {
            pipeline,
            consumers,
            inflight,
            descs: Vec::new(),
            verdicts: Vec::new(),
            sent: Vec::new(),
            now: 1_000,
            drain: true,
        }
    }

    /// Sends `frames` in bursts of 32 at the current time (advanced 1 µs per burst) and
    /// returns their verdicts.
    pub fn send(&mut self, frames: &[Pkt]) -> Vec<Verdict> {
        let built: Vec<(u16, Vec<u8>)> = frames.iter().map(|p| (p.port, p.bytes())).collect();
        self.send_raw(built)
    }

    /// Sends frames given as (ingress port, bytes).
    pub fn send_raw(&mut self, built: Vec<(u16, Vec<u8>)>) -> Vec<Verdict> {
        let mut out = Vec::with_capacity(built.len());
        for chunk in built.chunks(32) {
            let base = self.sent.len() as u64;
            let raw: Vec<RawFrame<'_>> = chunk
                .iter()
                .enumerate()
                .map(|(i, (port, b))| RawFrame {
                    bytes: b,
                    port: *port,
                    rss: None,
                    handle: base + i as u64,
                })
                .collect();
            let mut v = vec![Verdict::Host; raw.len()];
            let n = self.pipeline.process_burst(&raw, self.now, &mut v);
            assert_eq!(n, raw.len());
            drop(raw);
            self.sent.extend(chunk.iter().cloned());
            self.verdicts.extend_from_slice(&v);
            out.extend(v);
            self.now += 1_000;
            if self.drain {
                self.drain_queues();
            }
        }
        out
    }

    pub fn drain_queues(&mut self) {
        for c in &mut self.consumers {
            let mut got = Vec::new();
            while let Some(d) = c.pop() {
                got.push(d);
            }
            for d in &got {
                self.inflight.release(d.tenant, 1);
            }
            self.descs.extend(got);
        }
    }

    /// Sends one frame.
    pub fn one(&mut self, p: Pkt) -> Verdict {
        self.send(&[p])[0]
    }

    pub fn snapshot(&self) -> Snapshot {
        self.pipeline.snapshot()
    }

    /// The counting invariant, and every descriptor matching a GPU verdict.
    pub fn check(&self) {
        let s = self.snapshot();
        assert!(s.balanced(), "{s:#?}");
        let gpu = self
            .verdicts
            .iter()
            .filter(|v| matches!(v, Verdict::Gpu { .. }))
            .count();
        if self.drain {
            assert_eq!(self.descs.len(), gpu, "descriptors vs GPU verdicts");
            for d in &self.descs {
                assert_eq!(
                    self.verdicts[d.packet as usize],
                    Verdict::Gpu {
                        queue: d.queue as u16
                    }
                );
            }
        }
    }

    /// Descriptors of frames sent from index `from` on.
    pub fn descs_since(&self, from: usize) -> Vec<Descriptor> {
        self.descs
            .iter()
            .filter(|d| d.packet as usize >= from)
            .copied()
            .collect()
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

/// A TCP (or UDP) frame whose every identity attribute can be set.
#[derive(Clone, Debug)]
pub struct Pkt {
    pub port: u16,
    pub vlans: Vec<u16>,
    /// VXLAN VNI and outer source.
    pub tunnel: Option<(u32, [u8; 4])>,
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub flags: u8,
    pub udp: bool,
    /// IPv4 fragment: (more fragments, offset in bytes).
    pub frag: Option<(bool, u16)>,
    pub payload: Vec<u8>,
    /// The innermost TCP checksum made wrong.
    pub bad_checksum: bool,
}

pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const PSH_ACK: u8 = 0x18;
pub const FIN_ACK: u8 = 0x11;
pub const RST: u8 = 0x04;

impl Pkt {
    /// A PSH|ACK segment from `src:sport` to the server's HTTP port on port 0.
    pub fn tcp(src: [u8; 4], sport: u16, payload: &[u8]) -> Self {
        Self {
            port: 0,
            vlans: Vec::new(),
            tunnel: None,
            src,
            dst: SERVER,
            sport,
            dport: HTTP,
            seq: 1000,
            flags: PSH_ACK,
            udp: false,
            frag: None,
            payload: payload.to_vec(),
            bad_checksum: false,
        }
    }

    pub fn port(mut self, p: u16) -> Self {
        self.port = p;
        self
    }
    pub fn vlan(mut self, v: &[u16]) -> Self {
        self.vlans = v.to_vec();
        self
    }
    pub fn vxlan(mut self, vni: u32, outer_src: [u8; 4]) -> Self {
        self.tunnel = Some((vni, outer_src));
        self
    }
    pub fn seq(mut self, s: u32) -> Self {
        self.seq = s;
        self
    }
    pub fn flags(mut self, f: u8) -> Self {
        self.flags = f;
        self
    }
    pub fn dport(mut self, p: u16) -> Self {
        self.dport = p;
        self
    }
    pub fn udp(mut self) -> Self {
        self.udp = true;
        self
    }
    pub fn frag(mut self, more: bool, offset: u16) -> Self {
        self.frag = Some((more, offset));
        self
    }
    pub fn payload(mut self, p: &[u8]) -> Self {
        self.payload = p.to_vec();
        self
    }
    pub fn bad_checksum(mut self) -> Self {
        self.bad_checksum = true;
        self
    }

    pub fn bytes(&self) -> Vec<u8> {
        let tags: Vec<VlanSpec> = self
            .vlans
            .iter()
            .enumerate()
            .map(|(i, &vid)| VlanSpec {
                tpid: if i == 0 && self.vlans.len() > 1 {
                    EtherType::QINQ
                } else {
                    EtherType::VLAN
                },
                pcp: 0,
                vid,
            })
            .collect();
        let mut ip = IpSpec::v4(self.src, self.dst);
        if let (
            Some((more, off)),
            IpSpec::V4 {
                more_fragments,
                frag_offset,
                ident,
                ..
            },
        ) = (self.frag, &mut ip)
        {
            *more_fragments = more;
            *frag_offset = off;
            *ident = 77;
        }
        let l4 = if self.udp {
            L4Spec::Udp {
                src_port: self.sport,
                dst_port: self.dport,
            }
        } else {
            L4Spec::Tcp {
                src_port: self.sport,
                dst_port: self.dport,
                seq: self.seq,
                ack: 1,
                flags: self.flags,
                window: 65535,
                options: &[],
            }
        };
        let inner = HopSpec::new(ip);
        let spec = match self.tunnel {
            None => FrameSpec {
                outer: HopSpec {
                    vlans: &tags,
                    ..inner
                },
                tunnel: None,
                l4,
                payload: &self.payload,
            },
            Some((vni, outer_src)) => FrameSpec {
                outer: HopSpec {
                    vlans: &tags,
                    ..HopSpec::new(IpSpec::v4(outer_src, [192, 0, 2, 1]))
                },
                tunnel: Some(TunnelSpec {
                    proto: TunnelProto::Vxlan { vni },
                    udp_src_port: 49152,
                    inner,
                }),
                l4,
                payload: &self.payload,
            },
        };
        let mut buf = vec![0u8; 9000];
        let n = emit_frame(&spec, &mut buf).unwrap();
        buf.truncate(n);
        if self.bad_checksum && !self.udp {
            let s = infersteer::wire::parse_frame(&buf).unwrap();
            let at = usize::from(s.innermost().l4.unwrap().offset) + 16;
            buf[at] ^= 0x5a;
        }
        buf
    }
}

/// An OpenAI-style HTTP/1.1 request naming `model` in the model header, with a body of
/// `body` bytes.
pub fn request(model: &str) -> Vec<u8> {
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nx-ai-eg-model: {model}\r\n\
         content-length: 2\r\n\r\n{{}}"
    )
    .into_bytes()
}

/// A request with extra header lines.
pub fn request_with(model: &str, extra: &str) -> Vec<u8> {
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nx-ai-eg-model: {model}\r\n{extra}\
         content-length: 2\r\n\r\n{{}}"
    )
    .into_bytes()
}

/// A minimal TLS 1.3 ClientHello record naming `sni` (none when empty), offering ALPN h2 and
/// TLS 1.3, padded with `pad` bytes of a padding extension (to make a hello that spans
/// segments).
pub fn client_hello(sni: &str, pad: usize) -> Vec<u8> {
    let mut ext = Vec::new();
    let mut push_ext = |ty: u16, body: &[u8]| {
        ext.extend_from_slice(&ty.to_be_bytes());
        ext.extend_from_slice(&(body.len() as u16).to_be_bytes());
        ext.extend_from_slice(body);
    };
    if !sni.is_empty() {
        let name = sni.as_bytes();
        let mut b = Vec::new();
        b.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
        b.push(0);
        b.extend_from_slice(&(name.len() as u16).to_be_bytes());
        b.extend_from_slice(name);
        push_ext(0, &b);
    }
    // supported_versions: TLS 1.3.
    push_ext(43, &[2, 0x03, 0x04]);
    // ALPN: h2.
    push_ext(16, &[0, 3, 2, b'h', b'2']);
    if pad > 0 {
        push_ext(21, &vec![0u8; pad]);
    }
    let mut body = Vec::new();
    body.extend_from_slice(&[0x03, 0x03]);
    body.extend_from_slice(&[0x11; 32]);
    body.push(0); // session id
    body.extend_from_slice(&[0, 2, 0x13, 0x01]); // one cipher suite
    body.extend_from_slice(&[1, 0]); // null compression
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1u8];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}
