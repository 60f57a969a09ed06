//! TLS ClientHello walker (RFC 8446 §4.1.2 and §5.1, RFC 6066 §3 for SNI, RFC 7301 for ALPN,
//! draft-ietf-tls-esni for encrypted_client_hello).
//!
//! [`parse_client_hello`] reads the first flight of a TLS connection: one or more handshake
//! records carrying the ClientHello (browser hellos with post-quantum key shares run past one
//! TCP segment and sometimes past one record). When the hello fits in its first record the
//! view borrows the input; otherwise its fragments are joined in a caller's scratch buffer.
//! Extensions may come in any order; GREASE values (RFC 8701) are tolerated and left out of
//! the reported versions. Nothing allocates and nothing panics: a short input is
//! [`TlsError::Incomplete`] (more bytes may complete it) and every inconsistent length is a
//! specific error.
#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

use core::fmt;

use super::Reader;

/// TLS record content type of handshake messages.
pub const CONTENT_HANDSHAKE: u8 = 22;
/// Handshake message type of a ClientHello.
pub const HANDSHAKE_CLIENT_HELLO: u8 = 1;
/// Largest TLSPlaintext fragment (RFC 8446 §5.1: 2^14).
pub const MAX_RECORD_LEN: usize = 1 << 14;

/// Extension: server_name (RFC 6066).
pub const EXT_SERVER_NAME: u16 = 0;
/// Extension: application_layer_protocol_negotiation (RFC 7301).
pub const EXT_ALPN: u16 = 16;
/// Extension: supported_versions (RFC 8446 §4.2.1).
pub const EXT_SUPPORTED_VERSIONS: u16 = 43;
/// Extension: encrypted_client_hello (draft-ietf-tls-esni).
pub const EXT_ECH: u16 = 0xfe0d;

/// Whether `v` is a GREASE value (RFC 8701: 0x0A0A, 0x1A1A, … 0xFAFA).
#[inline(always)]
pub const fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// What is wrong with a ClientHello.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TlsError {
    /// The bytes end before the whole ClientHello: more may complete it.
    Incomplete,
    /// A record whose content type is not handshake (the type found).
    NotHandshake(u8),
    /// A record version outside 0x0300..=0x0304 (the version found).
    BadRecordVersion(u16),
    /// A record of length 0 or longer than 2^14.
    BadRecordLength(u16),
    /// A handshake message other than ClientHello (its type).
    NotClientHello(u8),
    /// A ClientHello longer than the scratch buffer given to join its records.
    TooLong(usize),
    /// The fixed fields (version, random) do not fit the message.
    Truncated,
    /// legacy_session_id longer than 32 bytes or past the message.
    SessionIdLength,
    /// cipher_suites empty, odd or past the message.
    CipherSuitesLength,
    /// legacy_compression_methods empty or past the message.
    CompressionLength,
    /// The extensions block does not match its length.
    ExtensionsLength,
    /// One extension runs past the extensions block (its type).
    ExtensionLength(u16),
    /// The same extension twice (its type; RFC 8446 §4.2).
    DuplicateExtension(u16),
    /// server_name list or entry lengths inconsistent, or an empty host name.
    ServerNameLength,
    /// ALPN list or name lengths inconsistent, or an empty name.
    AlpnLength,
    /// supported_versions list empty, odd or inconsistent.
    SupportedVersionsLength,
    /// Bytes after the ClientHello inside its handshake length.
    TrailingBytes,
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Incomplete => write!(f, "ClientHello incomplete"),
            Self::NotHandshake(t) => write!(f, "record content type {t} is not handshake"),
            Self::BadRecordVersion(v) => write!(f, "record version {v:#06x}"),
            Self::BadRecordLength(l) => write!(f, "record length {l}"),
            Self::NotClientHello(t) => write!(f, "handshake type {t} is not ClientHello"),
            Self::TooLong(l) => write!(f, "ClientHello of {l} bytes exceeds the scratch buffer"),
            Self::Truncated => write!(f, "ClientHello shorter than its fixed fields"),
            Self::SessionIdLength => write!(f, "bad legacy_session_id length"),
            Self::CipherSuitesLength => write!(f, "bad cipher_suites length"),
            Self::CompressionLength => write!(f, "bad legacy_compression_methods length"),
            Self::ExtensionsLength => write!(f, "extensions block length mismatch"),
            Self::ExtensionLength(t) => write!(f, "extension {t:#06x} runs past the block"),
            Self::DuplicateExtension(t) => write!(f, "extension {t:#06x} appears twice"),
            Self::ServerNameLength => write!(f, "bad server_name lengths"),
            Self::AlpnLength => write!(f, "bad ALPN lengths"),
            Self::SupportedVersionsLength => write!(f, "bad supported_versions length"),
            Self::TrailingBytes => write!(f, "bytes after the ClientHello"),
        }
    }
}

