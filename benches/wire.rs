//! Frame parsing, per packet over bursts of 32: infersteer's `parse_frame` beside etherparse's
//! `SlicedPacket::from_ethernet` on the same frames in the same criterion group.
//!
//! Each group holds one frame shape. A burst is 32 frames of that shape with different
//! addresses and ports; throughput is counted in frames, so criterion's "time" per element is
//! the cost per packet. etherparse's side does the least work that yields the same facts: for
//! tunnelled frames it slices the outer frame, then the inner frame from the tunnel payload.
//!
//! Run: `cargo bench --bench wire` (then `scripts/bench-table.py wire` for the ratio table).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches may panic on a broken setup

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use etherparse::{SlicedPacket, TransportSlice};
use infersteer::capacity::BURST_SIZE;
use infersteer::wire::emit::{
    self, FrameSpec, HopSpec, IpSpec, Ipv6ExtSpec, L4Spec, TunnelProto, VlanSpec,
};
use infersteer::wire::ethernet::EtherType;
use infersteer::wire::{self, FrameSummary, TunnelKind};

const PAYLOAD: &[u8] =
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: tenant-a.infer.example\r\n\r\n";

fn burst(make: impl Fn(u8) -> Vec<u8>) -> Vec<Vec<u8>> {
    (0..BURST_SIZE as u8).map(make).collect()
}

fn emit_spec(spec: &FrameSpec<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let n = emit::emit_frame(spec, &mut buf).expect("bench frame");
    buf.truncate(n);
    buf
}

fn shapes() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let udp = |i: u8| {
        FrameSpec::udp_v4(
            [10, 0, 0, i],
            [10, 0, 1, 1],
            40000 + u16::from(i),
            8080,
            PAYLOAD,
        )
    };
    let tcp = |i: u8| {
        FrameSpec::tcp_v4(
            [10, 0, 0, i],
            [10, 0, 1, 1],
            40000 + u16::from(i),
            443,
            PAYLOAD,
        )
    };
    let vlan = [VlanSpec {
        tpid: EtherType::VLAN,
        pcp: 0,
        vid: 100,
    }];
    let ext = [
        Ipv6ExtSpec::HopByHop { hdr_ext_len: 0 },
        Ipv6ExtSpec::Routing { hdr_ext_len: 2 },
        Ipv6ExtSpec::DestOptions { hdr_ext_len: 0 },
    ];
    let geneve_opts = [0xff, 0xff, 0x01, 0x01, 0xde, 0xad, 0xbe, 0xef];
    vec![
        ("udp", burst(|i| emit_spec(&udp(i)))),
        ("tcp", burst(|i| emit_spec(&tcp(i)))),
        (
            "vlan",
            burst(|i| {
                let mut s = udp(i);
                s.outer.vlans = &vlan;
                emit_spec(&s)
            }),
        ),
        (
            "vxlan",
            burst(|i| {
                emit_spec(&tcp(i).in_tunnel(
                    TunnelProto::Vxlan { vni: 42 },
                    [192, 0, 2, 1],
                    [192, 0, 2, 2],
                ))
            }),
        ),
        (
            "geneve",
            burst(|i| {
                let proto = TunnelProto::Geneve {
                    vni: 77,
                    options: &geneve_opts,
                };
                emit_spec(&tcp(i).in_tunnel(proto, [192, 0, 2, 1], [192, 0, 2, 2]))
            }),
        ),
        (
            "ipv6_ext",
            burst(|i| {
                let mut src = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
                src[15] = i;
                let dst = [
                    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
                ];
                emit_spec(&FrameSpec {
                    outer: HopSpec::new(IpSpec::V6 {
                        src,
                        dst,
                        hop_limit: 64,
                        flow_label: 0,
                        ext: &ext,
                    }),
                    tunnel: None,
                    l4: L4Spec::Udp {
                        src_port: 40000 + u16::from(i),
                        dst_port: 8080,
                    },
                    payload: PAYLOAD,
                })
            }),
        ),
    ]
}

/// etherparse's side: slice the frame, and for a tunnel slice the inner frame too.
#[inline]
fn etherparse_parse(frame: &[u8], tunnel_header: Option<usize>) {
    let Ok(outer) = SlicedPacket::from_ethernet(frame) else {
        return;
    };
    if let (Some(skip), Some(TransportSlice::Udp(udp))) = (tunnel_header, &outer.transport) {
        if let Some(inner_frame) = udp.payload().get(skip..) {
            black_box(SlicedPacket::from_ethernet(inner_frame).ok());
        }
    }
    black_box(&outer);
}

fn wire_bench(c: &mut Criterion) {
    for (name, frames) in shapes() {
        // Sanity: both parsers accept every frame, and infersteer finds the expected tunnel.
        let first = wire::parse_frame(&frames[0]).expect("infersteer parses the bench frame");
        assert!(
            SlicedPacket::from_ethernet(&frames[0]).is_ok(),
            "etherparse parses the bench frame"
        );
        let tunnel_header = first.tunnel.map(|t| match t.kind {
            TunnelKind::Vxlan => 8,
            TunnelKind::Geneve => 8 + usize::from(t.options_len),
        });

        let mut g = c.benchmark_group(format!("wire/{name}"));
        g.throughput(Throughput::Elements(frames.len() as u64));
        // The hot path's way: one array of summaries per burst, parsed into in place.
        let mut summaries = [FrameSummary::EMPTY; BURST_SIZE];
        g.bench_function("infersteer", |b| {
            b.iter(|| {
                for (f, out) in frames.iter().zip(summaries.iter_mut()) {
                    let _ = black_box(wire::parse_frame_into(black_box(f), out));
                }
                black_box(&mut summaries);
            })
        });
        g.bench_function("etherparse", |b| {
            b.iter(|| {
                for f in &frames {
                    etherparse_parse(black_box(f), tunnel_header);
                }
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    targets = wire_bench
}
criterion_main!(benches);
