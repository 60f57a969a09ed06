//! Property tests of the frame parser: emit-then-parse round trips, every prefix, random and
//! mutated bytes. None of them may panic; each checks what the parse reports.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches may panic on a broken setup

mod common;

use common::{frame_model, FrameModel, IpModel, L4Model, TunnelModel};
use infersteer::steer::FlowKey;
use infersteer::wire::{self, Fragment, FrameSummary, IpFamily, IpProtocol, L4Kind, TunnelKind};
use proptest::prelude::*;

/// Invariants that hold for every successful parse of any bytes.
fn check_bounds(frame: &[u8], s: &FrameSummary) {
    let len = frame.len();
    assert!(s.payload_offset <= s.payload_end, "{s:?}");
    assert!(usize::from(s.payload_end) <= len, "{s:?}");
    for layers in [Some(s.outer), s.inner].into_iter().flatten() {
        if let Some(l3) = layers.l3 {
            assert!(
                l3.offset < l3.upper_offset && l3.upper_offset <= l3.end,
                "{s:?}"
            );
            assert!(usize::from(l3.end) <= len);
            if let Some(l4) = layers.l4 {
                assert_eq!(l4.offset, l3.upper_offset);
                assert!(usize::from(l4.offset) + usize::from(l4.header_len) <= usize::from(l3.end));
            }
        } else {
            assert!(layers.l4.is_none());
        }
    }
    assert!(
        s.tunnel.is_some() || s.inner.is_none(),
        "inner frame without a tunnel"
    );
}

