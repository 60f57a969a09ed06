//! The whole synthetic PoP mix (`infersteer::io::synthetic`) through one pipeline, with the GPU
//! queues drained on the same thread between bursts: every frame gets the verdict its tenant's
//! configuration says (or a rate/quota/queue drop), the counters balance in total and per
//! tenant, no descriptor lands in a pool its tenant may not use, and every descriptor enqueued
//! is consumed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on a broken setup

use std::sync::Arc;

use infersteer::capacity::BURST_SIZE;
use infersteer::io::synthetic::{pop_config, Intent, Role, Scenario, Traffic, TrafficFrame};
use infersteer::pipeline::{InFlight, Pipeline, PipelineConfig, Snapshot, Verdict};
use infersteer::policy::{PolicyConfig, PolicyTable, Termination};
use infersteer::queue::{drain_into, BatchPolicy, DescFlags, Descriptor, Ring};
use infersteer::steer::{SteerConfig, SteerTable};
use infersteer::verdict::{DropReason, TlsHint};

/// Simulated time between bursts: 32 frames at 1 Mpps.
const BURST_NS: u64 = 32_000;

struct Run {
    verdicts: Vec<Verdict>,
    consumed: Vec<Descriptor>,
    snapshot: Snapshot,
    inflight_left: Vec<u64>,
}

fn run(traffic: &Traffic) -> Run {
    run_in_calls_of(traffic, BURST_SIZE)
}

/// [`run`], each burst of 32 handed to the pipeline in calls of `per_call` frames (all with
/// the burst's timestamp).
fn run_in_calls_of(traffic: &Traffic, per_call: usize) -> Run {
    let (policy_cfg, steer_cfg) = pop_config();
    let policy = Arc::new(PolicyTable::build(&policy_cfg).unwrap());
    let steer = Arc::new(SteerTable::build(&steer_cfg).unwrap());
    let inflight = Arc::new(InFlight::new(policy.tenant_count()));
    let (producers, mut consumers): (Vec<_>, Vec<_>) = (0..steer.queue_count())
        .map(|_| Ring::<Descriptor>::new(1024).unwrap().split())
        .unzip();
    let mut pipeline = Pipeline::new(
        policy.clone(),
        steer.clone(),
        producers,
        inflight.clone(),
        PipelineConfig::default(),
        0,
    )
    .unwrap();

    let frames = traffic.frames();
    let mut verdicts = vec![Verdict::Host; frames.len()];
    let mut consumed = Vec::new();
    let mut scratch = [Descriptor::EMPTY; 64];
    let mut now = 1_000_000u64;
    for (burst, out) in frames
        .chunks(BURST_SIZE)
        .zip(verdicts.chunks_mut(BURST_SIZE))
    {
        let refs: Vec<&TrafficFrame> = burst.iter().collect();
        for (call, out) in refs.chunks(per_call).zip(out.chunks_mut(per_call)) {
            assert_eq!(pipeline.process_burst(call, now, out), call.len());
        }
        let mut sink = |batch: &[Descriptor]| {
            for d in batch {
                inflight.release(d.tenant, 1);
                consumed.push(*d);
            }
        };
        for c in &mut consumers {
            drain_into(c, &mut sink, BatchPolicy::new(16, 0), now, &mut scratch);
        }
        now += BURST_NS;
    }
    let inflight_left = (0..policy.tenant_count() as u32)
        .map(|t| inflight.get(t))
        .collect();
    Run {
        verdicts,
        consumed,
        snapshot: pipeline.snapshot(),
        inflight_left,
    }
}

fn tenant_index(cfg: &PolicyConfig, name: &str) -> usize {
    cfg.tenants.iter().position(|t| t.name == name).unwrap()
}

/// Pool of each global queue index.
fn queue_pools(steer: &SteerConfig) -> Vec<u8> {
    steer
        .pools
        .iter()
        .enumerate()
        .flat_map(|(p, spec)| std::iter::repeat(p as u8).take(spec.queues.len()))
        .collect()
}

/// Whether a frame whose intent is `intent` may instead get `v` because of load: a rate
/// limit of its tenant, its in-flight quota or a full queue.
fn load_deviation(cfg: &PolicyConfig, f: &TrafficFrame, intent: Intent, v: &Verdict) -> bool {
    let Some(t) = f.scenario.tenant() else {
        return false;
    };
    let tc = &cfg.tenants[tenant_index(cfg, t)];
    match v {
        Verdict::Drop(DropReason::RateLimited) => {
            intent != Intent::Drop(DropReason::Malformed)
                && (tc.rate.packets.is_some() || tc.rate.bytes.is_some())
        }
        Verdict::Drop(DropReason::TenantQuota | DropReason::QueueFull) => intent == Intent::Gpu,
        _ => false,
    }
}

