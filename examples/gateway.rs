//! The main job, at this stage of the project: parse a set of embedded sample frames (real
//! kernel captures from `tests/fixtures/wire/`, frames built with the emitter, and malformed
//! ones) and print what the data plane learns from each. The burst pipeline, tenants and GPU
//! queues come with later issues and will take this example's place.
//!
//! Run: `cargo run --release --example gateway` (or pass paths of raw Ethernet frames to parse
//! those instead).

#![allow(clippy::unwrap_used, clippy::expect_used)] // an example: a broken setup may panic

use std::process::ExitCode;

use infersteer::capacity::BURST_SIZE;
use infersteer::wire::emit::{self, FrameSpec, TunnelProto};
use infersteer::wire::{self, FrameSummary, L3Kind, L4Kind};

macro_rules! fixture {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/wire/",
                $name,
                ".bin"
            ))
            .to_vec(),
        )
    };
}

fn samples() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = vec![
        fixture!("ipv4_udp"),
        fixture!("ipv4_tcp_syn"),
        fixture!("ipv4_options_udp"),
        fixture!("ipv4_frag_first"),
        fixture!("ipv4_frag_later"),
        fixture!("vlan_udp"),
        fixture!("qinq_udp"),
        fixture!("ipv6_tcp_data"),
        fixture!("ipv6_routing_udp"),
        fixture!("ipv6_frag_later"),
        fixture!("vxlan_tcp"),
        fixture!("vxlan_ipv6_underlay"),
        fixture!("geneve_options_udp"),
        fixture!("arp"),
    ];
    let request = b"POST /v1/chat/completions HTTP/1.1\r\nHost: tenant-a.infer.example\r\n\r\n";
    let mut buf = [0u8; 512];
    let spec = FrameSpec::tcp_v4([10, 1, 0, 7], [10, 2, 0, 1], 51000, 8000, request).in_tunnel(
        TunnelProto::Vxlan { vni: 1001 },
        [192, 0, 2, 1],
        [192, 0, 2, 2],
    );
    let n = emit::emit_frame(&spec, &mut buf).expect("sample frame");
    out.push(("emitted_vxlan_http", buf[..n].to_vec()));
    // Malformed: a truncated VXLAN frame and an IPv4 header with IHL 4.
    out.push(("truncated_vxlan", buf[..60].to_vec()));
    let mut bad_ihl = out[0].1.clone();
    bad_ihl[14] = 0x44;
    out.push(("bad_ipv4_ihl", bad_ihl));
    out
}

fn describe(frame: &[u8], s: &FrameSummary) -> String {
    let mut line = String::new();
    let layers = s.innermost();
    if let Some(t) = s.tunnel {
        line += &format!("{:?} vni {} | ", t.kind, t.vni);
    }
    if !layers.vlans.is_empty() {
        line += &format!("vlan {:?} | ", layers.vlans.as_slice());
    }
    match (layers.l3, s.tuple) {
        (Some(l3), Some(t)) => {
            let l4 = match layers.l4.map(|l| l.kind) {
                Some(L4Kind::Udp) => "udp",
                Some(L4Kind::Tcp) => "tcp",
                None => "ip",
            };
            let v = if l3.kind == L3Kind::Ipv4 {
                "ipv4"
            } else {
                "ipv6"
            };
            line += &format!(
                "{v}/{l4} proto {} {}:{} -> {}:{}",
                t.protocol.0,
                t.src_addr(),
                t.src_port,
                t.dst_addr(),
                t.dst_port
            );
            if layers.fragment.is_fragment() {
                line += &format!(" {:?}", layers.fragment);
            }
        }
        _ => line += &format!("ethertype {:#06x}", layers.ethertype.0),
    }
    line + &format!(
        " | payload {} bytes at {}",
        s.payload(frame).len(),
        s.payload_offset
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let frames: Vec<(String, Vec<u8>)> = if args.is_empty() {
        samples()
            .into_iter()
            .map(|(n, f)| (n.to_string(), f))
            .collect()
    } else {
        let mut v = Vec::new();
        for path in &args {
            match std::fs::read(path) {
                Ok(bytes) => v.push((path.clone(), bytes)),
                Err(e) => {
                    eprintln!("error: cannot read {path}: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        v
    };

    println!(
        "infersteer gateway (foundation stage): parsing {} frames in bursts of {BURST_SIZE}",
        frames.len()
    );
    let mut summaries = [FrameSummary::EMPTY; BURST_SIZE];
    let (mut ok, mut bad) = (0, 0);
    for burst in frames.chunks(BURST_SIZE) {
        for ((name, frame), out) in burst.iter().zip(summaries.iter_mut()) {
            match wire::parse_frame_into(frame, out) {
                Ok(()) => {
                    ok += 1;
                    println!("  {name:<22} {}", describe(frame, out));
                }
                Err(e) => {
                    bad += 1;
                    println!("  {name:<22} dropped: {e}");
                }
            }
        }
    }
    println!("parsed {ok}, malformed {bad}, total {}", ok + bad);
    ExitCode::SUCCESS
}
