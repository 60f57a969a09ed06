//! Zero-copy frame parsing: Ethernet II, 802.1Q / 802.1ad (QinQ), IPv4 with options and
//! fragments, IPv6 with its extension-header chain, UDP, TCP, and VXLAN / GENEVE tunnels whose
//! inner Ethernet frame is parsed again.
//!
//! # Promises
//!
//! - **No panic, on any input.** Every read goes through a checked prefix cast or a `get`;
//!   offsets are bounded by the frame length, which is capped at [`MAX_FRAME_LEN`], so sums of
//!   offsets and header lengths cannot overflow. Property tests feed random bytes and every
//!   prefix of every fixture.
//! - **No allocation.** Everything here works on borrowed bytes and returns `Copy` values; the
//!   module builds without `std` or `alloc`. A counting-allocator test proves it.
//! - **Typed errors.** Each malformed case is a [`WireErrorKind`], with the offset of the
//!   header at fault and whether it sat inside a tunnel.
//!
//! # Entry point
//!
//! [`parse_frame`] walks a whole frame into a [`FrameSummary`]: the outer layers, the tunnel
//! and inner layers if any, the innermost 5-tuple, the L4 payload range and the fragment state.
//! Frames that are well formed but not IP (ARP, LLDP) parse with no L3; IP protocols other than
//! UDP and TCP parse with no L4 and their IP payload as the payload range.
//!
//! # Views
//!
//! Each header has a `#[repr(C)]` view with network-endian fields ([`ethernet`], [`ipv4`],
//! [`ipv6`], [`udp`], [`tcp`], [`tunnel`]) read with `ref_from_bytes_checked` and written with
//! `mut_from_bytes_checked`; [`emit`] builds whole frames from a description with them.
#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

pub mod checksum;
pub mod emit;
pub mod ethernet;
pub mod fast;
pub mod ipv4;
pub mod ipv6;
pub mod tcp;
pub mod tunnel;
pub mod udp;

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::capacity::{MAX_IPV6_EXT_HEADERS, MAX_VLAN_TAGS};
use ethernet::{EtherType, EthernetHeader, VlanTag};
use ipv4::Ipv4Header;
use ipv6::{Ipv6ExtHeader, Ipv6FragmentHeader, Ipv6Header};
use tcp::TcpHeader;
use tunnel::{GeneveHeader, GeneveOptions, VxlanHeader, GENEVE_PORT, VXLAN_PORT};
use udp::UdpHeader;

/// Longest frame the parser accepts: offsets in the summary are `u16`.
pub const MAX_FRAME_LEN: usize = u16::MAX as usize;

/// An IP protocol number (IPv4 protocol, IPv6 next header). Open: unknown values are kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpProtocol(pub u8);

impl IpProtocol {
    /// IPv6 hop-by-hop options.
    pub const HOP_BY_HOP: Self = Self(0);
    /// ICMP.
    pub const ICMP: Self = Self(1);
    /// TCP.
    pub const TCP: Self = Self(6);
    /// UDP.
    pub const UDP: Self = Self(17);
    /// IPv6 routing header.
    pub const IPV6_ROUTING: Self = Self(43);
    /// IPv6 fragment header.
    pub const IPV6_FRAGMENT: Self = Self(44);
    /// Encapsulating Security Payload.
    pub const ESP: Self = Self(50);
    /// Authentication Header.
    pub const AH: Self = Self(51);
    /// ICMPv6.
    pub const ICMPV6: Self = Self(58);
    /// IPv6 "no next header".
    pub const IPV6_NO_NEXT: Self = Self(59);
    /// IPv6 destination options.
    pub const IPV6_DEST_OPTS: Self = Self(60);
    /// Mobility header.
    pub const MOBILITY: Self = Self(135);
    /// Host Identity Protocol.
    pub const HIP: Self = Self(139);
    /// Shim6.
    pub const SHIM6: Self = Self(140);
}

/// A header view: a `#[repr(C)]`, unaligned, network-endian struct cast in place from the
/// front of a byte slice. Implemented by every header of this module; the two methods are the
/// checked read and write entry points.
pub trait Header: FromBytes + IntoBytes + KnownLayout + Immutable + Unaligned {
    /// The layer a too-short buffer is reported against.
    const LAYER: Layer;

    /// Reads the header at the start of `bytes`; returns it and the bytes after it.
    ///
    /// # Errors
    ///
    /// [`WireErrorKind::Truncated`] when `bytes` is shorter than the header.
    #[inline(always)]
    fn ref_from_bytes_checked(bytes: &[u8]) -> Result<(&Self, &[u8]), WireErrorKind> {
        Self::ref_from_prefix(bytes).map_err(|_| WireErrorKind::Truncated(Self::LAYER))
    }

