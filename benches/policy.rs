//! Tenant resolution and policing, per packet over bursts of 32, beside peers in the same
//! criterion group.
//!
//! - `policy/resolve_vni_{1k,1m}`: `PolicyTable::resolve_burst` on frames whose trusted
//!   attribute is a VXLAN VNI (1,024 tenants with one VNI each; 1,048,576 VNIs over 65,536
//!   tenants), beside a `hashbrown::HashMap<u32, u32>` (SwissTable, foldhash) holding the same
//!   VNIs. Each burst's `Trusted` array is built on the stack from the next 32 pre-drawn keys
//!   (as the pipeline builds it from the parsed frames), for both peers; the keys cycle through
//!   4,096 bursts so the big tables are not all in cache.
//! - `policy/resolve_prefix_{1k,1m}`: the same by IPv4 source prefix (lengths /16, /24, /32
//!   mixed; longest match), beside one hashbrown map per length probed longest first.
//! - `policy/police`: one packet of a random tenant of 1,024 per lookup, through a
//!   `PolicerBank` (one timestamp per burst): the packet token bucket alone, the bucket plus the
//!   RFC 2698 trTCM on bytes, and a plain floating-point token bucket as the peer.
//!
//! DPDK's `rte_hash` and `rte_meter` become peers here once the DPDK bindings are in use by
//! this bench; until then the peers are hashbrown and a plain token bucket.
//!
//! Run: `cargo bench --bench policy` (then `scripts/bench-table.py policy`).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use infersteer::capacity::BURST_SIZE;
use infersteer::policy::{
    Attribute, Color, IpPrefix, PolicerBank, PolicyConfig, PolicyTable, Rate, RateLimit, Source,
    TenantConfig, TenantId, TrTcmConfig, Trusted,
};

const BURSTS: usize = 4096;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// `tenants` tenants holding `keys` VNIs (or prefixes) between them, round-robin.
fn config(
    tenants: usize,
    keys: usize,
    by_prefix: bool,
) -> (PolicyConfig, Vec<u32>, Vec<(u32, u8)>) {
    let mut ts: Vec<TenantConfig> = (0..tenants)
        .map(|t| TenantConfig::new(&format!("t{t}")))
        .collect();
    let mut vnis = Vec::new();
    let mut prefixes = Vec::new();
    let mut r = Rng(0x5eed);
    for k in 0..keys {
        let t = &mut ts[k % tenants];
        if by_prefix {
            // Distinct prefixes: the key number spread over 10.0.0.0/8 and 11.0.0.0/8 ... with
            // lengths /16, /24 and /32.
            let len = [16u8, 24, 32][k % 3];
            let k32 = k as u32;
            let addr = match len {
                16 => (k32 & 0xFFFF) << 16,
                24 => 0x2000_0000 | ((k32 & 0xF_FFFF) << 8),
                _ => 0x4000_0000 | (k32 & 0x0FFF_FFFF),
            };
            prefixes.push((addr, len));
        } else {
            let vni = (r.next() as u32) & 0x00FF_FFFF;
            vnis.push(vni);
        }
        let _ = t;
    }
    // Deduplicate (random VNIs and the prefix formula can repeat).
    vnis.sort_unstable();
    vnis.dedup();
    prefixes.sort_unstable();
    prefixes.dedup();
    for (i, v) in vnis.iter().enumerate() {
        ts[i % tenants].identity.vnis.push(*v);
    }
    for (i, (a, l)) in prefixes.iter().enumerate() {
        ts[i % tenants]
            .identity
            .prefixes
            .push(IpPrefix::new(IpAddr::V4(Ipv4Addr::from(*a)), *l));
    }
    let c = PolicyConfig {
        tenants: ts,
        models: Vec::new(),
        pools: 0,
        precedence: vec![Attribute::Port, Attribute::Vni, Attribute::SourcePrefix],
    };
    (c, vnis, prefixes)
}

