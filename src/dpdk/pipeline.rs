//! The burst pipeline over DPDK mbufs: [`Mbuf`] is a [`Frame`], [`process_mbufs`] runs one RX
//! burst through a [`Pipeline`] and carries out its verdicts on the mbufs, and
//! [`MbufConsumer`] is the consuming end of a GPU queue whose descriptors own mbufs.
//!
//! # Who owns an mbuf, and when
//!
//! | verdict                 | after [`process_mbufs`]                                         |
//! |-------------------------|-----------------------------------------------------------------|
//! | [`Verdict::Gpu`]        | owned by its descriptor (`packet` = [`Mbuf::into_handle`]); the [`MbufConsumer`] of that queue frees it |
//! | [`Verdict::Drop`]       | freed, with the burst's other drops, in one `rte_pktmbuf_free_bulk` |
//! | [`Verdict::Host`], [`Verdict::Terminate`] | appended to the caller's `host` burst, in arrival order, to transmit or hand on (a frame that does not fit is freed and counted in [`BurstOutcome::host_overflow`]) |
//!
//! A descriptor the GPU queue refuses (full ring) never reaches the consumer: the pipeline
//! turns that frame's verdict into `Drop(QueueFull)` before it returns, so the verdict array
//! is final and the mbuf is freed with the drops.
//!
//! The descriptor is published (the ring's Release store) inside
//! [`Pipeline::process_burst`], after the pipeline's last read of any frame, so a consumer on
//! another core may free an admitted mbuf before [`process_mbufs`] returns; from then on
//! `process_mbufs` only forgets its pointer, never dereferences it. If `process_burst` were to
//! panic, the burst's mbufs are leaked rather than freed (some may already belong to
//! descriptors): a leak, never a double free.
//!
//! ```no_run
//! # use infersteer::dpdk::{process_mbufs, MbufBurst, MbufConsumer, RxQueue, TxQueue};
//! # use infersteer::pipeline::{Pipeline, Verdict};
//! # use infersteer::queue::BatchPolicy;
//! # fn run(pipeline: &mut Pipeline, rx: &mut RxQueue<'_>, tx: &mut TxQueue<'_>,
//! #        gpu: &mut [MbufConsumer], now_ns: u64) {
//! let (mut burst, mut host) = (MbufBurst::new(), MbufBurst::new());
//! let mut verdicts = [Verdict::Host; 32];
//! rx.rx_burst(&mut burst);
//! let outcome = process_mbufs(pipeline, &mut burst, now_ns, &mut verdicts, &mut host);
//! tx.tx_burst(&mut host); // what the NIC does not take stays in `host`
//! host.clear(); // ... and is freed here (or kept for a retry)
//! for queue in gpu.iter_mut() {
//!     queue.poll(BatchPolicy::new(32, 0), now_ns, |descs, mbufs| {
//!         // "Process" the requests; the mbufs are freed in bulk when this returns.
//!         let _ = (descs, mbufs);
//!     });
//! }
//! # let _ = outcome;
//! # }
//! ```

use core::fmt;
use core::mem::ManuallyDrop;
use std::sync::Arc;

use super::mbuf::{Mbuf, MbufBurst, MAX_BURST};
use crate::pipeline::{Frame, InFlight, Pipeline, Verdict};
use crate::queue::{BatchPolicy, Consumer, Descriptor};

impl Frame for Mbuf {
    /// The first segment's bytes ([`Mbuf::data`]); a chained frame is seen up to its first
    /// segment's end.
    #[inline]
    fn bytes(&self) -> &[u8] {
        self.data()
    }

    #[inline]
    fn rss_hash(&self) -> Option<u32> {
        Mbuf::rss_hash(self)
    }

    #[inline]
    fn port(&self) -> u16 {
        Mbuf::port(self)
    }

