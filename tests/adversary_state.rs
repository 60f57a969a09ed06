//! Attacks on shared state and on time: floods from unknown senders against the flow table
//! and the reassembly pool, one tenant crowding out the others, fragments and datagrams that
//! look like requests, clocks that step, and quota given back that was never taken.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::world::*;
use infersteer::pipeline::{PipelineConfig, Verdict, REASSEMBLY_SLOTS};
use infersteer::policy::{Rate, RateLimit};
use infersteer::verdict::{DropReason, TlsHint};

/// The real Chromium ClientHello (2026 bytes, ECH, post-quantum key share).
const CHROMIUM: &[u8] = include_bytes!("fixtures/l7/chromium.bin");

/// `payload` as two TCP segments of one flow starting at `seq`, split after `at` bytes.
fn two_segments(p: Pkt, seq: u32, at: usize) -> [Pkt; 2] {
    let payload = p.payload.clone();
    let (a, b) = payload.split_at(at);
    [
        p.clone().seq(seq).payload(a),
        p.seq(seq + a.len() as u32).payload(b),
    ]
}

/// Patches the IPv4 source address and TCP source port of an untagged frame in place (the
/// parser does not verify checksums): cheap distinct flows for floods.
fn patch(frame: &mut [u8], src: u32, sport: u16) {
    frame[26..30].copy_from_slice(&src.to_be_bytes());
    frame[34..36].copy_from_slice(&sport.to_be_bytes());
}

/// ≥ 1M frames from unknown sources (complete requests, partial ClientHellos, partial HTTP
/// heads, junk), then every tenant's new flows are still admitted: unknown senders hold at
/// most their small share of the flow table and of the reassembly pool.
#[test]
fn a_million_frames_from_unknown_sources_leave_room_for_every_tenant() {
    let mut w = World::new();
    let templates = [
        Pkt::tcp([0, 0, 0, 0], 1, &request("llama")).bytes(),
        Pkt::tcp([0, 0, 0, 0], 1, &client_hello("", 3000)[..1200]).bytes(),
        Pkt::tcp(
            [0, 0, 0, 0],
            1,
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n",
        )
        .bytes(),
        Pkt::tcp([0, 0, 0, 0], 1, &[0xab; 300]).bytes(),
    ];
    let total = 1_048_576u32;
    let mut batch = Vec::with_capacity(4096);
    for i in 0..total {
        let mut f = templates[(i % 4) as usize].clone();
        // 100.64.0.0/10: nobody's prefix; every frame its own flow.
        patch(&mut f, 0x6440_0000 | (i >> 4), (i as u16) | 1);
        batch.push((0u16, f));
        if batch.len() == 4096 {
            let v = w.send_raw(std::mem::take(&mut batch));
            assert!(v.iter().all(|v| !matches!(v, Verdict::Gpu { .. })));
        }
    }
    let s = w.snapshot();
    assert_eq!(s.unattributed.rx, u64::from(total));
    assert_eq!(s.total.to_gpu, 0);
    // The unattributed share: 1/8 of the table at most, and a quarter of the pool.
    let cap = w.pipeline.flow_capacity() as u64 / 8;
    assert!(s.flows.live <= cap, "{:?}", s.flows);
    assert!(s.reassembly.opened > 0);
    // Every tenant opens new flows as usual.
    let honest = [
        (Pkt::tcp([10, 1, 0, 1], 50_000, &request("llama")), ALPHA, 0),
        (
            Pkt::tcp([172, 16, 0, 1], 50_001, &request("mistral")).vlan(&[100]),
            BRAVO,
            1,
        ),
        (
            Pkt::tcp([10, 200, 0, 1], 50_002, &request("secret")).vxlan(5000, VTEP),
            CHARLIE,
            2,
        ),
        (Pkt::tcp([10, 4, 0, 1], 50_003, &request("llama")), DELTA, 0),
        (
            Pkt::tcp([203, 0, 113, 1], 50_004, &client_hello("echo.example", 0)).dport(TLS),
            ECHO,
            3,
        ),
    ];
    for (p, tenant, q) in honest {
        let from = w.sent.len();
        assert_eq!(w.one(p), Verdict::Gpu { queue: q });
        assert_eq!(w.descs_since(from)[0].tenant, tenant);
    }
    w.check();
}

