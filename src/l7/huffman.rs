//! The Huffman code of HPACK string literals (RFC 7541 §5.2, code table of Appendix B):
//! a decoder, driven by tables that a `const fn` builds from the code table at compile time.
//!
//! # Promises
//!
//! - **No panic, on any input.** Every table read and every output write goes through `get`;
//!   the only indexing is in the `const fn` that builds the tables, which runs at compile time
//!   (an out-of-range index there fails the build, it cannot happen at run time).
//! - **No allocation.** [`decode`] writes into the caller's buffer; the tables (16 KiB of
//!   short-code lookup plus about 1 KiB for the long codes) are `static`s built at compile time.
//! - **Strict.** The three decoding errors of RFC 7541 §5.2 are rejected, each with its own
//!   [`HpackError`]: the EOS symbol inside the string, padding longer than 7 bits, and padding
//!   that is not all ones. A `dst` too small for the output is [`HpackError::HuffmanOverflow`].
//!
//! # How it decodes
//!
//! The code of Appendix B is *canonical*: sorted by (length, symbol), each code is the previous
//! one plus one, shifted left when the length grows. A compile-time assertion checks this for
//! all 257 entries, and also that the code is complete (EOS is the last code, all ones). The
//! decoder keeps up to 64 input bits, left-aligned, in a `u64`, refilled 8 bytes at a time, and
//! decodes one or two symbols per step from the top 32 bits:
//!
//! - codes of up to 12 bits (every letter, digit and common punctuation mark) come out of one
//!   4096-entry lookup on the top 12 bits, which gives the symbol and its length, and a second
//!   symbol when its code also ends within the 12 bits (two lower-case letters, say);
//! - longer codes fall back to the canonical rule: for lengths 13 to 30, the first length whose
//!   left-aligned limit exceeds the window is the code's length, and the symbol is found by its
//!   rank among the codes of that length.
//!
//! At the end of the input the missing bits are read as ones, so a symbol that ends inside
//! the input still decodes; what is left after the last whole symbol is the padding.
#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

use super::hpack::HpackError;

/// The end-of-string symbol: it may only appear, truncated, as padding.
pub const EOS: u16 = 256;