    /// The receive offload's L4 checksum flags (`RTE_MBUF_F_RX_L4_CKSUM_*`): `GOOD` and `NONE`
    /// (the data is valid, its checksum field not filled in, as virtio reports) are good,
    /// `BAD` bad, `UNKNOWN` (not checked) leaves the check to the pipeline.
    #[inline]
    fn l4_checksum_ok(&self) -> Option<bool> {
        use infersteer_dpdk_sys::consts::{
            RTE_MBUF_F_RX_L4_CKSUM_BAD as BAD, RTE_MBUF_F_RX_L4_CKSUM_GOOD as GOOD,
            RTE_MBUF_F_RX_L4_CKSUM_MASK as MASK, RTE_MBUF_F_RX_L4_CKSUM_NONE as NONE,
        };
        match self.ol_flags() & MASK {
            GOOD | NONE => Some(true),
            BAD => Some(false),
            _ => None,
        }
    }

    /// `pkt_len`: every segment, so that a chained frame is policed for all its bytes.
    #[inline]
    fn wire_len(&self) -> usize {
        self.pkt_len() as usize
    }

    /// The mbuf's address. Only a [`Verdict::Gpu`] turns it into ownership (the descriptor's);
    /// [`process_mbufs`] then forgets its own copy.
    #[inline]
    fn handle(&self) -> u64 {
        self.as_ptr() as usize as u64
    }

    #[inline(always)]
    fn prefetch(&self) {
        self.prefetch_data();
    }
}

/// What [`process_mbufs`] did with one burst.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BurstOutcome {
    /// Frames the pipeline processed (the whole burst).
    pub processed: usize,
    /// Mbufs now owned by GPU-queue descriptors.
    pub to_gpu: usize,
    /// Mbufs appended to the `host` burst ([`Verdict::Host`] and [`Verdict::Terminate`]).
    pub to_host: usize,
    /// Mbufs freed because their verdict was [`Verdict::Drop`] (`queue_full` included).
    pub dropped: usize,
    /// Mbufs freed because their verdict was `Host` or `Terminate` but the `host` burst was
    /// full (the caller did not empty it between bursts). The pipeline counted them as
    /// host-bound.
    pub host_overflow: usize,
}

