//! Steer a pcap through the pipeline and write one pcap per verdict.
//!
//! ```sh
//! cargo run --release --example pcap_steer -- [IN.pcap] [--out DIR] [--port N] [--no-verify-checksums]
//! ```
//!
//! The point of presence is the embedded one (`infersteer::io::synthetic::pop_config`: seven
//! tenants, five models, four GPU pools). Every frame of `IN.pcap` (classic pcap, Ethernet) is
//! taken to arrive on ingress port `N` (default 0, the untrusted port; tenants bound to a port
//! are then known by their other attributes) and goes through `Pipeline::process_burst` in
//! bursts of 32, with the capture's own timestamps as the burst clock. GPU queues are drained
//! on the same thread between bursts. The frames are written to `DIR/gpu.pcap`,
//! `DIR/terminate.pcap`, `DIR/host.pcap` and `DIR/drop.pcap` (default `DIR`:
//! `target/pcap_steer`), and a summary with drops by reason is printed.
//!
//! TCP checksums are checked before a segment is classified (`bad_checksum` drops otherwise).
//! A capture taken on the sending host, whose NIC was to fill the checksums in (transmit
//! offload), has wrong ones: `--no-verify-checksums` turns the check off
//! (`PipelineConfig::verify_checksums`).
//!
//! Without `IN.pcap`, it first writes 20,000 frames of the synthetic traffic mix to
//! `DIR/input.pcap` and steers that.

#![allow(clippy::unwrap_used, clippy::expect_used)] // an example: fail loudly on bad setup

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use infersteer::io::pcap::{Reader, Writer};
use infersteer::io::synthetic::{pop_config, Traffic};
use infersteer::pipeline::{InFlight, Pipeline, PipelineConfig, RawFrame, Verdict};
use infersteer::policy::PolicyTable;
use infersteer::queue::{Descriptor, Ring};
use infersteer::steer::SteerTable;

fn main() -> ExitCode {
    let mut input: Option<PathBuf> = None;
    let mut out = PathBuf::from("target/pcap_steer");
    let mut port = 0u16;
    let mut verify_checksums = true;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = args.next().map(PathBuf::from).unwrap_or(out),
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(port),
            "--no-verify-checksums" => verify_checksums = false,
            "-h" | "--help" => {
                println!(
                    "usage: pcap_steer [IN.pcap] [--out DIR] [--port N] [--no-verify-checksums]"
                );
                return ExitCode::SUCCESS;
            }
            _ => input = Some(PathBuf::from(a)),
        }
    }
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("error: cannot create {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    let input = match input {
        Some(p) => p,
        None => {
            let traffic = Traffic::mix(7, 20_000);
            let mut w = Writer::new();
            for (i, f) in traffic.frames().iter().enumerate() {
                w.push(1_700_000_000_000_000_000 + i as u64 * 1_000, &f.bytes);
            }
            let p = out.join("input.pcap");
            std::fs::write(&p, w.as_bytes()).unwrap();
            println!("wrote {} synthetic frames to {}", w.len(), p.display());
            p
        }
    };
    let bytes = match std::fs::read(&input) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", input.display());
            return ExitCode::FAILURE;
        }
    };
    let reader = match Reader::new(&bytes) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: {e}", input.display());
            return ExitCode::FAILURE;
        }
    };
    let mut records = Vec::new();
    for r in reader {
        match r {
            Ok(r) => records.push(r),
            Err(e) => {
                eprintln!(
                    "warning: {}: {e}; steering the {} frames before it",
                    input.display(),
                    records.len()
                );
                break;
            }
        }
    }

    let (policy_cfg, steer_cfg) = pop_config();
    let policy = PolicyTable::build(&policy_cfg).unwrap();
    let steer = SteerTable::build(&steer_cfg).unwrap();
    let (producers, mut consumers): (Vec<_>, Vec<_>) = (0..steer.queue_count())
        .map(|_| Ring::<Descriptor>::new(1024).unwrap().split())
        .unzip();
    let inflight = Arc::new(InFlight::new(policy.tenant_count()));
    let start_ns = records.first().map_or(0, |r| r.ts_ns);
    let mut pipeline = Pipeline::new(
        Arc::new(policy),
        Arc::new(steer),
        producers,
        inflight.clone(),
        PipelineConfig {
            verify_checksums,
            ..PipelineConfig::default()
        },
        start_ns,
    )
    .unwrap();

    let mut outs: BTreeMap<&str, Writer> = ["gpu", "terminate", "host", "drop"]
        .into_iter()
        .map(|k| (k, Writer::new()))
        .collect();
    let mut verdicts = [Verdict::Host; 32];
    let mut scratch = [Descriptor::EMPTY; 64];
    let mut reasons: BTreeMap<&'static str, u64> = BTreeMap::new();
    for chunk in records.chunks(32) {
        let frames: Vec<RawFrame<'_>> = chunk
            .iter()
            .map(|r| RawFrame {
                bytes: r.data,
                port,
                ..RawFrame::default()
            })
            .collect();
        let refs: Vec<&RawFrame<'_>> = frames.iter().collect();
        let now = chunk.first().map_or(start_ns, |r| r.ts_ns);
        let n = pipeline.process_burst(&refs, now, &mut verdicts);
        for (r, v) in chunk.iter().zip(&verdicts[..n]) {
            let key = match v {
                Verdict::Gpu { .. } => "gpu",
                Verdict::Terminate(_) => "terminate",
                Verdict::Host => "host",
                Verdict::Drop(reason) => {
                    *reasons.entry(reason.name()).or_default() += 1;
                    "drop"
                }
            };
            if let Some(w) = outs.get_mut(key) {
                w.push(r.ts_ns, r.data);
            }
        }
        for c in &mut consumers {
            loop {
                let k = c.pop_burst(&mut scratch);
                if k == 0 {
                    break;
                }
                for d in &scratch[..k] {
                    inflight.release(d.tenant, 1);
                }
            }
        }
    }

    let snap = pipeline.snapshot();
    println!("steered {} frames of {}", snap.total.rx, input.display());
    for (k, w) in &outs {
        let p = out.join(format!("{k}.pcap"));
        std::fs::write(&p, w.as_bytes()).unwrap();
        println!("  {:<10} {:>8} frames -> {}", k, w.len(), p.display());
    }
    println!("drops by reason:");
    for (r, n) in &reasons {
        println!("  {r:<18} {n:>8}");
    }
    let t = snap.total;
    println!(
        "invariant rx = to_gpu + terminated + to_host + drops: {} = {} + {} + {} + {}: {}",
        t.rx,
        t.to_gpu,
        t.terminated,
        t.to_host,
        t.dropped(),
        if snap.balanced() { "holds" } else { "BROKEN" }
    );
    if snap.balanced() && t.rx == records.len() as u64 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
