//! Building frames: a [`FrameSpec`] describes a frame (Ethernet, tags, IPv4 or IPv6 with
//! options or extension headers, optionally a VXLAN/GENEVE tunnel with an inner frame, then
//! UDP, TCP or another protocol and a payload) and [`emit_frame`] writes it into a caller's
//! buffer through the write views of this module's siblings, filling every length field and
//! checksum (IPv4 header, UDP and TCP with their pseudo-headers, inner before outer).
//!
//! Tests, benches and the traffic generator build their frames here. Like the parser it
//! allocates nothing and never panics: a buffer that is too small or a description that cannot
//! be encoded is an [`EmitError`].
//!
//! Fragments: an IPv4 spec with a non-zero fragment offset, or an IPv6 fragment extension with
//! one, describes a later fragment: no L4 header is written, only the payload as fragment data.
//! For a first fragment the UDP length and L4 checksum cover only the bytes in this fragment.
#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

use super::checksum;
use super::ethernet::{EtherType, EthernetHeader, VlanTag};
use super::ipv4::Ipv4Header;
use super::ipv6::{Ipv6ExtHeader, Ipv6FragmentHeader, Ipv6Header};
use super::tcp::TcpHeader;
use super::tunnel::{GeneveHeader, VxlanHeader, GENEVE_PORT, VXLAN_PORT};
use super::udp::UdpHeader;
use super::{Header, IpProtocol, MAX_FRAME_LEN};

/// Why a frame could not be emitted.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EmitError {
    /// The buffer is shorter than the frame (the length needed).
    BufferTooSmall(usize),
    /// The frame, or one of its length fields, would exceed its limit.
    TooLong,
    /// IPv4 options longer than 40 bytes or not a multiple of 4.
    BadIpv4Options,
    /// TCP options longer than 40 bytes or not a multiple of 4.
    BadTcpOptions,
    /// GENEVE options longer than 252 bytes or not a multiple of 4.
    BadGeneveOptions,
    /// An IPv6 extension spec of a kind the emitter does not write.
    BadIpv6Extension,
}

impl core::fmt::Display for EmitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BufferTooSmall(n) => write!(f, "buffer too small: {n} bytes needed"),
            Self::TooLong => write!(f, "frame or length field too long"),
            Self::BadIpv4Options => {
                write!(f, "IPv4 options must be a multiple of 4, at most 40 bytes")
            }
            Self::BadTcpOptions => {
                write!(f, "TCP options must be a multiple of 4, at most 40 bytes")
            }
            Self::BadGeneveOptions => write!(
                f,
                "GENEVE options must be a multiple of 4, at most 252 bytes"
            ),
            Self::BadIpv6Extension => write!(f, "unsupported IPv6 extension header kind"),
        }
    }
}

impl core::error::Error for EmitError {}

/// One VLAN tag to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VlanSpec {
    /// Tag protocol identifier: [`EtherType::VLAN`], [`EtherType::QINQ`] or
    /// [`EtherType::QINQ_LEGACY`].
    pub tpid: EtherType,
    /// Priority code point (3 bits).
    pub pcp: u8,
    /// VLAN id (12 bits).
    pub vid: u16,
}

/// An IPv6 extension header to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ipv6ExtSpec {
    /// Hop-by-hop options, padded with PadN; `hdr_ext_len` in 8-byte units after the first 8.
    HopByHop {
        /// Length field.
        hdr_ext_len: u8,
    },
    /// Destination options, padded with PadN.
    DestOptions {
        /// Length field.
        hdr_ext_len: u8,
    },
    /// Routing header of experimental type 253 (RFC 4727) with segments left 0.
    Routing {
        /// Length field.
        hdr_ext_len: u8,
    },
    /// Authentication header (RFC 4302) with zero SPI, sequence and ICV.
    Ah {
        /// Length field, in 4-byte units minus 2.
        payload_len: u8,
    },
    /// Fragment header.
    Fragment {
        /// Offset in bytes (a multiple of 8).
        offset: u16,
        /// More fragments follow.
        more: bool,
        /// Identification.
        id: u32,
    },
}

