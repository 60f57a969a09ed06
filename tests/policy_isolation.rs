//! Tenant isolation, checked against an independent oracle.
//!
//! For hundreds of random configurations (overlapping prefixes, wildcard SNI names, tenants with
//! claims, models and pools of their own) and thousands of random frames each (real frames built
//! by the emitter: VLAN tags, VXLAN tunnels with known and unknown VNIs, IPv4 and IPv6, TLS
//! hellos and plaintext requests with honest, spoofed and unknown claims and models), a small
//! oracle written from the rules (linear scans, no hashing) says which tenant each frame belongs
//! to and what it may use. The test fails on any disagreement and counts *isolation violations*:
//! frames admitted to a tenant other than the oracle's, or to a model or pool set its tenant may
//! not use. It prints how many configurations and frames it checked.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a broken setup may panic in tests

use infersteer::l7::{FixedStr, RequestInfo, RequestKind};
use infersteer::policy::{
    Admission, Attribute, IpPrefix, PolicyConfig, PolicyTable, TenantConfig, TenantId, Trusted,
};
use infersteer::verdict::{DropReason, TlsHint};
use infersteer::wire::emit::{
    emit_frame, FrameSpec, HopSpec, IpSpec, L4Spec, TunnelProto, TunnelSpec, VlanSpec,
};
use infersteer::wire::ethernet::EtherType;
use infersteer::wire::parse_frame;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const CONFIGS: usize = 300;
const FRAMES_PER_CONFIG: usize = 2000;

/// SplitMix64: a small seeded generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const LABELS: [&str; 6] = ["api", "eu", "us", "gpu", "a", "b"];

fn sni_universe() -> Vec<String> {
    let mut v = Vec::new();
    for t in 0..6 {
        let base = format!("t{t}.infer.example");
        v.push(base.clone());
        for l in LABELS {
            v.push(format!("{l}.{base}"));
            for l2 in ["x", "eu"] {
                v.push(format!("{l2}.{l}.{base}"));
            }
        }
    }
    v
}

fn v4_addr(r: &mut Rng) -> u32 {
    u32::from_be_bytes([10, r.below(3) as u8, r.below(4) as u8, r.below(256) as u8])
}

fn v6_addr(r: &mut Rng) -> u128 {
    let mut b = [0u8; 16];
    b[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    b[5] = r.below(3) as u8;
    b[7] = r.below(3) as u8;
    b[15] = r.below(256) as u8;
    u128::from_be_bytes(b)
}

fn mask4(a: u32, len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        a & (u32::MAX << (32 - u32::from(len)))
    }
}

fn mask6(a: u128, len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        a & (u128::MAX << (128 - u32::from(len)))
    }
}

