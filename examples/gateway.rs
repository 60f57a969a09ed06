//! The main job: a synthetic edge inference point of presence, end to end.
//!
//! Builds the PoP of `infersteer::io::synthetic` (seven tenants, five models, four GPU pools
//! over two GPUs), one GPU queue ring per queue, and one worker thread per GPU that drains its
//! queues in batches (`drain_into` + `BatchPolicy`) and gives the tenants' in-flight slots back,
//! standing in for the GPU. The data-plane core (this thread) runs the generated traffic mix
//! (real client first flights over plain Ethernet, VLAN and VXLAN, IPv4 and IPv6, plus spoofed,
//! refused, unknown and malformed traffic) through `Pipeline::process_burst` in bursts of 32,
//! one `Instant` timestamp per burst, replaying the mix until the packet count or the time is
//! reached. Then it stops the workers and prints the counters, and checks that
//! `rx = to_gpu + terminated + to_host + Σ drops` holds in total and per tenant and that the
//! workers consumed exactly what was enqueued (exit status 1 if not).
//!
//! Run: `cargo run --release --example gateway [-- [--packets N] [--seconds S] [--seed X]
//! [FRAME_FILE...]]`. Defaults: 30 M packets or 3 s, whichever comes first. Raw Ethernet frame
//! files (no pcap header), when given, are replayed instead of the synthetic mix, arriving on
//! the untrusted port.

#![allow(clippy::unwrap_used, clippy::expect_used)] // an example: a broken setup may panic

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use infersteer::capacity::BURST_SIZE;
use infersteer::io::synthetic::{self, pop_config, Traffic};
use infersteer::pipeline::{Counts, InFlight, Pipeline, PipelineConfig, RawFrame, Verdict};
use infersteer::policy::PolicyTable;
use infersteer::queue::{drain_into, BatchPolicy, Consumer, Descriptor, Ring};
use infersteer::steer::SteerTable;
use infersteer::verdict::DropReason;

/// Slots per GPU queue ring.
const RING_CAPACITY: usize = 1024;
/// The stand-in GPU's batches: up to 32 descriptors, or whatever waited 20 µs.
const BATCH: BatchPolicy = BatchPolicy::new(32, 20_000);

struct Options {
    packets: u64,
    seconds: f64,
    seed: u64,
    files: Vec<String>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        packets: 30_000_000,
        seconds: 3.0,
        seed: 0x1f2e_3d4c,
        files: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--packets" => o.packets = value("--packets")?.parse().map_err(|e| format!("{e}"))?,
            "--seconds" => o.seconds = value("--seconds")?.parse().map_err(|e| format!("{e}"))?,
            "--seed" => o.seed = value("--seed")?.parse().map_err(|e| format!("{e}"))?,
            _ => o.files.push(a),
        }
    }
    Ok(o)
}

/// One stand-in GPU: drains its queues until told to stop and the rings are empty. Returns
/// (global queue index, descriptors consumed, batches).
fn gpu_worker(
    mut queues: Vec<(usize, Consumer<Descriptor>)>,
    inflight: Arc<InFlight>,
    stop: Arc<AtomicBool>,
    t0: Instant,
) -> Vec<(usize, u64, u64)> {
    let mut scratch = [Descriptor::EMPTY; 32];
    let mut counts: Vec<(usize, u64, u64)> = queues.iter().map(|(q, _)| (*q, 0, 0)).collect();
    loop {
        let stopping = stop.load(Ordering::Acquire);
        // Once stopping, release every partial batch at once.
        let now = if stopping {
            u64::MAX
        } else {
            t0.elapsed().as_nanos() as u64
        };
        let mut got = 0;
        for ((_, consumer), (_, consumed, batches)) in queues.iter_mut().zip(counts.iter_mut()) {
            let mut sink = |batch: &[Descriptor]| {
                // The "GPU" is done with the batch at once: give the in-flight slots back.
                for d in batch {
                    inflight.release(d.tenant, 1);
                }
                *batches += 1;
            };
            let n = drain_into(consumer, &mut sink, BATCH, now, &mut scratch) as u64;
            *consumed += n;
            got += n;
        }
        if got == 0 {
            if stopping && queues.iter().all(|(_, c)| c.is_empty()) {
                return counts;
            }
            thread::sleep(Duration::from_micros(20));
        }
    }
}

