//! An embedded synthetic point of presence: a tenant, model and GPU-pool configuration
//! ([`pop_config`]) and a deterministic traffic generator ([`Traffic`]) whose first flights are
//! the real client captures of `tests/fixtures/l7/`.
//!
//! # The PoP
//!
//! Seven tenants, five models, four GPU pools over two GPUs (twelve GPU queues):
//!
//! | tenant | trusted identity | models (default) | pools | TLS policy | limits |
//! |---|---|---|---|---|---|
//! | `tenant-a` | ingress port 1; 10.1.0.0/16, 2001:db8:a::/48 | llama-3.1-8b-instruct, mistral-7b, llama-3.1-70b-instruct (llama-3.1-8b-instruct) | 0, 1, 3 | default: plaintext allowed, TLS ≥ 1.2, terminate on the DPU | high priority |
//! | `tenant-b` | VLAN 100, 101; SNI `tenant-b.infer.example` | resnet50, bge-m3 (resnet50) | 2 | TLS ≥ 1.3, no ECH, terminate on the host | 1 Gbit/s committed, 2 Gbit/s peak (trTCM) |
//! | `tenant-c` | SNI `tenant-c.infer.example`; 2001:db8:c::/48 | llama-3.1-8b-instruct (same) | 0 | TLS required, ≥ 1.3, SNI required, ALPN h2 or http/1.1, **passthrough** | |
//! | `tenant-d` | SNI wildcard `*.infer.example` | mistral-7b (same) | 1 | SNI required, ALPN h2 only, terminate on the DPU | |
//! | `tenant-e` | VXLAN VNI 5001 | mistral-7b (same) | 1 | default | **noisy**: 50 kpps, burst 512; 64 in flight; low priority |
//! | `tenant-f` | SNI `tenant-f.infer.example`; 2001:db8:f::/48 | llama-3.1-8b-instruct (same) | 0 | ECH allowed, ALPN h2, terminate on the host | |
//! | `tenant-g` | ingress port 7; VNI 7007; 10.7.0.0/16 | resnet50 (none) | 2 | default | |
//!
//! | pool | choice | queues (GPU, queue) | serves (in preference order) |
//! |---|---|---|---|
//! | 0 `llm` | Maglev | (0,0) weight 2, (0,1) weight 2, (1,0), (1,1) | llama-3.1-8b-instruct (then pool 1), mistral-7b (after pool 1) |
//! | 1 `llm-shared` | Maglev | (0,2), (1,2) | mistral-7b (then pool 0), llama-3.1-8b-instruct (after pool 0) |
//! | 2 `vision` | PowerOfTwo | (0,3), (0,4), (1,3), (1,4) | resnet50, bge-m3 |
//! | 3 `llm-large` | Maglev | (0,5), (1,5) | llama-3.1-70b-instruct |
//!
//! # The traffic
//!
//! [`Traffic::mix`] starts flows of the [`Scenario`]s (weighted, seeded) and interleaves their
//! frames, [`ACTIVE_FLOWS`] flows at a time, keeping each flow's frames in order: an optional
//! SYN, the first flight (one TCP segment, or the Chromium hello in two segments with
//! consecutive sequence numbers), then data segments of the same flow. Flows arrive over plain
//! Ethernet, 802.1Q, and VXLAN (the tenant's VNI, inner frame), over IPv4 and IPv6. Besides the
//! admitted flows the mix holds refused ones (spoofed claims, a model the tenant may not use,
//! TLS policy refusals, unknown tenants) and junk (frames cut inside their IPv4 header, ARP).
//! Every frame carries the [`Intent`] the configuration is designed to give it, before rate
//! limits, quotas and full queues. [`Traffic::established_only`] is a bench workload: a fixed
//! set of admitted flows whose first flights come once, then only data segments.
//!
//! Everything is built at setup (allocating freely); the generator uses its own SplitMix64, so
//! a seed always gives the same bytes.
#![forbid(unsafe_code)]

use crate::l7::classify::H2_PREFACE;
use crate::pipeline::{Frame, Verdict};
use crate::policy::{
    Identity, IpPrefix, PolicyConfig, Priority, Rate, RateLimit, TenantConfig, Termination,
    TlsPolicy, TrTcmConfig,
};
use crate::steer::{Choice, GpuQueueSpec, PoolSpec, SteerConfig};
use crate::verdict::{DropReason, TlsHint};
use crate::wire::emit::{
    emit_frame, FrameSpec, HopSpec, IpSpec, L4Spec, TunnelProto, TunnelSpec, VlanSpec,
};
use crate::wire::ethernet::EtherType;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

macro_rules! l7_fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../tests/fixtures/l7/", $name))
    };
}

/// curl 7.88 TLS 1.3 ClientHello, SNI `tenant-c.infer.example`, ALPN h2, http/1.1.
pub const CURL_TLS13: &[u8] = l7_fixture!("curl_tls13.bin");
/// gnutls-cli ClientHello, SNI `tenant-d.infer.example`, ALPN h2.
pub const GNUTLS: &[u8] = l7_fixture!("gnutls.bin");
/// Chromium ClientHello (2026 bytes, ECH, post-quantum key share), SNI `tenant-f.infer.example`.
pub const CHROMIUM: &[u8] = l7_fixture!("chromium.bin");
/// Where the kernel split [`CHROMIUM`] into two TCP segments (MSS 1460 less timestamps).
pub const CHROMIUM_SPLIT: usize = 1448;
/// OpenSSL `s_client -tls1_2` ClientHello, SNI `tenant-b.infer.example`.
pub const OPENSSL_TLS12: &[u8] = l7_fixture!("openssl_tls12_only.bin");
/// OpenSSL ClientHello without SNI.
pub const OPENSSL_NO_SNI: &[u8] = l7_fixture!("openssl_no_sni.bin");
/// CPython `ssl` ClientHello, SNI `tenant-e.infer.example`, ALPN http/1.1.
pub const PYTHON_SSL: &[u8] = l7_fixture!("shared/python_ssl.bin");
/// curl HTTP/1.1 KServe v2 infer for `resnet50`, claiming `tenant-b`.
pub const HTTP1_KSERVE: &[u8] = l7_fixture!("http1_kserve.bin");
/// curl HTTP/1.1 OpenAI completion, model header and body `mistral-7b`, no claim.
pub const HTTP1_OPENAI_MODEL_HEADER: &[u8] = l7_fixture!("http1_openai_model_header.bin");
/// curl HTTP/1.1 OpenAI chat completion for `llama-3.1-8b-instruct`, claiming `tenant-a`.
pub const HTTP1_OPENAI: &[u8] = l7_fixture!("shared/http1_openai.bin");
/// curl h2c prior-knowledge chat completion for `llama-3.1-8b-instruct`, claiming `tenant-a`,
/// session `sess-99`.
pub const H2C: &[u8] = l7_fixture!("h2c_prior_knowledge.bin");
/// grpcio `ModelInfer` for `resnet50`, claiming `tenant-g`.
pub const GRPC_MODELINFER: &[u8] = l7_fixture!("grpc_modelinfer.bin");
/// grpcio `ServerLive` (no model), claiming `tenant-g`.
pub const GRPC_SERVER_LIVE: &[u8] = l7_fixture!("grpc_other_method.bin");
/// A kernel-captured ARP frame.
pub const ARP_FRAME: &[u8] = include_bytes!("../../tests/fixtures/wire/arp.bin");

