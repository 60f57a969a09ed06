//! Message boundaries on an established connection, so that every request on it is found
//! and checked, not only the first: the framing of HTTP/1.1 bodies (Content-Length, or the
//! chunked coding of RFC 9112 §7.1 followed across segments) and the frames of an HTTP/2
//! connection (RFC 9113 §4.1) walked header to header.
//!
//! Each tracker is a few words of state kept in the connection's flow entry and fed the
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

/// An HTTP/2 connection's frames walked across segments (after the connection preface): the
/// walk knows where each frame header starts and reports every frame that opens a request
/// other than the one the first flight classified.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct H2Walk {
    /// The stream of the request that was classified.
    pub first_stream: u32,
    /// Bytes of the current frame's payload still to skip.
    skip: u32,
    /// The frame header read so far.
    header: [u8; 9],
    header_len: u8,
}

/// What an HTTP/2 walk met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum H2Event {
    /// A HEADERS (or PUSH_PROMISE) frame on a stream other than the classified one: a new
    /// request whose header block needs the connection's HPACK state.
    NewRequest,
    /// A frame longer than the 16,384 bytes a client may send before the server raises
    /// SETTINGS_MAX_FRAME_SIZE.
    FrameTooLong,
}

impl H2Walk {
    /// A walk at the start of a frame, for a connection whose classified request is on
    /// `first_stream` (0: the stream of the first HEADERS frame the walk meets).
    pub const fn new(first_stream: u32) -> Self {
        Self {
            first_stream,
            skip: 0,
            header: [0; 9],
            header_len: 0,
        }
    }

    /// Feeds the connection's next `bytes`.
    ///
    /// # Errors
    ///
    /// The first [`H2Event`] met (the walk stops there; the caller takes the connection off
    /// the GPU path).
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), H2Event> {
        while !bytes.is_empty() {
            if self.skip > 0 {
                let take = usize::try_from(self.skip).map_or(bytes.len(), |s| s.min(bytes.len()));
                bytes = bytes.get(take..).unwrap_or(&[]);
                self.skip -= take as u32;
                continue;
            }
            let have = usize::from(self.header_len);
            let need = 9 - have;
            let take = need.min(bytes.len());
            if let (Some(dst), Some(src)) =
                (self.header.get_mut(have..have + take), bytes.get(..take))
            {
                dst.copy_from_slice(src);
            }
            self.header_len += take as u8;
            bytes = bytes.get(take..).unwrap_or(&[]);
            if self.header_len < 9 {
                break;
            }
            self.header_len = 0;
            let [l0, l1, l2, kind, _flags, s0, s1, s2, s3] = self.header;
            let len = u32::from_be_bytes([0, l0, l1, l2]);
            let stream = u32::from_be_bytes([s0, s1, s2, s3]) & 0x7fff_ffff;
            if len > 16_384 {
                return Err(H2Event::FrameTooLong);
            }
            // HEADERS (1) and PUSH_PROMISE (5) open requests; CONTINUATION (9) continues the
            // block before it, which was checked or already refused.
            if kind == 1 && self.first_stream == 0 {
                // The first request's HEADERS: the classified one.
                self.first_stream = stream;
            } else if (kind == 1 || kind == 5) && stream != self.first_stream {
                return Err(H2Event::NewRequest);
            }
            self.skip = len;
        }
        Ok(())
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
    fn h2_walk_finds_new_streams_across_segments() {
        let frame = |kind: u8, stream: u32, len: usize| {
            let mut f = (len as u32).to_be_bytes()[1..].to_vec();
            f.extend([kind, 0]);
            f.extend(stream.to_be_bytes());
            f.extend(vec![0xaa; len]);
            f
        };
        let mut bytes = frame(0, 1, 100); // DATA on the classified stream
        bytes.extend(frame(8, 0, 4)); // WINDOW_UPDATE
        bytes.extend(frame(1, 1, 10)); // trailers on stream 1
        let ok_len = bytes.len();
        bytes.extend(frame(1, 3, 20)); // a new request
        for cut in 0..ok_len {
            let mut w = H2Walk::new(1);
            w.feed(&bytes[..cut]).unwrap();
            w.feed(&bytes[cut..ok_len]).unwrap();
            assert_eq!(w.feed(&bytes[ok_len..]), Err(H2Event::NewRequest));
        }
        let mut w = H2Walk::new(1);
        assert_eq!(
            w.feed(&frame(0, 1, 20_000)[..9]),
            Err(H2Event::FrameTooLong)
        );
    }

    #[test]
    fn sequence_order_wraps() {
        assert!(seq_lt(1, 2) && !seq_lt(2, 1) && !seq_lt(5, 5));
        assert!(seq_lt(u32::MAX - 2, 3));
    }
}
