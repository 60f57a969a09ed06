//! Shared test support: an owned model of a frame that proptest can generate, turned into an
//! emitter spec, plus the facts a parse of it must report.
#![allow(dead_code, unreachable_pub, missing_docs)]

pub mod world;

use infersteer::capacity::{MAX_IPV6_EXT_HEADERS, MAX_VLAN_TAGS};
use infersteer::wire::emit::{
    self, FrameSpec, HopSpec, IpSpec, Ipv6ExtSpec, L4Spec, TunnelProto, TunnelSpec, VlanSpec,
};
use infersteer::wire::ethernet::EtherType;
use infersteer::wire::IpProtocol;
use proptest::collection::vec;
use proptest::prelude::*;

#[derive(Clone, Debug)]
pub enum Frag {
    None,
    First(u16),
    Later(u16, u16),
}

#[derive(Clone, Debug)]
pub enum IpModel {
    V4 {
        src: [u8; 4],
        dst: [u8; 4],
        options: Vec<u8>,
        frag: Frag,
    },
    V6 {
        src: [u8; 16],
        dst: [u8; 16],
        ext: Vec<Ipv6ExtSpec>,
    },
}

#[derive(Clone, Debug)]
pub struct HopModel {
    pub vlans: Vec<VlanSpec>,
    pub ip: IpModel,
}

#[derive(Clone, Debug)]
pub enum L4Model {
    Udp(u16, u16),
    Tcp(u16, u16, Vec<u8>),
    Other(u8),
}

#[derive(Clone, Debug)]
pub enum TunnelModel {
    Vxlan(u32),
    Geneve(u32, Vec<u8>),
}

#[derive(Clone, Debug)]
pub struct FrameModel {
    pub outer: HopModel,
    pub tunnel: Option<(TunnelModel, u16, HopModel)>,
    pub l4: L4Model,
    pub payload: Vec<u8>,
}

impl FrameModel {
    pub fn innermost(&self) -> &HopModel {
        self.tunnel.as_ref().map_or(&self.outer, |t| &t.2)
    }

    /// Whether the innermost IP packet is a later fragment (no L4 header).
    pub fn later_fragment(&self) -> bool {
        match &self.innermost().ip {
            IpModel::V4 { frag, .. } => matches!(frag, Frag::Later(..)),
            IpModel::V6 { ext, .. } => ext
                .iter()
                .any(|e| matches!(e, Ipv6ExtSpec::Fragment { offset, .. } if *offset != 0)),
        }
    }

    pub fn is_fragment(&self) -> bool {
        match &self.innermost().ip {
            IpModel::V4 { frag, .. } => !matches!(frag, Frag::None),
            IpModel::V6 { ext, .. } => ext
                .iter()
                .any(|e| matches!(e, Ipv6ExtSpec::Fragment { offset, more, .. } if *offset != 0 || *more)),
        }
    }

    /// Emits the frame into a fresh buffer.
    pub fn emit(&self) -> Vec<u8> {
        let mut buf = vec![0u8; 4096];
        let n = emit::emit_frame(&self.spec(), &mut buf).expect("model emits");
        buf.truncate(n);
        buf
    }

    pub fn spec(&self) -> FrameSpec<'_> {
        FrameSpec {
            outer: hop_spec(&self.outer),
            tunnel: self.tunnel.as_ref().map(|(t, sport, inner)| TunnelSpec {
                proto: match t {
                    TunnelModel::Vxlan(vni) => TunnelProto::Vxlan { vni: *vni },
                    TunnelModel::Geneve(vni, o) => TunnelProto::Geneve {
                        vni: *vni,
                        options: o,
                    },
                },
                udp_src_port: *sport,
                inner: hop_spec(inner),
            }),
            l4: match &self.l4 {
                L4Model::Udp(s, d) => L4Spec::Udp {
                    src_port: *s,
                    dst_port: *d,
                },
                L4Model::Tcp(s, d, o) => L4Spec::Tcp {
                    src_port: *s,
                    dst_port: *d,
                    seq: 7,
                    ack: 9,
                    flags: 0x18,
                    window: 1024,
                    options: o,
                },
                L4Model::Other(p) => L4Spec::Other(IpProtocol(*p)),
            },
            payload: &self.payload,
        }
    }
}

fn hop_spec(h: &HopModel) -> HopSpec<'_> {
    let ip = match &h.ip {
        IpModel::V4 {
            src,
            dst,
            options,
            frag,
        } => {
            let (more, off, id) = match frag {
                Frag::None => (false, 0, 1),
                Frag::First(id) => (true, 0, *id),
                Frag::Later(id, off) => (false, *off, *id),
            };
            IpSpec::V4 {
                src: *src,
                dst: *dst,
                ttl: 64,
                ident: id,
                dont_fragment: false,
                more_fragments: more,
                frag_offset: off,
                options,
            }
        }
        IpModel::V6 { src, dst, ext } => IpSpec::V6 {
            src: *src,
            dst: *dst,
            hop_limit: 64,
            flow_label: 1,
            ext,
        },
    };
    HopSpec {
        dst_mac: [2, 0, 0, 0, 0, 2],
        src_mac: [2, 0, 0, 0, 0, 1],
        vlans: &h.vlans,
        ip,
    }
}