/// Complete requests, partial heads and junk from unknown senders create no flow entry and
/// no reassembly slot at all; only a possible ClientHello does.
#[test]
fn unknown_senders_create_no_state_but_for_a_possible_client_hello() {
    let mut w = World::new();
    let frames: Vec<Pkt> = (0..300u16)
        .map(|i| {
            let src = [100, 64, (i >> 8) as u8, i as u8];
            match i % 3 {
                0 => Pkt::tcp(src, 2000 + i, &request("llama")),
                1 => Pkt::tcp(src, 2000 + i, b"POST / HTTP/1.1\r\nHost:"),
                _ => Pkt::tcp(src, 2000 + i, &[0x42; 64]),
            }
        })
        .collect();
    w.send(&frames);
    let s = w.snapshot();
    assert_eq!((s.flows.live, s.flows.inserted), (0, 0), "{:?}", s.flows);
    assert_eq!(s.reassembly.opened, 0);
    assert_eq!(s.unattributed.rx, 300);
    // A first segment of a ClientHello may name a tenant: gathered, from the small share.
    let v = w.one(Pkt::tcp(
        [100, 64, 9, 9],
        3000,
        &client_hello("echo.example", 3000)[..1000],
    ));
    assert_eq!(v, Verdict::Host);
    assert_eq!(w.snapshot().reassembly.opened, 1);
    w.check();
}

/// Unknown senders flood partial ClientHellos: they get at most their share of reassembly
/// slots (`reassembly_cap`), and a tenant's own two-segment hello still gathers.
#[test]
fn partial_hellos_from_unknown_senders_are_capped_to_their_share() {
    let mut w = World::new();
    let flood: Vec<Pkt> = (0..(2 * REASSEMBLY_SLOTS) as u16)
        .map(|i| {
            Pkt::tcp(
                [100, 65, 0, i as u8],
                4000 + i,
                &client_hello("", 3000)[..900],
            )
        })
        .collect();
    let v = w.send(&flood);
    let capped = v
        .iter()
        .filter(|v| **v == Verdict::Drop(DropReason::ReassemblyCap))
        .count();
    assert_eq!(capped, 2 * REASSEMBLY_SLOTS - REASSEMBLY_SLOTS / 4);
    assert_eq!(
        w.snapshot().reassembly.opened as usize,
        REASSEMBLY_SLOTS / 4
    );
    let hello = Pkt::tcp([172, 16, 3, 3], 4999, CHROMIUM)
        .vlan(&[100])
        .dport(TLS);
    let v = w.send(&two_segments(hello, 77, 1400));
    assert_eq!(
        v,
        [Verdict::Host, Verdict::Terminate(TlsHint::TerminateDpu)]
    );
    w.check();
}

/// One tenant floods partial first flights (first halves of big hellos, never completed):
/// it runs into its own cap of reassembly slots, and the other tenants' two-segment
/// post-quantum Chromium hellos are still classified.
#[test]
fn one_tenant_flooding_partial_first_flights_does_not_starve_the_others() {
    let mut w = World::new();
    let flood: Vec<Pkt> = (0..1000u16)
        .map(|i| {
            Pkt::tcp(
                [10, 1, (i >> 8) as u8, i as u8],
                10_000 + i,
                &client_hello("alpha.example", 3000)[..1200],
            )
            .dport(TLS)
        })
        .collect();
    let v = w.send(&flood);
    assert!(v.contains(&Verdict::Drop(DropReason::ReassemblyCap)));
    let s = w.snapshot();
    assert!(s.tenants[ALPHA as usize].drops_for(DropReason::ReassemblyCap) > 900);
    for i in 0..20u16 {
        let hello = Pkt::tcp([172, 16, 4, i as u8], 20_000 + i, CHROMIUM)
            .vlan(&[100])
            .dport(TLS);
        let v = w.send(&two_segments(hello, 1, 1000 + usize::from(i)));
        assert_eq!(
            v,
            [Verdict::Host, Verdict::Terminate(TlsHint::TerminateDpu)],
            "hello {i}"
        );
    }
    w.check();
}