/// The code of RFC 7541 Appendix B: `(code, length in bits)` for the octets 0 to 255 and then
/// EOS (256), codes right-aligned as the RFC prints them.
#[rustfmt::skip]
pub const CODES: [(u32, u8); 257] = [
    (0x1ff8, 13), (0x7fffd8, 23), (0xfffffe2, 28), (0xfffffe3, 28),       // 0..=3
    (0xfffffe4, 28), (0xfffffe5, 28), (0xfffffe6, 28), (0xfffffe7, 28),   // 4..=7
    (0xfffffe8, 28), (0xffffea, 24), (0x3ffffffc, 30), (0xfffffe9, 28),   // 8..=11
    (0xfffffea, 28), (0x3ffffffd, 30), (0xfffffeb, 28), (0xfffffec, 28),  // 12..=15
    (0xfffffed, 28), (0xfffffee, 28), (0xfffffef, 28), (0xffffff0, 28),   // 16..=19
    (0xffffff1, 28), (0xffffff2, 28), (0x3ffffffe, 30), (0xffffff3, 28),  // 20..=23
    (0xffffff4, 28), (0xffffff5, 28), (0xffffff6, 28), (0xffffff7, 28),   // 24..=27
    (0xffffff8, 28), (0xffffff9, 28), (0xffffffa, 28), (0xffffffb, 28),   // 28..=31
    (0x14, 6), (0x3f8, 10), (0x3f9, 10), (0xffa, 12),                     // 32..=35
    (0x1ff9, 13), (0x15, 6), (0xf8, 8), (0x7fa, 11),                      // 36..=39
    (0x3fa, 10), (0x3fb, 10), (0xf9, 8), (0x7fb, 11),                     // 40..=43
    (0xfa, 8), (0x16, 6), (0x17, 6), (0x18, 6),                           // 44..=47
    (0x0, 5), (0x1, 5), (0x2, 5), (0x19, 6),                              // 48..=51
    (0x1a, 6), (0x1b, 6), (0x1c, 6), (0x1d, 6),                           // 52..=55
    (0x1e, 6), (0x1f, 6), (0x5c, 7), (0xfb, 8),                           // 56..=59
    (0x7ffc, 15), (0x20, 6), (0xffb, 12), (0x3fc, 10),                    // 60..=63
    (0x1ffa, 13), (0x21, 6), (0x5d, 7), (0x5e, 7),                        // 64..=67
    (0x5f, 7), (0x60, 7), (0x61, 7), (0x62, 7),                           // 68..=71
    (0x63, 7), (0x64, 7), (0x65, 7), (0x66, 7),                           // 72..=75
    (0x67, 7), (0x68, 7), (0x69, 7), (0x6a, 7),                           // 76..=79
    (0x6b, 7), (0x6c, 7), (0x6d, 7), (0x6e, 7),                           // 80..=83
    (0x6f, 7), (0x70, 7), (0x71, 7), (0x72, 7),                           // 84..=87
    (0xfc, 8), (0x73, 7), (0xfd, 8), (0x1ffb, 13),                        // 88..=91
    (0x7fff0, 19), (0x1ffc, 13), (0x3ffc, 14), (0x22, 6),                 // 92..=95
    (0x7ffd, 15), (0x3, 5), (0x23, 6), (0x4, 5),                          // 96..=99
    (0x24, 6), (0x5, 5), (0x25, 6), (0x26, 6),                            // 100..=103
    (0x27, 6), (0x6, 5), (0x74, 7), (0x75, 7),                            // 104..=107
    (0x28, 6), (0x29, 6), (0x2a, 6), (0x7, 5),                            // 108..=111
    (0x2b, 6), (0x76, 7), (0x2c, 6), (0x8, 5),                            // 112..=115
    (0x9, 5), (0x2d, 6), (0x77, 7), (0x78, 7),                            // 116..=119
    (0x79, 7), (0x7a, 7), (0x7b, 7), (0x7ffe, 15),                        // 120..=123
    (0x7fc, 11), (0x3ffd, 14), (0x1ffd, 13), (0xffffffc, 28),             // 124..=127
    (0xfffe6, 20), (0x3fffd2, 22), (0xfffe7, 20), (0xfffe8, 20),          // 128..=131
    (0x3fffd3, 22), (0x3fffd4, 22), (0x3fffd5, 22), (0x7fffd9, 23),       // 132..=135
    (0x3fffd6, 22), (0x7fffda, 23), (0x7fffdb, 23), (0x7fffdc, 23),       // 136..=139
    (0x7fffdd, 23), (0x7fffde, 23), (0xffffeb, 24), (0x7fffdf, 23),       // 140..=143
    (0xffffec, 24), (0xffffed, 24), (0x3fffd7, 22), (0x7fffe0, 23),       // 144..=147
    (0xffffee, 24), (0x7fffe1, 23), (0x7fffe2, 23), (0x7fffe3, 23),       // 148..=151
    (0x7fffe4, 23), (0x1fffdc, 21), (0x3fffd8, 22), (0x7fffe5, 23),       // 152..=155
    (0x3fffd9, 22), (0x7fffe6, 23), (0x7fffe7, 23), (0xffffef, 24),       // 156..=159
    (0x3fffda, 22), (0x1fffdd, 21), (0xfffe9, 20), (0x3fffdb, 22),        // 160..=163
    (0x3fffdc, 22), (0x7fffe8, 23), (0x7fffe9, 23), (0x1fffde, 21),       // 164..=167
    (0x7fffea, 23), (0x3fffdd, 22), (0x3fffde, 22), (0xfffff0, 24),       // 168..=171
    (0x1fffdf, 21), (0x3fffdf, 22), (0x7fffeb, 23), (0x7fffec, 23),       // 172..=175
    (0x1fffe0, 21), (0x1fffe1, 21), (0x3fffe0, 22), (0x1fffe2, 21),       // 176..=179
    (0x7fffed, 23), (0x3fffe1, 22), (0x7fffee, 23), (0x7fffef, 23),       // 180..=183
    (0xfffea, 20), (0x3fffe2, 22), (0x3fffe3, 22), (0x3fffe4, 22),        // 184..=187
    (0x7ffff0, 23), (0x3fffe5, 22), (0x3fffe6, 22), (0x7ffff1, 23),       // 188..=191
    (0x3ffffe0, 26), (0x3ffffe1, 26), (0xfffeb, 20), (0x7fff1, 19),       // 192..=195
    (0x3fffe7, 22), (0x7ffff2, 23), (0x3fffe8, 22), (0x1ffffec, 25),      // 196..=199
    (0x3ffffe2, 26), (0x3ffffe3, 26), (0x3ffffe4, 26), (0x7ffffde, 27),   // 200..=203
    (0x7ffffdf, 27), (0x3ffffe5, 26), (0xfffff1, 24), (0x1ffffed, 25),    // 204..=207
    (0x7fff2, 19), (0x1fffe3, 21), (0x3ffffe6, 26), (0x7ffffe0, 27),      // 208..=211
    (0x7ffffe1, 27), (0x3ffffe7, 26), (0x7ffffe2, 27), (0xfffff2, 24),    // 212..=215
    (0x1fffe4, 21), (0x1fffe5, 21), (0x3ffffe8, 26), (0x3ffffe9, 26),     // 216..=219
    (0xffffffd, 28), (0x7ffffe3, 27), (0x7ffffe4, 27), (0x7ffffe5, 27),   // 220..=223
    (0xfffec, 20), (0xfffff3, 24), (0xfffed, 20), (0x1fffe6, 21),         // 224..=227
    (0x3fffe9, 22), (0x1fffe7, 21), (0x1fffe8, 21), (0x7ffff3, 23),       // 228..=231
    (0x3fffea, 22), (0x3fffeb, 22), (0x1ffffee, 25), (0x1ffffef, 25),     // 232..=235
    (0xfffff4, 24), (0xfffff5, 24), (0x3ffffea, 26), (0x7ffff4, 23),      // 236..=239
    (0x3ffffeb, 26), (0x7ffffe6, 27), (0x3ffffec, 26), (0x3ffffed, 26),   // 240..=243
    (0x7ffffe7, 27), (0x7ffffe8, 27), (0x7ffffe9, 27), (0x7ffffea, 27),   // 244..=247
    (0x7ffffeb, 27), (0xffffffe, 28), (0x7ffffec, 27), (0x7ffffed, 27),   // 248..=251
    (0x7ffffee, 27), (0x7ffffef, 27), (0x7fffff0, 27), (0x3ffffee, 26),   // 252..=255
    (0x3fffffff, 30),                                                     // 256..=256
];

