//! The burst pipeline: a burst of frames in, one [`Verdict`] per frame out, every admitted
//! request in its GPU queue, every outcome counted.
//!
//! [`Pipeline::process_burst`] runs to completion over up to [`BURST_SIZE`] frames:
//! parse → flow lookup (the whole burst at once) → for a new flow, classify its first bytes
//! (joined in the reassembly pool when they span segments) → tenant from trusted attributes,
//! claim check, model and TLS policy → steer to a GPU queue → police every packet of a tenant
//! (one timestamp per burst) → in-flight quota → enqueue per queue in bulk. It is generic over
//! where frames come from ([`Frame`]: byte slices, DPDK mbufs), so one code path serves every
//! backend; the backend carries the verdicts out (moves admitted packets' ownership into the
//! descriptors, frees drops in bulk, hands others to the host).
//!
//! # Promises
//!
//! - **No allocation, no lock, no panic** after [`Pipeline::new`]: every table and staging
//!   array is sized at setup; in-flight quotas are atomics shared with the consumers.
//! - **Nothing lost:** `rx = to_gpu + terminated + to_host + Σ drops` in total and per tenant
//!   ([`Counts::balanced`]); a descriptor a full queue refuses becomes a `queue_full` drop.
//! - **Never blocks:** a full queue or a tenant at its cap is a counted drop, never a wait.
//!
//! A first flight that spans several TCP segments is gathered in the reassembly pool; the
//! segments before the one that completes it are handed to the host ([`Verdict::Host`]) and
//! the flow's decision applies from the completing segment on.
#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

use crate::capacity::BURST_SIZE;
use crate::l7::h2conn::H2Stop;
use crate::l7::http1::{self, Http1Error};
use crate::l7::reassembly::{self, Outcome, SlotId};
use crate::l7::stream::{seq_lt, Chunked};
use crate::l7::{fnv1a, Classifier, ClassifyConfig, L7Error, RequestInfo, RequestKind};
use crate::policy::{Attribute, Color, ModelId, PolicerBank, PolicyTable, TenantId, TenantPolicer};
use crate::queue::{DescFlags, Descriptor, Producer};
use crate::steer::{
    FlowDecision, FlowEntry, FlowKey, FlowStats, FlowTable, HostRange, NoQueue, SteerTable,
    TableFull, Track, TrackKind, TrackTag,
};
use crate::verdict::{DropReason, TlsHint};
use crate::wire::{self, Fragment, FrameSummary, IpFamily, L4Checksum, L4Kind};
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

mod h2pool;
use h2pool::H2Pool;

/// A frame as the pipeline sees it: its bytes and what the NIC knew.
pub trait Frame {
    /// The frame's bytes, from the Ethernet header.
    fn bytes(&self) -> &[u8];
    /// The NIC's RSS hash of the flow, when it computed one.
    fn rss_hash(&self) -> Option<u32> {
        None
    }
    /// The ingress port or VF.
    fn port(&self) -> u16 {
        0
    }
    /// The frame's whole length on the wire, in bytes: what the byte policers count. The
    /// length of [`Frame::bytes`] by default; a chained buffer (a DPDK mbuf of several
    /// segments, whose `bytes` are its first segment) reports all of it.
    #[inline(always)]
    fn wire_len(&self) -> usize {
        self.bytes().len()
    }
    /// The opaque handle a GPU descriptor carries (an mbuf pointer, a buffer index).
    fn handle(&self) -> u64 {
        0
    }
    /// Hints the CPU to start loading the frame's first bytes: the pipeline calls it a few
    /// frames ahead of parsing ([`PipelineConfig::prefetch_ahead`]). Nothing by default.
    #[inline(always)]
    fn prefetch(&self) {}
    /// What the NIC found of the frame's TCP checksum, when it checked it: `Some(true)` good,
    /// `Some(false)` bad. Consulted only for frames without a tunnel (the pipeline checks the
    /// checksum itself otherwise, and when this is `None`). `None` by default.
    #[inline(always)]
    fn l4_checksum_ok(&self) -> Option<bool> {
        None
    }
}

impl Frame for [u8] {
    fn bytes(&self) -> &[u8] {
        self
    }
}

/// A reference to a frame is a frame: bursts may be slices of frames (`&[Mbuf]`, `&[RawFrame]`)
/// or of references to them (`&[&RawFrame]`, `&[&[u8]]`).
impl<F: Frame + ?Sized> Frame for &F {
    #[inline(always)]
    fn bytes(&self) -> &[u8] {
        (**self).bytes()
    }
    #[inline(always)]
    fn rss_hash(&self) -> Option<u32> {
        (**self).rss_hash()
    }
    #[inline(always)]
    fn port(&self) -> u16 {
        (**self).port()
    }
    #[inline(always)]
    fn handle(&self) -> u64 {
        (**self).handle()
    }
    #[inline(always)]
    fn wire_len(&self) -> usize {
        (**self).wire_len()
    }
    #[inline(always)]
    fn prefetch(&self) {
        (**self).prefetch()
    }
    #[inline(always)]
    fn l4_checksum_ok(&self) -> Option<bool> {
        (**self).l4_checksum_ok()
    }
}

impl Frame for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
}

/// A borrowed frame with its NIC metadata.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RawFrame<'a> {
    /// The bytes.
    pub bytes: &'a [u8],
    /// Ingress port.
    pub port: u16,
    /// RSS hash, if any.
    pub rss: Option<u32>,
    /// Handle for descriptors.
    pub handle: u64,
}

impl Frame for RawFrame<'_> {
    fn bytes(&self) -> &[u8] {
        self.bytes
    }
    fn rss_hash(&self) -> Option<u32> {
        self.rss
    }
    fn port(&self) -> u16 {
        self.port
    }
    fn handle(&self) -> u64 {
        self.handle
    }
}

/// What happens to a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Its descriptor is in GPU queue `queue`: the consumer owns the packet now.
    Gpu {
        /// Global GPU queue index.
        queue: u16,
    },
    /// Terminate TLS where the hint says.
    Terminate(TlsHint),
    /// Hand to the host stack.
    Host,
    /// Drop (the backend frees it, in bulk with the burst's other drops).
    Drop(DropReason),
}

/// Outcome counters of one tenant, or of all traffic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Counts {
    /// Frames received.
    pub rx: u64,
    /// Frames enqueued to a GPU queue.
    pub to_gpu: u64,
    /// Frames given a TLS termination verdict.
    pub terminated: u64,
    /// Frames handed to the host.
    pub to_host: u64,
    /// Frames dropped, per [`DropReason::index`].
    pub drops: [u64; DropReason::COUNT],
}

impl Counts {
    /// Frames dropped for any reason.
    pub fn dropped(&self) -> u64 {
        self.drops.iter().sum()
    }

    /// Whether `rx = to_gpu + terminated + to_host + Σ drops`.
    pub fn balanced(&self) -> bool {
        self.rx == self.to_gpu + self.terminated + self.to_host + self.dropped()
    }

    /// Drops for `reason`.
    pub fn drops_for(&self, reason: DropReason) -> u64 {
        self.drops.get(reason.index()).copied().unwrap_or(0)
    }

    #[inline(always)]
    fn count(&mut self, v: &Verdict) {
        self.rx += 1;
        // The common case without the jump table.
        if let Verdict::Gpu { .. } = v {
            self.to_gpu += 1;
            return;
        }
        match v {
            Verdict::Gpu { .. } => self.to_gpu += 1,
            Verdict::Terminate(_) => self.terminated += 1,
            Verdict::Host => self.to_host += 1,
            Verdict::Drop(r) => {
                if let Some(d) = self.drops.get_mut(r.index()) {
                    *d += 1;
                }
            }
        }
    }

    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Counts) {
        self.rx += other.rx;
        self.to_gpu += other.to_gpu;
        self.terminated += other.terminated;
        self.to_host += other.to_host;
        for (a, b) in self.drops.iter_mut().zip(other.drops.iter()) {
            *a += b;
        }
    }
}

/// Counters of one GPU queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct QueueCounts {
    /// Descriptors enqueued.
    pub enqueued: u64,
    /// Descriptors refused because the queue was full.
    pub full: u64,
}

/// A copy of every counter of a pipeline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// All frames.
    pub total: Counts,
    /// Per tenant (by [`TenantId`]).
    pub tenants: Vec<Counts>,
    /// Frames no tenant was resolved for (malformed, not IP, unknown tenant, …).
    pub unattributed: Counts,
    /// Per GPU queue.
    pub queues: Vec<QueueCounts>,
    /// The flow table's counters.
    pub flows: FlowStats,
    /// The reassembly pool's counters.
    pub reassembly: reassembly::Stats,
    /// Frames the pipeline finished, counted apart from the outcome counters as each frame's
    /// verdict is counted (`total.rx` must equal it).
    pub frames_in: u64,
}

impl Snapshot {
    /// Whether the counting invariant holds in total, per tenant, and across the split
    /// (Σ tenants + unattributed = total).
    pub fn balanced(&self) -> bool {
        let mut sum = self.unattributed;
        for t in &self.tenants {
            sum.add(t);
        }
        self.total.balanced()
            && self.unattributed.balanced()
            && self.tenants.iter().all(Counts::balanced)
            && sum == self.total
            && self.total.rx == self.frames_in
    }

    /// Adds another pipeline's snapshot (another core) into this one.
    pub fn add(&mut self, other: &Snapshot) {
        self.total.add(&other.total);
        self.frames_in += other.frames_in;
        self.unattributed.add(&other.unattributed);
        if self.tenants.len() < other.tenants.len() {
            self.tenants.resize(other.tenants.len(), Counts::default());
        }
        for (a, b) in self.tenants.iter_mut().zip(&other.tenants) {
            a.add(b);
        }
        if self.queues.len() < other.queues.len() {
            self.queues
                .resize(other.queues.len(), QueueCounts::default());
        }
        for (a, b) in self.queues.iter_mut().zip(&other.queues) {
            a.enqueued += b.enqueued;
            a.full += b.full;
        }
    }
}

/// Descriptors in flight per tenant between one pipeline (one data-plane core) and the GPU
/// consumers of its queues. Two monotonic counters per tenant, no lock and no atomic
/// read-modify-write on the data plane: the pipeline alone writes `taken` (a plain load and
/// store), the consumers add to `returned` when they are done with descriptors; in flight is
/// `taken − returned`. With several cores, give each its own `InFlight` and its share of the
/// cap (rings are per core and queue, so a consumer knows whose counters to return to).
#[derive(Debug)]
pub struct InFlight {
    taken: Box<[AtomicU64]>,
    returned: Box<[AtomicU64]>,
}