impl Ipv6ExtSpec {
    fn protocol(&self) -> IpProtocol {
        match self {
            Self::HopByHop { .. } => IpProtocol::HOP_BY_HOP,
            Self::DestOptions { .. } => IpProtocol::IPV6_DEST_OPTS,
            Self::Routing { .. } => IpProtocol::IPV6_ROUTING,
            Self::Ah { .. } => IpProtocol::AH,
            Self::Fragment { .. } => IpProtocol::IPV6_FRAGMENT,
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::HopByHop { hdr_ext_len }
            | Self::DestOptions { hdr_ext_len }
            | Self::Routing { hdr_ext_len } => (usize::from(*hdr_ext_len) + 1) * 8,
            Self::Ah { payload_len } => (usize::from(*payload_len) + 2) * 4,
            Self::Fragment { .. } => Ipv6FragmentHeader::LEN,
        }
    }
}

/// The network layer to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpSpec<'a> {
    /// IPv4.
    V4 {
        /// Source address.
        src: [u8; 4],
        /// Destination address.
        dst: [u8; 4],
        /// Time to live.
        ttl: u8,
        /// Identification.
        ident: u16,
        /// Don't Fragment flag.
        dont_fragment: bool,
        /// More Fragments flag.
        more_fragments: bool,
        /// Fragment offset in bytes (a multiple of 8); non-zero makes a later fragment.
        frag_offset: u16,
        /// Options, a multiple of 4 bytes, at most 40.
        options: &'a [u8],
    },
    /// IPv6.
    V6 {
        /// Source address.
        src: [u8; 16],
        /// Destination address.
        dst: [u8; 16],
        /// Hop limit.
        hop_limit: u8,
        /// Flow label (20 bits).
        flow_label: u32,
        /// Extension headers, in order.
        ext: &'a [Ipv6ExtSpec],
    },
    /// No IP: the Ethernet payload is the spec's payload under this EtherType.
    Raw(EtherType),
}

impl IpSpec<'_> {
    /// A plain IPv4 header (TTL 64, DF set).
    pub const fn v4(src: [u8; 4], dst: [u8; 4]) -> Self {
        Self::V4 {
            src,
            dst,
            ttl: 64,
            ident: 0x1234,
            dont_fragment: true,
            more_fragments: false,
            frag_offset: 0,
            options: &[],
        }
    }

    /// A plain IPv6 header (hop limit 64).
    pub const fn v6(src: [u8; 16], dst: [u8; 16]) -> Self {
        Self::V6 {
            src,
            dst,
            hop_limit: 64,
            flow_label: 0,
            ext: &[],
        }
    }

    fn header_len(&self) -> Result<usize, EmitError> {
        match self {
            Self::V4 { options, .. } => {
                if options.len() > 40 || options.len() % 4 != 0 {
                    return Err(EmitError::BadIpv4Options);
                }
                Ok(Ipv4Header::LEN + options.len())
            }
            Self::V6 { ext, .. } => {
                Ok(Ipv6Header::LEN + ext.iter().map(Ipv6ExtSpec::len).sum::<usize>())
            }
            Self::Raw(_) => Ok(0),
        }
    }

    fn is_later_fragment(&self) -> bool {
        match self {
            Self::V4 { frag_offset, .. } => *frag_offset != 0,
            Self::V6 { ext, .. } => ext
                .iter()
                .any(|e| matches!(e, Ipv6ExtSpec::Fragment { offset, .. } if *offset != 0)),
            Self::Raw(_) => false,
        }
    }

    fn ethertype(&self) -> EtherType {
        match self {
            Self::V4 { .. } => EtherType::IPV4,
            Self::V6 { .. } => EtherType::IPV6,
            Self::Raw(t) => *t,
        }
    }
}

