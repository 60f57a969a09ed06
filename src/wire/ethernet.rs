//! Ethernet II header and 802.1Q / 802.1ad VLAN tags (IEEE 802.3, IEEE 802.1Q-2018).
//!
//! Views are `#[repr(C)]` structs with network-endian fields, cast from byte prefixes by
//! `zerocopy` (no copy, no unsafe here). The `*_from_prefix` functions never panic: a short
//! buffer is a [`WireErrorKind::Truncated`](super::WireErrorKind::Truncated) error.
#![forbid(unsafe_code)]

use zerocopy::network_endian::U16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::{Header, Layer};

/// An EtherType value. Open: unknown values are carried as they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EtherType(pub u16);

impl EtherType {
    /// Internet Protocol version 4.
    pub const IPV4: Self = Self(0x0800);
    /// Address Resolution Protocol.
    pub const ARP: Self = Self(0x0806);
    /// IEEE 802.1Q customer VLAN tag (C-tag).
    pub const VLAN: Self = Self(0x8100);
    /// IEEE 802.1ad service VLAN tag (S-tag, QinQ outer tag).
    pub const QINQ: Self = Self(0x88A8);
    /// Pre-standard QinQ outer tag still sent by some switches.
    pub const QINQ_LEGACY: Self = Self(0x9100);
    /// Internet Protocol version 6.
    pub const IPV6: Self = Self(0x86DD);
    /// Transparent Ethernet Bridging: an Ethernet frame (GENEVE protocol type).
    pub const TRANSPARENT_ETHERNET: Self = Self(0x6558);

    /// Whether this EtherType introduces a VLAN tag (802.1Q, 802.1ad or legacy QinQ).
    #[inline(always)]
    pub const fn is_vlan_tag(self) -> bool {
        matches!(self.0, 0x8100 | 0x88A8 | 0x9100)
    }
}

/// Ethernet II header: destination, source, EtherType (14 bytes).
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, PartialEq, Eq,
)]
#[repr(C)]
pub struct EthernetHeader {
    /// Destination MAC address.
    pub dst: [u8; 6],
    /// Source MAC address.
    pub src: [u8; 6],
    /// EtherType of what follows (or a VLAN TPID).
    pub ethertype: U16,
}

impl Header for EthernetHeader {
    const LAYER: Layer = Layer::Ethernet;
}

impl EthernetHeader {
    /// Length of the header in bytes.
    pub const LEN: usize = 14;

    /// The EtherType field.
    #[inline]
    pub fn ethertype(&self) -> EtherType {
        EtherType(self.ethertype.get())
    }

    /// Sets the EtherType field.
    #[inline]
    pub fn set_ethertype(&mut self, ethertype: EtherType) {
        self.ethertype.set(ethertype.0);
    }
}

/// One 802.1Q / 802.1ad tag as it follows a TPID: tag control information and the next
/// EtherType (4 bytes; the TPID itself is the previous header's EtherType field).
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, PartialEq, Eq,
)]
#[repr(C)]
pub struct VlanTag {
    /// Tag control information: PCP (3 bits), DEI (1 bit), VLAN id (12 bits).
    pub tci: U16,
    /// EtherType of what follows the tag.
    pub ethertype: U16,
}

impl Header for VlanTag {
    const LAYER: Layer = Layer::Vlan;
}

impl VlanTag {
    /// Length of the tag in bytes (after the TPID).
    pub const LEN: usize = 4;

    /// The 12-bit VLAN identifier.
    #[inline]
    pub fn vid(&self) -> u16 {
        self.tci.get() & 0x0FFF
    }

    /// The 3-bit priority code point.
    #[inline]
    pub fn pcp(&self) -> u8 {
        (self.tci.get() >> 13) as u8
    }

    /// The drop-eligible indicator.
    #[inline]
    pub fn dei(&self) -> bool {
        self.tci.get() & 0x1000 != 0
    }

    /// Sets PCP, DEI and VLAN id (the id is masked to 12 bits, the PCP to 3).
    #[inline]
    pub fn set_tci(&mut self, pcp: u8, dei: bool, vid: u16) {
        let tci = (u16::from(pcp & 0x7) << 13) | (u16::from(dei) << 12) | (vid & 0x0FFF);
        self.tci.set(tci);
    }

    /// The EtherType after this tag.
    #[inline]
    pub fn ethertype(&self) -> EtherType {
        EtherType(self.ethertype.get())
    }

    /// Sets the EtherType after this tag.
    #[inline]
    pub fn set_ethertype(&mut self, ethertype: EtherType) {
        self.ethertype.set(ethertype.0);
    }
}
