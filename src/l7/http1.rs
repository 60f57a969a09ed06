//! HTTP/1.1 request head (RFC 9112 §3 and §5) and the inference fields in it.
//!
//! [`parse_request`] reads the request line and header section of the first request on a
//! connection and picks out what steering needs: method, path, Host, and the headers named in
//! an [`HeaderNames`] (the Gateway API Inference Extension's fairness id, Envoy AI Gateway's
//! model header, a session header, a priority header). The model comes from a KServe v2 path
//! (`/v2/models/{name}[/versions/{v}]/infer`), else the model header, else the top-level
//! `"model"` key of a JSON body within the first bytes (OpenAI-style APIs).
//!
//! Borrowed slices only; no allocation; no panic. A head not yet complete is
//! [`Http1Error::Incomplete`]; malformed input is a specific error. Obsolete line folding is
//! rejected (RFC 9112 §5.2), a bare LF is accepted as a line end (§2.2). Lines are scanned
//! eight bytes at a time with portable word operations (SWAR), no SIMD intrinsics.
#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

use super::Ambiguity;
use core::fmt;

/// What is wrong with a request head.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Http1Error {
    /// The header section has not ended yet: more bytes may complete it.
    Incomplete,
    /// The head is longer than the caller's limit.
    TooLong,
    /// The method is empty or holds a non-token byte.
    BadMethod,
    /// The request target is empty or holds a space or control byte.
    BadTarget,
    /// The version is not `HTTP/1.0` or `HTTP/1.1`.
    BadVersion,
    /// A header line without a colon, with an empty or non-token name, or a control byte.
    BadHeader,
    /// A header line starting with whitespace (obsolete line folding).
    ObsoleteFold,
    /// A Content-Length that is not a decimal number, or two that differ.
    BadContentLength,
    /// The head could be read two ways by the gateway and the backend (duplicate Host,
    /// claim or model headers; Content-Length with Transfer-Encoding; a Transfer-Encoding
    /// that does not end in `chunked`).
    Ambiguous(Ambiguity),
}

impl fmt::Display for Http1Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Incomplete => "request head incomplete",
            Self::TooLong => "request head too long",
            Self::BadMethod => "bad method",
            Self::BadTarget => "bad request target",
            Self::BadVersion => "bad HTTP version",
            Self::BadHeader => "bad header line",
            Self::ObsoleteFold => "obsolete header line folding",
            Self::BadContentLength => "bad Content-Length",
            Self::Ambiguous(a) => return write!(f, "ambiguous request: {a}"),
        };
        f.write_str(s)
    }
}

impl core::error::Error for Http1Error {}

/// Header names whose values classification captures (compared case-insensitively).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderNames<'n> {
    /// The tenant's fairness key: `x-gateway-inference-fairness-id` by default.
    pub tenant: &'n [u8],
    /// The model header: `x-ai-eg-model` by default.
    pub model: &'n [u8],
    /// The session header: `x-dynamo-session-id` by default.
    pub session: &'n [u8],
    /// The priority header: `x-priority` by default.
    pub priority: &'n [u8],
}

impl HeaderNames<'static> {
    /// The defaults named above.
    pub const DEFAULT: Self = Self {
        tenant: b"x-gateway-inference-fairness-id",
        model: b"x-ai-eg-model",
        session: b"x-dynamo-session-id",
        priority: b"x-priority",
    };
}

impl Default for HeaderNames<'static> {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Where the model name was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModelSource {
    /// The KServe v2 path `/v2/models/{name}/…`.
    KservePath,
    /// The model header.
    Header,
    /// The JSON body's top-level `"model"`.
    Body,
}

/// The fields of a request head that steering uses, borrowed from the input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Http1Request<'a> {
    /// Method.
    pub method: &'a [u8],
    /// Request target (path and query).
    pub path: &'a [u8],
    /// Minor version: 0 or 1.
    pub minor_version: u8,
    /// Host header.
    pub host: Option<&'a [u8]>,
    /// Tenant claim header.
    pub tenant: Option<&'a [u8]>,
    /// Model header.
    pub model_header: Option<&'a [u8]>,
    /// Session header.
    pub session: Option<&'a [u8]>,
    /// Priority header.
    pub priority: Option<&'a [u8]>,
    /// Content-Length, if given.
    pub content_length: Option<u64>,
    /// Transfer-Encoding, if given (then its final coding is `chunked` and there is no
    /// Content-Length: anything else is refused as [`Ambiguity`]).
    pub transfer_encoding: Option<&'a [u8]>,
    /// Length of the head, request line to the empty line included.
    pub head_len: usize,
    /// Number of header fields.
    pub headers: u16,
}

