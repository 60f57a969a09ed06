//! An HTTP/2 connection followed past its first flight (RFC 9113, RFC 7541), so that every
//! stream's request meets the policy, not only the first.
//!
//! [`H2Conn`] is fed the connection's bytes in order, segment by segment. It walks every
//! frame; it gathers every header block (HEADERS and its CONTINUATION frames) and decodes it
//! with the connection's own HPACK dynamic table, trailers included, so that the table stays
//! the one the backend holds and each request is read as the backend will read it; and it
//! hands each new stream's request to the caller's check. A request whose model is named by
//! its body (a JSON `model`, a gRPC `ModelInfer` `model_name`) is checked when the first
//! bytes of its first DATA frame have come, before that DATA passes.
//!
//! What it does not keep makes the connection unfollowable ([`H2Stop::Unfollowable`]), never
//! unchecked: a header block over [`BLOCK_MAX`] bytes, a table size update over the 4,096
//! bytes the decoder holds (a server that advertised a larger `SETTINGS_HEADER_TABLE_SIZE`),
//! a second request waiting for its body while one already does.
//!
//! Fixed size (about 13 KiB); no allocation; no panic on any input.
#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

use core::fmt;

use super::h2::{
    body_model, decode_request, BodyNeeds, H2Error, CONTINUATION, DATA, END_HEADERS, END_STREAM,
    HEADERS, MAX_FRAME_LEN, PADDED, PRIORITY_FLAG, RST_STREAM,
};
use super::hpack::{Decoder, HpackError, SavedTable};
use super::http1::HeaderNames;
use super::RequestInfo;

/// The longest header block (all its fragments, padding and priority fields included) that
/// is gathered; a longer one makes the connection unfollowable.
pub const BLOCK_MAX: usize = 4096;
/// How many bytes of a request's first DATA frame are gathered to find its model.
pub const DATA_SCAN: usize = 1024;

/// PUSH_PROMISE (RFC 9113 §6.6): a client never sends one.
const PUSH_PROMISE: u8 = 5;

/// Why an [`H2Conn`] stopped following its connection. After a stop the caller takes the
/// connection off the followed path; feeding again is not meaningful.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum H2Stop<E> {
    /// The caller's check refused a request (its answer).
    Refused(E),
    /// The frames or a header block break HTTP/2 (the backend would end the connection), or
    /// a request is ambiguous ([`H2Error::Ambiguous`]).
    Malformed(H2Error),
    /// Something this follower does not keep (see the module documentation): from here on
    /// the connection can no longer be checked request by request.
    Unfollowable,
}

/// A request decoded from its headers whose body is still to be read.
#[derive(Clone, Copy, Debug)]
struct Pending {
    stream: u32,
    info: RequestInfo,
    grpc: bool,
    needs: BodyNeeds,
    /// Whether the check has run (the body is then only compared with the headers).
    checked: bool,
}

/// One HTTP/2 connection's state between segments: the frame walk, the header block being
/// gathered, the HPACK table, and the request that waits for its body.
#[derive(Clone)]
pub struct H2Conn {
    table: SavedTable,
    /// The frame header read so far.
    header: [u8; 9],
    header_len: u8,
    /// The current frame's type, flags and stream, and its payload bytes still to come.
    kind: u8,
    flags: u8,
    stream: u32,
    left: u32,
    /// Whether the current frame's payload is gathered into `block` or `data`.
    into_block: bool,
    into_data: bool,
    block: [u8; BLOCK_MAX],
    block_len: usize,
    /// Where the current frame's fragment starts in `block`.
    frame_start: usize,
    /// The stream whose header block awaits CONTINUATION frames (0: none).
    open_block: u32,
    /// The HEADERS frame's flags of the block being gathered.
    block_flags: u8,
    /// The highest stream a request was opened on: a HEADERS above it opens a new request.
    max_stream: u32,
    /// The next new request was decided elsewhere (the first flight's): decoded, not checked.
    skip_first: bool,
    pending: Option<Pending>,
    data: [u8; DATA_SCAN],
    data_len: usize,
    /// The DATA frame's flags and length.
    data_flags: u8,
    data_total: u32,
}