/// The ingress port of untrusted (internet) traffic: bound to no tenant.
pub const PORT_INTERNET: u16 = 0;
/// The ingress port bound to `tenant-a`.
pub const PORT_TENANT_A: u16 = 1;
/// The ingress port bound to `tenant-g`.
pub const PORT_TENANT_G: u16 = 7;
/// The VLANs bound to `tenant-b`.
pub const VLANS_TENANT_B: [u16; 2] = [100, 101];
/// The VNI bound to `tenant-e`.
pub const VNI_TENANT_E: u32 = 5001;
/// The VNI bound to `tenant-g`.
pub const VNI_TENANT_G: u32 = 7007;

/// TCP port of the TLS listener.
pub const TLS_PORT: u16 = 8443;
/// TCP port of the HTTP/1.1 and h2c listener.
pub const HTTP_PORT: u16 = 8000;
/// TCP port of the gRPC listener.
pub const GRPC_PORT: u16 = 8001;

/// Tenant names; a tenant's id is its index.
pub const TENANTS: [&str; 7] = [
    "tenant-a", "tenant-b", "tenant-c", "tenant-d", "tenant-e", "tenant-f", "tenant-g",
];
/// Model names; a model's id is its index.
pub const MODELS: [&str; 5] = [
    "llama-3.1-8b-instruct",
    "mistral-7b",
    "resnet50",
    "llama-3.1-70b-instruct",
    "bge-m3",
];
/// Pool names; a pool's number is its index.
pub const POOLS: [&str; 4] = ["llm", "llm-shared", "vision", "llm-large"];
/// The depth at which a GPU queue spills to the next choice.
pub const HIGH_WATERMARK: usize = 768;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}

fn v4(a: [u8; 4], len: u8) -> IpPrefix {
    IpPrefix::new(IpAddr::V4(Ipv4Addr::from(a)), len)
}

fn v6(segments: [u16; 3], len: u8) -> IpPrefix {
    let [a, b, c] = segments;
    IpPrefix::new(IpAddr::V6(Ipv6Addr::new(a, b, c, 0, 0, 0, 0, 0)), len)
}

/// The PoP's tenant policy and steering configuration (see the [module documentation](self)).
/// Both build: `PolicyTable::build(&policy)` and `SteerTable::build(&steer)` succeed.
pub fn pop_config() -> (PolicyConfig, SteerConfig) {
    let [llama8, mistral, resnet, llama70, bge] = MODELS;

    let mut a = TenantConfig::new("tenant-a");
    a.identity = Identity {
        ports: vec![PORT_TENANT_A],
        prefixes: vec![v4([10, 1, 0, 0], 16), v6([0x2001, 0xdb8, 0xa], 48)],
        ..Identity::default()
    };
    a.models = strings(&[llama8, mistral, llama70]);
    a.default_model = Some(llama8.to_string());
    a.pools = vec![0, 1, 3];
    a.priority = Priority::High;

    let mut b = TenantConfig::new("tenant-b");
    b.identity.vlans = VLANS_TENANT_B.to_vec();
    // Its own name, so that its hellos do not fall under tenant-d's wildcard (an SNI that
    // names another tenant than the VLAN does is `spoofed_sni`).
    b.identity.sni = strings(&["tenant-b.infer.example"]);
    b.models = strings(&[resnet, bge]);
    b.default_model = Some(resnet.to_string());
    b.pools = vec![2];
    b.rate.bytes = match (
        Rate::new(125_000_000, 1_000_000),
        Rate::new(250_000_000, 2_000_000),
    ) {
        (Ok(c), Ok(p)) => TrTcmConfig::new(c, p).ok(),
        _ => None,
    };
    b.tls = TlsPolicy {
        min_version: 0x0304,
        allow_ech: false,
        terminate: Termination::Host,
        ..TlsPolicy::default()
    };

    let mut c = TenantConfig::new("tenant-c");
    c.identity.sni = strings(&["tenant-c.infer.example"]);
    c.identity.prefixes = vec![v6([0x2001, 0xdb8, 0xc], 48)];
    c.models = strings(&[llama8]);
    c.default_model = Some(llama8.to_string());
    c.pools = vec![0];
    c.tls = TlsPolicy {
        require_tls: true,
        min_version: 0x0304,
        require_sni: true,
        alpn: strings(&["h2", "http/1.1"]),
        allow_ech: true,
        terminate: Termination::Passthrough,
    };

    let mut d = TenantConfig::new("tenant-d");
    d.identity.sni = strings(&["*.infer.example"]);
    d.models = strings(&[mistral]);
    d.default_model = Some(mistral.to_string());
    d.pools = vec![1];
    d.tls = TlsPolicy {
        require_sni: true,
        alpn: strings(&["h2"]),
        ..TlsPolicy::default()
    };

    let mut e = TenantConfig::new("tenant-e");
    e.identity.vnis = vec![VNI_TENANT_E];
    e.models = strings(&[mistral]);
    e.default_model = Some(mistral.to_string());
    e.pools = vec![1];
    e.priority = Priority::Low;
    e.max_in_flight = 64;
    e.rate = RateLimit {
        packets: Rate::new(50_000, 512).ok(),
        bytes: None,
    };

    let mut f = TenantConfig::new("tenant-f");
    f.identity.sni = strings(&["tenant-f.infer.example"]);
    f.identity.prefixes = vec![v6([0x2001, 0xdb8, 0xf], 48)];
    f.models = strings(&[llama8]);
    f.default_model = Some(llama8.to_string());
    f.pools = vec![0];
    f.tls = TlsPolicy {
        alpn: strings(&["h2"]),
        allow_ech: true,
        terminate: Termination::Host,
        ..TlsPolicy::default()
    };

    let mut g = TenantConfig::new("tenant-g");
    g.identity = Identity {
        ports: vec![PORT_TENANT_G],
        vnis: vec![VNI_TENANT_G],
        prefixes: vec![v4([10, 7, 0, 0], 16)],
        ..Identity::default()
    };
    g.models = strings(&[resnet]);
    g.pools = vec![2];

    let policy = PolicyConfig {
        tenants: vec![a, b, c, d, e, f, g],
        models: strings(&MODELS),
        pools: POOLS.len() as u8,
        precedence: Vec::new(),
        ..PolicyConfig::default()
    };

    let q = |gpu, queue, weight| GpuQueueSpec { gpu, queue, weight };
    let steer = SteerConfig {
        pools: vec![
            PoolSpec {
                queues: vec![q(0, 0, 2), q(0, 1, 2), q(1, 0, 1), q(1, 1, 1)],
                choice: Choice::Maglev,
            },
            PoolSpec {
                queues: vec![q(0, 2, 1), q(1, 2, 1)],
                choice: Choice::Maglev,
            },
            PoolSpec {
                queues: vec![q(0, 3, 1), q(0, 4, 1), q(1, 3, 1), q(1, 4, 1)],
                choice: Choice::PowerOfTwo,
            },
            PoolSpec {
                queues: vec![q(0, 5, 1), q(1, 5, 1)],
                choice: Choice::Maglev,
            },
        ],
        // llama-3.1-8b-instruct, mistral-7b, resnet50, llama-3.1-70b-instruct, bge-m3.
        model_pools: vec![vec![0, 1], vec![1, 0], vec![2], vec![3], vec![2]],
        high_watermark: HIGH_WATERMARK,
    };
    (policy, steer)
}