/// Where the model of a request stands, from [`Http1Request::model`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModelLookup<'b> {
    /// The model name (borrowing the head or the body; a JSON value keeps its escapes) and
    /// where it was found.
    Found(&'b [u8], ModelSource),
    /// The request names no model.
    Absent,
    /// The model can only be in the JSON body, and more of it is needed: the body received so
    /// far ends before both the Content-Length and the scan limit.
    NeedBody,
    /// The path, the model header and the body disagree, or the body names `"model"` twice.
    Ambiguous(Ambiguity),
}

impl<'a> Http1Request<'a> {
    /// The model: KServe path, else model header, else the top-level `"model"` of the JSON
    /// `body` (the bytes after the head received so far; at most `body_limit` of them, and no
    /// more than Content-Length, are scanned). A chunked body is not scanned: its framing hides
    /// the JSON.
    pub fn model<'b>(&self, body: &'b [u8], body_limit: usize) -> ModelLookup<'b>
    where
        'a: 'b,
    {
        let named = kserve_model(self.path)
            .map(|m| (m, ModelSource::KservePath))
            .or(self.model_header.map(|m| (m, ModelSource::Header)));
        if let (Some(path), Some(header)) = (kserve_model(self.path), self.model_header) {
            if path != header {
                return ModelLookup::Ambiguous(Ambiguity::ModelMismatch);
            }
        }
        // The body is read even when the path or header named the model: a backend that
        // reads the body's `model` must not be handed another model than the one checked.
        // A chunked body's framing hides the JSON: it is not scanned.
        let expected = self
            .content_length
            .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        let want = expected.min(body_limit);
        let scan = body.get(..want).unwrap_or(body);
        let in_body = match json_top_level_field(scan, b"model") {
            JsonField::Found(m) => Some(m),
            JsonField::Duplicate => return ModelLookup::Ambiguous(Ambiguity::DuplicateJsonModel),
            JsonField::Truncated if named.is_none() && scan.len() < want => {
                return ModelLookup::NeedBody
            }
            JsonField::Truncated | JsonField::Absent => None,
        };
        match (named, in_body) {
            (Some((m, _)), Some(b)) if m != b => ModelLookup::Ambiguous(Ambiguity::ModelMismatch),
            (Some((m, src)), _) => ModelLookup::Found(m, src),
            (None, Some(b)) => ModelLookup::Found(b, ModelSource::Body),
            (None, None) => ModelLookup::Absent,
        }
    }
}

/// `tchar` of RFC 9110 §5.6.2, as a 256-entry table (one load per byte).
#[allow(clippy::indexing_slicing)] // const evaluation: `i < 256` bounds every index at compile time
const TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = matches!(b,
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9'
            | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~');
        i += 1;
    }
    t
};

#[inline(always)]
fn is_tchar(b: u8) -> bool {
    TCHAR.get(usize::from(b)).copied().unwrap_or(false)
}

/// Offset of the first byte of `bytes` in a class, tested eight bytes at a time with `word`
/// (high bit set in each byte of the class, as the SWAR helpers below return) and byte by byte
/// with `byte` for the tail.
#[inline(always)]
fn first_in_class(
    bytes: &[u8],
    word: impl Fn(u64) -> u64,
    byte: impl Fn(u8) -> bool,
) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut off = 0;
    for c in &mut chunks {
        let Ok(w) = <[u8; 8]>::try_from(c) else {
            break;
        };
        let flags = word(u64::from_le_bytes(w));
        if flags != 0 {
            return Some(off + (flags.trailing_zeros() / 8) as usize);
        }
        off += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| byte(b))
        .map(|p| off + p)
}

/// Offset of the first `b` in `bytes`.
#[inline(always)]
fn find_byte(bytes: &[u8], b: u8) -> Option<usize> {
    first_in_class(bytes, |x| eq_bytes(x, b), |x| x == b)
}

/// Offset of the first space, control byte, DEL or non-ASCII byte in `bytes`: a request-target
/// is visible ASCII only (RFC 9112 §3.2, RFC 3986's characters; a byte above 0x7f, which a
/// backend may read in its own way, ends the target and the line is refused).
#[inline(always)]
fn target_end(bytes: &[u8]) -> Option<usize> {
    first_in_class(
        bytes,
        |x| lt_bytes(x, 0x21) | del_bytes(x) | (x & HI),
        |b| b <= b' ' || b >= 0x7f,
    )
}

/// Case-insensitive name comparison with a cheap length and last-byte test first.
#[inline(always)]
fn same_name(name: &[u8], target: &[u8]) -> bool {
    name.len() == target.len()
        && name.last().map(|b| b | 0x20) == target.last().map(|b| b | 0x20)
        && name.eq_ignore_ascii_case(target)
}

// Word-at-a-time (SWAR) byte classes, portable to every 64-bit target: each returns the high
// bit set in exactly the bytes of `x` (loaded little-endian, so byte i is bits 8i..8i+7) that
// are in the class. The sums never carry across bytes (at most 0x7f + 0x7f).
const LO: u64 = u64::from_ne_bytes([0x01; 8]);
const HI: u64 = u64::from_ne_bytes([0x80; 8]);
const SEVEN: u64 = u64::from_ne_bytes([0x7f; 8]);