fn random_config(r: &mut Rng, snis: &[String]) -> PolicyConfig {
    let n_models = 1 + r.below(6) as usize;
    let models: Vec<String> = (0..n_models).map(|m| format!("model-{m}")).collect();
    let pools = 1 + r.below(8) as u8;
    let n_tenants = 1 + r.below(12) as usize;
    let mut used_ports = HashSet::new();
    let mut used_vlans = HashSet::new();
    let mut used_vnis = HashSet::new();
    let mut used_v4 = HashSet::new();
    let mut used_v6 = HashSet::new();
    let mut used_sni = HashSet::new();
    let mut tenants = Vec::new();
    for t in 0..n_tenants {
        let mut tc = TenantConfig::new(&format!("tenant-{t}"));
        if r.chance(30) {
            tc.claims = vec![format!("tenant-{t}"), format!("alias-{t}")];
        }
        for _ in 0..r.below(3) {
            let p = r.below(16) as u16;
            if used_ports.insert(p) {
                tc.identity.ports.push(p);
            }
        }
        for _ in 0..r.below(3) {
            let v = 1 + r.below(20) as u16;
            if used_vlans.insert(v) {
                tc.identity.vlans.push(v);
            }
        }
        for _ in 0..r.below(4) {
            let v = 1 + r.below(30) as u32;
            if used_vnis.insert(v) {
                tc.identity.vnis.push(v);
            }
        }
        for _ in 0..r.below(5) {
            let len = *r.pick(&[8u8, 12, 16, 20, 24, 28, 32]);
            let a = mask4(v4_addr(r), len);
            if used_v4.insert((a, len)) {
                tc.identity
                    .prefixes
                    .push(IpPrefix::new(IpAddr::V4(Ipv4Addr::from(a)), len));
            }
        }
        for _ in 0..r.below(3) {
            let len = *r.pick(&[32u8, 48, 56, 64, 128]);
            let a = mask6(v6_addr(r), len);
            if used_v6.insert((a, len)) {
                tc.identity
                    .prefixes
                    .push(IpPrefix::new(IpAddr::V6(Ipv6Addr::from(a)), len));
            }
        }
        for _ in 0..r.below(4) {
            let base = r.pick(snis).clone();
            let name = if r.chance(50) {
                format!("*.{base}")
            } else {
                base
            };
            if used_sni.insert(name.to_ascii_lowercase()) {
                tc.identity.sni.push(name);
            }
        }
        if r.chance(15) {
            tc.models.push("*".into());
        } else {
            for m in &models {
                if r.chance(40) {
                    tc.models.push(m.clone());
                }
            }
        }
        let allowed: Vec<&String> = if tc.models.iter().any(|m| m == "*") {
            models.iter().collect()
        } else {
            tc.models.iter().collect()
        };
        if !allowed.is_empty() && r.chance(50) {
            tc.default_model = Some((*r.pick(&allowed)).clone());
        }
        for p in 0..pools {
            if r.chance(40) {
                tc.pools.push(p);
            }
        }
        tc.tls.require_tls = r.chance(30);
        tc.tls.min_version = *r.pick(&[0x0301u16, 0x0303, 0x0304]);
        tc.tls.require_sni = r.chance(30);
        tc.tls.allow_ech = r.chance(50);
        if r.chance(30) {
            tc.tls.alpn = vec!["h2".into()];
        }
        tc.tls.terminate = *r.pick(&[
            infersteer::policy::Termination::Dpu,
            infersteer::policy::Termination::Host,
            infersteer::policy::Termination::Passthrough,
        ]);
        tenants.push(tc);
    }
    let mut precedence = Attribute::DEFAULT_PRECEDENCE.to_vec();
    if r.chance(50) {
        // A random order, sometimes leaving attributes out.
        for i in (1..precedence.len()).rev() {
            let j = r.below(i as u64 + 1) as usize;
            precedence.swap(i, j);
        }
        precedence.truncate(2 + r.below(4) as usize);
    }
    PolicyConfig {
        tenants,
        models,
        pools,
        precedence,
        ..PolicyConfig::default()
    }
}

/// One random frame's inputs.
struct Sample {
    port: u16,
    vlan: Option<u16>,
    vni: Option<u32>,
    src: IpAddr,
    req: RequestInfo,
}

fn random_sample(r: &mut Rng, c: &PolicyConfig, snis: &[String]) -> Sample {
    let port = r.below(20) as u16;
    let vlan = r.chance(40).then(|| 1 + r.below(24) as u16);
    let vni = r.chance(50).then(|| 1 + r.below(36) as u32);
    let src = if r.chance(70) {
        IpAddr::V4(Ipv4Addr::from(v4_addr(r)))
    } else {
        IpAddr::V6(Ipv6Addr::from(v6_addr(r)))
    };
    let mut req = RequestInfo::default();
    if r.chance(45) {
        req.kind = RequestKind::Tls;
        if r.chance(85) {
            let mut name = r.pick(snis).clone();
            if r.chance(20) {
                name = name.to_ascii_uppercase();
            }
            if r.chance(10) {
                name = format!("zz.{name}");
            }
            req.sni = FixedStr::new(name.as_bytes());
        }
        const VERSIONS: [&[u16]; 4] = [&[0x0304, 0x0303], &[0x0303], &[0x0301], &[]];
        let versions = *r.pick(&VERSIONS);
        req.versions[..versions.len()].copy_from_slice(versions);
        req.versions_len = versions.len() as u8;
        const ALPNS: [&[&str]; 3] = [&["h2", "http/1.1"], &["http/1.1"], &[]];
        let alpn = *r.pick(&ALPNS);
        for (i, a) in alpn.iter().enumerate() {
            req.alpn[i] = FixedStr::new(a.as_bytes());
        }
        req.alpn_len = alpn.len() as u8;
        req.ech = r.chance(30);
    } else {
        req.kind = *r.pick(&[RequestKind::Http1, RequestKind::H2, RequestKind::Grpc]);
        if r.chance(10) {
            req.kind = RequestKind::Unknown;
        }
        let n = c.tenants.len() as u64;
        let claim = match r.below(5) {
            0 => String::new(),
            1 | 2 => format!("tenant-{}", r.below(n + 1)),
            3 => format!("alias-{}", r.below(n + 1)),
            _ => "mallory".into(),
        };
        req.tenant_claim = FixedStr::new(claim.as_bytes());
        let model = match r.below(4) {
            0 => String::new(),
            3 => "gpt-unknown".into(),
            _ => r.pick(&c.models).clone(),
        };
        req.model = FixedStr::new(model.as_bytes());
    }
    Sample {
        port,
        vlan,
        vni,
        src,
        req,
    }
}

