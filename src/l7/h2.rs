//! HTTP/2 first flight (RFC 9113) and gRPC (the gRPC over HTTP/2 protocol): the client
//! connection preface, SETTINGS, HEADERS with CONTINUATION, padding and priority, decoded with
//! HPACK; then, for a body, the first DATA frame: a JSON `"model"` for OpenAI-style requests,
//! or the KServe v2 `ModelInfer` request's `model_name` (protobuf field 1) for gRPC.
//!
//! [`classify_h2`] walks the frames a client sends before the server answers (prior knowledge,
//! `h2c`, or the decrypted stream after TLS termination). Frame types it does not need
//! (PING, PRIORITY, WINDOW_UPDATE, unknown types, RFC 9113 §5.5) are checked for length and
//! skipped. Fixed buffers only; no allocation; no panic.
#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

use core::fmt;

use super::hpack::{Decoder, HpackError};
use super::http1::{json_top_level_field, kserve_model, HeaderNames, JsonField};
use super::{Ambiguity, FixedStr, RequestInfo, RequestKind};

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Largest frame payload before the server raises SETTINGS_MAX_FRAME_SIZE (RFC 9113 §4.2).
pub const MAX_FRAME_LEN: usize = 16_384;
/// The KServe v2 gRPC inference method.
pub const KSERVE_MODEL_INFER: &[u8] = b"/inference.GRPCInferenceService/ModelInfer";

pub(super) const DATA: u8 = 0;
pub(super) const HEADERS: u8 = 1;
pub(super) const PRIORITY: u8 = 2;
pub(super) const RST_STREAM: u8 = 3;
pub(super) const SETTINGS: u8 = 4;
pub(super) const PING: u8 = 6;
pub(super) const GOAWAY: u8 = 7;
pub(super) const WINDOW_UPDATE: u8 = 8;
pub(super) const CONTINUATION: u8 = 9;

pub(super) const END_STREAM: u8 = 0x1;
pub(super) const ACK: u8 = 0x1;
pub(super) const END_HEADERS: u8 = 0x4;
pub(super) const PADDED: u8 = 0x8;
pub(super) const PRIORITY_FLAG: u8 = 0x20;

/// What is wrong with an HTTP/2 first flight.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum H2Error {
    /// The bytes end before the request's headers (or needed body bytes): feed more.
    Incomplete,
    /// The bytes do not start with the connection preface.
    BadPreface,
    /// A frame longer than 16,384 bytes (its length).
    FrameTooLong(u32),
    /// A frame whose length does not fit its type (the type).
    BadFrameLength(u8),
    /// A frame on the wrong stream for its type (the type).
    BadStream(u8),
    /// A pad length not smaller than the frame payload.
    BadPadding,
    /// A frame other than CONTINUATION while a header block is open (its type).
    ContinuationExpected(u8),
    /// A header block longer than the classifier's buffer.
    HeaderBlockTooLong,
    /// HPACK decoding failed.
    Hpack(HpackError),
    /// A request without `:method` or `:path`.
    MissingPseudoHeader,
    /// A malformed gRPC length-prefixed message or protobuf field.
    BadGrpcMessage,
    /// The request could be read two ways by the gateway and the backend (the same rules as
    /// HTTP/1.1: duplicate `:authority`/host, claim or model headers, any Transfer-Encoding,
    /// models that disagree, duplicate `model` or `model_name`).
    Ambiguous(Ambiguity),
}

impl fmt::Display for H2Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Incomplete => write!(f, "HTTP/2 request incomplete"),
            Self::BadPreface => write!(f, "no HTTP/2 connection preface"),
            Self::FrameTooLong(l) => write!(f, "frame of {l} bytes exceeds 16384"),
            Self::BadFrameLength(t) => write!(f, "bad length for frame type {t}"),
            Self::BadStream(t) => write!(f, "frame type {t} on the wrong stream"),
            Self::BadPadding => write!(f, "pad length exceeds the frame"),
            Self::ContinuationExpected(t) => {
                write!(f, "frame type {t} inside an open header block")
            }
            Self::HeaderBlockTooLong => write!(f, "header block too long"),
            Self::Hpack(e) => write!(f, "HPACK: {e}"),
            Self::MissingPseudoHeader => write!(f, "request without :method or :path"),
            Self::BadGrpcMessage => write!(f, "malformed gRPC message"),
            Self::Ambiguous(a) => write!(f, "ambiguous request: {a}"),
        }
    }
}

