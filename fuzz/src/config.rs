//! The configuration builders: arbitrary policy and steering configurations (names empty or
//! repeated, models and pools out of range, prefixes longer than their family, rates at and
//! past their limits, precedence lists with repeats) give a typed error or a table, never a
//! panic; a pair that builds also makes a pipeline (or a typed error), which then takes a burst.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use arbitrary::{Result, Unstructured};
use infersteer::pipeline::{InFlight, Pipeline, PipelineConfig, Verdict};
use infersteer::policy::{
    Attribute, IpPrefix, PolicyConfig, PolicyTable, Priority, Rate, RateLimit, TenantConfig,
    Termination, TlsPolicy, TrTcmConfig,
};
use infersteer::queue::{Descriptor, Ring};
use infersteer::steer::{Choice, GpuQueueSpec, PoolSpec, SteerConfig, SteerTable};

const NAMES: [&str; 6] = ["", "a", "b", "llama", "secret", "a.example"];

fn name(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(if u.ratio(1, 4)? {
        u.arbitrary::<String>()?
    } else {
        NAMES[usize::from(u.int_in_range(0..=5u8)?)].to_string()
    })
}

fn names(u: &mut Unstructured<'_>) -> Result<Vec<String>> {
    let n = u.int_in_range(0..=4u8)?;
    (0..n).map(|_| name(u)).collect()
}

fn small<'a, T: arbitrary::Arbitrary<'a>>(u: &mut Unstructured<'a>, max: u8) -> Result<Vec<T>> {
    let n = u.int_in_range(0..=max)?;
    (0..n).map(|_| u.arbitrary::<T>()).collect()
}

fn rate(u: &mut Unstructured<'_>) -> Result<Option<Rate>> {
    Ok(if u.arbitrary()? {
        Rate::new(u.arbitrary()?, u.arbitrary()?).ok()
    } else {
        None
    })
}

fn limit(u: &mut Unstructured<'_>) -> Result<RateLimit> {
    let packets = rate(u)?;
    let bytes = match (rate(u)?, rate(u)?) {
        (Some(c), Some(p)) => TrTcmConfig::new(c, p).ok(),
        _ => None,
    };
    Ok(RateLimit { packets, bytes })
}

fn prefix(u: &mut Unstructured<'_>) -> Result<IpPrefix> {
    let addr = if u.arbitrary()? {
        IpAddr::V4(Ipv4Addr::from(u.arbitrary::<u32>()?))
    } else {
        IpAddr::V6(Ipv6Addr::from(u.arbitrary::<u128>()?))
    };
    Ok(IpPrefix::new(addr, u.arbitrary()?))
}

fn attribute(u: &mut Unstructured<'_>) -> Result<Attribute> {
    Ok(*u.choose(&[
        Attribute::Port,
        Attribute::Vlan,
        Attribute::Vni,
        Attribute::SourcePrefix,
        Attribute::Sni,
    ])?)
}

fn tenant(u: &mut Unstructured<'_>) -> Result<TenantConfig> {
    let mut t = TenantConfig::new(&name(u)?);
    t.claims = names(u)?;
    t.identity.ports = small(u, 3)?;
    t.identity.vlans = small(u, 3)?;
    t.identity.vnis = small(u, 3)?;
    let n = u.int_in_range(0..=3u8)?;
    t.identity.prefixes = (0..n).map(|_| prefix(u)).collect::<Result<_>>()?;
    t.identity.sni = names(u)?;
    t.models = names(u)?;
    t.default_model = if u.arbitrary()? { Some(name(u)?) } else { None };
    t.pools = small(u, 4)?;
    t.priority = *u.choose(&[Priority::Low, Priority::Normal, Priority::High])?;
    t.max_in_flight = u.arbitrary()?;
    t.rate = limit(u)?;
    t.tls = TlsPolicy {
        require_tls: u.arbitrary()?,
        min_version: u.arbitrary()?,
        require_sni: u.arbitrary()?,
        alpn: names(u)?,
        allow_ech: u.arbitrary()?,
        terminate: *u.choose(&[
            Termination::Dpu,
            Termination::Host,
            Termination::Passthrough,
        ])?,
    };
    Ok(t)
}

fn configs(u: &mut Unstructured<'_>) -> Result<(PolicyConfig, SteerConfig)> {
    let n = u.int_in_range(0..=6u8)?;
    let tenants = (0..n).map(|_| tenant(u)).collect::<Result<_>>()?;
    let k = u.int_in_range(0..=5u8)?;
    let precedence = (0..k).map(|_| attribute(u)).collect::<Result<_>>()?;
    let e = u.int_in_range(0..=2u8)?;
    let policy = PolicyConfig {
        tenants,
        models: names(u)?,
        pools: u.arbitrary()?,
        precedence,
        tunnel_endpoints: (0..e).map(|_| prefix(u)).collect::<Result<_>>()?,
        unattributed_rate: limit(u)?,
    };
    let p = u.int_in_range(0..=4u8)?;
    let mut pools = Vec::new();
    for _ in 0..p {
        let q = u.int_in_range(0..=4u8)?;
        let queues = (0..q)
            .map(|_| {
                Ok(GpuQueueSpec {
                    gpu: u.arbitrary()?,
                    queue: u.int_in_range(0..=8u16)?,
                    weight: u.arbitrary()?,
                })
            })
            .collect::<Result<_>>()?;
        pools.push(PoolSpec {
            queues,
            choice: *u.choose(&[Choice::Maglev, Choice::PowerOfTwo])?,
        });
    }
    let m = u.int_in_range(0..=4u8)?;
    let model_pools = (0..m).map(|_| small(u, 3)).collect::<Result<_>>()?;
    let steer = SteerConfig {
        pools,
        model_pools,
        high_watermark: u.arbitrary()?,
    };
    Ok((policy, steer))
}

/// One input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok((policy, steer)) = configs(&mut u) else {
        return;
    };
    let (Ok(policy), Ok(steer)) = (PolicyTable::build(&policy), SteerTable::build(&steer)) else {
        return;
    };
    if steer.queue_count() > 64 {
        return;
    }
    let (producers, _consumers): (Vec<_>, Vec<_>) = (0..steer.queue_count())
        .map(|_| Ring::<Descriptor>::new(16).unwrap().split())
        .unzip();
    let inflight = Arc::new(InFlight::new(policy.tenant_count()));
    let config = PipelineConfig {
        flow_capacity: 16,
        h2_connections: 2,
        tenant_h2_connections: 1,
        ..PipelineConfig::default()
    };
    let Ok(mut p) = Pipeline::new(
        Arc::new(policy),
        Arc::new(steer),
        producers,
        inflight,
        config,
        0,
    ) else {
        return;
    };
    let rest = u.take_rest();
    let frames: Vec<&[u8]> = rest.chunks(96).take(32).collect();
    let mut verdicts = vec![Verdict::Host; frames.len()];
    let n = p.process_burst(&frames, 1, &mut verdicts);
    assert_eq!(n, frames.len());
    assert!(p.snapshot().balanced());
}
