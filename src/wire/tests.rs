//! Unit tests of the frame parser on hand-written frames: every field of the summary, and one
//! test per malformed case.

use super::emit::{self, FrameSpec, HopSpec, IpSpec, Ipv6ExtSpec, L4Spec, TunnelProto, VlanSpec};
use super::*;

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// Ethernet/IPv4/UDP 10.0.0.1:5000 -> 10.0.0.2:8080, payload "hello", padded to 60 bytes.
fn ipv4_udp_hand() -> Vec<u8> {
    let mut f = hex("001122334455 66778899aabb 0800
         4500 0021 1234 4000 4011 0000 0a000001 0a000002
         1388 1f90 000d 0000
         68656c6c6f");
    f.resize(60, 0);
    f
}

fn err_kind(frame: &[u8]) -> WireErrorKind {
    parse_frame(frame).unwrap_err().kind
}

#[test]
fn ipv4_udp_by_hand() {
    let f = ipv4_udp_hand();
    let s = parse_frame(&f).unwrap();
    assert_eq!(s.outer.ethertype, EtherType::IPV4);
    assert!(s.outer.vlans.is_empty());
    let l3 = s.outer.l3.unwrap();
    assert_eq!(
        (l3.kind, l3.offset, l3.end, l3.upper_offset),
        (L3Kind::Ipv4, 14, 47, 34)
    );
    assert_eq!(l3.protocol, IpProtocol::UDP);
    let l4 = s.outer.l4.unwrap();
    assert_eq!((l4.kind, l4.offset, l4.header_len), (L4Kind::Udp, 34, 8));
    let t = s.tuple.unwrap();
    assert_eq!(t.src_addr(), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(t.dst_addr(), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
    assert_eq!(
        (t.src_port, t.dst_port, t.protocol, t.family),
        (5000, 8080, IpProtocol::UDP, IpFamily::V4)
    );
    assert_eq!(s.payload(&f), b"hello", "Ethernet padding is not payload");
    assert_eq!(s.outer.fragment, Fragment::None);
    assert!(s.tunnel.is_none() && s.inner.is_none());
}

#[test]
fn ipv4_malformed_fields() {
    let base = ipv4_udp_hand();
    let with = |at: usize, bytes: &[u8]| {
        let mut f = base.clone();
        f[at..at + bytes.len()].copy_from_slice(bytes);
        f
    };
    assert_eq!(
        err_kind(&with(14, &[0x55])),
        WireErrorKind::Ipv4BadVersion(5)
    );
    assert_eq!(
        err_kind(&with(14, &[0x44])),
        WireErrorKind::Ipv4BadHeaderLength(4)
    );
    assert_eq!(
        err_kind(&with(16, &[0, 19])),
        WireErrorKind::Ipv4BadTotalLength(19)
    );
    assert_eq!(
        err_kind(&with(16, &[0, 200])),
        WireErrorKind::Truncated(Layer::Ipv4)
    );
    // IHL 15 (60 bytes of header) inside a 33-byte datagram.
    assert_eq!(
        err_kind(&with(14, &[0x4f])),
        WireErrorKind::Ipv4BadTotalLength(33)
    );
    assert_eq!(err_kind(&with(38, &[0, 7])), WireErrorKind::UdpBadLength(7));
    assert_eq!(
        err_kind(&with(38, &[0, 14])),
        WireErrorKind::UdpBadLength(14)
    );
    // A shorter UDP length than the datagram is accepted; the payload follows the UDP length.
    let f = with(38, &[0, 10]);
    assert_eq!(parse_frame(&f).unwrap().payload(&f), b"he");
    let e = parse_frame(&with(14, &[0x55])).unwrap_err();
    assert_eq!((e.offset, e.encapsulated), (14, false));
}

#[test]
fn ipv4_options_are_skipped() {
    let opts = [0x01, 0x01, 0x01, 0x00, 0x07, 0x07, 0x04, 0, 0, 0, 0, 0]; // NOP NOP NOP EOL, RR
    let mut spec = FrameSpec::udp_v4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2, b"xyz");
    if let IpSpec::V4 { options, .. } = &mut spec.outer.ip {
        *options = &opts;
    }
    let mut buf = [0u8; 128];
    let n = emit::emit_frame(&spec, &mut buf).unwrap();
    let f = &buf[..n];
    let s = parse_frame(f).unwrap();
    assert_eq!(s.outer.l3.unwrap().upper_offset, 14 + 20 + 12);
    assert_eq!(s.payload(f), b"xyz");
    let (ip, rest) = ipv4::Ipv4Header::ref_from_bytes_checked(&f[14..]).unwrap();
    assert!(
        ip.checksum_ok(&rest[..12]),
        "emitter fills the header checksum"
    );
}

#[test]
fn ipv4_fragments() {
    let mut spec = FrameSpec::udp_v4([1, 2, 3, 4], [5, 6, 7, 8], 1000, 2000, &[7; 64]);
    let mut buf = [0u8; 256];
    if let IpSpec::V4 {
        more_fragments,
        ident,
        ..
    } = &mut spec.outer.ip
    {
        *more_fragments = true;
        *ident = 0xbeef;
    }
    let n = emit::emit_frame(&spec, &mut buf).unwrap();
    let s = parse_frame(&buf[..n]).unwrap();
    assert_eq!(s.outer.fragment, Fragment::First { id: 0xbeef });
    assert_eq!(
        s.tuple.unwrap().dst_port,
        2000,
        "a first fragment carries the UDP header"
    );
    assert_eq!(s.outer.l4.unwrap().kind, L4Kind::Udp);

    if let IpSpec::V4 { frag_offset, .. } = &mut spec.outer.ip {
        *frag_offset = 1480;
    }
    let n = emit::emit_frame(&spec, &mut buf).unwrap();
    let s = parse_frame(&buf[..n]).unwrap();
    assert_eq!(
        s.outer.fragment,
        Fragment::Later {
            id: 0xbeef,
            offset: 1480
        }
    );
    assert_eq!(s.outer.l4, None, "a later fragment has no L4 header");
    let t = s.tuple.unwrap();
    assert_eq!(
        (t.src_port, t.dst_port, t.protocol),
        (0, 0, IpProtocol::UDP)
    );
    assert_eq!(
        s.payload(&buf[..n]),
        &[7; 64],
        "the fragment data is the payload"
    );
}

#[test]
fn vlan_and_qinq() {
    let tags = [
        VlanSpec {
            tpid: EtherType::QINQ,
            pcp: 3,
            vid: 200,
        },
        VlanSpec {
            tpid: EtherType::VLAN,
            pcp: 0,
            vid: 300,
        },
    ];
    let mut spec = FrameSpec::udp_v4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2, b"q");
    spec.outer.vlans = &tags;
    let mut buf = [0u8; 128];
    let n = emit::emit_frame(&spec, &mut buf).unwrap();
    assert_eq!(&buf[12..22], &hex("88a8 60c8 8100 012c 0800")[..]);
    let s = parse_frame(&buf[..n]).unwrap();
    assert_eq!(s.outer.vlans.as_slice(), &[200, 300]);
    assert_eq!(
        (s.outer.vlans.outer(), s.outer.vlans.inner()),
        (Some(200), Some(300))
    );
    assert_eq!(s.outer.l3.unwrap().offset, 22);

    let three = [
        tags[0],
        tags[1],
        VlanSpec {
            tpid: EtherType::VLAN,
            pcp: 0,
            vid: 400,
        },
    ];
    spec.outer.vlans = &three;
    let n = emit::emit_frame(&spec, &mut buf).unwrap();
    let e = parse_frame(&buf[..n]).unwrap_err();
    assert_eq!((e.kind, e.offset), (WireErrorKind::VlanDepthExceeded, 22));
}

#[test]
fn non_ip_frames_parse_without_l3() {
    let arp = hex("ffffffffffff 020000000001 0806
         0001 0800 06 04 0001 020000000001 0a000001 000000000000 0a000002");
    let s = parse_frame(&arp).unwrap();
    assert_eq!(s.outer.ethertype, EtherType::ARP);
    assert_eq!((s.outer.l3, s.outer.l4, s.tuple), (None, None, None));
    assert_eq!(s.payload_range(), 14..arp.len());
}

#[test]
fn short_frames_are_truncated_errors() {
    assert_eq!(err_kind(&[]), WireErrorKind::Truncated(Layer::Ethernet));
    assert_eq!(
        err_kind(&[0; 13]),
        WireErrorKind::Truncated(Layer::Ethernet)
    );
    assert_eq!(
        err_kind(&hex("000000000000 000000000000 8100 00")),
        WireErrorKind::Truncated(Layer::Vlan)
    );
    assert_eq!(
        err_kind(&hex("000000000000 000000000000 0800 4500")),
        WireErrorKind::Truncated(Layer::Ipv4)
    );
    assert_eq!(
        err_kind(&hex("000000000000 000000000000 86dd 6000")),
        WireErrorKind::Truncated(Layer::Ipv6)
    );
    let long = vec![0u8; MAX_FRAME_LEN + 1];
    assert_eq!(err_kind(&long), WireErrorKind::FrameTooLong);
}

const V6_SRC: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const V6_DST: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

fn v6_frame(ext: &[Ipv6ExtSpec], l4: L4Spec<'_>, payload: &[u8]) -> Vec<u8> {
    let spec = FrameSpec {
        outer: HopSpec::new(IpSpec::V6 {
            src: V6_SRC,
            dst: V6_DST,
            hop_limit: 64,
            flow_label: 7,
            ext,
        }),
        tunnel: None,
        l4,
        payload,
    };
    let mut buf = vec![0u8; 4096];
    let n = emit::emit_frame(&spec, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

const UDP_53: L4Spec<'static> = L4Spec::Udp {
    src_port: 53000,
    dst_port: 53,
};

#[test]
fn ipv6_extension_chain() {
    let ext = [
        Ipv6ExtSpec::HopByHop { hdr_ext_len: 0 },
        Ipv6ExtSpec::Routing { hdr_ext_len: 2 },
        Ipv6ExtSpec::Ah { payload_len: 4 },
        Ipv6ExtSpec::DestOptions { hdr_ext_len: 1 },
    ];
    let f = v6_frame(&ext, UDP_53, b"dns?");
    let s = parse_frame(&f).unwrap();
    let l3 = s.outer.l3.unwrap();
    assert_eq!(l3.kind, L3Kind::Ipv6);
    assert_eq!(l3.ext_headers, 4);
    assert_eq!(usize::from(l3.upper_offset), 14 + 40 + 8 + 24 + 24 + 16);
    assert_eq!(l3.protocol, IpProtocol::UDP);
    let t = s.tuple.unwrap();
    assert_eq!(
        (t.family, t.src, t.dst, t.dst_port),
        (IpFamily::V6, V6_SRC, V6_DST, 53)
    );
    assert_eq!(s.payload(&f), b"dns?");
}

#[test]
fn ipv6_chain_errors() {
    let late_hbh = [
        Ipv6ExtSpec::DestOptions { hdr_ext_len: 0 },
        Ipv6ExtSpec::HopByHop { hdr_ext_len: 0 },
    ];
    let e = parse_frame(&v6_frame(&late_hbh, UDP_53, b"")).unwrap_err();
    assert_eq!(
        (e.kind, e.offset),
        (WireErrorKind::Ipv6HopByHopNotFirst, 14 + 40 + 8)
    );

    let long =
        [Ipv6ExtSpec::DestOptions { hdr_ext_len: 0 }; crate::capacity::MAX_IPV6_EXT_HEADERS + 1];
    assert_eq!(
        err_kind(&v6_frame(&long, UDP_53, b"")),
        WireErrorKind::Ipv6ExtensionChainTooLong
    );
    let at_cap =
        [Ipv6ExtSpec::DestOptions { hdr_ext_len: 0 }; crate::capacity::MAX_IPV6_EXT_HEADERS];
    assert!(parse_frame(&v6_frame(&at_cap, UDP_53, b"")).is_ok());

    // An extension header whose length runs past the payload length.
    let mut f = v6_frame(
        &[Ipv6ExtSpec::DestOptions { hdr_ext_len: 0 }],
        UDP_53,
        b"abcd",
    );
    f[14 + 40 + 1] = 3;
    assert_eq!(err_kind(&f), WireErrorKind::Truncated(Layer::Ipv6Extension));
    // Version 4 in an IPv6 EtherType.
    let mut f = v6_frame(&[], UDP_53, b"");
    f[14] = 0x40;
    assert_eq!(err_kind(&f), WireErrorKind::Ipv6BadVersion(4));
    // Payload length past the frame.
    let mut f = v6_frame(&[], UDP_53, b"");
    f[14 + 5] = 200;
    assert_eq!(err_kind(&f), WireErrorKind::Truncated(Layer::Ipv6));
}

#[test]
fn ipv6_fragments_and_esp() {
    let first = [Ipv6ExtSpec::Fragment {
        offset: 0,
        more: true,
        id: 0xdead_beef,
    }];
    let f = v6_frame(&first, UDP_53, &[1; 40]);
    let s = parse_frame(&f).unwrap();
    assert_eq!(s.outer.fragment, Fragment::First { id: 0xdead_beef });
    assert_eq!(s.tuple.unwrap().dst_port, 53);

    let later = [
        Ipv6ExtSpec::HopByHop { hdr_ext_len: 0 },
        Ipv6ExtSpec::Fragment {
            offset: 1232,
            more: false,
            id: 9,
        },
    ];
    let f = v6_frame(&later, UDP_53, &[2; 40]);
    let s = parse_frame(&f).unwrap();
    assert_eq!(
        s.outer.fragment,
        Fragment::Later {
            id: 9,
            offset: 1232
        }
    );
    assert_eq!(s.outer.l4, None);
    assert_eq!(s.payload(&f), &[2; 40]);

    // An atomic fragment (offset 0, M clear) is a whole packet.
    let atomic = [Ipv6ExtSpec::Fragment {
        offset: 0,
        more: false,
        id: 1,
    }];
    let s = parse_frame(&v6_frame(&atomic, UDP_53, b"a")).unwrap();
    assert_eq!(
        (s.outer.fragment, s.tuple.unwrap().dst_port),
        (Fragment::None, 53)
    );

    // ESP ends the walk: the rest is opaque.
    let f = v6_frame(&[], L4Spec::Other(IpProtocol::ESP), &[9; 24]);
    let s = parse_frame(&f).unwrap();
    assert_eq!(
        (s.outer.l3.unwrap().protocol, s.outer.l4),
        (IpProtocol::ESP, None)
    );
    assert_eq!(s.payload(&f), &[9; 24]);
}

#[test]
fn tcp_data_offset_and_options() {
    let opts = [2, 4, 5, 0xb4, 1, 3, 3, 7];
    let mut spec = FrameSpec::tcp_v4([1, 1, 1, 1], [2, 2, 2, 2], 40000, 443, b"GET /");
    if let L4Spec::Tcp { options, .. } = &mut spec.l4 {
        *options = &opts;
    }
    let mut buf = [0u8; 128];
    let n = emit::emit_frame(&spec, &mut buf).unwrap();
    let f = buf[..n].to_vec();
    let s = parse_frame(&f).unwrap();
    let l4 = s.outer.l4.unwrap();
    assert_eq!((l4.kind, l4.header_len), (L4Kind::Tcp, 28));
    assert_eq!(s.payload(&f), b"GET /");
    let (tcp, rest) = tcp::TcpHeader::ref_from_bytes_checked(&f[34..]).unwrap();
    let got: Vec<_> = tcp::TcpOptions::new(&rest[..tcp.header_len() - 20]).collect();
    assert_eq!(got[0], Ok(tcp::TcpOption::Mss(1460)));

    let mut bad = f.clone();
    bad[34 + 12] = 0x40; // data offset 4
    assert_eq!(err_kind(&bad), WireErrorKind::TcpBadDataOffset(4));
    bad[34 + 12] = 0xf0; // 60 bytes of header in a 33-byte segment
    assert_eq!(err_kind(&bad), WireErrorKind::TcpBadDataOffset(15));
    let mut short = f.clone();
    short[16..18].copy_from_slice(&(20u16 + 12).to_be_bytes()); // 12 bytes of TCP
    assert_eq!(err_kind(&short), WireErrorKind::Truncated(Layer::Tcp));
}

fn tunnelled(proto: TunnelProto<'_>, inner_vlans: &[VlanSpec]) -> Vec<u8> {
    let mut inner = FrameSpec::tcp_v4(
        [192, 168, 1, 10],
        [192, 168, 1, 20],
        51000,
        8000,
        b"POST /v1",
    );
    inner.outer.vlans = inner_vlans;
    let spec = inner.in_tunnel(proto, [10, 0, 0, 1], [10, 0, 0, 2]);
    let mut buf = vec![0u8; 512];
    let n = emit::emit_frame(&spec, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn vxlan_inner_frame_is_parsed() {
    let vlan = [VlanSpec {
        tpid: EtherType::VLAN,
        pcp: 0,
        vid: 42,
    }];
    let f = tunnelled(TunnelProto::Vxlan { vni: 0x00ab_cdef }, &vlan);
    let s = parse_frame(&f).unwrap();
    let t = s.tunnel.unwrap();
    assert_eq!((t.kind, t.vni, t.offset), (TunnelKind::Vxlan, 0xabcdef, 42));
    assert_eq!(s.outer.tuple_dst_port_for_test(&f), 4789);
    let inner = s.inner.unwrap();
    assert_eq!(inner.eth_offset, 50);
    assert_eq!(inner.vlans.as_slice(), &[42]);
    assert_eq!(inner.l3.unwrap().offset, 50 + 18);
    let tuple = s.tuple.unwrap();
    assert_eq!(tuple.src_addr(), IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10)));
    assert_eq!(
        (tuple.src_port, tuple.dst_port, tuple.protocol),
        (51000, 8000, IpProtocol::TCP)
    );
    assert_eq!(s.payload(&f), b"POST /v1");
    assert_eq!(s.innermost(), &inner);

    let mut bad = f.clone();
    bad[42] = 0x00;
    let e = parse_frame(&bad).unwrap_err();
    assert_eq!(
        (e.kind, e.offset, e.encapsulated),
        (WireErrorKind::VxlanBadFlags(0), 42, false)
    );
    let mut bad = f.clone();
    bad[50 + 18] = 0x65; // inner IPv4 version 6
    let e = parse_frame(&bad).unwrap_err();
    assert_eq!(
        (e.kind, e.offset, e.encapsulated),
        (WireErrorKind::Ipv4BadVersion(6), 68, true)
    );
}

#[test]
fn geneve_with_options() {
    // One option: class 0x0102, type 0x80 (critical), 4 bytes of data.
    let opts = [0x01, 0x02, 0x80, 0x01, 0xde, 0xad, 0xbe, 0xef];
    let f = tunnelled(
        TunnelProto::Geneve {
            vni: 77,
            options: &opts,
        },
        &[],
    );
    let s = parse_frame(&f).unwrap();
    let t = s.tunnel.unwrap();
    assert_eq!((t.kind, t.vni, t.options_len), (TunnelKind::Geneve, 77, 8));
    assert_eq!(s.inner.unwrap().eth_offset, 42 + 8 + 8);
    assert_eq!(s.payload(&f), b"POST /v1");
    let got: Vec<_> = tunnel::GeneveOptions::new(&f[50..58]).collect();
    assert_eq!(
        got,
        vec![Ok(tunnel::GeneveOption {
            class: 0x0102,
            kind: 0x80,
            data: &[0xde, 0xad, 0xbe, 0xef]
        })]
    );

    let mut bad = f.clone();
    bad[42] = 0x40 | 2; // version 1
    assert_eq!(err_kind(&bad), WireErrorKind::GeneveBadVersion(1));
    let mut bad = f.clone();
    bad[53] = 0x02; // option claims 8 data bytes, only 4 in the area
    assert_eq!(err_kind(&bad), WireErrorKind::GeneveBadOptions);
    let mut bad = f.clone();
    bad[42] = 63; // 252 bytes of options
    assert!(matches!(
        err_kind(&bad),
        WireErrorKind::Truncated(Layer::Geneve) | WireErrorKind::GeneveBadOptions
    ));

    // A GENEVE payload that is not Ethernet is reported but not parsed.
    let mut ip_payload = f.clone();
    ip_payload[44..46].copy_from_slice(&[0x08, 0x00]);
    let s = parse_frame(&ip_payload).unwrap();
    assert_eq!(s.tunnel.unwrap().protocol, EtherType::IPV4);
    assert_eq!((s.inner, usize::from(s.payload_offset)), (None, 58));
    assert_eq!(
        s.tuple.unwrap().dst_port,
        6081,
        "the tuple stays the outer one"
    );
}

#[test]
fn a_tunnel_port_on_a_fragment_is_not_decapsulated() {
    let inner = FrameSpec::udp_v4([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, b"x");
    let mut spec = inner.in_tunnel(TunnelProto::Vxlan { vni: 5 }, [3, 3, 3, 3], [4, 4, 4, 4]);
    if let IpSpec::V4 { more_fragments, .. } = &mut spec.outer.ip {
        *more_fragments = true;
    }
    let mut buf = [0u8; 256];
    let n = emit::emit_frame(&spec, &mut buf).unwrap();
    let s = parse_frame(&buf[..n]).unwrap();
    assert_eq!((s.tunnel, s.inner), (None, None));
    assert_eq!(s.outer.fragment, Fragment::First { id: 0x1234 });
}

#[test]
fn short_vxlan_payload_is_an_error() {
    let spec = FrameSpec::udp_v4([1, 1, 1, 1], [2, 2, 2, 2], 1, VXLAN_PORT, b"abc");
    let mut buf = [0u8; 128];
    let n = emit::emit_frame(&spec, &mut buf).unwrap();
    assert_eq!(err_kind(&buf[..n]), WireErrorKind::Truncated(Layer::Vxlan));
}

#[test]
fn errors_display() {
    let e = parse_frame(&[0; 3]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "frame truncated in the Ethernet layer (at byte 0, outer frame)"
    );
}

impl Layers {
    fn tuple_dst_port_for_test(&self, frame: &[u8]) -> u16 {
        let l4 = self.l4.unwrap();
        let (udp, _) =
            udp::UdpHeader::ref_from_bytes_checked(&frame[usize::from(l4.offset)..]).unwrap();
        udp.dst_port()
    }
}

const TCP_443: L4Spec<'static> = L4Spec::Tcp {
    src_port: 40000,
    dst_port: 443,
    seq: 7,
    ack: 9,
    flags: 0x18,
    window: 512,
    options: &[],
};

fn csum(f: &[u8]) -> L4Checksum {
    tcp_checksum(f, &parse_frame(f).unwrap())
}

#[test]
fn tcp_checksums_are_checked_over_the_pseudo_header_and_the_segment() {
    // IPv4, odd and even payload lengths.
    for payload in [&b"GET / HTTP/1.1\r\n"[..], b"GET /x", b"", b"x"] {
        let spec = FrameSpec::tcp_v4([1, 1, 1, 1], [2, 2, 2, 2], 40000, 443, payload);
        let mut buf = [0u8; 256];
        let n = emit::emit_frame(&spec, &mut buf).unwrap();
        let f = buf[..n].to_vec();
        assert_eq!(csum(&f), L4Checksum::Good, "{payload:?}");
        // Any flipped bit of the pseudo-header (an address), the header or the data.
        for at in [14 + 12, 14 + 19, 34 + 4, 34 + 16, n - 1] {
            let mut g = f.clone();
            g[at] ^= 0x10;
            if at == n - 1 && payload.is_empty() {
                continue;
            }
            assert_eq!(csum(&g), L4Checksum::Bad, "{payload:?} byte {at}");
        }
        // Only the first part of the frame (a chained buffer's first segment).
        if !payload.is_empty() {
            let s = parse_frame(&f).unwrap();
            assert_eq!(tcp_checksum(&f[..n - 1], &s), L4Checksum::Unverifiable);
        }
    }
    // IPv6, through extension headers (a routing header with no segments left).
    let ext = [
        Ipv6ExtSpec::HopByHop { hdr_ext_len: 0 },
        Ipv6ExtSpec::Routing { hdr_ext_len: 2 },
        Ipv6ExtSpec::DestOptions { hdr_ext_len: 1 },
    ];
    let f = v6_frame(&ext, TCP_443, b"PRI * HTTP/2.0");
    assert_eq!(csum(&f), L4Checksum::Good);
    let mut g = f.clone();
    g[14 + 39] ^= 1; // the destination address
    assert_eq!(csum(&g), L4Checksum::Bad);
    // Segments left: the checksum names a destination not in the header.
    let mut g = f.clone();
    g[14 + 40 + 8 + 3] = 1;
    assert_eq!(csum(&g), L4Checksum::Unverifiable);
    // Not TCP.
    assert_eq!(csum(&ipv4_udp_hand()), L4Checksum::Unverifiable);
}

#[test]
fn the_real_chromium_segments_checksums_hold() {
    for name in ["chromium_seg1.frame", "chromium_seg2.frame"] {
        let path = format!("{}/tests/fixtures/l7/{name}", env!("CARGO_MANIFEST_DIR"));
        let f = std::fs::read(path).unwrap();
        assert_eq!(csum(&f), L4Checksum::Good, "{name}");
    }
}

/// Found by the `wire` fuzz target against etherparse: an IPv6 authentication header whose
/// Payload Len is 0 (8 bytes, shorter than AH's 12-byte fixed part) was walked as if valid.
#[test]
fn an_ipv6_authentication_header_shorter_than_its_fixed_part_is_refused() {
    let f = hex("020000000 00b 020000000 00a 86dd 6004 912c 0023 3340
         fd000000000000000000000000000001 fd000000000000000000000000000002
         1100 1e04 deadbeef 9c4d 1395 001b b07b 68656c6c6f20697076372064 73746f7074730a");
    assert_eq!(err_kind(&f), WireErrorKind::Ipv6AuthTooShort);
    // The same with Payload Len 1 (12 bytes: the fixed part, no ICV) parses, the UDP datagram
    // after it included.
    let ext = [Ipv6ExtSpec::Ah { payload_len: 1 }];
    let g = v6_frame(&ext, UDP_53, b"dns?");
    assert_eq!(parse_frame(&g).unwrap().payload(&g), b"dns?");
}
