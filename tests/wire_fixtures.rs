//! The frame parser on real kernel-generated frames (`tests/fixtures/wire/`, captured with
//! `scripts/capture-wire-fixtures.sh`; facts from `tcpdump -e -vv` in the fixtures' README):
//! every field the summary reports, and every prefix of every fixture.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches may panic on a broken setup

use std::net::IpAddr;

use infersteer::wire::ethernet::EtherType;
use infersteer::wire::{self, Fragment, IpProtocol, L3Kind, L4Kind, TunnelKind};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/wire/{name}.bin",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Expected facts of one fixture (innermost frame unless said otherwise).
struct Want {
    name: &'static str,
    vlans: &'static [u16],
    l3: Option<(L3Kind, usize)>,
    addrs: Option<(&'static str, &'static str)>,
    protocol: u8,
    l4: Option<(L4Kind, usize)>,
    ports: (u16, u16),
    payload: (usize, usize),
    fragment: Fragment,
    tunnel: Option<(TunnelKind, u32, usize)>,
}

const W: Want = Want {
    name: "",
    vlans: &[],
    l3: Some((L3Kind::Ipv4, 14)),
    addrs: Some(("10.0.0.1", "10.0.0.2")),
    protocol: 17,
    l4: Some((L4Kind::Udp, 34)),
    ports: (0, 0),
    payload: (0, 0),
    fragment: Fragment::None,
    tunnel: None,
};

