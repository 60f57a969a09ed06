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
//! With `--features dpdk` DPDK 22.11 joins as a third peer (the EAL is started once per bench
//! process, before the first measurement, with `-l 0 --no-huge -m 1024 --no-pci --no-shconf`,
//! so every peer runs on the main lcore's pinned thread):
//!
//! - `rte_hash` in `policy/resolve_vni_{1k,1m}`: an `rte_hash` (cuckoo, key_len 4, DPDK's
//!   default hash function `rte_hash_crc`, i.e. CRC32-C, with the CPU's CRC32 instructions
//!   where it has them) holding the same VNIs, the tenant stored as the
//!   `rte_hash_add_key_data` value. It has as many slots as the hashbrown peer (`entries` =
//!   the next power of two of 8/7 x the keys, about 50% full), so no cuckoo insert fails. Per
//!   burst the same `Trusted` array is built, its VNIs gathered and looked up with one
//!   `rte_hash_lookup_bulk_data` of 32 keys (DPDK's pipelined bulk path); hits are read from
//!   the hit mask. 4-byte keys get no specialised compare in 22.11 (`memcmp` per candidate).
//! - `rte_meter_trtcm` in `policy/police`: DPDK's RFC 2698 trTCM (`rte_meter_trtcm_*`), one
//!   shared profile with the rates of `infersteer_bucket_trtcm`'s byte meter (CIR 1 GB/s, CBS
//!   1 MB, PIR 2 GB/s, PBS 2 MB) and one meter per tenant (1,024), colour-blind check per
//!   packet. The bench's `now` (one timestamp per burst) is converted to TSC cycles once per
//!   burst (`rte_get_tsc_hz`), from a base read after the meters were configured, so all peers
//!   see the same simulated clock. DPDK's check is `static inline` in C and is reached through
//!   the out-of-line shim `infersteer_meter_trtcm_rfc2698_color_blind_check` (no cross-language
//!   inlining), so its time includes one C call per packet. It is the byte meter alone: unlike
//!   `infersteer_bucket_trtcm` it has no packet bucket in front.
//!
//! Without the feature the peers are hashbrown and a plain token bucket only.
//!
//! Run: `cargo bench --bench policy` (then `scripts/bench-table.py policy`), or
//! `cargo bench --features dpdk --bench policy` with the DPDK peers.

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
        ..PolicyConfig::default()
    };
    (c, vnis, prefixes)
}

fn resolve_groups(c: &mut Criterion) {
    // Start DPDK before the first measurement: the EAL pins this thread to lcore 0, and every
    // peer should run under the same affinity.
    #[cfg(feature = "dpdk")]
    rte::eal();
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
        #[cfg(feature = "dpdk")]
        {
            let pairs: Vec<(u32, u32)> = vnis
                .iter()
                .enumerate()
                .map(|(i, v)| (*v, (i % tenants) as u32))
                .collect();
            let hash = rte::Hash::new(&format!("vni_{label}"), &pairs);
            // Sanity: it agrees with the other two, hits and misses.
            let mut got = [None; BURST_SIZE];
            hash.lookup_burst(&keys[0], &mut got);
            for (k, g) in keys[0].iter().zip(&got) {
                assert_eq!(*g, map.get(k).copied());
            }
            let mut miss = keys[0];
            miss[3] = rte::NO_VNI;
            hash.lookup_burst(&miss, &mut got);
            assert_eq!(got[3], None);
            let mut out3 = [None; BURST_SIZE];
            g.bench_function("rte_hash", |b| {
                b.iter(|| {
                    i = (i + 1) % BURSTS;
                    let burst = by_vni(black_box(&keys[i]));
                    let vnis: [u32; BURST_SIZE] =
                        core::array::from_fn(|j| burst[j].vni.unwrap_or(rte::NO_VNI));
                    hash.lookup_burst(&vnis, &mut out3);
                    black_box(&mut out3);
                })
            });
        }
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
    #[cfg(feature = "dpdk")]
    {
        let mut meters = rte::Meters::new(
            TENANTS,
            rte::TrTcmParams {
                cir: 1_000_000_000,
                cbs: 1_000_000,
                pir: 2_000_000_000,
                pbs: 2_000_000,
            },
        );
        g.bench_function("rte_meter_trtcm", |b| {
            b.iter(|| {
                i = (i + 1) % BURSTS;
                now += 1_000;
                let tsc = meters.tsc_at(now); // one timestamp per burst
                let mut red = 0u32;
                for &(t, len) in black_box(&bursts[i]) {
                    red +=
                        u32::from(meters.check(usize::from(t), u32::from(len), tsc) == Color::Red);
                }
                black_box(red)
            })
        });
    }
    g.finish();
}