/// What the PoP's configuration is designed to do with a frame, before rate limits, in-flight
/// quotas and full queues (which may turn any admitted frame into a drop).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Intent {
    /// Enqueued to a GPU queue of one of the tenant's pools.
    Gpu,
    /// A TLS termination verdict with this hint.
    Terminate(TlsHint),
    /// Handed to the host (a SYN, or a first-flight segment before the one that completes it).
    Host,
    /// Dropped for this reason.
    Drop(DropReason),
}

impl Intent {
    /// Whether `verdict` is what this intent asks for.
    pub fn matches(&self, verdict: &Verdict) -> bool {
        match (self, verdict) {
            (Self::Gpu, Verdict::Gpu { .. }) | (Self::Host, Verdict::Host) => true,
            (Self::Terminate(a), Verdict::Terminate(b)) => a == b,
            (Self::Drop(a), Verdict::Drop(b)) => a == b,
            _ => false,
        }
    }
}

/// The kinds of flow the mix holds. Each names its tenant (by trusted attributes), its
/// carrier and first flight, and what the configuration does with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// Port 1, IPv4 10.1/16, starts with a SYN: curl h2c (claims tenant-a,
    /// llama-3.1-8b-instruct, session sess-99) → GPU (pool 0).
    AH2c,
    /// Untrusted port, IPv6 2001:db8:a::/48 (tenant-a by prefix), starts with a SYN: curl
    /// HTTP/1.1 chat (claims tenant-a, llama-3.1-8b-instruct) → GPU.
    AHttp1V6,
    /// Port 1: the OpenSSL hello without SNI → tenant-a's policy: terminate on the DPU. (With
    /// an SNI of another tenant's it would be `spoofed_sni`: the port names tenant-a.)
    ATlsOnPort,
    /// VLAN 100, IPv4, starts with a SYN: curl KServe `resnet50` (claims tenant-b) → GPU
    /// (pool 2, PowerOfTwo).
    BKserveVlan,
    /// VLAN 100: OpenSSL TLS 1.2-only hello; tenant-b wants TLS 1.3 → `tls_version`.
    BTls12Vlan,
    /// VLAN 101: the Chromium hello in two segments, naming tenant-f's SNI from tenant-b's
    /// VLAN → the first segment goes to the host, the second is `spoofed_sni`.
    BChromiumEchVlan,
    /// Untrusted port, IPv4 100.64/16: curl TLS 1.3 hello, SNI tenant-c (exact) → passthrough
    /// to the GPU (tenant-c's default model, pool 0).
    CCurlPassthrough,
    /// Untrusted port, IPv6 2001:db8:c::/48 (tenant-c by prefix): plaintext HTTP/1.1
    /// (mistral-7b); tenant-c requires TLS → `tls_required`.
    CPlaintextV6,
    /// Untrusted port, IPv6 2001:db8:ffff::/48: gnutls hello, SNI tenant-d.infer.example →
    /// wildcard `*.infer.example` → tenant-d: terminate on the DPU.
    DGnutlsWildcard,
    /// Untrusted port, IPv4: CPython hello, SNI tenant-e.infer.example (no exact binding) →
    /// wildcard → tenant-d, which allows ALPN h2 only → `alpn_not_allowed`.
    DPythonAlpn,
    /// VXLAN VNI 5001, inner IPv4: curl HTTP/1.1 `mistral-7b`, long flows → GPU (pool 1); the
    /// noisy tenant, largely `rate_limited` (and `tenant_quota` when its GPU lags).
    EOpenaiVxlan,
    /// VNI 5001: a crafted request for llama-3.1-70b-instruct → `model_not_allowed`.
    EModelNotAllowed,
    /// VNI 5001: a crafted request claiming tenant-a → `spoofed_tenant`.
    ESpoofClaim,
    /// Untrusted port, IPv4: the Chromium hello (ECH) in two TCP segments, SNI tenant-f →
    /// first segment to the host, second (and the rest of the flow) terminate on the host.
    FChromiumSplit,
    /// VXLAN VNI 7007, inner IPv6: grpcio `ModelInfer` `resnet50` (claims tenant-g) → GPU
    /// (pool 2).
    GGrpcVxlanV6,
    /// Port 7: grpcio `ServerLive` (no model); tenant-g has no default model → `no_model`.
    GGrpcServerLive,
    /// Port 7: the KServe request claiming tenant-b → `spoofed_tenant`.
    GSpoofKserve,
    /// Untrusted port, IPv4 198.51/16: h2c → `unknown_tenant`.
    UnknownH2c,
    /// Untrusted port, IPv4: OpenSSL hello without SNI → `unknown_tenant`.
    UnknownNoSni,
    /// One frame cut inside its IPv4 header → `malformed`.
    Truncated,
    /// One ARP frame → `not_ip`.
    NotIp,
}

impl Scenario {
    /// Every scenario.
    pub const ALL: [Self; 21] = [
        Self::AH2c,
        Self::AHttp1V6,
        Self::ATlsOnPort,
        Self::BKserveVlan,
        Self::BTls12Vlan,
        Self::BChromiumEchVlan,
        Self::CCurlPassthrough,
        Self::CPlaintextV6,
        Self::DGnutlsWildcard,
        Self::DPythonAlpn,
        Self::EOpenaiVxlan,
        Self::EModelNotAllowed,
        Self::ESpoofClaim,
        Self::FChromiumSplit,
        Self::GGrpcVxlanV6,
        Self::GGrpcServerLive,
        Self::GSpoofKserve,
        Self::UnknownH2c,
        Self::UnknownNoSni,
        Self::Truncated,
        Self::NotIp,
    ];

    /// The scenarios [`Traffic::established_only`] uses: admitted flows only (not the noisy
    /// tenant's).
    pub const ADMITTED: [Self; 6] = [
        Self::AH2c,
        Self::AHttp1V6,
        Self::BKserveVlan,
        Self::CCurlPassthrough,
        Self::GGrpcVxlanV6,
        Self::FChromiumSplit,
    ];