/// Bits looked up at once for the short codes (12: 16 KiB of table, about 20% faster on
/// header text than 11 bits, and fits L1 with room to spare).
const FAST_BITS: u32 = 12;

/// Longest code (EOS and a few control octets).
const MAX_LEN: u32 = 30;

/// The decoding tables, built from [`CODES`] at compile time.
struct Tables {
    /// Indexed by the next 12 input bits: the one or two whole codes they start with (see
    /// [`pair_entry`]), or 0 where the first code is longer than 12 bits.
    fast: [u32; 1 << FAST_BITS],
    /// Per length: the first (smallest) code of that length.
    first: [u32; MAX_LEN as usize + 1],
    /// Per length: one past the last code of that length, left-aligned in 32 bits. Every code
    /// of length `L` or less, left-aligned, is below `limit[L]`; every longer one is not.
    limit: [u64; MAX_LEN as usize + 1],
    /// Per length: where the symbols of that length start in `sorted`.
    base: [u16; MAX_LEN as usize + 1],
    /// The symbols sorted by (length, symbol), which is the order of their codes.
    sorted: [u16; 257],
}

static TABLES: Tables = build_tables();

/// Builds [`TABLES`] and checks that [`CODES`] is a complete canonical code.
///
/// Runs only at compile time (it initialises a `static`): an out-of-range index or a failed
/// assertion is a build error, never a run-time panic.
#[allow(clippy::indexing_slicing)]
const fn build_tables() -> Tables {
    let mut count = [0u16; MAX_LEN as usize + 1];
    let mut s = 0;
    while s < CODES.len() {
        let len = CODES[s].1 as usize;
        assert!(
            len >= 5 && len <= MAX_LEN as usize,
            "code length out of range"
        );
        count[len] += 1;
        s += 1;
    }

    let mut first = [0u32; MAX_LEN as usize + 1];
    let mut limit = [0u64; MAX_LEN as usize + 1];
    let mut base = [0u16; MAX_LEN as usize + 1];
    let mut code: u64 = 0;
    let mut index: u16 = 0;
    let mut len = 1;
    while len <= MAX_LEN as usize {
        first[len] = code as u32;
        base[len] = index;
        code += count[len] as u64;
        index += count[len];
        limit[len] = code << (32 - len);
        code <<= 1;
        len += 1;
    }
    // Complete: the codes of length 30 end exactly at 2^30, so the limit of the last length
    // covers every 32-bit window and the long-code search always ends.
    assert!(
        limit[MAX_LEN as usize] == 1 << 32,
        "the code is not complete"
    );

    let mut sorted = [0u16; 257];
    let mut filled = [0u16; MAX_LEN as usize + 1];
    let mut single = [0u16; 1 << FAST_BITS];
    let mut s = 0;
    while s < CODES.len() {
        let (code, len) = CODES[s];
        let len = len as usize;
        let rank = filled[len];
        // Canonical: the codes of one length are consecutive, in symbol order.
        assert!(
            code == first[len] + rank as u32,
            "the code is not canonical"
        );
        sorted[(base[len] + rank) as usize] = s as u16;
        filled[len] += 1;
        if len <= FAST_BITS as usize {
            assert!(s < 256, "EOS cannot be a short code");
            let shift = FAST_BITS as usize - len;
            let start = (code as usize) << shift;
            let mut i = 0;
            while i < 1 << shift {
                single[start + i] = ((len as u16) << 8) | s as u16;
                i += 1;
            }
        }
        s += 1;
    }
    // Two codes at once where the second also ends within the 12 bits.
    let mut fast = [0u32; 1 << FAST_BITS];
    let mut i = 0;
    while i < 1 << FAST_BITS {
        let one = single[i];
        if one != 0 {
            let len1 = (one >> 8) as u32;
            let two = single[(i << len1) & ((1 << FAST_BITS) - 1)];
            let len2 = (two >> 8) as u32;
            fast[i] = if two != 0 && len1 + len2 <= FAST_BITS {
                pair_entry(one as u8, two as u8, len1, len1 + len2, 2)
            } else {
                pair_entry(one as u8, 0, len1, len1, 1)
            };
        }
        i += 1;
    }
    Tables {
        fast,
        first,
        limit,
        base,
        sorted,
    }
}

