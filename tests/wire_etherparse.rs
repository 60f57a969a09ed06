//! Differential test against the `etherparse` crate: on random valid frames, infersteer and
//! etherparse's `SlicedPacket` must agree on the innermost 5-tuple and the payload offsets.
//! Frames come from both emitters: infersteer's (VLANs, IPv4 options, IPv6 extension chains,
//! fragments, VXLAN/GENEVE, with inner frames parsed by etherparse from the tunnel payload) and
//! etherparse's own `PacketBuilder`. etherparse also checks infersteer's checksums.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches may panic on a broken setup

mod common;

use std::net::IpAddr;

use common::{frame_model, FrameModel, L4Model};
use etherparse::{LinkExtSlice, NetSlice, PacketBuilder, SlicedPacket, TransportSlice};
use infersteer::wire::{self, FrameSummary};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

fn offset_in(frame: &[u8], part: &[u8]) -> usize {
    part.as_ptr() as usize - frame.as_ptr() as usize
}

/// What etherparse sees in one Ethernet frame: VLAN ids, addresses, ports, protocol, payload
/// offset (relative to `base`) and, for UDP, the UDP payload (to find a tunnel's inner frame).
#[derive(Debug, PartialEq)]
struct Seen {
    vlans: Vec<u16>,
    src: IpAddr,
    dst: IpAddr,
    ports: (u16, u16),
    protocol: u8,
    payload: std::ops::Range<usize>,
}

fn etherparse_view<'a>(base: &[u8], frame: &'a [u8]) -> (Seen, Option<&'a [u8]>) {
    let p = SlicedPacket::from_ethernet(frame).unwrap_or_else(|e| panic!("etherparse: {e:?}"));
    let vlans = p
        .link_exts
        .iter()
        .map(|e| match e {
            LinkExtSlice::Vlan(v) => v.vlan_identifier().value(),
            LinkExtSlice::Macsec(_) => panic!("no MACsec in these frames"),
        })
        .collect();
    let (src, dst, ip_payload) = match p.net.as_ref().expect("IP") {
        NetSlice::Ipv4(v4) => (
            IpAddr::V4(v4.header().source_addr()),
            IpAddr::V4(v4.header().destination_addr()),
            v4.payload(),
        ),
        NetSlice::Ipv6(v6) => (
            IpAddr::V6(v6.header().source_addr()),
            IpAddr::V6(v6.header().destination_addr()),
            v6.payload(),
        ),
        NetSlice::Arp(_) => panic!("no ARP in these frames"),
    };
    let protocol = ip_payload.ip_number.0;
    let ip_range = offset_in(base, ip_payload.payload)
        ..offset_in(base, ip_payload.payload) + ip_payload.payload.len();
    let (ports, payload, udp_payload) = match &p.transport {
        Some(TransportSlice::Udp(u)) => {
            let at = offset_in(base, u.payload());
            (
                (u.source_port(), u.destination_port()),
                at..at + u.payload().len(),
                Some(u.payload()),
            )
        }
        Some(TransportSlice::Tcp(t)) => {
            let at = offset_in(base, t.payload());
            (
                (t.source_port(), t.destination_port()),
                at..at + t.payload().len(),
                None,
            )
        }
        _ => ((0, 0), ip_range, None),
    };
    (
        Seen {
            vlans,
            src,
            dst,
            ports,
            protocol,
            payload,
        },
        udp_payload,
    )
}

fn ours(s: &FrameSummary) -> Seen {
    let t = s.tuple.expect("tuple");
    Seen {
        vlans: s.innermost().vlans.as_slice().to_vec(),
        src: t.src_addr(),
        dst: t.dst_addr(),
        ports: (t.src_port, t.dst_port),
        protocol: t.protocol.0,
        payload: s.payload_range(),
    }
}

