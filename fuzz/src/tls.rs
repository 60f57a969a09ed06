//! The TLS ClientHello parser against `tls-parser`: whatever infersteer takes from one record,
//! tls-parser reads as a ClientHello with the same legacy version, cipher-suite and extension
//! counts, SNI, ALPN list, offered versions and ECH presence.
//!
//! Decisions (where the two may differ, on purpose):
//! - infersteer reads the contents of only the extensions it uses (server_name, ALPN,
//!   supported_versions, encrypted_client_hello); tls-parser also parses the others'. A hello
//!   whose other extensions are malformed is taken by infersteer (the backend's TLS stack judges
//!   them) and is compared on the fields above only, extension by extension.
//! - A legacy_version of 0 (no TLS version) is not reported as an offered version: a hello
//!   without supported_versions and with legacy_version 0 offers none.
//! - infersteer joins a hello split across records; tls-parser reads one record, so only
//!   single-record hellos are compared.

use infersteer::l7::tls::{parse_client_hello, ClientHello};
use tls_parser::{
    parse_tls_client_hello_extension, parse_tls_plaintext, SNIType, TlsExtension, TlsMessage,
    TlsMessageHandshake,
};

fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// One input.
pub fn run(data: &[u8]) {
    let mut scratch = [0u8; 16 * 1024];
    let Ok(hello) = parse_client_hello(data, &mut scratch) else {
        return;
    };
    if hello.records != 1 {
        return;
    }
    compare(data, &hello);
}

fn compare(data: &[u8], ours: &ClientHello<'_>) {
    let (_, record) = parse_tls_plaintext(data).unwrap_or_else(|e| {
        panic!("tls-parser refuses the record of a hello infersteer took: {e:?}")
    });
    let Some(TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch))) = record.msg.first()
    else {
        panic!(
            "tls-parser sees no ClientHello first: {:?}",
            record.msg.first()
        );
    };
    assert_eq!(ours.legacy_version, ch.version.0, "legacy_version");
    assert_eq!(
        usize::from(ours.cipher_suites),
        ch.ciphers.len(),
        "cipher suites"
    );
    let mut sni = None;
    let mut alpn: Vec<&[u8]> = Vec::new();
    let mut versions: Option<Vec<u16>> = None;
    let mut ech = false;
    let mut count = 0u16;
    let mut rest = ch.ext.unwrap_or(&[]);
    while rest.len() >= 4 {
        let ty = u16::from_be_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let Some(one) = rest.get(..4 + len) else {
            panic!("an extension runs past the list in a hello infersteer took");
        };
        rest = &rest[4 + len..];
        count += 1;
        match ty {
            0 | 16 | 43 => match parse_tls_client_hello_extension(one) {
                Ok((_, TlsExtension::SNI(names))) => {
                    sni = names
                        .iter()
                        .find(|(t, _)| *t == SNIType::HostName)
                        .map(|(_, n)| *n);
                }
                Ok((_, TlsExtension::ALPN(names))) => alpn = names,
                Ok((_, TlsExtension::SupportedVersions(v))) => {
                    versions = Some(v.iter().map(|v| v.0).collect())
                }
                other => panic!("tls-parser reads extension {ty} otherwise: {other:?}"),
            },
            0xfe0d => ech = true,
            _ => {}
        }
    }
    assert!(rest.is_empty(), "bytes after the extensions");
    assert_eq!(ours.extensions, count, "extension count");
    assert_eq!(ours.sni, sni, "SNI");
    assert_eq!(ours.alpn.iter().collect::<Vec<_>>(), alpn, "ALPN");
    assert_eq!(ours.ech, ech, "ECH");
    let want: Vec<u16> = versions
        .unwrap_or_else(|| vec![ch.version.0].into_iter().filter(|v| *v != 0).collect())
        .into_iter()
        .filter(|v| !is_grease(*v))
        .collect();
    assert_eq!(ours.versions.iter().collect::<Vec<_>>(), want, "versions");
}
