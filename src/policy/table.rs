//! A fixed open-addressing hash table built once at setup: linear probing, load factor at most
//! one quarter, lookups that never allocate, never panic and probe at most the table's length.
//!
//! Keys are small `Copy` values that hash themselves ([`Key`]); byte strings are stored by
//! their 64-bit hash plus an index into an arena owned by the caller, who confirms the match.
#![forbid(unsafe_code)]

use alloc::vec::Vec;

/// Multiplier of the Fibonacci hash (2^64 / golden ratio).
const PHI: u64 = 0x9E37_79B9_7F4A_7C15;

/// A key that hashes itself to 64 bits.
pub(crate) trait Key: Copy + Eq {
    /// The key's hash; the table takes its top bits.
    fn hash64(&self) -> u64;
}

impl Key for u32 {
    #[inline(always)]
    fn hash64(&self) -> u64 {
        // Fibonacci hashing: the table takes the product's top bits.
        (u64::from(*self) ^ 0x2545_F491).wrapping_mul(PHI)
    }
}

impl Key for u64 {
    #[inline(always)]
    fn hash64(&self) -> u64 {
        mix(*self)
    }
}

impl Key for u128 {
    #[inline(always)]
    fn hash64(&self) -> u64 {
        mix((*self as u64) ^ mix((*self >> 64) as u64))
    }
}

/// Spreads the bits of `x` over the whole word (a multiply and a fold).
#[inline(always)]
pub(crate) fn mix(x: u64) -> u64 {
    let m = u128::from(x ^ 0x2545_F491_4F6C_DD1D).wrapping_mul(u128::from(PHI));
    (m as u64) ^ ((m >> 64) as u64)
}

/// Hash of a byte string, ASCII letters folded to lower case (DNS names and header values
/// compare case-insensitively where the caller wants it: pass `fold = true`).
#[inline]
pub(crate) fn hash_bytes(bytes: &[u8], fold: bool) -> u64 {
    let mut h: u64 = 0x243F_6A88_85A3_08D3 ^ (bytes.len() as u64);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let mut x = u64::from_le_bytes(w);
        if fold {
            x = fold_word(x);
        }
        h = mix(h ^ x);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        if let Some(dst) = w.get_mut(..rest.len()) {
            dst.copy_from_slice(rest);
        }
        let mut x = u64::from_le_bytes(w);
        if fold {
            x = fold_word(x);
        }
        h = mix(h ^ x);
    }
    h
}

/// ASCII upper-case letters in the eight bytes of `x` folded to lower case (SWAR).
#[inline(always)]
fn fold_word(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Bytes >= 'A' and <= 'Z', computed on 7-bit values and masked to ASCII bytes.
    let low7 = x & !HIGH;
    let ge_a = (low7 + ONES * (0x80 - u64::from(b'A'))) & HIGH;
    let gt_z = (low7 + ONES * (0x80 - u64::from(b'Z') - 1)) & HIGH;
    let upper = ge_a & !gt_z & !x;
    x | (upper >> 2)
}

/// Whether `a` and `b` are equal with ASCII letters compared case-insensitively.
#[inline]
pub(crate) fn eq_fold(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Value marking an empty slot (never a stored id: ids are below `u32::MAX`).
const EMPTY: u32 = u32::MAX;

/// The table: keys `K` to `u32` ids (any value but `u32::MAX`). Slots are `(key, id)` pairs,
/// an empty slot holds [`EMPTY`] as its id; a lookup probes at most the longest displacement
/// any insert needed.
#[derive(Clone, Debug)]
pub(crate) struct Table<K, V = u32> {
    slots: Vec<(K, u32)>,
    shift: u32,
    len: usize,
    /// Longest probe sequence any stored key needs (0: found at home).
    max_probe: usize,
    _value: core::marker::PhantomData<V>,
}

/// Why an insert failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InsertError<V> {
    /// The key is present, with this value.
    Duplicate(V),
}

impl<K: Key + Default> Table<K, u32> {
    /// A table for up to `entries` keys, at most a quarter full: most keys then sit in their
    /// home slot, so a lookup rarely probes twice (and rarely mispredicts a branch).
    pub(crate) fn with_capacity(entries: usize) -> Self {
        let slots = entries.saturating_mul(4).max(2).next_power_of_two();
        let bits = slots.trailing_zeros();
        let mut v = Vec::with_capacity(slots);
        v.resize(slots, (K::default(), EMPTY));
        Self {
            slots: v,
            shift: 64 - bits,
            len: 0,
            max_probe: 0,
            _value: core::marker::PhantomData,
        }
    }