fn resolve_groups(c: &mut Criterion) {
    // `cargo bench` passes `--bench`; in test mode (`cargo test --bench policy`, also run under
    // qemu for aarch64) the big tables shrink so that the setup stays quick.
    let full = std::env::args().any(|a| a == "--bench");
    let big = if full {
        (65_536, 1 << 20)
    } else {
        (256, 1 << 12)
    };
    for (label, tenants, n_keys) in [("1k", 1024usize, 1024usize), ("1m", big.0, big.1)] {
        // By VNI.
        let (cfg, vnis, _) = config(tenants, n_keys, false);
        let table = PolicyTable::build(&cfg).unwrap();
        let mut map = hashbrown::HashMap::<u32, u32>::with_capacity(vnis.len());
        for (i, v) in vnis.iter().enumerate() {
            map.insert(*v, (i % tenants) as u32);
        }
        let mut r = Rng(7);
        let keys: Vec<[u32; BURST_SIZE]> = (0..BURSTS)
            .map(|_| core::array::from_fn(|_| vnis[(r.next() % vnis.len() as u64) as usize]))
            .collect();
        let by_vni = |k: &[u32; BURST_SIZE]| -> [Trusted<'static>; BURST_SIZE] {
            core::array::from_fn(|j| Trusted {
                vni: Some(k[j]),
                ..Trusted::default()
            })
        };
        // Sanity: both agree.
        for t in &by_vni(&keys[0]) {
            let want = map.get(&t.vni.unwrap()).copied();
            assert_eq!(table.resolve(t).map(|x| x.0), want);
        }
        let mut g = c.benchmark_group(format!("policy/resolve_vni_{label}"));
        g.throughput(Throughput::Elements(BURST_SIZE as u64));
        let mut out = [None; BURST_SIZE];
        let mut i = 0usize;
        g.bench_function("infersteer", |b| {
            b.iter(|| {
                i = (i + 1) % BURSTS;
                let burst = by_vni(black_box(&keys[i]));
                table.resolve_burst(&burst, &mut out);
                black_box(&mut out);
            })
        });
        let mut out2 = [None; BURST_SIZE];
        g.bench_function("hashbrown", |b| {
            b.iter(|| {
                i = (i + 1) % BURSTS;
                let burst = by_vni(black_box(&keys[i]));
                for (t, o) in burst.iter().zip(out2.iter_mut()) {
                    *o = t.vni.and_then(|v| map.get(&v).copied());
                }
                black_box(&mut out2);
            })
        });
        g.finish();
        drop(table);
        drop(map);

        // By source prefix.
        let (cfg, _, prefixes) = config(tenants, n_keys, true);
        let table = PolicyTable::build(&cfg).unwrap();
        let mut lens: Vec<u8> = prefixes.iter().map(|p| p.1).collect();
        lens.sort_unstable_by(|a, b| b.cmp(a));
        lens.dedup();
        let maps: Vec<(u8, hashbrown::HashMap<u32, u32>)> = lens
            .iter()
            .map(|&l| {
                let m = prefixes
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.1 == l)
                    .map(|(i, p)| (p.0, (i % tenants) as u32))
                    .collect();
                (l, m)
            })
            .collect();
        let peer = |a: u32| {
            for (l, m) in &maps {
                let masked = if *l == 32 {
                    a
                } else {
                    a & (u32::MAX << (32 - u32::from(*l)))
                };
                if let Some(v) = m.get(&masked) {
                    return Some(*v);
                }
            }
            None
        };
        let keys: Vec<[u32; BURST_SIZE]> = (0..BURSTS)
            .map(|_| {
                core::array::from_fn(|_| {
                    let (a, l) = prefixes[(r.next() % prefixes.len() as u64) as usize];
                    let host = if l == 32 {
                        0
                    } else {
                        (r.next() as u32) & ((1 << (32 - l)) - 1)
                    };
                    a | host
                })
            })
            .collect();
        let by_src = |k: &[u32; BURST_SIZE]| -> [Trusted<'static>; BURST_SIZE] {
            core::array::from_fn(|j| Trusted {
                src: Some(Source::V4(k[j])),
                ..Trusted::default()
            })
        };
        for t in &by_src(&keys[0]) {
            let Some(Source::V4(a)) = t.src else {
                unreachable!()
            };
            assert_eq!(table.resolve(t).map(|x| x.0), peer(a));
        }
        let mut g = c.benchmark_group(format!("policy/resolve_prefix_{label}"));
        g.throughput(Throughput::Elements(BURST_SIZE as u64));
        g.bench_function("infersteer", |b| {
            b.iter(|| {
                i = (i + 1) % BURSTS;
                let burst = by_src(black_box(&keys[i]));
                table.resolve_burst(&burst, &mut out);
                black_box(&mut out);
            })
        });
        g.bench_function("hashbrown", |b| {
            b.iter(|| {
                i = (i + 1) % BURSTS;
                let burst = by_src(black_box(&keys[i]));
                for (t, o) in burst.iter().zip(out2.iter_mut()) {
                    *o = match t.src {
                        Some(Source::V4(a)) => peer(a),
                        _ => None,
                    };
                }
                black_box(&mut out2);
            })
        });
        g.finish();
    }
}