/// The DPDK peers (feature `dpdk`): thin owners of an `rte_hash` and of a bank of
/// `rte_meter_trtcm`s over the raw bindings. Setup may panic (a bench with a broken setup has
/// nothing to measure).
#[cfg(feature = "dpdk")]
#[allow(unsafe_code)] // FFI: every unsafe block carries a `// SAFETY:` proof.
mod rte {
    use core::ffi::c_void;
    use core::ptr::NonNull;
    use std::ffi::CString;
    use std::sync::OnceLock;

    use infersteer::capacity::BURST_SIZE;
    use infersteer::dpdk::{sys, Eal};
    use infersteer::policy::Color;

    /// Not a VNI (VNIs are 24-bit): the key of an absent VNI, which always misses.
    pub(crate) const NO_VNI: u32 = u32::MAX;

    // `rte_hash_lookup_bulk_data` takes at most `RTE_HASH_LOOKUP_BULK_MAX` keys and reports
    // hits in a 64-bit mask.
    const _: () = assert!(BURST_SIZE <= sys::RTE_HASH_LOOKUP_BULK_MAX as usize);

    /// The process's EAL, started on first use and never dropped (DPDK cannot start twice).
    pub(crate) fn eal() -> &'static Eal {
        static EAL: OnceLock<Eal> = OnceLock::new();
        EAL.get_or_init(|| {
            let prefix = format!(
                "--file-prefix=infersteer-bench-policy-{}",
                std::process::id()
            );
            let args = [
                "-l",
                "0",
                "--no-huge",
                "-m",
                "1024",
                "--no-pci",
                "--no-shconf",
                "--no-telemetry",
                &prefix,
                "--log-level=critical",
            ];
            Eal::init(&args).expect("EAL init")
        })
    }

    /// An `rte_hash` from 4-byte keys to `u32` values (stored as the data pointer's bits).
    pub(crate) struct Hash {
        raw: NonNull<sys::rte_hash>,
    }

    impl Hash {
        /// A table holding `pairs`, with as many slots as a hashbrown map of the same
        /// capacity (the next power of two of 8/7 x the keys).
        pub(crate) fn new(name: &str, pairs: &[(u32, u32)]) -> Self {
            let eal = eal();
            let c_name = CString::new(name).expect("name");
            let entries = (pairs.len() * 8 / 7).next_power_of_two().max(16);
            let params = sys::rte_hash_parameters {
                name: c_name.as_ptr(),
                entries: u32::try_from(entries).expect("entries"),
                reserved: 0,
                key_len: 4,
                // NULL: DPDK's default, `rte_hash_crc` (CRC32-C) on x86-64 and arm64.
                hash_func: None,
                hash_func_init_val: 0,
                socket_id: eal.socket_id(),
                extra_flag: 0,
            };
            // SAFETY: `params` is fully initialised and its name outlives the call (DPDK
            // copies it); the EAL is up. Returns NULL with rte_errno on failure.
            let raw = unsafe { sys::rte_hash_create(&params) };
            let raw = NonNull::new(raw).expect("rte_hash_create");
            let h = Self { raw };
            for (k, v) in pairs {
                // SAFETY: `raw` is a live table of 4-byte keys and `k` points at 4 readable
                // bytes, which DPDK copies; the data pointer is a plain value, never
                // dereferenced. One thread adds, as the default (single-writer) table needs.
                let ret = unsafe {
                    sys::rte_hash_add_key_data(
                        h.raw.as_ptr(),
                        (k as *const u32).cast(),
                        *v as usize as *mut c_void,
                    )
                };
                assert_eq!(ret, 0, "rte_hash_add_key_data");
            }
            h
        }

        /// Looks up the whole burst with one `rte_hash_lookup_bulk_data`.
        #[inline]
        pub(crate) fn lookup_burst(
            &self,
            keys: &[u32; BURST_SIZE],
            out: &mut [Option<u32>; BURST_SIZE],
        ) {
            let mut ptrs: [*const c_void; BURST_SIZE] =
                core::array::from_fn(|j| (&keys[j] as *const u32).cast());
            let mut data = [core::ptr::null_mut::<c_void>(); BURST_SIZE];
            let mut hits = 0u64;
            // SAFETY: `raw` is a live table of 4-byte keys; `ptrs` holds BURST_SIZE (<= 64,
            // asserted above) pointers to 4 readable bytes each, alive for the call; `data`
            // has room for BURST_SIZE values; `hits` is one writable u64. Lookups only read.
            unsafe {
                sys::rte_hash_lookup_bulk_data(
                    self.raw.as_ptr(),
                    ptrs.as_mut_ptr(),
                    BURST_SIZE as u32,
                    &mut hits,
                    data.as_mut_ptr(),
                );
            }
            for (j, (o, d)) in out.iter_mut().zip(data).enumerate() {
                *o = (hits >> j & 1 != 0).then_some(d as usize as u32);
            }
        }
    }

    impl Drop for Hash {
        fn drop(&mut self) {
            // SAFETY: `raw` came from `rte_hash_create` and is freed once, here.
            unsafe { sys::rte_hash_free(self.raw.as_ptr()) }
        }
    }

    /// `rte_meter_trtcm_params` (bytes per second and bytes).
    pub(crate) use sys::rte_meter_trtcm_params as TrTcmParams;

    /// One RFC 2698 trTCM profile shared by `n` per-tenant meters.
    pub(crate) struct Meters {
        profile: sys::rte_meter_trtcm_profile,
        meters: Vec<sys::rte_meter_trtcm>,
        base_tsc: u64,
        cycles_per_ns: f64,
    }

    impl Meters {
        pub(crate) fn new(n: usize, mut params: TrTcmParams) -> Self {
            let _ = eal(); // the profile reads the TSC frequency the EAL calibrated
            let mut profile = sys::rte_meter_trtcm_profile::default();
            // SAFETY: both are valid, exclusive plain-data structs; DPDK validates the rates.
            let ret = unsafe { sys::rte_meter_trtcm_profile_config(&mut profile, &mut params) };
            assert_eq!(ret, 0, "rte_meter_trtcm_profile_config");
            let mut meters = vec![sys::rte_meter_trtcm::default(); n];
            for m in &mut meters {
                // SAFETY: as above; fills both buckets and stamps the meter with the TSC.
                let ret = unsafe { sys::rte_meter_trtcm_config(m, &mut profile) };
                assert_eq!(ret, 0, "rte_meter_trtcm_config");
            }
            // SAFETY: reads the TSC (no memory) and the frequency computed at EAL start.
            let (base_tsc, hz) = unsafe { (sys::infersteer_rdtsc(), sys::rte_get_tsc_hz()) };
            let mut me = Self {
                profile,
                meters,
                base_tsc,
                cycles_per_ns: hz as f64 * 1e-9,
            };
            // Sanity: more than the peak burst at one instant goes red; a refill restores it.
            let t0 = me.tsc_at(0);
            let mut colors = [Color::Green; 3];
            for c in &mut colors {
                *c = me.check(0, 1_000_000, t0);
            }
            assert_eq!(colors, [Color::Green, Color::Yellow, Color::Red]);
            // SAFETY: as above (refills tenant 0's buckets).
            let ret = unsafe { sys::rte_meter_trtcm_config(&mut me.meters[0], &mut me.profile) };
            assert_eq!(ret, 0, "rte_meter_trtcm_config");
            me
        }

        /// The TSC value `now_ns` of simulated time after setup.
        #[inline]
        pub(crate) fn tsc_at(&self, now_ns: u64) -> u64 {
            self.base_tsc + (now_ns as f64 * self.cycles_per_ns) as u64
        }

        /// `rte_meter_trtcm_color_blind_check` for tenant `t`'s meter.
        #[inline]
        pub(crate) fn check(&mut self, t: usize, len: u32, tsc: u64) -> Color {
            let Some(m) = self.meters.get_mut(t) else {
                return Color::Red;
            };
            // SAFETY: `m` and the profile are valid, exclusively borrowed plain-data structs
            // configured by `rte_meter_trtcm_config`/`_profile_config`.
            let c = unsafe {
                sys::infersteer_meter_trtcm_rfc2698_color_blind_check(
                    m,
                    &mut self.profile,
                    tsc,
                    len,
                )
            };
            match c {
                0 => Color::Green,
                1 => Color::Yellow,
                _ => Color::Red,
            }
        }
    }
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
