//! Steering: which GPU queue a request goes to.
//!
//! A model is served by one or more GPU pools (in preference order); a pool is a set of GPU
//! queues (GPU id, queue id, weight). Within a pool the queue is chosen by [`Choice::Maglev`]
//! consistent hashing on the session (so a session's requests meet their KV cache again) or by
//! [`Choice::PowerOfTwo`] on queue depth. A queue over its high watermark spills to the next
//! choice in the pool, then to the model's next pool, never into a pool the tenant may not use.
//! The [`FlowTable`] remembers each flow's decision.
//!
//! Tables are built at setup from a validated [`SteerConfig`]; choosing allocates nothing and
//! cannot panic.
#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

pub mod flow;
pub mod maglev;

pub use flow::{
    FlowDecision, FlowEntry, FlowKey, FlowStats, FlowTable, HostRange, TableFull, Track, TrackKind,
    TrackTag, MAX_HOST_RANGE,
};
pub use maglev::Maglev;

use crate::policy::{ModelId, PoolSet};
use alloc::vec::Vec;
use core::fmt;

/// One GPU queue of a pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GpuQueueSpec {
    /// GPU id.
    pub gpu: u16,
    /// Queue id on that GPU.
    pub queue: u16,
    /// Relative share of the pool's sessions (Maglev) — 0 removes the queue from the choice.
    pub weight: u16,
}

/// How a pool picks a queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Choice {
    /// Maglev consistent hashing on the session id (else the flow).
    #[default]
    Maglev,
    /// The less deep of two queues picked by the flow hash.
    PowerOfTwo,
}

/// A pool of GPU queues.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolSpec {
    /// The pool's queues.
    pub queues: Vec<GpuQueueSpec>,
    /// How a queue is picked.
    pub choice: Choice,
}

/// The steering configuration: pools, and which pools serve each model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SteerConfig {
    /// Pools; a pool's number is its index (the numbers policy's allowed-pool sets use).
    pub pools: Vec<PoolSpec>,
    /// Per model id: the pools serving it, in preference order.
    pub model_pools: Vec<Vec<u8>>,
    /// Depth at which a queue spills to the next choice.
    pub high_watermark: usize,
}

/// A steering configuration problem.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SteerConfigError {
    /// `pools[pool]` has no queue with a non-zero weight.
    EmptyPool {
        /// The pool.
        pool: usize,
    },
    /// More than 64 pools or 65,535 queues.
    TooMany,
    /// `model_pools[model][index]` names a pool that does not exist.
    UnknownPool {
        /// The model.
        model: usize,
        /// Index in its list.
        index: usize,
    },
}

impl fmt::Display for SteerConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyPool { pool } => write!(f, "pools[{pool}]: no queue with a weight"),
            Self::TooMany => f.write_str("pools: more than 64 pools or 65535 queues"),
            Self::UnknownPool { model, index } => {
                write!(f, "model_pools[{model}][{index}]: no such pool")
            }
        }
    }
}

impl core::error::Error for SteerConfigError {}

#[derive(Clone, Debug)]
struct Pool {
    /// Global queue index of each of the pool's queues.
    queues: Vec<u16>,
    choice: Choice,
    maglev: Maglev,
}

/// The built steering tables.
#[derive(Clone, Debug)]
pub struct SteerTable {
    pools: Vec<Pool>,
    model_pools: Vec<Vec<u8>>,
    queues: Vec<GpuQueueSpec>,
    high_watermark: usize,
}

/// Why no queue was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NoQueue {
    /// No pool serving the model is among the tenant's allowed pools.
    NoPool,
}