/// The textbook token bucket: floating-point tokens, refilled from the elapsed seconds.
struct PlainBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: f64,
}

impl PlainBucket {
    fn admit(&mut self, now_s: f64) -> bool {
        self.tokens = (self.tokens + (now_s - self.last) * self.rate).min(self.burst);
        self.last = now_s;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

fn police_group(c: &mut Criterion) {
    const TENANTS: usize = 1024;
    let pkt = Rate::new(1_000_000, 64).unwrap();
    let bytes = TrTcmConfig::new(
        Rate::new(1_000_000_000, 1_000_000).unwrap(),
        Rate::new(2_000_000_000, 2_000_000).unwrap(),
    )
    .unwrap();
    let bank = |limit: RateLimit| {
        let tenants = (0..TENANTS)
            .map(|t| {
                let mut tc = TenantConfig::new(&format!("t{t}"));
                tc.rate = limit;
                tc
            })
            .collect();
        let table = PolicyTable::build(&PolicyConfig {
            tenants,
            ..PolicyConfig::default()
        })
        .unwrap();
        PolicerBank::new(&table, 1, 0)
    };
    let mut bucket_only = bank(RateLimit {
        packets: Some(pkt),
        bytes: None,
    });
    let mut with_trtcm = bank(RateLimit {
        packets: Some(pkt),
        bytes: Some(bytes),
    });
    let mut plain: Vec<PlainBucket> = (0..TENANTS)
        .map(|_| PlainBucket {
            rate: 1e6,
            burst: 64.0,
            tokens: 64.0,
            last: 0.0,
        })
        .collect();
    let mut r = Rng(11);
    let bursts: Vec<[(u16, u16); BURST_SIZE]> = (0..BURSTS)
        .map(|_| {
            core::array::from_fn(|_| {
                (
                    (r.next() % TENANTS as u64) as u16,
                    64 + (r.next() % 1400) as u16,
                )
            })
        })
        .collect();
    let mut g = c.benchmark_group("policy/police");
    g.throughput(Throughput::Elements(BURST_SIZE as u64));
    let mut i = 0usize;
    let mut now = 0u64;
    g.bench_function("infersteer_bucket", |b| {
        b.iter(|| {
            i = (i + 1) % BURSTS;
            now += 1_000; // one timestamp per burst
            let mut red = 0u32;
            for &(t, len) in black_box(&bursts[i]) {
                red += u32::from(
                    bucket_only.police(TenantId(u32::from(t)), u64::from(len), now) == Color::Red,
                );
            }
            black_box(red)
        })
    });
    g.bench_function("infersteer_bucket_trtcm", |b| {
        b.iter(|| {
            i = (i + 1) % BURSTS;
            now += 1_000;
            let mut red = 0u32;
            for &(t, len) in black_box(&bursts[i]) {
                red += u32::from(
                    with_trtcm.police(TenantId(u32::from(t)), u64::from(len), now) == Color::Red,
                );
            }
            black_box(red)
        })
    });
    g.bench_function("plain_token_bucket", |b| {
        b.iter(|| {
            i = (i + 1) % BURSTS;
            now += 1_000;
            let now_s = now as f64 * 1e-9;
            let mut red = 0u32;
            for &(t, _) in black_box(&bursts[i]) {
                if let Some(p) = plain.get_mut(usize::from(t)) {
                    red += u32::from(!p.admit(now_s));
                }
            }
            black_box(red)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    targets = resolve_groups, police_group
}
criterion_main!(benches);