impl core::error::Error for TlsError {}

/// The TLS versions a client offers: the validated supported_versions list (borrowed), or the
/// legacy version when that extension is absent. Iteration leaves GREASE values out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Versions<'a> {
    list: &'a [u8],
    legacy: u16,
}

impl<'a> Versions<'a> {
    /// The versions, most preferred first, GREASE left out.
    pub fn iter(&self) -> impl Iterator<Item = u16> + 'a {
        let legacy = (self.list.is_empty() && self.legacy != 0).then_some(self.legacy);
        self.list
            .chunks_exact(2)
            .map(|p| match p {
                [a, b] => u16::from_be_bytes([*a, *b]),
                _ => 0,
            })
            .chain(legacy)
            .filter(|v| !is_grease(*v))
    }

    /// Whether TLS 1.3 (0x0304) is offered.
    pub fn has_tls13(&self) -> bool {
        self.iter().any(|v| v == 0x0304)
    }
}

/// A version number as text: `"1.3"`, `"1.2"`, `"1.1"`, `"1.0"`, `"ssl3"`, or `None`.
pub fn version_name(v: u16) -> Option<&'static str> {
    match v {
        0x0304 => Some("1.3"),
        0x0303 => Some("1.2"),
        0x0302 => Some("1.1"),
        0x0301 => Some("1.0"),
        0x0300 => Some("ssl3"),
        _ => None,
    }
}

/// The ALPN protocol_name_list, validated; iterate for the names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Alpn<'a> {
    list: &'a [u8],
}

impl<'a> Alpn<'a> {
    /// The protocol names, in the client's order.
    pub fn iter(&self) -> AlpnIter<'a> {
        AlpnIter { rest: self.list }
    }

    /// Whether the client offered no ALPN.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Whether `name` is among the offered protocols.
    pub fn contains(&self, name: &[u8]) -> bool {
        self.iter().any(|p| p == name)
    }
}

/// Iterator over validated ALPN names.
#[derive(Clone, Debug)]
pub struct AlpnIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for AlpnIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, tail) = self.rest.split_first()?;
        let (name, rest) = tail.split_at_checked(usize::from(len))?;
        self.rest = rest;
        Some(name)
    }
}

/// What a ClientHello tells the data plane. Names borrow the input (or the scratch buffer
/// the fragments were joined in).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientHello<'a> {
    /// legacy_version of the ClientHello (0x0303 for TLS 1.2 and 1.3 clients).
    pub legacy_version: u16,
    /// Versions offered (supported_versions, else the legacy version), GREASE left out.
    pub versions: Versions<'a>,
    /// The first host_name of server_name.
    pub sni: Option<&'a [u8]>,
    /// The ALPN list.
    pub alpn: Alpn<'a>,
    /// Whether encrypted_client_hello is present.
    pub ech: bool,
    /// Number of cipher suites offered (GREASE included).
    pub cipher_suites: u16,
    /// Number of extensions (GREASE included).
    pub extensions: u16,
    /// Number of TLS records the ClientHello spans.
    pub records: u8,
    /// Length of the ClientHello body in bytes (after its 4-byte handshake header).
    pub hello_len: u32,
    /// Bytes of the input the records carrying the hello occupy (what follows is not part of
    /// it).
    pub consumed: usize,
}

/// Parses the ClientHello at the start of `stream`, the bytes a client sent first on a TCP
/// connection. A hello split over several records is joined in `scratch` (which bounds its
/// size); one that fits its first record borrows `stream` and leaves `scratch` untouched.
///
/// # Errors
///
/// [`TlsError::Incomplete`] when `stream` ends before the hello does; another [`TlsError`]
/// when the bytes are not a well-formed ClientHello.
#[inline]
pub fn parse_client_hello<'a>(
    stream: &'a [u8],
    scratch: &'a mut [u8],
) -> Result<ClientHello<'a>, TlsError> {
    let mut input = Reader::new(stream);
    let first = read_record(&mut input)?;
    let (body, records): (&'a [u8], u8) = match first {
        // The common case: the whole hello in its first record, borrowed in place.
        [msg_type, a, b, c, rest @ ..]
            if *msg_type == HANDSHAKE_CLIENT_HELLO
                && rest.len()
                    >= (usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c)) =>
        {
            let len = usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c);
            if rest.len() != len {
                // Another message shares the record: a client sends nothing else before the
                // server answers, so this is not a first flight.
                return Err(TlsError::TrailingBytes);
            }
            (rest, 1)
        }
        _ => join_fragments(first, &mut input, scratch)?,
    };
    let consumed = stream.len() - input.rest().len();
    let mut hello = parse_body(body)?;
    hello.records = records;
    hello.consumed = consumed;
    Ok(hello)
}