fn wants() -> Vec<Want> {
    use L4Kind::{Tcp, Udp};
    let v6 = Some(("fd00::1", "fd00::2"));
    vec![
        Want {
            name: "arp",
            l3: None,
            addrs: None,
            l4: None,
            payload: (14, 28),
            ..W
        },
        Want {
            name: "ipv4_udp",
            ports: (40000, 5000),
            payload: (42, 15),
            ..W
        },
        Want {
            name: "ipv4_tcp_syn",
            protocol: 6,
            l4: Some((Tcp, 34)),
            ports: (40001, 5001),
            payload: (74, 0),
            ..W
        },
        Want {
            name: "ipv4_tcp_data",
            protocol: 6,
            l4: Some((Tcp, 34)),
            ports: (40001, 5001),
            payload: (66, 15),
            ..W
        },
        // ICMP: no L4 view; the payload is the IP payload after 40 bytes of options.
        Want {
            name: "ipv4_options",
            protocol: 1,
            l4: None,
            payload: (74, 64),
            ..W
        },
        Want {
            name: "ipv4_options_udp",
            l4: Some((Udp, 42)),
            ports: (40002, 5002),
            payload: (50, 19),
            ..W
        },
        Want {
            name: "ipv4_frag_first",
            ports: (40003, 5003),
            payload: (42, 1472),
            fragment: Fragment::First { id: 0 },
            ..W
        },
        Want {
            name: "ipv4_frag_later",
            l4: None,
            payload: (34, 1480),
            fragment: Fragment::Later {
                id: 0,
                offset: 1480,
            },
            ..W
        },
        Want {
            name: "ipv4_frag_last",
            l4: None,
            payload: (34, 48),
            fragment: Fragment::Later {
                id: 0,
                offset: 2960,
            },
            ..W
        },
        Want {
            name: "vlan_udp",
            vlans: &[100],
            l3: Some((L3Kind::Ipv4, 18)),
            addrs: Some(("10.100.0.1", "10.100.0.2")),
            l4: Some((Udp, 38)),
            ports: (40100, 5100),
            payload: (46, 15),
            ..W
        },
        Want {
            name: "qinq_udp",
            vlans: &[200, 300],
            l3: Some((L3Kind::Ipv4, 22)),
            addrs: Some(("10.200.0.1", "10.200.0.2")),
            l4: Some((Udp, 42)),
            ports: (40200, 5200),
            payload: (50, 19),
            ..W
        },
        Want {
            name: "ipv6_udp",
            l3: Some((L3Kind::Ipv6, 14)),
            addrs: v6,
            l4: Some((Udp, 54)),
            ports: (40010, 5010),
            payload: (62, 15),
            ..W
        },
        Want {
            name: "ipv6_tcp_syn",
            l3: Some((L3Kind::Ipv6, 14)),
            addrs: v6,
            protocol: 6,
            l4: Some((Tcp, 54)),
            ports: (40011, 5011),
            payload: (94, 0),
            ..W
        },
        Want {
            name: "ipv6_tcp_data",
            l3: Some((L3Kind::Ipv6, 14)),
            addrs: v6,
            protocol: 6,
            l4: Some((Tcp, 54)),
            ports: (40011, 5011),
            payload: (86, 15),
            ..W
        },
        Want {
            name: "ipv6_frag_first",
            l3: Some((L3Kind::Ipv6, 14)),
            addrs: v6,
            l4: Some((Udp, 62)),
            ports: (40012, 5012),
            payload: (70, 1440),
            fragment: Fragment::First { id: 0 },
            ..W
        },
        Want {
            name: "ipv6_frag_later",
            l3: Some((L3Kind::Ipv6, 14)),
            addrs: v6,
            l4: None,
            payload: (62, 1448),
            fragment: Fragment::Later {
                id: 0,
                offset: 1448,
            },
            ..W
        },
        Want {
            name: "ipv6_frag_last",
            l3: Some((L3Kind::Ipv6, 14)),
            addrs: v6,
            l4: None,
            payload: (62, 112),
            fragment: Fragment::Later {
                id: 0,
                offset: 2896,
            },
            ..W
        },
        Want {
            name: "ipv6_hopbyhop",
            l3: Some((L3Kind::Ipv6, 14)),
            addrs: Some(("fe80::ff:fe00:a", "ff02::16")),
            protocol: 58,
            l4: None,
            payload: (62, 28),
            ..W
        },
        Want {
            name: "ipv6_dstopts_udp",
            l3: Some((L3Kind::Ipv6, 14)),
            addrs: v6,
            l4: Some((Udp, 62)),
            ports: (40013, 5013),
            payload: (70, 19),
            ..W
        },
        Want {
            name: "ipv6_routing_udp",
            l3: Some((L3Kind::Ipv6, 14)),
            addrs: v6,
            l4: Some((Udp, 94)),
            ports: (40014, 5014),
            payload: (102, 15),
            ..W
        },
        Want {
            name: "vxlan_udp",
            l3: Some((L3Kind::Ipv4, 64)),
            addrs: Some(("192.168.42.1", "192.168.42.2")),
            l4: Some((Udp, 84)),
            ports: (40042, 4242),
            payload: (92, 16),
            tunnel: Some((TunnelKind::Vxlan, 42, 42)),
            ..W
        },
        Want {
            name: "vxlan_tcp",
            l3: Some((L3Kind::Ipv4, 64)),
            addrs: Some(("192.168.42.1", "192.168.42.2")),
            protocol: 6,
            l4: Some((Tcp, 84)),
            ports: (40043, 5042),
            payload: (116, 16),
            tunnel: Some((TunnelKind::Vxlan, 42, 42)),
            ..W
        },
        Want {
            name: "vxlan_ipv6_underlay",
            l3: Some((L3Kind::Ipv4, 84)),
            addrs: Some(("192.168.43.1", "192.168.43.2")),
            l4: Some((Udp, 104)),
            ports: (40043, 4343),
            payload: (112, 22),
            tunnel: Some((TunnelKind::Vxlan, 43, 62)),
            ..W
        },
        Want {
            name: "geneve_udp",
            l3: Some((L3Kind::Ipv4, 64)),
            addrs: Some(("192.168.77.1", "192.168.77.2")),
            l4: Some((Udp, 84)),
            ports: (40077, 7777),
            payload: (92, 13),
            tunnel: Some((TunnelKind::Geneve, 77, 42)),
            ..W
        },
        Want {
            name: "geneve_options_udp",
            l3: Some((L3Kind::Ipv4, 72)),
            addrs: Some(("192.168.77.1", "192.168.77.2")),
            l4: Some((Udp, 92)),
            ports: (40077, 7777),
            payload: (100, 13),
            tunnel: Some((TunnelKind::Geneve, 77, 42)),
            ..W
        },
    ]
}

/// Fragment ids change on every capture; compare the variant and offset only.
fn same_fragment_shape(a: Fragment, b: Fragment) -> bool {
    match (a, b) {
        (Fragment::None, Fragment::None) | (Fragment::First { .. }, Fragment::First { .. }) => true,
        (Fragment::Later { offset: x, .. }, Fragment::Later { offset: y, .. }) => x == y,
        _ => false,
    }
}

