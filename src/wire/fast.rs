//! A fast path for the commonest frame: untagged Ethernet, IPv4 without options (or IPv6
//! without extension headers), not a fragment, TCP. It reads only what a flow lookup and a
//! GPU descriptor need (where the IP header is, the ports, where the payload lies) and writes
//! no [`FrameSummary`](super::FrameSummary).
//!
//! It is stricter than [`parse_frame`](super::parse_frame), never looser: whenever it accepts a
//! frame, the full parser accepts it too and finds the same addresses, ports and payload range
//! (property-tested against it in `tests/wire_props.rs`); anything else, including every
//! frame the full parser rejects, is `None`, and the caller falls back to the full parse. Like
//! the full parser it allocates nothing and cannot panic.
#![forbid(unsafe_code)]

use super::{IpFamily, MAX_FRAME_LEN};

/// What [`parse_plain_tcp`] learns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PlainTcp {
    /// IPv4 or IPv6.
    pub family: IpFamily,
    /// Offset of the IP header (always 14: untagged Ethernet).
    pub l3_offset: u16,
    /// TCP source port.
    pub src_port: u16,
    /// TCP destination port.
    pub dst_port: u16,
    /// Start of the TCP payload.
    pub payload_offset: u16,
    /// End of the TCP payload (the IP length; Ethernet padding excluded).
    pub payload_end: u16,
    /// TCP sequence number.
    pub seq: u32,
    /// TCP flags (the low byte of the flags field: CWR ECE URG ACK PSH RST SYN FIN).
    pub flags: u8,
}

const ETH_LEN: usize = 14;

#[inline(always)]
fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// The fast path: `Some` only for the shape in the module docs.
#[inline(always)]
pub fn parse_plain_tcp(frame: &[u8]) -> Option<PlainTcp> {
    if frame.len() > MAX_FRAME_LEN {
        return None;
    }
    let (family, upper, end) = match be16(frame, 12)? {
        0x0800 => {
            let ip = frame.get(ETH_LEN..ETH_LEN + 20)?;
            // Version 4, header length 20 (options go the full way), TCP, not a fragment.
            if *ip.first()? != 0x45 || *ip.get(9)? != 6 || be16(ip, 6)? & 0x3FFF != 0 {
                return None;
            }
            let total = usize::from(be16(ip, 2)?);
            if total < 20 || ETH_LEN + total > frame.len() {
                return None;
            }
            (IpFamily::V4, ETH_LEN + 20, ETH_LEN + total)
        }
        0x86DD => {
            let ip = frame.get(ETH_LEN..ETH_LEN + 40)?;
            // Version 6 and TCP right after the fixed header (no extension headers).
            if *ip.first()? >> 4 != 6 || *ip.get(6)? != 6 {
                return None;
            }
            let end = ETH_LEN + 40 + usize::from(be16(ip, 4)?);
            if end > frame.len() {
                return None;
            }
            (IpFamily::V6, ETH_LEN + 40, end)
        }
        _ => return None,
    };
    // The TCP header must fit in the IP payload, and so must its options.
    if upper + 20 > end {
        return None;
    }
    // The fixed 20 bytes of the TCP header, as one array: one length check for every field.
    let tcp: &[u8; 20] = frame.get(upper..upper + 20)?.try_into().ok()?;
    let [sp0, sp1, dp0, dp1, s0, s1, s2, s3, _, _, _, _, off, flags, ..] = *tcp;
    let tcp_len = usize::from(off >> 4) * 4;
    if tcp_len < 20 || upper + tcp_len > end {
        return None;
    }
    Some(PlainTcp {
        family,
        l3_offset: ETH_LEN as u16,
        src_port: u16::from_be_bytes([sp0, sp1]),
        dst_port: u16::from_be_bytes([dp0, dp1]),
        payload_offset: (upper + tcp_len) as u16,
        payload_end: end as u16,
        seq: u32::from_be_bytes([s0, s1, s2, s3]),
        flags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::emit::{emit_frame, FrameSpec, HopSpec, IpSpec, L4Spec, VlanSpec};
    use crate::wire::ethernet::EtherType;

    fn emit(spec: &FrameSpec<'_>) -> ([u8; 512], usize) {
        let mut buf = [0u8; 512];
        let n = emit_frame(spec, &mut buf).unwrap();
        (buf, n)
    }

    #[test]
    fn plain_tcp_is_taken_and_agrees_with_the_full_parse() {
        let v6 = FrameSpec {
            outer: HopSpec::new(IpSpec::v6([1; 16], [2; 16])),
            tunnel: None,
            l4: L4Spec::Tcp {
                src_port: 7,
                dst_port: 443,
                seq: 1,
                ack: 0,
                flags: 0x18,
                window: 100,
                options: &[1, 1, 1, 0],
            },
            payload: b"hello",
        };
        for spec in [
            FrameSpec::tcp_v4([10, 0, 0, 1], [10, 0, 0, 2], 1234, 80, b"GET /"),
            v6,
        ] {
            let (buf, n) = emit(&spec);
            let fast = parse_plain_tcp(&buf[..n]).unwrap();
            let full = crate::wire::parse_frame(&buf[..n]).unwrap();
            assert_eq!(
                (fast.payload_offset, fast.payload_end),
                (full.payload_offset, full.payload_end)
            );
            // Ethernet padding after the IP packet is not payload.
            let mut padded = buf;
            padded[n..n + 10].fill(0);
            assert_eq!(parse_plain_tcp(&padded[..n + 10]), Some(fast));
            // Cut inside the payload: refused (the full parser says truncated).
            assert_eq!(parse_plain_tcp(&buf[..n - 1]), None);
        }
    }

    #[test]
    fn other_shapes_go_the_full_way() {
        let tag = [VlanSpec {
            tpid: EtherType::VLAN,
            pcp: 0,
            vid: 5,
        }];
        let base = FrameSpec::tcp_v4([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, b"x");
        let tagged = FrameSpec {
            outer: HopSpec {
                vlans: &tag,
                ..base.outer
            },
            ..base
        };
        let udp = FrameSpec::udp_v4([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, b"x");
        let options = FrameSpec {
            outer: HopSpec::new(IpSpec::V4 {
                src: [10, 0, 0, 1],
                dst: [10, 0, 0, 2],
                ttl: 64,
                ident: 1,
                dont_fragment: false,
                more_fragments: false,
                frag_offset: 0,
                options: &[1, 1, 1, 0],
            }),
            ..base
        };
        let fragment = FrameSpec {
            outer: HopSpec::new(IpSpec::V4 {
                src: [10, 0, 0, 1],
                dst: [10, 0, 0, 2],
                ttl: 64,
                ident: 1,
                dont_fragment: false,
                more_fragments: true,
                frag_offset: 0,
                options: &[],
            }),
            ..base
        };
        for spec in [tagged, udp, options, fragment] {
            let (buf, n) = emit(&spec);
            assert_eq!(parse_plain_tcp(&buf[..n]), None, "{spec:?}");
        }
        assert_eq!(parse_plain_tcp(&[]), None);
    }
}