/// One tenant opens connections without end: it holds at most its share of the flow table
/// (`flow_cap`), and another tenant's new connections still get entries.
#[test]
fn one_tenant_cannot_fill_the_flow_table() {
    let mut w = World::with_config(PipelineConfig {
        flow_capacity: 1024,
        ..PipelineConfig::default()
    });
    let flood: Vec<Pkt> = (0..2000u16)
        .map(|i| {
            Pkt::tcp(
                [10, 1, (i >> 8) as u8, i as u8],
                30_000 + i,
                &request("llama"),
            )
        })
        .collect();
    let v = w.send(&flood);
    let capped = v
        .iter()
        .filter(|v| **v == Verdict::Drop(DropReason::FlowCap))
        .count();
    let window = v
        .iter()
        .filter(|v| **v == Verdict::Drop(DropReason::FlowTableFull))
        .count();
    assert!(
        capped > 1000 && capped + window >= 2000 - 512,
        "{capped} + {window}"
    );
    assert!(w.snapshot().flows.live <= 512 + 1);
    let mut admitted = 0;
    for i in 0..100u16 {
        let p = Pkt::tcp([172, 16, 5, i as u8], 40_000 + i, &request("mistral")).vlan(&[100]);
        admitted += usize::from(w.one(p) == Verdict::Gpu { queue: 1 });
    }
    // Bravo's flows compete only with the probe windows alpha's entries share: nearly all.
    assert!(admitted >= 95, "{admitted} of 100");
    w.check();
}

/// Unattributed traffic has its own policer: a flood of it is rate-limited as a whole and
/// the tenants' traffic is not.
#[test]
fn unattributed_traffic_is_policed_apart_from_the_tenants() {
    let mut cfg = policy_config(tenants());
    cfg.unattributed_rate = RateLimit {
        packets: Some(Rate::new(1000, 50).unwrap()),
        bytes: None,
    };
    let mut w = World::with(cfg, PipelineConfig::default());
    let flood: Vec<Pkt> = (0..500u16)
        .map(|i| Pkt::tcp([100, 66, 0, i as u8], 50_000 + i, &request("llama")))
        .collect();
    let v = w.send(&flood);
    let limited = v
        .iter()
        .filter(|v| **v == Verdict::Drop(DropReason::RateLimited))
        .count();
    assert!(limited >= 400, "{limited}");
    assert_eq!(
        w.snapshot().unattributed.drops_for(DropReason::RateLimited),
        limited as u64
    );
    let v = w.one(Pkt::tcp([10, 1, 0, 77], 50_999, &request("llama")));
    assert_eq!(v, Verdict::Gpu { queue: 0 });
    w.check();
}

/// A first IP fragment carrying an established flow's ports and a request: never steered
/// by that flow's decision, nor classified; later fragments neither.
#[test]
fn fragments_never_reach_a_gpu_queue() {
    let mut w = World::new();
    let flow = Pkt::tcp([10, 1, 0, 20], 41_000, &request("llama"));
    assert_eq!(w.one(flow.clone()), Verdict::Gpu { queue: 0 });
    let first = flow.clone().frag(true, 0).payload(&request("llama"));
    let v = w.one(first);
    assert_eq!(v, Verdict::Host);
    let later = flow.frag(false, 64).payload(b"rest of the datagram");
    assert!(!matches!(w.one(later), Verdict::Gpu { .. }));
    assert_eq!(w.descs.len(), 1);
    w.check();
}

/// UDP datagrams that carry HTTP-looking bytes (or a ClientHello) are never classified.
#[test]
fn udp_that_looks_like_http_never_reaches_a_gpu_queue() {
    let mut w = World::new();
    let v = w.send(&[
        Pkt::tcp([10, 1, 0, 21], 41_001, &request("llama")).udp(),
        Pkt::tcp([203, 0, 113, 21], 41_002, &client_hello("echo.example", 0))
            .udp()
            .dport(TLS),
    ]);
    assert_eq!(v, [Verdict::Host, Verdict::Host]);
    assert!(w.descs.is_empty());
    w.check();
}