/// Ethernet header, tags and IP header of one frame (outer, or inner in a tunnel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HopSpec<'a> {
    /// Destination MAC.
    pub dst_mac: [u8; 6],
    /// Source MAC.
    pub src_mac: [u8; 6],
    /// VLAN tags, outermost first.
    pub vlans: &'a [VlanSpec],
    /// The network layer.
    pub ip: IpSpec<'a>,
}

impl<'a> HopSpec<'a> {
    /// Untagged Ethernet with fixed locally administered MACs and the given network layer.
    pub const fn new(ip: IpSpec<'a>) -> Self {
        Self {
            dst_mac: [0x02, 0, 0, 0, 0, 0x02],
            src_mac: [0x02, 0, 0, 0, 0, 0x01],
            vlans: &[],
            ip,
        }
    }

    fn l2_len(&self) -> usize {
        EthernetHeader::LEN + self.vlans.len() * VlanTag::LEN
    }
}

/// Transport layer to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L4Spec<'a> {
    /// UDP.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
    },
    /// TCP.
    Tcp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Sequence number.
        seq: u32,
        /// Acknowledgment number.
        ack: u32,
        /// Flags ([`super::tcp::TcpFlags`] bits).
        flags: u8,
        /// Window.
        window: u16,
        /// Options, a multiple of 4 bytes, at most 40.
        options: &'a [u8],
    },
    /// Another IP protocol: the payload follows the IP headers directly.
    Other(IpProtocol),
}

impl L4Spec<'_> {
    fn protocol(&self) -> IpProtocol {
        match self {
            Self::Udp { .. } => IpProtocol::UDP,
            Self::Tcp { .. } => IpProtocol::TCP,
            Self::Other(p) => *p,
        }
    }

    fn header_len(&self) -> Result<usize, EmitError> {
        match self {
            Self::Udp { .. } => Ok(UdpHeader::LEN),
            Self::Tcp { options, .. } => {
                if options.len() > 40 || options.len() % 4 != 0 {
                    return Err(EmitError::BadTcpOptions);
                }
                Ok(TcpHeader::LEN + options.len())
            }
            Self::Other(_) => Ok(0),
        }
    }
}

/// Tunnel protocol to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TunnelProto<'a> {
    /// VXLAN with this VNI.
    Vxlan {
        /// VNI (24 bits).
        vni: u32,
    },
    /// GENEVE with this VNI and raw options (a multiple of 4 bytes, at most 252).
    Geneve {
        /// VNI (24 bits).
        vni: u32,
        /// Options bytes as they go on the wire.
        options: &'a [u8],
    },
}

/// A tunnel: outer UDP source port, the tunnel header and the inner frame's L2/L3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelSpec<'a> {
    /// VXLAN or GENEVE.
    pub proto: TunnelProto<'a>,
    /// Outer UDP source port (flow entropy).
    pub udp_src_port: u16,
    /// The inner frame's Ethernet, tags and IP.
    pub inner: HopSpec<'a>,
}

/// A whole frame to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameSpec<'a> {
    /// The outer frame's Ethernet, tags and IP.
    pub outer: HopSpec<'a>,
    /// A tunnel and its inner frame, if any.
    pub tunnel: Option<TunnelSpec<'a>>,
    /// The innermost transport header.
    pub l4: L4Spec<'a>,
    /// The innermost payload.
    pub payload: &'a [u8],
}

impl<'a> FrameSpec<'a> {
    /// Ethernet/IPv4/UDP.
    pub const fn udp_v4(
        src: [u8; 4],
        dst: [u8; 4],
        src_port: u16,
        dst_port: u16,
        payload: &'a [u8],
    ) -> Self {
        Self {
            outer: HopSpec::new(IpSpec::v4(src, dst)),
            tunnel: None,
            l4: L4Spec::Udp { src_port, dst_port },
            payload,
        }
    }