    /// A short snake_case name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::AH2c => "a_h2c",
            Self::AHttp1V6 => "a_http1_v6",
            Self::ATlsOnPort => "a_tls_on_port",
            Self::BKserveVlan => "b_kserve_vlan",
            Self::BTls12Vlan => "b_tls12_vlan",
            Self::BChromiumEchVlan => "b_chromium_ech_vlan",
            Self::CCurlPassthrough => "c_curl_passthrough",
            Self::CPlaintextV6 => "c_plaintext_v6",
            Self::DGnutlsWildcard => "d_gnutls_wildcard",
            Self::DPythonAlpn => "d_python_alpn",
            Self::EOpenaiVxlan => "e_openai_vxlan",
            Self::EModelNotAllowed => "e_model_not_allowed",
            Self::ESpoofClaim => "e_spoof_claim",
            Self::FChromiumSplit => "f_chromium_split",
            Self::GGrpcVxlanV6 => "g_grpc_vxlan_v6",
            Self::GGrpcServerLive => "g_grpc_server_live",
            Self::GSpoofKserve => "g_spoof_kserve",
            Self::UnknownH2c => "unknown_h2c",
            Self::UnknownNoSni => "unknown_no_sni",
            Self::Truncated => "truncated",
            Self::NotIp => "not_ip",
        }
    }

    /// The tenant the trusted attributes name (`None`: no tenant).
    pub const fn tenant(self) -> Option<&'static str> {
        match self {
            Self::AH2c | Self::AHttp1V6 | Self::ATlsOnPort => Some("tenant-a"),
            Self::BKserveVlan | Self::BTls12Vlan | Self::BChromiumEchVlan => Some("tenant-b"),
            Self::CCurlPassthrough | Self::CPlaintextV6 => Some("tenant-c"),
            Self::DGnutlsWildcard | Self::DPythonAlpn => Some("tenant-d"),
            Self::EOpenaiVxlan | Self::EModelNotAllowed | Self::ESpoofClaim => Some("tenant-e"),
            Self::FChromiumSplit => Some("tenant-f"),
            Self::GGrpcVxlanV6 | Self::GGrpcServerLive | Self::GSpoofKserve => Some("tenant-g"),
            Self::UnknownH2c | Self::UnknownNoSni | Self::Truncated | Self::NotIp => None,
        }
    }

    /// What the configuration does with the flow's first flight and the rest of the flow.
    pub const fn intent(self) -> Intent {
        match self {
            Self::AH2c
            | Self::AHttp1V6
            | Self::BKserveVlan
            | Self::CCurlPassthrough
            | Self::EOpenaiVxlan
            | Self::GGrpcVxlanV6 => Intent::Gpu,
            Self::ATlsOnPort | Self::DGnutlsWildcard => Intent::Terminate(TlsHint::TerminateDpu),
            Self::FChromiumSplit => Intent::Terminate(TlsHint::TerminateHost),
            Self::BTls12Vlan => Intent::Drop(DropReason::TlsVersion),
            Self::BChromiumEchVlan => Intent::Drop(DropReason::SpoofedSni),
            Self::CPlaintextV6 => Intent::Drop(DropReason::TlsRequired),
            Self::DPythonAlpn => Intent::Drop(DropReason::AlpnNotAllowed),
            Self::EModelNotAllowed => Intent::Drop(DropReason::ModelNotAllowed),
            Self::ESpoofClaim | Self::GSpoofKserve => Intent::Drop(DropReason::SpoofedTenant),
            Self::GGrpcServerLive => Intent::Drop(DropReason::NoModel),
            Self::UnknownH2c | Self::UnknownNoSni => Intent::Drop(DropReason::UnknownTenant),
            Self::Truncated => Intent::Drop(DropReason::Malformed),
            Self::NotIp => Intent::Drop(DropReason::NotIp),
        }
    }

    /// Whether the flow's first flight is a TLS ClientHello.
    pub const fn is_tls(self) -> bool {
        matches!(
            self,
            Self::ATlsOnPort
                | Self::BTls12Vlan
                | Self::BChromiumEchVlan
                | Self::CCurlPassthrough
                | Self::DGnutlsWildcard
                | Self::DPythonAlpn
                | Self::FChromiumSplit
                | Self::UnknownNoSni
        )
    }

    fn shape(self) -> Shape {
        use Body as B;
        use Carrier as K;
        use Net as N;
        let internet = N::V4([100, 64]);
        let s = |port, carrier, net, dst_port, body, syn, data: (u32, u32), weight| Shape {
            port,
            carrier,
            net,
            dst_port,
            body,
            syn,
            data,
            weight,
        };
        match self {
            Self::AH2c => s(
                1,
                K::Plain,
                N::V4([10, 1]),
                HTTP_PORT,
                B::Fixed(H2C),
                true,
                (4, 40),
                10,
            ),
            Self::AHttp1V6 => s(
                0,
                K::Plain,
                N::V6([0x2001, 0xdb8, 0xa]),
                HTTP_PORT,
                B::Fixed(HTTP1_OPENAI),
                true,
                (2, 20),
                6,
            ),
            Self::ATlsOnPort => s(
                1,
                K::Plain,
                N::V4([10, 1]),
                TLS_PORT,
                B::Fixed(OPENSSL_NO_SNI),
                false,
                (2, 12),
                3,
            ),
            Self::BKserveVlan => s(
                0,
                K::Vlan(100),
                N::V4([172, 16]),
                HTTP_PORT,
                B::Fixed(HTTP1_KSERVE),
                true,
                (2, 24),
                8,
            ),
            Self::BTls12Vlan => s(
                0,
                K::Vlan(100),
                N::V4([172, 16]),
                TLS_PORT,
                B::Fixed(OPENSSL_TLS12),
                false,
                (0, 3),
                2,
            ),
            Self::BChromiumEchVlan => s(
                0,
                K::Vlan(101),
                N::V4([172, 17]),
                TLS_PORT,
                B::Fixed(CHROMIUM),
                false,
                (0, 3),
                2,
            ),
            Self::CCurlPassthrough => s(
                0,
                K::Plain,
                internet,
                TLS_PORT,
                B::Fixed(CURL_TLS13),
                false,
                (4, 40),
                6,
            ),
            Self::CPlaintextV6 => s(
                0,
                K::Plain,
                N::V6([0x2001, 0xdb8, 0xc]),
                HTTP_PORT,
                B::Fixed(HTTP1_OPENAI_MODEL_HEADER),
                false,
                (0, 4),
                2,
            ),
            Self::DGnutlsWildcard => s(
                0,
                K::Plain,
                N::V6([0x2001, 0xdb8, 0xffff]),
                TLS_PORT,
                B::Fixed(GNUTLS),
                false,
                (2, 16),
                4,
            ),
            Self::DPythonAlpn => s(
                0,
                K::Plain,
                internet,
                TLS_PORT,
                B::Fixed(PYTHON_SSL),
                false,
                (0, 3),
                2,
            ),
            Self::EOpenaiVxlan => s(
                0,
                K::Vxlan(VNI_TENANT_E),
                N::V4([172, 20]),
                HTTP_PORT,
                B::Fixed(HTTP1_OPENAI_MODEL_HEADER),
                false,
                (20, 120),
                10,
            ),
            Self::EModelNotAllowed => s(
                0,
                K::Vxlan(VNI_TENANT_E),
                N::V4([172, 20]),
                HTTP_PORT,
                B::ModelNotAllowed,
                false,
                (0, 4),
                2,
            ),
            Self::ESpoofClaim => s(
                0,
                K::Vxlan(VNI_TENANT_E),
                N::V4([172, 20]),
                HTTP_PORT,
                B::SpoofClaim,
                false,
                (0, 4),
                2,
            ),
            Self::FChromiumSplit => s(
                0,
                K::Plain,
                internet,
                TLS_PORT,
                B::Fixed(CHROMIUM),
                false,
                (2, 16),
                4,
            ),
            Self::GGrpcVxlanV6 => s(
                0,
                K::Vxlan(VNI_TENANT_G),
                N::V6([0x2001, 0xdb8, 0xe7]),
                GRPC_PORT,
                B::Fixed(GRPC_MODELINFER),
                false,
                (2, 24),
                6,
            ),
            Self::GGrpcServerLive => s(
                7,
                K::Plain,
                N::V4([10, 7]),
                GRPC_PORT,
                B::Fixed(GRPC_SERVER_LIVE),
                false,
                (0, 3),
                2,
            ),
            Self::GSpoofKserve => s(
                7,
                K::Plain,
                N::V4([10, 7]),
                HTTP_PORT,
                B::Fixed(HTTP1_KSERVE),
                false,
                (0, 4),
                3,
            ),
            Self::UnknownH2c => s(
                0,
                K::Plain,
                N::V4([198, 51]),
                HTTP_PORT,
                B::Fixed(H2C),
                false,
                (0, 4),
                3,
            ),
            Self::UnknownNoSni => s(
                0,
                K::Plain,
                internet,
                TLS_PORT,
                B::Fixed(OPENSSL_NO_SNI),
                false,
                (0, 3),
                2,
            ),
            Self::Truncated => s(
                1,
                K::Plain,
                N::V4([10, 1]),
                HTTP_PORT,
                B::Truncated,
                false,
                (0, 0),
                3,
            ),
            Self::NotIp => s(0, K::Plain, internet, 0, B::Arp, false, (0, 0), 2),
        }
    }
}

