//! IPv6 header and extension headers (RFC 8200 §3–4, RFC 4302 for AH, RFC 7045 for the
//! generic format of extension headers).
//!
//! The frame parser walks hop-by-hop (only first, RFC 8200 §4.1), routing, fragment,
//! destination options, AH, Mobility, HIP and Shim6 headers, at most
//! [`MAX_IPV6_EXT_HEADERS`](crate::capacity::MAX_IPV6_EXT_HEADERS) of them. ESP and unknown
//! next-header values end the chain: what follows is the upper-layer payload.
#![forbid(unsafe_code)]

use core::net::Ipv6Addr;

use zerocopy::network_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::{Header, IpProtocol, Layer};

/// The fixed IPv6 header (40 bytes).
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, PartialEq, Eq,
)]
#[repr(C)]
pub struct Ipv6Header {
    /// Version (4 bits), traffic class (8 bits), flow label (20 bits).
    pub ver_tc_flow: [u8; 4],
    /// Length of everything after this fixed header, extension headers included.
    pub payload_len: U16,
    /// Type of the first extension header or of the upper-layer header.
    pub next_header: u8,
    /// Hop limit.
    pub hop_limit: u8,
    /// Source address.
    pub src: [u8; 16],
    /// Destination address.
    pub dst: [u8; 16],
}

impl Header for Ipv6Header {
    const LAYER: Layer = Layer::Ipv6;
}

impl Ipv6Header {
    /// Length of the fixed header in bytes.
    pub const LEN: usize = 40;

    /// IP version field (6 for a valid header).
    #[inline]
    pub fn version(&self) -> u8 {
        self.ver_tc_flow[0] >> 4
    }

    /// Traffic class.
    #[inline]
    pub fn traffic_class(&self) -> u8 {
        (self.ver_tc_flow[0] << 4) | (self.ver_tc_flow[1] >> 4)
    }

    /// 20-bit flow label.
    #[inline]
    pub fn flow_label(&self) -> u32 {
        u32::from_be_bytes(self.ver_tc_flow) & 0x000F_FFFF
    }

    /// Sets version 6, the traffic class and the flow label (masked to 20 bits).
    #[inline]
    pub fn set_version_tc_flow(&mut self, traffic_class: u8, flow_label: u32) {
        let v = (6u32 << 28) | (u32::from(traffic_class) << 20) | (flow_label & 0x000F_FFFF);
        self.ver_tc_flow = v.to_be_bytes();
    }

    /// Payload length in bytes.
    #[inline]
    pub fn payload_len(&self) -> u16 {
        self.payload_len.get()
    }

    /// The first next-header value.
    #[inline]
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol(self.next_header)
    }

    /// Source address.
    #[inline]
    pub fn src_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.src)
    }

    /// Destination address.
    #[inline]
    pub fn dst_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.dst)
    }
}

/// The first two bytes of every extension header in the generic format (hop-by-hop, routing,
/// destination options, Mobility, HIP, Shim6): next header and length.
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, PartialEq, Eq,
)]
#[repr(C)]
pub struct Ipv6ExtHeader {
    /// Type of the header that follows this one.
    pub next_header: u8,
    /// Length in 8-byte units, not counting the first 8 bytes (for AH: 4-byte units minus 2).
    pub hdr_ext_len: u8,
}

impl Header for Ipv6ExtHeader {
    const LAYER: Layer = Layer::Ipv6Extension;
}

impl Ipv6ExtHeader {
    /// Length of the two-byte prefix.
    pub const LEN: usize = 2;

    /// Length of the whole extension header in bytes when it has type `kind`: `(len + 1) × 8`
    /// in the generic format, `(len + 2) × 4` for AH (RFC 4302 §2.2).
    #[inline]
    pub fn total_len(&self, kind: IpProtocol) -> usize {
        if kind == IpProtocol::AH {
            (usize::from(self.hdr_ext_len) + 2) * 4
        } else {
            (usize::from(self.hdr_ext_len) + 1) * 8
        }
    }
}

/// The IPv6 Fragment extension header (RFC 8200 §4.5, 8 bytes).
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, PartialEq, Eq,
)]
#[repr(C)]
pub struct Ipv6FragmentHeader {
    /// Type of the header that follows.
    pub next_header: u8,
    /// Reserved, zero.
    pub reserved: u8,
    /// Fragment offset in 8-byte units (13 bits), two reserved bits, the M flag.
    pub offset_flags: U16,
    /// Identification shared by the fragments of one packet.
    pub ident: U32,
}

impl Header for Ipv6FragmentHeader {
    const LAYER: Layer = Layer::Ipv6Extension;
}

impl Ipv6FragmentHeader {
    /// Length of the header in bytes.
    pub const LEN: usize = 8;

    /// Fragment offset in bytes.
    #[inline]
    pub fn frag_offset(&self) -> u16 {
        self.offset_flags.get() & 0xFFF8
    }

    /// The More Fragments flag.
    #[inline]
    pub fn more_fragments(&self) -> bool {
        self.offset_flags.get() & 1 != 0
    }

    /// Sets the offset in bytes (a multiple of 8; low bits dropped) and the M flag.
    #[inline]
    pub fn set_fragment(&mut self, offset_bytes: u16, more_fragments: bool) {
        self.offset_flags
            .set((offset_bytes & 0xFFF8) | u16::from(more_fragments));
    }
}
