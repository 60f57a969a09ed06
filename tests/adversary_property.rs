//! The adversarial property: random configurations × honest random traffic interleaved with
//! attacker frames (identities swapped onto other tenants' 5-tuples, spoofed SNI and claims,
//! fragments of honest flows, floods of partial first flights and junk from unknown senders,
//! out-of-order and overlapping segments, clock steps back and forth). After every run:
//! no frame is counted, policed or steered as another tenant's (each frame's tenant is the one
//! its trusted attributes name, by an independent model of the precedence), no honest request
//! or body segment is refused, and the counters balance.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use common::world::*;
use infersteer::pipeline::{PipelineConfig, Verdict};
use infersteer::policy::{IpPrefix, PolicyConfig, RateLimit, TenantConfig};

/// splitmix64: a seeded, portable stream.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ident {
    Port(u16),
    Vlan(u16),
    Vni(u32),
    Prefix(u8), // 10.<n>.0.0/16
}

struct Tenant {
    ident: Ident,
    models: Vec<&'static str>,
    sni: String,
}

/// The test's own model of identity: which tenant the trusted attributes of a frame name
/// (port, then a configured VNI, then the outer VLAN, then the source prefix, then SNI).
struct Oracle {
    ports: HashMap<u16, u32>,
    vnis: HashMap<u32, u32>,
    vlans: HashMap<u16, u32>,
    prefixes: HashMap<u8, u32>,
    snis: HashMap<String, u32>,
}

impl Oracle {
    fn owner(&self, p: &Pkt, sni: Option<&str>) -> Option<u32> {
        if let Some(&t) = self.ports.get(&p.port) {
            return Some(t);
        }
        let trusted_tunnel = p.tunnel.filter(|(vni, _)| self.vnis.contains_key(vni));
        if let Some((vni, _)) = trusted_tunnel {
            return self.vnis.get(&vni).copied();
        }
        if let Some(&t) = p.vlans.first().and_then(|v| self.vlans.get(v)) {
            return Some(t);
        }
        let src = match (p.tunnel, trusted_tunnel) {
            (Some((_, outer)), None) => outer,
            _ => p.src,
        };
        if src[0] == 10 {
            if let Some(&t) = self.prefixes.get(&src[1]) {
                return Some(t);
            }
        }
        sni.and_then(|s| self.snis.get(s).copied())
    }
}

/// What the test knows of a frame it sent.
#[derive(Clone, Copy, Debug)]
struct Label {
    owner: Option<u32>,
    honest: bool,
}

const ALL_MODELS: [&str; 3] = ["llama", "mistral", "secret"];

fn random_config(rng: &mut Rng) -> Vec<Tenant> {
    let n = 2 + rng.below(4) as usize;
    let mut used_ports = Vec::new();
    (0..n)
        .map(|k| {
            let ident = match rng.below(4) {
                0 => {
                    let mut p = 1 + rng.below(40) as u16;
                    while used_ports.contains(&p) {
                        p += 1;
                    }
                    used_ports.push(p);
                    Ident::Port(p)
                }
                1 => Ident::Vlan(100 + k as u16),
                2 => Ident::Vni(5000 + k as u32),
                _ => Ident::Prefix(10 + k as u8),
            };
            let mut models: Vec<&'static str> = ALL_MODELS
                .iter()
                .copied()
                .filter(|_| rng.chance(60))
                .collect();
            if models.is_empty() {
                models.push(ALL_MODELS[rng.below(3) as usize]);
            }
            Tenant {
                ident,
                models,
                sni: format!("t{k}.example"),
            }
        })
        .collect()
}