impl core::error::Error for H2Error {}

impl From<HpackError> for H2Error {
    fn from(e: HpackError) -> Self {
        Self::Hpack(e)
    }
}

/// Buffers and decoder state for HTTP/2 classification, sized at setup.
#[derive(Clone, Debug)]
pub struct H2State {
    hpack: Decoder,
    block: [u8; MAX_FRAME_LEN],
}

impl Default for H2State {
    fn default() -> Self {
        Self::new()
    }
}

impl H2State {
    /// Fresh state.
    pub fn new() -> Self {
        Self {
            hpack: Decoder::new(),
            block: [0; MAX_FRAME_LEN],
        }
    }

    /// The HPACK decoder.
    pub fn hpack_mut(&mut self) -> &mut Decoder {
        &mut self.hpack
    }
}

/// One frame: type, flags, stream id and payload.
struct Frame<'a> {
    kind: u8,
    flags: u8,
    stream: u32,
    payload: &'a [u8],
}

fn next_frame<'a>(rest: &mut &'a [u8]) -> Result<Frame<'a>, H2Error> {
    let Some((header, tail)) = rest.split_first_chunk::<9>() else {
        return Err(H2Error::Incomplete);
    };
    let [l0, l1, l2, kind, flags, s0, s1, s2, s3] = *header;
    let len = u32::from_be_bytes([0, l0, l1, l2]);
    if len as usize > MAX_FRAME_LEN {
        return Err(H2Error::FrameTooLong(len));
    }
    let (payload, after) = tail
        .split_at_checked(len as usize)
        .ok_or(H2Error::Incomplete)?;
    *rest = after;
    let stream = u32::from_be_bytes([s0, s1, s2, s3]) & 0x7fff_ffff;
    Ok(Frame {
        kind,
        flags,
        stream,
        payload,
    })
}

/// Strips the padding (PADDED) of a DATA or HEADERS payload.
fn unpad<'a>(frame: &Frame<'a>) -> Result<&'a [u8], H2Error> {
    if frame.flags & PADDED == 0 {
        return Ok(frame.payload);
    }
    let (&pad, rest) = frame.payload.split_first().ok_or(H2Error::BadPadding)?;
    let keep = rest
        .len()
        .checked_sub(usize::from(pad))
        .ok_or(H2Error::BadPadding)?;
    rest.get(..keep).ok_or(H2Error::BadPadding)
}