impl SteerTable {
    /// Validates `config` and builds the Maglev tables (size: the smallest prime at least 100
    /// times the pool's queues).
    ///
    /// # Errors
    ///
    /// The first [`SteerConfigError`].
    pub fn build(config: &SteerConfig) -> Result<Self, SteerConfigError> {
        if config.pools.len() > 64 {
            return Err(SteerConfigError::TooMany);
        }
        let mut queues = Vec::new();
        let mut pools = Vec::with_capacity(config.pools.len());
        for (p, spec) in config.pools.iter().enumerate() {
            let first = queues.len();
            queues.extend_from_slice(&spec.queues);
            if queues.len() > usize::from(u16::MAX) {
                return Err(SteerConfigError::TooMany);
            }
            let ids: Vec<u64> = spec
                .queues
                .iter()
                .map(|q| (u64::from(q.gpu) << 16) | u64::from(q.queue))
                .collect();
            let weights: Vec<u16> = spec.queues.iter().map(|q| q.weight).collect();
            let size = maglev::next_prime(100 * spec.queues.len().max(1));
            let maglev = Maglev::build(&ids, &weights, size)
                .map_err(|_| SteerConfigError::EmptyPool { pool: p })?;
            pools.push(Pool {
                queues: (first..first + spec.queues.len())
                    .map(|q| q as u16)
                    .collect(),
                choice: spec.choice,
                maglev,
            });
        }
        for (m, list) in config.model_pools.iter().enumerate() {
            for (i, &p) in list.iter().enumerate() {
                if usize::from(p) >= pools.len() {
                    return Err(SteerConfigError::UnknownPool { model: m, index: i });
                }
            }
        }
        Ok(Self {
            pools,
            model_pools: config.model_pools.clone(),
            queues,
            high_watermark: config.high_watermark.max(1),
        })
    }

    /// Number of GPU queues across all pools (global indices `0..n`).
    pub fn queue_count(&self) -> usize {
        self.queues.len()
    }

    /// The spec of global queue `q`.
    pub fn queue(&self, q: usize) -> Option<&GpuQueueSpec> {
        self.queues.get(q)
    }

    /// Whether GPU queue `queue` belongs to a pool that serves `model` and that `allowed`
    /// includes: a later request on a connection steered to `queue` may follow it there.
    pub fn serves(&self, queue: u16, model: ModelId, allowed: PoolSet) -> bool {
        self.model_pools.get(model.0 as usize).is_some_and(|list| {
            list.iter().any(|&p| {
                allowed.contains(p)
                    && self
                        .pools
                        .get(usize::from(p))
                        .is_some_and(|pool| pool.queues.contains(&queue))
            })
        })
    }