#[test]
fn the_pop_mix_gets_the_verdicts_its_configuration_says() {
    let traffic = Traffic::new(0x1f2e_3d4c);
    let frames = traffic.frames();
    let (cfg, steer_cfg) = pop_config();
    let r = run(&traffic);
    let snap = &r.snapshot;

    // Counting invariant, in total and per tenant; every frame counted once.
    assert!(snap.balanced(), "{snap:#?}");
    assert_eq!(snap.total.rx, frames.len() as u64);
    for (i, t) in snap.tenants.iter().enumerate() {
        assert!(t.balanced(), "{}: {t:?}", cfg.tenants[i].name);
        assert!(t.rx > 0, "{} saw no traffic", cfg.tenants[i].name);
    }

    // Every descriptor enqueued was consumed, and no quota is left taken.
    let enqueued: u64 = snap.queues.iter().map(|q| q.enqueued).sum();
    assert_eq!(r.consumed.len() as u64, enqueued);
    assert_eq!(enqueued, snap.total.to_gpu);
    assert!(
        r.inflight_left.iter().all(|&n| n == 0),
        "{:?}",
        r.inflight_left
    );

    // Every descriptor: the frame's own verdict, its trusted tenant, a pool and model the tenant
    // may use.
    let pools = queue_pools(&steer_cfg);
    for d in &r.consumed {
        let f = &frames[d.packet as usize];
        assert_eq!(
            r.verdicts[d.packet as usize],
            Verdict::Gpu {
                queue: d.queue as u16
            }
        );
        let tenant = &cfg.tenants[d.tenant as usize];
        assert_eq!(Some(tenant.name.as_str()), f.scenario.tenant(), "{f:?}");
        let pool = pools[d.queue as usize];
        assert!(
            tenant.pools.contains(&pool),
            "{} got queue {} of pool {pool}",
            tenant.name,
            d.queue
        );
        let model = &cfg.models[d.model as usize];
        assert!(tenant.models.contains(model), "{} got {model}", tenant.name);
        assert!(steer_cfg.model_pools[d.model as usize].contains(&pool));
        // The descriptor points at this frame's innermost payload.
        let s = infersteer::wire::parse_frame(&f.bytes).unwrap();
        let range = s.payload_range();
        assert_eq!(
            (d.payload_offset as usize, d.payload_len as usize),
            (range.start, range.len()),
            "payload range of {f:?}"
        );
    }

    // Every frame: its intent, or a load-related drop.
    let mut wrong = Vec::new();
    for (f, v) in frames.iter().zip(&r.verdicts) {
        let intent = f.intent();
        if !intent.matches(v) && !load_deviation(&cfg, f, intent, v) {
            wrong.push(format!(
                "frame {} flow {} {} {:?}: want {intent:?}, got {v:?}",
                f.index,
                f.flow,
                f.scenario.name(),
                f.role
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} frames off their intent, e.g.:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(20)].join("\n")
    );

    // Spoofed claims are dropped as such, on the trusted tenant's account.
    for s in [Scenario::ESpoofClaim, Scenario::GSpoofKserve] {
        let t = tenant_index(&cfg, s.tenant().unwrap());
        assert!(snap.tenants[t].drops_for(DropReason::SpoofedTenant) > 0);
        for (f, v) in frames.iter().zip(&r.verdicts) {
            if f.scenario == s && f.role == Role::FirstFlight {
                assert!(
                    matches!(
                        v,
                        Verdict::Drop(DropReason::SpoofedTenant | DropReason::RateLimited)
                    ),
                    "{f:?}: {v:?}"
                );
            }
        }
    }

    // TLS flows: the verdict the tenant's TLS policy names.
    let mut seen = [0usize; 3];
    for (f, v) in frames.iter().zip(&r.verdicts) {
        let (Some(t), true, Role::FirstFlight | Role::Data) =
            (f.scenario.tenant(), f.scenario.is_tls(), f.role)
        else {
            continue;
        };
        if matches!(f.scenario.intent(), Intent::Drop(_)) {
            continue;
        }
        let want = match cfg.tenants[tenant_index(&cfg, t)].tls.terminate {
            Termination::Dpu => Verdict::Terminate(TlsHint::TerminateDpu),
            Termination::Host => Verdict::Terminate(TlsHint::TerminateHost),
            Termination::Passthrough => match v {
                Verdict::Gpu { queue } => Verdict::Gpu { queue: *queue },
                _ => Verdict::Host, // never matches below
            },
        };
        assert_eq!(*v, want, "{f:?}");
        let k = match v {
            Verdict::Terminate(TlsHint::TerminateDpu) => 0,
            Verdict::Terminate(_) => 1,
            _ => 2,
        };
        seen[k] += 1;
    }
    assert!(
        seen.iter().all(|&n| n > 0),
        "terminate dpu/host/passthrough: {seen:?}"
    );
    assert!(r
        .consumed
        .iter()
        .any(|d| d.flags.contains(DescFlags::TLS) && d.tenant == 2));

    // The split Chromium hello: host for the first segment, the decision on the second.
    let mut split_flows = 0;
    for part in frames.iter().filter(|f| f.role == Role::FirstFlightPart) {
        let Some(last) = frames
            .iter()
            .skip(part.index as usize + 1)
            .find(|f| f.flow == part.flow && f.role == Role::FirstFlight)
        else {
            continue;
        };
        assert_eq!(r.verdicts[part.index as usize], Verdict::Host, "{part:?}");
        let want = match part.scenario {
            Scenario::FChromiumSplit => Verdict::Terminate(TlsHint::TerminateHost),
            // tenant-b's VLAN with tenant-f's SNI.
            _ => Verdict::Drop(DropReason::SpoofedSni),
        };
        assert_eq!(r.verdicts[last.index as usize], want, "{last:?}");
        split_flows += 1;
    }
    assert!(split_flows > 0);
    assert!(snap.reassembly.opened >= split_flows as u64);

    // The noisy tenant is policed; nobody else is.
    let e = tenant_index(&cfg, "tenant-e");
    assert!(snap.tenants[e].drops_for(DropReason::RateLimited) > 0);
    for (i, t) in snap.tenants.iter().enumerate() {
        if i != e {
            assert_eq!(
                t.drops_for(DropReason::RateLimited),
                0,
                "{}",
                cfg.tenants[i].name
            );
        }
    }
    // Junk and unknown tenants are unattributed.
    for reason in [
        DropReason::Malformed,
        DropReason::NotIp,
        DropReason::UnknownTenant,
    ] {
        assert!(snap.unattributed.drops_for(reason) > 0, "{reason}");
        assert_eq!(
            snap.total.drops_for(reason),
            snap.unattributed.drops_for(reason)
        );
    }
}

/// A burst decides each frame as if the frames before it had come alone: the flow lookups the
/// parse stage makes for the whole burst stand only while no earlier frame made or removed an
/// entry. The same mix in calls of one frame gives the same verdicts, descriptors and counters.
#[test]
fn a_burst_decides_as_its_frames_one_by_one() {
    let traffic = Traffic::mix(7, 20_000);
    let whole = run(&traffic);
    let single = run_in_calls_of(&traffic, 1);
    let differ = whole
        .verdicts
        .iter()
        .zip(&single.verdicts)
        .position(|(a, b)| a != b);
    assert_eq!(differ, None, "first differing frame");
    assert_eq!(whole.consumed.len(), single.consumed.len());
    assert_eq!(whole.snapshot.total, single.snapshot.total);
    assert_eq!(whole.snapshot.flows.live, single.snapshot.flows.live);
}

#[test]
fn established_flows_only_hit_the_flow_table() {
    let traffic = Traffic::established_only(42, 120, 20_000);
    let r = run(&traffic);
    assert!(r.snapshot.balanced());
    let frames = traffic.frames();
    for (f, v) in frames.iter().zip(&r.verdicts) {
        assert!(f.intent().matches(v), "{f:?}: {v:?}");
    }
    let enqueued: u64 = r.snapshot.queues.iter().map(|q| q.enqueued).sum();
    assert_eq!(r.consumed.len() as u64, enqueued);
    let flows = r.snapshot.flows;
    // One entry per flow, plus one per SYN of a tenant (remembered until its first flight,
    // which replaces it).
    let syns = frames.iter().filter(|f| f.role == Role::Handshake).count() as u64;
    assert!(
        flows.inserted >= 120 && flows.inserted <= 120 + syns,
        "{flows:?}, {syns} SYNs"
    );
    assert!(flows.hits >= 20_000, "{flows:?}");
}