/// Classifies an HTTP/2 first flight (`bytes` starts with the preface) into `info`: method,
/// path, authority, the configured headers, and the model (KServe path, model header, JSON
/// body, or gRPC `ModelInfer` `model_name`).
///
/// # Errors
///
/// [`H2Error::Incomplete`] when the request's header block (or the body bytes that name the
/// model) has not all arrived; another [`H2Error`] for malformed frames.
pub fn classify_h2(
    bytes: &[u8],
    state: &mut H2State,
    names: &HeaderNames<'_>,
    body_scan: usize,
    prefix_bytes: usize,
    info: &mut RequestInfo,
) -> Result<(), H2Error> {
    let mut rest = bytes
        .strip_prefix(PREFACE)
        .ok_or(if PREFACE.starts_with(bytes) {
            H2Error::Incomplete
        } else {
            H2Error::BadPreface
        })?;
    // Each classification starts from the first byte, so the HPACK state starts fresh.
    state.hpack.reset();
    info.kind = RequestKind::H2;

    // Phase 1: frames up to the end of the first request's header block.
    let mut block_len = 0usize;
    let mut open_stream = None::<u32>;
    let mut headers_flags = 0u8;
    let (stream, end_stream) = loop {
        let frame = next_frame(&mut rest)?;
        if let Some(s) = open_stream {
            if frame.kind != CONTINUATION || frame.stream != s {
                return Err(H2Error::ContinuationExpected(frame.kind));
            }
        }
        match frame.kind {
            SETTINGS => {
                if frame.stream != 0 {
                    return Err(H2Error::BadStream(SETTINGS));
                }
                let ok = if frame.flags & ACK != 0 {
                    frame.payload.is_empty()
                } else {
                    frame.payload.len() % 6 == 0
                };
                if !ok {
                    return Err(H2Error::BadFrameLength(SETTINGS));
                }
            }
            PING | GOAWAY if frame.stream != 0 => return Err(H2Error::BadStream(frame.kind)),
            PING if frame.payload.len() != 8 => return Err(H2Error::BadFrameLength(PING)),
            WINDOW_UPDATE if frame.payload.len() != 4 => {
                return Err(H2Error::BadFrameLength(WINDOW_UPDATE))
            }
            PRIORITY if frame.payload.len() != 5 => return Err(H2Error::BadFrameLength(PRIORITY)),
            RST_STREAM if frame.payload.len() != 4 => {
                return Err(H2Error::BadFrameLength(RST_STREAM))
            }
            HEADERS | CONTINUATION => {
                let fragment = if frame.kind == HEADERS {
                    if frame.stream == 0 || frame.stream % 2 == 0 {
                        return Err(H2Error::BadStream(HEADERS));
                    }
                    let body = unpad(&frame)?;
                    if frame.flags & PRIORITY_FLAG != 0 {
                        body.get(5..).ok_or(H2Error::BadFrameLength(HEADERS))?
                    } else {
                        body
                    }
                } else {
                    if open_stream.is_none() {
                        return Err(H2Error::BadStream(CONTINUATION));
                    }
                    frame.payload
                };
                let end = block_len + fragment.len();
                state
                    .block
                    .get_mut(block_len..end)
                    .ok_or(H2Error::HeaderBlockTooLong)?
                    .copy_from_slice(fragment);
                block_len = end;
                if frame.kind == HEADERS {
                    headers_flags = frame.flags;
                }
                if frame.flags & END_HEADERS != 0 {
                    // END_STREAM is carried by the HEADERS frame, even when CONTINUATION ends
                    // the block (RFC 9113 §6.2).
                    break (frame.stream, headers_flags & END_STREAM != 0);
                }
                open_stream = Some(frame.stream);
            }
            DATA => return Err(H2Error::BadStream(DATA)),
            _ => {}
        }
    };

    // Phase 2: decode the header block.
    let block = state.block.get(..block_len).unwrap_or(&[]);
    let grpc = decode_request(&mut state.hpack, block, names, info)?;
    let BodyNeeds {
        wants_model,
        check_body,
    } = BodyNeeds::of(info, grpc, end_stream);
    let wants_prefix = !end_stream && prefix_bytes > 0;
    if !wants_model && !wants_prefix && !check_body {
        return Ok(());
    }

    // Phase 3: the first DATA frame of the stream names the model (when the headers did not)
    // and gives the body-prefix hash. The prefix alone is never waited for, and a problem
    // past the headers that only the prefix would have looked at is not an error.
    loop {
        let frame = match next_frame(&mut rest) {
            Ok(f) => f,
            Err(_) if !wants_model => return Ok(()),
            Err(e) => return Err(e),
        };
        if frame.kind != DATA || frame.stream != stream {
            continue;
        }
        let data = match unpad(&frame) {
            Ok(d) => d,
            Err(_) if !wants_model => return Ok(()),
            Err(e) => return Err(e),
        };
        info.prefix_hash =
            super::body_prefix_hash(data, frame.flags & END_STREAM != 0, prefix_bytes);
        return body_model(data, grpc, wants_model, body_scan, info);
    }
}