/// Builds the sample's frame with the emitter (VLAN tag on the outer frame, VXLAN tunnel when
/// there is a VNI, the source address on the innermost packet) and parses it back.
fn frame_attrs(s: &Sample, buf: &mut [u8]) -> infersteer::wire::FrameSummary {
    let tags = s.vlan.map(|vid| VlanSpec {
        tpid: EtherType::VLAN,
        pcp: 0,
        vid,
    });
    let tags_slice: &[VlanSpec] = match &tags {
        Some(t) => std::slice::from_ref(t),
        None => &[],
    };
    let ip = |src: IpAddr| match src {
        IpAddr::V4(a) => IpSpec::v4(a.octets(), [10, 200, 0, 1]),
        IpAddr::V6(a) => IpSpec::v6(a.octets(), Ipv6Addr::LOCALHOST.octets()),
    };
    let l4 = L4Spec::Tcp {
        src_port: 40000,
        dst_port: 443,
        seq: 1,
        ack: 0,
        flags: 0x18,
        window: 1000,
        options: &[],
    };
    let spec = match s.vni {
        Some(vni) => FrameSpec {
            outer: HopSpec {
                vlans: tags_slice,
                ..HopSpec::new(IpSpec::v4([192, 0, 2, 1], [192, 0, 2, 2]))
            },
            tunnel: Some(TunnelSpec {
                proto: TunnelProto::Vxlan { vni },
                udp_src_port: 50000,
                inner: HopSpec::new(ip(s.src)),
            }),
            l4,
            payload: b"x",
        },
        None => FrameSpec {
            outer: HopSpec {
                vlans: tags_slice,
                ..HopSpec::new(ip(s.src))
            },
            tunnel: None,
            l4,
            payload: b"x",
        },
    };
    let len = emit_frame(&spec, buf).unwrap();
    parse_frame(&buf[..len]).unwrap()
}