impl InFlight {
    /// Counters for `tenants` tenants, all zero.
    pub fn new(tenants: usize) -> Self {
        Self {
            taken: (0..tenants).map(|_| AtomicU64::new(0)).collect(),
            returned: (0..tenants).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Descriptors of `tenant` in flight now.
    pub fn get(&self, tenant: u32) -> u64 {
        match (
            self.taken.get(tenant as usize),
            self.returned.get(tenant as usize),
        ) {
            (Some(t), Some(r)) => t
                .load(Ordering::Relaxed)
                .saturating_sub(r.load(Ordering::Relaxed)),
            _ => 0,
        }
    }

    /// Takes one slot of `tenant`'s quota `cap` if it has one left (the owning pipeline
    /// only).
    #[inline]
    fn try_acquire(&self, tenant: u32, cap: u32) -> bool {
        match (
            self.taken.get(tenant as usize),
            self.returned.get(tenant as usize),
        ) {
            (Some(t), Some(r)) => {
                let taken = t.load(Ordering::Relaxed);
                if taken.saturating_sub(r.load(Ordering::Relaxed)) >= u64::from(cap) {
                    return false;
                }
                t.store(taken + 1, Ordering::Relaxed);
                true
            }
            _ => false,
        }
    }

    /// Takes back a slot taken for a descriptor the queue refused (the owning pipeline only).
    #[inline]
    fn untake(&self, tenant: u32) {
        if let Some(t) = self.taken.get(tenant as usize) {
            t.store(
                t.load(Ordering::Relaxed).saturating_sub(1),
                Ordering::Relaxed,
            );
        }
    }

    /// Gives back `n` of `tenant`'s descriptors: a consumer finished them. Call it once per
    /// batch and tenant where possible.
    ///
    /// Never gives back more than was taken: a release that matches no acquire (a consumer's
    /// bug, a descriptor returned twice, a forged tenant id in a descriptor) is cut to what is
    /// in flight, so it can never grant a tenant quota beyond its cap. The consumer read the
    /// descriptors it returns after the producer published them (an acquire load of the
    /// ring's index that the producer's release store of it precedes), so `taken` as loaded
    /// here already counts them. A compare-and-swap loop on the consumer's side only; the data
    /// plane's side stays a plain load and store.
    #[inline]
    pub fn release(&self, tenant: u32, n: u32) {
        let (Some(t), Some(r)) = (
            self.taken.get(tenant as usize),
            self.returned.get(tenant as usize),
        ) else {
            return;
        };
        let _ = r.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |returned| {
            let taken = t.load(Ordering::Relaxed);
            Some(
                returned
                    .saturating_add(u64::from(n))
                    .min(taken.max(returned)),
            )
        });
    }
}

/// Settings of a [`Pipeline`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PipelineConfig {
    /// Flow table entries (rounded up to a power of two).
    pub flow_capacity: usize,
    /// A flow idle this long may be aged out or evicted, ns.
    pub flow_idle_ns: u64,
    /// Flow table slots swept for idle entries per burst.
    pub age_budget: usize,
    /// A reassembly slot lives this long, ns.
    pub reassembly_lifetime_ns: u64,
    /// Classifier settings.
    pub classify: ClassifyConfig,
    /// How many cores police the same tenants (each gets this share of every rate).
    pub cores: u64,
    /// How many frames ahead of the one it parses the pipeline asks for a frame's first
    /// bytes ([`Frame::prefetch`]; 0: never). Far enough ahead for a line that a NIC wrote to
    /// memory to arrive in time, near enough not to fill the core's outstanding-miss slots
    /// with a whole burst at once (as one prefetch per frame at the start of a burst does).
    /// Frames that are already in the cache (a virtual device's, a replayed capture's) gain
    /// nothing from it and pay a little. A value of at least the burst's length prefetches
    /// the whole burst before parsing any of it.
    pub prefetch_ahead: usize,
    /// The most flow-table entries one tenant may hold, in thousandths of the table (so one
    /// tenant's connections cannot crowd out the others').
    pub tenant_flow_permille: u16,
    /// The most flow-table entries made without a tenant (first flights from senders no
    /// trusted attribute names, gathered because they may carry a tenant's SNI), in
    /// thousandths of the table.
    pub unattributed_flow_permille: u16,
    /// The most reassembly slots one tenant may hold (of [`REASSEMBLY_SLOTS`]).
    pub tenant_reassembly_slots: usize,
    /// The most reassembly slots held by first flights without a tenant (of
    /// [`REASSEMBLY_SLOTS`]).
    pub unattributed_reassembly_slots: usize,
    /// HTTP/2 connections on the GPU path followed stream by stream, each with its own HPACK
    /// table (about 13 KiB each, allocated at setup; at most 65,535). An HTTP/2 connection
    /// that finds none free goes to the host path.
    pub h2_connections: usize,
    /// The most of those one tenant may hold.
    pub tenant_h2_connections: usize,
    /// Check the TCP checksum of every segment whose bytes are classified, followed or
    /// gathered, and of every SYN, FIN and RST, before it changes a flow's state: a segment
    /// the backend would discard (a bad checksum) must not pass a check that its
    /// retransmission, with other bytes, then skips. A bad one is dropped
    /// ([`DropReason::BadChecksum`]); one that cannot be checked here (a chained buffer
    /// without the NIC's verdict, an IPv6 routing header to go) goes to the host. On by
    /// default; off only for captures whose checksums the sender's NIC was to fill in.
    pub verify_checksums: bool,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            flow_capacity: 1 << 16,
            flow_idle_ns: 30_000_000_000,
            age_budget: 2,
            reassembly_lifetime_ns: 2_000_000_000,
            classify: ClassifyConfig::default(),
            cores: 1,
            prefetch_ahead: 4,
            tenant_flow_permille: 500,
            unattributed_flow_permille: 125,
            tenant_reassembly_slots: REASSEMBLY_SLOTS / 4,
            unattributed_reassembly_slots: REASSEMBLY_SLOTS / 4,
            h2_connections: 1024,
            tenant_h2_connections: 512,
            verify_checksums: true,
        }
    }
}

/// Why a pipeline could not be set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PipelineError {
    /// The number of GPU queue producers differs from the steering table's queues.
    QueueCount {
        /// Queues the steering table has.
        expected: usize,
        /// Producers given.
        given: usize,
    },
}

impl fmt::Display for PipelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::QueueCount { expected, given } => write!(
                f,
                "the steering table has {expected} GPU queues but {given} producers were given"
            ),
        }
    }
}

impl core::error::Error for PipelineError {}

/// Slots in the first-flight reassembly pool.
pub const REASSEMBLY_SLOTS: usize = 128;
/// Bytes a reassembly slot holds (a ~2 KB browser ClientHello, or an HTTP head and the start
/// of its body).
pub const REASSEMBLY_BYTES: usize = 4096;

type Reassembly = reassembly::Pool<REASSEMBLY_SLOTS, REASSEMBLY_BYTES>;

/// One data-plane core's pipeline. Build one per core at setup, sharing the immutable
/// policy and steering tables and the in-flight counters.
#[derive(Debug)]
pub struct Pipeline {
    policy: Arc<PolicyTable>,
    steer: Arc<SteerTable>,
    inflight: Arc<InFlight>,
    /// Per tenant: the in-flight cap (copied from the policy for a compact hot-path read).
    caps: Vec<u32>,
    queues: Vec<Producer<Descriptor>>,
    /// The queues with descriptors staged (written into the ring, not yet published) in this
    /// burst; each is committed once at its end.
    touched: [u16; BURST_SIZE],
    touched_len: usize,
    /// Frames of the last [`Pipeline::process_burst`] call sent to a GPU queue.
    burst_to_gpu: usize,
    flows: FlowTable,
    /// Per flow-table slot: what its [`Track`] keeps beside the table.
    streams: Vec<Aside>,
    /// The HTTP/2 followers, one per followed HTTP/2 connection.
    h2: H2Pool,
    policers: PolicerBank,
    classifier: Box<Classifier>,
    reassembly: Box<Reassembly>,
    /// Per reassembly slot index: the id it was opened with and its owner (a tenant's index,
    /// `tenants` for the unattributed share; [`NO_OWNER`] when free as far as we know).
    reassembly_owner: Box<[(u64, u32); REASSEMBLY_SLOTS]>,
    /// Per owner (tenants, then the unattributed share): reassembly slots held.
    reassembly_held: Vec<u32>,
    /// Per owner: the most reassembly slots it may hold.
    reassembly_caps: Vec<u32>,
    /// Opens so far: each reassembly slot is opened under a key of its own (the flow table,
    /// keyed by the whole flow identity, is what finds it again), so no two flows can ever
    /// share, free or feed each other's slot through a colliding key.
    reassembly_opens: u64,
    /// The policer of frames without a tenant.
    unattributed_policer: TenantPolicer,
    /// The pipeline's clock ([`MonoClock`]).
    clock: MonoClock,
    /// The caller's timestamp of the burst being processed (descriptors carry it).
    raw_now: u64,
    config: PipelineConfig,
    // Per-burst scratch.
    summaries: [FrameSummary; BURST_SIZE],
    /// Whether `summaries[i]` holds frame `i`'s full parse (the fast path writes none).
    full: [bool; BURST_SIZE],
    /// Frame `i`'s innermost payload range.
    payloads: [(u16, u16); BURST_SIZE],
    /// Frame `i`'s length in bytes (saturating), read once: the policers' byte count.
    lens: [u32; BURST_SIZE],
    keys: [FlowKey; BURST_SIZE],
    hashes: [u32; BURST_SIZE],
    /// Frame `i`'s TCP sequence number and flags (0 for a frame without TCP).
    seqs: [u32; BURST_SIZE],
    tcp_flags: [u8; BURST_SIZE],
    tenants: [Option<TenantId>; BURST_SIZE],
    // Counters.
    frames_in: u64,
    per_tenant: Vec<Counts>,
    unattributed: Counts,
    per_queue: Vec<QueueCounts>,
}

/// What a flow's [`Track`] keeps beside the flow table, out of the entry the express lane
/// reads (each part meaningful only while the entry has a track of its kind).
#[derive(Clone, Copy, Debug, Default)]
struct Aside {
    /// [`Track::Chunked`]'s chunk state.
    chunked: Chunked,
    /// [`Track::H2`]'s follower.
    conn: u16,
    /// [`Track::Gather`]'s reassembly slot and request start.
    gather: (u64, u32),
}

/// What following a connection's bytes found: where its later requests stand, or a request
/// starting at sequence number `at` whose head (or the body bytes that name its model) is not
/// all in the bytes followed, to be gathered before it is checked.
#[derive(Clone, Copy, Debug)]
enum Found {
    Track(Track),
    Gather { at: u32 },
}

/// What the parse of a frame gave that its descriptor and policing need.
#[derive(Clone, Copy)]
struct Facts {
    /// Frame length in bytes (saturating): the policers' byte count.
    len: u32,
    /// The innermost payload range.
    payload: (u16, u16),
    /// The flow hash (the NIC's RSS hash, else the key's).
    hash: u32,
    /// TCP sequence number and flags.
    seq: u32,
    flags: u8,
}

impl Facts {
    /// The sequence number just past the segment's payload.
    #[inline(always)]
    fn seq_end(&self) -> u32 {
        let (start, end) = self.payload;
        self.seq.wrapping_add(u32::from(end.saturating_sub(start)))
    }
}

/// TCP flags the pipeline reads.
const TCP_FIN: u8 = 0x01;
const TCP_SYN: u8 = 0x02;
const TCP_RST: u8 = 0x04;
const TCP_ACK: u8 = 0x10;

/// Where a frame stands after the parse and lookup stages.
#[derive(Clone, Copy)]
enum Stage {
    /// A verdict is already written (malformed, not IP).
    Done,
    /// Keyed, and not found by the parse stage's lookup (its key in `keys`): the lookup is
    /// made again in order.
    New,
    /// Found by the parse stage's lookup in this flow-table slot: it stands while the table
    /// has not changed since (its key is not in `keys` until [`Pipeline::rekey`]).
    Found(u32),
    /// Never classified and never steered, whatever flow it seems to belong to: an IP
    /// fragment or a datagram that is not TCP (the host path takes it).
    Unclassified,
}