/// Bytes equal to zero.
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    !(((x & SEVEN).wrapping_add(SEVEN)) | x | SEVEN)
}

/// Bytes equal to `b`.
#[inline(always)]
fn eq_bytes(x: u64, b: u8) -> u64 {
    zero_bytes(x ^ (LO * u64::from(b)))
}

/// Bytes equal to 0x7f (DEL).
#[inline(always)]
fn del_bytes(x: u64) -> u64 {
    (x & SEVEN).wrapping_add(LO) & !x & HI
}

/// ASCII bytes below `n` (`n` ≤ 0x80).
#[inline(always)]
fn lt_bytes(x: u64, n: u8) -> u64 {
    !(((x & SEVEN).wrapping_add(LO * u64::from(0x80 - n))) | x) & HI
}

/// Bytes that cannot continue a field name: at or below 0x20 (controls and space), at or
/// above 0x7f (DEL and non-ASCII), and the colon. One pass over `x & 0x7f…` shared by the
/// classes (fewer operations than or-ing `lt_bytes`, `ge_7f_bytes` and `eq_bytes`).
#[inline(always)]
fn name_stop_bytes(x: u64) -> u64 {
    let t = x & SEVEN;
    // High bit set where t <= 0x20: t + 0x5f stays below 0x80.
    let le_space = !t.wrapping_add(LO * 0x5f);
    // High bit set where t == 0x7f.
    let del = t.wrapping_add(LO);
    let c = x ^ (LO * u64::from(b':'));
    // High bit set where c == 0 (the colon).
    let colon = !((c & SEVEN).wrapping_add(SEVEN) | c);
    (le_space | del | x | colon) & HI
}

/// Bytes a field value may not hold, HTAB aside: below 0x20 (controls, CR and LF included) or
/// 0x7f (DEL). Non-ASCII bytes (obs-text) are allowed.
#[inline(always)]
fn value_stop_bytes(x: u64) -> u64 {
    let t = x & SEVEN;
    // High bit set where t < 0x20 (t + 0x60 stays below 0x80) or t == 0x7f; never where x
    // itself has it (non-ASCII).
    (!t.wrapping_add(LO * 0x60) | t.wrapping_add(LO)) & !x & HI
}

/// Offset of the first byte that cannot continue a field name (a control byte, space, DEL,
/// a non-ASCII byte, or the colon), or `None` when every byte can.
#[inline(always)]
fn name_stop(bytes: &[u8]) -> Option<usize> {
    first_in_class(bytes, name_stop_bytes, |b| {
        b <= b' ' || b >= 0x7f || b == b':'
    })
}

/// What a control byte found in a field value means.
enum ValueEnd {
    /// HTAB: allowed, keep scanning.
    Tab,
    /// The line ends: the value ends at the first offset, the next line starts at the second.
    Line(usize, usize),
    /// The bytes end inside a CRLF.
    Incomplete,
}

#[inline(always)]
fn control_at(bytes: &[u8], pos: usize) -> Result<ValueEnd, Http1Error> {
    // Tested in order of likelihood with plain compares (a `match` on bytes becomes a jump
    // table, an indirect branch that predicts poorly).
    let b = bytes.get(pos).copied();
    let next = bytes.get(pos + 1).copied();
    if b == Some(b'\r') {
        return match next {
            Some(b'\n') => Ok(ValueEnd::Line(pos, pos + 2)),
            None => Ok(ValueEnd::Incomplete),
            Some(_) => Err(Http1Error::BadHeader),
        };
    }
    if b == Some(b'\n') {
        return Ok(ValueEnd::Line(pos, pos + 1));
    }
    if b == Some(b'\t') {
        return Ok(ValueEnd::Tab);
    }
    Err(Http1Error::BadHeader)
}

/// Finds the end of a field value: `(value end, next line start)`, `None` when the line has
/// not ended within `bytes`, or an error for a control byte in the value (RFC 9110 §5.5; HTAB
/// allowed) or a bare CR.
#[inline(always)]
fn value_end(bytes: &[u8]) -> Result<Option<(usize, usize)>, Http1Error> {
    let mut chunks = bytes.chunks_exact(8);
    let mut off = 0;
    for c in &mut chunks {
        let Ok(word) = <[u8; 8]>::try_from(c) else {
            break;
        };
        let x = u64::from_le_bytes(word);
        let mut flags = value_stop_bytes(x);
        while flags != 0 {
            let pos = off + (flags.trailing_zeros() / 8) as usize;
            // The usual line end, CRLF, decided without the general case.
            if let (Some(b'\r'), Some(b'\n')) = (bytes.get(pos), bytes.get(pos + 1)) {
                return Ok(Some((pos, pos + 2)));
            }
            match control_at(bytes, pos)? {
                ValueEnd::Tab => flags &= flags - 1,
                ValueEnd::Line(end, next) => return Ok(Some((end, next))),
                ValueEnd::Incomplete => return Ok(None),
            }
        }
        off += 8;
    }
    for (i, &b) in chunks.remainder().iter().enumerate() {
        if b < b' ' || b == 0x7f {
            match control_at(bytes, off + i)? {
                ValueEnd::Tab => {}
                ValueEnd::Line(end, next) => return Ok(Some((end, next))),
                ValueEnd::Incomplete => return Ok(None),
            }
        }
    }
    Ok(None)
}