    /// Ethernet/IPv4/TCP with PSH|ACK and no options.
    pub const fn tcp_v4(
        src: [u8; 4],
        dst: [u8; 4],
        src_port: u16,
        dst_port: u16,
        payload: &'a [u8],
    ) -> Self {
        Self {
            outer: HopSpec::new(IpSpec::v4(src, dst)),
            tunnel: None,
            l4: L4Spec::Tcp {
                src_port,
                dst_port,
                seq: 1,
                ack: 1,
                flags: 0x18,
                window: 65535,
                options: &[],
            },
            payload,
        }
    }

    /// Wraps this frame's network layer as the inner frame of a tunnel from `outer_src` to
    /// `outer_dst` over IPv4.
    pub const fn in_tunnel(
        self,
        proto: TunnelProto<'a>,
        outer_src: [u8; 4],
        outer_dst: [u8; 4],
    ) -> Self {
        Self {
            outer: HopSpec::new(IpSpec::v4(outer_src, outer_dst)),
            tunnel: Some(TunnelSpec {
                proto,
                udp_src_port: 49152,
                inner: self.outer,
            }),
            l4: self.l4,
            payload: self.payload,
        }
    }

    /// Length of the frame this spec describes.
    ///
    /// # Errors
    ///
    /// As [`emit_frame`], except for the buffer size.
    pub fn frame_len(&self) -> Result<usize, EmitError> {
        Ok(self.plan()?.total)
    }

    fn plan(&self) -> Result<Plan, EmitError> {
        let innermost = self.tunnel.as_ref().map_or(&self.outer, |t| &t.inner);
        let l4_hdr = if innermost.ip.is_later_fragment() || matches!(innermost.ip, IpSpec::Raw(_)) {
            0
        } else {
            self.l4.header_len()?
        };
        let l4_len = l4_hdr + self.payload.len();
        let inner_l3 = innermost.ip.header_len()? + l4_len;
        let (total, tunnel_hdr) = match &self.tunnel {
            None => (self.outer.l2_len() + inner_l3, 0),
            Some(t) => {
                let th = match t.proto {
                    TunnelProto::Vxlan { .. } => VxlanHeader::LEN,
                    TunnelProto::Geneve { options, .. } => {
                        if options.len() > 252 || options.len() % 4 != 0 {
                            return Err(EmitError::BadGeneveOptions);
                        }
                        GeneveHeader::LEN + options.len()
                    }
                };
                let udp = UdpHeader::LEN + th + t.inner.l2_len() + inner_l3;
                (self.outer.l2_len() + self.outer.ip.header_len()? + udp, th)
            }
        };
        if total > MAX_FRAME_LEN {
            return Err(EmitError::TooLong);
        }
        Ok(Plan {
            total,
            l4_hdr,
            tunnel_hdr,
        })
    }
}

struct Plan {
    total: usize,
    l4_hdr: usize,
    tunnel_hdr: usize,
}

/// Where an IP header was written, for the L4 checksum's pseudo-header.
#[derive(Clone, Copy)]
struct Pseudo {
    v6: bool,
    src: [u8; 16],
    dst: [u8; 16],
}

impl Pseudo {
    fn sum(&self, protocol: IpProtocol, l4_len: usize) -> u32 {
        let n = if self.v6 { 16 } else { 4 };
        let mut acc = checksum::sum(0, self.src.get(..n).unwrap_or(&[]));
        acc = checksum::sum(acc, self.dst.get(..n).unwrap_or(&[]));
        acc = checksum::sum(acc, &(l4_len as u32).to_be_bytes());
        checksum::sum(acc, &[0, protocol.0])
    }
}