/// The [`Follow`] for a connection of tenant `$t` on GPU queue `$queue` whose entry is in
/// flow-table slot `$flow` ([`NO_FLOW`] before it is inserted), borrowing only the pipeline's
/// fields it needs.
macro_rules! follower {
    ($p:expr, $t:expr, $queue:expr, $flow:expr) => {
        Follow {
            classifier: &mut $p.classifier,
            policy: &$p.policy,
            steer: &$p.steer,
            h2: &mut $p.h2,
            flows: &$p.flows,
            streams: &$p.streams,
            tenant: $t,
            queue: $queue,
            flow: $flow,
        }
    };
}

/// Marks a flow not yet in the table.
const NO_FLOW: u32 = u32::MAX;

/// Marks a reassembly slot index no owner holds.
const NO_OWNER: u32 = u32::MAX;

/// The pipeline's own clock: it starts at the first timestamp and advances by every forward
/// step of the caller's clock, never back. A clock that steps back (an NTP correction, a
/// migrated VM) or that jumped ahead and returned therefore cannot freeze a policer, pin a
/// flow entry or make a reassembly slot immortal: every timeout keeps counting real elapsed
/// time from where it was.
#[derive(Clone, Copy, Debug)]
struct MonoClock {
    last_raw: u64,
    now: u64,
}

impl MonoClock {
    fn new(now: u64) -> Self {
        Self { last_raw: now, now }
    }

    #[inline(always)]
    fn tick(&mut self, raw: u64) -> u64 {
        self.now = self.now.saturating_add(raw.saturating_sub(self.last_raw));
        self.last_raw = raw;
        self.now
    }
}

impl Pipeline {
    /// A pipeline over `policy` and `steer`, enqueueing into `queues` (one producer per GPU
    /// queue of `steer`, in its global order), with in-flight quotas counted in `inflight`.
    ///
    /// # Errors
    ///
    /// [`PipelineError::QueueCount`] when `queues` does not match `steer`.
    pub fn new(
        policy: Arc<PolicyTable>,
        steer: Arc<SteerTable>,
        queues: Vec<Producer<Descriptor>>,
        inflight: Arc<InFlight>,
        config: PipelineConfig,
        now_ns: u64,
    ) -> Result<Self, PipelineError> {
        if queues.len() != steer.queue_count() {
            return Err(PipelineError::QueueCount {
                expected: steer.queue_count(),
                given: queues.len(),
            });
        }
        let tenants = policy.tenant_count();
        let n_queues = queues.len();
        let caps = (0..tenants)
            .map(|t| {
                policy
                    .tenant(TenantId(t as u32))
                    .map_or(0, |p| p.max_in_flight)
            })
            .collect();
        let mut flows = FlowTable::new(config.flow_capacity, config.flow_idle_ns);
        let share = |permille: u16| {
            let n = flows.capacity() as u64 * u64::from(permille.min(1000)) / 1000;
            u32::try_from(n).unwrap_or(u32::MAX)
        };
        let mut flow_caps = alloc::vec![share(config.tenant_flow_permille); tenants];
        flow_caps.push(share(config.unattributed_flow_permille));
        flows.set_caps(flow_caps);
        let slots = |n: usize| u32::try_from(n.min(REASSEMBLY_SLOTS)).unwrap_or(u32::MAX);
        let mut reassembly_caps = alloc::vec![slots(config.tenant_reassembly_slots); tenants];
        reassembly_caps.push(slots(config.unattributed_reassembly_slots));
        Ok(Self {
            policers: PolicerBank::new(&policy, config.cores, now_ns),
            unattributed_policer: TenantPolicer::new(
                policy.unattributed_rate().divided(config.cores),
                now_ns,
            ),
            clock: MonoClock::new(now_ns),
            raw_now: now_ns,
            reassembly_owner: Box::new([(0, NO_OWNER); REASSEMBLY_SLOTS]),
            reassembly_held: alloc::vec![0; tenants + 1],
            reassembly_caps,
            reassembly_opens: 0,
            streams: alloc::vec![Aside::default(); flows.capacity()],
            h2: H2Pool::new(config.h2_connections, tenants, config.tenant_h2_connections),
            flows,
            classifier: Box::new(Classifier::new(config.classify)),
            reassembly: Box::new(Reassembly::new(
                config.reassembly_lifetime_ns,
                0x5eed_f10e ^ now_ns,
            )),
            policy,
            steer,
            inflight,
            caps,
            queues,
            touched: [0; BURST_SIZE],
            touched_len: 0,
            burst_to_gpu: 0,
            config,
            summaries: [FrameSummary::EMPTY; BURST_SIZE],
            full: [false; BURST_SIZE],
            payloads: [(0, 0); BURST_SIZE],
            lens: [0; BURST_SIZE],
            keys: [FlowKey::default(); BURST_SIZE],
            hashes: [0; BURST_SIZE],
            seqs: [0; BURST_SIZE],
            tcp_flags: [0; BURST_SIZE],
            tenants: [None; BURST_SIZE],
            frames_in: 0,
            per_tenant: alloc::vec![Counts::default(); tenants],
            unattributed: Counts::default(),
            per_queue: alloc::vec![QueueCounts::default(); n_queues],
        })
    }

    /// The policy tables.
    pub fn policy(&self) -> &PolicyTable {
        &self.policy
    }

    /// The steering tables.
    pub fn steer(&self) -> &SteerTable {
        &self.steer
    }

    /// Slots in the flow table (the configured capacity rounded up to a power of two).
    pub fn flow_capacity(&self) -> usize {
        self.flows.capacity()
    }

    /// A copy of every counter.
    pub fn snapshot(&self) -> Snapshot {
        // The total is the sum of the per-tenant and unattributed counters (each frame is
        // counted in exactly one of them); `frames_in` is counted apart, per frame.
        let mut total = self.unattributed;
        for t in &self.per_tenant {
            total.add(t);
        }
        Snapshot {
            total,
            frames_in: self.frames_in,
            tenants: self.per_tenant.clone(),
            unattributed: self.unattributed,
            queues: self.per_queue.clone(),
            flows: self.flows.stats(),
            reassembly: self.reassembly.stats(),
        }
    }

    /// How many frames of the last [`Pipeline::process_burst`] call went to GPU queues (their
    /// verdict is [`Verdict::Gpu`]): a caller that finds it equal to the frames processed
    /// need not look at the verdicts one by one.
    #[inline]
    pub fn last_burst_to_gpu(&self) -> usize {
        self.burst_to_gpu
    }

    /// Processes up to [`BURST_SIZE`] frames (the shorter of `frames` and `verdicts`, capped
    /// at the burst size) received at `now_ns` (one timestamp for the whole burst): writes one
    /// verdict per frame and returns how many frames were processed.
    pub fn process_burst<F: Frame>(
        &mut self,
        frames: &[F],
        now_ns: u64,
        verdicts: &mut [Verdict],
    ) -> usize {
        self.burst_to_gpu = 0;
        // Descriptors carry the caller's time (their consumer compares it with the same
        // clock); every timeout and policer runs on the monotonic clock.
        self.raw_now = now_ns;
        let now_ns = self.clock.tick(now_ns);
        let n = frames.len().min(verdicts.len()).min(BURST_SIZE);
        let (frames, verdicts) = match (frames.get(..n), verdicts.get_mut(..n)) {
            (Some(f), Some(v)) => (f, v),
            _ => return 0,
        };

        // Staging starts empty: descriptors a burst staged but never committed (one that
        // panicked half-way and was caught) are discarded, never published for frames whose
        // verdicts were never delivered; their in-flight quota is given back and their count
        // as GPU-bound frames taken back, so the counters still balance.
        for &q in self.touched.get(..self.touched_len).unwrap_or(&[]) {
            if let Some(producer) = self.queues.get_mut(usize::from(q)) {
                let (inflight, per_tenant, frames_in) =
                    (&self.inflight, &mut self.per_tenant, &mut self.frames_in);
                producer.discard_staged_with(|d| {
                    inflight.untake(d.tenant);
                    if let Some(c) = per_tenant.get_mut(d.tenant as usize) {
                        c.rx = c.rx.saturating_sub(1);
                        c.to_gpu = c.to_gpu.saturating_sub(1);
                        *frames_in = frames_in.saturating_sub(1);
                    }
                });
            }
        }
        self.touched_len = 0;
        self.general(frames, now_ns, verdicts);

        // Publish each touched queue's staged descriptors, one index store per queue.
        for &q in self.touched.get(..self.touched_len).unwrap_or(&[]) {
            let q = usize::from(q);
            if let (Some(producer), Some(qc)) = (self.queues.get_mut(q), self.per_queue.get_mut(q))
            {
                qc.enqueued += producer.commit() as u64;
            }
        }
        self.touched_len = 0;

        // Housekeeping, a little per burst.
        self.flows.age(now_ns, self.config.age_budget);
        if self.reassembly.age(now_ns) > 0 {
            self.reconcile_reassembly();
        }
        n
    }

    /// Forgets the owners of reassembly slots the pool has expired.
    #[cold]
    fn reconcile_reassembly(&mut self) {
        for (bits, owner) in self.reassembly_owner.iter_mut() {
            if *owner != NO_OWNER && self.reassembly.bytes(SlotId::from_bits(*bits)).is_err() {
                if let Some(h) = self.reassembly_held.get_mut(*owner as usize) {
                    *h = h.saturating_sub(1);
                }
                *owner = NO_OWNER;
            }
        }
    }

    /// The owner index of `tenant` (the unattributed share for `None`).
    fn owner_of(&self, tenant: Option<TenantId>) -> u32 {
        let last = self.per_tenant.len() as u32;
        match tenant {
            Some(t) if t.0 < last => t.0,
            _ => last,
        }
    }

    /// Opens a reassembly slot for a first flight of `tenant` whose first byte is `seq`,
    /// within its owner's cap.
    fn open_reassembly(
        &mut self,
        tenant: Option<TenantId>,
        seq: u32,
        now_ns: u64,
    ) -> Result<SlotId, DropReason> {
        let owner = self.owner_of(tenant);
        let held = self
            .reassembly_held
            .get(owner as usize)
            .copied()
            .unwrap_or(0);
        let cap = self
            .reassembly_caps
            .get(owner as usize)
            .copied()
            .unwrap_or(0);
        if held >= cap {
            return Err(DropReason::ReassemblyCap);
        }
        self.reassembly_opens = self.reassembly_opens.wrapping_add(1);
        let slot = self
            .reassembly
            .open(self.reassembly_opens, seq, now_ns)
            .map_err(|_| DropReason::Reassembly)?;
        if let Some(o) = self.reassembly_owner.get_mut(slot.index()) {
            *o = (slot.to_bits(), owner);
        }
        if let Some(h) = self.reassembly_held.get_mut(owner as usize) {
            *h = h.saturating_add(1);
        }
        Ok(slot)
    }

    /// Releases a reassembly slot and its owner's count.
    fn release_reassembly(&mut self, slot: SlotId) {
        if self.reassembly.release(slot).is_ok() {
            if let Some(o) = self.reassembly_owner.get_mut(slot.index()) {
                if o.0 == slot.to_bits() && o.1 != NO_OWNER {
                    if let Some(h) = self.reassembly_held.get_mut(o.1 as usize) {
                        *h = h.saturating_sub(1);
                    }
                    o.1 = NO_OWNER;
                }
            }
        }
    }