/// Decodes a request's complete header block with `hpack` (whose dynamic table is the
/// connection's) into `info`: pseudo-headers, authority, the configured headers, the model of
/// a KServe path; the same checks for every request of a connection, first or later.
/// Returns whether it is a gRPC request.
///
/// # Errors
///
/// [`H2Error::Hpack`] for a malformed block, [`H2Error::Ambiguous`] for fields a backend
/// could read otherwise (duplicates, a Transfer-Encoding, models that disagree),
/// [`H2Error::MissingPseudoHeader`].
pub fn decode_request(
    hpack: &mut Decoder,
    block: &[u8],
    names: &HeaderNames<'_>,
    info: &mut RequestInfo,
) -> Result<bool, H2Error> {
    let mut grpc = false;
    let mut have_method = false;
    let mut have_path = false;
    let mut ambiguity: Option<Ambiguity> = None;
    let mut flag = |a: Ambiguity| {
        ambiguity.get_or_insert(a);
    };
    let mut authority_seen = false;
    let mut host = FixedStr::<128>::EMPTY;
    let mut host_seen = false;
    let mut claim_seen = false;
    let mut model_seen = false;
    hpack.decode_block(block, &mut |name: &[u8], value: &[u8]| {
        let dst: Option<&mut FixedStr<128>> = match name {
            b":method" => {
                have_method = true;
                info.method.set(value);
                None
            }
            b":path" => {
                have_path = true;
                Some(&mut info.path)
            }
            b":authority" => {
                if authority_seen {
                    flag(Ambiguity::DuplicateHost);
                }
                authority_seen = true;
                Some(&mut info.authority)
            }
            b"host" => {
                if host_seen {
                    flag(Ambiguity::DuplicateHost);
                }
                host_seen = true;
                Some(&mut host)
            }
            // Connection-specific fields are malformed in HTTP/2 (RFC 9113 §8.2.2); a
            // Transfer-Encoding in particular is one a backend might honour.
            b"transfer-encoding" => {
                flag(Ambiguity::TransferEncoding);
                None
            }
            b"content-type" => {
                grpc |= value.starts_with(b"application/grpc");
                None
            }
            n if n.eq_ignore_ascii_case(names.tenant) => {
                if claim_seen {
                    flag(Ambiguity::DuplicateClaim);
                }
                claim_seen = true;
                info.tenant_claim.set(value);
                None
            }
            n if n.eq_ignore_ascii_case(names.model) => {
                if model_seen {
                    flag(Ambiguity::DuplicateModelHeader);
                }
                model_seen = true;
                info.model.set(value);
                None
            }
            n if n.eq_ignore_ascii_case(names.session) => {
                info.session.set(value);
                None
            }
            n if n.eq_ignore_ascii_case(names.priority) => {
                info.priority.set(value);
                None
            }
            _ => None,
        };
        if let Some(d) = dst {
            d.set(value);
        }
    })?;
    if let Some(a) = ambiguity {
        return Err(H2Error::Ambiguous(a));
    }
    // `host` stands in for a missing `:authority`; given both, they must agree (RFC 9113
    // §8.3.1).
    if host_seen {
        if !authority_seen {
            info.authority = host;
        } else if host != info.authority {
            return Err(H2Error::Ambiguous(Ambiguity::DuplicateHost));
        }
    }
    if !have_method || !have_path {
        return Err(H2Error::MissingPseudoHeader);
    }
    info.kind = if grpc {
        RequestKind::Grpc
    } else {
        RequestKind::H2
    };
    if let Some(m) = kserve_model(info.path.as_bytes()) {
        if !info.model.is_empty() && info.model.as_bytes() != m {
            return Err(H2Error::Ambiguous(Ambiguity::ModelMismatch));
        }
        info.model.set(m);
    }
    Ok(grpc)
}

/// What a request's first DATA frame must be read for, once its headers are decoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BodyNeeds {
    /// The model is not in the headers and the body names it (JSON `model`, gRPC
    /// `ModelInfer`'s `model_name`).
    pub wants_model: bool,
    /// A model named in the headers is checked against the body's when the body is here.
    pub check_body: bool,
}

impl BodyNeeds {
    /// The needs of a request decoded into `info` (`grpc` from [`decode_request`]) whose
    /// HEADERS frame did or did not end the stream.
    pub fn of(info: &RequestInfo, grpc: bool, end_stream: bool) -> Self {
        Self {
            wants_model: !end_stream
                && info.model.is_empty()
                && (!grpc || info.path.as_bytes() == KSERVE_MODEL_INFER),
            check_body: !end_stream && !info.model.is_empty(),
        }
    }
}