#[inline(always)]
fn trim_ows(mut v: &[u8]) -> &[u8] {
    // Almost always exactly one leading space and no trailing whitespace: test those first.
    if let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
        while let [b' ' | b'\t', rest @ ..] = v {
            v = rest;
        }
    }
    if let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
        while let [rest @ .., b' ' | b'\t'] = v {
            v = rest;
        }
    }
    v
}

/// Parses the request head at the start of `bytes` (at most `max_head` bytes of it).
///
/// # Errors
///
/// [`Http1Error::Incomplete`] when the head has not ended within `bytes`,
/// [`Http1Error::TooLong`] when it does not end within `max_head`, and the other variants for
/// malformed heads.
#[inline]
pub fn parse_request<'a>(
    bytes: &'a [u8],
    names: &HeaderNames<'_>,
    max_head: usize,
) -> Result<Http1Request<'a>, Http1Error> {
    let mut req = Http1Request::default();
    parse_request_into(bytes, names, max_head, &mut req)?;
    Ok(req)
}

/// [`parse_request`] writing into `req` in place (every field is overwritten on success; after
/// an error `req` holds a partial parse): the hot path keeps one per core and copies nothing.
///
/// # Errors
///
/// As [`parse_request`].
#[inline]
pub fn parse_request_into<'a>(
    bytes: &'a [u8],
    names: &HeaderNames<'_>,
    max_head: usize,
    req: &mut Http1Request<'a>,
) -> Result<(), Http1Error> {
    let window = bytes.get(..max_head).unwrap_or(bytes);
    let truncated_by_limit = bytes.len() > max_head;
    let incomplete = if truncated_by_limit {
        Http1Error::TooLong
    } else {
        Http1Error::Incomplete
    };
    // request-line = method SP request-target SP HTTP-version CRLF, walked once from the
    // front: the method to its space, the target to its space (a control byte before it is
    // malformed), then the version and the line end.
    let sp1 = find_byte(window, b' ').ok_or(incomplete)?;
    let (method, after) = window.split_at_checked(sp1).ok_or(incomplete)?;
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Err(Http1Error::BadMethod);
    }
    let after = after.get(1..).unwrap_or(&[]);
    let sp2 = target_end(after).ok_or(incomplete)?;
    let (path, version) = after.split_at_checked(sp2).ok_or(incomplete)?;
    if path.is_empty() || version.first() != Some(&b' ') {
        return Err(Http1Error::BadTarget);
    }
    let (minor_version, mut rest) = match version {
        [b' ', b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor @ (b'0' | b'1'), tail @ ..] => {
            let tail = match tail {
                [b'\r', b'\n', t @ ..] | [b'\n', t @ ..] => t,
                [] | [b'\r'] => return Err(incomplete),
                _ => return Err(Http1Error::BadVersion),
            };
            (minor - b'0', tail)
        }
        v if b" HTTP/1.".starts_with(v) => return Err(incomplete),
        _ => return Err(Http1Error::BadVersion),
    };

    *req = Http1Request {
        method,
        path,
        minor_version,
        ..Http1Request::default()
    };
    loop {
        // field-line = field-name ":" OWS field-value OWS (RFC 9112 §5). The name runs to its
        // first byte that is not visible ASCII, which must be the colon; names are not held to
        // the token grammar beyond that (a name with a separator such as `(` can never equal
        // one of the names captured, and the origin server judges it). The value runs to CRLF
        // or LF, with no other control byte. Both scans go eight bytes at a time.
        let stop = name_stop(rest).ok_or(incomplete)?;
        let (name, after_name) = rest.split_at_checked(stop).ok_or(incomplete)?;
        let stop_byte = after_name.first().copied();
        if stop_byte != Some(b':') || stop == 0 {
            match stop_byte {
                Some(b'\r' | b'\n') if stop == 0 => {
                    // The empty line that ends the head: CRLF, or a bare LF (RFC 9112 §2.2);
                    // a CR followed by anything else is malformed.
                    rest = match rest {
                        [b'\r', b'\n', tail @ ..] | [b'\n', tail @ ..] => tail,
                        [b'\r'] => return Err(incomplete),
                        _ => return Err(Http1Error::BadHeader),
                    };
                    break;
                }
                Some(b' ' | b'\t') if stop == 0 => return Err(Http1Error::ObsoleteFold),
                _ => return Err(Http1Error::BadHeader),
            }
        }
        let after_colon = after_name.get(1..).unwrap_or(&[]);
        let (end, next) = value_end(after_colon)?.ok_or(incomplete)?;
        // Trimmed only for the fields captured below: most lines are skipped.
        let raw = after_colon.get(..end).unwrap_or(&[]);
        rest = after_colon.get(next..).unwrap_or(&[]);
        req.headers = req.headers.saturating_add(1);
        // Host, the claim and the model header once each: a second copy is one a backend
        // may read instead of the first (RFC 9112 §3.2: a request with two Host fields is
        // invalid).
        let (slot, twice) = if same_name(name, b"host") {
            (&mut req.host, Ambiguity::DuplicateHost)
        } else if same_name(name, b"transfer-encoding") {
            if req.transfer_encoding.is_some() {
                return Err(Http1Error::Ambiguous(Ambiguity::TransferEncoding));
            }
            req.transfer_encoding = Some(trim_ows(raw));
            continue;
        } else if same_name(name, b"content-length") {
            let n = parse_decimal(trim_ows(raw)).ok_or(Http1Error::BadContentLength)?;
            if req.content_length.is_some_and(|old| old != n) {
                return Err(Http1Error::BadContentLength);
            }
            req.content_length = Some(n);
            continue;
        } else if same_name(name, names.tenant) {
            (&mut req.tenant, Ambiguity::DuplicateClaim)
        } else if same_name(name, names.model) {
            (&mut req.model_header, Ambiguity::DuplicateModelHeader)
        } else if same_name(name, names.session) {
            // Steering hints, not policy: the first occurrence wins.
            if req.session.is_none() {
                req.session = Some(trim_ows(raw));
            }
            continue;
        } else if same_name(name, names.priority) {
            if req.priority.is_none() {
                req.priority = Some(trim_ows(raw));
            }
            continue;
        } else {
            continue;
        };
        if slot.is_some() {
            return Err(Http1Error::Ambiguous(twice));
        }
        *slot = Some(trim_ows(raw));
    }
    // RFC 9112 §6.1/§6.3: Transfer-Encoding with Content-Length is a smuggling vector, and a
    // request whose final coding is not chunked has no determinable length.
    if let Some(te) = req.transfer_encoding {
        if req.content_length.is_some() {
            return Err(Http1Error::Ambiguous(
                Ambiguity::ContentLengthWithTransferEncoding,
            ));
        }
        let last = te.rsplit(|&b| b == b',').next().map(trim_ows);
        if !last.is_some_and(|c| c.eq_ignore_ascii_case(b"chunked")) {
            return Err(Http1Error::Ambiguous(Ambiguity::TransferEncoding));
        }
    }
    req.head_len = window.len() - rest.len();
    Ok(())
}

