//! Longest-prefix match over IPv4 and IPv6 source prefixes, built once at setup; lookups
//! allocate nothing and cannot panic.
//!
//! - IPv4: [`Lpm4`], DIR-24-8 as in DPDK's `rte_lpm` (Gupta, Lin and McKeown, "Routing lookups
//!   in hardware at memory access speeds", INFOCOM 1998): a table indexed by the address's top
//!   24 bits, whose entries either hold the answer or point to a 256-entry group for prefixes
//!   longer than /24. One load, sometimes two. The 2^24-entry table is allocated zeroed (the
//!   kernel maps untouched pages lazily), so only the pages the prefixes cover use memory.
//! - IPv6: [`Lpm`], one exact-match hash table per prefix length present, probed from the
//!   longest length down (configurations use a handful: /32, /48, /56, /64, /128).
#![forbid(unsafe_code)]

use alloc::vec::Vec;

use super::table::{Key, Table};

/// An address type an [`Lpm`] can match: `u32` (IPv4) or `u128` (IPv6), in host order with the
/// first address byte most significant.
pub(crate) trait Address: Key + Default + core::fmt::Debug + 'static {
    /// Address width in bits.
    const BITS: u8;
    /// The address with all but the first `len` bits cleared.
    fn masked(self, len: u8) -> Self;
}

impl Address for u32 {
    const BITS: u8 = 32;
    #[inline(always)]
    fn masked(self, len: u8) -> Self {
        match len {
            0 => 0,
            l if l >= 32 => self,
            l => self & (u32::MAX << (32 - u32::from(l))),
        }
    }
}

impl Address for u128 {
    const BITS: u8 = 128;
    #[inline(always)]
    fn masked(self, len: u8) -> Self {
        match len {
            0 => 0,
            l if l >= 128 => self,
            l => self & (u128::MAX << (128 - u32::from(l))),
        }
    }
}

/// Why a prefix could not be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LpmError {
    /// More prefixes longer than /24 in distinct /24 blocks than [`MAX_TBL8_GROUPS`].
    TooManyLongPrefixes,
    /// The length exceeds the address width.
    LengthTooLong,
    /// Bits set after the prefix length (e.g. `10.0.0.1/8`).
    HostBitsSet,
    /// The same prefix is already present, with this value.
    Duplicate(u32),
}

/// A longest-prefix-match table from prefixes to `u32` values.
#[derive(Clone, Debug)]
pub(crate) struct Lpm<A: Address> {
    /// Longest length first.
    levels: Vec<(u8, Table<A, u32>)>,
}

impl<A: Address> Lpm<A> {
    /// Builds the table from `(prefix, length, value)` entries.
    ///
    /// # Errors
    ///
    /// The index of the first bad entry and what is wrong with it.
    pub(crate) fn build(entries: &[(A, u8, u32)]) -> Result<Self, (usize, LpmError)> {
        let mut counts = [0usize; 129];
        for (i, &(addr, len, _)) in entries.iter().enumerate() {
            if len > A::BITS {
                return Err((i, LpmError::LengthTooLong));
            }
            if addr.masked(len) != addr {
                return Err((i, LpmError::HostBitsSet));
            }
            if let Some(c) = counts.get_mut(usize::from(len)) {
                *c += 1;
            }
        }
        let mut levels: Vec<(u8, Table<A, u32>)> = Vec::new();
        for len in (0..=A::BITS).rev() {
            let n = counts.get(usize::from(len)).copied().unwrap_or(0);
            if n > 0 {
                levels.push((len, Table::with_capacity(n)));
            }
        }
        for (i, &(addr, len, value)) in entries.iter().enumerate() {
            if let Some((_, t)) = levels.iter_mut().find(|(l, _)| *l == len) {
                t.insert(addr, value).map_err(|e| match e {
                    super::table::InsertError::Duplicate(v) => (i, LpmError::Duplicate(v)),
                })?;
            }
        }
        Ok(Self { levels })
    }

    /// The value of the longest prefix containing `addr`.
    #[inline]
    pub(crate) fn lookup(&self, addr: A) -> Option<u32> {
        for (len, table) in &self.levels {
            if let Some(v) = table.get(&addr.masked(*len)) {
                return Some(v);
            }
        }
        None
    }

    /// Number of distinct prefix lengths (the most probes a lookup makes).
    #[cfg(test)]
    pub(crate) fn lengths(&self) -> usize {
        self.levels.len()
    }
}

/// Most /24 blocks that hold prefixes longer than /24 (each takes a 1 KiB group).
pub(crate) const MAX_TBL8_GROUPS: usize = 1 << 16;

/// Entry flag: the entry points to a tbl8 group.
const EXT: u32 = 1 << 31;

/// IPv4 longest-prefix match, DIR-24-8. Entries: 0 = no prefix, `value + 1` = a prefix's value,
/// `EXT | group` = look in tbl8 group `group`.
#[derive(Clone, Debug)]
pub(crate) struct Lpm4 {
    tbl24: Vec<u32>,
    tbl8: Vec<u32>,
}