    /// Polices a frame no tenant is known for against the unattributed share: `true` when
    /// it may go on.
    #[inline]
    fn unattributed_ok(&mut self, i: usize, now_ns: u64) -> bool {
        let len = u64::from(self.lens.get(i).copied().unwrap_or(0));
        self.unattributed_policer.police(len, now_ns) != Color::Red
    }

    /// The stages of a burst (at most [`BURST_SIZE`] frames, as many as `verdicts`): parse,
    /// look up, decide, count.
    #[inline(always)]
    fn general<F: Frame>(&mut self, frames: &[F], now_ns: u64, verdicts: &mut [Verdict]) {
        let n = frames.len().min(verdicts.len()).min(BURST_SIZE);
        let (frames, verdicts) = match (frames.get(..n), verdicts.get_mut(..n)) {
            (Some(f), Some(v)) => (f, v),
            _ => return,
        };

        // 1. Parse, and the flow key and hash of every frame (zipped iterators: no index
        // checks in the loop).
        let mut stage: [Stage; BURST_SIZE] = [const { Stage::Done }; BURST_SIZE];
        let flows = &self.flows;
        // Prefetching: the first `prefetch_ahead` frames now, then one that far ahead of
        // each frame parsed.
        let ahead_by = self.config.prefetch_ahead;
        for f in frames.iter().take(ahead_by) {
            f.prefetch();
        }
        let empty: &[F] = &[];
        let mut ahead = match ahead_by {
            0 => empty.iter(),
            k => frames.get(k..).unwrap_or(empty).iter(),
        };
        let per_frame = frames
            .iter()
            .zip(self.summaries.iter_mut())
            .zip(self.full.iter_mut())
            .zip(self.payloads.iter_mut())
            .zip(verdicts.iter_mut())
            .zip(stage.iter_mut())
            .zip(self.keys.iter_mut())
            .zip(self.hashes.iter_mut())
            .zip(self.tenants.iter_mut())
            .zip(self.lens.iter_mut())
            .zip(self.seqs.iter_mut().zip(self.tcp_flags.iter_mut()));
        for ((((((((((f, summary), full), payload), v), st), key), hash), t), len), (seq, tf)) in
            per_frame
        {
            if let Some(a) = ahead.next() {
                a.prefetch();
            }
            *t = None;
            let bytes = f.bytes();
            *len = u32::try_from(f.wire_len()).unwrap_or(u32::MAX);
            // The commonest shape takes the fast path (no summary written: a new flow gets
            // its full parse later); anything else, and anything malformed, the full parser.
            let (keyed, classifiable) = match wire::fast::parse_plain_tcp(bytes) {
                Some(p) => {
                    *full = false;
                    *payload = (p.payload_offset, p.payload_end);
                    (*seq, *tf) = (p.seq, p.flags);
                    (FlowKey::from_plain_tcp(bytes, &p, f.port()), true)
                }
                None => {
                    *full = true;
                    if wire::parse_frame_into(bytes, summary).is_err() {
                        *v = Verdict::Drop(DropReason::Malformed);
                        continue;
                    }
                    *payload = (summary.payload_offset, summary.payload_end);
                    (*seq, *tf) = tcp_seq_flags(bytes, summary);
                    (
                        FlowKey::from_frame_hashed(bytes, summary, f.port()),
                        is_tcp(summary) && !is_fragment(summary),
                    )
                }
            };
            let Some((k, h)) = keyed else {
                *v = Verdict::Drop(DropReason::NotIp);
                continue;
            };
            let h = f.rss_hash().unwrap_or(h);
            *hash = h;
            if !classifiable {
                // A fragment, or not TCP: no flow's decision applies to it (a first fragment
                // carries the ports of a flow it may not belong to).
                *key = k;
                *st = Stage::Unclassified;
                continue;
            }
            // Look the flow up now, the key still in registers (the lookups of the whole
            // burst overlap their cache misses); only a key not found is stored, for the
            // lookup in order below.
            *st = match flows.find(&k, h) {
                Some(slot) => Stage::Found(slot as u32),
                None => {
                    *key = k;
                    Stage::New
                }
            };
        }
        let table_as_parsed = self.flows.changes();

        // 2. Per frame, in order: find the flow (now, so that an entry an earlier frame of
        // this burst made, evicted or changed is seen as it is), follow its decision or decide
        // for a new flow, and count the verdict (final here: a full queue refuses at staging)
        // against the frame's tenant.
        let mut hits = 0u64;
        let mut looked = 0u64;
        // (An index loop: with zipped iterators and an early `continue`, the compiler
        // rebuilt the loop's pointers on every frame.)
        for i in 0..n {
            let (Some(f), Some(out)) = (frames.get(i), verdicts.get_mut(i)) else {
                break;
            };
            // `None`: the verdict is already in `out` (malformed, not IP); else the lookup.
            let mut found = None;
            let st = stage.get(i).copied().unwrap_or(Stage::Done);
            if let Stage::Found(slot) = st {
                looked += 1;
                if self.flows.changes() == table_as_parsed {
                    hits += 1;
                    let slot = slot as usize;
                    // The common case, decided and counted in the express lane.
                    if let Some(v) = self.express(self.facts(i), f, slot, now_ns) {
                        *out = v;
                        self.frames_in += 1;
                        continue;
                    }
                    self.rekey(i, f);
                    found = Some(Some(slot));
                } else {
                    // An earlier frame of this burst made or removed an entry: look again.
                    self.rekey(i, f);
                    let slot = match (self.keys.get(i), self.hashes.get(i)) {
                        (Some(k), Some(h)) => self.flows.find(k, *h),
                        _ => None,
                    };
                    hits += u64::from(slot.is_some());
                    found = Some(slot);
                }
            } else if let Stage::Unclassified = st {
                found = Some(None);
            } else if let Stage::New = st {
                looked += 1;
                let slot = match (self.keys.get(i), self.hashes.get(i)) {
                    (Some(k), Some(h)) => self.flows.find(k, *h),
                    _ => None,
                };
                if let Some(slot) = slot {
                    hits += 1;
                    // The common case, decided and counted in the express lane.
                    if let Some(v) = self.express(self.facts(i), f, slot, now_ns) {
                        *out = v;
                        // Counted with its verdict: a burst interrupted by a panic (caught
                        // by the caller) still balances, over the frames it finished.
                        self.frames_in += 1;
                        continue;
                    }
                }
                found = Some(slot);
            }
            self.slow_lane(i, f, found, now_ns, out);
        }
        self.flows.count_lookups(hits, looked - hits);
    }

    /// Writes frame `i`'s flow key into `keys` (the parse stage stores only the keys it did
    /// not find), computed again the same way from the frame.
    #[cold]
    fn rekey<F: Frame + ?Sized>(&mut self, i: usize, f: &F) {
        let bytes = f.bytes();
        let key = match (self.full.get(i), self.summaries.get(i)) {
            (Some(true), Some(summary)) => FlowKey::from_frame(bytes, summary, f.port()),
            _ => wire::fast::parse_plain_tcp(bytes)
                .and_then(|p| FlowKey::from_plain_tcp(bytes, &p, f.port()))
                .map(|(k, _)| k),
        };
        if let (Some(k), Some(slot)) = (key, self.keys.get_mut(i)) {
            *slot = k;
        }
    }

    /// Every frame the express lane did not take: `found` is `None` for a frame whose verdict
    /// is already in `out` (malformed, not IP), else the lookup's result. Writes and counts
    /// the verdict. Out of line, so that the express lane's loop stays small.
    #[inline(never)]
    fn slow_lane<F: Frame + ?Sized>(
        &mut self,
        i: usize,
        f: &F,
        found: Option<Option<usize>>,
        now_ns: u64,
        out: &mut Verdict,
    ) {
        let v = match found {
            None => *out,
            Some(Some(slot)) => self.established(i, f, slot, now_ns),
            Some(None) => self.new_flow(i, f, now_ns),
        };
        *out = v;
        match self
            .tenants
            .get(i)
            .copied()
            .flatten()
            .and_then(|t| self.per_tenant.get_mut(t.0 as usize))
        {
            Some(c) => c.count(&v),
            None => self.unattributed.count(&v),
        }
        // Counted with its verdict: a burst interrupted by a panic (caught by the caller)
        // still balances, over the frames it finished.
        self.frames_in += 1;
    }

    /// The express lane: a packet of an established flow of a known tenant steered to a GPU
    /// queue, its fields read straight from the flow entry, policed, sent and counted here.
    /// `None` (nothing done) for any other flow: [`Self::established`] takes it.
    #[inline(always)]
    fn express<F: Frame + ?Sized>(
        &mut self,
        facts: Facts,
        f: &F,
        slot: usize,
        now_ns: u64,
    ) -> Option<Verdict> {
        let entry = self.flows.entry_mut(slot)?;
        let (
            Some(t),
            FlowDecision::Gpu {
                queue,
                model,
                session,
                flags,
                ..
            },
        ) = (entry.tenant, entry.decision)
        else {
            return None;
        };
        // A body segment of a connection whose current message has a known end costs one
        // sequence comparison; a segment that reaches past it (the next request), a SYN, FIN
        // or RST, and connections followed frame by frame take the slow lane.
        if facts.flags & (TCP_SYN | TCP_FIN | TCP_RST) != 0 {
            return None;
        }
        match entry.track.kind {
            TrackKind::None => {}
            TrackKind::Http1 if !seq_lt(entry.track.next, facts.seq_end()) => {}
            _ => return None,
        }
        // A segment holding bytes that went to the host is not the GPU queue's.
        if entry.host.len != 0
            && entry
                .host
                .overlaps(facts.seq, facts.seq_end().wrapping_sub(facts.seq))
        {
            return None;
        }
        entry.last_ns = now_ns;
        entry.packets += 1;
        let v = if self.policers.police(t, u64::from(facts.len), now_ns) == Color::Red {
            Verdict::Drop(DropReason::RateLimited)
        } else {
            self.send_to_gpu(facts, f, t, queue, model, session, flags)
        };
        match self.per_tenant.get_mut(t.0 as usize) {
            Some(c) => c.count(&v),
            None => self.unattributed.count(&v),
        }
        Some(v)
    }

