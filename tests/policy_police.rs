//! Policing over long runs: a tenant is never admitted more than `rate · t + burst` (packets,
//! and bytes for the trTCM's peak rate; committed-rate green bytes within `CIR · t + CBS`), and a
//! noisy tenant sending ten times its rate does not change what a well-behaved tenant gets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a broken setup may panic in tests

use infersteer::policy::{
    Color, PolicerBank, PolicyConfig, PolicyTable, Rate, RateLimit, TenantConfig, TenantId,
    TenantPolicer, TrTcmConfig,
};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// `floor(rate · t_ns / 10^9) + burst` without overflow.
fn bound(rate: u64, burst: u64, t_ns: u64) -> u128 {
    u128::from(rate) * u128::from(t_ns) / 1_000_000_000 + u128::from(burst)
}

#[test]
fn admitted_never_exceeds_rate_times_t_plus_burst() {
    let mut runs = 0;
    let mut checks = 0u64;
    for (seed, (pps, pburst, cir, cbs, pir, pbs)) in [
        (
            1u64,
            (1_000u64, 10u64, 100_000u64, 1_500u64, 200_000u64, 3_000u64),
        ),
        (
            7,
            (1_000_000, 32, 125_000_000, 64_000, 250_000_000, 128_000),
        ),
        (11, (3, 1, 1_000, 1_000, 1_000, 1_500)),
        (
            13,
            (
                50_000_000,
                1_024,
                10_000_000_000,
                1_000_000,
                12_500_000_000,
                2_000_000,
            ),
        ),
    ] {
        let limit = RateLimit {
            packets: Some(Rate::new(pps, pburst).unwrap()),
            bytes: Some(
                TrTcmConfig::new(Rate::new(cir, cbs).unwrap(), Rate::new(pir, pbs).unwrap())
                    .unwrap(),
            ),
        };
        let start = 1_000_000_007u64;
        let mut p = TenantPolicer::new(limit, start);
        let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let (mut now, mut pkts, mut bytes, mut green) = (start, 0u64, 0u64, 0u64);
        // Time spent sending (idle gaps left out), for the check that the policer admits
        // close to the rate while the tenant is busy.
        let mut busy = 0u64;
        // Offered load far above the rate: bursts of 32 with one timestamp each, gaps random
        // (sometimes long idle periods, which must not bank more than the burst).
        let mean_gap = (1_000_000_000 / pps).max(1) * 4;
        for _ in 0..100_000 {
            let gap = match r.next() % 100 {
                0 => mean_gap * 1000,
                n if n < 50 => 0,
                _ => r.next() % (mean_gap * 2),
            };
            now += gap;
            if gap < mean_gap * 1000 {
                busy += gap;
            }
            for _ in 0..32 {
                let size = 64 + r.next() % 1400;
                match p.police(size, now) {
                    Color::Red => {}
                    c => {
                        pkts += 1;
                        bytes += size;
                        if c == Color::Green {
                            green += size;
                        }
                    }
                }
            }
            let t = now - start;
            assert!(
                u128::from(pkts) <= bound(pps, pburst, t),
                "packets over the bound"
            );
            assert!(
                u128::from(bytes) <= bound(pir, pbs, t),
                "bytes over PIR·t + PBS"
            );
            assert!(
                u128::from(green) <= bound(cir, cbs, t),
                "green bytes over CIR·t + CBS"
            );
            checks += 3;
        }
        // The policer must also admit close to the rate while the tenant is busy (it is not
        // just dropping everything): at least half of what the binding rate allows then
        // (packets are at most 1463 bytes).
        let pkt_rate = bound(pps, 0, busy);
        let byte_rate_pkts = bound(pir, 0, busy) / 1463;
        assert!(
            u128::from(pkts) * 2 >= pkt_rate.min(byte_rate_pkts),
            "seed {seed}: admitted {pkts}, rate allows {pkt_rate} packets / {byte_rate_pkts} by bytes"
        );
        runs += 1;
    }
    println!("policer: {runs} long runs, {checks} bound checks, 0 over the bound");
}

#[test]
fn a_noisy_tenant_does_not_change_a_quiet_tenants_admissions() {
    let mut quiet = TenantConfig::new("quiet");
    quiet.identity.ports = vec![0];
    quiet.rate = RateLimit {
        packets: Some(Rate::new(10_000, 100).unwrap()),
        bytes: None,
    };
    let mut noisy = TenantConfig::new("noisy");
    noisy.identity.ports = vec![1];
    noisy.rate = RateLimit {
        packets: Some(Rate::new(10_000, 100).unwrap()),
        bytes: Some(
            TrTcmConfig::new(
                Rate::new(5_000_000, 15_000).unwrap(),
                Rate::new(10_000_000, 30_000).unwrap(),
            )
            .unwrap(),
        ),
    };
    let config = PolicyConfig {
        tenants: vec![quiet, noisy],
        ..PolicyConfig::default()
    };
    let table = PolicyTable::build(&config).unwrap();
    // The quiet tenant sends at half its rate (one packet every 200 µs); the noisy one ten
    // times its rate (ten packets every 100 µs). Bursts of 32 packets share one timestamp.
    let run = |with_noise: bool| {
        let mut bank = PolicerBank::new(&table, 1, 0);
        let (mut quiet_ok, mut noisy_ok, mut noisy_sent) = (0u64, 0u64, 0u64);
        for step in 0..200_000u64 {
            let now = step * 100_000; // 100 µs per step
            if step % 2 == 0 && bank.police(TenantId(0), 512, now) != Color::Red {
                quiet_ok += 1;
            }
            if with_noise {
                for _ in 0..10 {
                    noisy_sent += 1;
                    if bank.police(TenantId(1), 1200, now) != Color::Red {
                        noisy_ok += 1;
                    }
                }
            }
        }
        (quiet_ok, noisy_ok, noisy_sent)
    };
    let (alone, _, _) = run(false);
    let (with_noise, noisy_ok, noisy_sent) = run(true);
    println!(
        "noisy neighbour: quiet admitted {alone} alone, {with_noise} beside a tenant that sent \
         {noisy_sent} and got {noisy_ok}"
    );
    assert_eq!(
        alone, 100_000,
        "the quiet tenant is within its rate: all admitted"
    );
    assert_eq!(with_noise, alone);
    // 20 s at 10k pps + burst 100, and at most PIR 10 MB/s of 1200-byte packets.
    assert!(noisy_ok <= 20 * 10_000 + 100);
    assert!(noisy_ok <= (20 * 10_000_000 + 30_000) / 1200);
    assert!(noisy_ok < noisy_sent / 5);
}