    /// Number of keys stored.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    fn home(&self, key: &K) -> usize {
        (key.hash64() >> self.shift) as usize
    }

    /// Inserts `key` → `value` (`value` below `u32::MAX`); the table must have been sized for
    /// it. With `multi`, a key may repeat (byte-string hashes that collide).
    fn put(&mut self, key: K, value: u32, multi: bool) -> Result<(), InsertError<u32>> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(&key);
        for probe in 0..self.slots.len() {
            match self.slots.get_mut(i) {
                Some(slot) if slot.1 == EMPTY => {
                    *slot = (key, value);
                    self.len += 1;
                    self.max_probe = self.max_probe.max(probe);
                    return Ok(());
                }
                Some((k, v)) if !multi && *k == key => return Err(InsertError::Duplicate(*v)),
                _ => i = (i + 1) & mask,
            }
        }
        // Sized at four times the entries: a free slot always exists. Report the key as present
        // rather than panic if a caller ever over-fills.
        Err(InsertError::Duplicate(value))
    }

    /// Inserts `key` → `value`; a key already present gives back its value.
    pub(crate) fn insert(&mut self, key: K, value: u32) -> Result<(), InsertError<u32>> {
        self.put(key, value.min(EMPTY - 1), false)
    }

    /// The value stored for `key`.
    #[inline(always)]
    pub(crate) fn get(&self, key: &K) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        for _ in 0..=self.max_probe {
            let &(k, v) = self.slots.get(i)?;
            if v == EMPTY {
                return None;
            }
            if k == *key {
                return Some(v);
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// The first value stored under `key` for which `f` returns true (for byte-string keys
    /// stored by hash, where `K` is the hash itself).
    #[inline]
    pub(crate) fn find_with(&self, key: &K, mut f: impl FnMut(u32) -> bool) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        for _ in 0..=self.max_probe {
            let &(k, v) = self.slots.get(i)?;
            if v == EMPTY {
                return None;
            }
            if k == *key && f(v) {
                return Some(v);
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// Inserts a value under a key that may repeat; the caller tells them apart with
    /// [`Table::find_with`].
    pub(crate) fn insert_multi(&mut self, key: K, value: u32) {
        let _ = self.put(key, value.min(EMPTY - 1), true);
    }
}

/// A set of byte-string names (SNI names, model names, tenant claims), each mapped to a `u32`
/// value, built at setup. Names live in one arena; lookups hash, probe and compare.
#[derive(Clone, Debug)]
pub(crate) struct NameTable {
    table: Table<u64, u32>,
    /// Per entry: start and end in `arena`, and the value.
    entries: Vec<(u32, u32, u32)>,
    arena: Vec<u8>,
    fold: bool,
}

impl NameTable {
    /// A table for up to `entries` names; `fold` compares ASCII case-insensitively.
    pub(crate) fn with_capacity(entries: usize, fold: bool) -> Self {
        Self {
            table: Table::with_capacity(entries),
            entries: Vec::with_capacity(entries),
            arena: Vec::new(),
            fold,
        }
    }

    /// Adds `name` → `value`. A name already present gives back its value.
    pub(crate) fn insert(&mut self, name: &[u8], value: u32) -> Result<(), u32> {
        if let Some(v) = self.get(name) {
            return Err(v);
        }
        let start = self.arena.len() as u32;
        self.arena.extend_from_slice(name);
        let end = self.arena.len() as u32;
        let idx = self.entries.len() as u32;
        self.entries.push((start, end, value));
        self.table.insert_multi(hash_bytes(name, self.fold), idx);
        Ok(())
    }

    /// The value of `name`.
    #[inline]
    pub(crate) fn get(&self, name: &[u8]) -> Option<u32> {
        let h = hash_bytes(name, self.fold);
        let idx = self.table.find_with(&h, |idx| {
            self.entries
                .get(idx as usize)
                .and_then(|&(s, e, _)| self.arena.get(s as usize..e as usize))
                .is_some_and(|stored| {
                    if self.fold {
                        eq_fold(stored, name)
                    } else {
                        stored == name
                    }
                })
        })?;
        self.entries.get(idx as usize).map(|&(_, _, v)| v)
    }

    /// Number of names.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_inserts_finds_and_rejects_duplicates() {
        let mut t: Table<u32> = Table::with_capacity(1000);
        for k in 0..1000u32 {
            t.insert(k * 7919, k).unwrap();
        }
        assert_eq!(t.len(), 1000);
        for k in 0..1000u32 {
            assert_eq!(t.get(&(k * 7919)), Some(k));
        }
        assert_eq!(t.get(&1), None);
        assert_eq!(t.insert(7919, 5), Err(InsertError::Duplicate(1)));
    }

    #[test]
    fn fold_word_lowercases_only_ascii_letters() {
        let all: Vec<u8> = (0..=255u8).collect();
        for c in all.chunks(8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            let got = fold_word(u64::from_le_bytes(w)).to_le_bytes();
            let want: Vec<u8> = c.iter().map(u8::to_ascii_lowercase).collect();
            assert_eq!(&got[..], &want[..]);
        }
    }

    #[test]
    fn name_table_folds_case_when_asked() {
        let mut t = NameTable::with_capacity(4, true);
        t.insert(b"Api.Example.COM", 1).unwrap();
        t.insert(b"llama-3-70b", 2).unwrap();
        assert_eq!(t.get(b"api.example.com"), Some(1));
        assert_eq!(t.get(b"LLAMA-3-70B"), Some(2));
        assert_eq!(t.get(b"api.example.co"), None);
        assert_eq!(t.insert(b"API.example.com", 9), Err(1));
        let mut exact = NameTable::with_capacity(2, false);
        exact.insert(b"Tenant-A", 0).unwrap();
        assert_eq!(exact.get(b"tenant-a"), None);
        assert_eq!(exact.get(b"Tenant-A"), Some(0));
        assert_eq!(exact.len(), 1);
    }
}
