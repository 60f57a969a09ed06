//! Request classification on the first bytes of a flow: TLS ClientHello before termination,
//! HTTP/1.1, HTTP/2 (with HPACK) and gRPC after it, turned into one [`RequestInfo`].
//!
//! # Promises
//!
//! - **No allocation, no panic.** Parsers walk borrowed bytes with checked reads; names are
//!   borrowed slices in the per-protocol views and fixed-size copies ([`FixedStr`]) in
//!   [`RequestInfo`]. Every malformed length is a typed error, never a panic.
//! - **Incomplete is not malformed.** A request cut short by the end of the bytes received so
//!   far is [`L7Error::Incomplete`]: feed more bytes and classify again. Anything else that does
//!   not parse is a specific error naming the field.
//! - **Trusted-vs-claimed.** Identities found here (SNI, the fairness-id header, gRPC
//!   metadata) are claims; the policy layer decides what to trust.
#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

pub mod classify;
pub mod h2;
pub mod h2conn;
pub mod hpack;
pub mod http1;
pub mod huffman;
pub mod reassembly;
pub mod stream;
pub mod tls;

pub use classify::{Classifier, ClassifyConfig};

use core::fmt;

/// A string copied into a fixed-size buffer: at most `N` bytes, longer input is cut and
/// flagged. Bytes are kept as they came (not necessarily UTF-8).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FixedStr<const N: usize> {
    buf: [u8; N],
    len: u16,
    truncated: bool,
}

impl<const N: usize> FixedStr<N> {
    /// The empty string.
    pub const EMPTY: Self = Self {
        buf: [0; N],
        len: 0,
        truncated: false,
    };

    /// Copies `bytes`, cutting at `N` bytes.
    #[inline]
    pub fn new(bytes: &[u8]) -> Self {
        let mut s = Self::EMPTY;
        s.set(bytes);
        s
    }

    /// Replaces the contents with `bytes`, cutting at `N` bytes.
    #[inline]
    pub fn set(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(N);
        if let (Some(dst), Some(src)) = (self.buf.get_mut(..n), bytes.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.len = n as u16;
        self.truncated = bytes.len() > N;
    }

    /// The bytes kept.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Whether the input was longer than `N` bytes and was cut.
    #[inline]
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Whether nothing is stored.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> Default for FixedStr<N> {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl<const N: usize> fmt::Debug for FixedStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.as_bytes().escape_ascii())?;
        if self.truncated {
            write!(f, "…")?;
        }
        Ok(())
    }
}

/// The protocol a flow's first bytes were recognised as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// Not recognised (yet).
    #[default]
    Unknown,
    /// A TLS ClientHello (the flow is encrypted from here on).
    Tls,
    /// An HTTP/1.1 request.
    Http1,
    /// An HTTP/2 request (prior knowledge or after TLS termination).
    H2,
    /// A gRPC call over HTTP/2.
    Grpc,
}

/// Most ALPN protocol names kept in a [`RequestInfo`].
pub const MAX_ALPN: usize = 8;
/// Most TLS versions kept in a [`RequestInfo`].
pub const MAX_VERSIONS: usize = 8;

/// What classification learned about a request: a `Copy` value of fixed size, with every
/// string copied into a bounded buffer, ready to be stored or handed across threads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RequestInfo {
    /// What the bytes were.
    pub kind: RequestKind,
    /// TLS server name (SNI).
    pub sni: FixedStr<128>,
    /// ALPN protocol names offered, in order (at most [`MAX_ALPN`]).
    pub alpn: [FixedStr<16>; MAX_ALPN],
    /// Number of ALPN names stored in `alpn`.
    pub alpn_len: u8,
    /// Whether the ClientHello carries encrypted_client_hello.
    pub ech: bool,
    /// TLS versions offered, GREASE left out, in the client's order (supported_versions, or
    /// the legacy version when that extension is absent).
    pub versions: [u16; MAX_VERSIONS],
    /// Number of versions stored in `versions`.
    pub versions_len: u8,
    /// HTTP method.
    pub method: FixedStr<16>,
    /// HTTP path (request target).
    pub path: FixedStr<128>,
    /// HTTP Host header or `:authority`.
    pub authority: FixedStr<128>,
    /// Model name (KServe path, model header, JSON body or gRPC `model_name`).
    pub model: FixedStr<96>,
    /// Session id (the configured session header).
    pub session: FixedStr<64>,
    /// Tenant the request claims (the fairness-id header): a claim, to be checked.
    pub tenant_claim: FixedStr<64>,
    /// Priority header value.
    pub priority: FixedStr<16>,
    /// The body-prefix hash ([`body_prefix_hash`]) of an HTTP request whose first bytes hold
    /// enough of its body: the steering key, after the session id, that keeps requests
    /// sharing a prompt prefix (and so a KV cache) on one GPU queue.
    pub prefix_hash: Option<u64>,
}