    /// Writable view of the header at the start of `bytes`, and the bytes after it.
    ///
    /// # Errors
    ///
    /// [`WireErrorKind::Truncated`] when `bytes` is shorter than the header.
    #[inline(always)]
    fn mut_from_bytes_checked(bytes: &mut [u8]) -> Result<(&mut Self, &mut [u8]), WireErrorKind> {
        Self::mut_from_prefix(bytes).map_err(|_| WireErrorKind::Truncated(Self::LAYER))
    }
}

/// The layer a parse error or truncation refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    /// Ethernet II header.
    Ethernet,
    /// 802.1Q / 802.1ad tag.
    Vlan,
    /// IPv4 header or datagram.
    Ipv4,
    /// IPv6 fixed header or packet.
    Ipv6,
    /// An IPv6 extension header.
    Ipv6Extension,
    /// UDP header.
    Udp,
    /// TCP header.
    Tcp,
    /// VXLAN header.
    Vxlan,
    /// GENEVE header and options.
    Geneve,
}

/// What is wrong with a frame.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WireErrorKind {
    /// The frame ends before the header (or the length its header announces) of this layer.
    Truncated(Layer),
    /// The frame is longer than [`MAX_FRAME_LEN`].
    FrameTooLong,
    /// More VLAN tags than [`MAX_VLAN_TAGS`].
    VlanDepthExceeded,
    /// The IPv4 version field is not 4 (the value found).
    Ipv4BadVersion(u8),
    /// IHL below 5 words (the value found).
    Ipv4BadHeaderLength(u8),
    /// Total length smaller than the header length (the value found).
    Ipv4BadTotalLength(u16),
    /// The IPv6 version field is not 6 (the value found).
    Ipv6BadVersion(u8),
    /// A hop-by-hop options header that is not the first extension header (RFC 8200 §4.1).
    Ipv6HopByHopNotFirst,
    /// More extension headers than [`MAX_IPV6_EXT_HEADERS`].
    Ipv6ExtensionChainTooLong,
    /// An authentication header (AH) whose Payload Len is 0: 8 bytes, shorter than its 12-byte
    /// fixed part (RFC 4302 §2.2).
    Ipv6AuthTooShort,
    /// A UDP length below 8 or past the end of the IP payload (the value found).
    UdpBadLength(u16),
    /// A TCP data offset below 5 words or past the end of the segment (the value found).
    TcpBadDataOffset(u8),
    /// A malformed TCP option (its kind), from [`tcp::TcpOptions`].
    TcpBadOption(u8),
    /// VXLAN header without the I (VNI valid) flag (the flags byte found).
    VxlanBadFlags(u8),
    /// GENEVE version other than 0 (the value found).
    GeneveBadVersion(u8),
    /// GENEVE options whose lengths do not add up to the options length.
    GeneveBadOptions,
}

/// A parse error: what, where (byte offset of the header at fault), and whether it was inside a
/// tunnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WireError {
    /// What is wrong.
    pub kind: WireErrorKind,
    /// Byte offset in the frame of the header at fault.
    pub offset: u16,
    /// Whether the header at fault is inside a VXLAN or GENEVE tunnel.
    pub encapsulated: bool,
}

impl fmt::Display for WireErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated(layer) => write!(f, "frame truncated in the {layer:?} layer"),
            Self::FrameTooLong => write!(f, "frame longer than {MAX_FRAME_LEN} bytes"),
            Self::VlanDepthExceeded => write!(f, "more than {MAX_VLAN_TAGS} VLAN tags"),
            Self::Ipv4BadVersion(v) => write!(f, "IPv4 header with version {v}"),
            Self::Ipv4BadHeaderLength(ihl) => write!(f, "IPv4 IHL {ihl} below 5"),
            Self::Ipv4BadTotalLength(l) => write!(f, "IPv4 total length {l} below header length"),
            Self::Ipv6BadVersion(v) => write!(f, "IPv6 header with version {v}"),
            Self::Ipv6HopByHopNotFirst => write!(f, "IPv6 hop-by-hop header not first in chain"),
            Self::Ipv6ExtensionChainTooLong => {
                write!(f, "more than {MAX_IPV6_EXT_HEADERS} IPv6 extension headers")
            }
            Self::Ipv6AuthTooShort => write!(f, "IPv6 authentication header shorter than 12 bytes"),
            Self::UdpBadLength(l) => write!(f, "UDP length {l} invalid for its datagram"),
            Self::TcpBadDataOffset(d) => write!(f, "TCP data offset {d} invalid for its segment"),
            Self::TcpBadOption(k) => write!(f, "malformed TCP option of kind {k}"),
            Self::VxlanBadFlags(fl) => write!(f, "VXLAN flags {fl:#04x} without the I flag"),
            Self::GeneveBadVersion(v) => write!(f, "GENEVE version {v}"),
            Self::GeneveBadOptions => write!(f, "GENEVE options do not add up"),
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let where_ = if self.encapsulated { "inner" } else { "outer" };
        write!(f, "{} (at byte {}, {where_} frame)", self.kind, self.offset)
    }
}

