//! The flow table: what the data plane decided for each flow, found again for every later
//! packet without classifying it.
//!
//! Fixed capacity set at setup (a power of two of entries, no allocation after), open
//! addressing with a bounded probe window keyed by the tunnel-aware 5-tuple (VNI and ingress
//! port included) and its 32-bit hash (the NIC's RSS hash when the frame has one). Lookups run
//! over a whole burst in two passes: the first loads every home slot's tag (the loads overlap,
//! a portable stand-in for prefetching), the second compares keys. Idle entries
//! are aged out a few slots per burst and, when a probe window is full, the stalest idle entry
//! in it is evicted; both are counted, as is a refused insert.
#![forbid(unsafe_code)]

use crate::l7::stream::Chunked;
use crate::policy::{ModelId, Priority, TenantId};
use crate::queue::DescFlags;
use crate::verdict::{DropReason, TlsHint};
use crate::wire::fast::PlainTcp;
use crate::wire::{FiveTuple, FrameSummary, IpFamily};
use alloc::vec::Vec;

/// Slots probed from a key's home slot.
pub const PROBE_WINDOW: usize = 8;

/// A flow's identity: the innermost 5-tuple and every attribute that can decide its tenant
/// (the ingress port, the outer VLAN stack, the tunnel's VNI and outer source endpoint), packed
/// into nine words so that it is built, copied, compared and hashed a word at a time. Two
/// frames with the same 5-tuple but another port, VLAN stack, VNI or tunnel endpoint are two
/// flows: neither can take the other's decision, counters or queue.
///
/// Words: source address (2 words, little-endian bytes, IPv4 in the low 4 bytes), destination
/// address (2), `vni << 32 | src_port << 16 | dst_port` (the VNI is `u32::MAX` outside a
/// tunnel), `port << 48 | vlan1 << 36 | vlan0 << 24 | outer_family << 20 | tags << 16 |
/// protocol << 8 | family` (family 4 or 6; `outer_family` 4 or 6 in a tunnel, else 0; `tags`
/// the number of outer VLAN tags, `vlan0` the outermost), the tunnel's outer source address (2
/// words, zero outside a tunnel), `vlan3 << 12 | vlan2` (tags past the second, when the build
/// parses more than two).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlowKey {
    words: [u64; 9],
}

#[inline(always)]
fn word(b: &[u8]) -> u64 {
    let mut x = [0u8; 8];
    if let Some(d) = x.get_mut(..b.len().min(8)) {
        d.copy_from_slice(b.get(..d.len()).unwrap_or(&[]));
    }
    u64::from_le_bytes(x)
}

/// The identity attributes of a frame beside its 5-tuple: the outer VLAN stack and the
/// tunnel's outer source endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Ident {
    /// Bits 16..48 of word 5 (tag count, outer family, the first two VLAN ids).
    high5: u64,
    /// The outer source address words.
    endpoint: [u64; 2],
    /// The third and fourth VLAN ids.
    more_vlans: u64,
}

impl Ident {
    const NONE: Self = Self {
        high5: 0,
        endpoint: [0, 0],
        more_vlans: 0,
    };

    /// The outer VLAN stack of `summary` and, in a tunnel, the outer source address read
    /// from `bytes`.
    #[inline]
    fn of(bytes: &[u8], summary: &FrameSummary) -> Self {
        let tags = summary.outer.vlans.as_slice();
        let vid = |k: usize| u64::from(tags.get(k).copied().unwrap_or(0) & 0x0fff);
        let mut id = Self {
            high5: ((tags.len() as u64 & 0xf) << 16) | (vid(0) << 24) | (vid(1) << 36),
            endpoint: [0, 0],
            more_vlans: vid(2) | (vid(3) << 12),
        };
        if summary.tunnel.is_some() {
            if let Some(l3) = summary.outer.l3 {
                let at = usize::from(l3.offset);
                let (fam, ep) = match l3.kind {
                    crate::wire::L3Kind::Ipv4 => {
                        (4u64, bytes.get(at + 12..at + 16).map(|a| [word(a), 0]))
                    }
                    crate::wire::L3Kind::Ipv6 => (
                        6u64,
                        bytes.get(at + 8..at + 24).map(|a| {
                            [
                                word(a.get(..8).unwrap_or(&[])),
                                word(a.get(8..).unwrap_or(&[])),
                            ]
                        }),
                    ),
                };
                id.high5 |= fam << 20;
                id.endpoint = ep.unwrap_or([u64::MAX, u64::MAX]);
            }
        }
        id
    }
}

impl FlowKey {
    /// Packs the words: the four address words, then VNI and ports, then ingress port,
    /// protocol, family (4 or 6) and the identity's VLAN stack, then its tunnel endpoint.
    #[inline(always)]
    fn pack(
        addrs: [u64; 4],
        vni: u32,
        (src_port, dst_port): (u16, u16),
        protocol: u8,
        family: IpFamily,
        port: u16,
        ident: Ident,
    ) -> Self {
        let [a, b, c, d] = addrs;
        let family: u8 = match family {
            IpFamily::V4 => 4,
            IpFamily::V6 => 6,
        };
        Self {
            words: [
                a,
                b,
                c,
                d,
                (u64::from(vni) << 32) | (u64::from(src_port) << 16) | u64::from(dst_port),
                ident.high5
                    | (u64::from(port) << 48)
                    | (u64::from(protocol) << 8)
                    | u64::from(family),
                ident.endpoint[0],
                ident.endpoint[1],
                ident.more_vlans,
            ],
        }
    }