/// A clock that jumps an hour ahead and comes back does not freeze a tenant's policer: refills
/// go on from the earlier time.
#[test]
fn a_clock_jump_and_return_does_not_freeze_a_policer() {
    let mut t = tenants();
    t[ALPHA as usize].rate = RateLimit {
        packets: Some(Rate::new(1000, 5).unwrap()),
        bytes: None,
    };
    let mut w = World::with(policy_config(t), PipelineConfig::default());
    let flow = Pkt::tcp([10, 1, 0, 30], 42_000, &request("llama"));
    assert_eq!(w.one(flow.clone()), Verdict::Gpu { queue: 0 });
    let body = flow.payload(b"x");
    let base = w.now;
    w.now = base + 3_600_000_000_000; // an hour ahead
    assert_eq!(w.one(body.clone()), Verdict::Gpu { queue: 0 });
    w.now = base + 1_000_000; // back, 1 ms after the start
                              // Burst spent, then one token per ms: 20 packets 1 ms apart all pass.
    for _ in 0..5 {
        w.one(body.clone());
    }
    let mut passed = 0;
    for k in 0..20 {
        w.now = base + 10_000_000 + k * 1_000_000;
        passed += usize::from(matches!(w.one(body.clone()), Verdict::Gpu { .. }));
    }
    assert!(
        passed >= 19,
        "{passed} of 20 passed after the clock came back"
    );
    w.check();
}

/// Entries made while the clock was an hour ahead are not pinned once it returns: they age
/// out one idle timeout later, and the table takes new flows again.
#[test]
fn a_clock_jump_and_return_pins_no_flow_entry() {
    let mut w = World::with_config(PipelineConfig {
        flow_capacity: 8,
        flow_idle_ns: 1_000_000,
        age_budget: 8,
        tenant_flow_permille: 1000,
        ..PipelineConfig::default()
    });
    let base = w.now;
    w.now = base + 3_600_000_000_000;
    let fill: Vec<Pkt> = (0..8u16)
        .map(|i| Pkt::tcp([10, 1, 1, i as u8], 43_000 + i, &request("llama")))
        .collect();
    w.send(&fill);
    assert_eq!(w.snapshot().flows.live, 8);
    w.now = base + 2_000; // the clock steps back; traffic goes on
    w.one(Pkt::tcp([172, 16, 9, 9], 1, &request("mistral")).vlan(&[100]));
    w.now += 5_000_000; // 5 ms later: past the idle timeout
    w.one(Pkt::tcp([172, 16, 9, 9], 1, b"body").vlan(&[100]));
    let v = w.one(Pkt::tcp([10, 1, 2, 2], 43_999, &request("llama")));
    assert_eq!(v, Verdict::Gpu { queue: 0 });
    w.check();
}

/// Reassembly slots opened while the clock was ahead still expire one lifetime later once it
/// returns, so the pool does not stay full.
#[test]
fn a_clock_jump_and_return_makes_no_reassembly_slot_immortal() {
    let mut w = World::new();
    let base = w.now;
    w.now = base + 3_600_000_000_000;
    let partial: Vec<Pkt> = (0..40u16)
        .map(|i| {
            Pkt::tcp(
                [10, 1, 3, i as u8],
                44_000 + i,
                &client_hello("alpha.example", 3000)[..1000],
            )
            .dport(TLS)
        })
        .collect();
    let v = w.send(&partial);
    assert!(v.contains(&Verdict::Drop(DropReason::ReassemblyCap)));
    w.now = base + 5_000; // back; traffic goes on
    w.one(Pkt::tcp([172, 16, 9, 8], 2, &request("mistral")).vlan(&[100]));
    w.now += 3_000_000_000; // 3 s later: past the 2 s lifetime
    w.one(Pkt::tcp([172, 16, 9, 8], 2, b"body").vlan(&[100]));
    let v = w.one(
        Pkt::tcp(
            [10, 1, 4, 1],
            45_000,
            &client_hello("alpha.example", 3000)[..1000],
        )
        .dport(TLS),
    );
    assert_eq!(v, Verdict::Host, "a slot was free again");
    w.check();
}

/// A consumer that gives back quota it never took (a bug, a double release, a forged
/// descriptor) grants no descriptors beyond the cap.
#[test]
fn a_release_without_an_acquire_grants_no_extra_quota() {
    let mut t = tenants();
    t[ALPHA as usize].max_in_flight = 4;
    let mut w = World::with(policy_config(t), PipelineConfig::default());
    w.drain = false;
    w.inflight.release(ALPHA, 1000);
    let frames: Vec<Pkt> = (0..10u16)
        .map(|i| Pkt::tcp([10, 1, 5, i as u8], 46_000 + i, &request("llama")))
        .collect();
    let v = w.send(&frames);
    let gpu = v
        .iter()
        .filter(|v| matches!(v, Verdict::Gpu { .. }))
        .count();
    assert_eq!(gpu, 4);
    assert_eq!(
        v.iter()
            .filter(|v| **v == Verdict::Drop(DropReason::TenantQuota))
            .count(),
        6
    );
    assert_eq!(w.inflight.get(ALPHA), 4);
}

