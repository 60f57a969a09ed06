//! GPU queues: what the steering stage hands packets to and what a GPU (or a host worker
//! standing in for one) takes them from.
//!
//! A GPU queue is a bounded single-producer single-consumer [`Ring`] of [`Descriptor`]s, each
//! one cache line naming a packet and what the classifier and policy learned about it. The
//! producing end ([`Producer`]) lives on a data-plane core; the consuming end ([`Consumer`])
//! forms batches by size and age ([`BatchPolicy`], [`Consumer::pop_batch`]) and hands them to a
//! [`GpuConsumer`]: a host worker thread today ([`drain_into`]), a CUDA or DOCA GPUNetIO
//! consumer later.
//!
//! # Promises
//!
//! - **No allocation after setup.** [`Ring::new`] allocates the slots once; pushes, pops and
//!   batches copy descriptors in place.
//! - **No lock, no wait, no panic.** A push into a full ring or a pop from an empty one returns
//!   what it could do (`Err(item)`, a count, `None`); bad capacities are a [`RingError`].
//! - **FIFO, nothing lost or duplicated**, across threads: the Acquire/Release protocol is
//!   proved in the ring's source and model-checked under loom (`tests/loom_ring.rs`).
//! - `unsafe` lives only in the ring's slot copies (`ring.rs`), each block with its proof;
//!   the rest of the module is safe code (`batch.rs` forbids `unsafe`).

mod batch;
mod ring;

pub use batch::{drain_into, BatchPolicy, GpuConsumer};
pub use ring::{Consumer, Producer, Ring, RingError};

use core::fmt;
use core::ops::{BitOr, BitOrAssign};

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// What the classifier knew about a packet, one bit each. Bits 8 to 31 are reserved and zero.
#[repr(transparent)]
#[derive(
    Clone, Copy, Default, PartialEq, Eq, Hash, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct DescFlags(pub u32);

impl DescFlags {
    /// No flag set.
    pub const EMPTY: Self = Self(0);
    /// The payload is TLS records (classified from the ClientHello, not terminated here).
    pub const TLS: Self = Self(1 << 0);
    /// The request is HTTP/1.1.
    pub const HTTP1: Self = Self(1 << 1);
    /// The request is HTTP/2 (h2 after TLS, or h2c).
    pub const HTTP2: Self = Self(1 << 2);
    /// The request is gRPC (HTTP/2 with `content-type: application/grpc`).
    pub const GRPC: Self = Self(1 << 3);
    /// The first packet of its flow: the consumer sets up per-session state.
    pub const FIRST_OF_FLOW: Self = Self(1 << 4);
    /// The flow ended with this packet (FIN or RST seen): the consumer may free session state.
    pub const END_OF_FLOW: Self = Self(1 << 5);
    /// The packet is IPv6 (else IPv4).
    pub const IPV6: Self = Self(1 << 6);
    /// The packet arrived inside a VXLAN or GENEVE tunnel; the payload offset is the inner one.
    pub const TUNNELLED: Self = Self(1 << 7);

    /// The raw bits.
    #[inline]
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every flag in `other` is set in `self`.
    #[inline]
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// The flags of both.
    #[inline]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl BitOr for DescFlags {
    type Output = Self;

    #[inline]
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

impl BitOrAssign for DescFlags {
    #[inline]
    fn bitor_assign(&mut self, rhs: Self) {
        *self = self.union(rhs);
    }
}

impl fmt::Debug for DescFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(DescFlags, &str); 8] = [
            (DescFlags::TLS, "TLS"),
            (DescFlags::HTTP1, "HTTP1"),
            (DescFlags::HTTP2, "HTTP2"),
            (DescFlags::GRPC, "GRPC"),
            (DescFlags::FIRST_OF_FLOW, "FIRST_OF_FLOW"),
            (DescFlags::END_OF_FLOW, "END_OF_FLOW"),
            (DescFlags::IPV6, "IPV6"),
            (DescFlags::TUNNELLED, "TUNNELLED"),
        ];
        write!(f, "DescFlags(")?;
        let mut sep = "";
        for (flag, name) in NAMES {
            if self.contains(flag) {
                write!(f, "{sep}{name}")?;
                sep = " | ";
            }
        }
        let rest = self.0 & !0xff;
        if rest != 0 {
            write!(f, "{sep}{rest:#x}")?;
        }
        write!(f, ")")
    }
}

/// One packet handed to a GPU queue: exactly one 64-byte cache line, `Copy`, with no padding
/// (so it can be copied as bytes into device-visible memory, see [`IntoBytes`]).
///
/// The fields are in native byte order. Nothing in the ring reads them except
/// [`enqueue_ns`](Self::enqueue_ns), which batching uses; the rest is for the consumer.
#[repr(C, align(64))]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Descriptor {
    /// The packet, opaque to the queue: an `rte_mbuf` pointer as an integer, or an index into a
    /// frame pool. The consumer owns the packet once it pops the descriptor.
    pub packet: u64,
    /// The session hash that keeps one user's requests on one GPU (sticky steering key).
    pub session: u64,
    /// The flow's 5-tuple hash (the RSS hash or the data plane's own).
    pub flow_hash: u64,
    /// When the producer pushed the descriptor, in nanoseconds of a clock shared with the
    /// consumer (batching measures the wait against it).
    pub enqueue_ns: u64,
    /// Free for the consumer backend (a request id, a CUDA slot); the data plane writes 0.
    pub cookie: u64,
    /// The tenant the packet belongs to.
    pub tenant: u32,
    /// The model the request is for (the id that chose this queue).
    pub model: u32,
    /// Where the L7 payload starts, in bytes from the start of the frame.
    pub payload_offset: u32,
    /// The L7 payload's length in bytes.
    pub payload_len: u32,
    /// What the classifier knew about the packet.
    pub flags: DescFlags,
    /// The GPU queue the packet was steered to.
    pub queue: u32,
}

const _: () = assert!(core::mem::size_of::<Descriptor>() == 64);
const _: () = assert!(core::mem::align_of::<Descriptor>() == 64);

impl Descriptor {
    /// A descriptor with every field zero: the filler for burst and batch arrays.
    pub const EMPTY: Self = Self {
        packet: 0,
        session: 0,
        flow_hash: 0,
        enqueue_ns: 0,
        cookie: 0,
        tenant: 0,
        model: 0,
        payload_offset: 0,
        payload_len: 0,
        flags: DescFlags::EMPTY,
        queue: 0,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_is_one_line_of_bytes() {
        let d = Descriptor {
            packet: 1,
            flags: DescFlags::TLS | DescFlags::FIRST_OF_FLOW,
            ..Descriptor::EMPTY
        };
        assert_eq!(d.as_bytes().len(), 64);
        assert_eq!(Descriptor::read_from_bytes(d.as_bytes()), Ok(d));
        assert_eq!(Descriptor::default(), Descriptor::EMPTY);
    }

    #[test]
    fn flags() {
        let mut f = DescFlags::HTTP2;
        f |= DescFlags::GRPC;
        assert!(f.contains(DescFlags::GRPC | DescFlags::HTTP2));
        assert!(!f.contains(DescFlags::TLS));
        assert_eq!(f.bits(), 0b1100);
        assert_eq!(format!("{f:?}"), "DescFlags(HTTP2 | GRPC)");
        assert_eq!(format!("{:?}", DescFlags(1 << 9)), "DescFlags(0x200)");
    }
}