    /// The key of a 5-tuple, a tunnel's VNI and the ingress port.
    #[inline]
    pub fn new(tuple: &FiveTuple, vni: Option<u32>, port: u16) -> Self {
        let (s, d) = (&tuple.src, &tuple.dst);
        Self::pack(
            [
                word(s.get(..8).unwrap_or(&[])),
                word(s.get(8..).unwrap_or(&[])),
                word(d.get(..8).unwrap_or(&[])),
                word(d.get(8..).unwrap_or(&[])),
            ],
            vni.unwrap_or(u32::MAX),
            (tuple.src_port, tuple.dst_port),
            tuple.protocol.0,
            tuple.family,
            port,
            Ident::NONE,
        )
    }

    /// The key from the addresses in the IP header at `at` of `bytes` and the other fields.
    #[allow(clippy::too_many_arguments)] // the key's fields, each a different kind
    #[inline(always)]
    fn from_parts(
        bytes: &[u8],
        at: usize,
        family: IpFamily,
        vni: u32,
        ports: (u16, u16),
        protocol: u8,
        port: u16,
        ident: Ident,
    ) -> Option<Self> {
        let addrs = match family {
            IpFamily::V4 => {
                let a = bytes.get(at + 12..at + 20)?;
                [word(a.get(..4)?), 0, word(a.get(4..)?), 0]
            }
            IpFamily::V6 => {
                let a = bytes.get(at + 8..at + 40)?;
                [
                    word(a.get(..8)?),
                    word(a.get(8..16)?),
                    word(a.get(16..24)?),
                    word(a.get(24..)?),
                ]
            }
        };
        Some(Self::pack(addrs, vni, ports, protocol, family, port, ident))
    }

    /// The key of a parsed frame, with the addresses read from the frame's innermost IP
    /// header rather than from the summary the parser has just written (reading 16 bytes back
    /// over its narrower stores would stall store forwarding on the hot path). `None` when the
    /// frame has no 5-tuple.
    #[inline]
    pub fn from_frame(bytes: &[u8], summary: &FrameSummary, port: u16) -> Option<Self> {
        let tuple = summary.tuple.as_ref()?;
        Self::from_parts(
            bytes,
            usize::from(summary.innermost().l3?.offset),
            tuple.family,
            summary.tunnel.map_or(u32::MAX, |t| t.vni),
            (tuple.src_port, tuple.dst_port),
            tuple.protocol.0,
            port,
            Ident::of(bytes, summary),
        )
    }

    /// The key of a frame the fast path took ([`crate::wire::fast`]), and its hash.
    #[inline(always)]
    pub fn from_plain_tcp(bytes: &[u8], p: &PlainTcp, port: u16) -> Option<(Self, u32)> {
        // One arm per family, each with its own inlined key and hash: with the family known,
        // the IPv4 key's two zero address words fold away (one multiply fewer).
        let at = usize::from(p.l3_offset);
        let ports = (p.src_port, p.dst_port);
        match p.family {
            IpFamily::V4 => {
                let key = Self::from_parts(
                    bytes,
                    at,
                    IpFamily::V4,
                    u32::MAX,
                    ports,
                    6,
                    port,
                    Ident::NONE,
                )?;
                Some((key, key.hash()))
            }
            IpFamily::V6 => {
                let key = Self::from_parts(
                    bytes,
                    at,
                    IpFamily::V6,
                    u32::MAX,
                    ports,
                    6,
                    port,
                    Ident::NONE,
                )?;
                Some((key, key.hash()))
            }
        }
    }

    /// [`FlowKey::from_frame`] and the key's [`hash`](Self::hash).
    #[inline]
    pub fn from_frame_hashed(
        bytes: &[u8],
        summary: &FrameSummary,
        port: u16,
    ) -> Option<(Self, u32)> {
        let key = Self::from_frame(bytes, summary, port)?;
        Some((key, key.hash()))
    }

    /// A 32-bit hash of the key, for frames without an RSS hash (never 0: 0 marks a free
    /// slot's tag).
    #[inline(always)]
    pub fn hash(&self) -> u32 {
        // wyhash's folded multiply over pairs of words: three independent products, then one
        // that mixes them (two multiplies deep instead of six in a chain). Not a keyed hash
        // (the NIC's RSS hash, from a random Toeplitz key, takes its place whenever the frame
        // has one). A word equal to its constant zeroes its product and drops the other word
        // of the pair. Only a source address half can equal its constant (the ports-and-VNI
        // and ingress-port words cannot: their high halves never match), and that drops the
        // matching destination half, which is the gateway's own address, not the sender's
        // choice. Keeping both factors in each fold would close even that, but measured 3 %
        // slower on the DPDK loop.
        #[inline(always)]
        fn mum(a: u64, b: u64) -> u64 {
            let m = u128::from(a) * u128::from(b);
            (m as u64) ^ ((m >> 64) as u64)
        }
        let [a, b, c, d, e, f, g, k, l] = self.words;
        let x = mum(a ^ 0xa076_1d64_78bd_642f, c ^ 0xe703_7ed1_a0b4_28db);
        let y = mum(b ^ 0x8ebc_6af0_9c88_c6e3, d ^ 0x5899_65cc_7537_4cc3);
        let z = mum(e ^ 0x1d8e_4e27_c47d_124f, f ^ 0x243f_6a88_85a3_08d3);
        // The identity's endpoint and extra tags: a constant outside tunnels and deep VLAN
        // stacks, which the fast path's key folds away.
        let w = mum(
            g ^ 0x4528_21e6_38d0_1377,
            (k ^ l.rotate_left(29)) ^ 0xbe54_66cf_34e9_0c6c,
        );
        let h = mum(x ^ z, y ^ w ^ 0x9e37_79b9_7f4a_7c15);
        (h as u32) | 1
    }