    /// A packet of an established flow that the express lane did not take.
    #[inline(always)]
    fn established<F: Frame + ?Sized>(
        &mut self,
        i: usize,
        f: &F,
        slot: usize,
        now_ns: u64,
    ) -> Verdict {
        let Some(entry) = self.flows.entry(slot) else {
            return self.new_flow(i, f, now_ns);
        };
        let tenant = entry.tenant;
        let decision = entry.decision;
        let tag = entry.track;
        let host = entry.host;
        let facts = self.facts(i);
        let facts_flags = facts.flags;
        let has_payload = facts.payload.1 > facts.payload.0;
        let to_host = host.overlaps(facts.seq, facts.seq_end().wrapping_sub(facts.seq));
        // A segment that changes the flow's state (ends or restarts it, is classified,
        // gathered or followed) must be one the backend takes: its checksum is checked first.
        let changes_state = facts_flags & (TCP_SYN | TCP_FIN | TCP_RST) != 0
            || match decision {
                FlowDecision::Reassembling { .. } | FlowDecision::Opening { .. } => has_payload,
                FlowDecision::Gpu { .. } => has_payload && !to_host && tag.kind != TrackKind::None,
                _ => false,
            };
        if let Some(t) = self.tenants.get_mut(i) {
            *t = tenant;
        }
        if changes_state {
            match self.checksum_of(i, f) {
                L4Checksum::Good => {}
                L4Checksum::Bad => return Verdict::Drop(DropReason::BadChecksum),
                // Not checkable here: the flow's bytes cannot be followed past it, so the
                // connection goes to the host path (never on unchecked).
                L4Checksum::Unverifiable => {
                    if matches!(decision, FlowDecision::Gpu { .. }) && has_payload {
                        self.untrack(slot);
                        if let Some(e) = self.flows.entry_mut(slot) {
                            e.decision = FlowDecision::Host;
                        }
                    }
                    return self.apply(i, f, tenant, FlowDecision::Host, false, now_ns);
                }
            }
        }
        if facts_flags & TCP_SYN != 0 {
            // A new connection on a 5-tuple whose entry is still here: the old one is over.
            self.retire(slot);
            return self.new_flow(i, f, now_ns);
        }
        if let Some(entry) = self.flows.entry_mut(slot) {
            entry.last_ns = now_ns;
            entry.packets += 1;
        }
        let v = match decision {
            FlowDecision::Reassembling { slot: rs } => {
                self.continue_first_flight(i, f, slot, rs, now_ns)
            }
            FlowDecision::Opening { next } => self.after_syn(i, f, slot, tenant, next, now_ns),
            // Bytes at sequence numbers that went to the host (a retransmission, or a forged
            // one with other bytes): never the GPU queue's.
            FlowDecision::Gpu { .. } if to_host => {
                self.apply(i, f, tenant, FlowDecision::Host, false, now_ns)
            }
            FlowDecision::Gpu { .. } if tag.kind != TrackKind::None => {
                let a = self.streams.get(slot).copied().unwrap_or_default();
                let track = Track::from_parts(tag, a.chunked, a.conn, a.gather);
                self.follow(i, f, slot, tenant, decision, track, now_ns)
            }
            d => self.apply(i, f, tenant, d, false, now_ns),
        };
        if facts_flags & (TCP_FIN | TCP_RST) != 0 {
            // The connection ends: its entry goes, so a 5-tuple reused later is a new flow.
            self.retire(slot);
        }
        v
    }

    /// What frame `i`'s TCP checksum says ([`PipelineConfig::verify_checksums`]): the NIC's
    /// verdict for a frame without a tunnel when it gave one, else checked here.
    #[cold]
    fn checksum_of<F: Frame + ?Sized>(&mut self, i: usize, f: &F) -> L4Checksum {
        if !self.config.verify_checksums {
            return L4Checksum::Good;
        }
        let Some(summary) = self.ensure_full(i, f) else {
            return L4Checksum::Unverifiable;
        };
        match (summary.tunnel, f.l4_checksum_ok()) {
            (None, Some(true)) => L4Checksum::Good,
            (None, Some(false)) => L4Checksum::Bad,
            _ => wire::tcp_checksum(f.bytes(), &summary),
        }
    }

    /// A segment of a connection whose SYN was seen and whose first flight has not come: the
    /// first flight must start right after the SYN. Handshake segments go to the host; a first
    /// flight at the right place is classified as a new flow's; one anywhere else (injected,
    /// or after a lost segment) is held back.
    fn after_syn<F: Frame + ?Sized>(
        &mut self,
        i: usize,
        f: &F,
        slot: usize,
        tenant: Option<TenantId>,
        next: u32,
        now_ns: u64,
    ) -> Verdict {
        let facts = self.facts(i);
        let (start, end) = facts.payload;
        if end <= start {
            return self.apply(i, f, tenant, FlowDecision::Host, false, now_ns);
        }
        if facts.seq != next {
            return Verdict::Drop(DropReason::Reassembly);
        }
        self.flows.remove(slot);
        self.new_flow(i, f, now_ns)
    }

    /// Records `track` for the entry in flow-table slot `slot`.
    fn store_track(&mut self, slot: usize, track: Track) {
        if let Some(e) = self.flows.entry_mut(slot) {
            e.track = track.tag();
        }
        if let Some(s) = self.streams.get_mut(slot) {
            match track {
                Track::Chunked { state, .. } => s.chunked = state,
                Track::H2 { conn, .. } => s.conn = conn,
                Track::Gather { slot, from, .. } => s.gather = (slot, from),
                Track::None | Track::Http1 { .. } => {}
            }
        }
    }

    /// Removes a flow's entry (and a reassembly slot or HTTP/2 follower it still holds).
    fn retire(&mut self, slot: usize) {
        if let Some(FlowDecision::Reassembling { slot: rs }) =
            self.flows.entry(slot).map(|e| e.decision)
        {
            self.release_reassembly(SlotId::from_bits(rs));
        }
        self.untrack(slot);
        self.flows.remove(slot);
    }

    /// Stops following the entry in flow-table slot `slot`: its track ends, and an HTTP/2
    /// follower or a reassembly slot it holds goes back to its pool.
    fn untrack(&mut self, slot: usize) {
        let Some(e) = self.flows.entry_mut(slot) else {
            return;
        };
        let kind = e.track.kind;
        e.track = TrackTag::NONE;
        let Some(a) = self.streams.get(slot).copied() else {
            return;
        };
        match kind {
            TrackKind::H2 => self.h2.release(a.conn),
            TrackKind::Gather => self.release_reassembly(SlotId::from_bits(a.gather.0)),
            TrackKind::None | TrackKind::Http1 | TrackKind::Chunked => {}
        }
    }

    /// Records that the bytes of the connection in flow-table slot `slot` from sequence number
    /// `lo` to `end` went to the host, never to its GPU queue ([`HostRange`]). `Err(Host)`
    /// when its range would grow past [`crate::steer::MAX_HOST_RANGE`]: the connection then
    /// goes to the host path.
    fn hold_for_host(&mut self, slot: usize, lo: u32, end: u32) -> Result<(), FlowDecision> {
        let Some(e) = self.flows.entry_mut(slot) else {
            return Ok(());
        };
        if !seq_lt(lo, end) {
            return Ok(());
        }
        match e.host.cover(lo, end) {
            Some(r) => {
                e.host = r;
                Ok(())
            }
            None => Err(FlowDecision::Host),
        }
    }

    /// A segment of a connection whose later requests are followed (`track`): body bytes
    /// follow the flow's decision; a segment that starts a request has it checked first.
    #[allow(clippy::too_many_arguments)]
    fn follow<F: Frame + ?Sized>(
        &mut self,
        i: usize,
        f: &F,
        slot: usize,
        tenant: Option<TenantId>,
        decision: FlowDecision,
        track: Track,
        now_ns: u64,
    ) -> Verdict {
        let facts = self.facts(i);
        let bytes = f.bytes();
        let (start, end) = facts.payload;
        let payload = bytes
            .get(usize::from(start)..usize::from(end.max(start)))
            .unwrap_or(&[]);
        let seq_end = facts.seq_end();
        let next = match track {
            Track::None => return self.apply(i, f, tenant, decision, false, now_ns),
            Track::Http1 { next }
            | Track::Chunked { next, .. }
            | Track::H2 { next, .. }
            | Track::Gather { next, .. } => next,
        };
        if payload.is_empty() || !seq_lt(next, seq_end) {
            // No new bytes past what was followed (a retransmission, a pure ACK). A
            // retransmission of bytes being gathered is compared with them (other bytes: an
            // evasion, the connection is dropped) and goes where they went: to the host.
            if let Track::Gather { slot: rs, .. } = track {
                let rs = SlotId::from_bits(rs);
                if !payload.is_empty() {
                    let held = self
                        .reassembly
                        .bytes(rs)
                        .map(|b| b.len() as u32)
                        .unwrap_or(0);
                    let isn = self
                        .reassembly
                        .next_seq(rs)
                        .unwrap_or(next)
                        .wrapping_sub(held);
                    if seq_lt(isn, seq_end) {
                        if let Err(Outcome::Conflict) = self.reassembly.push(rs, facts.seq, payload)
                        {
                            self.untrack(slot);
                            let d = FlowDecision::Drop(DropReason::Reassembly);
                            if let Some(e) = self.flows.entry_mut(slot) {
                                e.decision = d;
                            }
                            return self.apply(i, f, tenant, d, false, now_ns);
                        }
                        return self.apply(i, f, tenant, FlowDecision::Host, false, now_ns);
                    }
                }
            }
            return self.apply(i, f, tenant, decision, false, now_ns);
        }
        if seq_lt(next, facts.seq) {
            // A hole before this segment: the bytes between hold the next request's start (or
            // framing), which has not been seen. The sender retransmits; nothing unchecked
            // passes meanwhile.
            return Verdict::Drop(DropReason::Reassembly);
        }
        let off = next.wrapping_sub(facts.seq) as usize;
        let new = payload.get(off..).unwrap_or(&[]);
        let FlowDecision::Gpu { queue, .. } = decision else {
            return self.apply(i, f, tenant, decision, false, now_ns);
        };
        // Where the bytes being gathered start: those before this segment went to the host.
        let gathered_from = match track {
            Track::Gather { slot: rs, .. } => {
                let rs = SlotId::from_bits(rs);
                let held = self.reassembly.bytes(rs).map_or(0, |b| b.len() as u32);
                self.reassembly
                    .next_seq(rs)
                    .ok()
                    .map(|end| end.wrapping_sub(held))
            }
            _ => None,
        };
        let outcome = match (tenant, track) {
            (None, _) => Err(FlowDecision::Drop(DropReason::UnknownTenant)),
            // The whole segment, so that bytes it repeats are compared with those gathered.
            (Some(t), Track::Gather { slot: rs, from, .. }) => self.gather_more(
                t,
                queue,
                slot,
                SlotId::from_bits(rs),
                from,
                payload,
                facts.seq,
            ),
            (Some(t), _) => {
                let mut fw = follower!(self, t, queue, slot as u32);
                let found = match track {
                    Track::H2 { conn, .. } => fw.h2(conn, new).map(|()| {
                        Found::Track(Track::H2 {
                            next: seq_end,
                            conn,
                        })
                    }),
                    Track::Chunked { mut state, .. } => match state.feed(new) {
                        Ok(None) => Ok(Found::Track(Track::Chunked {
                            next: seq_end,
                            state,
                        })),
                        Ok(Some(k)) => {
                            let at = next.wrapping_add(k as u32);
                            fw.http1(at, new.get(k..).unwrap_or(&[]), false)
                        }
                        Err(_) => Err(FlowDecision::Drop(DropReason::BadRequest)),
                    },
                    _ => fw.http1(next, new, false),
                };
                found.and_then(|found| self.track_from(found, t, next, new, now_ns))
            }
        };
        // A gather that ends here leaves the bytes before this segment on the host.
        let outcome = match (outcome, gathered_from) {
            (Ok(done), Some(lo)) if !matches!(done, Track::Gather { .. }) => {
                match self.hold_for_host(slot, lo, facts.seq) {
                    Ok(()) => Ok(done),
                    Err(d) => {
                        self.store_track(slot, done);
                        Err(d)
                    }
                }
            }
            (o, _) => o,
        };
        match outcome {
            Ok(track) => {
                self.store_track(slot, track);
                self.apply(
                    i,
                    f,
                    tenant,
                    segment_decision(track, decision),
                    false,
                    now_ns,
                )
            }
            Err(d) => {
                // The connection's decision from here on: a refused request drops the rest
                // of the connection; one its GPU queue's pool cannot serve sends it to the
                // host (a TCP stream never changes GPU queue mid-way).
                self.untrack(slot);
                if let Some(e) = self.flows.entry_mut(slot) {
                    e.decision = d;
                }
                self.apply(i, f, tenant, d, false, now_ns)
            }
        }
    }