/// A short-code lookup entry: first symbol (bits 0–7), second symbol (8–15), length of the
/// first code (16–20), bits taken by both (21–25), number of symbols (26–27, 1 or 2).
const fn pair_entry(first: u8, second: u8, len1: u32, bits: u32, count: u32) -> u32 {
    first as u32 | (second as u32) << 8 | len1 << 16 | bits << 21 | count << 26
}

/// The short-code lookup entry for the top 12 bits of `window` (0: the first code is longer).
#[inline(always)]
fn fast_entry(window: u32) -> u32 {
    TABLES
        .fast
        .get((window >> (32 - FAST_BITS)) as usize)
        .copied()
        .unwrap_or(0)
}

/// Decodes the symbol at the top of `window` (the next 32 input bits, most significant first):
/// returns the symbol and its code length. Only the first `length` bits of `window` matter.
#[inline(always)]
fn symbol(window: u32) -> (u16, u32) {
    first_symbol(fast_entry(window), window)
}

/// The first symbol of a short-code `entry` for `window`, or the long code at its top.
#[inline(always)]
fn first_symbol(entry: u32, window: u32) -> (u16, u32) {
    if entry != 0 {
        ((entry & 0xff) as u16, (entry >> 16) & 0x1f)
    } else {
        long_symbol(window)
    }
}

