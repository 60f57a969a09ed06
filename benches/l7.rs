//! Request classification beside its peers, on the same bytes in the same criterion group:
//! the TLS ClientHello walker beside `tls-parser` (record, handshake and extension parse, then
//! SNI, ALPN, supported_versions and ECH picked out, as infersteer reports them), and the
//! HTTP/1.1 head parser (request line, Host and the inference headers) beside `httparse`'s full
//! parse of the same request.
//!
//! Run: `cargo bench --bench l7` (then `scripts/bench-table.py l7`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // benches may panic on a broken setup

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use infersteer::l7::http1::{self, HeaderNames};
use infersteer::l7::tls;
use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/l7/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// tls-parser's side: everything needed to learn SNI, ALPN, versions and ECH.
fn tls_parser_hello(bytes: &[u8]) -> Option<(usize, usize, usize, bool)> {
    let (_, record) = tls_parser::parse_tls_plaintext(bytes).ok()?;
    let TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch)) = record.msg.first()? else {
        return None;
    };
    let (_, exts) = tls_parser::parse_tls_client_hello_extensions(ch.ext?).ok()?;
    let (mut sni, mut alpn, mut versions, mut ech) = (0, 0, 0, false);
    for e in &exts {
        match e {
            TlsExtension::SNI(names) => sni = names.first().map_or(0, |(_, n)| n.len()),
            TlsExtension::ALPN(list) => alpn = list.len(),
            TlsExtension::SupportedVersions(v) => versions = v.len(),
            TlsExtension::Unknown(t, _) if t.0 == 0xfe0d => ech = true,
            _ => {}
        }
    }
    Some((sni, alpn, versions, ech))
}

fn client_hello(c: &mut Criterion) {
    for (name, file) in [
        ("openssl_346B", "shared/openssl_h2.bin"),
        ("curl_517B", "shared/curl.bin"),
        ("chromium_2026B", "chromium.bin"),
    ] {
        let bytes = fixture(file);
        let mut scratch = vec![0u8; 16 * 1024];
        let ours =
            tls::parse_client_hello(&bytes, &mut scratch).expect("infersteer parses the hello");
        let theirs = tls_parser_hello(&bytes).expect("tls-parser parses the hello");
        assert_eq!(ours.sni.map(<[u8]>::len), Some(theirs.0), "same SNI");
        assert_eq!(ours.alpn.iter().count(), theirs.1, "same ALPN count");

        let mut g = c.benchmark_group(format!("l7/client_hello_{name}"));
        g.throughput(Throughput::Elements(1));
        g.bench_function("infersteer", |b| {
            b.iter(
                || match tls::parse_client_hello(black_box(&bytes[..]), &mut scratch) {
                    Ok(h) => (
                        h.sni.map_or(0, <[u8]>::len),
                        h.alpn.iter().count(),
                        h.versions.iter().count(),
                        h.ech,
                    ),
                    Err(_) => (0, 0, 0, false),
                },
            )
        });
        g.bench_function("tls-parser", |b| {
            b.iter(|| black_box(tls_parser_hello(black_box(&bytes))))
        });
        g.finish();
    }
}

fn http1_head(c: &mut Criterion) {
    let bytes = fixture("shared/http1_openai.bin");
    // Header names come from configuration at run time, as in a gateway.
    let names = black_box(HeaderNames::DEFAULT);
    let ours = http1::parse_request(&bytes, &names, 8192).expect("infersteer parses the request");
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    let status = req.parse(&bytes).expect("httparse parses the request");
    assert_eq!(
        status,
        httparse::Status::Complete(ours.head_len),
        "same head length"
    );

    let mut g = c.benchmark_group("l7/http1_openai");
    g.throughput(Throughput::Elements(1));
    // As the hot path does it: one request view per core, parsed into in place.
    let mut req = http1::Http1Request::default();
    g.bench_function("infersteer", |b| {
        b.iter(|| {
            let r = http1::parse_request_into(black_box(&bytes), &names, 8192, &mut req);
            let _ = black_box((r, &req));
        })
    });
    g.bench_function("httparse", |b| {
        b.iter(|| {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut req = httparse::Request::new(&mut headers);
            let status = req.parse(black_box(&bytes)).ok();
            // Everything the parse produced is kept: request line and every header.
            black_box((status, req.method, req.path, &req.headers));
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    targets = client_hello, http1_head
}
criterion_main!(benches);
