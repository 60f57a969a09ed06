//! Longest-prefix match over IPv4 and IPv6 source prefixes, built once at setup.
//!
//! One exact-match hash table per prefix length that occurs in the configuration, probed from
//! the longest length down; the first hit is the longest match. A lookup costs one probe per
//! distinct length (configurations use a handful: /16, /24, /32, /48, /64 …), allocates nothing
//! and cannot panic.
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
    fn ipv6_prefixes_match() {
        let p = u128::from_be_bytes([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let lpm = Lpm::build(&[(p, 32, 7), (p | (1u128 << 80), 48, 8)]).unwrap();
        assert_eq!(lpm.lookup(p | 5), Some(7));
        assert_eq!(lpm.lookup(p | (1u128 << 80) | 5), Some(8));
        assert_eq!(lpm.lookup(5), None);
        assert_eq!(Lpm::<u128>::build(&[]).unwrap().lengths(), 0);
    }
}
