//! The Internet checksum (RFC 1071): one's-complement sum of 16-bit big-endian words.
#![forbid(unsafe_code)]

/// Adds `bytes` to a running 32-bit sum (an odd trailing byte is padded with zero).
#[inline]
pub fn sum(mut acc: u32, bytes: &[u8]) -> u32 {
    let mut chunks = bytes.chunks_exact(2);
    for c in &mut chunks {
        if let [a, b] = c {
            acc = acc.wrapping_add(u32::from(u16::from_be_bytes([*a, *b])));
            acc = (acc & 0xFFFF) + (acc >> 16);
        }
    }
    if let [last] = chunks.remainder() {
        acc = acc.wrapping_add(u32::from(u16::from_be_bytes([*last, 0])));
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    acc
}

/// Adds `bytes` to a wide running sum four bytes at a time, carries deferred (RFC 1071 §2):
/// [`fold_wide`] gives the 16-bit sum. `bytes` starts at an even offset of the summed data;
/// an odd trailing byte is padded with zero. No overflow below 2^32 words.
#[inline]
pub fn sum_wide(mut acc: u64, bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(4);
    for c in &mut chunks {
        if let [a, b, c, d] = c {
            acc += u64::from(u32::from_be_bytes([*a, *b, *c, *d]));
        }
    }
    let mut tail = [0u8; 4];
    for (t, b) in tail.iter_mut().zip(chunks.remainder()) {
        *t = *b;
    }
    acc + u64::from(u32::from_be_bytes(tail))
}

/// Folds a [`sum_wide`] sum into 16 bits (not complemented).
#[inline]
pub fn fold_wide(mut acc: u64) -> u16 {
    while acc > 0xFFFF {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    acc as u16
}

/// Folds a running sum into 16 bits (not complemented).
#[inline]
pub fn fold(mut acc: u32) -> u16 {
    while acc > 0xFFFF {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    acc as u16
}

/// The checksum to store in a header: the complement of the folded sum.
#[inline]
pub fn finish(acc: u32) -> u16 {
    !fold(acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wide_sum_agrees_with_the_word_sum() {
        let data: [u8; 23] = core::array::from_fn(|i| (i as u8).wrapping_mul(151).wrapping_add(7));
        for n in 0..=data.len() {
            let d = &data[..n];
            assert_eq!(fold_wide(sum_wide(0, d)), fold(sum(0, d)), "{n} bytes");
        }
        let ones = [0xFFu8; 1500];
        assert_eq!(fold_wide(sum_wide(0, &ones)), fold(sum(0, &ones)));
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        let bytes = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(0, &bytes)), 0xddf2);
        assert_eq!(finish(sum(0, &bytes)), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(fold(sum(0, &[0x12, 0x34, 0x56])), 0x1234 + 0x5600);
    }
}