/// [`symbol`] for codes longer than the short-code lookup: the canonical rule.
#[cold]
#[inline(never)]
fn long_symbol(window: u32) -> (u16, u32) {
    let t = &TABLES;
    let mut len = FAST_BITS + 1;
    while len <= MAX_LEN {
        let l = len as usize;
        if u64::from(window) < t.limit.get(l).copied().unwrap_or(0) {
            let rank = (window >> (32 - len)).wrapping_sub(t.first.get(l).copied().unwrap_or(0));
            let at = usize::from(t.base.get(l).copied().unwrap_or(0)).wrapping_add(rank as usize);
            return (t.sorted.get(at).copied().unwrap_or(EOS), len);
        }
        len += 1;
    }
    // Unreachable: the limit of length 30 is 2^32 (checked at compile time).
    (EOS, MAX_LEN)
}

/// Decodes the Huffman-coded string `src` into `dst`; returns the number of bytes written.
///
/// # Errors
///
/// - [`HpackError::HuffmanEos`]: the EOS symbol appears whole in `src`.
/// - [`HpackError::HuffmanPadding`]: the bits after the last symbol are more than 7, or are not
///   all ones (RFC 7541 §5.2).
/// - [`HpackError::HuffmanOverflow`]: the decoded string is longer than `dst`. What was
///   decoded until then is in `dst`.
pub fn decode(src: &[u8], dst: &mut [u8]) -> Result<usize, HpackError> {
    // Pending input bits, left-aligned: the next bit is bit 63. Bits below the `nbits` valid
    // ones are zero or already the right next bits (an 8-byte refill loads one byte ahead).
    let mut acc: u64 = 0;
    let mut nbits: u32 = 0;
    let mut rest = src;
    let mut out = 0usize;
    loop {
        if let Some((word, _)) = rest.split_first_chunk::<8>() {
            // Load 8 bytes, keep the whole ones that fit: afterwards 56 <= nbits <= 63.
            acc |= u64::from_be_bytes(*word) >> nbits;
            let taken = ((63 - nbits) >> 3) as usize;
            rest = rest.get(taken..).unwrap_or(&[]);
            nbits |= 56;
        } else {
            while nbits <= 56 {
                let Some((&byte, after)) = rest.split_first() else {
                    break;
                };
                acc |= u64::from(byte) << (56 - nbits);
                nbits += 8;
                rest = after;
            }
        }
        // With 30 bits or more pending, any code fits: decode without a length check.
        while nbits >= MAX_LEN {
            let window = (acc >> 32) as u32;
            let entry = fast_entry(window);
            if entry != 0 {
                // One or two short codes: store two bytes, keep as many as were decoded.
                if let Some(two) = dst.get_mut(out..).and_then(<[u8]>::first_chunk_mut::<2>) {
                    *two = [entry as u8, (entry >> 8) as u8];
                    out += (entry >> 26) as usize;
                    let bits = (entry >> 21) & 0x1f;
                    acc <<= bits;
                    nbits -= bits;
                    continue;
                }
            }
            // A long code, or fewer than two bytes of room left: one symbol, checked.
            let (sym, len) = first_symbol(entry, window);
            if sym == EOS {
                return Err(HpackError::HuffmanEos);
            }
            let slot = dst.get_mut(out).ok_or(HpackError::HuffmanOverflow)?;
            *slot = sym as u8;
            out += 1;
            acc <<= len;
            nbits -= len;
        }
        if rest.is_empty() {
            break;
        }
    }
    // Fewer than 30 bits left and no more input: read the missing bits as ones. A symbol
    // longer than what is left is padding (or the start of a cut-off code).
    while nbits > 0 {
        let (sym, len) = symbol(((acc >> 32) as u32) | (u32::MAX >> nbits));
        if len > nbits {
            break;
        }
        if sym == EOS {
            return Err(HpackError::HuffmanEos);
        }
        let slot = dst.get_mut(out).ok_or(HpackError::HuffmanOverflow)?;
        *slot = sym as u8;
        out += 1;
        acc <<= len;
        nbits -= len;
    }
    let pad = !(u64::MAX >> nbits);
    if nbits > 7 || acc & pad != pad {
        return Err(HpackError::HuffmanPadding);
    }
    Ok(out)
}