fn compare(m: &FrameModel) {
    let frame = m.emit();
    let s = wire::parse_frame(&frame).unwrap_or_else(|e| panic!("infersteer: {e} on {m:?}"));
    let (outer, udp_payload) = etherparse_view(&frame, &frame);
    let seen = match (s.tunnel, udp_payload) {
        (None, _) => outer,
        (Some(t), Some(udp_payload)) => {
            let skip = 8 + usize::from(t.options_len);
            etherparse_view(&frame, &udp_payload[skip..]).0
        }
        (Some(_), None) => panic!("tunnel without UDP in etherparse's view"),
    };
    assert_eq!(ours(&s), seen, "model {m:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Frames from infersteer's emitter, excluding fragments: etherparse does not slice the
    /// transport layer of a fragment, so there is nothing to compare beyond the IP layer.
    #[test]
    fn same_tuple_and_payload_as_etherparse(
        m in frame_model().prop_filter("fragment or short ICMP", |m| {
            // etherparse slices ICMP and needs its 8-byte header; a shorter one is not a valid frame.
            let short_icmp = matches!(m.l4, L4Model::Other(1 | 58)) && m.payload.len() < 8;
            !m.is_fragment() && !short_icmp
        })
    ) {
        compare(&m);
    }

    /// Frames from etherparse's `PacketBuilder`, parsed by infersteer.
    #[test]
    fn parses_etherparse_built_frames(
        vlans in prop::collection::vec(0u16..4096, 0..=2),
        v6 in any::<bool>(),
        tcp in any::<bool>(),
        src in any::<[u8; 16]>(),
        dst in any::<[u8; 16]>(),
        sport in any::<u16>(),
        dport in any::<u16>().prop_filter("tunnel port", |p| *p != 4789 && *p != 6081),
        payload in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        use etherparse::VlanId;
        let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
        let mut frame = Vec::new();
        let (s4, d4) = ([src[0], src[1], src[2], src[3]], [dst[0], dst[1], dst[2], dst[3]]);
        macro_rules! finish {
            ($step:expr) => {{
                let step = $step;
                match (v6, tcp) {
                    (false, false) => step.ipv4(s4, d4, 64).udp(sport, dport).write(&mut frame, &payload),
                    (false, true) => step.ipv4(s4, d4, 64).tcp(sport, dport, 1, 1000).write(&mut frame, &payload),
                    (true, false) => step.ipv6(src, dst, 64).udp(sport, dport).write(&mut frame, &payload),
                    (true, true) => step.ipv6(src, dst, 64).tcp(sport, dport, 1, 1000).write(&mut frame, &payload),
                }
                .unwrap()
            }};
        }
        match vlans[..] {
            [] => finish!(b),
            [a] => finish!(b.single_vlan(VlanId::try_new(a).unwrap())),
            [a, c] => finish!(b.double_vlan(VlanId::try_new(a).unwrap(), VlanId::try_new(c).unwrap())),
            _ => unreachable!(),
        }
        let s = wire::parse_frame(&frame).unwrap();
        prop_assert_eq!(s.outer.vlans.as_slice(), &vlans[..]);
        prop_assert_eq!(s.payload(&frame), &payload[..]);
        prop_assert_eq!(ours(&s), etherparse_view(&frame, &frame).0);
        let t = s.tuple.unwrap();
        prop_assert_eq!((t.src_port, t.dst_port), (sport, dport));
    }
}

/// etherparse recomputes the checksums infersteer's emitter wrote.
#[test]
fn emitter_checksums_agree_with_etherparse() {
    let mut runner = proptest::test_runner::TestRunner::default();
    for _ in 0..500 {
        let m = frame_model().new_tree(&mut runner).unwrap().current();
        if m.tunnel.is_some() || m.is_fragment() || matches!(m.l4, L4Model::Other(_)) {
            continue;
        }
        let frame = m.emit();
        let p = SlicedPacket::from_ethernet(&frame).unwrap();
        let (udp_or_tcp_ok, ip_ok) = match (p.net.as_ref().unwrap(), p.transport.as_ref().unwrap())
        {
            (NetSlice::Ipv4(ip), TransportSlice::Udp(u)) => {
                let h = ip.header().to_header();
                (
                    u.to_header().calc_checksum_ipv4(&h, u.payload()).unwrap() == u.checksum(),
                    h.calc_header_checksum() == h.header_checksum,
                )
            }
            (NetSlice::Ipv4(ip), TransportSlice::Tcp(t)) => {
                let h = ip.header().to_header();
                (
                    t.to_header().calc_checksum_ipv4(&h, t.payload()).unwrap() == t.checksum(),
                    h.calc_header_checksum() == h.header_checksum,
                )
            }
            (NetSlice::Ipv6(ip), TransportSlice::Udp(u)) => {
                let h = ip.header().to_header();
                (
                    u.to_header().calc_checksum_ipv6(&h, u.payload()).unwrap() == u.checksum(),
                    true,
                )
            }
            (NetSlice::Ipv6(ip), TransportSlice::Tcp(t)) => {
                let h = ip.header().to_header();
                (
                    t.to_header().calc_checksum_ipv6(&h, t.payload()).unwrap() == t.checksum(),
                    true,
                )
            }
            _ => unreachable!(),
        };
        assert!(udp_or_tcp_ok && ip_ok, "checksums of {m:?}");
    }
}