fn check_model(m: &FrameModel, frame: &[u8], s: &FrameSummary) {
    check_bounds(frame, s);
    assert_eq!(s.payload(frame), &m.payload[..], "payload");
    assert_eq!(usize::from(s.payload_offset), frame.len() - m.payload.len());
    match &m.tunnel {
        None => assert_eq!((s.tunnel, s.inner), (None, None)),
        Some((t, _, _)) => {
            let got = s.tunnel.expect("tunnel");
            match t {
                TunnelModel::Vxlan(vni) => {
                    assert_eq!((got.kind, got.vni), (TunnelKind::Vxlan, *vni))
                }
                TunnelModel::Geneve(vni, o) => {
                    assert_eq!(
                        (got.kind, got.vni, usize::from(got.options_len)),
                        (TunnelKind::Geneve, *vni, o.len())
                    )
                }
            }
            assert!(s.inner.is_some());
        }
    }
    assert_eq!(
        s.outer.vlans.as_slice(),
        m.outer.vlans.iter().map(|v| v.vid).collect::<Vec<_>>()
    );
    let inner = s.innermost();
    assert_eq!(
        inner.vlans.as_slice(),
        m.innermost()
            .vlans
            .iter()
            .map(|v| v.vid)
            .collect::<Vec<_>>()
    );
    let t = s.tuple.expect("tuple");
    match &m.innermost().ip {
        IpModel::V4 { src, dst, .. } => {
            assert_eq!(t.family, IpFamily::V4);
            assert_eq!((&t.src[..4], &t.dst[..4]), (&src[..], &dst[..]));
            assert_eq!((&t.src[4..], &t.dst[4..]), (&[0u8; 12][..], &[0u8; 12][..]));
        }
        IpModel::V6 { src, dst, ext } => {
            assert_eq!((t.family, t.src, t.dst), (IpFamily::V6, *src, *dst));
            let walked = if m.later_fragment() {
                ext.iter()
                    .position(|e| matches!(e, wire::emit::Ipv6ExtSpec::Fragment { .. }))
                    .unwrap()
                    + 1
            } else {
                ext.len()
            };
            assert_eq!(usize::from(inner.l3.unwrap().ext_headers), walked);
        }
    }
    assert_eq!(inner.fragment.is_fragment(), m.is_fragment());
    assert_eq!(
        matches!(inner.fragment, Fragment::Later { .. }),
        m.later_fragment()
    );
    let (proto, ports, kind) = match m.l4 {
        L4Model::Udp(sp, dp) => (IpProtocol::UDP, (sp, dp), Some(L4Kind::Udp)),
        L4Model::Tcp(sp, dp, _) => (IpProtocol::TCP, (sp, dp), Some(L4Kind::Tcp)),
        L4Model::Other(p) => (IpProtocol(p), (0, 0), None),
    };
    assert_eq!(t.protocol, proto);
    if m.later_fragment() {
        assert_eq!(((t.src_port, t.dst_port), inner.l4), ((0, 0), None));
    } else {
        assert_eq!((t.src_port, t.dst_port), ports);
        assert_eq!(inner.l4.map(|l| l.kind), kind);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn emit_then_parse_round_trips(m in frame_model()) {
        let frame = m.emit();
        let s = wire::parse_frame(&frame).unwrap_or_else(|e| panic!("{e} for {m:?}"));
        check_model(&m, &frame, &s);
    }

    #[test]
    fn every_prefix_is_an_error_or_a_shorter_parse(m in frame_model()) {
        let frame = m.emit();
        let full = wire::parse_frame(&frame).unwrap();
        let ip_end = usize::from(full.outer.l3.unwrap().end);
        for k in 0..frame.len() {
            if let Ok(s) = wire::parse_frame(&frame[..k]) {
                check_bounds(&frame[..k], &s);
                prop_assert!(k >= ip_end, "prefix {k} < IP end {ip_end} parsed: {s:?}");
            }
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1600)) {
        if let Ok(s) = wire::parse_frame(&bytes) {
            check_bounds(&bytes, &s);
        }
    }

    #[test]
    fn random_bytes_behind_plausible_headers_never_panic(
        ethertype in prop_oneof![Just(0x0800u16), Just(0x86DD), Just(0x8100), Just(0x88A8)],
        first in prop_oneof![Just(0x45u8), Just(0x4f), Just(0x60), any::<u8>()],
        rest in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&ethertype.to_be_bytes());
        frame.push(first);
        frame.extend_from_slice(&rest);
        if let Ok(s) = wire::parse_frame(&frame) {
            check_bounds(&frame, &s);
        }
    }

    #[test]
    fn mutated_frames_never_panic(
        m in frame_model(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut frame = m.emit();
        for (at, byte) in edits {
            let i = at.index(frame.len());
            frame[i] = byte;
        }
        if let Ok(s) = wire::parse_frame(&frame) {
            check_bounds(&frame, &s);
        }
    }
}

/// The fast path (`wire::fast::parse_plain_tcp`) against the full parser: whenever it accepts
/// bytes, the full parser accepts them too, with no tag and no tunnel, and finds the same
/// family, IP offset, ports, protocol and payload range. Checked on generated frames of every
/// shape, on every prefix and on mutated and random bytes; and it must accept the plain
/// frames it exists for.
fn fast_agrees(bytes: &[u8]) -> Result<bool, TestCaseError> {
    let Some(fast) = wire::fast::parse_plain_tcp(bytes) else {
        return Ok(false);
    };
    let s = wire::parse_frame(bytes);
    prop_assert!(
        s.is_ok(),
        "fast path accepted what the full parser rejects: {s:?}"
    );
    let s = s.unwrap();
    let t = s.tuple.unwrap();
    prop_assert!(s.tunnel.is_none() && s.outer.vlans.is_empty());
    prop_assert_eq!(t.family, fast.family);
    prop_assert_eq!(t.protocol, IpProtocol::TCP);
    prop_assert_eq!((t.src_port, t.dst_port), (fast.src_port, fast.dst_port));
    prop_assert_eq!(s.outer.l3.unwrap().offset, fast.l3_offset);
    // The sequence number and flags, from the TCP header the full parser found.
    let l4 = usize::from(s.outer.l4.unwrap().offset);
    let seq = u32::from_be_bytes(bytes[l4 + 4..l4 + 8].try_into().unwrap());
    prop_assert_eq!((fast.seq, fast.flags), (seq, bytes[l4 + 13]));
    prop_assert_eq!(s.outer.fragment, Fragment::None);
    prop_assert_eq!(
        (s.payload_offset, s.payload_end),
        (fast.payload_offset, fast.payload_end)
    );
    // The flow key (and its hash) from the fast path is the full path's: a flow whose packets
    // take either path finds one entry.
    prop_assert_eq!(
        FlowKey::from_plain_tcp(bytes, &fast, 9),
        FlowKey::from_frame_hashed(bytes, &s, 9)
    );
    prop_assert_eq!(
        FlowKey::from_frame(bytes, &s, 9),
        Some(FlowKey::new(&t, None, 9))
    );
    Ok(true)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fast_path_is_never_looser_than_the_full_parser(
        m in frame_model(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let mut frame = m.emit();
        let plain = m.tunnel.is_none()
            && m.outer.vlans.is_empty()
            && matches!(m.l4, L4Model::Tcp(..))
            && wire::parse_frame(&frame).is_ok_and(|s| {
                s.outer.fragment == Fragment::None
                    && s.outer.l3.is_some_and(|l| {
                        l.upper_offset == l.offset + if matches!(s.tuple.unwrap().family, IpFamily::V4) { 20 } else { 40 }
                    })
            });
        let accepted = fast_agrees(&frame)?;
        if plain {
            prop_assert!(accepted, "the fast path refused a plain TCP frame: {m:?}");
        }
        for k in 0..frame.len() {
            fast_agrees(&frame[..k])?;
        }
        for (at, byte) in edits {
            let i = at.index(frame.len());
            frame[i] = byte;
        }
        fast_agrees(&frame)?;
    }

    #[test]
    fn fast_path_on_random_bytes_behind_plausible_headers(
        ethertype in prop_oneof![Just(0x0800u16), Just(0x86DD)],
        first in prop_oneof![Just(0x45u8), Just(0x46), Just(0x60), any::<u8>()],
        rest in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&ethertype.to_be_bytes());
        frame.push(first);
        frame.extend_from_slice(&rest);
        fast_agrees(&frame)?;
    }
}
