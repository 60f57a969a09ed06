//! IPv4 header (RFC 791), with options and fragmentation fields.
//!
//! The view covers the fixed 20 bytes; options follow it up to `header_len()` and are skipped
//! by the frame parser, never interpreted. Checksum helpers are provided but the parser does
//! not verify the header checksum (NICs do, and the cost would land on every packet).
#![forbid(unsafe_code)]

use core::net::Ipv4Addr;

use zerocopy::network_endian::U16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::checksum;
use super::{Header, IpProtocol, Layer};

/// The fixed part of an IPv4 header (20 bytes).
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, PartialEq, Eq,
)]
#[repr(C)]
pub struct Ipv4Header {
    /// Version (high 4 bits) and IHL, the header length in 32-bit words (low 4 bits).
    pub version_ihl: u8,
    /// DSCP (6 bits) and ECN (2 bits).
    pub dscp_ecn: u8,
    /// Length of the whole datagram (header and payload) in bytes.
    pub total_len: U16,
    /// Identification, shared by the fragments of one datagram.
    pub ident: U16,
    /// Flags (reserved, DF, MF) and the fragment offset in 8-byte units.
    pub flags_frag: U16,
    /// Time to live.
    pub ttl: u8,
    /// Protocol of the payload.
    pub protocol: u8,
    /// Header checksum.
    pub checksum: U16,
    /// Source address.
    pub src: [u8; 4],
    /// Destination address.
    pub dst: [u8; 4],
}

impl Header for Ipv4Header {
    const LAYER: Layer = Layer::Ipv4;
}

impl Ipv4Header {
    /// Length of the fixed header in bytes.
    pub const LEN: usize = 20;
    /// Longest header with options (IHL 15).
    pub const MAX_LEN: usize = 60;

    /// IP version field (4 for a valid header).
    #[inline]
    pub fn version(&self) -> u8 {
        self.version_ihl >> 4
    }

    /// Header length in bytes, options included (IHL × 4).
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(self.version_ihl & 0x0F) * 4
    }

    /// Sets version 4 and the header length in bytes (rounded down to 32-bit words, max 60).
    #[inline]
    pub fn set_version_and_header_len(&mut self, header_len: usize) {
        let words = (header_len.min(Self::MAX_LEN) / 4) as u8;
        self.version_ihl = 0x40 | words;
    }

    /// Total length of the datagram in bytes.
    #[inline]
    pub fn total_len(&self) -> u16 {
        self.total_len.get()
    }

    /// The Don't Fragment flag.
    #[inline]
    pub fn dont_fragment(&self) -> bool {
        self.flags_frag.get() & 0x4000 != 0
    }

    /// The More Fragments flag.
    #[inline]
    pub fn more_fragments(&self) -> bool {
        self.flags_frag.get() & 0x2000 != 0
    }

    /// Fragment offset in bytes (the field is in 8-byte units).
    #[inline]
    pub fn frag_offset(&self) -> u16 {
        (self.flags_frag.get() & 0x1FFF) << 3
    }

    /// Sets DF, MF and the fragment offset in bytes (must be a multiple of 8; lower bits are
    /// dropped).
    #[inline]
    pub fn set_fragment(&mut self, dont_fragment: bool, more_fragments: bool, offset_bytes: u16) {
        let v = (u16::from(dont_fragment) << 14)
            | (u16::from(more_fragments) << 13)
            | (offset_bytes >> 3);
        self.flags_frag.set(v);
    }

    /// The protocol of the payload.
    #[inline]
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol(self.protocol)
    }

    /// Source address.
    #[inline]
    pub fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.src)
    }

    /// Destination address.
    #[inline]
    pub fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.dst)
    }

    /// Whether the header checksum over the fixed header and `options` is correct.
    pub fn checksum_ok(&self, options: &[u8]) -> bool {
        let sum = checksum::sum(checksum::sum(0, self.as_bytes()), options);
        checksum::fold(sum) == 0xFFFF
    }

    /// Computes and stores the header checksum over the fixed header and `options`.
    pub fn fill_checksum(&mut self, options: &[u8]) {
        self.checksum.set(0);
        let sum = checksum::sum(checksum::sum(0, self.as_bytes()), options);
        self.checksum.set(!checksum::fold(sum));
    }
}