/// Length in bytes of the Huffman coding of `bytes` (padding included).
pub fn encoded_len(bytes: &[u8]) -> usize {
    let bits: usize = bytes
        .iter()
        .map(|&b| usize::from(CODES.get(usize::from(b)).map_or(0, |c| c.1)))
        .sum();
    bits.div_ceil(8)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A plain Huffman encoder from [`CODES`], for the tests of this module and of `hpack`.
    pub(crate) fn encode(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut acc: u64 = 0;
        let mut n = 0u32;
        for &b in bytes {
            let (code, len) = CODES[usize::from(b)];
            acc = (acc << len) | u64::from(code);
            n += u32::from(len);
            while n >= 8 {
                n -= 8;
                out.push((acc >> n) as u8);
            }
        }
        if n > 0 {
            out.push(((acc << (8 - n)) as u8) | (0xff >> n));
        }
        assert_eq!(out.len(), encoded_len(bytes));
        out
    }

    fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }

    fn dec(src: &[u8]) -> Result<Vec<u8>, HpackError> {
        let mut buf = vec![0u8; src.len() * 8 / 5 + 1];
        let n = decode(src, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Every Huffman string of RFC 7541 C.4 and C.6, with its text.
    const RFC_STRINGS: &[(&str, &str)] = &[
        ("f1e3 c2e5 f23a 6ba0 ab90 f4ff", "www.example.com"),
        ("a8eb 1064 9cbf", "no-cache"),
        ("25a8 49e9 5ba9 7d7f", "custom-key"),
        ("25a8 49e9 5bb8 e8b4 bf", "custom-value"),
        ("6402", "302"),
        ("aec3 771a 4b", "private"),
        (
            "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff",
            "Mon, 21 Oct 2013 20:13:21 GMT",
        ),
        (
            "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3",
            "https://www.example.com",
        ),
        ("640e ff", "307"),
        (
            "d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff",
            "Mon, 21 Oct 2013 20:13:22 GMT",
        ),
        ("9bd9 ab", "gzip"),
        (
            "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 \
             3160 65c0 03ed 4ee5 b106 3d50 07",
            "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
        ),
    ];

    #[test]
    fn decodes_the_rfc_strings() {
        for &(coded, text) in RFC_STRINGS {
            assert_eq!(dec(&hex(coded)).unwrap(), text.as_bytes(), "{text}");
            assert_eq!(encode(text.as_bytes()), hex(coded), "{text}");
        }
    }

    #[test]
    fn code_table_spot_checks() {
        // A few rows of Appendix B, across the lengths.
        assert_eq!(CODES[0], (0x1ff8, 13));
        assert_eq!(CODES[usize::from(b' ')], (0x14, 6));
        assert_eq!(CODES[usize::from(b'0')], (0x0, 5));
        assert_eq!(CODES[usize::from(b'X')], (0xfc, 8));
        assert_eq!(CODES[usize::from(b'\\')], (0x7fff0, 19));
        assert_eq!(CODES[usize::from(b'~')], (0x1ffd, 13));
        assert_eq!(CODES[128], (0xfffe6, 20));
        assert_eq!(CODES[220], (0xffffffd, 28));
        assert_eq!(CODES[255], (0x3ffffee, 26));
        assert_eq!(CODES[usize::from(EOS)], (0x3fff_ffff, 30));
        // Kraft sum exactly 1: a complete prefix code.
        let kraft: u64 = CODES.iter().map(|&(_, l)| 1u64 << (30 - l)).sum();
        assert_eq!(kraft, 1 << 30);
    }

    #[test]
    fn every_single_symbol() {
        for b in 0..=255u8 {
            let coded = encode(&[b]);
            assert_eq!(dec(&coded).unwrap(), [b], "symbol {b}");
            // And surrounded by short codes, at every bit alignment.
            for pre in 0..8 {
                let mut s = vec![b'a'; pre];
                s.push(b);
                s.extend_from_slice(b"e0");
                assert_eq!(dec(&encode(&s)).unwrap(), s);
            }
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(dec(&encode(&all)).unwrap(), all);
    }

    #[test]
    fn empty_string() {
        assert_eq!(decode(&[], &mut []), Ok(0));
    }

    #[test]
    fn padding_errors() {
        // 'a' is 00011; with three padding ones it is 0x1f.
        assert_eq!(dec(&[0x1f]).unwrap(), b"a");
        // A padding with a zero bit.
        assert_eq!(dec(&[0x1e]), Err(HpackError::HuffmanPadding));
        assert_eq!(dec(&[0x1b]), Err(HpackError::HuffmanPadding));
        // Eight bits of padding: a whole byte of ones after a string ending on a byte.
        assert_eq!(dec(&[0xff]), Err(HpackError::HuffmanPadding));
        let mut coded = encode(b"0a0a0a0a"); // 40 bits, no padding
        assert_eq!(coded.len(), 5);
        coded.push(0xff);
        assert_eq!(dec(&coded), Err(HpackError::HuffmanPadding));
        // Eleven bits of padding.
        assert_eq!(dec(&[0x1f, 0xff]), Err(HpackError::HuffmanPadding));
        // 29 ones after an 11-bit code ('\'' is 0x7fa): one bit short of EOS, still padding.
        let bits: u64 = (0x7fa << 29) | ((1 << 29) - 1);
        assert_eq!(
            dec(&bits.to_be_bytes()[3..]),
            Err(HpackError::HuffmanPadding)
        );
        // A code cut short: the first 8 bits of the 13-bit code of octet 0 are 11111111,
        // and the first 3 bits of 'a' (00011) are zeros.
        assert_eq!(dec(&[0x00]), Err(HpackError::HuffmanPadding));
    }

    #[test]
    fn eos_in_the_string() {
        assert_eq!(dec(&[0xff, 0xff, 0xff, 0xff]), Err(HpackError::HuffmanEos));
        assert_eq!(dec(&[0xff, 0xff, 0xff, 0xfc]), Err(HpackError::HuffmanEos));
        // EOS after a symbol, and before one.
        let mut s = encode(b"abc");
        s.extend_from_slice(&[0xff; 5]);
        assert_eq!(dec(&s), Err(HpackError::HuffmanEos));
        // 'a', EOS, 'a': 00011 + 30 ones + 00011 = 40 bits, no padding.
        let bits: u64 = (0b00011 << 35) | (0x3fff_ffff << 5) | 0b00011;
        let coded = &bits.to_be_bytes()[3..];
        assert_eq!(dec(coded), Err(HpackError::HuffmanEos));
    }

    #[test]
    fn output_longer_than_dst() {
        let coded = encode(b"www.example.com");
        let mut small = [0u8; 14];
        assert_eq!(decode(&coded, &mut small), Err(HpackError::HuffmanOverflow));
        assert_eq!(&small, b"www.example.co");
        let mut exact = [0u8; 15];
        assert_eq!(decode(&coded, &mut exact), Ok(15));
        // Long input (the 8-byte refill path) too.
        let long = [b'z'; 100];
        let mut buf = [0u8; 99];
        assert_eq!(
            decode(&encode(&long), &mut buf),
            Err(HpackError::HuffmanOverflow)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn round_trip(s in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(dec(&encode(&s)).unwrap(), s);
        }

        #[test]
        fn round_trip_text(s in "[ -~]{0,200}") {
            prop_assert_eq!(dec(&encode(s.as_bytes())).unwrap(), s.as_bytes());
        }

        /// Random input never panics, and whatever decodes is the one encoding of its output
        /// (padding is forced, so the code has one encoding per string).
        #[test]
        fn random_input(src in proptest::collection::vec(any::<u8>(), 0..64), cap in 0usize..120) {
            let mut buf = vec![0u8; cap];
            if let Ok(n) = decode(&src, &mut buf) {
                prop_assert_eq!(encode(&buf[..n]), src);
            }
        }
    }
}