    /// The track of a connection of tenant `t` whose bytes `bytes`, from sequence number
    /// `base`, were just followed (`found`): as found, or, for a request at `at` not all in
    /// them, a gather of those bytes (all of them, from `base`, so that a segment repeating
    /// any of them is compared) in a reassembly slot from the tenant's share. None free,
    /// or the tenant at its cap: the host path (never an unchecked pass).
    fn track_from(
        &mut self,
        found: Found,
        t: TenantId,
        base: u32,
        bytes: &[u8],
        now_ns: u64,
    ) -> Result<Track, FlowDecision> {
        let at = match found {
            Found::Track(track) => return Ok(track),
            Found::Gather { at } => at,
        };
        let rs = self
            .open_reassembly(Some(t), base, now_ns)
            .map_err(|_| FlowDecision::Host)?;
        if self.reassembly.push(rs, base, bytes).is_err() {
            // More than a slot holds: the head is longer than the pool gathers.
            self.release_reassembly(rs);
            return Err(FlowDecision::Host);
        }
        Ok(Track::Gather {
            next: base.wrapping_add(bytes.len() as u32),
            slot: rs.to_bits(),
            from: at,
        })
    }

    /// Adds `new` (a segment's payload, from sequence number `next`, at or before the next
    /// byte to gather) to the request
    /// being gathered in reassembly slot `rs` from sequence number `from`, and checks the
    /// request when it is all there. `Ok`: the connection's track (still a gather, or what
    /// follows the checked requests); `Err`: its new decision (a refusal, bytes that
    /// contradict what was gathered, or a request longer than the slot, which goes to the
    /// host path).
    #[allow(clippy::too_many_arguments)]
    fn gather_more(
        &mut self,
        t: TenantId,
        queue: u16,
        flow_slot: usize,
        rs: SlotId,
        from: u32,
        new: &[u8],
        next: u32,
    ) -> Result<Track, FlowDecision> {
        match self.reassembly.push(rs, next, new) {
            Ok(_) => {}
            // Bytes that differ from those gathered (which went to the host) at the same
            // sequence numbers: an evasion attempt.
            // (The caller's `untrack` gives the slot back on every `Err`.)
            Err(Outcome::Conflict) => return Err(FlowDecision::Drop(DropReason::Reassembly)),
            // Longer than the slot, or the slot expired: the host path.
            Err(_) => return Err(FlowDecision::Host),
        }
        let (Ok(held), Ok(held_end)) = (self.reassembly.bytes(rs), self.reassembly.next_seq(rs))
        else {
            return Err(FlowDecision::Host);
        };
        let isn = held_end.wrapping_sub(held.len() as u32);
        let request = held.get(from.wrapping_sub(isn) as usize..).unwrap_or(&[]);
        let found = follower!(self, t, queue, flow_slot as u32).http1(from, request, false);
        match found {
            Ok(Found::Gather { at }) => Ok(Track::Gather {
                next: held_end,
                slot: rs.to_bits(),
                from: at,
            }),
            Ok(Found::Track(track)) => {
                self.release_reassembly(rs);
                Ok(track)
            }
            Err(d) => Err(d),
        }
    }

    /// Carries out a flow's decision for frame `i`: police, quota, stage the descriptor.
    #[inline(always)]
    fn apply<F: Frame + ?Sized>(
        &mut self,
        i: usize,
        f: &F,
        tenant: Option<TenantId>,
        decision: FlowDecision,
        first: bool,
        now_ns: u64,
    ) -> Verdict {
        let len = u64::from(self.lens.get(i).copied().unwrap_or(0));
        if let (
            Some(t),
            FlowDecision::Gpu { .. } | FlowDecision::Terminate(_) | FlowDecision::Host,
        ) = (tenant, decision)
        {
            if self.policers.police(t, len, now_ns) == Color::Red {
                return Verdict::Drop(DropReason::RateLimited);
            }
        }
        match decision {
            FlowDecision::Gpu {
                queue,
                model,
                session,
                flags,
                ..
            } => {
                let Some(t) = tenant else {
                    return Verdict::Drop(DropReason::UnknownTenant);
                };
                let mut flags = flags;
                if first {
                    flags |= DescFlags::FIRST_OF_FLOW;
                }
                self.send_to_gpu(self.facts(i), f, t, queue, model, session, flags)
            }
            FlowDecision::Terminate(h) => Verdict::Terminate(h),
            FlowDecision::Host
            | FlowDecision::Reassembling { .. }
            | FlowDecision::Opening { .. } => Verdict::Host,
            FlowDecision::Drop(r) => Verdict::Drop(r),
        }
    }