/// The oracle: the rules, written as linear scans over the configuration.
fn oracle_tenant(c: &PolicyConfig, s: &Sample) -> Option<usize> {
    let order: &[Attribute] = if c.precedence.is_empty() {
        &Attribute::DEFAULT_PRECEDENCE
    } else {
        &c.precedence
    };
    for a in order {
        let hit = match a {
            Attribute::Port => c
                .tenants
                .iter()
                .position(|t| t.identity.ports.contains(&s.port)),
            Attribute::Vlan => s
                .vlan
                .and_then(|v| c.tenants.iter().position(|t| t.identity.vlans.contains(&v))),
            Attribute::Vni => s
                .vni
                .and_then(|v| c.tenants.iter().position(|t| t.identity.vnis.contains(&v))),
            Attribute::SourcePrefix => {
                let mut best: Option<(u8, usize)> = None;
                for (ti, t) in c.tenants.iter().enumerate() {
                    for p in &t.identity.prefixes {
                        let inside = match (p.addr, s.src) {
                            (IpAddr::V4(pa), IpAddr::V4(sa)) => {
                                mask4(u32::from(sa), p.len) == u32::from(pa)
                            }
                            (IpAddr::V6(pa), IpAddr::V6(sa)) => {
                                mask6(u128::from(sa), p.len) == u128::from(pa)
                            }
                            _ => false,
                        };
                        if inside && best.map_or(true, |(l, _)| p.len > l) {
                            best = Some((p.len, ti));
                        }
                    }
                }
                best.map(|(_, t)| t)
            }
            Attribute::Sni => {
                if s.req.kind != RequestKind::Tls || s.req.sni.is_empty() {
                    None
                } else {
                    let name = String::from_utf8_lossy(s.req.sni.as_bytes()).to_ascii_lowercase();
                    let exact = c.tenants.iter().position(|t| {
                        t.identity
                            .sni
                            .iter()
                            .any(|n| !n.starts_with('*') && n.to_ascii_lowercase() == name)
                    });
                    exact.or_else(|| {
                        let mut best: Option<(usize, usize)> = None;
                        for (ti, t) in c.tenants.iter().enumerate() {
                            for n in &t.identity.sni {
                                if let Some(suffix) = n.strip_prefix('*') {
                                    let suffix = suffix.to_ascii_lowercase();
                                    if name.len() > suffix.len()
                                        && name.ends_with(&suffix)
                                        && best.map_or(true, |(l, _)| suffix.len() > l)
                                    {
                                        best = Some((suffix.len(), ti));
                                    }
                                }
                            }
                        }
                        best.map(|(_, t)| t)
                    })
                }
            }
        };
        if hit.is_some() {
            return hit;
        }
    }
    None
}

fn allowed_models(c: &PolicyConfig, t: usize) -> Vec<usize> {
    let tc = &c.tenants[t];
    (0..c.models.len())
        .filter(|&m| tc.models.iter().any(|x| x == "*" || *x == c.models[m]))
        .collect()
}

/// The oracle's admission: what the tenant may do with this request.
fn oracle_admit(
    c: &PolicyConfig,
    t: usize,
    req: &RequestInfo,
) -> Result<Option<usize>, DropReason> {
    let tc = &c.tenants[t];
    let claim = String::from_utf8_lossy(req.tenant_claim.as_bytes()).to_string();
    if !claim.is_empty() {
        let owner = c.tenants.iter().position(|x| {
            if x.claims.is_empty() {
                x.name == claim
            } else {
                x.claims.contains(&claim)
            }
        });
        if owner != Some(t) {
            return Err(DropReason::SpoofedTenant);
        }
    }
    let default = tc
        .default_model
        .as_ref()
        .and_then(|d| c.models.iter().position(|m| m == d));
    if req.kind == RequestKind::Tls {
        let top = req.versions().iter().copied().max().unwrap_or(0);
        if top < tc.tls.min_version {
            return Err(DropReason::TlsVersion);
        }
        if tc.tls.require_sni && req.sni.is_empty() {
            return Err(DropReason::SniMissing);
        }
        if !tc.tls.alpn.is_empty()
            && !req
                .alpn()
                .iter()
                .any(|a| tc.tls.alpn.iter().any(|x| x.as_bytes() == a.as_bytes()))
        {
            return Err(DropReason::AlpnNotAllowed);
        }
        if req.ech && !tc.tls.allow_ech {
            return Err(DropReason::EchNotAllowed);
        }
        return match tc.tls.terminate {
            infersteer::policy::Termination::Passthrough => {
                default.map(Some).ok_or(DropReason::NoModel)
            }
            _ => Ok(None),
        };
    }
    if tc.tls.require_tls {
        return Err(DropReason::TlsRequired);
    }
    if req.kind == RequestKind::Unknown {
        return Ok(None);
    }
    let name = String::from_utf8_lossy(req.model.as_bytes()).to_string();
    if name.is_empty() {
        return default.map(Some).ok_or(DropReason::NoModel);
    }
    let m = c
        .models
        .iter()
        .position(|x| *x == name)
        .ok_or(DropReason::UnknownModel)?;
    if allowed_models(c, t).contains(&m) {
        Ok(Some(m))
    } else {
        Err(DropReason::ModelNotAllowed)
    }
}