/// FNV-1a, 64 bits: the steering hash of session ids and body prefixes.
#[inline]
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A 64-bit hash of a few hundred bytes, eight at a time in four independent lanes (a
/// byte-at-a-time hash such as FNV-1a is one multiply per byte, one after the other: about
/// 300 ns for 256 bytes; this is about a tenth of that). Each word is folded in with a 64×64 →
/// 128-bit multiply whose halves are XORed; the tail is zero-padded and the length mixed in,
/// so inputs that differ only in trailing zero bytes still differ. Deterministic: every core
/// computes the same value, as steering needs.
#[inline]
pub fn bulk_hash(bytes: &[u8]) -> u64 {
    #[inline(always)]
    fn mix(h: u64, x: u64) -> u64 {
        let m = u128::from(h ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (m as u64) ^ ((m >> 64) as u64)
    }
    #[inline(always)]
    fn word(b: &[u8]) -> u64 {
        let mut w = [0u8; 8];
        if let Some(d) = w.get_mut(..b.len().min(8)) {
            d.copy_from_slice(b.get(..d.len()).unwrap_or(&[]));
        }
        u64::from_le_bytes(w)
    }
    let mut lanes = [
        0x243F_6A88_85A3_08D3u64,
        0x1319_8A2E_0370_7344,
        0xA409_3822_299F_31D0,
        0x082E_FA98_EC4E_6C89,
    ];
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        for (lane, w) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            *lane = mix(*lane, word(w));
        }
    }
    let tail = blocks.remainder();
    for (lane, w) in lanes.iter_mut().zip(tail.chunks(8)) {
        *lane = mix(*lane, word(w));
    }
    let [a, b, c, d] = lanes;
    mix(
        mix(mix(a, b.rotate_left(17)), c.rotate_left(31)),
        d.rotate_left(47) ^ bytes.len() as u64,
    )
}

/// The hash ([`bulk_hash`]) of the first `prefix_bytes` bytes of a request body, or of the
/// whole body when it is `complete` and shorter; `None` when fewer bytes than that are at hand
/// (or `prefix_bytes` is 0), so that the hash never depends on how the body was cut into
/// segments. Requests whose bodies start alike (same model, same system prompt) get the same
/// hash.
#[inline]
pub fn body_prefix_hash(body: &[u8], complete: bool, prefix_bytes: usize) -> Option<u64> {
    if prefix_bytes == 0 {
        return None;
    }
    match body.get(..prefix_bytes) {
        Some(prefix) => Some(bulk_hash(prefix)),
        None if complete && !body.is_empty() => Some(bulk_hash(body)),
        None => None,
    }
}

impl RequestInfo {
    /// ALPN names stored.
    pub fn alpn(&self) -> &[FixedStr<16>] {
        self.alpn.get(..usize::from(self.alpn_len)).unwrap_or(&[])
    }

    /// TLS versions stored.
    pub fn versions(&self) -> &[u16] {
        self.versions
            .get(..usize::from(self.versions_len))
            .unwrap_or(&[])
    }
}

/// Where the gateway and the backend it protects could read one request two ways: the
/// request is refused rather than judged by one reading while served by the other. The same
/// rules hold for HTTP/1.1 and HTTP/2 (and gRPC).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ambiguity {
    /// Two Host headers, two `:authority` pseudo-headers, or a `host` that differs from
    /// `:authority`.
    DuplicateHost,
    /// The tenant claim header more than once.
    DuplicateClaim,
    /// The model header more than once.
    DuplicateModelHeader,
    /// Content-Length together with Transfer-Encoding (RFC 9112 §6.3: a smuggling vector).
    ContentLengthWithTransferEncoding,
    /// A Transfer-Encoding whose final coding is not `chunked` (the body's length is then
    /// unknown), given twice, or any Transfer-Encoding in HTTP/2 (RFC 9113 §8.2.2).
    TransferEncoding,
    /// The model named by the KServe path, the model header and the JSON body disagree.
    ModelMismatch,
    /// The JSON body's top level holds `"model"` more than once (escaped spellings such as
    /// `"mod\u0065l"` count as `"model"`).
    DuplicateJsonModel,
    /// A gRPC `ModelInferRequest` holds `model_name` (field 1) more than once (protobuf
    /// takes the last; the gateway would check the first).
    DuplicateGrpcModelName,
}

