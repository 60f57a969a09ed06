//! The byte-stream entry point: recognise what a flow's first bytes are (TLS, HTTP/1.1,
//! HTTP/2, gRPC) and fill a [`RequestInfo`].
//!
//! A [`Classifier`] owns the state one classification needs (the scratch buffer that joins a
//! ClientHello split over records, and the HTTP/2 header decoder), sized at setup; after that
//! classification allocates nothing. Gateways that terminate TLS themselves feed the decrypted
//! request bytes to [`Classifier::classify`] and get the same description.
#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

use super::h2::{self, H2Error, H2State};
use super::http1::{self, HeaderNames, Http1Error};
use super::tls::{self, TlsError};
use super::{body_prefix_hash, L7Error, RequestInfo, RequestKind};

/// The HTTP/2 client connection preface (RFC 9113 §3.4).
pub const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Largest ClientHello a classifier joins from several records.
pub const MAX_CLIENT_HELLO: usize = 16 * 1024;

/// Settings of a [`Classifier`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassifyConfig {
    /// Header names to capture.
    pub headers: HeaderNames<'static>,
    /// Longest HTTP/1.1 head accepted.
    pub max_head: usize,
    /// How many body bytes are scanned for a JSON `"model"`.
    pub body_scan: usize,
    /// How many leading body bytes make the prefix hash
    /// ([`RequestInfo::prefix_hash`](super::RequestInfo::prefix_hash)); 0 turns it off.
    pub prefix_bytes: usize,
}

impl Default for ClassifyConfig {
    fn default() -> Self {
        Self {
            headers: HeaderNames::DEFAULT,
            max_head: 8192,
            body_scan: 1024,
            prefix_bytes: 256,
        }
    }
}

/// Classifies the first bytes of flows. Create one per data-plane core at setup.
#[derive(Clone, Debug)]
pub struct Classifier {
    config: ClassifyConfig,
    scratch: [u8; MAX_CLIENT_HELLO],
    h2: H2State,
}

impl Classifier {
    /// A classifier with `config`. It is large (the ClientHello scratch buffer): box it or
    /// keep it in long-lived storage.
    pub fn new(config: ClassifyConfig) -> Self {
        Self {
            config,
            scratch: [0; MAX_CLIENT_HELLO],
            h2: H2State::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &ClassifyConfig {
        &self.config
    }

    /// The HPACK decoder HTTP/2 classification uses; its string buffers also serve the
    /// followers of established connections ([`super::h2conn::H2Conn::feed`]), whose tables
    /// are swapped in for each block.
    pub fn hpack_mut(&mut self) -> &mut super::hpack::Decoder {
        self.h2.hpack_mut()
    }

    /// Classifies `bytes`, the first bytes a client sent on a connection (or the decrypted
    /// request bytes behind TLS termination).
    ///
    /// # Errors
    ///
    /// [`L7Error::Incomplete`] when more bytes are needed; otherwise the protocol's error.
    /// Bytes that match no supported protocol are not an error: the kind is
    /// [`RequestKind::Unknown`].
    pub fn classify(&mut self, bytes: &[u8]) -> Result<RequestInfo, L7Error> {
        let mut info = RequestInfo::default();
        match sniff(bytes) {
            Sniffed::Tls => {
                let hello =
                    tls::parse_client_hello(bytes, &mut self.scratch).map_err(|e| match e {
                        TlsError::Incomplete => L7Error::Incomplete,
                        e => L7Error::Tls(e),
                    })?;
                fill_tls(&mut info, &hello);
            }
            Sniffed::H2 => {
                h2::classify_h2(
                    bytes,
                    &mut self.h2,
                    &self.config.headers,
                    self.config.body_scan,
                    self.config.prefix_bytes,
                    &mut info,
                )
                .map_err(|e| match e {
                    H2Error::Incomplete => L7Error::Incomplete,
                    H2Error::Ambiguous(a) => L7Error::Ambiguous(a),
                    e => L7Error::H2(e),
                })?;
            }
            Sniffed::Http1 => {
                let req = http1::parse_request(bytes, &self.config.headers, self.config.max_head)
                    .map_err(|e| match e {
                    Http1Error::Incomplete => L7Error::Incomplete,
                    Http1Error::Ambiguous(a) => L7Error::Ambiguous(a),
                    e => L7Error::Http1(e),
                })?;
                let body = bytes.get(req.head_len..).unwrap_or(&[]);
                fill_http1(&mut info, &req, body, self.config.body_scan)?;
                // The body as far as Content-Length says (a pipelined request may follow);
                // a chunked body counts only once `prefix_bytes` of it are here.
                let (body, complete) =
                    match req.content_length.and_then(|n| usize::try_from(n).ok()) {
                        Some(n) if body.len() >= n => (body.get(..n).unwrap_or(body), true),
                        _ => (body, false),
                    };
                info.prefix_hash = body_prefix_hash(body, complete, self.config.prefix_bytes);
            }
            Sniffed::NeedMore => return Err(L7Error::Incomplete),
            Sniffed::Unknown => {}
        }
        Ok(info)
    }
}

enum Sniffed {
    Tls,
    H2,
    Http1,
    NeedMore,
    Unknown,
}

/// Recognises the protocol from the first bytes.
fn sniff(bytes: &[u8]) -> Sniffed {
    match bytes.first() {
        None => Sniffed::NeedMore,
        Some(&tls::CONTENT_HANDSHAKE) => Sniffed::Tls,
        Some(_) if bytes.starts_with(H2_PREFACE) => Sniffed::H2,
        Some(_) if H2_PREFACE.starts_with(bytes) => Sniffed::NeedMore,
        Some(_) => {
            // An HTTP/1.1 request starts with a method token and a space.
            let token = bytes
                .iter()
                .take(16)
                .position(|&b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            match token.and_then(|n| bytes.get(n).map(|&b| (n, b))) {
                Some((n, b' ')) if n > 0 => Sniffed::Http1,
                None if bytes.len() < 16 => Sniffed::NeedMore,
                _ => Sniffed::Unknown,
            }
        }
    }
}

fn fill_tls(info: &mut RequestInfo, hello: &tls::ClientHello<'_>) {
    info.kind = RequestKind::Tls;
    if let Some(sni) = hello.sni {
        info.sni.set(sni);
    }
    for (slot, name) in info.alpn.iter_mut().zip(hello.alpn.iter()) {
        slot.set(name);
        info.alpn_len += 1;
    }
    info.ech = hello.ech;
    for (slot, v) in info.versions.iter_mut().zip(hello.versions.iter()) {
        *slot = v;
        info.versions_len += 1;
    }
}

fn fill_http1(
    info: &mut RequestInfo,
    req: &http1::Http1Request<'_>,
    body: &[u8],
    body_scan: usize,
) -> Result<(), L7Error> {
    info.kind = RequestKind::Http1;
    info.method.set(req.method);
    info.path.set(req.path);
    if let Some(v) = req.host {
        info.authority.set(v);
    }
    if let Some(v) = req.tenant {
        info.tenant_claim.set(v);
    }
    if let Some(v) = req.session {
        info.session.set(v);
    }
    if let Some(v) = req.priority {
        info.priority.set(v);
    }
    match req.model(body, body_scan) {
        http1::ModelLookup::Found(m, _) => info.model.set(m),
        http1::ModelLookup::NeedBody => return Err(L7Error::Incomplete),
        http1::ModelLookup::Ambiguous(a) => return Err(L7Error::Ambiguous(a)),
        http1::ModelLookup::Absent => {}
    }
    Ok(())
}