/// Joins a ClientHello fragmented over several records (RFC 8446 §5.1 allows a split at any
/// byte, its 4-byte header included) into `scratch`; returns the body and the record count.
fn join_fragments<'a>(
    first: &'a [u8],
    input: &mut Reader<'a>,
    scratch: &'a mut [u8],
) -> Result<(&'a [u8], u8), TlsError> {
    let mut header = [0u8; 4];
    let mut header_filled = 0;
    let mut body_len = None;
    let mut filled = 0;
    let mut records = 1u8;
    let mut fragment = first;
    loop {
        while header_filled < 4 {
            let Some((&byte, rest)) = fragment.split_first() else {
                break;
            };
            if header_filled == 0 && byte != HANDSHAKE_CLIENT_HELLO {
                return Err(TlsError::NotClientHello(byte));
            }
            if let Some(slot) = header.get_mut(header_filled) {
                *slot = byte;
            }
            header_filled += 1;
            fragment = rest;
        }
        if header_filled == 4 && body_len.is_none() {
            let [_, a, b, c] = header;
            let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
            if len > scratch.len() {
                return Err(TlsError::TooLong(len));
            }
            body_len = Some(len);
        }
        if let Some(len) = body_len {
            let take = fragment.len().min(len - filled);
            if take < fragment.len() {
                return Err(TlsError::TrailingBytes);
            }
            if let Some(dst) = scratch.get_mut(filled..filled + take) {
                dst.copy_from_slice(fragment);
            }
            filled += take;
            if filled == len {
                let body: &'a [u8] = scratch;
                return Ok((body.get(..len).unwrap_or(&[]), records));
            }
        }
        fragment = read_record(input)?;
        records = records.saturating_add(1);
    }
}

/// Reads one handshake record's fragment.
#[inline(always)]
fn read_record<'a>(input: &mut Reader<'a>) -> Result<&'a [u8], TlsError> {
    let content_type = input.u8().ok_or(TlsError::Incomplete)?;
    if content_type != CONTENT_HANDSHAKE {
        return Err(TlsError::NotHandshake(content_type));
    }
    let version = input.u16().ok_or(TlsError::Incomplete)?;
    if !(0x0300..=0x0304).contains(&version) {
        return Err(TlsError::BadRecordVersion(version));
    }
    let len = input.u16().ok_or(TlsError::Incomplete)?;
    if len == 0 || usize::from(len) > MAX_RECORD_LEN {
        return Err(TlsError::BadRecordLength(len));
    }
    input.take(usize::from(len)).ok_or(TlsError::Incomplete)
}

