//! The frame parser: the full parser and the fast path checked against each other, and the
//! full parser against `etherparse`, on every input.
//!
//! - Whatever the fast path takes, the full parser takes too, with the same payload range,
//!   ports, sequence number and flags, and the same flow key (the pipeline keys a flow from
//!   either, so the two must never disagree).
//! - Where the full parser gives an untunneled, unfragmented TCP or UDP frame, etherparse
//!   slices the same frame to the same addresses, ports, VLAN ids and payload range, except
//!   for the documented differences in [`etherparse_differs`].
//! - The TCP checksum check never panics.

use std::net::IpAddr;

use etherparse::{LaxSlicedPacket, LinkExtSlice, NetSlice, SlicedPacket, TransportSlice};
use infersteer::steer::FlowKey;
use infersteer::wire::{self, fast, Fragment, FrameSummary, IpFamily, L3Kind, L4Kind};

/// What both parsers say of one frame.
#[derive(Debug, PartialEq, Eq)]
struct View {
    vlans: Vec<u16>,
    src: IpAddr,
    dst: IpAddr,
    ports: (u16, u16),
    protocol: u8,
    payload: core::ops::Range<usize>,
}

fn offset_in(frame: &[u8], part: &[u8]) -> usize {
    part.as_ptr() as usize - frame.as_ptr() as usize
}

fn ours(s: &FrameSummary) -> Option<View> {
    let t = s.tuple?;
    Some(View {
        vlans: s.outer.vlans.as_slice().to_vec(),
        src: t.src_addr(),
        dst: t.dst_addr(),
        ports: (t.src_port, t.dst_port),
        protocol: t.protocol.0,
        payload: s.payload_range(),
    })
}

fn etherparse_view(frame: &[u8]) -> Result<View, String> {
    let p = SlicedPacket::from_ethernet(frame).map_err(|e| format!("{e:?}"))?;
    let mut vlans = Vec::new();
    for e in &p.link_exts {
        match e {
            LinkExtSlice::Vlan(v) => vlans.push(v.vlan_identifier().value()),
            LinkExtSlice::Macsec(_) => return Err("macsec".into()),
        }
    }
    let (src, dst) = match p.net.as_ref() {
        Some(NetSlice::Ipv4(v4)) => (
            IpAddr::V4(v4.header().source_addr()),
            IpAddr::V4(v4.header().destination_addr()),
        ),
        Some(NetSlice::Ipv6(v6)) => (
            IpAddr::V6(v6.header().source_addr()),
            IpAddr::V6(v6.header().destination_addr()),
        ),
        _ => return Err("no IP".into()),
    };
    let protocol = match p.net.as_ref() {
        Some(NetSlice::Ipv4(v4)) => v4.payload().ip_number.0,
        Some(NetSlice::Ipv6(v6)) => v6.payload().ip_number.0,
        _ => 0,
    };
    let (ports, payload) = match &p.transport {
        Some(TransportSlice::Udp(u)) => {
            let at = offset_in(frame, u.payload());
            (
                (u.source_port(), u.destination_port()),
                at..at + u.payload().len(),
            )
        }
        Some(TransportSlice::Tcp(t)) => {
            let at = offset_in(frame, t.payload());
            (
                (t.source_port(), t.destination_port()),
                at..at + t.payload().len(),
            )
        }
        _ => return Err("no transport".into()),
    };
    Ok(View {
        vlans,
        src,
        dst,
        ports,
        protocol,
        payload,
    })
}

/// Where infersteer and etherparse are known to read a frame differently, each a decision:
/// `Some(reason)` for such a frame, which is then not compared.
///
/// - infersteer walks the Mobility (135), HIP (139) and Shim6 (140) headers as IPv6 extension
///   headers, as RFC 7045 §2.2 and IANA's IPv6 Extension Header Types registry list them, and
///   classifies what follows; etherparse stops at them (the upper layer is then "135").
fn etherparse_differs(frame: &[u8], s: &FrameSummary) -> Option<&'static str> {
    let l3 = s.outer.l3?;
    if l3.kind != L3Kind::Ipv6 || l3.ext_headers == 0 {
        return None;
    }
    let ip = usize::from(l3.offset);
    let mut next = *frame.get(ip + 6)?;
    let mut at = ip + 40;
    for _ in 0..l3.ext_headers {
        if matches!(next, 135 | 139 | 140) {
            return Some("Mobility, HIP or Shim6 header walked as an extension header");
        }
        let len = usize::from(*frame.get(at + 1)?);
        let nh = *frame.get(at)?;
        at += match next {
            44 => 8,
            51 => (len + 2) * 4,
            _ => (len + 1) * 8,
        };
        next = nh;
    }
    None
}

/// One input.
pub fn run(data: &[u8]) {
    let full = wire::parse_frame(data);
    if let Ok(s) = &full {
        // The checksum check reads the same bytes; it must never panic.
        let _ = wire::tcp_checksum(data, s);
        let _ = FlowKey::from_frame(data, s, 7);
    }
    if let Some(p) = fast::parse_plain_tcp(data) {
        let s = match &full {
            Ok(s) => s,
            Err(e) => panic!("the fast path took a frame the full parser refuses: {e}"),
        };
        let t = s.tuple.expect("a tuple for a fast-path frame");
        assert!(s.tunnel.is_none() && s.outer.vlans.is_empty());
        assert_eq!(s.outer.fragment, Fragment::None);
        let l4 = s.outer.l4.expect("TCP");
        assert_eq!(l4.kind, L4Kind::Tcp);
        assert_eq!(
            (t.src_port, t.dst_port, t.family),
            (p.src_port, p.dst_port, p.family)
        );
        assert_eq!(
            (p.payload_offset, p.payload_end),
            (s.payload_offset, s.payload_end)
        );
        let at = usize::from(l4.offset);
        let seq = u32::from_be_bytes(data[at + 4..at + 8].try_into().unwrap());
        assert_eq!((seq, data[at + 13]), (p.seq, p.flags));
        let slow = FlowKey::from_frame_hashed(data, s, 7);
        let quick = FlowKey::from_plain_tcp(data, &p, 7);
        assert_eq!(slow, quick, "the two paths key the flow differently");
        assert!(matches!(p.family, IpFamily::V4 | IpFamily::V6));
    }
    // Differential: an untunneled, unfragmented TCP or UDP frame.
    let Ok(s) = full else { return };
    let plain = s.tunnel.is_none()
        && s.outer.fragment == Fragment::None
        && s.outer.l4.is_some()
        && s.tuple.is_some();
    if !plain || etherparse_differs(data, &s).is_some() {
        return;
    }
    let Some(mine) = ours(&s) else { return };
    match etherparse_view(data) {
        Ok(theirs) => assert_eq!(mine, theirs, "etherparse reads the frame otherwise"),
        Err(e) => {
            // etherparse refuses what infersteer took: only a lax slice may tell why; keep
            // the input as a finding.
            let lax = LaxSlicedPacket::from_ethernet(data)
                .map(|_| ())
                .map_err(|e| format!("{e:?}"));
            panic!("etherparse refuses a frame infersteer takes: {e} (lax: {lax:?})");
        }
    }
}
