//! UDP header (RFC 768).
#![forbid(unsafe_code)]

use zerocopy::network_endian::U16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::{Header, Layer};

/// UDP header (8 bytes).
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, PartialEq, Eq,
)]
#[repr(C)]
pub struct UdpHeader {
    /// Source port.
    pub src_port: U16,
    /// Destination port.
    pub dst_port: U16,
    /// Length of header and data in bytes (at least 8).
    pub length: U16,
    /// Checksum over the pseudo-header, header and data (0 = none, IPv4 only).
    pub checksum: U16,
}

impl Header for UdpHeader {
    const LAYER: Layer = Layer::Udp;
}

impl UdpHeader {
    /// Length of the header in bytes.
    pub const LEN: usize = 8;

    /// Source port.
    #[inline]
    pub fn src_port(&self) -> u16 {
        self.src_port.get()
    }

    /// Destination port.
    #[inline]
    pub fn dst_port(&self) -> u16 {
        self.dst_port.get()
    }

    /// The length field.
    #[inline]
    pub fn length(&self) -> u16 {
        self.length.get()
    }
}