/// Runs one burst of mbufs through `pipeline` at `now_ns` and carries out the verdicts:
/// `Gpu` mbufs move into their descriptors, `Drop`s are freed in one bulk call, `Host` and
/// `Terminate` mbufs are appended to `host` in arrival order. `burst` is empty afterwards.
///
/// `verdicts[i]` is frame `i`'s final verdict (for `i < processed`); the `k`-th mbuf appended
/// to `host` is the `k`-th frame whose verdict is `Host` or `Terminate`, so a caller that
/// needs the [`TlsHint`](crate::verdict::TlsHint) pairs them up in that order. Pass an empty
/// `host` burst (transmit or hand on what it holds between calls): what does not fit is freed
/// and counted in [`BurstOutcome::host_overflow`].
///
/// No allocation: the pipeline reads the burst's own mbuf slice. When every frame went to a GPU
/// queue ([`Pipeline::last_burst_to_gpu`]), the burst is only forgotten, with no verdict loop.
pub fn process_mbufs(
    pipeline: &mut Pipeline,
    burst: &mut MbufBurst,
    now_ns: u64,
    verdicts: &mut [Verdict; MAX_BURST],
    host: &mut MbufBurst,
) -> BurstOutcome {
    let len = burst.len();
    if len == 0 {
        return BurstOutcome::default();
    }
    // The pipeline's run. The burst lends the mbufs: should the pipeline panic, they are
    // leaked (some may already belong to published descriptors), never freed twice.
    let (done, to_gpu) = burst.lend(|mbufs| {
        // `process_burst` takes at most `BURST_SIZE` frames (a build-time setting that may
        // be below 32): feed it until the burst is done.
        let (mut done, mut to_gpu) = (0usize, 0usize);
        while done < len {
            let (Some(f), Some(v)) = (mbufs.get(done..len), verdicts.get_mut(done..len)) else {
                break;
            };
            let n = pipeline.process_burst(f, now_ns, v);
            if n == 0 {
                break;
            }
            done += n;
            to_gpu += pipeline.last_burst_to_gpu();
        }
        (done, to_gpu)
    });
    if done == len && to_gpu == len {
        // The steady state: every frame went to a GPU queue, so every mbuf belongs to a
        // descriptor now; the burst only forgets them.
        burst.forget_all();
        return BurstOutcome {
            processed: len,
            to_gpu: len,
            ..BurstOutcome::default()
        };
    }

    // Carry out the verdicts. Nothing below can panic; admitted mbufs are only forgotten.
    let mut drops = MbufBurst::new();
    let mut rest = MbufBurst::new();
    let mut out = BurstOutcome {
        processed: done,
        ..BurstOutcome::default()
    };
    for (i, m) in burst.drain().enumerate() {
        let verdict = if i < done {
            verdicts.get(i).copied()
        } else {
            None
        };
        match verdict {
            Some(Verdict::Gpu { .. }) => {
                // The descriptor holds this mbuf's address: ownership moved with it.
                let _ = m.into_handle();
                out.to_gpu += 1;
            }
            Some(Verdict::Drop(_)) => {
                out.dropped += 1;
                // At most 32 mbufs: `drops` always has room (`drop` would free it anyway).
                if let Err(m) = drops.push(m) {
                    drop(m);
                }
            }
            Some(Verdict::Host | Verdict::Terminate(_)) => match host.push(m) {
                Ok(()) => out.to_host += 1,
                Err(m) => {
                    out.host_overflow += 1;
                    if let Err(m) = drops.push(m) {
                        drop(m);
                    }
                }
            },
            // Not processed (cannot happen: the pipeline takes at least one frame per call):
            // back into the caller's burst, untouched.
            None => {
                if let Err(m) = rest.push(m) {
                    drop(m);
                }
            }
        }
    }
    if !rest.is_empty() {
        *burst = rest;
    }
    drop(drops); // one `rte_pktmbuf_free_bulk`
    out
}

/// The consuming end of a GPU queue whose descriptors own mbufs (put there by
/// [`process_mbufs`]): pops batches, lets a worker read them, then frees the mbufs in bulk
/// and gives the tenants' in-flight slots back ([`InFlight::release`]).
///
/// Dropping it frees the mbufs of every descriptor still in the queue (do that before the
/// mempool and the EAL go). Descriptors with `packet == 0` (frames that were not mbufs, e.g. a
/// first flight fed from a byte slice) carry no mbuf; their in-flight slot is still released.
pub struct MbufConsumer {
    queue: Consumer<Descriptor>,
    inflight: Arc<InFlight>,
    consumed: u64,
}

impl MbufConsumer {
    /// Wraps the consuming end of a GPU queue.
    ///
    /// # Safety
    ///
    /// Every descriptor that ever enters this queue must carry in `packet` either 0 or the
    /// handle of an mbuf whose ownership moved into the descriptor: a [`Verdict::Gpu`] frame
    /// of [`process_mbufs`], or [`Mbuf::into_handle`], each handle enqueued once. In
    /// particular the queue's producer must not serve a pipeline fed other frames with
    /// non-zero handles (e.g. [`RawFrame`](crate::pipeline::RawFrame)s with buffer indices).
    pub unsafe fn new(queue: Consumer<Descriptor>, inflight: Arc<InFlight>) -> Self {
        Self {
            queue,
            inflight,
            consumed: 0,
        }
    }