fn pools_of(c: &PolicyConfig, t: usize) -> u64 {
    c.tenants[t].pools.iter().fold(0, |acc, p| acc | (1 << p))
}

#[test]
fn no_frame_reaches_a_model_or_pool_its_tenant_may_not_use() {
    let seed = std::env::var("INFERSTEER_ISOLATION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x0150_1A7E_u64);
    let mut r = Rng(seed);
    let snis = sni_universe();
    let mut buf = [0u8; 256];
    let (mut configs, mut frames, mut admitted, mut resolved, mut violations, mut mismatches) =
        (0usize, 0usize, 0usize, 0usize, 0usize, 0usize);
    let mut drops = std::collections::BTreeMap::<&'static str, usize>::new();
    for _ in 0..CONFIGS {
        let c = random_config(&mut r, &snis);
        let table = PolicyTable::build(&c).unwrap_or_else(|e| panic!("config refused: {e}"));
        configs += 1;
        for _ in 0..FRAMES_PER_CONFIG {
            let s = random_sample(&mut r, &c, &snis);
            let summary = frame_attrs(&s, &mut buf);
            let trusted = Trusted::from_frame(s.port, &summary).with_request(&s.req);
            frames += 1;
            let got = table.resolve(&trusted);
            let want = oracle_tenant(&c, &s);
            if got.map(|t| t.0 as usize) != want {
                mismatches += 1;
                eprintln!("resolve mismatch: got {got:?} want {want:?} (port {}, vlan {:?}, vni {:?}, src {}, sni {:?})",
                    s.port, s.vlan, s.vni, s.src, s.req.sni);
                continue;
            }
            let Some(t) = want else {
                *drops.entry(DropReason::UnknownTenant.name()).or_default() += 1;
                continue;
            };
            resolved += 1;
            let got = table.admit(TenantId(t as u32), &s.req);
            let want = oracle_admit(&c, t, &s.req);
            match (&got, &want) {
                (
                    Ok(Admission {
                        tenant,
                        model,
                        pools,
                        hint,
                        ..
                    }),
                    Ok(wm),
                ) => {
                    admitted += 1;
                    let model = model.map(|m| m.0 as usize);
                    if model != *wm {
                        mismatches += 1;
                        eprintln!("model mismatch: got {model:?} want {wm:?} for {:?}", s.req);
                    }
                    let bad_model = model.is_some_and(|m| !allowed_models(&c, t).contains(&m));
                    let bad_pools = pools.0 & !pools_of(&c, t) != 0;
                    if tenant.0 as usize != t || bad_model || bad_pools {
                        violations += 1;
                    }
                    if s.req.kind != RequestKind::Tls {
                        assert_eq!(*hint, TlsHint::Plaintext);
                    }
                }
                (Err(g), Err(w)) if g == w => {
                    *drops.entry(g.name()).or_default() += 1;
                }
                _ => {
                    mismatches += 1;
                    eprintln!("admit mismatch: got {got:?} want {want:?} for {:?}", s.req);
                }
            }
        }
    }
    println!(
        "isolation: {configs} configs, {frames} frames checked; {resolved} resolved to a tenant, \
         {admitted} admitted; {violations} isolation violations, {mismatches} oracle mismatches"
    );
    println!("isolation: drops by reason {drops:?}");
    assert_eq!(violations, 0);
    assert_eq!(mismatches, 0);
    assert!(configs >= 100 && frames >= 100 * 1000);
    // The generator must exercise every path, or the test proves little.
    assert!(admitted > frames / 20, "too few admissions: {admitted}");
    for r in [
        "unknown_tenant",
        "spoofed_tenant",
        "model_not_allowed",
        "unknown_model",
        "tls_required",
        "tls_version",
        "sni_missing",
        "alpn_not_allowed",
        "ech_not_allowed",
    ] {
        assert!(
            drops.get(r).copied().unwrap_or(0) > 0,
            "no {r} drop was exercised"
        );
    }
}
