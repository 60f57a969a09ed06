//! infersteer's forwarding loop on DPDK, for comparison with `dpdk-testpmd`'s io forwarding
//! (`scripts/bench-dpdk.sh` runs both): one core receives bursts of 32 on every port, runs
//! them through the pipeline, drains the GPU queues between bursts (the consumer frees the
//! mbufs in bulk, as a GPU consumer would once done with them) and transmits host-bound
//! frames on the paired port (0 ↔ 1, as testpmd's io mode pairs them).
//!
//! Without a NIC it runs on `net_null` vdevs, whose receive path (copy=0) hands out mbufs
//! with whatever bytes they hold: the example first writes one Ethernet/IPv4/TCP segment of
//! an admitted flow into every mbuf of the pool ("seeding"), and sends each flow's first flight
//! (a real HTTP/1.1 request naming model `mistral-7b`) once through the pipeline, so every
//! received frame is an established flow's segment steered to a GPU queue.
//!
//! ```text
//! dpdk_forward [--seconds N] [--flows N] [--queues N] [--frame-len N] [--pool N] [--no-seed]
//!              [--prefetch-ahead N] [--io] [--profile] [-- EAL args]
//! ```
//!
//! Without EAL args: `-l 0 --no-huge -m 512 --no-pci --no-shconf --no-telemetry
//! --file-prefix infersteer-fwd-<pid> --vdev net_null0,size=<len> --vdev net_null1,size=<len>`.
//! `--no-seed` skips the seeding and the first flights (a real NIC or a pcap brings its own
//! requests). `--io` leaves the pipeline out: plain rx → tx on the paired port through the
//! safe wrappers, i.e. testpmd's io mode, to show what the DPDK layer itself costs.
//! `--prefetch-ahead N` sets [`PipelineConfig::prefetch_ahead`] (default 4; 0 turns the
//! prefetch off: `net_null` hands out frames that are already in the cache).
//! `--profile` reads the TSC around each part of the loop and prints where the time goes per
//! packet (receive, pipeline, GPU consumer); the extra timestamps cost a little throughput.
//! Prints the counters and, last, `infersteer-mpps: X`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)] // an example: a broken setup may panic

use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;
use std::sync::Arc;

use infersteer::dpdk::{
    process_mbufs, BurstOutcome, Eal, MbufBurst, MbufConsumer, Mempool, MempoolConfig, Port,
    PortConfig, TscClock, MAX_BURST,
};
use infersteer::pipeline::{InFlight, Pipeline, PipelineConfig, RawFrame, Verdict};
use infersteer::policy::{IpPrefix, PolicyConfig, PolicyTable, TenantConfig};
use infersteer::queue::{BatchPolicy, Descriptor, Ring};
use infersteer::steer::{Choice, GpuQueueSpec, PoolSpec, SteerConfig, SteerTable};
use infersteer::verdict::DropReason;
use infersteer::wire::emit;

const HTTP1_REQUEST: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/l7/http1_openai_model_header.bin"
));
const SERVER: [u8; 4] = [10, 2, 0, 1];
const QUEUE_CAPACITY: usize = 1024;