    /// Whether two keys are equal: the six words XORed and ORed together, one branch (the
    /// derived `==` calls `memcmp` for the array).
    #[inline(always)]
    pub fn same(&self, other: &Self) -> bool {
        let [a0, a1, a2, a3, a4, a5, a6, a7, a8] = self.words;
        let [b0, b1, b2, b3, b4, b5, b6, b7, b8] = other.words;
        ((a0 ^ b0)
            | (a1 ^ b1)
            | (a2 ^ b2)
            | (a3 ^ b3)
            | (a4 ^ b4)
            | (a5 ^ b5)
            | (a6 ^ b6)
            | (a7 ^ b7)
            | (a8 ^ b8))
            == 0
    }

    /// The VNI (`None` outside a tunnel).
    pub fn vni(&self) -> Option<u32> {
        let v = (self.words[4] >> 32) as u32;
        (v != u32::MAX).then_some(v)
    }

    /// Source and destination ports.
    pub fn ports(&self) -> (u16, u16) {
        ((self.words[4] >> 16) as u16, self.words[4] as u16)
    }

    /// The ingress port.
    pub fn ingress_port(&self) -> u16 {
        (self.words[5] >> 48) as u16
    }

    /// The outer VLAN ids, outermost first (up to four; zeros past the tag count).
    pub fn vlans(&self) -> ([u16; 4], usize) {
        let w = self.words[5];
        let m = self.words[8];
        let ids = [
            ((w >> 24) & 0xfff) as u16,
            ((w >> 36) & 0xfff) as u16,
            (m & 0xfff) as u16,
            ((m >> 12) & 0xfff) as u16,
        ];
        (ids, ((w >> 16) & 0xf) as usize)
    }

    /// Whether the key holds a tunnel's outer source endpoint.
    pub fn has_endpoint(&self) -> bool {
        (self.words[5] >> 20) & 0xf != 0
    }
}

/// What was decided for a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowDecision {
    /// Steer its packets to GPU queue `queue`.
    Gpu {
        /// Global GPU queue index.
        queue: u16,
        /// The request's model.
        model: ModelId,
        /// Session affinity key (hash of the session id, or of the flow).
        session: u64,
        /// The tenant's priority class.
        priority: Priority,
        /// What the classifier saw.
        flags: DescFlags,
    },
    /// Terminate TLS where the hint says.
    Terminate(TlsHint),
    /// Hand to the host stack.
    Host,
    /// Drop every packet of the flow.
    Drop(DropReason),
    /// The client's SYN was seen: the connection's first payload byte must be sequence number
    /// `next` (the SYN's plus one); a first flight anywhere else is not taken.
    Opening {
        /// The sequence number of the first payload byte.
        next: u32,
    },
    /// The first flight is still being gathered in the reassembly pool.
    Reassembling {
        /// The reassembly slot ([`crate::l7::reassembly::SlotId::to_bits`]).
        slot: u64,
    },
}

/// How the pipeline follows a connection's later requests, so that each one meets the
/// policy ([`crate::l7::stream`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Track {
    /// Nothing to follow: an encrypted passthrough connection (its requests cannot be read
    /// here: policy is per connection), or a decision that sends nothing to a GPU.
    #[default]
    None,
    /// HTTP/1.1: the current message ends just before sequence number `next` (its length
    /// known from Content-Length); a segment that reaches past it carries the next request.
    Http1 {
        /// Sequence number of the next request's first byte.
        next: u32,
    },
    /// HTTP/1.1 inside a chunked body: the bytes before `next` have been fed to `state`.
    Chunked {
        /// Sequence number of the next byte to feed.
        next: u32,
        /// The chunk framing so far.
        state: Chunked,
    },
    /// HTTP/2: the frames before `next` have been fed to the connection's follower
    /// ([`crate::l7::h2conn::H2Conn`], which keeps its HPACK table).
    H2 {
        /// Sequence number of the next byte to feed.
        next: u32,
        /// The follower's index in the pipeline's pool.
        conn: u16,
    },
    /// HTTP/1.1: the request that starts at sequence number `from` has a head (or the body
    /// bytes that name its model) not all seen yet; the connection's bytes from the slot's
    /// first up to `next` are gathered in reassembly slot `slot`
    /// ([`crate::l7::reassembly::SlotId::to_bits`]) until it can be checked.
    Gather {
        /// Sequence number of the next byte to gather.
        next: u32,
        /// The reassembly slot.
        slot: u64,
        /// Sequence number of the request's first byte.
        from: u32,
    },
}

/// Which [`Track`] a flow follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TrackKind {
    /// [`Track::None`].
    #[default]
    None,
    /// [`Track::Http1`].
    Http1,
    /// [`Track::Chunked`].
    Chunked,
    /// [`Track::H2`].
    H2,
    /// [`Track::Gather`].
    Gather,
}