/// How a frame carries its flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// A SYN (no payload), or the FIN that ends a flow no tenant is known for.
    Handshake,
    /// A first-flight segment the request is not complete in (handed to the host while the
    /// first flight is gathered).
    FirstFlightPart,
    /// The segment that completes the first flight: the flow's decision is made here.
    FirstFlight,
    /// A later segment of the flow: it follows the flow's decision.
    Data,
    /// A frame that is not part of a flow (cut short, or not IP).
    Junk,
}

/// One generated frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrafficFrame {
    /// The frame, from the Ethernet header.
    pub bytes: Vec<u8>,
    /// The ingress port it arrives on.
    pub port: u16,
    /// Its index in [`Traffic::frames`], also its descriptor handle ([`Frame::handle`]).
    pub index: u32,
    /// Its flow, an index in [`Traffic::flows`].
    pub flow: u32,
    /// The flow's scenario.
    pub scenario: Scenario,
    /// Its place in the flow.
    pub role: Role,
}

impl TrafficFrame {
    /// What the configuration is designed to do with this frame: [`Intent::Host`] for a SYN or
    /// an incomplete first-flight segment (of a tenant's flow), else the scenario's intent.
    pub fn intent(&self) -> Intent {
        match self.role {
            Role::Handshake | Role::FirstFlightPart => Intent::Host,
            Role::FirstFlight | Role::Data | Role::Junk => self.scenario.intent(),
        }
    }
}

impl Frame for TrafficFrame {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    fn port(&self) -> u16 {
        self.port
    }
    fn handle(&self) -> u64 {
        u64::from(self.index)
    }
}

/// One generated flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowSpec {
    /// What kind of flow.
    pub scenario: Scenario,
    /// Ingress port.
    pub port: u16,
    /// Client address (the innermost source).
    pub client: IpAddr,
    /// Client TCP port.
    pub client_port: u16,
    /// Frames of the flow in the workload (a flow still running when the workload ends has
    /// fewer than it would have had).
    pub frames: u32,
}

/// Flows in progress at once in [`Traffic::mix`]: their frames interleave.
pub const ACTIVE_FLOWS: usize = 24;

/// A generated workload: frames in arrival order and the flows they belong to.
#[derive(Clone, Debug, Default)]
pub struct Traffic {
    frames: Vec<TrafficFrame>,
    flows: Vec<FlowSpec>,
}

impl Traffic {
    /// Frames in the default mix.
    pub const DEFAULT_FRAMES: usize = 100_000;

    /// The default mix of [`Traffic::DEFAULT_FRAMES`] frames (see [`Traffic::mix`]).
    pub fn new(seed: u64) -> Self {
        Self::mix(seed, Self::DEFAULT_FRAMES)
    }

    /// About `frames` frames of every [`Scenario`] (the last flows are cut where the count is
    /// reached): flows start with the scenarios' weights, [`ACTIVE_FLOWS`] at a time, and
    /// their frames interleave at random, each flow's in order.
    pub fn mix(seed: u64, frames: usize) -> Self {
        let mut g = Gen::new(seed);
        let total_weight: u32 = Scenario::ALL.iter().map(|s| s.shape().weight).sum();
        let mut active: Vec<Vec<TrafficFrame>> = Vec::with_capacity(ACTIVE_FLOWS);
        let mut out = Traffic {
            frames: Vec::with_capacity(frames + 8),
            flows: Vec::new(),
        };
        while out.frames.len() < frames {
            while active.len() < ACTIVE_FLOWS {
                let mut pick = g.rng.below(u64::from(total_weight.max(1))) as u32;
                let mut scenario = Scenario::AH2c;
                for s in Scenario::ALL {
                    let w = s.shape().weight;
                    if pick < w {
                        scenario = s;
                        break;
                    }
                    pick -= w;
                }
                let mut f = g.flow(&mut out.flows, scenario, None);
                f.reverse();
                active.push(f);
            }
            let i = g.rng.below(active.len() as u64) as usize;
            let Some(flow) = active.get_mut(i) else {
                break;
            };
            match flow.pop() {
                Some(frame) => out.push(frame),
                None => {
                    active.swap_remove(i);
                }
            }
        }
        out
    }

    /// A bench workload: `flows` flows of the [`Scenario::ADMITTED`] scenarios (round robin),
    /// whose first flights come first, once each, then `data_packets` data segments of
    /// random flows of the set (at most 8 per flow in a row, and no first-flight segment among
    /// them, so the flow table only hits).
    pub fn established_only(seed: u64, flows: usize, data_packets: usize) -> Self {
        let mut g = Gen::new(seed);
        let mut out = Traffic {
            frames: Vec::with_capacity(flows * 2 + data_packets),
            flows: Vec::with_capacity(flows),
        };
        let mut pending: Vec<Vec<TrafficFrame>> = Vec::with_capacity(flows);
        for k in 0..flows.max(1) {
            let scenario = Scenario::ADMITTED
                .get(k % Scenario::ADMITTED.len())
                .copied()
                .unwrap_or(Scenario::AH2c);
            let per_flow = data_packets.div_ceil(flows.max(1)) as u32;
            let f = g.flow(&mut out.flows, scenario, Some(per_flow));
            let (head, mut data): (Vec<_>, Vec<_>) =
                f.into_iter().partition(|fr| fr.role != Role::Data);
            for fr in head {
                out.push(fr);
            }
            data.reverse();
            pending.push(data);
        }
        let mut sent = 0;
        while sent < data_packets && !pending.is_empty() {
            let i = g.rng.below(pending.len() as u64) as usize;
            let run = 1 + g.rng.below(8) as usize;
            let mut empty = false;
            if let Some(flow) = pending.get_mut(i) {
                for _ in 0..run {
                    match flow.pop() {
                        Some(fr) if sent < data_packets => {
                            out.push(fr);
                            sent += 1;
                        }
                        Some(_) => break,
                        None => {
                            empty = true;
                            break;
                        }
                    }
                }
            }
            if empty {
                pending.swap_remove(i);
            }
        }
        out
    }