impl fmt::Display for Ambiguity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::DuplicateHost => "Host or :authority given twice or disagreeing",
            Self::DuplicateClaim => "tenant claim header given twice",
            Self::DuplicateModelHeader => "model header given twice",
            Self::ContentLengthWithTransferEncoding => "Content-Length with Transfer-Encoding",
            Self::TransferEncoding => "Transfer-Encoding not ending in chunked, or in HTTP/2",
            Self::ModelMismatch => "path, model header and body name different models",
            Self::DuplicateJsonModel => "JSON body names \"model\" twice",
            Self::DuplicateGrpcModelName => "gRPC model_name given twice",
        })
    }
}

/// Why classification failed.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum L7Error {
    /// The bytes so far end inside the request: feed more and try again.
    Incomplete,
    /// The request could be read two ways ([`Ambiguity`]): refused.
    Ambiguous(Ambiguity),
    /// A malformed TLS ClientHello.
    Tls(tls::TlsError),
    /// A malformed HTTP/1.1 request.
    Http1(http1::Http1Error),
    /// A malformed HTTP/2 or gRPC first flight.
    H2(h2::H2Error),
}

impl fmt::Display for L7Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Incomplete => write!(f, "request incomplete: more bytes needed"),
            Self::Ambiguous(a) => write!(f, "ambiguous request: {a}"),
            Self::Tls(e) => write!(f, "TLS: {e}"),
            Self::Http1(e) => write!(f, "HTTP/1.1: {e}"),
            Self::H2(e) => write!(f, "HTTP/2: {e}"),
        }
    }
}

impl core::error::Error for L7Error {}

/// A bounds-checked big-endian reader over borrowed bytes (the rustls `Reader` idea): every
/// read returns `None` past the end instead of panicking.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    #[inline(always)]
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    #[inline(always)]
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.rest
    }

    #[inline(always)]
    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    #[inline(always)]
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }

    #[inline(always)]
    pub(crate) fn u8(&mut self) -> Option<u8> {
        let (&b, tail) = self.rest.split_first()?;
        self.rest = tail;
        Some(b)
    }

    #[inline(always)]
    pub(crate) fn u16(&mut self) -> Option<u16> {
        let (head, tail) = self.rest.split_first_chunk::<2>()?;
        self.rest = tail;
        Some(u16::from_be_bytes(*head))
    }
}

#[cfg(test)]
mod hash_tests {
    use super::*;

    #[test]
    fn bulk_hash_separates_lengths_flips_and_lanes() {
        let base: [u8; 256] = core::array::from_fn(|i| (i * 7 + 3) as u8);
        let h = bulk_hash(&base);
        assert_eq!(h, bulk_hash(&base), "deterministic");
        // Every single-bit flip, in every lane and the tail, gives a distinct hash.
        let mut seen = std::collections::HashSet::new();
        seen.insert(h);
        for i in 0..base.len() {
            for bit in 0..8 {
                let mut b = base;
                b[i] ^= 1 << bit;
                assert!(
                    seen.insert(bulk_hash(&b)),
                    "collision at byte {i} bit {bit}"
                );
            }
        }
        // Every length of the same bytes, and trailing zeros, differ.
        let lens: std::collections::HashSet<u64> =
            (0..=base.len()).map(|n| bulk_hash(&base[..n])).collect();
        assert_eq!(lens.len(), base.len() + 1);
        assert_ne!(bulk_hash(b"a"), bulk_hash(b"a\0"));
        assert_ne!(bulk_hash(&[]), bulk_hash(&[0]));
    }

    #[test]
    fn body_prefix_hash_rules() {
        let body = [b'x'; 300];
        assert_eq!(
            body_prefix_hash(&body, false, 256),
            Some(bulk_hash(&body[..256]))
        );
        assert_eq!(
            body_prefix_hash(&body, true, 256),
            Some(bulk_hash(&body[..256]))
        );
        assert_eq!(body_prefix_hash(&body[..100], false, 256), None);
        assert_eq!(
            body_prefix_hash(&body[..100], true, 256),
            Some(bulk_hash(&body[..100]))
        );
        assert_eq!(body_prefix_hash(&[], true, 256), None);
        assert_eq!(body_prefix_hash(&body, true, 0), None);
    }
}