fn vlans() -> impl Strategy<Value = Vec<VlanSpec>> {
    let tag = (
        prop_oneof![
            Just(EtherType::VLAN),
            Just(EtherType::QINQ),
            Just(EtherType::QINQ_LEGACY)
        ],
        0u8..8,
        0u16..4096,
    )
        .prop_map(|(tpid, pcp, vid)| VlanSpec { tpid, pcp, vid });
    vec(tag, 0..=MAX_VLAN_TAGS)
}

fn frag(allow: bool) -> BoxedStrategy<Frag> {
    if !allow {
        return Just(Frag::None).boxed();
    }
    prop_oneof![
        6 => Just(Frag::None),
        1 => any::<u16>().prop_map(Frag::First),
        1 => (any::<u16>(), 1u16..8000).prop_map(|(id, o)| Frag::Later(id, o * 8)),
    ]
    .boxed()
}

fn ext_chain(allow_frag: bool) -> impl Strategy<Value = Vec<Ipv6ExtSpec>> {
    let middle = prop_oneof![
        (0u8..4).prop_map(|l| Ipv6ExtSpec::DestOptions { hdr_ext_len: l }),
        (0u8..4).prop_map(|l| Ipv6ExtSpec::Routing { hdr_ext_len: l }),
        (0u8..3).prop_map(|l| Ipv6ExtSpec::Ah {
            payload_len: 2 * l + 4
        }),
    ];
    let fragment = if allow_frag {
        prop_oneof![
            3 => Just(None),
            1 => (any::<u32>(), 0u16..8000, any::<bool>())
                .prop_map(|(id, o, more)| Some(Ipv6ExtSpec::Fragment { offset: o * 8, more, id })),
        ]
        .boxed()
    } else {
        Just(None).boxed()
    };
    (any::<bool>(), vec(middle, 0..4), fragment).prop_map(|(hbh, mid, fragment)| {
        let mut v = Vec::new();
        if hbh {
            v.push(Ipv6ExtSpec::HopByHop { hdr_ext_len: 0 });
        }
        v.extend(mid);
        v.extend(fragment);
        v.truncate(MAX_IPV6_EXT_HEADERS);
        v
    })
}

fn ip(allow_frag: bool) -> impl Strategy<Value = IpModel> {
    let v4_opts = (0usize..=10).prop_map(|words| {
        // NOPs then an End of Options List: valid options of any length.
        let mut o = vec![1u8; words * 4];
        if let Some(last) = o.last_mut() {
            *last = 0;
        }
        o
    });
    prop_oneof![
        (
            any::<[u8; 4]>(),
            any::<[u8; 4]>(),
            v4_opts,
            frag(allow_frag)
        )
            .prop_map(|(src, dst, options, frag)| IpModel::V4 {
                src,
                dst,
                options,
                frag
            }),
        (any::<[u8; 16]>(), any::<[u8; 16]>(), ext_chain(allow_frag))
            .prop_map(|(src, dst, ext)| IpModel::V6 { src, dst, ext }),
    ]
}

fn hop(allow_frag: bool) -> impl Strategy<Value = HopModel> {
    (vlans(), ip(allow_frag)).prop_map(|(vlans, ip)| HopModel { vlans, ip })
}

fn port() -> impl Strategy<Value = u16> {
    // Keep clear of the tunnel ports so that a plain frame stays plain.
    any::<u16>().prop_filter("tunnel port", |p| *p != 4789 && *p != 6081)
}

fn l4() -> impl Strategy<Value = L4Model> {
    let tcp_opts = (0usize..=10).prop_map(|w| vec![1u8; w * 4]);
    prop_oneof![
        4 => (port(), port()).prop_map(|(s, d)| L4Model::Udp(s, d)),
        4 => (port(), port(), tcp_opts).prop_map(|(s, d, o)| L4Model::Tcp(s, d, o)),
        1 => prop_oneof![Just(1u8), Just(47), Just(50), Just(58), Just(132)].prop_map(L4Model::Other),
    ]
}

fn tunnel() -> impl Strategy<Value = Option<(TunnelModel, u16, HopModel)>> {
    let geneve_opts = vec((any::<u16>(), any::<u8>(), 0usize..4), 0..3).prop_map(|opts| {
        let mut out = Vec::new();
        for (class, kind, words) in opts {
            out.extend_from_slice(&class.to_be_bytes());
            out.push(kind);
            out.push(words as u8);
            out.extend(std::iter::repeat(0xAB).take(words * 4));
        }
        out
    });
    let proto = prop_oneof![
        (0u32..=0xFF_FFFF).prop_map(TunnelModel::Vxlan),
        ((0u32..=0xFF_FFFF), geneve_opts).prop_map(|(v, o)| TunnelModel::Geneve(v, o)),
    ];
    prop_oneof![
        2 => Just(None),
        1 => (proto, any::<u16>(), hop(true)).prop_map(Some),
    ]
}

prop_compose! {
    /// Any frame the emitter can write: tags, IPv4 options or IPv6 chains, fragments, tunnels.
    pub fn frame_model()(tunnel in tunnel(), l4 in l4(), payload in vec(any::<u8>(), 0..300))
        (outer in hop(tunnel.is_none()), tunnel in Just(tunnel), l4 in Just(l4), payload in Just(payload))
        -> FrameModel {
        FrameModel { outer, tunnel, l4, payload }
    }
}