/// Two flows whose RSS hashes collide (the NIC's hash is the flow table's tag): each one's
/// first flight gathers in its own reassembly slot; the collision neither feeds nor frees
/// the other's bytes.
#[test]
fn colliding_flow_hashes_never_share_a_reassembly_slot() {
    use infersteer::pipeline::RawFrame;
    let mut w = World::new();
    let a = Pkt::tcp([10, 1, 6, 1], 47_000, &client_hello("alpha.example", 1500)).dport(TLS);
    let b = Pkt::tcp([10, 1, 6, 2], 47_001, &client_hello("bravo.example", 1500)).dport(TLS);
    let [a1, a2] = two_segments(a, 100, 700);
    let [b1, b2] = two_segments(b, 100, 700);
    let frames: Vec<Vec<u8>> = [a1, b1, b2, a2].iter().map(Pkt::bytes).collect();
    let raw: Vec<RawFrame<'_>> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| RawFrame {
            bytes: f,
            port: 0,
            rss: Some(0xdead_beef),
            handle: i as u64,
        })
        .collect();
    let mut v = vec![Verdict::Host; 4];
    w.pipeline.process_burst(&raw, w.now, &mut v);
    // a completes as alpha's own hello (terminate), b as a spoof (alpha's prefix, bravo's
    // SNI): each decided on its own bytes.
    assert_eq!(v[0], Verdict::Host);
    assert_eq!(v[1], Verdict::Host);
    assert_eq!(v[2], Verdict::Drop(DropReason::SpoofedSni));
    assert_eq!(v[3], Verdict::Terminate(TlsHint::TerminateDpu));
    assert!(w.pipeline.snapshot().balanced());
}

/// Within one burst a connection closes and another flow, its hash the same, takes the freed
/// entry; a late segment of the closed connection in the same burst must not be taken for the
/// new flow (the lookups the parse stage made for the whole burst stand only while no entry
/// was made or removed since).
#[test]
fn an_entry_taken_over_within_a_burst_is_never_another_flows() {
    use infersteer::pipeline::RawFrame;
    let mut w = World::new();
    let a = Pkt::tcp([10, 1, 6, 7], 47_100, &request("llama")).seq(1000);
    let end = 1000 + request("llama").len() as u32;
    let bravo = Pkt::tcp([172, 16, 6, 9], 4200, &request("mistral")).vlan(&[100]);
    let burst = |w: &mut World, pkts: &[Pkt]| {
        let frames: Vec<Vec<u8>> = pkts.iter().map(Pkt::bytes).collect();
        let raw: Vec<RawFrame<'_>> = frames
            .iter()
            .zip(pkts)
            .enumerate()
            .map(|(i, (f, p))| RawFrame {
                bytes: f,
                port: p.port,
                rss: Some(0x1234_5677),
                handle: i as u64,
            })
            .collect();
        let mut v = vec![Verdict::Host; raw.len()];
        w.pipeline.process_burst(&raw, w.now, &mut v);
        w.now += 1_000;
        v
    };
    assert_eq!(
        burst(&mut w, std::slice::from_ref(&a)),
        [Verdict::Gpu { queue: 0 }]
    );
    let v = burst(
        &mut w,
        &[
            a.clone().seq(end).payload(b"").flags(FIN_ACK),
            bravo,
            a.seq(end)
                .payload(b"late bytes of alpha's closed connection"),
        ],
    );
    assert_eq!(v[1], Verdict::Gpu { queue: 1 }, "{v:?}");
    assert!(!matches!(v[2], Verdict::Gpu { .. }), "{v:?}");
    let s = w.pipeline.snapshot();
    assert!(s.balanced());
    // bravo's counters hold its own frame only.
    assert_eq!(s.tenants[1].rx, 1, "{:?}", s.tenants[1]);
}