impl core::error::Error for WireError {}

/// The VLAN ids of one Ethernet header, outermost first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VlanIds {
    ids: [u16; MAX_VLAN_TAGS],
    len: u8,
}

impl VlanIds {
    /// No tags.
    pub const EMPTY: Self = Self {
        ids: [0; MAX_VLAN_TAGS],
        len: 0,
    };

    /// The ids, outermost first.
    #[inline]
    pub fn as_slice(&self) -> &[u16] {
        self.ids.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The outermost id (the S-tag in QinQ).
    #[inline]
    pub fn outer(&self) -> Option<u16> {
        self.as_slice().first().copied()
    }

    /// The innermost id (the C-tag in QinQ).
    #[inline]
    pub fn inner(&self) -> Option<u16> {
        self.as_slice().last().copied()
    }

    /// Number of tags.
    #[inline]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether there are no tags.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline(always)]
    fn push(&mut self, vid: u16) -> bool {
        match self.ids.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = vid;
                self.len += 1;
                true
            }
            None => false,
        }
    }
}

/// Network layer found after Ethernet (and VLAN tags).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum L3Kind {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
}

/// Where the network layer sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct L3Info {
    /// IPv4 or IPv6.
    pub kind: L3Kind,
    /// Offset of the IP header.
    pub offset: u16,
    /// End of the IP packet as its length field says (Ethernet padding after it excluded).
    pub end: u16,
    /// Offset of the upper-layer header: after IPv4 options or the IPv6 extension chain (for a
    /// non-first fragment, the start of the fragment's data).
    pub upper_offset: u16,
    /// Upper-layer protocol: IPv4 protocol, or the last next-header of the IPv6 chain.
    pub protocol: IpProtocol,
    /// Number of IPv6 extension headers walked (0 for IPv4).
    pub ext_headers: u8,
}

/// Transport layer parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum L4Kind {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
}

/// Where the transport header sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct L4Info {
    /// UDP or TCP.
    pub kind: L4Kind,
    /// Offset of the UDP or TCP header.
    pub offset: u16,
    /// Length of the header in bytes (8 for UDP, data offset × 4 for TCP).
    pub header_len: u8,
}

/// Fragment state of an IP packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Fragment {
    /// A whole packet (including an IPv6 atomic fragment: offset 0, M clear).
    #[default]
    None,
    /// The first fragment (offset 0, more to come): it holds the L4 header.
    First {
        /// Identification shared by the fragments.
        id: u32,
    },
    /// A later fragment: no L4 header, only data at `offset` of the original payload.
    Later {
        /// Identification shared by the fragments.
        id: u32,
        /// Offset of this fragment's data in the original payload, in bytes.
        offset: u16,
    },
}

impl Fragment {
    /// Whether this packet is a fragment of a larger one.
    #[inline]
    pub fn is_fragment(self) -> bool {
        !matches!(self, Self::None)
    }
}

/// The layers of one Ethernet frame (the outer frame, or the one inside a tunnel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layers {
    /// Offset of the Ethernet header.
    pub eth_offset: u16,
    /// VLAN ids, outermost first.
    pub vlans: VlanIds,
    /// EtherType after the VLAN tags.
    pub ethertype: EtherType,
    /// The IP layer, if the EtherType is IPv4 or IPv6.
    pub l3: Option<L3Info>,
    /// The UDP or TCP header, if there is one (never for a non-first fragment).
    pub l4: Option<L4Info>,
    /// Fragment state of the IP packet.
    pub fragment: Fragment,
}

impl Layers {
    const EMPTY: Self = Self {
        eth_offset: 0,
        vlans: VlanIds::EMPTY,
        ethertype: EtherType(0),
        l3: None,
        l4: None,
        fragment: Fragment::None,
    };
}