    fn push(&mut self, mut frame: TrafficFrame) {
        frame.index = self.frames.len() as u32;
        if let Some(f) = self.flows.get_mut(frame.flow as usize) {
            f.frames += 1;
        }
        self.frames.push(frame);
    }

    /// The frames, in arrival order.
    pub fn frames(&self) -> &[TrafficFrame] {
        &self.frames
    }

    /// The flows, by [`TrafficFrame::flow`].
    pub fn flows(&self) -> &[FlowSpec] {
        &self.flows
    }

    /// The flow of `frame`.
    pub fn flow_of(&self, frame: &TrafficFrame) -> Option<&FlowSpec> {
        self.flows.get(frame.flow as usize)
    }

    /// Frames of each role: handshake, first-flight part, first flight, data, junk.
    pub fn role_counts(&self) -> [usize; 5] {
        let mut c = [0usize; 5];
        for f in &self.frames {
            let i = match f.role {
                Role::Handshake => 0,
                Role::FirstFlightPart => 1,
                Role::FirstFlight => 2,
                Role::Data => 3,
                Role::Junk => 4,
            };
            if let Some(n) = c.get_mut(i) {
                *n += 1;
            }
        }
        c
    }
}

/// SplitMix64: small, fast, deterministic.
#[derive(Clone, Copy, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-enough in `0..n` (`0` when `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(u64::from(hi.saturating_sub(lo)) + 1) as u32
    }
}

#[derive(Clone, Copy, Debug)]
enum Carrier {
    Plain,
    Vlan(u16),
    Vxlan(u32),
}

#[derive(Clone, Copy, Debug)]
enum Net {
    /// A /16: two host bytes.
    V4([u8; 2]),
    /// A /48.
    V6([u16; 3]),
}