    /// Sends frame `i` of tenant `t` (already policed) to GPU queue `queue`: the in-flight
    /// quota, then the descriptor staged straight into the queue's ring.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn send_to_gpu<F: Frame + ?Sized>(
        &mut self,
        facts: Facts,
        f: &F,
        t: TenantId,
        queue: u16,
        model: ModelId,
        session: u64,
        flags: DescFlags,
    ) -> Verdict {
        // The frame's own call first, so that nothing runs between taking the quota and
        // staging the descriptor that could fail.
        let packet = f.handle();
        let cap = self.caps.get(t.0 as usize).copied().unwrap_or(0);
        if !self.inflight.try_acquire(t.0, cap) {
            return Verdict::Drop(DropReason::TenantQuota);
        }
        let (start, end) = facts.payload;
        let range = usize::from(start)..usize::from(end.max(start));
        let flow_hash = u64::from(facts.hash);
        let q = usize::from(queue);
        let Some(producer) = self.queues.get_mut(q) else {
            self.inflight.untake(t.0);
            return Verdict::Drop(DropReason::NoPool);
        };
        let first_of_queue = producer.staged() == 0;
        // Written straight into the ring's next free slot; published at the burst's end.
        let staged = producer.stage(Descriptor {
            packet,
            session,
            flow_hash,
            enqueue_ns: self.raw_now,
            cookie: 0,
            tenant: t.0,
            model: model.0,
            payload_offset: range.start as u32,
            payload_len: range.len() as u32,
            flags,
            queue: u32::from(queue),
        });
        if staged.is_err() {
            // A full queue: the descriptor is refused and its quota given back.
            self.inflight.untake(t.0);
            if let Some(qc) = self.per_queue.get_mut(q) {
                qc.full += 1;
            }
            return Verdict::Drop(DropReason::QueueFull);
        }
        if first_of_queue {
            // At most one entry per queue with staged items, and at most one staged item per
            // frame: `touched` (BURST_SIZE entries) cannot overflow.
            debug_assert!(self.touched_len < self.touched.len());
            if let Some(slot) = self.touched.get_mut(self.touched_len) {
                *slot = queue;
                self.touched_len += 1;
            }
        }
        self.burst_to_gpu += 1;
        Verdict::Gpu { queue }
    }

    /// What the parse stage recorded of frame `i` that its descriptor needs.
    #[inline(always)]
    fn facts(&self, i: usize) -> Facts {
        Facts {
            len: self.lens.get(i).copied().unwrap_or(0),
            payload: self.payloads.get(i).copied().unwrap_or((0, 0)),
            hash: self.hashes.get(i).copied().unwrap_or(0),
            seq: self.seqs.get(i).copied().unwrap_or(0),
            flags: self.tcp_flags.get(i).copied().unwrap_or(0),
        }
    }

    /// Makes sure `summaries[i]` holds frame `i`'s full parse (after the fast path).
    #[inline]
    fn ensure_full<F: Frame + ?Sized>(&mut self, i: usize, f: &F) -> Option<FrameSummary> {
        let (Some(full), Some(summary)) = (self.full.get_mut(i), self.summaries.get_mut(i)) else {
            return None;
        };
        if !*full {
            // The fast path accepted the frame, so the full parser does (tests/wire_props.rs).
            wire::parse_frame_into(f.bytes(), summary).ok()?;
            *full = true;
        }
        Some(*summary)
    }

    /// The first packet seen of a flow (or a frame that is never classified: a fragment, not
    /// TCP).
    fn new_flow<F: Frame + ?Sized>(&mut self, i: usize, f: &F, now_ns: u64) -> Verdict {
        let Some(summary) = self.ensure_full(i, f) else {
            return Verdict::Drop(DropReason::Malformed);
        };
        let bytes = f.bytes();
        // The tenant the trusted attributes name (SNI aside: that needs the ClientHello).
        let trusted = self.policy.trusted(f.port(), bytes, &summary);
        let tenant = self.policy.resolve(&trusted);
        if let Some(slot) = self.tenants.get_mut(i) {
            *slot = tenant;
        }
        if tenant.is_none() && !self.unattributed_ok(i, now_ns) {
            return Verdict::Drop(DropReason::RateLimited);
        }
        if !is_tcp(&summary) || is_fragment(&summary) {
            // Only unfragmented TCP is classified: fragments (whose first piece may carry a
            // request's first bytes and another flow's ports) and datagrams go to the host
            // stack, which reassembles or answers them; none reaches a GPU queue.
            return self.apply(i, f, tenant, FlowDecision::Host, false, now_ns);
        }
        let payload = summary.payload(bytes);
        let flags = self.tcp_flags.get(i).copied().unwrap_or(0);
        if !payload.is_empty() || flags & TCP_SYN != 0 {
            // What is classified, and a SYN that is remembered, must be what the backend
            // takes.
            match self.checksum_of(i, f) {
                L4Checksum::Good => {}
                L4Checksum::Bad => return Verdict::Drop(DropReason::BadChecksum),
                L4Checksum::Unverifiable => {
                    return self.apply(i, f, tenant, FlowDecision::Host, false, now_ns)
                }
            }
        }
        if payload.is_empty() {
            // A handshake or control packet: no request to classify yet. It goes to the host
            // stack (policed when its trusted attributes already name a tenant, else against
            // the unattributed share: a tenant known only by SNI cannot be named before its
            // ClientHello). Nothing reaches a GPU queue this way. A client's SYN of a tenant
            // (not an unattributed sender's: no state for them) is remembered, from the
            // tenant's share of the table, so that the first flight must start right after it.
            if let (Some(_), true) = (tenant, flags & (TCP_SYN | TCP_ACK) == TCP_SYN) {
                let entry = FlowEntry {
                    key: self.keys.get(i).copied().unwrap_or_default(),
                    tenant,
                    decision: FlowDecision::Opening {
                        next: self.seqs.get(i).copied().unwrap_or(0).wrapping_add(1),
                    },
                    last_ns: now_ns,
                    packets: 1,
                    track: TrackTag::NONE,
                    host: HostRange::NONE,
                };
                let hash = self.hashes.get(i).copied().unwrap_or(0);
                if let Err(e) = self.flows.insert(hash, entry, now_ns) {
                    return Verdict::Drop(table_full_reason(e));
                }
            }
            return self.apply(i, f, tenant, FlowDecision::Host, false, now_ns);
        }
        let result = self.classifier.classify(payload);
        match result {
            Err(L7Error::Incomplete) => {
                // Gather the first flight in the reassembly pool. Without a tenant only what
                // may identify one is gathered: the start of a TLS handshake record (its SNI),
                // from the unattributed share. Nothing else an unknown sender sends can ever
                // name a tenant, so it creates no state.
                if tenant.is_none() && payload.first() != Some(&0x16) {
                    return Verdict::Drop(DropReason::UnknownTenant);
                }
                let key = self.keys.get(i).copied().unwrap_or_default();
                let hash = self.hashes.get(i).copied().unwrap_or(0);
                let seq = tcp_seq(bytes, &summary);
                let slot = match self.open_reassembly(tenant, seq, now_ns) {
                    Ok(s) => s,
                    Err(r) => return Verdict::Drop(r),
                };
                if self.reassembly.push(slot, seq, payload).is_err() {
                    self.release_reassembly(slot);
                    return Verdict::Drop(DropReason::Reassembly);
                }
                let entry = FlowEntry {
                    key,
                    tenant,
                    decision: FlowDecision::Reassembling {
                        slot: slot.to_bits(),
                    },
                    last_ns: now_ns,
                    packets: 1,
                    track: TrackTag::NONE,
                    host: HostRange::NONE,
                };
                if let Err(e) = self.flows.insert(hash, entry, now_ns) {
                    self.release_reassembly(slot);
                    return Verdict::Drop(table_full_reason(e));
                }
                match tenant {
                    Some(_) => self.apply(i, f, tenant, FlowDecision::Host, false, now_ns),
                    None => Verdict::Host,
                }
            }
            Err(e) => self.record(i, f, &summary, Err(refusal(e)), now_ns),
            Ok(info) => self.record(i, f, &summary, Ok(&info), now_ns),
        }
    }

    /// A segment of a first flight being gathered.
    fn continue_first_flight<F: Frame + ?Sized>(
        &mut self,
        i: usize,
        f: &F,
        flow_slot: usize,
        rs: u64,
        now_ns: u64,
    ) -> Verdict {
        let Some(summary) = self.ensure_full(i, f) else {
            return Verdict::Drop(DropReason::Malformed);
        };
        let bytes = f.bytes();
        let payload = summary.payload(bytes);
        let tenant = self.tenants.get(i).copied().flatten();
        if tenant.is_none() && !self.unattributed_ok(i, now_ns) {
            return Verdict::Drop(DropReason::RateLimited);
        }
        if payload.is_empty() {
            return self.apply(i, f, tenant, FlowDecision::Host, false, now_ns);
        }
        let slot = SlotId::from_bits(rs);
        let seq = tcp_seq(bytes, &summary);
        let outcome = match self.reassembly.push(slot, seq, payload) {
            Ok(g) if g.added == 0 => None,
            Ok(g) => Some(self.classifier.classify(g.bytes)),
            // Full: classify what the slot holds (the cap is checked below).
            Err(Outcome::TooLong) => Some(match self.reassembly.bytes(slot) {
                Ok(held) => self.classifier.classify(held),
                Err(_) => Err(L7Error::Incomplete),
            }),
            // A hole: the sender retransmits; hand this one to the host meanwhile.
            Err(Outcome::OutOfOrder | Outcome::Conflict) => None,
            Err(_) => {
                // The slot expired or vanished: the first flight cannot be classified.
                self.settle(
                    flow_slot,
                    tenant,
                    FlowDecision::Drop(DropReason::Reassembly),
                );
                return Verdict::Drop(DropReason::Reassembly);
            }
        };
        match outcome {
            None => self.apply(i, f, tenant, FlowDecision::Host, false, now_ns),
            Some(Err(L7Error::Incomplete)) => {
                if self
                    .reassembly
                    .bytes(slot)
                    .is_ok_and(|b| b.len() >= REASSEMBLY_BYTES)
                {
                    // Full and still incomplete: the request is longer than the cap.
                    self.release_reassembly(slot);
                    self.settle(
                        flow_slot,
                        tenant,
                        FlowDecision::Drop(DropReason::Reassembly),
                    );
                    return Verdict::Drop(DropReason::Reassembly);
                }
                self.apply(i, f, tenant, FlowDecision::Host, false, now_ns)
            }
            Some(result) => {
                let info = result.map_err(refusal);
                let (tenant, mut decision) =
                    self.decide(i, f, &summary, info.as_ref().map_err(|r| *r));
                // Where the connection's later requests start, from the gathered flight.
                let mut track = Track::None;
                let mut flight_from = seq;
                if let (Some(t), FlowDecision::Gpu { queue, .. }, Ok(info)) =
                    (tenant, decision, info.as_ref())
                {
                    let flight = self.reassembly.bytes(slot).unwrap_or(&[]);
                    let end = self.reassembly.next_seq(slot).unwrap_or(seq);
                    let isn = end.wrapping_sub(flight.len() as u32);
                    flight_from = isn;
                    let flight = flight.get(..).unwrap_or(&[]);
                    match follower!(self, t, queue, flow_slot as u32).initial(info, isn, flight) {
                        Ok(Found::Track(tr)) => track = tr,
                        // A request after the first not all here: it is gathered on in the
                        // first flight's slot.
                        Ok(Found::Gather { at }) => {
                            track = Track::Gather {
                                next: end,
                                slot: slot.to_bits(),
                                from: at,
                            }
                        }
                        Err(d) => decision = d,
                    }
                }
                if !matches!(track, Track::Gather { .. }) {
                    self.release_reassembly(slot);
                }
                if let Some(t) = self.tenants.get_mut(i) {
                    *t = tenant;
                }
                self.settle(flow_slot, tenant, decision);
                if tenant.is_some() {
                    self.store_track(flow_slot, track);
                    // The flight's segments before this one went to the host.
                    if matches!(decision, FlowDecision::Gpu { .. })
                        && !matches!(track, Track::Gather { .. })
                        && self.hold_for_host(flow_slot, flight_from, seq).is_err()
                    {
                        self.untrack(flow_slot);
                        decision = FlowDecision::Host;
                        self.settle(flow_slot, tenant, decision);
                    }
                }
                self.apply(
                    i,
                    f,
                    tenant,
                    segment_decision(track, decision),
                    true,
                    now_ns,
                )
            }
        }
    }

    /// Records a flow's final decision: in its entry when it has a tenant; a flow that ends
    /// without one keeps no entry (unattributed senders hold no state past identification).
    fn settle(&mut self, flow_slot: usize, tenant: Option<TenantId>, decision: FlowDecision) {
        if tenant.is_none() {
            self.flows.remove(flow_slot);
            return;
        }
        if let Some(e) = self.flows.entry_mut(flow_slot) {
            e.tenant = tenant;
            e.decision = decision;
        }
    }

    /// Decides for a classified first flight (`info` is `None` when it did not parse) and
    /// records the decision in the flow table (only for a flow with a tenant: frames no
    /// tenant is known for create no entry); applies it to frame `i`.
    fn record<F: Frame + ?Sized>(
        &mut self,
        i: usize,
        f: &F,
        summary: &FrameSummary,
        info: Result<&RequestInfo, DropReason>,
        now_ns: u64,
    ) -> Verdict {
        let (tenant, mut decision) = self.decide(i, f, summary, info);
        if let Some(t) = self.tenants.get_mut(i) {
            *t = tenant;
        }
        if tenant.is_some() {
            let mut track = Track::None;
            if let (Some(t), FlowDecision::Gpu { queue, .. }, Ok(info)) = (tenant, decision, info) {
                let flight = summary.payload(f.bytes());
                let isn = self.seqs.get(i).copied().unwrap_or(0);
                match follower!(self, t, queue, NO_FLOW)
                    .initial(info, isn, flight)
                    .and_then(|found| self.track_from(found, t, isn, flight, now_ns))
                {
                    Ok(tr) => track = tr,
                    Err(d) => decision = d,
                }
            }
            let entry = FlowEntry {
                key: self.keys.get(i).copied().unwrap_or_default(),
                tenant,
                decision,
                last_ns: now_ns,
                packets: 1,
                track: TrackTag::NONE,
                host: HostRange::NONE,
            };
            let hash = self.hashes.get(i).copied().unwrap_or(0);
            match self.flows.insert(hash, entry, now_ns) {
                Ok(slot) => {
                    if let Track::H2 { conn, .. } = track {
                        self.h2.bind(conn, slot as u32);
                    }
                    self.store_track(slot, track);
                }
                Err(e) => {
                    match track {
                        Track::H2 { conn, .. } => self.h2.release(conn),
                        Track::Gather { slot, .. } => {
                            self.release_reassembly(SlotId::from_bits(slot));
                        }
                        _ => {}
                    }
                    return Verdict::Drop(table_full_reason(e));
                }
            }
            return self.apply(
                i,
                f,
                tenant,
                segment_decision(track, decision),
                true,
                now_ns,
            );
        }
        self.apply(i, f, tenant, decision, true, now_ns)
    }

    /// Tenant, policy, TLS hint and GPU queue for a classified request.
    fn decide<F: Frame + ?Sized>(
        &self,
        i: usize,
        f: &F,
        summary: &FrameSummary,
        info: Result<&RequestInfo, DropReason>,
    ) -> (Option<TenantId>, FlowDecision) {
        let trusted = self.policy.trusted(f.port(), f.bytes(), summary);
        let base = self.policy.resolve(&trusted);
        let info = match info {
            Ok(info) => info,
            Err(reason) => return (base, FlowDecision::Drop(reason)),
        };
        // An SNI that names another tenant than the network's attributes do is a spoof, in
        // whatever order the attributes are tried.
        if self.policy.uses(Attribute::Sni) {
            if let (Some(b), Some(s)) = (base, self.policy.sni_tenant(info)) {
                if b != s {
                    return (Some(b), FlowDecision::Drop(DropReason::SpoofedSni));
                }
            }
        }
        let trusted = trusted.with_request(info);
        let Some(tenant) = self.policy.resolve(&trusted) else {
            return (None, FlowDecision::Drop(DropReason::UnknownTenant));
        };
        let adm = match self.policy.admit(tenant, info) {
            Ok(a) => a,
            Err(r) => return (Some(tenant), FlowDecision::Drop(r)),
        };
        let decision = match adm.hint {
            TlsHint::TerminateDpu | TlsHint::TerminateHost => FlowDecision::Terminate(adm.hint),
            TlsHint::Plaintext | TlsHint::PassThrough => match adm.model {
                None => FlowDecision::Host,
                Some(model) => {
                    let hash = u64::from(self.hashes.get(i).copied().unwrap_or(0));
                    // The steering key: the session id, else the body-prefix hash (requests
                    // sharing a prompt prefix share a KV cache), else the flow.
                    let session = if !info.session.is_empty() {
                        fnv1a(info.session.as_bytes())
                    } else {
                        info.prefix_hash.unwrap_or(hash)
                    };
                    let queues = &self.queues;
                    let depth = |q: usize| queues.get(q).map_or(usize::MAX, Producer::len);
                    match self.steer.choose(model, adm.pools, session, depth) {
                        Ok(queue) => FlowDecision::Gpu {
                            queue,
                            model,
                            session,
                            priority: adm.priority,
                            flags: flags_of(info, summary, adm.hint),
                        },
                        Err(NoQueue::NoPool) => FlowDecision::Drop(DropReason::NoPool),
                    }
                }
            },
        };
        (Some(tenant), decision)
    }
}

fn is_tcp(s: &FrameSummary) -> bool {
    s.innermost().l4.is_some_and(|l| l.kind == L4Kind::Tcp)
}

/// Whether any IP layer of the frame (outer or inner) is a fragment.
fn is_fragment(s: &FrameSummary) -> bool {
    s.outer.fragment != Fragment::None || s.inner.is_some_and(|l| l.fragment != Fragment::None)
}