fn policy(tenants: &[Tenant]) -> PolicyConfig {
    let cfgs = tenants
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let mut c = TenantConfig::new(&format!("t{k}"));
            match t.ident {
                Ident::Port(p) => c.identity.ports = vec![p],
                Ident::Vlan(v) => c.identity.vlans = vec![v],
                Ident::Vni(v) => c.identity.vnis = vec![v],
                Ident::Prefix(n) => {
                    c.identity.prefixes =
                        vec![IpPrefix::new(IpAddr::V4(Ipv4Addr::new(10, n, 0, 0)), 16)]
                }
            }
            c.identity.sni = vec![t.sni.clone()];
            c.models = t.models.iter().map(|m| m.to_string()).collect();
            c.default_model = Some(t.models[0].to_string());
            let mut pools: Vec<u8> = t
                .models
                .iter()
                .flat_map(|m| match *m {
                    "llama" => vec![0, 3],
                    "mistral" => vec![1],
                    _ => vec![2],
                })
                .collect();
            pools.sort_unstable();
            pools.dedup();
            c.pools = pools;
            c.max_in_flight = 1 << 20;
            c.rate = RateLimit::UNLIMITED;
            c
        })
        .collect();
    let mut p = policy_config(cfgs);
    p.tunnel_endpoints = Vec::new();
    p
}

/// A frame bearing tenant `t`'s identity (from source `host`, port `sport`).
fn with_ident(ident: Ident, host: u16, sport: u16, payload: &[u8]) -> Pkt {
    let far = [198, 18, (host >> 8) as u8, host as u8];
    match ident {
        Ident::Port(p) => Pkt::tcp(far, sport, payload).port(p),
        Ident::Vlan(v) => Pkt::tcp(far, sport, payload).vlan(&[v]),
        Ident::Vni(v) => Pkt::tcp(far, sport, payload).vxlan(v, [203, 0, 113, 1]),
        Ident::Prefix(n) => Pkt::tcp([10, n, (host >> 8) as u8, host as u8], sport, payload),
    }
}

/// Re-dresses `p` (same 5-tuple) in another identity.
fn redress(p: &Pkt, ident: Option<Ident>) -> Pkt {
    let mut q = p.clone();
    q.port = 0;
    q.vlans.clear();
    q.tunnel = None;
    match ident {
        Some(Ident::Port(x)) => q.port = x,
        Some(Ident::Vlan(v)) => q.vlans = vec![v],
        Some(Ident::Vni(v)) => q.tunnel = Some((v, [203, 0, 113, 1])),
        Some(Ident::Prefix(_)) | None => {
            // An unknown VLAN (inner 5-tuple unchanged, so a prefix tenant stays itself).
            q.vlans = vec![3999];
        }
    }
    q
}

fn body_request(model: &str, body_len: usize, extra: &str) -> Vec<u8> {
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nx-ai-eg-model: {model}\r\n{extra}\
         content-length: {body_len}\r\n\r\n"
    )
    .into_bytes()
}

struct Totals {
    configs: u64,
    frames: u64,
    honest: u64,
    attacks: u64,
    to_gpu: u64,
}