fn parse_decimal(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 {
        return None;
    }
    v.iter().try_fold(0u64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0'))
    })
}

/// The model name of a KServe v2 inference path: `/v2/models/{name}/infer` or
/// `/v2/models/{name}/versions/{v}/infer` (a query string is ignored).
pub fn kserve_model(path: &[u8]) -> Option<&[u8]> {
    let path = path.split(|&b| b == b'?').next().unwrap_or(path);
    let rest = path.strip_prefix(b"/v2/models/")?;
    let slash = rest.iter().position(|&b| b == b'/')?;
    let (name, tail) = rest.split_at(slash);
    if name.is_empty() {
        return None;
    }
    let ok = tail == b"/infer" || {
        tail.strip_prefix(b"/versions/")
            .and_then(|t| t.strip_suffix(b"/infer"))
            .is_some_and(|v| !v.is_empty() && !v.contains(&b'/'))
    };
    ok.then_some(name)
}

/// What a scan of a JSON object for a top-level string member found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JsonField<'b> {
    /// The member's raw string value (escape sequences left as they are).
    Found(&'b [u8]),
    /// The object has no such string member (or the bytes are not a JSON object).
    Absent,
    /// The bytes end before the object does: more of the body may hold the member.
    Truncated,
    /// The member appears twice at the top level (a key spelled with escapes that decode to
    /// `key` counts): a reader may take either, so the caller must refuse.
    Duplicate,
}

/// The raw value of the top-level string member `key` of the JSON object in `json`, or `None`
/// (absent, not a string, or `json` ends first). See [`json_top_level_field`].
pub fn json_top_level_string<'b>(json: &'b [u8], key: &[u8]) -> Option<&'b [u8]> {
    match json_top_level_field(json, key) {
        JsonField::Found(v) => Some(v),
        JsonField::Absent | JsonField::Truncated | JsonField::Duplicate => None,
    }
}