    /// One polling step: takes every batch `policy` says is due at `now_ns` (at most
    /// [`MAX_BURST`] descriptors each, and about a ring's capacity worth in all: the budget is
    /// checked before each batch), hands each to `work` with the mbufs of its descriptors (in
    /// order, skipping `packet == 0`), then releases the in-flight slots, pops the batch and
    /// frees those mbufs in one bulk call. The descriptors are read where they lie in the ring,
    /// never copied out; a batch that wraps the ring's end reaches `work` as two calls. Returns
    /// the number of descriptors consumed. No allocation.
    ///
    /// The mbufs are lent to `work`: it must not take them over (say, through
    /// [`Mbuf::from_handle`] on a descriptor's `packet`), since they are freed after it returns.
    ///
    /// Should `work` panic, the batch stays in the queue and its mbufs are not freed here: a
    /// later poll (or the drop) hands the same batch over again and frees it, once. A worker
    /// that panics on every call therefore stalls its queue, and the pipeline then counts
    /// that queue's traffic as `queue_full`, as for any consumer that stops.
    pub fn poll<W: FnMut(&[Descriptor], &[Mbuf])>(
        &mut self,
        policy: BatchPolicy,
        now_ns: u64,
        mut work: W,
    ) -> usize {
        let budget = self.queue.capacity();
        let mut total = 0usize;
        while total < budget {
            let (a, b) = self.queue.peek_batch(MAX_BURST, policy, now_ns);
            let n = a.len() + b.len();
            if n == 0 {
                break;
            }
            let mut mbufs = ManuallyDrop::new(MbufBurst::new());
            for run in [a, b] {
                let from = mbufs.len();
                for d in run {
                    // SAFETY: by `new`'s contract `d.packet` is 0 or the handle of an mbuf
                    // owned by this descriptor. The ring lends each descriptor until it is
                    // popped below, and `mbufs` (`ManuallyDrop`) frees the mbufs only after
                    // that pop: should anything panic before it (`work` above all), the
                    // descriptor stays queued and its mbuf is neither freed nor owned by anyone
                    // but the descriptor, so the next poll takes it over again. So each handle
                    // becomes an `Mbuf` that is freed exactly once.
                    if let Some(m) = unsafe { Mbuf::from_handle(d.packet) } {
                        // At most `MAX_BURST` in a batch, so there is always room; were one
                        // refused it would be leaked (forgotten), never freed twice.
                        let pushed = mbufs.push(m);
                        debug_assert!(pushed.is_ok(), "a batch holds at most MAX_BURST");
                        if let Err(m) = pushed {
                            core::mem::forget(m);
                        }
                    }
                }
                if !run.is_empty() {
                    work(run, mbufs.as_slice().get(from..).unwrap_or(&[]));
                }
            }
            // Give the in-flight slots back, one atomic per run of the same tenant.
            let mut run: Option<(u32, u32)> = None;
            for d in a.iter().chain(b) {
                run = match run {
                    Some((t, k)) if t == d.tenant => Some((t, k + 1)),
                    Some((t, k)) => {
                        self.inflight.release(t, k);
                        Some((d.tenant, 1))
                    }
                    None => Some((d.tenant, 1)),
                };
            }
            if let Some((t, k)) = run {
                self.inflight.release(t, k);
            }
            self.consumed = self.consumed.wrapping_add(n as u64);
            self.queue.advance(n);
            // Popped: only `mbufs` owns them now. Freed last, so that a panic anywhere above
            // leaves them queued (freed by a later poll) or leaked, never freed twice.
            drop(ManuallyDrop::into_inner(mbufs)); // one `rte_pktmbuf_free_bulk`
            total += n;
        }
        total
    }

    /// Descriptors waiting in the queue.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether the queue is empty.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Descriptors consumed (and mbufs freed) so far.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }
}

impl Drop for MbufConsumer {
    fn drop(&mut self) {
        // Free what is queued now: with a zero wait every batch is due, and one poll takes up
        // to a ring's capacity.
        self.poll(BatchPolicy::new(MAX_BURST, 0), u64::MAX, |_, _| {});
    }
}

impl fmt::Debug for MbufConsumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MbufConsumer")
            .field("queue", &self.queue)
            .field("consumed", &self.consumed)
            .finish()
    }
}