/// Writes the frame described by `spec` at the start of `buf`; returns its length.
///
/// # Errors
///
/// [`EmitError::BufferTooSmall`] when `buf` is too short, and the other variants for
/// descriptions that cannot be encoded.
pub fn emit_frame(spec: &FrameSpec<'_>, buf: &mut [u8]) -> Result<usize, EmitError> {
    let plan = spec.plan()?;
    let Some(buf) = buf.get_mut(..plan.total) else {
        return Err(EmitError::BufferTooSmall(plan.total));
    };
    let upper_proto = match &spec.tunnel {
        None => spec.l4.protocol(),
        Some(_) => IpProtocol::UDP,
    };
    let outer_ip_total = plan.total - spec.outer.l2_len();
    let (mut pos, outer_pseudo) = write_hop(buf, 0, &spec.outer, outer_ip_total, upper_proto)?;

    let mut outer_udp = None;
    if let Some(t) = &spec.tunnel {
        let udp_at = pos;
        let udp_len = plan.total - udp_at;
        let dst_port = match t.proto {
            TunnelProto::Vxlan { .. } => VXLAN_PORT,
            TunnelProto::Geneve { .. } => GENEVE_PORT,
        };
        write_udp_header(buf, udp_at, t.udp_src_port, dst_port, udp_len)?;
        pos += UdpHeader::LEN;
        let th = buf.get_mut(pos..).unwrap_or(&mut []);
        match t.proto {
            TunnelProto::Vxlan { vni } => {
                let (h, _) =
                    VxlanHeader::mut_from_bytes_checked(th).map_err(|_| EmitError::TooLong)?;
                h.set_vni(vni);
            }
            TunnelProto::Geneve { vni, options } => {
                let (h, rest) =
                    GeneveHeader::mut_from_bytes_checked(th).map_err(|_| EmitError::TooLong)?;
                h.set(options.len(), EtherType::TRANSPARENT_ETHERNET, vni);
                rest.get_mut(..options.len())
                    .ok_or(EmitError::TooLong)?
                    .copy_from_slice(options);
            }
        }
        pos += plan.tunnel_hdr;
        let inner_ip_total = plan.total - pos - t.inner.l2_len();
        let (p, _) = write_hop(buf, pos, &t.inner, inner_ip_total, spec.l4.protocol())?;
        pos = p;
        outer_udp = Some((udp_at, udp_len));
    }

    let inner_pseudo = match &spec.tunnel {
        None => outer_pseudo,
        Some(t) => pseudo_of(&t.inner.ip),
    };
    let l4_at = pos;
    let l4_len = plan.total - l4_at;
    if plan.l4_hdr != 0 {
        match spec.l4 {
            L4Spec::Udp { src_port, dst_port } => {
                write_udp_header(buf, l4_at, src_port, dst_port, l4_len)?
            }
            L4Spec::Tcp {
                src_port,
                dst_port,
                seq,
                ack,
                flags,
                window,
                options,
            } => {
                let seg = buf.get_mut(l4_at..).unwrap_or(&mut []);
                let (h, rest) =
                    TcpHeader::mut_from_bytes_checked(seg).map_err(|_| EmitError::TooLong)?;
                h.src_port.set(src_port);
                h.dst_port.set(dst_port);
                h.seq.set(seq);
                h.ack.set(ack);
                h.set_header_len_and_flags(TcpHeader::LEN + options.len(), flags);
                h.window.set(window);
                h.checksum.set(0);
                h.urgent.set(0);
                rest.get_mut(..options.len())
                    .ok_or(EmitError::TooLong)?
                    .copy_from_slice(options);
            }
            L4Spec::Other(_) => {}
        }
    }
    buf.get_mut(l4_at + plan.l4_hdr..)
        .ok_or(EmitError::TooLong)?
        .copy_from_slice(spec.payload);

    // Checksums, innermost first: the outer UDP checksum covers the inner frame.
    if plan.l4_hdr != 0 {
        if let Some(p) = inner_pseudo {
            let csum_at = match spec.l4 {
                L4Spec::Udp { .. } => Some(l4_at + 6),
                L4Spec::Tcp { .. } => Some(l4_at + 16),
                L4Spec::Other(_) => None,
            };
            if let Some(at) = csum_at {
                fill_l4_checksum(buf, p, spec.l4.protocol(), l4_at, at)?;
            }
        }
    }
    if let (Some((udp_at, _)), Some(p)) = (outer_udp, outer_pseudo) {
        fill_l4_checksum(buf, p, IpProtocol::UDP, udp_at, udp_at + 6)?;
    }
    Ok(plan.total)
}