/// Scans the JSON object in `json` for the top-level string member `key`. Nested objects and
/// arrays are skipped, never searched; the walk is iterative with a depth counter, so deep
/// nesting cannot overflow the stack. After the member is found the rest of the object (as
/// far as `json` goes) is scanned too: a second member named `key` is
/// [`JsonField::Duplicate`]. Keys are compared after their escapes are decoded
/// (`"mod\u0065l"` is `"model"`), as a JSON parser would.
pub fn json_top_level_field<'b>(json: &'b [u8], key: &[u8]) -> JsonField<'b> {
    let mut found: Option<Option<&'b [u8]>> = None;
    // `None` from a step means the bytes ran out; a syntax error is reported as `Absent`.
    let mut scan = || -> Option<JsonField<'b>> {
        let mut r = json;
        skip_ws(&mut r);
        match r.first()? {
            b'{' => r = r.get(1..)?,
            _ => return Some(JsonField::Absent),
        }
        loop {
            skip_ws(&mut r);
            match r.first()? {
                b'}' => return Some(JsonField::Absent),
                b'"' => {}
                _ => return Some(JsonField::Absent),
            }
            let k = json_string(&mut r)?;
            skip_ws(&mut r);
            match r.first()? {
                b':' => r = r.get(1..)?,
                _ => return Some(JsonField::Absent),
            }
            skip_ws(&mut r);
            if json_key_is(k, key) {
                if found.is_some() {
                    return Some(JsonField::Duplicate);
                }
                if r.first()? == &b'"' {
                    found = Some(Some(json_string(&mut r)?));
                } else {
                    found = Some(None);
                    skip_value(&mut r)?;
                }
            } else {
                skip_value(&mut r)?;
            }
            skip_ws(&mut r);
            match r.first()? {
                b',' => r = r.get(1..)?,
                _ => return Some(JsonField::Absent),
            }
        }
    };
    let outcome = scan();
    match (outcome, found) {
        (Some(JsonField::Duplicate), _) => JsonField::Duplicate,
        // The member was seen; the object ended, stopped parsing, or the bytes ran out past
        // it (what lies beyond cannot be checked here).
        (_, Some(Some(v))) => JsonField::Found(v),
        (_, Some(None)) => JsonField::Absent,
        (Some(other), None) => other,
        (None, None) => JsonField::Truncated,
    }
}

/// Whether the raw JSON key `raw` (between its quotes, escapes as sent) decodes to `key`.
fn json_key_is(raw: &[u8], key: &[u8]) -> bool {
    if !raw.contains(&b'\\') {
        return raw == key;
    }
    let mut out = key.iter();
    let mut r = raw;
    while let Some((&b, rest)) = r.split_first() {
        let (c, rest) = if b == b'\\' {
            match rest.split_first() {
                Some((b'u', hex)) => {
                    let Some((digits, tail)) = hex.split_first_chunk::<4>() else {
                        return false;
                    };
                    let v = digits.iter().try_fold(0u32, |acc, &d| {
                        (d as char).to_digit(16).map(|x| acc * 16 + x)
                    });
                    match v.and_then(|v| u8::try_from(v).ok()) {
                        Some(c) => (c, tail),
                        // Not a byte of an ASCII key.
                        None => return false,
                    }
                }
                Some((&e, tail)) => (
                    match e {
                        b'"' | b'\\' | b'/' => e,
                        b'b' => 8,
                        b'f' => 12,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        _ => return false,
                    },
                    tail,
                ),
                None => return false,
            }
        } else {
            (b, rest)
        };
        if out.next() != Some(&c) {
            return false;
        }
        r = rest;
    }
    out.next().is_none()
}

#[inline]
fn skip_ws(r: &mut &[u8]) {
    while let [b' ' | b'\t' | b'\r' | b'\n', rest @ ..] = *r {
        *r = rest;
    }
}

/// Reads a JSON string at the front of `r`; returns its raw contents between the quotes.
fn json_string<'b>(r: &mut &'b [u8]) -> Option<&'b [u8]> {
    let body = r.strip_prefix(b"\"")?;
    let mut i = 0;
    loop {
        match body.get(i)? {
            b'\\' => i += 2,
            b'"' => {
                let s = body.get(..i)?;
                *r = body.get(i + 1..)?;
                return Some(s);
            }
            _ => i += 1,
        }
    }
}