/// What a flow entry keeps of its [`Track`]: the kind and the sequence number, the part a
/// body segment is checked against in the express lane. The chunk or frame state of the other
/// kinds lives beside the table, out of the entry the express lane reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TrackTag {
    /// The kind.
    pub kind: TrackKind,
    /// [`Track`]'s `next`.
    pub next: u32,
}

impl TrackTag {
    /// Nothing followed.
    pub const NONE: Self = Self {
        kind: TrackKind::None,
        next: 0,
    };
}

impl Track {
    /// The tag of this track.
    pub fn tag(&self) -> TrackTag {
        match *self {
            Self::None => TrackTag::NONE,
            Self::Http1 { next } => TrackTag {
                kind: TrackKind::Http1,
                next,
            },
            Self::Chunked { next, .. } => TrackTag {
                kind: TrackKind::Chunked,
                next,
            },
            Self::H2 { next, .. } => TrackTag {
                kind: TrackKind::H2,
                next,
            },
            Self::Gather { next, .. } => TrackTag {
                kind: TrackKind::Gather,
                next,
            },
        }
    }

    /// The track of `tag` with what is kept beside the table: the chunk state, the
    /// follower's index, and the reassembly slot and request start of a gather.
    pub fn from_parts(tag: TrackTag, state: Chunked, conn: u16, gather: (u64, u32)) -> Self {
        match tag.kind {
            TrackKind::None => Self::None,
            TrackKind::Http1 => Self::Http1 { next: tag.next },
            TrackKind::Chunked => Self::Chunked {
                next: tag.next,
                state,
            },
            TrackKind::H2 => Self::H2 {
                next: tag.next,
                conn,
            },
            TrackKind::Gather => Self::Gather {
                next: tag.next,
                slot: gather.0,
                from: gather.1,
            },
        }
    }
}

/// The longest [`HostRange`] a connection keeps (16 MiB): a range that would grow past it
/// (a request gathered far after the first flight's) sends the connection to the host path.
pub const MAX_HOST_RANGE: u32 = 1 << 24;

/// The sequence numbers of a connection whose bytes went to the host while the request they
/// belong to was gathered (a first flight's leading segments, the segments of a later
/// request gathered across segments) and so never reached its GPU queue. A segment that
/// holds any of them (a retransmission, or a forged one with other bytes) goes to the host
/// too: the backend behind the GPU queue never takes bytes there that were not checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct HostRange {
    /// The sequence number just past the range.
    pub end: u32,
    /// Its length in bytes; 0 for none.
    pub len: u32,
}

impl HostRange {
    /// No range.
    pub const NONE: Self = Self { end: 0, len: 0 };

    /// Whether a segment from sequence number `seq`, `len` payload bytes long, holds a byte of
    /// the range.
    #[inline(always)]
    pub fn overlaps(&self, seq: u32, len: u32) -> bool {
        // The segment [seq, seq + len) meets [end - self.len, end) exactly when it starts
        // within (end - self.len - len, end): `end - seq` in (0, self.len + len). Both lengths
        // are bounded (MAX_HOST_RANGE, 64 KiB), so the sum does not wrap.
        let back = self.end.wrapping_sub(seq);
        self.len != 0 && len != 0 && back != 0 && back < self.len.saturating_add(len)
    }

    /// This range grown to cover `[lo, end)` too (the two and what lies between them);
    /// `None` when the result would be longer than [`MAX_HOST_RANGE`] or `[lo, end)` is not a
    /// forward range.
    pub fn cover(self, lo: u32, end: u32) -> Option<Self> {
        let len = end.wrapping_sub(lo);
        if len == 0 {
            return Some(self);
        }
        if len > MAX_HOST_RANGE {
            return None;
        }
        if self.len == 0 {
            return Some(Self { end, len });
        }
        let old_lo = self.end.wrapping_sub(self.len);
        let lo = if old_lo.wrapping_sub(lo) as i32 <= 0 {
            old_lo
        } else {
            lo
        };
        let end = if self.end.wrapping_sub(end) as i32 >= 0 {
            self.end
        } else {
            end
        };
        let len = end.wrapping_sub(lo);
        (len <= MAX_HOST_RANGE).then_some(Self { end, len })
    }
}

/// One flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowEntry {
    /// The flow's key.
    pub key: FlowKey,
    /// The flow's tenant, if one was resolved.
    pub tenant: Option<TenantId>,
    /// The decision its packets follow.
    pub decision: FlowDecision,
    /// Last packet seen, ns.
    pub last_ns: u64,
    /// Packets seen.
    pub packets: u64,
    /// How its later requests are found (the rest of a [`Track`] is kept beside the table).
    pub track: TrackTag,
    /// Its bytes that went to the host while a request was gathered.
    pub host: HostRange,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    /// Key hash, 0 when free.
    tag: u32,
    /// Whose share the entry counts against ([`FlowTable::set_caps`]): the tenant's index, or
    /// the last index for an entry made without a tenant. Fixed when the entry is made.
    owner: u32,
    entry: FlowEntry,
}

const FREE: Slot = Slot {
    tag: 0,
    owner: 0,
    entry: FlowEntry {
        key: FlowKey { words: [0; 9] },
        tenant: None,
        decision: FlowDecision::Host,
        last_ns: 0,
        packets: 0,
        track: TrackTag::NONE,
        host: HostRange::NONE,
    },
};