    /// Picks the GPU queue (global index) for a request of `model` by a tenant allowed
    /// `allowed` pools, with affinity key `key` (session hash, else the flow hash) and the
    /// current depth of each queue from `depth`. Tries the model's pools in order, skipping
    /// those the tenant may not use; within a pool, the first choice, then (over the
    /// watermark) the next distinct queues along the Maglev table or the other of the two
    /// choices. When every eligible queue is over its watermark, the first choice of the first
    /// eligible pool is returned (its enqueue may still succeed, or count `queue_full`).
    ///
    /// # Errors
    ///
    /// [`NoQueue::NoPool`] when no pool serving the model is allowed.
    #[inline]
    pub fn choose(
        &self,
        model: ModelId,
        allowed: PoolSet,
        key: u64,
        depth: impl Fn(usize) -> usize,
    ) -> Result<u16, NoQueue> {
        let list = self
            .model_pools
            .get(model.0 as usize)
            .map_or(&[][..], Vec::as_slice);
        let mut fallback = None;
        for &p in list {
            if !allowed.contains(p) {
                continue;
            }
            let Some(pool) = self.pools.get(usize::from(p)) else {
                continue;
            };
            let n = pool.queues.len();
            if n == 0 {
                continue;
            }
            let local = |i: usize| pool.queues.get(i).copied().unwrap_or(0);
            match pool.choice {
                Choice::Maglev => {
                    let slot = pool.maglev.slot(key);
                    let first = local(pool.maglev.at(slot));
                    fallback.get_or_insert(first);
                    if depth(usize::from(first)) < self.high_watermark {
                        return Ok(first);
                    }
                    // Spill along the table to the next distinct queues.
                    let mut tried = 1;
                    let mut last = first;
                    for s in 1..pool.maglev.size() {
                        if tried >= n {
                            break;
                        }
                        let q = local(pool.maglev.at(slot + s));
                        if q == last || q == first {
                            continue;
                        }
                        tried += 1;
                        last = q;
                        if depth(usize::from(q)) < self.high_watermark {
                            return Ok(q);
                        }
                    }
                }
                Choice::PowerOfTwo => {
                    // Mix first: a 32-bit flow hash (odd, upper half zero) must still give two
                    // independent, uniform picks.
                    let m = maglev::mix(key);
                    let a = local((((m & 0xFFFF_FFFF) * n as u64) >> 32) as usize);
                    let b = local((((m >> 32) * n as u64) >> 32) as usize);
                    let (da, db) = (depth(usize::from(a)), depth(usize::from(b)));
                    let pick = if db < da { b } else { a };
                    fallback.get_or_insert(pick);
                    if da.min(db) < self.high_watermark {
                        return Ok(pick);
                    }
                }
            }
        }
        fallback.ok_or(NoQueue::NoPool)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn config() -> SteerConfig {
        let q = |gpu, queue| GpuQueueSpec {
            gpu,
            queue,
            weight: 1,
        };
        SteerConfig {
            pools: vec![
                PoolSpec {
                    queues: vec![q(0, 0), q(0, 1), q(1, 0), q(1, 1)],
                    choice: Choice::Maglev,
                },
                PoolSpec {
                    queues: vec![q(2, 0), q(2, 1)],
                    choice: Choice::PowerOfTwo,
                },
            ],
            model_pools: vec![vec![0, 1], vec![1]],
            high_watermark: 10,
        }
    }

    #[test]
    fn choice_respects_allowed_pools_and_spills_on_depth() {
        let t = SteerTable::build(&config()).unwrap();
        assert_eq!(t.queue_count(), 6);
        let all = PoolSet(0b11);
        let idle = |_| 0;
        let q = t.choose(ModelId(0), all, 12345, idle).unwrap();
        assert!(q < 4, "pool 0 first");
        // Same key, same queue (affinity).
        assert_eq!(t.choose(ModelId(0), all, 12345, idle).unwrap(), q);
        // Pool 0 not allowed: pool 1.
        let q1 = t.choose(ModelId(0), PoolSet(0b10), 12345, idle).unwrap();
        assert!((4..6).contains(&q1));
        // Nothing allowed serves model 1 → no pool.
        assert_eq!(
            t.choose(ModelId(1), PoolSet(0b01), 1, idle),
            Err(NoQueue::NoPool)
        );
        assert_eq!(t.choose(ModelId(9), all, 1, idle), Err(NoQueue::NoPool));
        // The first choice is deep: spill to another queue of pool 0.
        let spill = t
            .choose(ModelId(0), all, 12345, |x| {
                if x == usize::from(q) {
                    100
                } else {
                    0
                }
            })
            .unwrap();
        assert!(spill < 4 && spill != q);
        // All of pool 0 deep: pool 1.
        let to1 = t
            .choose(ModelId(0), all, 12345, |x| if x < 4 { 100 } else { 0 })
            .unwrap();
        assert!(to1 >= 4);
        // Everything deep: the first choice anyway, never a forbidden pool.
        assert_eq!(
            t.choose(ModelId(0), PoolSet(0b01), 12345, |_| 100).unwrap(),
            q
        );
        // Power of two picks the shallower.
        let a = t.choose(ModelId(1), all, 0x0000_0001_0000_0000, |x| {
            if x == 4 {
                5
            } else {
                1
            }
        });
        assert_eq!(a, Ok(5));
    }

    #[test]
    fn narrow_keys_spread_over_the_pool() {
        // 32-bit flow hashes (the RSS hash) must use every queue, not just the first.
        let t = SteerTable::build(&config()).unwrap();
        let mut used = [0usize; 4];
        for k in 0..4000u64 {
            let q = t.choose(ModelId(0), PoolSet(1), k | 1, |_| 0).unwrap();
            used[usize::from(q)] += 1;
        }
        assert!(used.iter().all(|&u| u > 800), "{used:?}");
        // The same for the power-of-two pool, with odd 32-bit keys (as the flow hash is).
        let mut used = [0usize; 2];
        for k in 0..4000u64 {
            let q = t.choose(
                ModelId(1),
                PoolSet(2),
                (k * 0x9E37_79B9) as u32 as u64 | 1,
                |_| 0,
            );
            used[usize::from(q.unwrap()) - 4] += 1;
        }
        assert!(used.iter().all(|&u| u > 1500), "{used:?}");
    }

    #[test]
    fn bad_configs_are_named() {
        let mut c = config();
        c.model_pools[1] = vec![7];
        assert_eq!(
            SteerTable::build(&c).unwrap_err().to_string(),
            "model_pools[1][0]: no such pool"
        );
        let mut c = config();
        c.pools[1].queues.clear();
        assert_eq!(
            SteerTable::build(&c).unwrap_err(),
            SteerConfigError::EmptyPool { pool: 1 }
        );
    }
}