struct Options {
    seconds: f64,
    flows: usize,
    queues: usize,
    frame_len: usize,
    seed: bool,
    io: bool,
    profile: bool,
    pool: u32,
    prefetch_ahead: usize,
    eal: Vec<String>,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        seconds: 5.0,
        flows: 64,
        queues: 4,
        frame_len: 128,
        seed: true,
        io: false,
        profile: false,
        pool: 8191,
        prefetch_ahead: PipelineConfig::default().prefetch_ahead,
        eal: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--seconds" => o.seconds = value(&a)?.parse().map_err(|e| format!("{a}: {e}"))?,
            "--flows" => o.flows = value(&a)?.parse().map_err(|e| format!("{a}: {e}"))?,
            "--queues" => o.queues = value(&a)?.parse().map_err(|e| format!("{a}: {e}"))?,
            "--frame-len" => o.frame_len = value(&a)?.parse().map_err(|e| format!("{a}: {e}"))?,
            "--no-seed" => o.seed = false,
            "--io" => o.io = true,
            "--profile" => o.profile = true,
            "--pool" => o.pool = value(&a)?.parse().map_err(|e| format!("{a}: {e}"))?,
            "--prefetch-ahead" => {
                o.prefetch_ahead = value(&a)?.parse().map_err(|e| format!("{a}: {e}"))?
            }
            "--" => {
                o.eal = args.by_ref().collect();
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if !(1..=60_000).contains(&o.flows) || !(1..=64).contains(&o.queues) {
        return Err("--flows 1..60000, --queues 1..64".to_owned());
    }
    if o.prefetch_ahead > MAX_BURST {
        return Err(format!("--prefetch-ahead 0..{MAX_BURST}"));
    }
    if !(1023..=1 << 20).contains(&o.pool) {
        return Err("--pool 1023..1048576 mbufs".to_owned());
    }
    if !(58..=1514).contains(&o.frame_len) {
        return Err("--frame-len 58..1514".to_owned());
    }
    if o.eal.is_empty() {
        let len = o.frame_len;
        o.eal = [
            "-l",
            "0",
            "--no-huge",
            "-m",
            "512",
            "--no-pci",
            "--no-shconf",
            "--no-telemetry",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        o.eal.push(format!(
            "--file-prefix=infersteer-fwd-{}",
            std::process::id()
        ));
        for p in 0..2 {
            o.eal.push("--vdev".to_owned());
            o.eal.push(format!("net_null{p},size={len}"));
        }
    }
    Ok(o)
}

/// Flow `i`: 10.1.x.y:port → 10.2.0.1:8000.
fn flow_src(i: usize) -> ([u8; 4], u16) {
    (
        [10, 1, (i / 250) as u8, (i % 250) as u8 + 1],
        20000 + (i % 40000) as u16,
    )
}

fn tcp_frame(i: usize, seq: u32, payload: &[u8]) -> Vec<u8> {
    let (src, sport) = flow_src(i);
    let mut spec = emit::FrameSpec::tcp_v4(src, SERVER, sport, 8000, payload);
    spec.l4 = emit::L4Spec::Tcp {
        src_port: sport,
        dst_port: 8000,
        seq,
        ack: 1,
        flags: 0x18,
        window: 65535,
        options: &[],
    };
    let mut buf = vec![0u8; 2048];
    let n = emit::emit_frame(&spec, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

/// The captured request with its Content-Length raised to 1 GB, so that the body segments
/// that follow are its body (bytes after a complete message would be the next request, which
/// the pipeline checks as one).
fn long_request() -> Vec<u8> {
    let text = String::from_utf8_lossy(HTTP1_REQUEST);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let head: Vec<String> = head
        .split("\r\n")
        .map(|line| {
            if line.to_ascii_lowercase().starts_with("content-length:") {
                "Content-Length: 1000000000".to_owned()
            } else {
                line.to_owned()
            }
        })
        .collect();
    format!("{}\r\n\r\n{body}", head.join("\r\n")).into_bytes()
}

/// The segment after flow `i`'s request, `len` bytes in all: part of the request's body.
fn body_frame(i: usize, len: usize) -> Vec<u8> {
    let payload = vec![b'x'; len - 54];
    tcp_frame(i, 1 + long_request().len() as u32, &payload)
}

fn build_pipeline(o: &Options, now_ns: u64) -> (Pipeline, Vec<MbufConsumer>, Arc<InFlight>) {
    let mut acme = TenantConfig::new("acme");
    acme.identity.prefixes = vec![IpPrefix::new(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 0)), 16)];
    acme.models = vec!["mistral-7b".to_owned()];
    acme.pools = vec![0];
    acme.max_in_flight = 1 << 20;
    let policy = PolicyTable::build(&PolicyConfig {
        tenants: vec![acme],
        models: vec!["mistral-7b".to_owned()],
        pools: 1,
        precedence: Vec::new(),
        ..PolicyConfig::default()
    })
    .unwrap();
    let steer = SteerTable::build(&SteerConfig {
        pools: vec![PoolSpec {
            queues: (0..o.queues)
                .map(|q| GpuQueueSpec {
                    gpu: (q / 2) as u16,
                    queue: (q % 2) as u16,
                    weight: 1,
                })
                .collect(),
            choice: Choice::Maglev,
        }],
        model_pools: vec![vec![0]],
        high_watermark: QUEUE_CAPACITY * 3 / 4,
    })
    .unwrap();
    let inflight = Arc::new(InFlight::new(1));
    let (producers, consumers): (Vec<_>, Vec<_>) = (0..o.queues)
        .map(|_| Ring::<Descriptor>::new(QUEUE_CAPACITY).unwrap().split())
        .unzip();
    let pipeline = Pipeline::new(
        Arc::new(policy),
        Arc::new(steer),
        producers,
        Arc::clone(&inflight),
        PipelineConfig {
            prefetch_ahead: o.prefetch_ahead,
            ..PipelineConfig::default()
        },
        now_ns,
    )
    .unwrap();
    let gpu = consumers
        .into_iter()
        .map(|c| {
            #[allow(unsafe_code)]
            // SAFETY: the only producers of these queues belong to `pipeline`, which is fed
            // mbufs through `process_mbufs` (descriptors own their mbufs) and the first
            // flights as byte slices with handle 0 (no mbuf).
            unsafe {
                MbufConsumer::new(c, Arc::clone(&inflight))
            }
        })
        .collect();
    (pipeline, gpu, inflight)
}

fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let eal = match Eal::init(&o.eal) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let n_ports = eal.port_count().min(2);
    if n_ports == 0 {
        eprintln!("error: no ports (add --vdev or a NIC to the EAL args)");
        return ExitCode::FAILURE;
    }
    let pool = Mempool::new(
        &eal,
        "fwd_pool",
        MempoolConfig {
            size: o.pool,
            cache_size: 256,
            ..MempoolConfig::default()
        },
    )
    .unwrap();
    if o.seed {
        // Every mbuf of the pool gets one established segment (flows round robin).
        let mut all = Vec::new();
        while let Some(mut m) = pool.alloc() {
            m.append(&body_frame(all.len() % o.flows, o.frame_len))
                .unwrap();
            all.push(m);
        }
        println!(
            "seeded {} mbufs with {}-byte segments of {} flows",
            all.len(),
            o.frame_len,
            o.flows
        );
    }
    let mut ports: Vec<Port<'_>> = (0..n_ports)
        .map(|id| {
            let mut p = Port::by_id(&eal, id).unwrap();
            p.configure(&PortConfig::default(), &pool).unwrap();
            p.start().unwrap();
            p
        })
        .collect();
    // One clock for the pipeline's timestamps from setup on (flow ageing compares them).
    let clock = TscClock::new(&eal);
    let (mut pipeline, mut gpu, inflight) = build_pipeline(&o, clock.ticks_to_ns(clock.now()));
    let mut verdicts = [Verdict::Host; MAX_BURST];
    let policy = BatchPolicy::new(MAX_BURST, 0);
    let mut gpu_bytes = 0u64;

    if o.seed {
        // Each flow's first flight, once per port (the flow key includes the ingress port).
        let requests: Vec<Vec<u8>> = (0..o.flows)
            .map(|i| tcp_frame(i, 1, &long_request()))
            .collect();
        for port in 0..n_ports {
            let frames: Vec<RawFrame<'_>> = requests
                .iter()
                .map(|r| RawFrame {
                    bytes: r,
                    port,
                    rss: None,
                    handle: 0,
                })
                .collect();
            for chunk in frames.chunks(MAX_BURST) {
                let refs: Vec<&RawFrame<'_>> = chunk.iter().collect();
                let now_ns = clock.ticks_to_ns(clock.now());
                let n = pipeline.process_burst(&refs, now_ns, &mut verdicts);
                assert!(
                    verdicts[..n]
                        .iter()
                        .all(|v| matches!(v, Verdict::Gpu { .. })),
                    "first flights not admitted: {:?}",
                    &verdicts[..n]
                );
                for q in &mut gpu {
                    q.poll(policy, now_ns, |_, _| {});
                }
            }
        }
    }

    let mut rxq: Vec<_> = ports.iter().map(|p| p.rx_queue(0).unwrap()).collect();
    let mut txq: Vec<_> = ports.iter().map(|p| p.tx_queue(0).unwrap()).collect();
    if o.seed {
        let mut burst = MbufBurst::new();
        rxq[0].rx_burst(&mut burst);
        if let Some(m) = burst.as_slice().first() {
            let payload_is_seed = m
                .data()
                .get(54..)
                .is_some_and(|p| p.iter().all(|&b| b == b'x'));
            let tuple = infersteer::wire::parse_frame(m.data())
                .ok()
                .and_then(|s| s.tuple)
                .map(|t| {
                    format!(
                        "{}:{} -> {}:{}",
                        t.src_addr(),
                        t.src_port,
                        t.dst_addr(),
                        t.dst_port
                    )
                });
            println!(
                "first received frame: {} bytes on port {}, {:?}, seeded payload: {payload_is_seed}",
                m.data_len(),
                m.port(),
                tuple,
            );
        }
    }

    let (mut burst, mut host) = (MbufBurst::new(), MbufBurst::new());
    let mut total = BurstOutcome::default();
    let mut tx_sent = 0u64;
    let hz = clock.hz();
    let start = clock.now();
    let end = start + (o.seconds * hz as f64) as u64;
    let mut now = start;
    let mut iterations = 0u64;
    // `--profile`: TSC ticks spent receiving, in the pipeline, and in the GPU consumer.
    let mut ticks = [0u64; 3];
    let mut stamp = |part: usize, since: &mut u64| {
        if o.profile {
            let t = clock.now();
            if let Some(x) = ticks.get_mut(part) {
                *x += t - *since;
            }
            *since = t;
        }
    };
    while now < end {
        let now_ns = clock.ticks_to_ns(now);
        let mut since = if o.profile { clock.now() } else { 0 };
        for (p, rx) in rxq.iter_mut().enumerate() {
            let got = rx.rx_burst(&mut burst);
            stamp(0, &mut since);
            if got == 0 {
                continue;
            }
            if o.io {
                let n = burst.len();
                total.processed += n;
                let out_port = if n_ports == 2 { p ^ 1 } else { p };
                tx_sent += txq[out_port].tx_burst(&mut burst) as u64;
                burst.clear();
                continue;
            }
            let out = process_mbufs(&mut pipeline, &mut burst, now_ns, &mut verdicts, &mut host);
            stamp(1, &mut since);
            total.processed += out.processed;
            total.to_gpu += out.to_gpu;
            total.to_host += out.to_host;
            total.dropped += out.dropped;
            total.host_overflow += out.host_overflow;
            if !host.is_empty() {
                // io-forwarding pairs: 0 -> 1, 1 -> 0 (a single port sends back out).
                let out_port = if n_ports == 2 { p ^ 1 } else { p };
                tx_sent += txq[out_port].tx_burst(&mut host) as u64;
                host.clear();
                stamp(0, &mut since);
            }
        }
        // The GPU side, on this core between bursts: take what is due, free it in bulk.
        for q in &mut gpu {
            q.poll(policy, now_ns, |descs, _mbufs| {
                for d in descs {
                    gpu_bytes += u64::from(d.payload_len);
                }
            });
        }
        stamp(2, &mut since);
        iterations += 1;
        if iterations % 64 == 0 {
            now = clock.now();
        }
    }
    let elapsed = (clock.now() - start) as f64 / hz as f64;
    drop(rxq);
    drop(txq);
    let snap = pipeline.snapshot();
    let consumed: u64 = gpu.iter().map(MbufConsumer::consumed).sum();
    drop(gpu);
    for p in &mut ports {
        p.stop().unwrap();
    }
    let mpps = total.processed as f64 / elapsed / 1e6;
    if o.io {
        println!(
            "infersteer --io: {} ports, {}-byte frames, {elapsed:.2} s, rx {} tx {tx_sent} (no pipeline)",
            n_ports, o.frame_len, total.processed
        );
        println!("infersteer-mpps: {mpps:.2}");
        return ExitCode::SUCCESS;
    }
    println!(
        "infersteer: {} ports, {} flows, {} GPU queues, {}-byte frames, {elapsed:.2} s, one core (consumer on the same core between bursts)",
        n_ports, o.flows, o.queues, o.frame_len
    );
    println!(
        "infersteer: rx {} -> gpu {} (consumed {consumed}, {gpu_bytes} payload bytes), host/terminate {} (tx {tx_sent}), dropped {}",
        total.processed, total.to_gpu, total.to_host, total.dropped
    );
    for r in DropReason::ALL {
        let n = snap.total.drops_for(r);
        if n > 0 {
            println!("infersteer: drop {r:?}: {n}");
        }
    }
    println!(
        "infersteer: counters balanced: {}, in flight at exit: {}, pool {}/{} free",
        snap.balanced(),
        inflight.get(0),
        pool.available(),
        o.pool
    );
    if o.profile && total.processed > 0 {
        let per = |t: u64| t as f64 * 1e9 / hz as f64 / total.processed as f64;
        println!(
            "infersteer profile, ns per packet: rx and tx {:.2}, pipeline (process_mbufs) {:.2}, GPU consumer {:.2}, all {:.2}",
            per(ticks[0]),
            per(ticks[1]),
            per(ticks[2]),
            elapsed * 1e9 / total.processed as f64
        );
    }
    println!("infersteer-mpps: {mpps:.2}");
    drop(ports);
    ExitCode::SUCCESS
}