/// What following a connection's later requests needs of the pipeline, for a connection of
/// `tenant` on GPU queue `queue` whose entry is in flow-table slot `flow` ([`follower!`]).
struct Follow<'a> {
    classifier: &'a mut Classifier,
    policy: &'a PolicyTable,
    steer: &'a SteerTable,
    h2: &'a mut H2Pool,
    flows: &'a FlowTable,
    streams: &'a [Aside],
    tenant: TenantId,
    queue: u16,
    flow: u32,
}

/// What a segment whose connection's track is now `track` follows: a segment that holds bytes
/// of a request not yet checked (a gather) goes to the host, as the leading segments of a first
/// flight do; any other follows the connection's `decision`.
fn segment_decision(track: Track, decision: FlowDecision) -> FlowDecision {
    match track {
        Track::Gather { .. } => FlowDecision::Host,
        _ => decision,
    }
}

/// Whether a later request `info` of `tenant`'s connection on GPU queue `queue` may go on:
/// `Err` is the connection's new decision, a drop for a request the tenant may not make, the
/// host path for one the queue's pool does not serve.
fn check_later(
    policy: &PolicyTable,
    steer: &SteerTable,
    tenant: TenantId,
    queue: u16,
    info: &RequestInfo,
) -> Result<(), FlowDecision> {
    let adm = policy.admit(tenant, info).map_err(FlowDecision::Drop)?;
    match adm.model {
        Some(m) if adm.hint == TlsHint::Plaintext && steer.serves(queue, m, adm.pools) => Ok(()),
        _ => Err(FlowDecision::Host),
    }
}

impl Follow<'_> {
    /// The track of a connection whose first flight (`flight`, starting at sequence number
    /// `isn`) was just decided for the GPU queue: where its later requests start, after
    /// checking any that the flight already holds. `Err`: the connection's decision changes.
    fn initial(
        &mut self,
        info: &RequestInfo,
        isn: u32,
        flight: &[u8],
    ) -> Result<Found, FlowDecision> {
        match info.kind {
            RequestKind::Http1 => self.http1(isn, flight, true),
            RequestKind::H2 | RequestKind::Grpc => {
                let skip = crate::l7::h2::PREFACE.len();
                let frames = flight.get(skip..).unwrap_or(&[]);
                self.h2_start(isn.wrapping_add(flight.len() as u32), frames, true, 0)
                    .map(Found::Track)
            }
            // Encrypted passthrough: the requests inside cannot be read here.
            RequestKind::Tls | RequestKind::Unknown => Ok(Found::Track(Track::None)),
        }
    }

    /// Checks the HTTP/1.1 requests that start at sequence number `at` with `bytes` (a
    /// keep-alive request, or pipelined ones) and returns where the last message ends.
    /// `first_decided`: the first request of `bytes` is the first flight, already decided
    /// (only its length is read). `Err` is the connection's new decision: a drop for a request
    /// the tenant may not make, the host path for one the queue's pool does not serve or whose
    /// head is longer than the classifier reads, never an unchecked pass. A request whose head
    /// (or the body bytes that name its model) is not all in `bytes` is [`Found::Gather`].
    fn http1(
        &mut self,
        mut at: u32,
        mut bytes: &[u8],
        mut first_decided: bool,
    ) -> Result<Found, FlowDecision> {
        let cfg = *self.classifier.config();
        // Each round consumes a request head (at least one byte): bounded by the bytes.
        while !bytes.is_empty() {
            // HTTP/2 after an `Upgrade: h2c` request (RFC 7540 §3.2): the upgraded request
            // was stream 1 and was checked as HTTP/1.1; the frames after the preface are
            // followed as HTTP/2's, from stream 3 on.
            let preface = crate::l7::h2::PREFACE;
            if let Some(frames) = bytes.strip_prefix(preface) {
                return self
                    .h2_start(at.wrapping_add(bytes.len() as u32), frames, false, 1)
                    .map(Found::Track);
            }
            if preface.starts_with(bytes) {
                // A preface cut by the segment's end.
                return Ok(Found::Gather { at });
            }
            let req = match http1::parse_request(bytes, &cfg.headers, cfg.max_head) {
                Ok(r) => r,
                Err(Http1Error::Incomplete) => return Ok(Found::Gather { at }),
                Err(Http1Error::TooLong) => return Err(FlowDecision::Host),
                Err(Http1Error::Ambiguous(_)) => {
                    return Err(FlowDecision::Drop(DropReason::AmbiguousRequest))
                }
                Err(_) => return Err(FlowDecision::Drop(DropReason::BadRequest)),
            };
            if !first_decided {
                let info = match self.classifier.classify(bytes) {
                    Ok(info) if info.kind == RequestKind::Http1 => info,
                    Ok(_) => return Err(FlowDecision::Drop(DropReason::BadRequest)),
                    // The model is only in a body not all here.
                    Err(L7Error::Incomplete) => return Ok(Found::Gather { at }),
                    Err(e) => return Err(FlowDecision::Drop(refusal(e))),
                };
                check_later(self.policy, self.steer, self.tenant, self.queue, &info)?;
            }
            first_decided = false;
            let head = req.head_len;
            let body = bytes.get(head..).unwrap_or(&[]);
            if req.transfer_encoding.is_some() {
                let mut state = Chunked::START;
                match state.feed(body) {
                    Ok(Some(k)) => {
                        let used = head.saturating_add(k);
                        at = at.wrapping_add(used as u32);
                        bytes = bytes.get(used..).unwrap_or(&[]);
                    }
                    Ok(None) => {
                        return Ok(Found::Track(Track::Chunked {
                            next: at.wrapping_add(bytes.len() as u32),
                            state,
                        }))
                    }
                    Err(_) => return Err(FlowDecision::Drop(DropReason::BadRequest)),
                }
            } else {
                let len = req.content_length.unwrap_or(0);
                let total = (head as u64).saturating_add(len);
                if total > bytes.len() as u64 {
                    // Message bodies beyond 4 GiB would wrap the sequence space: refused.
                    let total = u32::try_from(total)
                        .map_err(|_| FlowDecision::Drop(DropReason::BadRequest))?;
                    return Ok(Found::Track(Track::Http1 {
                        next: at.wrapping_add(total),
                    }));
                }
                at = at.wrapping_add(total as u32);
                bytes = bytes.get(total as usize..).unwrap_or(&[]);
            }
        }
        Ok(Found::Track(Track::Http1 { next: at }))
    }

    /// Starts following an HTTP/2 connection whose frames begin with `frames` (which end
    /// just before sequence number `next`): takes a follower from the pool (none free, or
    /// the tenant at its cap: the host path) and feeds it. `first_decided` and `max_stream`
    /// as for [`crate::l7::h2conn::H2Conn::start`].
    fn h2_start(
        &mut self,
        next: u32,
        frames: &[u8],
        first_decided: bool,
        max_stream: u32,
    ) -> Result<Track, FlowDecision> {
        let (flows, streams) = (self.flows, self.streams);
        let gone = |flow: u32, conn: u16| {
            let live = flows
                .entry(flow as usize)
                .is_some_and(|e| e.track.kind == TrackKind::H2)
                && streams.get(flow as usize).is_some_and(|s| s.conn == conn);
            flow != NO_FLOW && !live
        };
        let Some(conn) = self.h2.alloc(self.tenant.0, self.flow, gone) else {
            return Err(FlowDecision::Host);
        };
        if let Some(c) = self.h2.get_mut(conn) {
            c.start(first_decided, max_stream);
        }
        match self.h2(conn, frames) {
            Ok(()) => Ok(Track::H2 { next, conn }),
            Err(d) => {
                self.h2.release(conn);
                Err(d)
            }
        }
    }

    /// Feeds the connection's next bytes to its HTTP/2 follower `conn`, which checks every new
    /// stream's request. `Err`: the connection's new decision (a refused or malformed request
    /// drops it; what the follower cannot keep sends it to the host path).
    fn h2(&mut self, conn: u16, bytes: &[u8]) -> Result<(), FlowDecision> {
        let cfg = *self.classifier.config();
        let (policy, steer, tenant, queue) = (self.policy, self.steer, self.tenant, self.queue);
        let Some(c) = self.h2.get_mut(conn) else {
            return Err(FlowDecision::Host);
        };
        let mut check = |info: &RequestInfo| check_later(policy, steer, tenant, queue, info);
        c.feed(
            bytes,
            self.classifier.hpack_mut(),
            &cfg.headers,
            cfg.body_scan,
            &mut check,
        )
        .map_err(|e| match e {
            H2Stop::Refused(d) => d,
            H2Stop::Malformed(crate::l7::h2::H2Error::Ambiguous(_)) => {
                FlowDecision::Drop(DropReason::AmbiguousRequest)
            }
            H2Stop::Malformed(_) => FlowDecision::Drop(DropReason::BadRequest),
            H2Stop::Unfollowable => FlowDecision::Host,
        })
    }
}

/// The TCP sequence number and flags of a parsed frame (0 without TCP).
fn tcp_seq_flags(bytes: &[u8], s: &FrameSummary) -> (u32, u8) {
    let Some(l4) = s.innermost().l4.filter(|l| l.kind == L4Kind::Tcp) else {
        return (0, 0);
    };
    let at = usize::from(l4.offset);
    match (bytes.get(at + 4..at + 8), bytes.get(at + 13)) {
        (Some(b), Some(&fl)) => {
            let mut w = [0u8; 4];
            w.copy_from_slice(b);
            (u32::from_be_bytes(w), fl)
        }
        _ => (0, 0),
    }
}

/// The drop reason of a first flight that did not classify.
fn refusal(e: L7Error) -> DropReason {
    match e {
        L7Error::Ambiguous(_) => DropReason::AmbiguousRequest,
        _ => DropReason::BadRequest,
    }
}

/// The drop reason of a refused flow-table insert.
fn table_full_reason(e: TableFull) -> DropReason {
    match e {
        TableFull::Window => DropReason::FlowTableFull,
        TableFull::OwnerCap => DropReason::FlowCap,
    }
}

/// The TCP sequence number of a frame (0 when it has no TCP header).
fn tcp_seq(bytes: &[u8], s: &FrameSummary) -> u32 {
    s.innermost()
        .l4
        .filter(|l| l.kind == L4Kind::Tcp)
        .and_then(|l| {
            let at = usize::from(l.offset) + 4;
            bytes.get(at..at + 4)
        })
        .map_or(0, |b| {
            let mut w = [0u8; 4];
            w.copy_from_slice(b);
            u32::from_be_bytes(w)
        })
}

fn flags_of(info: &RequestInfo, s: &FrameSummary, hint: TlsHint) -> DescFlags {
    let mut f = match info.kind {
        RequestKind::Tls => DescFlags::TLS,
        RequestKind::Http1 => DescFlags::HTTP1,
        RequestKind::H2 => DescFlags::HTTP2,
        RequestKind::Grpc => DescFlags::HTTP2 | DescFlags::GRPC,
        RequestKind::Unknown => DescFlags::EMPTY,
    };
    if hint == TlsHint::PassThrough {
        f |= DescFlags::TLS;
    }
    if s.tuple.is_some_and(|t| t.family == IpFamily::V6) {
        f |= DescFlags::IPV6;
    }
    if s.tunnel.is_some() {
        f |= DescFlags::TUNNELLED;
    }
    f
}
