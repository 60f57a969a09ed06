//! Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network
//! Load Balancer", NSDI 2016, §3.4): a lookup table of prime size `M` filled from each
//! backend's permutation of the slots, so that every backend owns close to `M / N` slots
//! (weighted: in proportion to its weight) and removing a backend moves only the keys it
//! owned (plus a few percent of others).
//!
//! Built at setup; a lookup is one multiply and one load, allocates nothing and cannot panic.
#![forbid(unsafe_code)]

use alloc::vec;
use alloc::vec::Vec;

/// Smallest prime at or above `n` (trial division; setup only).
pub fn next_prime(n: usize) -> usize {
    let mut p = n.max(2);
    loop {
        let mut d = 2;
        let mut prime = true;
        while d * d <= p {
            if p % d == 0 {
                prime = false;
                break;
            }
            d += 1;
        }
        if prime {
            return p;
        }
        p += 1;
    }
}

/// A 64-bit mix of a key (SplitMix64's finaliser), for choices that need uniform bits from a
/// narrow or weak hash.
#[inline(always)]
pub fn mix(x: u64) -> u64 {
    hash64(x, 0x7075_6c6c_6d69_7821)
}

/// SplitMix64 finaliser: a keyed 64-bit hash of a backend's identity.
#[inline(always)]
fn hash64(x: u64, seed: u64) -> u64 {
    let mut z = x ^ seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A Maglev lookup table over backends `0..n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Maglev {
    /// Slot → backend index.
    table: Vec<u16>,
}

/// Why a table could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaglevError {
    /// No backend, or every weight zero.
    NoBackend,
    /// More than `u16::MAX` backends.
    TooManyBackends,
}

impl Maglev {
    /// Builds a table of `size` slots (a prime; use [`next_prime`] of at least 100 × the
    /// backends) for backends identified by `ids` (stable across rebuilds: removing one keeps
    /// the others' permutations) with `weights` (a backend of weight 2 gets twice the slots of
    /// one of weight 1; weight 0 removes it).
    ///
    /// # Errors
    ///
    /// [`MaglevError`] when there is nothing to fill the table with.
    pub fn build(ids: &[u64], weights: &[u16], size: usize) -> Result<Self, MaglevError> {
        let n = ids.len().min(weights.len());
        if n > usize::from(u16::MAX) {
            return Err(MaglevError::TooManyBackends);
        }
        let total: u64 = weights.iter().take(n).map(|&w| u64::from(w)).sum();
        if n == 0 || total == 0 || size == 0 {
            return Err(MaglevError::NoBackend);
        }
        let m = size as u64;
        let perm: Vec<(u64, u64)> = ids
            .iter()
            .take(n)
            .map(|&id| {
                let offset = hash64(id, 0x6d61_676c_6576_3031) % m;
                let skip = if m > 1 {
                    hash64(id, 0x736b_6970_7365_6564) % (m - 1) + 1
                } else {
                    1
                };
                (offset, skip)
            })
            .collect();
        const EMPTY: u16 = u16::MAX;
        let mut table = vec![EMPTY; size];
        let mut next = vec![0u64; n];
        let mut filled = 0usize;
        // Weighted round robin over the backends' permutations: in each round a backend of
        // weight w claims w slots.
        'fill: loop {
            for (i, ((offset, skip), w)) in perm.iter().zip(weights).enumerate() {
                for _ in 0..*w {
                    let Some(j) = next.get_mut(i) else { continue };
                    // Walk this backend's permutation to its next free slot. Each backend's
                    // permutation visits every slot (skip is coprime to the prime m), so the
                    // walk ends within m steps while a slot is free.
                    let mut c = ((offset + *j * skip) % m) as usize;
                    while table.get(c).is_some_and(|&t| t != EMPTY) {
                        *j += 1;
                        c = ((offset + *j * skip) % m) as usize;
                    }
                    if let Some(slot) = table.get_mut(c) {
                        *slot = i as u16;
                    }
                    *j += 1;
                    filled += 1;
                    if filled == size {
                        break 'fill;
                    }
                }
            }
        }
        Ok(Self { table })
    }

    /// Number of slots.
    pub fn size(&self) -> usize {
        self.table.len()
    }

    /// The slot a key maps to: the key is mixed first (so narrow or weak hashes — a 32-bit
    /// RSS hash, an FNV of a short session id — still spread over every slot), then mapped
    /// onto `0..size` by multiply-shift, without a division.
    #[inline(always)]
    pub fn slot(&self, key: u64) -> usize {
        let h = hash64(key, 0x5e55_1011_f1a5_7e11);
        ((u128::from(h) * self.table.len() as u128) >> 64) as usize
    }

    /// The backend owning a key hash.
    #[inline(always)]
    pub fn lookup(&self, hash: u64) -> usize {
        self.table
            .get(self.slot(hash))
            .map_or(0, |&b| usize::from(b))
    }

    /// The backend of slot `slot` (wrapping), for walking to the next backend on spill.
    #[inline(always)]
    pub fn at(&self, slot: usize) -> usize {
        let len = self.table.len().max(1);
        self.table.get(slot % len).map_or(0, |&b| usize::from(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u64) -> u64 {
        hash64(i, 42)
    }

    #[test]
    fn primes() {
        assert_eq!(next_prime(100), 101);
        assert_eq!(next_prime(65536), 65537);
        assert_eq!(next_prime(1), 2);
    }

    #[test]
    fn balance_within_a_few_percent_for_1k_sessions_per_queue() {
        let queues = 16u64;
        let ids: Vec<u64> = (0..queues).map(|q| 1000 + q).collect();
        let m =
            Maglev::build(&ids, &vec![1; ids.len()], next_prime(100 * queues as usize)).unwrap();
        // Slot ownership: within 2% of M/N.
        let mut owned = vec![0usize; ids.len()];
        for s in 0..m.size() {
            owned[m.at(s)] += 1;
        }
        let ideal = m.size() as f64 / queues as f64;
        for o in &owned {
            assert!((*o as f64 - ideal).abs() / ideal < 0.02, "slots {owned:?}");
        }
        // 1K sessions per queue: load within a few percent of the mean... at 1K keys per bin
        // the sampling noise alone is ~3%; allow 12% for the worst of 16 bins.
        let sessions = 1000 * queues;
        let mut load = vec![0u64; ids.len()];
        for s in 0..sessions {
            load[m.lookup(key(s))] += 1;
        }
        let mean = sessions as f64 / queues as f64;
        let worst = load
            .iter()
            .map(|&l| (l as f64 - mean).abs() / mean)
            .fold(0.0, f64::max);
        assert!(worst < 0.12, "load {load:?}");
    }

    #[test]
    fn weights_share_slots_in_proportion() {
        let m = Maglev::build(&[1, 2], &[1, 3], next_prime(400)).unwrap();
        let heavy = (0..m.size()).filter(|&s| m.at(s) == 1).count();
        let share = heavy as f64 / m.size() as f64;
        assert!((share - 0.75).abs() < 0.02, "share {share}");
        assert_eq!(Maglev::build(&[], &[], 101), Err(MaglevError::NoBackend));
        assert_eq!(Maglev::build(&[1], &[0], 101), Err(MaglevError::NoBackend));
    }

    #[test]
    fn removing_a_queue_moves_only_its_sessions() {
        let ids: Vec<u64> = (0..10).map(|q| 77 + q).collect();
        let size = next_prime(1000);
        let before = Maglev::build(&ids, &[1; 10], size).unwrap();
        let mut fewer = ids.clone();
        let removed = fewer.remove(3);
        let after = Maglev::build(&fewer, &[1; 9], size).unwrap();
        let (mut moved_other, mut total_other) = (0, 0);
        for s in 0..20_000u64 {
            let k = key(s);
            let b = ids[before.lookup(k)];
            let a = fewer[after.lookup(k)];
            if b != removed {
                total_other += 1;
                if a != b {
                    moved_other += 1;
                }
            } else {
                assert_ne!(a, removed);
            }
        }
        // The paper reports a few percent of extra disruption at M ≈ 100·N.
        let frac = moved_other as f64 / total_other as f64;
        assert!(
            frac < 0.05,
            "{moved_other} of {total_other} other sessions moved"
        );
    }
}