impl fmt::Debug for H2Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("H2Conn")
            .field("table", &self.table)
            .field("max_stream", &self.max_stream)
            .field("open_block", &self.open_block)
            .field("pending", &self.pending.map(|p| p.stream))
            .finish()
    }
}

impl Default for H2Conn {
    fn default() -> Self {
        Self::new()
    }
}

impl H2Conn {
    /// A follower at the start of a connection's frames.
    pub fn new() -> Self {
        Self {
            table: SavedTable::new(),
            header: [0; 9],
            header_len: 0,
            kind: 0,
            flags: 0,
            stream: 0,
            left: 0,
            into_block: false,
            into_data: false,
            block: [0; BLOCK_MAX],
            block_len: 0,
            frame_start: 0,
            open_block: 0,
            block_flags: 0,
            max_stream: 0,
            skip_first: false,
            pending: None,
            data: [0; DATA_SCAN],
            data_len: 0,
            data_flags: 0,
            data_total: 0,
        }
    }

    /// Restarts for a new connection, at its first frame after the preface (without
    /// rewriting the buffers). `first_decided`: the connection's first request (the first
    /// HEADERS met) was already decided from the first flight; its block is decoded into the
    /// table and its body compared with its headers, but the check is not asked again.
    /// `max_stream`: streams already used (1 after an HTTP/1.1 `Upgrade: h2c` request).
    pub fn start(&mut self, first_decided: bool, max_stream: u32) {
        self.table.reset();
        self.header_len = 0;
        self.left = 0;
        self.into_block = false;
        self.into_data = false;
        self.block_len = 0;
        self.frame_start = 0;
        self.open_block = 0;
        self.block_flags = 0;
        self.max_stream = max_stream;
        self.skip_first = first_decided;
        self.pending = None;
        self.data_len = 0;
    }

    /// Feeds the connection's next `bytes` (in order, each byte once). `hpack` is a decoder
    /// whose string buffers serve the decoding (its table is swapped with this connection's
    /// and back); `names` and `body_scan` are the classifier's settings; `check` is asked
    /// about every new request and refuses it with its `Err`.
    ///
    /// # Errors
    ///
    /// The first [`H2Stop`]; the follower stops there.
    pub fn feed<E>(
        &mut self,
        mut bytes: &[u8],
        hpack: &mut Decoder,
        names: &HeaderNames<'_>,
        body_scan: usize,
        check: &mut impl FnMut(&RequestInfo) -> Result<(), E>,
    ) -> Result<(), H2Stop<E>> {
        // Each round consumes at least one byte, or ends a frame whose payload is empty.
        while !bytes.is_empty() {
            if self.header_len < 9 {
                let have = usize::from(self.header_len);
                let take = (9 - have).min(bytes.len());
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
                self.begin_frame()?;
                if self.left == 0 {
                    self.end_frame(hpack, names, body_scan, check)?;
                }
                continue;
            }
            let take = usize::try_from(self.left).map_or(bytes.len(), |l| l.min(bytes.len()));
            let (chunk, rest) = bytes.split_at_checked(take).unwrap_or((bytes, &[]));
            bytes = rest;
            self.left -= take as u32;
            if self.into_block {
                let end = self.block_len + chunk.len();
                self.block
                    .get_mut(self.block_len..end)
                    .ok_or(H2Stop::Unfollowable)?
                    .copy_from_slice(chunk);
                self.block_len = end;
            } else if self.into_data {
                let room = DATA_SCAN - self.data_len;
                let n = room.min(chunk.len());
                if let (Some(dst), Some(src)) = (
                    self.data.get_mut(self.data_len..self.data_len + n),
                    chunk.get(..n),
                ) {
                    dst.copy_from_slice(src);
                }
                self.data_len += n;
                if self.data_len == DATA_SCAN && self.left > 0 {
                    // Enough of the body to find its model: read it now, skip the rest.
                    self.into_data = false;
                    self.read_body(false, body_scan, check)?;
                }
            }
            if self.left == 0 {
                self.end_frame(hpack, names, body_scan, check)?;
            }
        }
        Ok(())
    }