fn fill_l4_checksum(
    buf: &mut [u8],
    p: Pseudo,
    proto: IpProtocol,
    l4_at: usize,
    csum_at: usize,
) -> Result<(), EmitError> {
    let seg = buf.get(l4_at..).ok_or(EmitError::TooLong)?;
    let acc = checksum::sum(p.sum(proto, seg.len()), seg);
    let mut c = checksum::finish(acc);
    if c == 0 && proto == IpProtocol::UDP {
        c = 0xFFFF; // RFC 768: a computed zero is sent as all ones.
    }
    buf.get_mut(csum_at..csum_at + 2)
        .ok_or(EmitError::TooLong)?
        .copy_from_slice(&c.to_be_bytes());
    Ok(())
}

fn write_udp_header(
    buf: &mut [u8],
    at: usize,
    src_port: u16,
    dst_port: u16,
    len: usize,
) -> Result<(), EmitError> {
    let seg = buf.get_mut(at..).unwrap_or(&mut []);
    let (h, _) = UdpHeader::mut_from_bytes_checked(seg).map_err(|_| EmitError::TooLong)?;
    h.src_port.set(src_port);
    h.dst_port.set(dst_port);
    h.length
        .set(u16::try_from(len).map_err(|_| EmitError::TooLong)?);
    h.checksum.set(0);
    Ok(())
}

fn pseudo_of(ip: &IpSpec<'_>) -> Option<Pseudo> {
    match ip {
        IpSpec::V4 { src, dst, .. } => {
            let mut p = Pseudo {
                v6: false,
                src: [0; 16],
                dst: [0; 16],
            };
            p.src.get_mut(..4)?.copy_from_slice(src);
            p.dst.get_mut(..4)?.copy_from_slice(dst);
            Some(p)
        }
        IpSpec::V6 { src, dst, .. } => Some(Pseudo {
            v6: true,
            src: *src,
            dst: *dst,
        }),
        IpSpec::Raw(_) => None,
    }
}