/// Parses a complete ClientHello body (after the handshake header).
#[inline]
pub fn parse_body(body: &[u8]) -> Result<ClientHello<'_>, TlsError> {
    let mut r = Reader::new(body);
    let legacy_version = r.u16().ok_or(TlsError::Truncated)?;
    r.take(32).ok_or(TlsError::Truncated)?;
    let sid_len = r.u8().ok_or(TlsError::Truncated)?;
    if sid_len > 32 {
        return Err(TlsError::SessionIdLength);
    }
    r.take(usize::from(sid_len))
        .ok_or(TlsError::SessionIdLength)?;
    let cs_len = usize::from(r.u16().ok_or(TlsError::CipherSuitesLength)?);
    if cs_len == 0 || cs_len % 2 != 0 {
        return Err(TlsError::CipherSuitesLength);
    }
    r.take(cs_len).ok_or(TlsError::CipherSuitesLength)?;
    let comp_len = r.u8().ok_or(TlsError::CompressionLength)?;
    if comp_len == 0 {
        return Err(TlsError::CompressionLength);
    }
    r.take(usize::from(comp_len))
        .ok_or(TlsError::CompressionLength)?;

    let mut hello = ClientHello {
        legacy_version,
        versions: Versions {
            list: &[],
            legacy: legacy_version,
        },
        sni: None,
        alpn: Alpn::default(),
        ech: false,
        cipher_suites: (cs_len / 2) as u16,
        extensions: 0,
        records: 1,
        hello_len: body.len() as u32,
        consumed: 0,
    };
    if !r.is_empty() {
        // Extensions are optional before TLS 1.3 (RFC 5246 §7.4.1.2).
        let ext_len = usize::from(r.u16().ok_or(TlsError::ExtensionsLength)?);
        let block = r.take(ext_len).ok_or(TlsError::ExtensionsLength)?;
        if !r.is_empty() {
            return Err(TlsError::TrailingBytes);
        }
        // Each extension header is read as one 4-byte pattern: one bounds check per extension.
        let mut exts = block;
        let mut count = 0u16;
        let mut seen = 0u8;
        while let [t0, t1, l0, l1, tail @ ..] = exts {
            let ty = u16::from_be_bytes([*t0, *t1]);
            let len = usize::from(u16::from_be_bytes([*l0, *l1]));
            let Some((data, after)) = tail.split_at_checked(len) else {
                return Err(TlsError::ExtensionLength(ty));
            };
            exts = after;
            count = count.saturating_add(1);
            let bit = match ty {
                EXT_SERVER_NAME => 1,
                EXT_ALPN => 2,
                EXT_SUPPORTED_VERSIONS => 4,
                EXT_ECH => 8,
                _ => continue,
            };
            if seen & bit != 0 {
                return Err(TlsError::DuplicateExtension(ty));
            }
            seen |= bit;
            match ty {
                EXT_SERVER_NAME => hello.sni = parse_server_name(data)?,
                EXT_ALPN => hello.alpn = parse_alpn(data)?,
                EXT_SUPPORTED_VERSIONS => {
                    hello.versions = Versions {
                        list: parse_supported_versions(data)?,
                        legacy: legacy_version,
                    };
                }
                _ => hello.ech = true,
            }
        }
        if !exts.is_empty() {
            return Err(TlsError::ExtensionsLength);
        }
        hello.extensions = count;
    }
    Ok(hello)
}

/// server_name (RFC 6066 §3): the first host_name entry; other name types are skipped.
#[inline(always)]
fn parse_server_name(data: &[u8]) -> Result<Option<&[u8]>, TlsError> {
    let mut r = Reader::new(data);
    let list_len = usize::from(r.u16().ok_or(TlsError::ServerNameLength)?);
    let list = r.take(list_len).ok_or(TlsError::ServerNameLength)?;
    if !r.is_empty() || list.is_empty() {
        return Err(TlsError::ServerNameLength);
    }
    let mut entries = Reader::new(list);
    let mut host = None;
    while !entries.is_empty() {
        let name_type = entries.u8().ok_or(TlsError::ServerNameLength)?;
        let len = usize::from(entries.u16().ok_or(TlsError::ServerNameLength)?);
        let name = entries.take(len).ok_or(TlsError::ServerNameLength)?;
        if name_type == 0 && host.is_none() {
            if name.is_empty() {
                return Err(TlsError::ServerNameLength);
            }
            host = Some(name);
        }
    }
    Ok(host)
}

/// ALPN (RFC 7301 §3.1): a non-empty list of non-empty names.
#[inline(always)]
fn parse_alpn(data: &[u8]) -> Result<Alpn<'_>, TlsError> {
    let mut r = Reader::new(data);
    let list_len = usize::from(r.u16().ok_or(TlsError::AlpnLength)?);
    let list = r.take(list_len).ok_or(TlsError::AlpnLength)?;
    if !r.is_empty() || list.is_empty() {
        return Err(TlsError::AlpnLength);
    }
    let mut names = Reader::new(list);
    while !names.is_empty() {
        let len = names.u8().ok_or(TlsError::AlpnLength)?;
        if len == 0 {
            return Err(TlsError::AlpnLength);
        }
        names.take(usize::from(len)).ok_or(TlsError::AlpnLength)?;
    }
    Ok(Alpn { list })
}

/// supported_versions in a ClientHello (RFC 8446 §4.2.1): a u8-length list of u16; returns
/// the validated list bytes.
#[inline(always)]
fn parse_supported_versions(data: &[u8]) -> Result<&[u8], TlsError> {
    match data {
        [len, list @ ..]
            if usize::from(*len) == list.len() && list.len() >= 2 && list.len() % 2 == 0 =>
        {
            Ok(list)
        }
        _ => Err(TlsError::SupportedVersionsLength),
    }
}

#[cfg(test)]
mod tests;