/// Reads the model named by `data`, a request's first DATA frame payload (unpadded, or its
/// first bytes), into `info`: gRPC `model_name`, or the JSON `model` within its first
/// `body_scan` bytes. A model named twice, or one that disagrees with the headers', is
/// refused. Only a request that still `wants_model` fails for a body it cannot read.
///
/// # Errors
///
/// [`H2Error::Ambiguous`]; for a request that `wants_model`, the gRPC message's error.
pub fn body_model(
    data: &[u8],
    grpc: bool,
    wants_model: bool,
    body_scan: usize,
    info: &mut RequestInfo,
) -> Result<(), H2Error> {
    let in_body = if grpc {
        match grpc_model_name(data) {
            Ok(m) => m,
            Err(H2Error::Incomplete) if !wants_model => None,
            Err(H2Error::BadGrpcMessage) if !wants_model => None,
            Err(e) => return Err(e),
        }
    } else {
        match json_top_level_field(data.get(..body_scan).unwrap_or(data), b"model") {
            JsonField::Found(m) => Some(m),
            JsonField::Duplicate => return Err(H2Error::Ambiguous(Ambiguity::DuplicateJsonModel)),
            JsonField::Absent | JsonField::Truncated => None,
        }
    };
    if let Some(m) = in_body {
        if info.model.is_empty() {
            info.model.set(m);
        } else if info.model.as_bytes() != m {
            return Err(H2Error::Ambiguous(Ambiguity::ModelMismatch));
        }
    }
    Ok(())
}

/// The `model_name` (field 1, a string) of a KServe v2 `ModelInferRequest` in the first gRPC
/// length-prefixed message of `data`. `Ok(None)` for a compressed message or one without
/// field 1; [`H2Error::Incomplete`] when `data` ends before field 1 could be read.
pub fn grpc_model_name(data: &[u8]) -> Result<Option<&[u8]>, H2Error> {
    let Some((&[flag, l0, l1, l2, l3], msg)) = data.split_first_chunk::<5>() else {
        return Err(H2Error::Incomplete);
    };
    if flag > 1 {
        return Err(H2Error::BadGrpcMessage);
    }
    if flag == 1 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([l0, l1, l2, l3]) as usize;
    let complete = msg.len() >= len;
    let mut rest = msg.get(..len).unwrap_or(msg);
    // Protobuf takes the last of repeated scalar fields; the first is what would be checked,
    // so a second `model_name` is refused. The whole message (as far as it is here) is read.
    let mut found: Option<&[u8]> = None;
    while !rest.is_empty() {
        let Some(key) = varint(&mut rest) else {
            return Err(if complete {
                H2Error::BadGrpcMessage
            } else {
                H2Error::Incomplete
            });
        };
        let (field, wire) = (key >> 3, key & 7);
        let value = match wire {
            0 => varint(&mut rest).map(|_| &[][..]),
            1 => take(&mut rest, 8),
            2 => match varint(&mut rest) {
                Some(n) => usize::try_from(n).ok().and_then(|n| take(&mut rest, n)),
                None => None,
            },
            5 => take(&mut rest, 4),
            _ => return Err(H2Error::BadGrpcMessage),
        };
        let Some(value) = value else {
            if found.is_some() && !complete {
                // Cut short past the name: what follows cannot be checked here.
                return Ok(found);
            }
            return Err(if complete {
                H2Error::BadGrpcMessage
            } else {
                H2Error::Incomplete
            });
        };
        if field == 1 {
            if wire != 2 {
                return Err(H2Error::BadGrpcMessage);
            }
            if found.is_some() {
                return Err(H2Error::Ambiguous(Ambiguity::DuplicateGrpcModelName));
            }
            found = Some(value);
        }
    }
    match found {
        Some(m) => Ok(Some(m)),
        None if complete => Ok(None),
        None => Err(H2Error::Incomplete),
    }
}

fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, tail) = rest.split_at_checked(n)?;
    *rest = tail;
    Some(head)
}

/// A protobuf base-128 varint (at most 10 bytes).
fn varint(rest: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..10 {
        let (&b, tail) = rest.split_first()?;
        *rest = tail;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests;