    /// A frame header has been read: checks it and sets where its payload goes.
    fn begin_frame<E>(&mut self) -> Result<(), H2Stop<E>> {
        let [l0, l1, l2, kind, flags, s0, s1, s2, s3] = self.header;
        let len = u32::from_be_bytes([0, l0, l1, l2]);
        let stream = u32::from_be_bytes([s0, s1, s2, s3]) & 0x7fff_ffff;
        if len as usize > MAX_FRAME_LEN {
            return Err(H2Stop::Malformed(H2Error::FrameTooLong(len)));
        }
        if self.open_block != 0 && (kind != CONTINUATION || stream != self.open_block) {
            return Err(H2Stop::Malformed(H2Error::ContinuationExpected(kind)));
        }
        self.kind = kind;
        self.flags = flags;
        self.stream = stream;
        self.left = len;
        self.into_block = false;
        self.into_data = false;
        match kind {
            HEADERS => {
                if stream == 0 || stream % 2 == 0 {
                    return Err(H2Stop::Malformed(H2Error::BadStream(HEADERS)));
                }
                self.block_len = 0;
                self.frame_start = 0;
                self.block_flags = flags;
                self.into_block = true;
            }
            CONTINUATION => {
                if self.open_block == 0 {
                    return Err(H2Stop::Malformed(H2Error::BadStream(CONTINUATION)));
                }
                self.frame_start = self.block_len;
                self.into_block = true;
            }
            PUSH_PROMISE => return Err(H2Stop::Malformed(H2Error::BadStream(PUSH_PROMISE))),
            DATA if self.pending.is_some_and(|p| p.stream == stream) => {
                self.into_data = true;
                self.data_len = 0;
                self.data_flags = flags;
                self.data_total = len;
            }
            RST_STREAM if self.pending.is_some_and(|p| p.stream == stream) => {
                // The request is cancelled before its body: nothing of it will run.
                self.pending = None;
            }
            _ => {}
        }
        Ok(())
    }

    /// The current frame's payload has all come.
    fn end_frame<E>(
        &mut self,
        hpack: &mut Decoder,
        names: &HeaderNames<'_>,
        body_scan: usize,
        check: &mut impl FnMut(&RequestInfo) -> Result<(), E>,
    ) -> Result<(), H2Stop<E>> {
        self.header_len = 0;
        if self.into_block {
            self.into_block = false;
            if self.kind == HEADERS {
                self.strip_headers_fields()?;
            }
            if self.flags & END_HEADERS != 0 {
                self.open_block = 0;
                return self.end_block(hpack, names, check);
            }
            self.open_block = self.stream;
        } else if self.into_data {
            self.into_data = false;
            if self.data_total == 0 && self.data_flags & END_STREAM == 0 {
                // An empty DATA frame: the body starts in a later one.
                return Ok(());
            }
            return self.read_body(true, body_scan, check);
        }
        Ok(())
    }

    /// Removes the HEADERS frame's pad length, priority fields and padding from its fragment
    /// in `block` (RFC 9113 §6.2).
    fn strip_headers_fields<E>(&mut self) -> Result<(), H2Stop<E>> {
        let start = self.frame_start;
        let mut from = start;
        let mut to = self.block_len;
        if self.flags & PADDED != 0 {
            let pad = usize::from(
                *self
                    .block
                    .get(from)
                    .ok_or(H2Stop::Malformed(H2Error::BadPadding))?,
            );
            from += 1;
            to = to
                .checked_sub(pad)
                .filter(|&t| t >= from)
                .ok_or(H2Stop::Malformed(H2Error::BadPadding))?;
        }
        if self.flags & PRIORITY_FLAG != 0 {
            from += 5;
            if from > to {
                return Err(H2Stop::Malformed(H2Error::BadFrameLength(HEADERS)));
            }
        }
        self.block.copy_within(from..to, start);
        self.block_len = start + (to - from);
        Ok(())
    }