/// Tunnel protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TunnelKind {
    /// VXLAN (UDP 4789).
    Vxlan,
    /// GENEVE (UDP 6081).
    Geneve,
}

/// A VXLAN or GENEVE tunnel found in the outer frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tunnel {
    /// VXLAN or GENEVE.
    pub kind: TunnelKind,
    /// The 24-bit virtual network identifier.
    pub vni: u32,
    /// Offset of the tunnel header (the outer UDP payload).
    pub offset: u16,
    /// GENEVE options length in bytes (0 for VXLAN).
    pub options_len: u8,
    /// Protocol type of the tunnel payload (always Ethernet for VXLAN). The inner frame is
    /// parsed only when it is [`EtherType::TRANSPARENT_ETHERNET`] and the packet is not a
    /// GENEVE control packet.
    pub protocol: EtherType,
}

/// IP address family of a 5-tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpFamily {
    /// IPv4: addresses in the first 4 bytes.
    V4,
    /// IPv6.
    V6,
}

/// The innermost 5-tuple. Addresses are stored as 16 bytes (IPv4 in the first 4, the rest 0)
/// so that the tuple hashes and compares as plain bytes. Ports are 0 when there is no UDP or
/// TCP header (other protocols, non-first fragments).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FiveTuple {
    /// Source address bytes.
    pub src: [u8; 16],
    /// Destination address bytes.
    pub dst: [u8; 16],
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Upper-layer protocol.
    pub protocol: IpProtocol,
    /// Address family.
    pub family: IpFamily,
}

impl FiveTuple {
    /// Source address.
    pub fn src_addr(&self) -> IpAddr {
        addr(self.family, &self.src)
    }

    /// Destination address.
    pub fn dst_addr(&self) -> IpAddr {
        addr(self.family, &self.dst)
    }
}

fn addr(family: IpFamily, bytes: &[u8; 16]) -> IpAddr {
    match (family, bytes) {
        (IpFamily::V4, [a, b, c, d, ..]) => IpAddr::V4(Ipv4Addr::new(*a, *b, *c, *d)),
        (IpFamily::V6, _) => IpAddr::V6(Ipv6Addr::from(*bytes)),
    }
}

/// Everything [`parse_frame`] learns about a frame, as offsets into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameSummary {
    /// The outer (underlay) frame.
    pub outer: Layers,
    /// The VXLAN or GENEVE tunnel, if the outer frame carries one.
    pub tunnel: Option<Tunnel>,
    /// The frame inside the tunnel, if one was parsed.
    pub inner: Option<Layers>,
    /// The innermost 5-tuple, if the innermost frame is IP.
    pub tuple: Option<FiveTuple>,
    /// Start of the innermost payload: after the UDP/TCP header, else after the IP headers, else
    /// after the Ethernet header and tags, else (a tunnel whose payload is not parsed) after
    /// the tunnel header.
    pub payload_offset: u16,
    /// End of the innermost payload (UDP length, IP length, or the end of the frame).
    pub payload_end: u16,
}

impl FrameSummary {
    /// The innermost frame's layers.
    #[inline]
    pub fn innermost(&self) -> &Layers {
        self.inner.as_ref().unwrap_or(&self.outer)
    }

    /// The innermost payload as a slice of `frame` (the frame that was parsed).
    #[inline]
    pub fn payload<'a>(&self, frame: &'a [u8]) -> &'a [u8] {
        frame
            .get(usize::from(self.payload_offset)..usize::from(self.payload_end))
            .unwrap_or(&[])
    }

    /// The innermost payload range.
    #[inline]
    pub fn payload_range(&self) -> core::ops::Range<usize> {
        usize::from(self.payload_offset)..usize::from(self.payload_end)
    }
}

/// What the checksum of a frame's innermost TCP segment says ([`tcp_checksum`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum L4Checksum {
    /// It holds.
    Good,
    /// It does not: the receiving stack discards the segment.
    Bad,
    /// It cannot be checked here: not TCP, the segment not all in the bytes (a chained
    /// buffer's first segment), or an IPv6 routing header still to be walked (the checksum
    /// then covers a final destination this hop does not see).
    Unverifiable,
}