/// Writes Ethernet, tags and the IP header(s) at `at`; `ip_total` is the length of the IP
/// packet. Returns the offset after the IP headers and the pseudo-header source.
fn write_hop(
    buf: &mut [u8],
    at: usize,
    hop: &HopSpec<'_>,
    ip_total: usize,
    upper: IpProtocol,
) -> Result<(usize, Option<Pseudo>), EmitError> {
    let region = buf.get_mut(at..).unwrap_or(&mut []);
    let (eth, mut rest) =
        EthernetHeader::mut_from_bytes_checked(region).map_err(|_| EmitError::TooLong)?;
    eth.dst = hop.dst_mac;
    eth.src = hop.src_mac;
    let mut type_field = &mut eth.ethertype;
    for v in hop.vlans {
        type_field.set(v.tpid.0);
        let (tag, r) = VlanTag::mut_from_bytes_checked(rest).map_err(|_| EmitError::TooLong)?;
        tag.set_tci(v.pcp, false, v.vid);
        type_field = &mut tag.ethertype;
        rest = r;
    }
    type_field.set(hop.ip.ethertype().0);
    let mut pos = at + hop.l2_len();
    match hop.ip {
        IpSpec::V4 {
            src,
            dst,
            ttl,
            ident,
            dont_fragment,
            more_fragments,
            frag_offset,
            options,
        } => {
            let (h, opt_area) =
                Ipv4Header::mut_from_bytes_checked(rest).map_err(|_| EmitError::TooLong)?;
            h.set_version_and_header_len(Ipv4Header::LEN + options.len());
            h.dscp_ecn = 0;
            h.total_len
                .set(u16::try_from(ip_total).map_err(|_| EmitError::TooLong)?);
            h.ident.set(ident);
            h.set_fragment(dont_fragment, more_fragments, frag_offset);
            h.ttl = ttl;
            h.protocol = upper.0;
            h.src = src;
            h.dst = dst;
            opt_area
                .get_mut(..options.len())
                .ok_or(EmitError::TooLong)?
                .copy_from_slice(options);
            h.fill_checksum(options);
            pos += Ipv4Header::LEN + options.len();
        }
        IpSpec::V6 {
            src,
            dst,
            hop_limit,
            flow_label,
            ext,
        } => {
            let (h, mut rest) =
                Ipv6Header::mut_from_bytes_checked(rest).map_err(|_| EmitError::TooLong)?;
            h.set_version_tc_flow(0, flow_label);
            let payload = ip_total
                .checked_sub(Ipv6Header::LEN)
                .ok_or(EmitError::TooLong)?;
            h.payload_len
                .set(u16::try_from(payload).map_err(|_| EmitError::TooLong)?);
            h.next_header = ext.first().map_or(upper, Ipv6ExtSpec::protocol).0;
            h.hop_limit = hop_limit;
            h.src = src;
            h.dst = dst;
            for (i, e) in ext.iter().enumerate() {
                let next = ext.get(i + 1).map_or(upper, Ipv6ExtSpec::protocol);
                let len = e.len();
                let (area, r) = core::mem::take(&mut rest)
                    .split_at_mut_checked(len)
                    .ok_or(EmitError::TooLong)?;
                rest = r;
                area.fill(0);
                match *e {
                    Ipv6ExtSpec::Fragment { offset, more, id } => {
                        let (f, _) = Ipv6FragmentHeader::mut_from_bytes_checked(area)
                            .map_err(|_| EmitError::TooLong)?;
                        f.next_header = next.0;
                        f.set_fragment(offset, more);
                        f.ident.set(id);
                    }
                    Ipv6ExtSpec::HopByHop { hdr_ext_len }
                    | Ipv6ExtSpec::DestOptions { hdr_ext_len } => {
                        let (g, opts) = Ipv6ExtHeader::mut_from_bytes_checked(area)
                            .map_err(|_| EmitError::TooLong)?;
                        g.next_header = next.0;
                        g.hdr_ext_len = hdr_ext_len;
                        fill_padding(opts);
                    }
                    Ipv6ExtSpec::Routing { hdr_ext_len } => {
                        let (g, body) = Ipv6ExtHeader::mut_from_bytes_checked(area)
                            .map_err(|_| EmitError::TooLong)?;
                        g.next_header = next.0;
                        g.hdr_ext_len = hdr_ext_len;
                        if let [routing_type, ..] = body {
                            *routing_type = 253;
                        }
                    }
                    Ipv6ExtSpec::Ah { payload_len } => {
                        let (g, _) = Ipv6ExtHeader::mut_from_bytes_checked(area)
                            .map_err(|_| EmitError::TooLong)?;
                        g.next_header = next.0;
                        g.hdr_ext_len = payload_len;
                    }
                }
            }
            pos += hop.ip.header_len()?;
        }
        IpSpec::Raw(_) => {}
    }
    Ok((pos, pseudo_of(&hop.ip)))
}

/// Fills an options area with PadN options (RFC 8200 §4.2), each at most 257 bytes; a last
/// single byte stays Pad1 (zero).
fn fill_padding(mut opts: &mut [u8]) {
    while opts.len() >= 2 {
        let n = opts.len().min(257);
        if let [kind, len, ..] = &mut *opts {
            *kind = 1;
            *len = (n - 2) as u8;
        }
        opts = core::mem::take(&mut opts).get_mut(n..).unwrap_or(&mut []);
    }
}