/// Flow table counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlowStats {
    /// Entries in use.
    pub live: u64,
    /// Entries made.
    pub inserted: u64,
    /// Entries removed because they were idle past the timeout (aging sweep).
    pub aged_out: u64,
    /// Idle entries evicted to make room for a new flow.
    pub evicted: u64,
    /// Inserts refused: the probe window was full of active flows.
    pub full: u64,
    /// Inserts refused: the entry's owner already held its cap of entries.
    pub capped: u64,
    /// Lookups that found their flow.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
}

/// The flow table.
#[derive(Clone, Debug)]
pub struct FlowTable {
    slots: Vec<Slot>,
    /// Per owner (tenants, then the unattributed share): the most entries it may hold. Empty:
    /// no caps.
    caps: Vec<u32>,
    /// Per owner: entries held now.
    held: Vec<u32>,
    mask: usize,
    idle_ns: u64,
    cursor: usize,
    stats: FlowStats,
    /// Entries made or removed so far ([`FlowTable::changes`]).
    changes: u64,
}

/// Why an insert was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TableFull {
    /// Every slot of the probe window holds an active flow.
    Window,
    /// The entry's owner (its tenant, or the unattributed share) holds its cap of entries.
    OwnerCap,
}

impl FlowTable {
    /// A table of `capacity` entries (rounded up to a power of two, at least
    /// [`PROBE_WINDOW`]); an entry idle for `idle_ns` may be aged out or evicted.
    pub fn new(capacity: usize, idle_ns: u64) -> Self {
        let n = capacity.max(PROBE_WINDOW).next_power_of_two();
        Self {
            slots: alloc::vec![FREE; n],
            caps: Vec::new(),
            held: Vec::new(),
            mask: n - 1,
            idle_ns,
            cursor: 0,
            stats: FlowStats::default(),
            changes: 0,
        }
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Caps the entries each owner may hold: `caps[t]` for tenant `t`, and the last element
    /// for entries made without a tenant (the unattributed share), so that no tenant, and no
    /// unknown sender, can fill the table for the others. An entry whose tenant has no element
    /// counts against the last one. Call it at setup (it resets the counts; entries already in
    /// the table are not counted).
    pub fn set_caps(&mut self, caps: Vec<u32>) {
        self.held = alloc::vec![0; caps.len()];
        self.caps = caps;
    }

    /// Entries `tenant` (`None`: the unattributed share) holds now (0 without caps).
    pub fn held_by(&self, tenant: Option<TenantId>) -> u32 {
        self.held
            .get(self.owner_of(tenant) as usize)
            .copied()
            .unwrap_or(0)
    }

    #[inline]
    fn owner_of(&self, tenant: Option<TenantId>) -> u32 {
        let last = self.caps.len().saturating_sub(1) as u32;
        match tenant {
            Some(t) if t.0 < last => t.0,
            _ => last,
        }
    }

    /// Forgets the entry in slot `i` from its owner's count and frees the slot.
    #[inline]
    fn vacate(&mut self, i: usize) {
        let Some(s) = self.slots.get_mut(i) else {
            return;
        };
        let owner = s.owner as usize;
        *s = FREE;
        self.changes = self.changes.wrapping_add(1);
        if let Some(h) = self.held.get_mut(owner) {
            *h = h.saturating_sub(1);
        }
    }

    /// How many times an entry was made or removed so far (wrapping): while it stays the same,
    /// every [`FlowTable::find`] answers as it did, so a lookup made earlier still stands.
    /// Changing an entry in place ([`FlowTable::entry_mut`]) does not count.
    #[inline]
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Counters.
    pub fn stats(&self) -> FlowStats {
        self.stats
    }

    /// The slot of `key` (hash `hash`), without counting a hit or a miss.
    #[inline(always)]
    pub fn find(&self, key: &FlowKey, hash: u32) -> Option<usize> {
        let hash = hash | 1;
        let home = hash as usize & self.mask;
        for k in 0..PROBE_WINDOW {
            let i = (home + k) & self.mask;
            if let Some(s) = self.slots.get(i) {
                if s.tag == hash && s.entry.key.same(key) {
                    return Some(i);
                }
            }
        }
        None
    }

    /// Looks up a burst: `out[i]` is the slot of `keys[i]` (hash `hashes[i]`), if present.
    /// Two passes: the first loads every home slot's tag (independent loads the core overlaps,
    /// a portable stand-in for prefetching, which pays off when the table is bigger than the
    /// caches), the second compares keys. Hits and misses are counted once per burst.
    #[inline]
    pub fn lookup_burst(&mut self, keys: &[FlowKey], hashes: &[u32], out: &mut [Option<usize>]) {
        let mut touched = 0u32;
        for h in hashes {
            let home = (*h | 1) as usize & self.mask;
            touched ^= self.slots.get(home).map_or(0, |s| s.tag);
        }
        core::hint::black_box(touched);
        let mut hits = 0u64;
        let mut n = 0u64;
        for ((k, h), o) in keys.iter().zip(hashes).zip(out.iter_mut()) {
            *o = self.find(k, *h);
            hits += u64::from(o.is_some());
            n += 1;
        }
        self.stats.hits += hits;
        self.stats.misses += n - hits;
    }

    /// The tag of `hash`'s home slot (0 when free): loading it for a whole burst before
    /// looking any of it up overlaps the cache misses (see [`FlowTable::lookup_burst`]).
    #[inline(always)]
    pub fn home_tag(&self, hash: u32) -> u32 {
        self.slots
            .get((hash | 1) as usize & self.mask)
            .map_or(0, |s| s.tag)
    }

    /// Counts lookups made with [`FlowTable::find`]: `hits` found their flow, `misses` did
    /// not.
    #[inline]
    pub fn count_lookups(&mut self, hits: u64, misses: u64) {
        self.stats.hits += hits;
        self.stats.misses += misses;
    }

    /// Looks up one key.
    #[inline]
    pub fn lookup(&mut self, key: &FlowKey, hash: u32) -> Option<usize> {
        let r = self.find(key, hash);
        if r.is_some() {
            self.stats.hits += 1;
        } else {
            self.stats.misses += 1;
        }
        r
    }

    /// The entry in slot `slot`.
    #[inline]
    pub fn entry(&self, slot: usize) -> Option<&FlowEntry> {
        self.slots
            .get(slot)
            .filter(|s| s.tag != 0)
            .map(|s| &s.entry)
    }

    /// The entry in slot `slot`, to update it.
    #[inline]
    pub fn entry_mut(&mut self, slot: usize) -> Option<&mut FlowEntry> {
        self.slots
            .get_mut(slot)
            .filter(|s| s.tag != 0)
            .map(|s| &mut s.entry)
    }

    /// Inserts (or replaces) the entry of `entry.key` with hash `hash`: a free slot in the
    /// probe window, else the stalest entry in it if that one is idle past the timeout
    /// (counted as evicted).
    ///
    /// # Errors
    ///
    /// [`TableFull`] (counted) when every slot of the window holds an active flow.
    pub fn insert(&mut self, hash: u32, entry: FlowEntry, now_ns: u64) -> Result<usize, TableFull> {
        let hash = hash | 1;
        if let Some(i) = self.find(&entry.key, hash) {
            if let Some(s) = self.slots.get_mut(i) {
                s.entry = entry;
            }
            return Ok(i);
        }
        let owner = self.owner_of(entry.tenant);
        // An owner at its cap may only take the place of one of its own idle entries.
        let at_cap = matches!(
            (self.held.get(owner as usize), self.caps.get(owner as usize)),
            (Some(&held), Some(&cap)) if held >= cap
        );
        let home = hash as usize & self.mask;
        let mut stalest: Option<(usize, u64)> = None;
        // Whether the window had room but for the cap (a free slot or an idle entry).
        let mut room = false;
        for k in 0..PROBE_WINDOW {
            let i = (home + k) & self.mask;
            let Some(s) = self.slots.get(i) else { continue };
            if at_cap && (s.tag == 0 || s.owner != owner) {
                room |= s.tag == 0 || now_ns.saturating_sub(s.entry.last_ns) >= self.idle_ns;
                continue;
            }
            if s.tag == 0 {
                return self.put(i, hash, owner, entry, false);
            }
            if stalest.is_none_or_older(s.entry.last_ns) {
                stalest = Some((i, s.entry.last_ns));
            }
        }
        match stalest {
            Some((i, last)) if now_ns.saturating_sub(last) >= self.idle_ns => {
                self.vacate(i);
                self.put(i, hash, owner, entry, true)
            }
            _ if at_cap && room => {
                self.stats.capped += 1;
                Err(TableFull::OwnerCap)
            }
            _ => {
                self.stats.full += 1;
                Err(TableFull::Window)
            }
        }
    }

    fn put(
        &mut self,
        i: usize,
        hash: u32,
        owner: u32,
        entry: FlowEntry,
        evict: bool,
    ) -> Result<usize, TableFull> {
        match self.slots.get_mut(i) {
            Some(s) => {
                *s = Slot {
                    tag: hash,
                    owner,
                    entry,
                };
                self.changes = self.changes.wrapping_add(1);
                if let Some(h) = self.held.get_mut(owner as usize) {
                    *h = h.saturating_add(1);
                }
                self.stats.inserted += 1;
                if evict {
                    self.stats.evicted += 1;
                } else {
                    self.stats.live += 1;
                }
                Ok(i)
            }
            None => {
                self.stats.full += 1;
                Err(TableFull::Window)
            }
        }
    }

    /// Removes the entry in slot `slot`.
    pub fn remove(&mut self, slot: usize) {
        if self.slots.get(slot).is_some_and(|s| s.tag != 0) {
            self.vacate(slot);
            self.stats.live = self.stats.live.saturating_sub(1);
        }
    }

    /// Ages out idle entries among the next `budget` slots (a sweep that goes round the table
    /// a little per burst); returns how many were removed.
    pub fn age(&mut self, now_ns: u64, budget: usize) -> usize {
        let mut removed = 0;
        for _ in 0..budget.min(self.slots.len()) {
            let i = self.cursor;
            self.cursor = (self.cursor + 1) & self.mask;
            let Some(s) = self.slots.get_mut(i) else {
                continue;
            };
            if s.tag == 0 {
                continue;
            }
            if s.entry.last_ns > now_ns {
                // Stamped by a clock that has since stepped back: idle from now on, so the
                // entry ages out one timeout from here instead of when the clock catches up
                // with the stamp.
                s.entry.last_ns = now_ns;
            } else if now_ns - s.entry.last_ns >= self.idle_ns {
                self.vacate(i);
                removed += 1;
            }
        }
        self.stats.live = self.stats.live.saturating_sub(removed as u64);
        self.stats.aged_out += removed as u64;
        removed
    }
}

/// `Option<(slot, last_ns)>::is_none_or(older than last)` for the MSRV.
trait Stalest {
    fn is_none_or_older(&self, last: u64) -> bool;
}

impl Stalest for Option<(usize, u64)> {
    fn is_none_or_older(&self, last: u64) -> bool {
        match self {
            None => true,
            Some((_, l)) => last < *l,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::IpProtocol;

    fn key(i: u32) -> FlowKey {
        let t = FiveTuple {
            src: {
                let mut a = [0u8; 16];
                a[..4].copy_from_slice(&i.to_be_bytes());
                a
            },
            dst: [10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            src_port: 1000,
            dst_port: 443,
            protocol: IpProtocol(6),
            family: IpFamily::V4,
        };
        FlowKey::new(&t, None, 0)
    }

    fn entry(k: FlowKey, now: u64) -> FlowEntry {
        FlowEntry {
            key: k,
            tenant: Some(TenantId(1)),
            decision: FlowDecision::Host,
            last_ns: now,
            packets: 1,
            track: TrackTag::NONE,
            host: HostRange::NONE,
        }
    }

    #[test]
    fn host_ranges_meet_exactly_the_segments_that_hold_their_bytes() {
        // [100, 200), also across the wrap of the sequence space.
        for base in [0u32, u32::MAX - 150] {
            let r = HostRange::NONE.cover(base.wrapping_add(100), base.wrapping_add(200));
            let r = r.unwrap();
            let at = |o: u32| base.wrapping_add(o);
            assert!(r.overlaps(at(100), 1));
            assert!(r.overlaps(at(199), 1));
            assert!(r.overlaps(at(50), 51));
            assert!(r.overlaps(at(150), 500));
            assert!(!r.overlaps(at(50), 50));
            assert!(!r.overlaps(at(200), 1000));
            assert!(!r.overlaps(at(150), 0));
            assert!(!r.overlaps(at(200).wrapping_add(1 << 31), 100));
            // Grown by a later range: it covers both and what lies between.
            let g = r.cover(at(1000), at(1100)).unwrap();
            assert!(g.overlaps(at(100), 1) && g.overlaps(at(500), 1) && g.overlaps(at(1099), 1));
            assert!(!g.overlaps(at(1100), 100));
            // An earlier range inside it changes nothing.
            assert_eq!(g.cover(at(120), at(130)), Some(g));
        }
        assert!(!HostRange::NONE.overlaps(0, 100));
        assert_eq!(HostRange::NONE.cover(5, 5), Some(HostRange::NONE));
        // Too long, or backwards: refused.
        assert_eq!(HostRange::NONE.cover(0, MAX_HOST_RANGE + 1), None);
        assert_eq!(HostRange::NONE.cover(200, 100), None);
        let r = HostRange::NONE.cover(0, 100).unwrap();
        assert_eq!(r.cover(MAX_HOST_RANGE, MAX_HOST_RANGE + 10), None);
    }

    #[test]
    fn insert_lookup_age_and_evict() {
        let mut t = FlowTable::new(64, 1_000);
        for i in 0..40 {
            let k = key(i);
            t.insert(k.hash(), entry(k, 0), 0).unwrap();
        }
        let keys: Vec<FlowKey> = (0..50).map(key).collect();
        let hashes: Vec<u32> = keys.iter().map(FlowKey::hash).collect();
        let mut out = vec![None; 50];
        t.lookup_burst(&keys, &hashes, &mut out);
        assert!(out[..40].iter().all(Option::is_some));
        assert!(out[40..].iter().all(Option::is_none));
        assert_eq!(t.stats().live, 40);
        // Nothing is idle yet: a full window refuses.
        let mut refused = 0;
        for i in 100..10_000 {
            let k = key(i);
            if t.insert(k.hash(), entry(k, 0), 10).is_err() {
                refused += 1;
            }
        }
        assert!(refused > 0 && t.stats().full == refused);
        // After the timeout, inserts evict and the sweep ages out.
        let k = key(20_000);
        let before = t.stats().evicted;
        let mut i = 20_000;
        while t.stats().evicted == before {
            let k2 = key(i);
            let _ = t.insert(k2.hash(), entry(k2, 5_000), 5_000);
            i += 1;
        }
        let _ = k;
        let removed = t.age(10_000, usize::MAX);
        assert!(removed > 0);
        assert_eq!(t.stats().live, 0);
    }

    #[test]
    fn key_from_frame_equals_key_from_tuple() {
        use crate::wire::emit::{emit_frame, FrameSpec, HopSpec, IpSpec, L4Spec};
        let mut buf = [0u8; 256];
        for spec in [
            FrameSpec::tcp_v4([10, 0, 0, 1], [10, 0, 0, 2], 1234, 80, b"x"),
            FrameSpec {
                outer: HopSpec::new(IpSpec::v6([1; 16], [2; 16])),
                tunnel: None,
                l4: L4Spec::Udp {
                    src_port: 5,
                    dst_port: 6,
                },
                payload: b"y",
            },
        ] {
            let n = emit_frame(&spec, &mut buf).unwrap();
            let s = crate::wire::parse_frame(&buf[..n]).unwrap();
            let want = FlowKey::new(s.tuple.as_ref().unwrap(), None, 3);
            assert_eq!(FlowKey::from_frame(&buf[..n], &s, 3), Some(want));
            assert_eq!(
                FlowKey::from_frame_hashed(&buf[..n], &s, 3),
                Some((want, want.hash()))
            );
            if let Some(p) = crate::wire::fast::parse_plain_tcp(&buf[..n]) {
                assert_eq!(
                    FlowKey::from_plain_tcp(&buf[..n], &p, 3),
                    Some((want, want.hash()))
                );
            }
        }
    }

    #[test]
    fn an_ingress_port_never_reads_as_a_vlan_tag() {
        // Port 256 untagged and port 0 with one VLAN tag of id 0 (a priority tag) are two
        // identities; every port and tag stack reads back as it was.
        use crate::wire::emit::{emit_frame, FrameSpec, VlanSpec};
        use crate::wire::ethernet::EtherType;
        let mut buf = [0u8; 256];
        let untagged = FrameSpec::tcp_v4([10, 0, 0, 1], [10, 0, 0, 2], 1234, 80, b"x");
        let n = emit_frame(&untagged, &mut buf).unwrap();
        let s = crate::wire::parse_frame(&buf[..n]).unwrap();
        let a = FlowKey::from_frame(&buf[..n], &s, 256).unwrap();
        let tag = [VlanSpec {
            tpid: EtherType::VLAN,
            pcp: 0,
            vid: 0,
        }];
        let mut tagged = untagged;
        tagged.outer.vlans = &tag;
        let n = emit_frame(&tagged, &mut buf).unwrap();
        let s = crate::wire::parse_frame(&buf[..n]).unwrap();
        let b = FlowKey::from_frame(&buf[..n], &s, 0).unwrap();
        assert_ne!(a, b);
        assert_eq!((a.ingress_port(), a.vlans().1), (256, 0));
        assert_eq!((b.ingress_port(), b.vlans().1), (0, 1));
        let c = FlowKey::from_frame(&buf[..n], &s, u16::MAX).unwrap();
        assert_eq!((c.ingress_port(), c.vlans()), (u16::MAX, ([0; 4], 1)));
    }

    #[test]
    fn keys_differ_by_vni_and_port() {
        let t = FiveTuple {
            src: [1; 16],
            dst: [2; 16],
            src_port: 1,
            dst_port: 2,
            protocol: IpProtocol(17),
            family: IpFamily::V6,
        };
        let a = FlowKey::new(&t, Some(5), 0);
        let b = FlowKey::new(&t, Some(6), 0);
        let c = FlowKey::new(&t, Some(5), 1);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(a.hash(), b.hash());
        assert_eq!((a.vni(), c.ingress_port(), a.ports()), (Some(5), 1, (1, 2)));
        assert_eq!(FlowKey::new(&t, None, 0).vni(), None);
    }

    /// The hash spreads flows that differ in one field only (what a client's connections
    /// and a load test's flows look like) evenly over the table's home slots and over the
    /// upper bits that Maglev and the reassembly key use, and any single-bit change of a key
    /// changes about half of the hash's bits.
    #[test]
    fn hash_spreads_keys_that_differ_in_one_field() {
        let base = FiveTuple {
            src: [10, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            dst: [10, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            src_port: 20000,
            dst_port: 8000,
            protocol: IpProtocol(6),
            family: IpFamily::V4,
        };
        let n = 1u32 << 16;
        type Vary<'a> = &'a dyn Fn(&mut FiveTuple, u32);
        let vary: [Vary<'_>; 3] = [
            &|t, i| t.src_port = i as u16,
            &|t, i| t.src[2..4].copy_from_slice(&(i as u16).to_be_bytes()),
            &|t, i| {
                t.family = IpFamily::V6;
                t.dst[12..16].copy_from_slice(&i.to_be_bytes());
            },
        ];
        for (field, f) in vary.iter().enumerate() {
            let mut low = [0u32; 256];
            let mut high = [0u32; 256];
            for i in 0..n {
                let mut t = base;
                f(&mut t, i);
                let h = FlowKey::new(&t, None, 0).hash();
                low[(h >> 1) as usize & 255] += 1; // bit 0 is always set
                high[(h >> 24) as usize] += 1;
            }
            // 256 counters expecting 256 each: a fair hash stays within ±25 % (about 4
            // standard deviations).
            for (name, counts) in [("low", &low), ("high", &high)] {
                let (min, max) = (counts.iter().min(), counts.iter().max());
                assert!(
                    min >= Some(&192) && max <= Some(&320),
                    "field {field}, {name} bits: {min:?}..{max:?}"
                );
            }
        }
        // Avalanche: flipping any one bit of any word changes 6..=25 of the 31 hashed bits
        // (about half; a fair hash strays past these bounds about once in a million flips).
        let k = FlowKey::new(&base, None, 3);
        for w in 0..9 {
            for bit in 0..64 {
                let mut k2 = k;
                k2.words[w] ^= 1 << bit;
                let d = ((k.hash() ^ k2.hash()) >> 1).count_ones();
                assert!(
                    (6..=25).contains(&d),
                    "word {w} bit {bit}: {d} bits changed"
                );
            }
        }
    }
}