/// Checks the TCP checksum (RFC 9293 §3.1: the pseudo-header of RFC 791 / RFC 8200 §8.1, the
/// header and the data) of the innermost segment of `frame`, parsed into `s`.
pub fn tcp_checksum(frame: &[u8], s: &FrameSummary) -> L4Checksum {
    let layers = s.innermost();
    let (Some(l3), Some(l4)) = (layers.l3, layers.l4) else {
        return L4Checksum::Unverifiable;
    };
    if l4.kind != L4Kind::Tcp {
        return L4Checksum::Unverifiable;
    }
    let ip = usize::from(l3.offset);
    let Some(segment) = frame.get(usize::from(l4.offset)..usize::from(l3.end)) else {
        return L4Checksum::Unverifiable;
    };
    let addresses = match l3.kind {
        L3Kind::Ipv4 => frame.get(ip + 12..ip + 20),
        L3Kind::Ipv6 if ipv6_routing_pending(frame, &l3) => None,
        L3Kind::Ipv6 => frame.get(ip + 8..ip + 40),
    };
    let Some(addresses) = addresses else {
        return L4Checksum::Unverifiable;
    };
    let mut acc = checksum::sum_wide(0, addresses);
    acc += segment.len() as u64 + u64::from(IpProtocol::TCP.0);
    acc = checksum::sum_wide(acc, segment);
    if checksum::fold_wide(acc) == 0xFFFF {
        L4Checksum::Good
    } else {
        L4Checksum::Bad
    }
}

/// Whether the IPv6 packet at `l3` carries a routing header with segments left (or one that
/// cannot be read): its checksum's pseudo-header then names an address other than the
/// header's destination.
fn ipv6_routing_pending(frame: &[u8], l3: &L3Info) -> bool {
    const ROUTING: u8 = 43;
    const FRAGMENT: u8 = 44;
    const AUTH: u8 = 51;
    let ip = usize::from(l3.offset);
    let Some(mut next) = frame.get(ip + 6).copied() else {
        return true;
    };
    let mut at = ip + 40;
    for _ in 0..l3.ext_headers {
        let (Some(&nh), Some(&len)) = (frame.get(at), frame.get(at + 1)) else {
            return true;
        };
        if next == ROUTING && frame.get(at + 3) != Some(&0) {
            return true;
        }
        at += match next {
            FRAGMENT => 8,
            AUTH => (usize::from(len) + 2) * 4,
            // Hop-by-hop, destination options and the routing header itself.
            _ => (usize::from(len) + 1) * 8,
        };
        next = nh;
    }
    false
}

impl FrameSummary {
    /// A summary of an empty frame: a starting value for [`parse_frame_into`], e.g. to fill a
    /// burst's array of summaries once at setup.
    pub const EMPTY: Self = Self {
        outer: Layers::EMPTY,
        tunnel: None,
        inner: None,
        tuple: None,
        payload_offset: 0,
        payload_end: 0,
    };
}

/// Where the innermost payload lies, and the UDP destination port of a whole (unfragmented)
/// UDP datagram (0 otherwise), from `parse_layers`.
struct Ends {
    payload_offset: usize,
    payload_end: usize,
    udp_dst_port: u16,
}

#[inline(always)]
fn fail(kind: WireErrorKind, offset: usize, encapsulated: bool) -> WireError {
    // Offsets never exceed MAX_FRAME_LEN (checked on entry), so this conversion is exact.
    WireError {
        kind,
        offset: offset as u16,
        encapsulated,
    }
}

/// Parses a whole frame into a [`FrameSummary`].
///
/// One tunnel level is decapsulated: a VXLAN or GENEVE header behind the outer UDP destination
/// port 4789 or 6081 (unless the outer packet is a fragment). A tunnel inside the tunnel is
/// reported as plain UDP.
///
/// # Errors
///
/// A [`WireError`] for every malformed or truncated header, including in the inner frame.
#[inline]
pub fn parse_frame(frame: &[u8]) -> Result<FrameSummary, WireError> {
    let mut summary = FrameSummary::EMPTY;
    parse_frame_into(frame, &mut summary)?;
    Ok(summary)
}

/// [`parse_frame`] writing into `out` in place: the hot path keeps one array of summaries per
/// burst and parses into its slots, so no summary is copied. Every field of `out` is
/// overwritten on success; after an error `out` holds a partial parse and must not be read.
///
/// # Errors
///
/// As [`parse_frame`].
#[inline]
pub fn parse_frame_into(frame: &[u8], out: &mut FrameSummary) -> Result<(), WireError> {
    if frame.len() > MAX_FRAME_LEN {
        return Err(fail(WireErrorKind::FrameTooLong, 0, false));
    }
    // Everything is computed in locals and stored once: reading back fields just written
    // (partial stores, then a wide load) stalls store-to-load forwarding on x86 and Arm.
    let outer = parse_layers(frame, 0, false, &mut out.outer, &mut out.tuple)?;
    out.payload_offset = outer.payload_offset as u16;
    out.payload_end = outer.payload_end as u16;
    out.inner = None;
    if outer.udp_dst_port != VXLAN_PORT && outer.udp_dst_port != GENEVE_PORT {
        out.tunnel = None;
        return Ok(());
    }
    decapsulate(frame, outer, out)
}