    /// A header block is complete: decodes it with the connection's table; a new stream's
    /// request is checked, or waits for its body.
    fn end_block<E>(
        &mut self,
        hpack: &mut Decoder,
        names: &HeaderNames<'_>,
        check: &mut impl FnMut(&RequestInfo) -> Result<(), E>,
    ) -> Result<(), H2Stop<E>> {
        let stream = self.stream;
        let block = self.block.get(..self.block_len).unwrap_or(&[]);
        let new = stream > self.max_stream;
        let mut info = RequestInfo::default();
        hpack.swap_table(&mut self.table);
        let decoded = if new {
            decode_request(hpack, block, names, &mut info)
        } else {
            // Trailers, or a HEADERS frame on a stream already opened (a backend refuses a
            // request there): decoded only to keep the table in step.
            hpack
                .decode_block(block, &mut |_: &[u8], _: &[u8]| {})
                .map(|()| false)
                .map_err(H2Error::Hpack)
        };
        hpack.swap_table(&mut self.table);
        let grpc = decoded.map_err(|e| match e {
            // Limits of this decoder, not errors of the connection.
            H2Error::Hpack(HpackError::StringTooLong | HpackError::TableSizeUpdateTooLarge(_)) => {
                H2Stop::Unfollowable
            }
            e => H2Stop::Malformed(e),
        })?;
        if !new {
            return Ok(());
        }
        self.max_stream = stream;
        let needs = BodyNeeds::of(&info, grpc, self.block_flags & END_STREAM != 0);
        let checked = if core::mem::take(&mut self.skip_first) {
            true
        } else if needs.wants_model {
            false
        } else {
            check(&info).map_err(H2Stop::Refused)?;
            true
        };
        if needs.wants_model || needs.check_body {
            if self.pending.is_some() {
                // One request already waits for its body; a second is not kept.
                return Err(H2Stop::Unfollowable);
            }
            self.pending = Some(Pending {
                stream,
                info,
                grpc,
                needs,
                checked,
            });
        }
        Ok(())
    }

    /// The waiting request's body has come (`whole`: the DATA frame's whole payload is in
    /// `data`; else its first [`DATA_SCAN`] bytes): reads its model, then checks it.
    fn read_body<E>(
        &mut self,
        whole: bool,
        body_scan: usize,
        check: &mut impl FnMut(&RequestInfo) -> Result<(), E>,
    ) -> Result<(), H2Stop<E>> {
        let Some(mut p) = self.pending.take() else {
            return Ok(());
        };
        let mut data = self.data.get(..self.data_len).unwrap_or(&[]);
        if self.data_flags & PADDED != 0 {
            let (&pad, rest) = data
                .split_first()
                .ok_or(H2Stop::Malformed(H2Error::BadPadding))?;
            data = rest;
            if whole {
                let keep = data
                    .len()
                    .checked_sub(usize::from(pad))
                    .ok_or(H2Stop::Malformed(H2Error::BadPadding))?;
                data = data.get(..keep).unwrap_or(&[]);
            }
        }
        match body_model(data, p.grpc, p.needs.wants_model, body_scan, &mut p.info) {
            Ok(()) => {}
            // The model lies past what was gathered.
            Err(H2Error::Incomplete) if !whole => return Err(H2Stop::Unfollowable),
            Err(e) => return Err(H2Stop::Malformed(e)),
        }
        if !p.checked {
            check(&p.info).map_err(H2Stop::Refused)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
