//! Overlay tunnel headers carried in UDP: VXLAN (RFC 7348) and GENEVE (RFC 8926).
//!
//! Both carry a 24-bit virtual network identifier (VNI), which names the tenant's network on an
//! edge point of presence. The frame parser recognises them by UDP destination port
//! ([`VXLAN_PORT`], [`GENEVE_PORT`]) and parses the encapsulated frame again, one level deep.
#![forbid(unsafe_code)]

use zerocopy::network_endian::U16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::ethernet::EtherType;
use super::{Header, Layer, WireErrorKind};

/// IANA UDP port of VXLAN.
pub const VXLAN_PORT: u16 = 4789;
/// IANA UDP port of GENEVE.
pub const GENEVE_PORT: u16 = 6081;

/// Largest VNI (24 bits).
pub const MAX_VNI: u32 = 0x00FF_FFFF;

/// VXLAN header (8 bytes, RFC 7348 §5).
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, PartialEq, Eq,
)]
#[repr(C)]
pub struct VxlanHeader {
    /// Flags: bit 3 (0x08) is the I flag, "VNI valid", and must be set.
    pub flags: u8,
    /// Reserved.
    pub reserved1: [u8; 3],
    /// VNI (24 bits) and a reserved byte.
    pub vni_reserved: [u8; 4],
}

impl Header for VxlanHeader {
    const LAYER: Layer = Layer::Vxlan;
}

impl VxlanHeader {
    /// Length of the header in bytes.
    pub const LEN: usize = 8;
    /// The I flag: the VNI is valid.
    pub const FLAG_VNI_VALID: u8 = 0x08;

    /// The 24-bit VNI.
    #[inline]
    pub fn vni(&self) -> u32 {
        u32::from_be_bytes(self.vni_reserved) >> 8
    }

    /// Sets the I flag and the VNI (masked to 24 bits), clearing reserved bits.
    #[inline]
    pub fn set_vni(&mut self, vni: u32) {
        self.flags = Self::FLAG_VNI_VALID;
        self.reserved1 = [0; 3];
        self.vni_reserved = ((vni & MAX_VNI) << 8).to_be_bytes();
    }
}

/// GENEVE base header (8 bytes, RFC 8926 §3.4), followed by `options_len()` bytes of options.
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, PartialEq, Eq,
)]
#[repr(C)]
pub struct GeneveHeader {
    /// Version (2 bits, must be 0) and options length in 4-byte words (6 bits).
    pub ver_opt_len: u8,
    /// O (control packet) and C (critical options present) flags, then reserved bits.
    pub flags: u8,
    /// EtherType of the payload (0x6558 for an Ethernet frame).
    pub protocol: U16,
    /// VNI (24 bits) and a reserved byte.
    pub vni_reserved: [u8; 4],
}

impl Header for GeneveHeader {
    const LAYER: Layer = Layer::Geneve;
}

impl GeneveHeader {
    /// Length of the base header in bytes.
    pub const LEN: usize = 8;

    /// Version field (0 is the only version defined).
    #[inline]
    pub fn version(&self) -> u8 {
        self.ver_opt_len >> 6
    }

    /// Length of the options in bytes.
    #[inline]
    pub fn options_len(&self) -> usize {
        usize::from(self.ver_opt_len & 0x3F) * 4
    }

    /// Whether this is a control packet (O flag).
    #[inline]
    pub fn is_control(&self) -> bool {
        self.flags & 0x80 != 0
    }

    /// Whether critical options are present (C flag).
    #[inline]
    pub fn critical_options(&self) -> bool {
        self.flags & 0x40 != 0
    }

    /// Protocol type of the payload.
    #[inline]
    pub fn protocol(&self) -> EtherType {
        EtherType(self.protocol.get())
    }

    /// The 24-bit VNI.
    #[inline]
    pub fn vni(&self) -> u32 {
        u32::from_be_bytes(self.vni_reserved) >> 8
    }

    /// Sets version 0, the options length in bytes (a multiple of 4, at most 252), the
    /// protocol and the VNI (masked to 24 bits); clears the flags.
    #[inline]
    pub fn set(&mut self, options_len: usize, protocol: EtherType, vni: u32) {
        self.ver_opt_len = ((options_len.min(252) / 4) as u8) & 0x3F;
        self.flags = 0;
        self.protocol.set(protocol.0);
        self.vni_reserved = ((vni & MAX_VNI) << 8).to_be_bytes();
    }
}

/// One GENEVE option (RFC 8926 §3.5): class, type, and its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GeneveOption<'a> {
    /// Option class.
    pub class: u16,
    /// Option type (its high bit is the critical bit).
    pub kind: u8,
    /// Option data (a multiple of 4 bytes).
    pub data: &'a [u8],
}

/// Iterator over a GENEVE options area; a malformed option yields one `Err` and then ends.
#[derive(Clone, Debug)]
pub struct GeneveOptions<'a> {
    rest: &'a [u8],
}

impl<'a> GeneveOptions<'a> {
    /// Iterates over `options`, the `options_len()` bytes after the base header.
    pub fn new(options: &'a [u8]) -> Self {
        Self { rest: options }
    }

    /// Checks that the options area is a whole number of well-formed options.
    #[inline]
    pub fn validate(options: &[u8]) -> Result<(), WireErrorKind> {
        let mut rest = options;
        while let [_, _, _, len, tail @ ..] = rest {
            let data_len = usize::from(len & 0x1F) * 4;
            rest = tail
                .get(data_len..)
                .ok_or(WireErrorKind::GeneveBadOptions)?;
        }
        if rest.is_empty() {
            Ok(())
        } else {
            Err(WireErrorKind::GeneveBadOptions)
        }
    }
}

impl<'a> Iterator for GeneveOptions<'a> {
    type Item = Result<GeneveOption<'a>, WireErrorKind>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let parsed = match self.rest {
            [c0, c1, kind, len, tail @ ..] => {
                let data_len = usize::from(len & 0x1F) * 4;
                match (tail.get(..data_len), tail.get(data_len..)) {
                    (Some(data), Some(rest)) => {
                        self.rest = rest;
                        Ok(GeneveOption {
                            class: u16::from_be_bytes([*c0, *c1]),
                            kind: *kind,
                            data,
                        })
                    }
                    _ => Err(WireErrorKind::GeneveBadOptions),
                }
            }
            _ => Err(WireErrorKind::GeneveBadOptions),
        };
        if parsed.is_err() {
            self.rest = &[];
        }
        Some(parsed)
    }
}