/// Parses the tunnel header behind the outer UDP payload and, when it carries Ethernet, the
/// inner frame.
#[inline]
fn decapsulate(frame: &[u8], outer: Ends, out: &mut FrameSummary) -> Result<(), WireError> {
    let start = outer.payload_offset;
    // The inner frame ends where the outer UDP payload ends.
    let Some(inner_frame) = frame.get(..outer.payload_end) else {
        return Err(fail(WireErrorKind::Truncated(Layer::Udp), start, false));
    };
    let udp_payload = inner_frame.get(start..).unwrap_or(&[]);
    let (tunnel, inner_start) = if outer.udp_dst_port == VXLAN_PORT {
        let (vx, _) =
            VxlanHeader::ref_from_bytes_checked(udp_payload).map_err(|k| fail(k, start, false))?;
        if vx.flags & VxlanHeader::FLAG_VNI_VALID == 0 {
            return Err(fail(WireErrorKind::VxlanBadFlags(vx.flags), start, false));
        }
        let tunnel = Tunnel {
            kind: TunnelKind::Vxlan,
            vni: vx.vni(),
            offset: start as u16,
            options_len: 0,
            protocol: EtherType::TRANSPARENT_ETHERNET,
        };
        (tunnel, start + VxlanHeader::LEN)
    } else {
        let (gn, rest) =
            GeneveHeader::ref_from_bytes_checked(udp_payload).map_err(|k| fail(k, start, false))?;
        if gn.version() != 0 {
            return Err(fail(
                WireErrorKind::GeneveBadVersion(gn.version()),
                start,
                false,
            ));
        }
        let opt_len = gn.options_len();
        let Some(options) = rest.get(..opt_len) else {
            return Err(fail(WireErrorKind::Truncated(Layer::Geneve), start, false));
        };
        GeneveOptions::validate(options).map_err(|k| fail(k, start, false))?;
        let protocol = gn.protocol();
        let tunnel = Tunnel {
            kind: TunnelKind::Geneve,
            vni: gn.vni(),
            offset: start as u16,
            options_len: opt_len as u8,
            protocol,
        };
        let inner_start = start + GeneveHeader::LEN + opt_len;
        if protocol != EtherType::TRANSPARENT_ETHERNET || gn.is_control() {
            out.tunnel = Some(tunnel);
            out.payload_offset = inner_start as u16;
            return Ok(());
        }
        (tunnel, inner_start)
    };
    out.tunnel = Some(tunnel);
    let inner = out.inner.insert(Layers::EMPTY);
    let ends = parse_layers(inner_frame, inner_start, true, inner, &mut out.tuple)?;
    out.payload_offset = ends.payload_offset as u16;
    out.payload_end = ends.payload_end as u16;
    Ok(())
}

