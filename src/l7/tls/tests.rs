//! ClientHello tests: real captures, a test-only hello builder for every malformed length,
//! records split at every point, GREASE, and property tests.

use super::*;
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/l7/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(stream: &[u8]) -> Result<ClientHello<'_>, TlsError> {
    // A leaked scratch buffer keeps the test simple; the library never allocates.
    let scratch: &'static mut [u8] = Box::leak(vec![0u8; 16 * 1024].into_boxed_slice());
    parse_client_hello(stream, scratch)
}

fn alpn_of(h: &ClientHello<'_>) -> Vec<String> {
    h.alpn
        .iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

#[test]
fn shared_captures() {
    let cases = [
        (
            "shared/openssl_h2.bin",
            "tenant-a.infer.example",
            vec!["h2", "http/1.1"],
        ),
        (
            "shared/curl.bin",
            "tenant-c.infer.example",
            vec!["h2", "http/1.1"],
        ),
        (
            "shared/python_ssl.bin",
            "tenant-e.infer.example",
            vec!["http/1.1"],
        ),
    ];
    for (name, sni, alpn) in cases {
        let bytes = fixture(name);
        let h = parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(h.sni, Some(sni.as_bytes()), "{name}");
        assert_eq!(alpn_of(&h), alpn, "{name}");
        assert!(!h.ech, "{name}");
        assert_eq!(h.legacy_version, 0x0303, "{name}");
        assert_eq!(
            h.versions.iter().next().as_ref(),
            Some(&0x0304),
            "{name}: TLS 1.3 first"
        );
        assert!(h.versions.iter().any(|v| v == 0x0303), "{name}");
        assert_eq!((h.records, h.consumed), (1, bytes.len()), "{name}");
    }
}

/// A test-only ClientHello encoder: each length is written from the data unless overridden.
#[derive(Clone, Debug)]
struct Builder {
    legacy_version: u16,
    session_id: Vec<u8>,
    suites: Vec<u16>,
    compression: Vec<u8>,
    extensions: Vec<(u16, Vec<u8>)>,
}

fn u16be(v: usize) -> [u8; 2] {
    (v as u16).to_be_bytes()
}

fn sni_ext(name: &[u8]) -> Vec<u8> {
    let mut entry = vec![0u8];
    entry.extend(u16be(name.len()));
    entry.extend(name);
    let mut d = u16be(entry.len()).to_vec();
    d.extend(entry);
    d
}

fn alpn_ext(names: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for n in names {
        list.push(n.len() as u8);
        list.extend(*n);
    }
    let mut d = u16be(list.len()).to_vec();
    d.extend(list);
    d
}

fn versions_ext(vs: &[u16]) -> Vec<u8> {
    let mut d = vec![(vs.len() * 2) as u8];
    for v in vs {
        d.extend(v.to_be_bytes());
    }
    d
}

impl Builder {
    fn new() -> Self {
        Self {
            legacy_version: 0x0303,
            session_id: vec![7; 32],
            suites: vec![0x1301, 0x1302, 0xc02f],
            compression: vec![0],
            extensions: vec![
                (EXT_SERVER_NAME, sni_ext(b"tenant-x.infer.example")),
                (EXT_ALPN, alpn_ext(&[b"h2", b"http/1.1"])),
                (EXT_SUPPORTED_VERSIONS, versions_ext(&[0x0304, 0x0303])),
            ],
        }
    }

    fn body(&self) -> Vec<u8> {
        let mut b = self.legacy_version.to_be_bytes().to_vec();
        b.extend([0x11; 32]);
        b.push(self.session_id.len() as u8);
        b.extend(&self.session_id);
        b.extend(u16be(self.suites.len() * 2));
        for s in &self.suites {
            b.extend(s.to_be_bytes());
        }
        b.push(self.compression.len() as u8);
        b.extend(&self.compression);
        let mut exts = Vec::new();
        for (t, d) in &self.extensions {
            exts.extend(t.to_be_bytes());
            exts.extend(u16be(d.len()));
            exts.extend(d);
        }
        b.extend(u16be(exts.len()));
        b.extend(exts);
        b
    }

    /// The handshake message (type, 24-bit length, body).
    fn message(&self) -> Vec<u8> {
        let body = self.body();
        let mut m = vec![HANDSHAKE_CLIENT_HELLO];
        m.extend(&(body.len() as u32).to_be_bytes()[1..]);
        m.extend(body);
        m
    }

    /// The message in records of at most `chunk` bytes.
    fn records(&self, chunk: usize) -> Vec<u8> {
        records_of(&self.message(), chunk)
    }
}

fn records_of(message: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for part in message.chunks(chunk) {
        out.extend([CONTENT_HANDSHAKE, 3, 1]);
        out.extend(u16be(part.len()));
        out.extend(part);
    }
    out
}

#[test]
fn built_hello_parses() {
    let bytes = Builder::new().records(16384);
    let h = parse(&bytes).unwrap();
    assert_eq!(h.sni, Some(&b"tenant-x.infer.example"[..]));
    assert_eq!(alpn_of(&h), ["h2", "http/1.1"]);
    assert_eq!(h.versions.iter().collect::<Vec<_>>(), [0x0304, 0x0303]);
    assert_eq!((h.cipher_suites, h.extensions, h.ech), (3, 3, false));
}

#[test]
fn split_across_records_at_every_point() {
    let b = Builder::new();
    let whole_stream = b.records(16384);
    let whole = parse(&whole_stream).unwrap();
    let message = b.message();
    for cut in 1..message.len() {
        let mut stream = records_of(&message[..cut], 16384);
        stream.extend(records_of(&message[cut..], 16384));
        let h = parse(&stream).unwrap_or_else(|e| panic!("cut {cut}: {e}"));
        assert_eq!(
            (h.sni, h.alpn, h.versions, h.ech),
            (whole.sni, whole.alpn, whole.versions, whole.ech),
            "cut {cut}"
        );
        assert_eq!((h.records, h.consumed), (2, stream.len()));
    }
    // Many small records.
    let stream = b.records(7);
    let h = parse(&stream).unwrap();
    assert_eq!(usize::from(h.records), message.len().div_ceil(7));
    assert_eq!(h.sni, whole.sni);
}

#[test]
fn every_prefix_is_incomplete() {
    for stream in [fixture("shared/openssl_h2.bin"), Builder::new().records(50)] {
        for k in 0..stream.len() {
            assert_eq!(
                parse(&stream[..k]).unwrap_err(),
                TlsError::Incomplete,
                "prefix {k}"
            );
        }
        assert!(parse(&stream).is_ok());
    }
}

#[test]
fn grease_and_ech_and_any_order() {
    let mut b = Builder::new();
    b.extensions.insert(0, (0x1a1a, vec![]));
    b.extensions
        .push((EXT_ECH, vec![0, 0, 1, 0, 1, 1, 0x20, 0, 0]));
    b.extensions.push((0xfafa, vec![0]));
    b.extensions[3] = (
        EXT_SUPPORTED_VERSIONS,
        versions_ext(&[0x3a3a, 0x0304, 0x0303]),
    );
    b.extensions.reverse();
    b.suites.insert(0, 0x8a8a);
    let bytes = b.records(16384);
    let h = parse(&bytes).unwrap();
    assert_eq!(
        h.versions.iter().collect::<Vec<_>>(),
        [0x0304, 0x0303],
        "GREASE left out"
    );
    assert!(h.ech);
    assert_eq!(h.sni, Some(&b"tenant-x.infer.example"[..]));
    assert!(is_grease(0x0a0a) && is_grease(0xfafa) && !is_grease(0x0a1a) && !is_grease(0x0303));
}

#[test]
fn tls12_hello_without_extensions_or_versions() {
    let mut b = Builder::new();
    b.extensions.retain(|(t, _)| *t == EXT_SERVER_NAME);
    let stream = b.records(16384);
    let h = parse(&stream).unwrap();
    assert_eq!(
        h.versions.iter().collect::<Vec<_>>(),
        &[0x0303],
        "legacy version when supported_versions is absent"
    );
    assert!(h.alpn.is_empty());
    // No extensions block at all (allowed before TLS 1.3).
    let mut body = b.body();
    let cut = body.len() - (4 + sni_ext(b"tenant-x.infer.example").len()) - 2;
    body.truncate(cut);
    let h = parse_body(&body).unwrap();
    assert_eq!((h.sni, h.extensions), (None, 0));
}

#[test]
fn malformed_lengths_at_every_level() {
    let good = Builder::new();
    let err = |b: &Builder| parse(&b.records(16384)).unwrap_err();
    let with_ext = |t: u16, d: Vec<u8>| {
        let mut b = Builder::new();
        b.extensions.retain(|(x, _)| *x != t);
        b.extensions.push((t, d));
        b
    };

    // Record level.
    let mut s = good.records(16384);
    s[0] = 23;
    assert_eq!(parse(&s).unwrap_err(), TlsError::NotHandshake(23));
    let mut s = good.records(16384);
    s[1..3].copy_from_slice(&[0x03, 0x05]);
    assert_eq!(parse(&s).unwrap_err(), TlsError::BadRecordVersion(0x0305));
    let mut s = good.records(16384);
    s[3..5].copy_from_slice(&[0x40, 0x01]);
    assert_eq!(parse(&s).unwrap_err(), TlsError::BadRecordLength(0x4001));
    let mut s = good.records(16384);
    s[3..5].copy_from_slice(&[0, 0]);
    assert_eq!(parse(&s).unwrap_err(), TlsError::BadRecordLength(0));
    // Handshake level.
    let mut s = good.records(16384);
    s[5] = 2;
    assert_eq!(parse(&s).unwrap_err(), TlsError::NotClientHello(2));
    let mut s = good.records(16384);
    s[6..9].copy_from_slice(&[0, 0, 10]); // claims 10 bytes: too short for the fixed fields
    assert!(matches!(
        parse(&s).unwrap_err(),
        TlsError::Truncated | TlsError::TrailingBytes
    ));
    let mut s = good.records(16384);
    s[6..9].copy_from_slice(&[0, 0x40, 0]); // 16384 bytes: longer than the stream
    assert_eq!(parse(&s).unwrap_err(), TlsError::Incomplete);
    let mut s = records_of(&good.message(), 100);
    s[6..9].copy_from_slice(&[0x01, 0, 0]);
    let mut small = [0u8; 1024];
    assert_eq!(
        parse_client_hello(&s, &mut small).unwrap_err(),
        TlsError::TooLong(65536)
    );

    // Body fields.
    let mut b = good.clone();
    b.session_id = vec![0; 33];
    assert_eq!(err(&b), TlsError::SessionIdLength);
    let mut b = good.clone();
    b.suites.clear();
    assert_eq!(err(&b), TlsError::CipherSuitesLength);
    let mut body = good.body();
    body[2 + 32 + 1 + 32 + 1] |= 0x01; // odd cipher_suites length
    assert_eq!(parse_body(&body).unwrap_err(), TlsError::CipherSuitesLength);
    let mut b = good.clone();
    b.compression.clear();
    assert_eq!(err(&b), TlsError::CompressionLength);
    let mut body = good.body();
    let ext_at = 2 + 32 + 1 + 32 + 2 + 6 + 1 + 1;
    body[ext_at + 1] = body[ext_at + 1].wrapping_add(1); // extensions length one too long
    assert_eq!(parse_body(&body).unwrap_err(), TlsError::ExtensionsLength);
    let mut body = good.body();
    body[ext_at + 1] = body[ext_at + 1].wrapping_sub(1); // one too short: trailing byte
    assert!(matches!(
        parse_body(&body).unwrap_err(),
        TlsError::TrailingBytes | TlsError::ExtensionLength(_)
    ));
    let mut body = good.body();
    body[ext_at + 2 + 3] = 0xff; // first extension's length past the block
    assert_eq!(
        parse_body(&body).unwrap_err(),
        TlsError::ExtensionLength(EXT_SERVER_NAME)
    );

    // Duplicates.
    let mut b = good.clone();
    b.extensions.push((EXT_ALPN, alpn_ext(&[b"h2"])));
    assert_eq!(err(&b), TlsError::DuplicateExtension(EXT_ALPN));

    // server_name.
    assert_eq!(
        err(&with_ext(EXT_SERVER_NAME, vec![0, 0])),
        TlsError::ServerNameLength
    );
    assert_eq!(
        err(&with_ext(EXT_SERVER_NAME, vec![0, 9, 0, 0, 3, b'a'])),
        TlsError::ServerNameLength
    );
    assert_eq!(
        err(&with_ext(EXT_SERVER_NAME, vec![0, 4, 0, 0, 3, b'a'])),
        TlsError::ServerNameLength
    );
    assert_eq!(
        err(&with_ext(EXT_SERVER_NAME, sni_ext(b""))),
        TlsError::ServerNameLength
    );
    assert_eq!(
        err(&with_ext(EXT_SERVER_NAME, vec![0])),
        TlsError::ServerNameLength
    );
    // ALPN.
    assert_eq!(
        err(&with_ext(EXT_ALPN, alpn_ext(&[b"h2", b""]))),
        TlsError::AlpnLength
    );
    assert_eq!(err(&with_ext(EXT_ALPN, vec![0, 0])), TlsError::AlpnLength);
    assert_eq!(
        err(&with_ext(EXT_ALPN, vec![0, 3, 5, b'h', b'2'])),
        TlsError::AlpnLength
    );
    assert_eq!(
        err(&with_ext(EXT_ALPN, vec![0, 9, 2, b'h', b'2'])),
        TlsError::AlpnLength
    );
    // supported_versions.
    assert_eq!(
        err(&with_ext(EXT_SUPPORTED_VERSIONS, vec![3, 3, 4, 3])),
        TlsError::SupportedVersionsLength
    );
    assert_eq!(
        err(&with_ext(EXT_SUPPORTED_VERSIONS, vec![0])),
        TlsError::SupportedVersionsLength
    );
    assert_eq!(
        err(&with_ext(EXT_SUPPORTED_VERSIONS, vec![4, 3, 4])),
        TlsError::SupportedVersionsLength
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
        let _ = parse(&bytes);
        let _ = parse_body(&bytes);
    }

    #[test]
    fn mutated_real_hellos_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        chunk in 1usize..600,
    ) {
        let name = ["shared/openssl_h2.bin", "shared/curl.bin", "shared/python_ssl.bin"][which];
        let hello = fixture(name);
        // Re-frame the message into records of `chunk` bytes, then corrupt some bytes.
        let mut stream = records_of(&hello[5..], chunk);
        for (at, byte) in edits {
            let i = at.index(stream.len());
            stream[i] = byte;
        }
        if let Ok(h) = parse(&stream) {
            prop_assert!(h.consumed <= stream.len());
            for p in h.alpn.iter() {
                prop_assert!(!p.is_empty());
            }
        }
    }
}