fn run_one(seed: u64, totals: &mut Totals) {
    let mut rng = Rng(seed);
    let tenants = random_config(&mut rng);
    let oracle = Oracle {
        ports: tenants
            .iter()
            .enumerate()
            .filter_map(|(k, t)| match t.ident {
                Ident::Port(p) => Some((p, k as u32)),
                _ => None,
            })
            .collect(),
        vnis: tenants
            .iter()
            .enumerate()
            .filter_map(|(k, t)| match t.ident {
                Ident::Vni(v) => Some((v, k as u32)),
                _ => None,
            })
            .collect(),
        vlans: tenants
            .iter()
            .enumerate()
            .filter_map(|(k, t)| match t.ident {
                Ident::Vlan(v) => Some((v, k as u32)),
                _ => None,
            })
            .collect(),
        prefixes: tenants
            .iter()
            .enumerate()
            .filter_map(|(k, t)| match t.ident {
                Ident::Prefix(n) => Some((n, k as u32)),
                _ => None,
            })
            .collect(),
        snis: tenants
            .iter()
            .enumerate()
            .map(|(k, t)| (t.sni.clone(), k as u32))
            .collect(),
    };
    let mut w = World::with(
        policy(&tenants),
        PipelineConfig {
            flow_capacity: 1 << 14,
            ..PipelineConfig::default()
        },
    );

    // Honest connections: per tenant, several, each a request with a body in segments and
    // maybe a keep-alive request after it.
    let mut conns: Vec<Vec<Pkt>> = Vec::new();
    let mut conn_ident: Vec<Ident> = Vec::new();
    let mut sport = 20_000u16;
    for t in &tenants {
        for c in 0..(8 + rng.below(16)) {
            sport += 1;
            let model = t.models[rng.below(t.models.len() as u64) as usize];
            let mut seq = 1 + rng.below(1 << 31) as u32;
            let mut frames = Vec::new();
            for _ in 0..(1 + rng.below(2)) {
                let segs = rng.below(5) as usize;
                let seg_len = 40 + rng.below(400) as usize;
                let head = body_request(model, segs * seg_len, "");
                let base = with_ident(t.ident, c as u16 + 1, sport, b"");
                frames.push(base.clone().seq(seq).payload(&head));
                seq = seq.wrapping_add(head.len() as u32);
                for _ in 0..segs {
                    frames.push(base.clone().seq(seq).payload(&vec![b'z'; seg_len]));
                    seq = seq.wrapping_add(seg_len as u32);
                }
            }
            conns.push(frames);
            conn_ident.push(t.ident);
        }
    }
    let honest_flows: Vec<Pkt> = conns.iter().map(|c| c[0].clone()).collect();

    // Interleave the connections (each in order) with attacker frames.
    let mut cursors = vec![0usize; conns.len()];
    let mut schedule: Vec<(Pkt, Label)> = Vec::new();
    let idents: Vec<Ident> = tenants.iter().map(|t| t.ident).collect();
    let mut attack_port = 50_000u16;
    loop {
        let live: Vec<usize> = (0..conns.len())
            .filter(|&k| cursors[k] < conns[k].len())
            .collect();
        if live.is_empty() {
            break;
        }
        let k = live[rng.below(live.len() as u64) as usize];
        let p = conns[k][cursors[k]].clone();
        cursors[k] += 1;
        let owner = oracle.owner(&p, None);
        schedule.push((
            p,
            Label {
                owner,
                honest: true,
            },
        ));
        if !rng.chance(60) {
            continue;
        }
        attack_port = attack_port.wrapping_add(1).max(50_000);
        let v = rng.below(honest_flows.len() as u64) as usize;
        let victim = &honest_flows[v];
        // Another identity than the victim's own (with the very same identity and 5-tuple
        // the frames would be the victim's own connection: not an attack on isolation).
        let other = if rng.chance(70) {
            Some(idents[rng.below(idents.len() as u64) as usize]).filter(|&i| i != conn_ident[v])
        } else {
            None
        };
        let model = ALL_MODELS[rng.below(3) as usize];
        let (attack, sni): (Pkt, Option<String>) = match rng.below(9) {
            // Another identity on a tenant's 5-tuple: a body segment, or a request.
            0 => (
                redress(victim, other)
                    .payload(&[b'q'; 100])
                    .seq(victim.seq + 7),
                None,
            ),
            1 => (
                redress(victim, other).payload(&body_request(model, 0, "")),
                None,
            ),
            // A ClientHello naming some tenant's SNI, from some identity (or none).
            2 => {
                let named = &tenants[rng.below(tenants.len() as u64) as usize].sni;
                let base = match other {
                    Some(id) => with_ident(id, 9000, attack_port, b""),
                    None => Pkt::tcp([100, 64, 1, 1], attack_port, b""),
                };
                (
                    base.dport(TLS).payload(&client_hello(named, 0)),
                    Some(named.clone()),
                )
            }
            // A claim naming another tenant.
            3 => {
                let id = other.unwrap_or(idents[0]);
                let claim = format!("x-gateway-inference-fairness-id: t{}\r\n", rng.below(6));
                (
                    with_ident(id, 9001, attack_port, &body_request(model, 0, &claim)),
                    None,
                )
            }
            // A fragment of an honest flow, carrying a request.
            4 => (
                victim
                    .clone()
                    .frag(true, 0)
                    .payload(&body_request(model, 0, "")),
                None,
            ),
            // Floods from unknown senders: partial hellos, partial heads, junk.
            5 => {
                let src = [100, 64, rng.below(256) as u8, rng.below(256) as u8];
                let payload = match rng.below(3) {
                    0 => client_hello("", 3000)[..800].to_vec(),
                    1 => b"POST /v1/chat/completions HTTP/1.1\r\nHost:".to_vec(),
                    _ => vec![0x77; 200],
                };
                (Pkt::tcp(src, attack_port, &payload), None)
            }
            // Out-of-order and overlapping segments on an unknown sender's flow.
            6 => {
                let src = [100, 65, 0, (attack_port % 200) as u8];
                let seq = rng.below(1 << 20) as u32;
                (
                    Pkt::tcp(src, 7, &client_hello("", 2000)[200..900]).seq(seq),
                    None,
                )
            }
            // Insertion: a request for any model inside an honest flow, its checksum wrong
            // (the backend discards it; were it followed, its retransmission could differ).
            7 => (
                victim
                    .clone()
                    .payload(&body_request(model, 0, ""))
                    .seq(victim.seq.wrapping_add(rng.below(4000) as u32))
                    .bad_checksum(),
                None,
            ),
            // A UDP datagram with a request in it, from a tenant's identity.
            _ => (
                with_ident(
                    other.unwrap_or(idents[0]),
                    9002,
                    attack_port,
                    &body_request(model, 0, ""),
                )
                .udp(),
                None,
            ),
        };
        let owner = oracle.owner(&attack, sni.as_deref());
        schedule.push((
            attack,
            Label {
                owner,
                honest: false,
            },
        ));
    }

    // Send in bursts, stepping the clock now and then.
    let mut labels = Vec::with_capacity(schedule.len());
    for chunk in schedule.chunks(32) {
        if rng.chance(10) {
            let step = rng.below(1_000_000_000);
            if rng.chance(50) {
                w.now = w.now.saturating_sub(step);
            } else {
                w.now += step;
            }
        }
        let pkts: Vec<Pkt> = chunk.iter().map(|(p, _)| p.clone()).collect();
        w.send(&pkts);
        labels.extend(chunk.iter().map(|(_, l)| *l));
    }

    // 1. Counters balance; each tenant's frames are the ones its attributes name.
    w.check();
    let snap = w.snapshot();
    for (k, c) in snap.tenants.iter().enumerate() {
        let want = labels.iter().filter(|l| l.owner == Some(k as u32)).count() as u64;
        assert_eq!(
            c.rx, want,
            "seed {seed}: tenant {k} counted {} frames, owns {want}",
            c.rx
        );
    }
    let none = labels.iter().filter(|l| l.owner.is_none()).count() as u64;
    assert_eq!(snap.unattributed.rx, none, "seed {seed}: unattributed");
    // 2. Every descriptor carries its frame's own tenant.
    for d in &w.descs {
        let l = labels[d.packet as usize];
        assert_eq!(
            Some(d.tenant),
            l.owner,
            "seed {seed}: frame {} steered as another tenant's",
            d.packet
        );
    }
    // 3. No honest request or body segment refused.
    for (i, (l, v)) in labels.iter().zip(&w.verdicts).enumerate() {
        if l.honest {
            assert!(
                matches!(v, Verdict::Gpu { .. }),
                "seed {seed}: honest frame {i} of tenant {:?} got {v:?}",
                l.owner
            );
        }
    }
    totals.configs += 1;
    totals.frames += labels.len() as u64;
    totals.honest += labels.iter().filter(|l| l.honest).count() as u64;
    totals.attacks += labels.iter().filter(|l| !l.honest).count() as u64;
    totals.to_gpu += snap.total.to_gpu;
}

#[test]
fn no_tenant_is_counted_policed_or_steered_as_another_under_attack() {
    let mut totals = Totals {
        configs: 0,
        frames: 0,
        honest: 0,
        attacks: 0,
        to_gpu: 0,
    };
    for seed in 0..150 {
        run_one(0xadd5_0000 + seed, &mut totals);
    }
    eprintln!(
        "adversary_property: {} configurations, {} frames ({} honest, {} attacker), {} to GPU queues",
        totals.configs, totals.frames, totals.honest, totals.attacks, totals.to_gpu
    );
}