/// Parses Ethernet, tags, IP and UDP/TCP starting at `start`; on success overwrites `layers`
/// and `tuple` whole. `frame` ends where this frame ends (the outer frame's end, or the end of
/// the tunnel's UDP payload); offsets are absolute.
///
/// Each header is cast from the front of the remaining bytes (`rest`), so one length check per
/// header covers its reads; offsets are derived from how much is left.
#[inline(always)]
fn parse_layers(
    frame: &[u8],
    start: usize,
    encapsulated: bool,
    layers: &mut Layers,
    tuple: &mut Option<FiveTuple>,
) -> Result<Ends, WireError> {
    let end = frame.len();
    let err = |kind, off| fail(kind, off, encapsulated);
    let offset_of = |rest: &[u8]| end - rest.len();

    let (eth, mut rest) = EthernetHeader::ref_from_bytes_checked(frame.get(start..).unwrap_or(&[]))
        .map_err(|k| err(k, start))?;
    let mut vlans = VlanIds::EMPTY;
    let mut ethertype = eth.ethertype();
    while ethertype.is_vlan_tag() {
        let (tag, r) =
            VlanTag::ref_from_bytes_checked(rest).map_err(|k| err(k, offset_of(rest)))?;
        if !vlans.push(tag.vid()) {
            return Err(err(WireErrorKind::VlanDepthExceeded, offset_of(rest)));
        }
        ethertype = tag.ethertype();
        rest = r;
    }

    let l3_off = offset_of(rest);
    let mut fragment = Fragment::None;
    // `segment`: the bytes after the IP header(s), up to the end the IP length gives.
    let (l3, segment, src, dst, family) = match ethertype {
        EtherType::IPV4 => {
            let (ip, _) = Ipv4Header::ref_from_bytes_checked(rest).map_err(|k| err(k, l3_off))?;
            if ip.version() != 4 {
                return Err(err(WireErrorKind::Ipv4BadVersion(ip.version()), l3_off));
            }
            let hl = ip.header_len();
            if hl < Ipv4Header::LEN {
                return Err(err(
                    WireErrorKind::Ipv4BadHeaderLength(ip.version_ihl & 0x0F),
                    l3_off,
                ));
            }
            let total = usize::from(ip.total_len());
            if total < hl {
                return Err(err(
                    WireErrorKind::Ipv4BadTotalLength(ip.total_len()),
                    l3_off,
                ));
            }
            let Some(segment) = rest.get(hl..total) else {
                return Err(err(WireErrorKind::Truncated(Layer::Ipv4), l3_off));
            };
            if ip.flags_frag.get() & 0x3FFF != 0 {
                let id = u32::from(ip.ident.get());
                let frag_off = ip.frag_offset();
                fragment = if frag_off != 0 {
                    Fragment::Later {
                        id,
                        offset: frag_off,
                    }
                } else {
                    Fragment::First { id }
                };
            }
            // Widened in registers: building the arrays bytewise would store 4 bytes and then
            // load 16 across them, which defeats store-to-load forwarding.
            let src = u128::from(u32::from_le_bytes(ip.src)).to_le_bytes();
            let dst = u128::from(u32::from_le_bytes(ip.dst)).to_le_bytes();
            let l3 = L3Info {
                kind: L3Kind::Ipv4,
                offset: l3_off as u16,
                end: (l3_off + total) as u16,
                upper_offset: (l3_off + hl) as u16,
                protocol: ip.protocol(),
                ext_headers: 0,
            };
            (l3, segment, src, dst, IpFamily::V4)
        }
        EtherType::IPV6 => {
            let (ip, after) =
                Ipv6Header::ref_from_bytes_checked(rest).map_err(|k| err(k, l3_off))?;
            if ip.version() != 6 {
                return Err(err(WireErrorKind::Ipv6BadVersion(ip.version()), l3_off));
            }
            let Some(mut segment) = after.get(..usize::from(ip.payload_len())) else {
                return Err(err(WireErrorKind::Truncated(Layer::Ipv6), l3_off));
            };
            let l3_end = l3_off + Ipv6Header::LEN + segment.len();
            let mut next = ip.next_header();
            let mut count = 0;
            if is_ipv6_extension(next) {
                let ext_start = l3_off + Ipv6Header::LEN;
                let walked;
                (next, walked, count, fragment) =
                    walk_ipv6_extensions(segment, next, ext_start, &err)?;
                segment = segment.get(walked..).unwrap_or(&[]);
            }
            let l3 = L3Info {
                kind: L3Kind::Ipv6,
                offset: l3_off as u16,
                end: l3_end as u16,
                upper_offset: (l3_end - segment.len()) as u16,
                protocol: next,
                ext_headers: count,
            };
            (l3, segment, ip.src, ip.dst, IpFamily::V6)
        }
        _ => {
            *layers = Layers {
                eth_offset: start as u16,
                vlans,
                ethertype,
                l3: None,
                l4: None,
                fragment,
            };
            *tuple = None;
            return Ok(Ends {
                payload_offset: l3_off,
                payload_end: end,
                udp_dst_port: 0,
            });
        }
    };

    let upper = usize::from(l3.upper_offset);
    let mut ends = Ends {
        payload_offset: upper,
        payload_end: usize::from(l3.end),
        udp_dst_port: 0,
    };
    let mut l4 = None;
    let mut ports = (0, 0);
    match (l3.protocol, fragment) {
        (_, Fragment::Later { .. }) => {}
        (IpProtocol::UDP, _) => {
            let (udp, _) = UdpHeader::ref_from_bytes_checked(segment).map_err(|k| err(k, upper))?;
            ports = (udp.src_port(), udp.dst_port());
            if fragment == Fragment::None {
                let ulen = usize::from(udp.length());
                if ulen < UdpHeader::LEN || ulen > segment.len() {
                    return Err(err(WireErrorKind::UdpBadLength(udp.length()), upper));
                }
                ends.payload_end = upper + ulen;
                ends.udp_dst_port = ports.1;
            }
            // In a first fragment the UDP length counts the whole datagram; the payload runs
            // to the end of this fragment.
            ends.payload_offset = upper + UdpHeader::LEN;
            l4 = Some(L4Info {
                kind: L4Kind::Udp,
                offset: upper as u16,
                header_len: 8,
            });
        }
        (IpProtocol::TCP, _) => {
            let (tcp, _) = TcpHeader::ref_from_bytes_checked(segment).map_err(|k| err(k, upper))?;
            let hl = tcp.header_len();
            if hl < TcpHeader::LEN || hl > segment.len() {
                let doff = (tcp.offset_flags.get() >> 12) as u8;
                return Err(err(WireErrorKind::TcpBadDataOffset(doff), upper));
            }
            ports = (tcp.src_port(), tcp.dst_port());
            ends.payload_offset = upper + hl;
            l4 = Some(L4Info {
                kind: L4Kind::Tcp,
                offset: upper as u16,
                header_len: hl as u8,
            });
        }
        _ => {}
    }
    *layers = Layers {
        eth_offset: start as u16,
        vlans,
        ethertype,
        l3: Some(l3),
        l4,
        fragment,
    };
    *tuple = Some(FiveTuple {
        src,
        dst,
        src_port: ports.0,
        dst_port: ports.1,
        protocol: l3.protocol,
        family,
    });
    Ok(ends)
}