#[test]
fn real_frames_parse_to_their_known_facts() {
    let all = wants();
    assert_eq!(all.len(), 25);
    for w in all {
        let f = fixture(w.name);
        let s = wire::parse_frame(&f).unwrap_or_else(|e| panic!("{}: {e}", w.name));
        let inner = s.innermost();
        let ctx = w.name;
        assert_eq!(inner.vlans.as_slice(), w.vlans, "{ctx}");
        assert_eq!(
            inner.l3.map(|l| (l.kind, usize::from(l.offset))),
            w.l3,
            "{ctx}"
        );
        assert_eq!(
            inner.l4.map(|l| (l.kind, usize::from(l.offset))),
            w.l4,
            "{ctx}"
        );
        assert!(
            same_fragment_shape(inner.fragment, w.fragment),
            "{ctx}: {:?}",
            inner.fragment
        );
        assert_eq!(
            (usize::from(s.payload_offset), s.payload(&f).len()),
            w.payload,
            "{ctx}"
        );
        assert_eq!(
            s.tunnel.map(|t| (t.kind, t.vni, usize::from(t.offset))),
            w.tunnel,
            "{ctx}"
        );
        match (s.tuple, w.addrs) {
            (None, None) => assert_eq!(inner.ethertype, EtherType::ARP, "{ctx}"),
            (Some(t), Some((src, dst))) => {
                assert_eq!(t.src_addr(), src.parse::<IpAddr>().unwrap(), "{ctx}");
                assert_eq!(t.dst_addr(), dst.parse::<IpAddr>().unwrap(), "{ctx}");
                assert_eq!((t.src_port, t.dst_port), w.ports, "{ctx}");
                assert_eq!(t.protocol, IpProtocol(w.protocol), "{ctx}");
            }
            (got, want) => panic!("{ctx}: tuple {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn outer_layers_of_tunnelled_fixtures() {
    let s = wire::parse_frame(&fixture("vxlan_ipv6_underlay")).unwrap();
    let l3 = s.outer.l3.unwrap();
    assert_eq!(
        (l3.kind, l3.offset, l3.protocol),
        (L3Kind::Ipv6, 14, IpProtocol::UDP)
    );
    assert_eq!(s.inner.unwrap().eth_offset, 70);
    let s = wire::parse_frame(&fixture("geneve_options_udp")).unwrap();
    assert_eq!(s.tunnel.unwrap().options_len, 8);
    let s = wire::parse_frame(&fixture("ipv6_routing_udp")).unwrap();
    assert_eq!(s.outer.l3.unwrap().ext_headers, 1);
}

#[test]
fn tcp_options_of_a_real_syn() {
    use wire::tcp::{TcpHeader, TcpOption, TcpOptions};
    use wire::Header;
    let f = fixture("ipv4_tcp_syn");
    let (tcp, rest) = TcpHeader::ref_from_bytes_checked(&f[34..]).unwrap();
    let opts: Vec<_> = TcpOptions::new(&rest[..tcp.header_len() - 20])
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(opts[0], TcpOption::Mss(1460));
    assert!(opts.contains(&TcpOption::SackPermitted));
    assert!(opts.iter().any(|o| matches!(o, TcpOption::Timestamps(..))));
    assert!(opts.iter().any(|o| matches!(o, TcpOption::WindowScale(_))));
}

#[test]
fn every_prefix_of_every_fixture_is_an_error_or_a_shorter_parse() {
    let mut checked = 0;
    for w in wants() {
        let f = fixture(w.name);
        let full = wire::parse_frame(&f).unwrap();
        // Without IP there is no length field to miss: the frame only has to hold its headers.
        let must_fail_below = full.outer.l3.map_or(14, |l| usize::from(l.end));
        for k in 0..f.len() {
            match wire::parse_frame(&f[..k]) {
                Ok(s) => {
                    assert!(k >= must_fail_below, "{}: prefix {k} parsed", w.name);
                    assert!(usize::from(s.payload_end) <= k);
                }
                Err(e) => assert!(
                    usize::from(e.offset) <= k,
                    "{}: error offset past prefix",
                    w.name
                ),
            }
            checked += 1;
        }
    }
    println!("checked {checked} prefixes");
}