#[derive(Clone, Copy, Debug)]
enum Body {
    Fixed(&'static [u8]),
    ModelNotAllowed,
    SpoofClaim,
    Truncated,
    Arp,
}

#[derive(Clone, Copy, Debug)]
struct Shape {
    port: u16,
    carrier: Carrier,
    net: Net,
    dst_port: u16,
    body: Body,
    syn: bool,
    /// Data segments after the first flight: at least, at most.
    data: (u32, u32),
    weight: u32,
}

const TCP_SYN: u8 = 0x02;
const TCP_PSH_ACK: u8 = 0x18;
const TCP_ACK: u8 = 0x10;
const TCP_FIN_ACK: u8 = 0x11;

/// Addresses of one flow.
#[derive(Clone, Copy, Debug)]
struct Path {
    carrier: Carrier,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
}

impl Path {
    fn emit(&self, seq: u32, flags: u8, payload: &[u8]) -> Option<Vec<u8>> {
        let ip = match (self.src, self.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => IpSpec::v4(s.octets(), d.octets()),
            (IpAddr::V6(s), IpAddr::V6(d)) => IpSpec::v6(s.octets(), d.octets()),
            _ => return None,
        };
        let tag;
        let mut hop = HopSpec::new(ip);
        let mut tunnel = None;
        match self.carrier {
            Carrier::Plain => {}
            Carrier::Vlan(vid) => {
                tag = [VlanSpec {
                    tpid: EtherType::VLAN,
                    pcp: 0,
                    vid,
                }];
                hop.vlans = &tag;
            }
            Carrier::Vxlan(vni) => {
                tunnel = Some(TunnelSpec {
                    proto: TunnelProto::Vxlan { vni },
                    udp_src_port: 49152 | (self.sport & 0x3fff),
                    inner: hop,
                });
                hop = HopSpec::new(IpSpec::v4([192, 0, 2, 1], [192, 0, 2, 2]));
            }
        }
        let spec = FrameSpec {
            outer: hop,
            tunnel,
            l4: L4Spec::Tcp {
                src_port: self.sport,
                dst_port: self.dport,
                seq,
                ack: 1,
                flags,
                window: 65535,
                options: &[],
            },
            payload,
        };
        let mut buf = vec![0u8; spec.frame_len().ok()?];
        let n = emit_frame(&spec, &mut buf).ok()?;
        buf.truncate(n);
        Some(buf)
    }
}

/// The generator's state: the RNG, the crafted requests and a pool of filler bytes.
struct Gen {
    rng: SplitMix64,
    model_not_allowed: Vec<u8>,
    spoof_claim: Vec<u8>,
    filler: Vec<u8>,
    /// Added to every client host number (so seeds differ in addresses too).
    host_offset: u32,
}

fn crafted_request(claim: Option<&str>, model: &str) -> Vec<u8> {
    let body = format!(
        "{{\"model\":\"{model}\",\"messages\":[{{\"role\":\"user\",\"content\":\"hello\"}}]}}"
    );
    let mut head = String::from(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: api.infer.example\r\n\
         User-Agent: infersteer-synthetic/1\r\nContent-Type: application/json\r\n",
    );
    if let Some(c) = claim {
        head.push_str(&format!("x-gateway-inference-fairness-id: {c}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    head.push_str(&body);
    head.into_bytes()
}

impl Gen {
    fn new(seed: u64) -> Self {
        let mut rng = SplitMix64(seed);
        let filler = (0..4096).map(|_| rng.next() as u8).collect();
        let host_offset = rng.next() as u32 & 0xffff;
        Self {
            rng,
            model_not_allowed: crafted_request(None, "llama-3.1-70b-instruct"),
            spoof_claim: crafted_request(Some("tenant-a"), "mistral-7b"),
            filler,
            host_offset,
        }
    }

    /// The frames of one new flow of `scenario` (recorded in `flows`), in order; `data`
    /// overrides the number of data segments.
    fn flow(
        &mut self,
        flows: &mut Vec<FlowSpec>,
        scenario: Scenario,
        data: Option<u32>,
    ) -> Vec<TrafficFrame> {
        let shape = scenario.shape();
        let id = flows.len() as u32;
        // A unique (client address, client port) per flow.
        let sport = 1024 + (id & 0x7fff) as u16;
        let host = (id >> 15).wrapping_add(self.host_offset).wrapping_add(1);
        let (src, dst) = match shape.net {
            Net::V4([a, b]) => {
                let [_, _, c, d] = host.to_be_bytes();
                (
                    IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
                    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
                )
            }
            Net::V6([a, b, c]) => (
                IpAddr::V6(Ipv6Addr::new(
                    a,
                    b,
                    c,
                    0,
                    0,
                    0,
                    (host >> 16) as u16,
                    host as u16,
                )),
                IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 2)),
            ),
        };
        flows.push(FlowSpec {
            scenario,
            port: shape.port,
            client: src,
            client_port: sport,
            frames: 0,
        });
        let path = Path {
            carrier: shape.carrier,
            src,
            dst,
            sport,
            dport: shape.dst_port,
        };
        let frame = |bytes: Vec<u8>, role| TrafficFrame {
            bytes,
            port: shape.port,
            index: 0,
            flow: id,
            scenario,
            role,
        };
        let mut out = Vec::new();
        let isn = self.rng.next() as u32;
        let first: &[u8] = match shape.body {
            Body::Fixed(b) => b,
            Body::ModelNotAllowed => &self.model_not_allowed,
            Body::SpoofClaim => &self.spoof_claim,
            Body::Arp => {
                out.push(frame(ARP_FRAME.to_vec(), Role::Junk));
                return out;
            }
            Body::Truncated => {
                if let Some(mut bytes) = path.emit(isn, TCP_PSH_ACK, H2C) {
                    // Cut inside the IPv4 header (Ethernet is 14 bytes, IPv4 20).
                    let cut = 15 + self.rng.below(19) as usize;
                    bytes.truncate(cut);
                    out.push(frame(bytes, Role::Junk));
                }
                return out;
            }
        };
        // The flow's data segments share one payload (its length drawn per flow): the first is
        // emitted, the others are copies with the sequence number and the TCP checksum patched
        // (RFC 1624), which keeps building 100k frames cheap even without optimisation.
        let n = data.unwrap_or_else(|| self.rng.range(shape.data.0, shape.data.1));
        let len = self.rng.range(40, 600) as usize;
        let at = self.rng.below(4096 - 600) as usize;
        // Data segments are what the protocol says follows the first flight: the rest of an
        // HTTP/1.1 request's body (its Content-Length covers them), DATA frames of the HTTP/2
        // request's stream, TLS application-data records. Anything else would be a new
        // request, which the pipeline checks as one.
        let longer;
        let first: &[u8] = if n > 0 && !scenario.is_tls() && !first.starts_with(H2_PREFACE) {
            longer = with_longer_body(first, n as usize * len);
            &longer
        } else {
            first
        };
        if shape.syn {
            if let Some(b) = path.emit(isn, TCP_SYN, &[]) {
                out.push(frame(b, Role::Handshake));
            }
        }
        let mut seq = isn.wrapping_add(1);
        let split = if first.len() > CHROMIUM_SPLIT {
            CHROMIUM_SPLIT
        } else {
            first.len()
        };
        let (one, two) = first.split_at(split);
        if two.is_empty() {
            if let Some(b) = path.emit(seq, TCP_PSH_ACK, one) {
                out.push(frame(b, Role::FirstFlight));
            }
        } else {
            if let Some(b) = path.emit(seq, TCP_ACK, one) {
                out.push(frame(b, Role::FirstFlightPart));
            }
            if let Some(b) = path.emit(seq.wrapping_add(one.len() as u32), TCP_PSH_ACK, two) {
                out.push(frame(b, Role::FirstFlight));
            }
        }
        seq = seq.wrapping_add(first.len() as u32);
        // A flow of the mix ends as a client's connection does, with a FIN after its last
        // byte (the pipeline then forgets it); a bench's flows stay open.
        let fin = |seq: u32, out: &mut Vec<TrafficFrame>| {
            if data.is_none() {
                // A FIN of a flow no trusted attribute names is, like a SYN, a segment
                // without a request from nobody: the host's.
                let role = if scenario.tenant().is_some() {
                    Role::Data
                } else {
                    Role::Handshake
                };
                if let Some(b) = path.emit(seq, TCP_FIN_ACK, &[]) {
                    out.push(frame(b, role));
                }
            }
        };
        if n == 0 {
            fin(seq, &mut out);
            return out;
        }
        let mut payload = Vec::with_capacity(len);
        if scenario.is_tls() {
            // A TLS application-data record header, then ciphertext-looking bytes.
            let rec = (len as u16).saturating_sub(5);
            payload.extend_from_slice(&[0x17, 0x03, 0x03]);
            payload.extend_from_slice(&rec.to_be_bytes());
        } else if first.starts_with(H2_PREFACE) {
            // A DATA frame on the request's stream (1 in every HTTP/2 capture here).
            let body = (len as u32).saturating_sub(9);
            payload.extend_from_slice(&body.to_be_bytes()[1..]);
            payload.extend_from_slice(&[0, 0, 0, 0, 0, 1]);
        }
        let rest = len.saturating_sub(payload.len());
        payload.extend_from_slice(self.filler.get(at..at + rest).unwrap_or(&[]));
        let Some(template) = path.emit(seq, TCP_PSH_ACK, &payload) else {
            return out;
        };
        let seq_at = tcp_seq_offset(&template);
        for k in 0..n {
            let mut bytes = template.clone();
            let next = seq.wrapping_add(k.wrapping_mul(payload.len() as u32));
            if let Some(at) = seq_at {
                patch_seq(&mut bytes, at, next);
            }
            out.push(frame(bytes, Role::Data));
        }
        fin(
            seq.wrapping_add(n.wrapping_mul(payload.len() as u32)),
            &mut out,
        );
        out
    }
}

/// An HTTP/1.1 request whose Content-Length is `extra` bytes longer (its body continues in
/// the flow's data segments); other bytes unchanged.
fn with_longer_body(request: &[u8], extra: usize) -> Vec<u8> {
    let head_end = request
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(request.len());
    let head = request.get(..head_end).unwrap_or(request);
    let name = b"content-length:";
    let Some(at) = head
        .windows(name.len())
        .position(|w| w.eq_ignore_ascii_case(name))
    else {
        return request.to_vec();
    };
    let value_start = at + name.len();
    let line_end = head
        .get(value_start..)
        .and_then(|v| v.iter().position(|&b| b == b'\r'))
        .map_or(head.len(), |p| value_start + p);
    let old: usize = core::str::from_utf8(head.get(value_start..line_end).unwrap_or(&[]))
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut out = request.get(..value_start).unwrap_or(&[]).to_vec();
    out.extend_from_slice(format!(" {}", old + extra).as_bytes());
    out.extend_from_slice(request.get(line_end..).unwrap_or(&[]));
    out
}

/// The innermost TCP header's flags of `frame`.
#[cfg(test)]
fn tcp_flags(frame: &[u8]) -> Option<u8> {
    let summary = crate::wire::parse_frame(frame).ok()?;
    let l4 = summary.innermost().l4?;
    frame.get(usize::from(l4.offset) + 13).copied()
}

/// Where the innermost TCP header's sequence number is in `frame`.
fn tcp_seq_offset(frame: &[u8]) -> Option<usize> {
    let summary = crate::wire::parse_frame(frame).ok()?;
    let l4 = summary.innermost().l4?;
    Some(usize::from(l4.offset) + 4)
}

/// Rewrites the TCP sequence number at `at` to `seq` and updates the TCP checksum (12 bytes
/// further) incrementally (RFC 1624, eqn. 3). The one's-complement sum of the segment is
/// unchanged, so an outer UDP checksum that covers it (VXLAN) stays valid too.
fn patch_seq(frame: &mut [u8], at: usize, seq: u32) {
    let (Some(old), Some(old_sum)) = (
        frame
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok()),
        frame
            .get(at + 12..at + 14)
            .and_then(|b| <[u8; 2]>::try_from(b).ok()),
    ) else {
        return;
    };
    let old = u32::from_be_bytes(old);
    let mut acc = u32::from(!u16::from_be_bytes(old_sum));
    for (o, n) in [(old >> 16, seq >> 16), (old & 0xffff, seq & 0xffff)] {
        acc += u32::from(!(o as u16)) + n;
    }
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    let sum = !(acc as u16);
    if let Some(b) = frame.get_mut(at..at + 4) {
        b.copy_from_slice(&seq.to_be_bytes());
    }
    if let Some(b) = frame.get_mut(at + 12..at + 14) {
        b.copy_from_slice(&sum.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::l7::{Classifier, ClassifyConfig, RequestKind};
    use crate::policy::PolicyTable;
    use crate::steer::SteerTable;
    use crate::wire;

    #[test]
    fn the_config_builds() {
        let (policy, steer) = pop_config();
        let p = PolicyTable::build(&policy).unwrap();
        let s = SteerTable::build(&steer).unwrap();
        assert_eq!(p.tenant_count(), TENANTS.len());
        assert_eq!(s.queue_count(), 12);
        for (i, t) in TENANTS.iter().enumerate() {
            assert_eq!(policy.tenants[i].name, *t);
        }
        assert_eq!(steer.model_pools.len(), MODELS.len());
    }

    #[test]
    fn the_generator_is_deterministic() {
        let a = Traffic::mix(7, 5_000);
        let b = Traffic::mix(7, 5_000);
        let c = Traffic::mix(8, 5_000);
        assert_eq!(a.frames(), b.frames());
        assert_eq!(a.flows(), b.flows());
        assert_ne!(a.frames(), c.frames());
        assert!(a.frames().len() >= 5_000);
        for (i, f) in a.frames().iter().enumerate() {
            assert_eq!(f.index as usize, i);
            assert_eq!(a.flow_of(f).unwrap().scenario, f.scenario);
        }
    }

    #[test]
    fn the_mix_holds_every_scenario_and_role() {
        let t = Traffic::new(1);
        for s in Scenario::ALL {
            assert!(
                t.frames().iter().any(|f| f.scenario == s),
                "{} missing",
                s.name()
            );
        }
        let roles = t.role_counts();
        assert!(roles.iter().all(|&n| n > 0), "{roles:?}");
    }

    #[test]
    fn every_frame_parses_or_is_meant_to_be_junk() {
        let t = Traffic::mix(3, 20_000);
        let mut classifier = Classifier::new(ClassifyConfig::default());
        for f in t.frames() {
            let parsed = wire::parse_frame(&f.bytes);
            match f.scenario {
                Scenario::Truncated => assert!(parsed.is_err(), "{f:?}"),
                Scenario::NotIp => assert!(parsed.unwrap().tuple.is_none()),
                _ => {
                    let s = parsed.unwrap_or_else(|e| panic!("{}: {e:?}", f.scenario.name()));
                    let tuple = s.tuple.unwrap();
                    assert_eq!(tuple.src_addr(), t.flow_of(f).unwrap().client);
                    let payload = s.payload(&f.bytes);
                    match f.role {
                        Role::Handshake => assert!(payload.is_empty()),
                        Role::FirstFlight
                            if f.scenario.tenant().is_some() || f.scenario.is_tls() =>
                        {
                            if f.scenario == Scenario::FChromiumSplit
                                || f.scenario == Scenario::BChromiumEchVlan
                            {
                                assert_eq!(payload, &CHROMIUM[CHROMIUM_SPLIT..]);
                            } else {
                                let info = classifier.classify(payload).unwrap();
                                assert_ne!(
                                    info.kind,
                                    RequestKind::Unknown,
                                    "{}",
                                    f.scenario.name()
                                );
                                assert_eq!(info.kind == RequestKind::Tls, f.scenario.is_tls());
                            }
                        }
                        Role::FirstFlightPart => assert_eq!(payload, &CHROMIUM[..CHROMIUM_SPLIT]),
                        // Data segments carry bytes, but the FIN that ends a flow.
                        _ => assert!(
                            !payload.is_empty()
                                || f.role != Role::Data
                                || tcp_flags(&f.bytes) == Some(TCP_FIN_ACK)
                        ),
                    }
                }
            }
        }
    }

    #[test]
    fn the_split_hello_has_consecutive_sequence_numbers() {
        let t = Traffic::mix(5, 20_000);
        let seq = |f: &TrafficFrame| {
            let s = wire::parse_frame(&f.bytes).unwrap();
            let at = usize::from(s.innermost().l4.unwrap().offset) + 4;
            u32::from_be_bytes(f.bytes[at..at + 4].try_into().unwrap())
        };
        let mut checked = 0;
        for part in t
            .frames()
            .iter()
            .filter(|f| f.role == Role::FirstFlightPart)
        {
            let rest = t
                .frames()
                .iter()
                .find(|f| f.flow == part.flow && f.role == Role::FirstFlight);
            if let Some(rest) = rest {
                assert!(rest.index > part.index);
                assert_eq!(seq(rest), seq(part).wrapping_add(CHROMIUM_SPLIT as u32));
                checked += 1;
            }
        }
        assert!(checked > 0);
    }

    #[test]
    fn established_only_sends_each_first_flight_once() {
        let t = Traffic::established_only(9, 60, 10_000);
        let firsts = t
            .frames()
            .iter()
            .filter(|f| f.role == Role::FirstFlight)
            .count();
        assert_eq!(firsts, 60);
        let data = t.frames().iter().filter(|f| f.role == Role::Data).count();
        assert_eq!(data, 10_000);
        // Every first-flight frame comes before every data frame.
        let last_first = t
            .frames()
            .iter()
            .rposition(|f| f.role != Role::Data)
            .unwrap();
        let first_data = t
            .frames()
            .iter()
            .position(|f| f.role == Role::Data)
            .unwrap();
        assert!(last_first < first_data);
        assert!(t
            .frames()
            .iter()
            .all(|f| Scenario::ADMITTED.contains(&f.scenario)));
    }
    #[test]
    fn patched_data_segments_equal_emitted_ones() {
        let mut rng = SplitMix64(11);
        let v4 = |a, b, c, d| IpAddr::V4(Ipv4Addr::new(a, b, c, d));
        let v6 = |x| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, x, 0, 0, 0, 0, 1));
        let paths = [
            (Carrier::Plain, v4(10, 1, 0, 1), v4(10, 0, 0, 2)),
            (Carrier::Vlan(100), v4(172, 16, 0, 1), v4(10, 0, 0, 2)),
            (Carrier::Vxlan(5001), v4(172, 20, 0, 1), v4(10, 0, 0, 2)),
            (Carrier::Vxlan(7007), v6(0xe7), v6(0x100)),
            (Carrier::Plain, v6(0xa), v6(0x100)),
        ];
        for (carrier, src, dst) in paths {
            let path = Path {
                carrier,
                src,
                dst,
                sport: 40000,
                dport: 8000,
            };
            for len in [1usize, 40, 333, 600] {
                let payload: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                let base = rng.next() as u32;
                let template = path.emit(base, TCP_PSH_ACK, &payload).unwrap();
                let at = tcp_seq_offset(&template).unwrap();
                for seq in [0, 1, base.wrapping_add(1), u32::MAX, rng.next() as u32] {
                    let mut patched = template.clone();
                    patch_seq(&mut patched, at, seq);
                    assert_eq!(patched, path.emit(seq, TCP_PSH_ACK, &payload).unwrap());
                }
            }
        }
    }
}