fn print_counts(name: &str, c: &Counts) {
    let mut top: Vec<(DropReason, u64)> = DropReason::ALL
        .iter()
        .map(|&r| (r, c.drops_for(r)))
        .filter(|&(_, n)| n > 0)
        .collect();
    top.sort_by_key(|t| std::cmp::Reverse(t.1));
    let top: Vec<String> = top
        .iter()
        .take(3)
        .map(|(r, n)| format!("{}={n}", r.name()))
        .collect();
    println!(
        "  {name:<13} {:>11} {:>11} {:>11} {:>9} {:>11}  {}{}",
        c.rx,
        c.to_gpu,
        c.terminated,
        c.to_host,
        c.dropped(),
        top.join(" "),
        if c.balanced() { "" } else { "  UNBALANCED" }
    );
}

fn main() -> ExitCode {
    let opts = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };

    // The PoP.
    let (policy_cfg, steer_cfg) = pop_config();
    let policy = Arc::new(PolicyTable::build(&policy_cfg).expect("policy config"));
    let steer = Arc::new(SteerTable::build(&steer_cfg).expect("steer config"));
    let inflight = Arc::new(InFlight::new(policy.tenant_count()));

    // The traffic: the synthetic mix, or the frames of the files given.
    let setup = Instant::now();
    let traffic;
    let file_frames: Vec<Vec<u8>>;
    let frames: Vec<RawFrame<'_>> = if opts.files.is_empty() {
        traffic = Traffic::new(opts.seed);
        traffic
            .frames()
            .iter()
            .map(|f| RawFrame {
                bytes: &f.bytes,
                port: f.port,
                rss: None,
                handle: u64::from(f.index),
            })
            .collect()
    } else {
        let mut v = Vec::new();
        for path in &opts.files {
            match std::fs::read(path) {
                Ok(bytes) => v.push(bytes),
                Err(e) => {
                    eprintln!("error: cannot read {path}: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        file_frames = v;
        traffic = Traffic::default();
        file_frames
            .iter()
            .enumerate()
            .map(|(i, b)| RawFrame {
                bytes: b,
                port: synthetic::PORT_INTERNET,
                rss: None,
                handle: i as u64,
            })
            .collect()
    };
    if frames.is_empty() {
        eprintln!("error: no frames");
        return ExitCode::FAILURE;
    }
    let bytes: usize = frames.iter().map(|f| f.bytes.len()).sum();
    println!(
        "infersteer gateway: {} tenants, {} models, {} pools, {} GPU queues on 2 GPUs",
        policy.tenant_count(),
        policy.model_count(),
        steer_cfg.pools.len(),
        steer.queue_count()
    );
    if opts.files.is_empty() {
        let [syn, part, first, data, junk] = traffic.role_counts();
        println!(
            "traffic: {} frames ({:.1} MB) in {} flows, built in {:.0} ms: {syn} SYN, {first} \
             first flights (+{part} leading segments), {data} data segments, {junk} junk",
            frames.len(),
            bytes as f64 / 1e6,
            traffic.flows().len(),
            setup.elapsed().as_secs_f64() * 1e3
        );
    } else {
        println!("traffic: {} frames from files", frames.len());
    }

    // GPU queues, and one stand-in GPU worker per GPU.
    let t0 = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let mut producers = Vec::new();
    let mut per_gpu: Vec<Vec<(usize, Consumer<Descriptor>)>> = Vec::new();
    for q in 0..steer.queue_count() {
        let (p, c) = Ring::<Descriptor>::new(RING_CAPACITY)
            .expect("ring")
            .split();
        producers.push(p);
        let gpu = usize::from(steer.queue(q).map_or(0, |s| s.gpu));
        if per_gpu.len() <= gpu {
            per_gpu.resize_with(gpu + 1, Vec::new);
        }
        per_gpu[gpu].push((q, c));
    }
    let workers: Vec<_> = per_gpu
        .into_iter()
        .map(|queues| {
            let (inflight, stop) = (inflight.clone(), stop.clone());
            thread::spawn(move || gpu_worker(queues, inflight, stop, t0))
        })
        .collect();

    let mut pipeline = Pipeline::new(
        policy.clone(),
        steer.clone(),
        producers,
        inflight.clone(),
        PipelineConfig::default(),
        0,
    )
    .expect("pipeline");

    // The data-plane core.
    println!(
        "running: up to {} packets or {:.1} s, bursts of {BURST_SIZE}, {} worker threads",
        opts.packets,
        opts.seconds,
        workers.len()
    );
    let mut verdicts = [Verdict::Host; BURST_SIZE];
    let mut refs: [&RawFrame<'_>; BURST_SIZE] = [&frames[0]; BURST_SIZE];
    let (mut sent, mut bursts, mut passes) = (0u64, 0u64, 0u64);
    let deadline = Duration::from_secs_f64(opts.seconds.max(0.0));
    let start = Instant::now();
    'run: loop {
        passes += 1;
        for chunk in frames.chunks(BURST_SIZE) {
            for (r, f) in refs.iter_mut().zip(chunk) {
                *r = f;
            }
            let n = chunk.len();
            let now = t0.elapsed().as_nanos() as u64;
            sent += pipeline.process_burst(&refs[..n], now, &mut verdicts[..n]) as u64;
            bursts += 1;
            if sent >= opts.packets || (bursts % 256 == 0 && start.elapsed() >= deadline) {
                break 'run;
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();

    // Stop the workers; they drain what is left.
    stop.store(true, Ordering::Release);
    let mut consumed = vec![(0u64, 0u64); steer.queue_count()];
    for w in workers {
        for (q, n, b) in w.join().expect("worker") {
            consumed[q] = (n, b);
        }
    }
    let snap = pipeline.snapshot();

    println!(
        "processed {sent} frames ({passes} passes over the mix) in {elapsed:.2} s: {:.2} Mpps on \
         one data-plane core, workers beside it",
        sent as f64 / elapsed / 1e6
    );
    println!();
    println!(
        "  {:<13} {:>11} {:>11} {:>11} {:>9} {:>11}  top drops",
        "tenant", "rx", "to_gpu", "terminated", "to_host", "dropped"
    );
    for (i, c) in snap.tenants.iter().enumerate() {
        let name = policy
            .tenant(infersteer::policy::TenantId(i as u32))
            .map_or("?", |t| t.name.as_str());
        print_counts(name, c);
    }
    print_counts("(no tenant)", &snap.unattributed);
    print_counts("total", &snap.total);

    println!();
    println!(
        "  {:<5} {:<11} {:>4} {:>3} {:>11} {:>9} {:>11} {:>9}",
        "queue", "pool", "gpu", "q", "enqueued", "full", "consumed", "batches"
    );
    let mut pool_of = Vec::new();
    for (p, spec) in steer_cfg.pools.iter().enumerate() {
        pool_of.extend(std::iter::repeat(p).take(spec.queues.len()));
    }
    let mut consumed_total = 0u64;
    for (q, qc) in snap.queues.iter().enumerate() {
        let spec = steer
            .queue(q)
            .copied()
            .unwrap_or(infersteer::steer::GpuQueueSpec {
                gpu: 0,
                queue: 0,
                weight: 0,
            });
        let (n, b) = consumed[q];
        consumed_total += n;
        println!(
            "  {q:<5} {:<11} {:>4} {:>3} {:>11} {:>9} {:>11} {:>9}{}",
            synthetic::POOLS.get(pool_of[q]).unwrap_or(&"?"),
            spec.gpu,
            spec.queue,
            qc.enqueued,
            qc.full,
            n,
            b,
            if n == qc.enqueued { "" } else { "  MISMATCH" }
        );
    }

    println!();
    println!("drops by reason:");
    for r in DropReason::ALL {
        let n = snap.total.drops_for(r);
        if n > 0 {
            println!("  {:<18} {n:>11}", r.name());
        }
    }
    let f = snap.flows;
    println!(
        "flow table: live {} inserted {} hits {} misses {} aged_out {} evicted {} full {}",
        f.live, f.inserted, f.hits, f.misses, f.aged_out, f.evicted, f.full
    );
    let r = snap.reassembly;
    println!(
        "reassembly: opened {} appended {} released {} expired {} out_of_order {} conflict {} \
         too_long {} exhausted {}",
        r.opened,
        r.appended,
        r.released,
        r.expired,
        r.out_of_order,
        r.conflict,
        r.too_long,
        r.exhausted
    );

    // The invariants.
    let enqueued: u64 = snap.queues.iter().map(|q| q.enqueued).sum();
    let balanced = snap.balanced();
    let all_consumed = consumed_total == enqueued && enqueued == snap.total.to_gpu;
    let leftover: u64 = (0..policy.tenant_count() as u32)
        .map(|t| inflight.get(t))
        .sum();
    println!();
    println!(
        "invariant rx = to_gpu + terminated + to_host + drops: {} = {} + {} + {} + {}: {} (total, \
         per tenant and across tenants)",
        snap.total.rx,
        snap.total.to_gpu,
        snap.total.terminated,
        snap.total.to_host,
        snap.total.dropped(),
        if balanced { "holds" } else { "FAILS" }
    );
    println!(
        "descriptors: enqueued {enqueued}, consumed by workers {consumed_total}, in flight left \
         {leftover}: {}",
        if all_consumed && leftover == 0 {
            "all consumed"
        } else {
            "MISMATCH"
        }
    );
    if balanced && all_consumed && leftover == 0 && sent == snap.total.rx {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
