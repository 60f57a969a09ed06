//! Message boundaries on an established HTTP/1.1 connection, so that every request on it is
//! found and checked, not only the first: the framing of bodies (Content-Length, or the
//! chunked coding of RFC 9112 §7.1 followed across segments). HTTP/2 connections are followed
//! by [`super::h2conn`].
//!
//! The tracker is a few words of state kept beside the connection's flow entry and fed the
//! connection's bytes in order, segment by segment; it never copies or holds bytes. Fixed
//! size, no allocation, no panic on any input: a malformed framing is an error the caller
//! turns into a refusal.
#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

/// Where a chunked body (RFC 9112 §7.1) stands between two segments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Chunked {
    phase: Phase,
    /// Bytes of chunk data still to skip, or the chunk size read so far.
    n: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
enum Phase {
    /// Reading the chunk size's hex digits.
    #[default]
    Size,
    /// Skipping a chunk extension up to the line end.
    Ext,
    /// After the size line's CR: its LF.
    SizeLf,
    /// Skipping `n` bytes of chunk data.
    Data,
    /// After the data: its CR.
    DataCr,
    /// After the data's CR: its LF.
    DataLf,
    /// At the start of a trailer line (or the final empty line).
    TrailerStart,
    /// Inside a trailer field line.
    Trailer,
    /// After the final empty line's CR: its LF.
    EndLf,
}

/// What the chunked coding of a body is wrong about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BadChunk;

impl Chunked {
    /// A body that has not started.
    pub const START: Self = Self {
        phase: Phase::Size,
        n: 0,
    };

    /// Feeds the next `bytes` of the body. `Ok(Some(k))`: the body ended after `k` bytes of
    /// `bytes` (the next message starts there); `Ok(None)`: all of `bytes` belongs to the body.
    /// Cost: one step per framing byte; chunk data is skipped by its length.
    ///
    /// # Errors
    ///
    /// [`BadChunk`] for a malformed size line, a missing CRLF after chunk data, or a chunk
    /// size over 2^60.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Option<usize>, BadChunk> {
        let mut i = 0usize;
        while i < bytes.len() {
            if self.phase == Phase::Data {
                let left = bytes.len() - i;
                let take = usize::try_from(self.n).map_or(left, |n| n.min(left));
                i += take;
                self.n -= take as u64;
                if self.n == 0 {
                    self.phase = Phase::DataCr;
                }
                continue;
            }
            let b = bytes.get(i).copied().unwrap_or(0);
            i += 1;
            self.phase = match (self.phase, b) {
                (Phase::Size, b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F') => {
                    if self.n >> 60 != 0 {
                        return Err(BadChunk);
                    }
                    let d = (b as char).to_digit(16).map_or(0, u64::from);
                    self.n = (self.n << 4) | d;
                    Phase::Size
                }
                (Phase::Size, b';' | b' ' | b'\t') => Phase::Ext,
                (Phase::Size | Phase::Ext, b'\r') => Phase::SizeLf,
                (Phase::Size | Phase::Ext, b'\n') | (Phase::SizeLf, b'\n') => self.after_size(),
                (Phase::Ext, c) if c != b'\n' && c != b'\r' => Phase::Ext,
                (Phase::DataCr, b'\r') => Phase::DataLf,
                (Phase::DataCr, b'\n') | (Phase::DataLf, b'\n') => {
                    self.n = 0;
                    Phase::Size
                }
                (Phase::TrailerStart, b'\r') => Phase::EndLf,
                (Phase::TrailerStart, b'\n') | (Phase::EndLf, b'\n') => {
                    *self = Self::START;
                    return Ok(Some(i));
                }
                (Phase::Trailer, b'\n') => Phase::TrailerStart,
                (Phase::TrailerStart | Phase::Trailer, _) => Phase::Trailer,
                _ => return Err(BadChunk),
            };
        }
        Ok(None)
    }

    fn after_size(&mut self) -> Phase {
        if self.n == 0 {
            Phase::TrailerStart
        } else {
            Phase::Data
        }
    }
}

/// Sequence-number order modulo 2^32 (RFC 9293 §3.4): whether `a` comes before `b`.
#[inline(always)]
pub fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_body_ends_where_its_last_chunk_does_in_any_segmentation() {
        let body =
            b"4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\nGET";
        let end = body.len() - 3;
        for cut in 0..body.len() {
            let (a, b) = body.split_at(cut);
            let mut c = Chunked::START;
            let got = match c.feed(a).unwrap() {
                Some(k) => k,
                None => cut + c.feed(b).unwrap().unwrap(),
            };
            assert_eq!(got, end, "cut at {cut}");
        }
        let mut c = Chunked::START;
        assert_eq!(c.feed(b"0\r\n\r\n"), Ok(Some(5)));
        for bad in [&b"x\r\n"[..], b"4\r\nabcdX", b"fffffffffffffffff\r\n"] {
            let mut c = Chunked::START;
            assert_eq!(c.feed(bad), Err(BadChunk), "{bad:?}");
        }
    }

    #[test]
    fn sequence_order_wraps() {
        assert!(seq_lt(1, 2) && !seq_lt(2, 1) && !seq_lt(5, 5));
        assert!(seq_lt(u32::MAX - 2, 3));
    }
}