impl Lpm4 {
    /// Builds the table from `(prefix, length, value)` entries (values below `2^31 - 1`).
    ///
    /// # Errors
    ///
    /// The index of the first bad entry and what is wrong with it.
    pub(crate) fn build(entries: &[(u32, u8, u32)]) -> Result<Self, (usize, LpmError)> {
        // Check, and find duplicates, with the hash-per-length table (setup only).
        Lpm::<u32>::build(entries)?;
        if entries.is_empty() {
            return Ok(Self {
                tbl24: Vec::new(),
                tbl8: Vec::new(),
            });
        }
        // Shortest first: a longer prefix overwrites the entries of a shorter one it lies in.
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by_key(|&i| entries.get(i).map_or(0, |e| e.1));
        let mut tbl24 = alloc::vec![0u32; 1 << 24];
        let mut tbl8: Vec<u32> = Vec::new();
        for i in order {
            let Some(&(addr, len, value)) = entries.get(i) else {
                continue;
            };
            let v = value.min(EXT - 2) + 1;
            if len <= 24 {
                let first = (addr >> 8) as usize;
                let count = 1usize << (24 - u32::from(len));
                for e in tbl24.iter_mut().skip(first).take(count) {
                    if *e & EXT != 0 {
                        // A group made for a longer prefix cannot exist yet (shortest first).
                        continue;
                    }
                    *e = v;
                }
            } else {
                let Some(e) = tbl24.get_mut((addr >> 8) as usize) else {
                    continue;
                };
                let group = if *e & EXT != 0 {
                    (*e & !EXT) as usize
                } else {
                    let g = tbl8.len() / 256;
                    if g >= MAX_TBL8_GROUPS {
                        return Err((i, LpmError::TooManyLongPrefixes));
                    }
                    // The group starts with what the /24 entry said (a shorter prefix or none).
                    tbl8.resize(tbl8.len() + 256, *e);
                    *e = EXT | g as u32;
                    g
                };
                let first = group * 256 + (addr & 0xff) as usize;
                let count = 1usize << (32 - u32::from(len));
                for e in tbl8.iter_mut().skip(first).take(count) {
                    *e = v;
                }
            }
        }
        Ok(Self { tbl24, tbl8 })
    }

    /// The value of the longest prefix containing `addr`.
    #[inline(always)]
    pub(crate) fn lookup(&self, addr: u32) -> Option<u32> {
        let e = *self.tbl24.get((addr >> 8) as usize)?;
        let e = if e & EXT != 0 {
            *self
                .tbl8
                .get(((e & !EXT) as usize) * 256 + (addr & 0xff) as usize)?
        } else {
            e
        };
        e.checked_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: [u8; 4]) -> u32 {
        u32::from_be_bytes(a)
    }

    #[test]
    fn longest_prefix_wins() {
        let lpm = Lpm::build(&[
            (v4([10, 0, 0, 0]), 8, 1),
            (v4([10, 1, 0, 0]), 16, 2),
            (v4([10, 1, 2, 3]), 32, 3),
            (0, 0, 9),
        ])
        .unwrap();
        assert_eq!(lpm.lookup(v4([10, 9, 9, 9])), Some(1));
        assert_eq!(lpm.lookup(v4([10, 1, 9, 9])), Some(2));
        assert_eq!(lpm.lookup(v4([10, 1, 2, 3])), Some(3));
        assert_eq!(lpm.lookup(v4([11, 0, 0, 0])), Some(9));
        assert_eq!(lpm.lengths(), 4);
    }

    #[test]
    fn bad_prefixes_are_refused_with_their_index() {
        assert_eq!(
            Lpm::build(&[(v4([10, 0, 0, 1]), 8, 1)]).unwrap_err(),
            (0, LpmError::HostBitsSet)
        );
        assert_eq!(
            Lpm::build(&[(0u32, 33, 1)]).unwrap_err(),
            (0, LpmError::LengthTooLong)
        );
        assert_eq!(
            Lpm::build(&[(v4([10, 0, 0, 0]), 8, 1), (v4([10, 0, 0, 0]), 8, 2)]).unwrap_err(),
            (1, LpmError::Duplicate(1))
        );
    }

    #[test]
    fn dir_24_8_agrees_with_the_hash_per_length_table() {
        let mut r = 0x1234_5678u64;
        let mut next = || {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            r
        };
        for _ in 0..6 {
            let mut entries = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for v in 0..200u32 {
                let len = [0u8, 8, 12, 16, 20, 23, 24, 25, 28, 30, 31, 32][(next() % 12) as usize];
                let a = (0x0A00_0000 | (next() as u32 & 0x0003_FFFF)).masked(len);
                if seen.insert((a, len)) {
                    entries.push((a, len, v));
                }
            }
            let slow = Lpm::build(&entries).unwrap();
            let fast = Lpm4::build(&entries).unwrap();
            for _ in 0..3000 {
                let a = 0x0A00_0000 | (next() as u32 & 0x0003_FFFF);
                assert_eq!(fast.lookup(a), slow.lookup(a), "{a:#x}");
            }
            assert_eq!(fast.lookup(0x0B00_0000), slow.lookup(0x0B00_0000));
        }
        assert!(Lpm4::build(&[]).unwrap().lookup(1).is_none());
    }

    #[test]
    fn ipv6_prefixes_match() {
        let p = u128::from_be_bytes([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let lpm = Lpm::build(&[(p, 32, 7), (p | (1u128 << 80), 48, 8)]).unwrap();
        assert_eq!(lpm.lookup(p | 5), Some(7));
        assert_eq!(lpm.lookup(p | (1u128 << 80) | 5), Some(8));
        assert_eq!(lpm.lookup(5), None);
        assert_eq!(Lpm::<u128>::build(&[]).unwrap().lengths(), 0);
    }
}