/// Whether `next` is an IPv6 extension header the parser walks.
#[inline(always)]
fn is_ipv6_extension(next: IpProtocol) -> bool {
    matches!(
        next,
        IpProtocol::HOP_BY_HOP
            | IpProtocol::IPV6_ROUTING
            | IpProtocol::IPV6_FRAGMENT
            | IpProtocol::IPV6_DEST_OPTS
            | IpProtocol::AH
            | IpProtocol::MOBILITY
            | IpProtocol::HIP
            | IpProtocol::SHIM6
    )
}

/// Walks the IPv6 extension chain at the start of `chain` (the IPv6 payload, which begins at
/// frame offset `base`); returns the upper-layer protocol, the bytes walked, the number of
/// headers and the fragment state. Kept out of line: most packets have no extension header.
#[inline(never)]
fn walk_ipv6_extensions(
    chain: &[u8],
    mut next: IpProtocol,
    base: usize,
    err: &impl Fn(WireErrorKind, usize) -> WireError,
) -> Result<(IpProtocol, usize, u8, Fragment), WireError> {
    let mut count = 0u8;
    let mut p = 0usize;
    let mut fragment = Fragment::None;
    while is_ipv6_extension(next) {
        if usize::from(count) >= MAX_IPV6_EXT_HEADERS {
            return Err(err(WireErrorKind::Ipv6ExtensionChainTooLong, base + p));
        }
        let rest = chain.get(p..).unwrap_or(&[]);
        if next == IpProtocol::IPV6_FRAGMENT {
            let (fh, _) =
                Ipv6FragmentHeader::ref_from_bytes_checked(rest).map_err(|k| err(k, base + p))?;
            next = IpProtocol(fh.next_header);
            p += Ipv6FragmentHeader::LEN;
            count += 1;
            let id = fh.ident.get();
            if fh.frag_offset() != 0 {
                fragment = Fragment::Later {
                    id,
                    offset: fh.frag_offset(),
                };
                break;
            } else if fh.more_fragments() {
                fragment = Fragment::First { id };
            }
        } else {
            if next == IpProtocol::HOP_BY_HOP && count != 0 {
                return Err(err(WireErrorKind::Ipv6HopByHopNotFirst, base + p));
            }
            let (ext, _) =
                Ipv6ExtHeader::ref_from_bytes_checked(rest).map_err(|k| err(k, base + p))?;
            if next == IpProtocol::AH && ext.hdr_ext_len == 0 {
                return Err(err(WireErrorKind::Ipv6AuthTooShort, base + p));
            }
            let len = ext.total_len(next);
            if len > rest.len() {
                return Err(err(
                    WireErrorKind::Truncated(Layer::Ipv6Extension),
                    base + p,
                ));
            }
            next = IpProtocol(ext.next_header);
            p += len;
            count += 1;
        }
    }
    Ok((next, p, count, fragment))
}

#[cfg(test)]
mod tests;