/// Skips one JSON value (string, number, literal, object or array).
fn skip_value(r: &mut &[u8]) -> Option<()> {
    let mut depth = 0usize;
    loop {
        skip_ws(r);
        match r.first()? {
            b'"' => {
                json_string(r)?;
            }
            b'{' | b'[' => {
                depth += 1;
                *r = r.get(1..)?;
                continue;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                *r = r.get(1..)?;
            }
            b',' | b':' if depth > 0 => {
                *r = r.get(1..)?;
                continue;
            }
            _ => {
                // Number or literal: up to the next delimiter.
                let n = r.iter().position(|&b| {
                    matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
                })?;
                if n == 0 {
                    return None;
                }
                *r = r.get(n..)?;
            }
        }
        if depth == 0 {
            return Some(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENAI: &[u8] = b"POST /v1/chat/completions HTTP/1.1\r\nHost: infer.tenant-a.example:37117\r\nUser-Agent: curl/7.88.1\r\ncontent-type: application/json\r\nx-gateway-inference-fairness-id: tenant-a\r\nX-Dynamo-Session-ID: sess-42\r\nContent-Length: 94\r\n\r\n{\"model\":\"llama-3.1-8b-instruct\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],\"stream\":true}";

    #[test]
    fn openai_request() {
        let r = parse_request(OPENAI, &HeaderNames::DEFAULT, 8192).unwrap();
        assert_eq!(
            (r.method, r.path, r.minor_version),
            (&b"POST"[..], &b"/v1/chat/completions"[..], 1)
        );
        assert_eq!(r.host, Some(&b"infer.tenant-a.example:37117"[..]));
        assert_eq!(r.tenant, Some(&b"tenant-a"[..]));
        assert_eq!(r.session, Some(&b"sess-42"[..]));
        assert_eq!(
            (r.priority, r.model_header, r.content_length),
            (None, None, Some(94))
        );
        let body = &OPENAI[r.head_len..];
        assert_eq!(
            r.model(body, 4096),
            ModelLookup::Found(&b"llama-3.1-8b-instruct"[..], ModelSource::Body)
        );
        assert_eq!(
            r.model(&body[..20], 4096),
            ModelLookup::NeedBody,
            "body still arriving"
        );
        assert_eq!(
            r.model(&body[..20], 20),
            ModelLookup::Absent,
            "scan limit reached"
        );
    }

    #[test]
    fn kserve_paths() {
        assert_eq!(
            kserve_model(b"/v2/models/resnet50/infer"),
            Some(&b"resnet50"[..])
        );
        assert_eq!(
            kserve_model(b"/v2/models/resnet50/versions/2/infer"),
            Some(&b"resnet50"[..])
        );
        assert_eq!(
            kserve_model(b"/v2/models/resnet50/versions/2/infer?x=1"),
            Some(&b"resnet50"[..])
        );
        for bad in [
            &b"/v2/models//infer"[..],
            b"/v2/models/resnet50",
            b"/v2/models/r/ready",
            b"/v2/models/r/versions//infer",
            b"/v1/models/r/infer",
        ] {
            assert_eq!(kserve_model(bad), None, "{}", bad.escape_ascii());
        }
    }

    #[test]
    fn json_model_key() {
        let j = br#" { "prompt": {"model": "nested"}, "list": [1, {"model":"x"}, "s\"q"], "n": -1.5e3, "t": true, "model" : "mistral-7b" }"#;
        assert_eq!(json_top_level_string(j, b"model"), Some(&b"mistral-7b"[..]));
        assert_eq!(json_top_level_string(br#"{"model": 7}"#, b"model"), None);
        assert_eq!(json_top_level_string(br#"{"a": "b"}"#, b"model"), None);
        assert_eq!(
            json_top_level_string(br#"{"a": [1, 2"#, b"model"),
            None,
            "truncated body"
        );
        assert_eq!(
            json_top_level_string(br#"{"model": "a\"b"}"#, b"model"),
            Some(&br#"a\"b"#[..])
        );
        let deep = [b'['; 100_000];
        let mut doc = b"{\"a\":".to_vec();
        doc.extend_from_slice(&deep);
        assert_eq!(
            json_top_level_string(&doc, b"model"),
            None,
            "deep nesting does not recurse"
        );
    }

    #[test]
    fn malformed_heads() {
        let n = HeaderNames::DEFAULT;
        let cases: &[(&[u8], Http1Error)] = &[
            (b"GET / HTTP/1.1\r\nHost: a\r\n", Http1Error::Incomplete),
            (b"GET / HTTP/1.1", Http1Error::Incomplete),
            (b"G@T / HTTP/1.1\r\n\r\n", Http1Error::BadMethod),
            (b" / HTTP/1.1\r\n\r\n", Http1Error::BadMethod),
            (b"GET  HTTP/1.1\r\n\r\n", Http1Error::BadTarget),
            // Found by the `http1` fuzz target against httparse: a non-ASCII byte in the
            // target (here in a KServe path, 16 bytes in) was taken.
            (
                b"POST /v2/models\xafresnet50/infer HTTP/1.1\r\n\r\n",
                Http1Error::BadTarget,
            ),
            (b"GET /\x80 HTTP/1.1\r\n\r\n", Http1Error::BadTarget),
            (b"GET / HTTP/2.0\r\n\r\n", Http1Error::BadVersion),
            (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", Http1Error::BadHeader),
            (b"GET / HTTP/1.1\r\n: v\r\n\r\n", Http1Error::BadHeader),
            (b"GET / HTTP/1.1\r\nA b: v\r\n\r\n", Http1Error::BadHeader),
            (b"GET / HTTP/1.1\r\nA: v\x01\r\n\r\n", Http1Error::BadHeader),
            (
                b"GET / HTTP/1.1\r\nA: v\r\n  folded\r\n\r\n",
                Http1Error::ObsoleteFold,
            ),
            (
                b"GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
                Http1Error::BadContentLength,
            ),
            (
                b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                Http1Error::BadContentLength,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse_request(input, &n, 8192).unwrap_err(),
                *want,
                "{}",
                input.escape_ascii()
            );
        }
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\nHost: a\r\n", &n, 10).unwrap_err(),
            Http1Error::TooLong
        );
        let ok = parse_request(b"GET /x HTTP/1.0\nHost:  a \n\n", &n, 8192).unwrap();
        assert_eq!(
            (ok.host, ok.minor_version, ok.head_len),
            (Some(&b"a"[..]), 0, 27)
        );
    }

    /// Every byte value in every lane, beside neighbours that could carry or borrow into it.
    #[test]
    fn swar_classes_exhaustive() {
        for lane in 0..8 {
            for neighbour in [0x00u8, 0x1f, 0x20, 0x21, 0x3a, 0x7e, 0x7f, 0x80, 0xff] {
                for b in 0..=255u8 {
                    let mut lanes = [neighbour; 8];
                    lanes[lane] = b;
                    let word = u64::from_le_bytes(lanes);
                    for (i, &v) in lanes.iter().enumerate() {
                        let bit = |flags: u64| (flags >> (8 * i + 7)) & 1 == 1;
                        assert_eq!(
                            bit(name_stop_bytes(word)),
                            v <= b' ' || v >= 0x7f || v == b':',
                            "name, byte {v:#x} in lane {i} of {word:#x}"
                        );
                        assert_eq!(
                            bit(value_stop_bytes(word)),
                            v < b' ' || v == 0x7f,
                            "value, byte {v:#x} in lane {i} of {word:#x}"
                        );
                    }
                    assert_eq!(name_stop_bytes(word) & !HI, 0);
                    assert_eq!(value_stop_bytes(word) & !HI, 0);
                }
            }
        }
    }

    #[test]
    fn every_prefix_is_incomplete_or_the_same_head() {
        let full = parse_request(OPENAI, &HeaderNames::DEFAULT, 8192).unwrap();
        for k in 0..OPENAI.len() {
            match parse_request(&OPENAI[..k], &HeaderNames::DEFAULT, 8192) {
                Ok(r) => {
                    assert!(k >= full.head_len);
                    assert_eq!(r, full);
                }
                Err(e) => {
                    assert!(k < full.head_len);
                    assert_eq!(e, Http1Error::Incomplete, "prefix {k}");
                }
            }
        }
    }

    fn naive_value_end(bytes: &[u8]) -> Result<Option<(usize, usize)>, Http1Error> {
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\t' => {}
                b'\n' => return Ok(Some((i, i + 1))),
                b'\r' => {
                    return match bytes.get(i + 1) {
                        Some(b'\n') => Ok(Some((i, i + 2))),
                        None => Ok(None),
                        Some(_) => Err(Http1Error::BadHeader),
                    }
                }
                b if b < b' ' || b == 0x7f => return Err(Http1Error::BadHeader),
                _ => {}
            }
        }
        Ok(None)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 5000, failure_persistence: None, ..Default::default() })]

        /// The word-at-a-time scans agree with byte-at-a-time references on any bytes.
        #[test]
        fn swar_scans_match_bytewise(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)) {
            let naive_stop = bytes.iter().position(|&b| b <= b' ' || b >= 0x7f || b == b':');
            proptest::prop_assert_eq!(name_stop(&bytes), naive_stop);
            proptest::prop_assert_eq!(value_end(&bytes), naive_value_end(&bytes));
        }

        /// The combined byte classes agree with the byte tests they stand for, in every lane.
        #[test]
        fn swar_classes_match_bytewise(word in proptest::prelude::any::<u64>()) {
            let lanes = word.to_le_bytes();
            for (i, &b) in lanes.iter().enumerate() {
                let bit = |flags: u64| (flags >> (8 * i + 7)) & 1 == 1;
                proptest::prop_assert_eq!(bit(name_stop_bytes(word)), b <= b' ' || b >= 0x7f || b == b':');
                proptest::prop_assert_eq!(bit(value_stop_bytes(word)), b < b' ' || b == 0x7f);
                proptest::prop_assert_eq!(name_stop_bytes(word) & !HI, 0);
                proptest::prop_assert_eq!(value_stop_bytes(word) & !HI, 0);
            }
        }

        #[test]
        fn random_heads_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let mut head = b"POST /v1/completions HTTP/1.1\r\n".to_vec();
            head.extend(bytes);
            let _ = parse_request(&head, &HeaderNames::DEFAULT, 8192);
        }
    }
}
