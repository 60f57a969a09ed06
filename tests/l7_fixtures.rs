//! Request classification on real client bytes (`tests/fixtures/l7/`, captured by
//! `scripts/capture-l7-fixtures.sh` and `../shared/captures`; facts cross-checked with tshark
//! in the fixtures' README): every field `classify` reports, every prefix of every capture, and
//! a ~2 KB Chromium ClientHello reassembled from its two real TCP segments.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests

use infersteer::l7::{Classifier, ClassifyConfig, L7Error, RequestInfo, RequestKind};
use infersteer::wire;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/l7/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn text<const N: usize>(s: &infersteer::l7::FixedStr<N>) -> Option<&str> {
    (!s.is_empty()).then(|| std::str::from_utf8(s.as_bytes()).unwrap())
}

#[derive(Debug, Default)]
struct Want {
    kind: Option<RequestKind>,
    sni: Option<&'static str>,
    alpn: &'static [&'static str],
    ech: bool,
    versions: &'static [u16],
    method: Option<&'static str>,
    path: Option<&'static str>,
    authority: Option<&'static str>,
    model: Option<&'static str>,
    session: Option<&'static str>,
    tenant: Option<&'static str>,
    priority: Option<&'static str>,
}

fn tls(
    sni: &'static str,
    alpn: &'static [&'static str],
    versions: &'static [u16],
    ech: bool,
) -> Want {
    Want {
        kind: Some(RequestKind::Tls),
        sni: Some(sni),
        alpn,
        versions,
        ech,
        ..Want::default()
    }
}

const ALL_VERSIONS: &[u16] = &[0x0304, 0x0303, 0x0302, 0x0301];

fn cases() -> Vec<(&'static str, Want)> {
    vec![
        (
            "shared/openssl_h2.bin",
            tls(
                "tenant-a.infer.example",
                &["h2", "http/1.1"],
                ALL_VERSIONS,
                false,
            ),
        ),
        (
            "shared/curl.bin",
            tls(
                "tenant-c.infer.example",
                &["h2", "http/1.1"],
                ALL_VERSIONS,
                false,
            ),
        ),
        (
            "shared/python_ssl.bin",
            tls(
                "tenant-e.infer.example",
                &["http/1.1"],
                &[0x0304, 0x0303],
                false,
            ),
        ),
        (
            "curl_tls13.bin",
            tls(
                "tenant-c.infer.example",
                &["h2", "http/1.1"],
                ALL_VERSIONS,
                false,
            ),
        ),
        (
            "openssl_tls12_only.bin",
            tls("tenant-b.infer.example", &["http/1.1"], &[0x0303], false),
        ),
        (
            "gnutls.bin",
            tls("tenant-d.infer.example", &["h2"], ALL_VERSIONS, false),
        ),
        (
            "chromium.bin",
            tls(
                "tenant-f.infer.example",
                &["h2", "http/1.1"],
                &[0x0304, 0x0303],
                true,
            ),
        ),
        (
            "shared/http1_openai.bin",
            Want {
                kind: Some(RequestKind::Http1),
                method: Some("POST"),
                path: Some("/v1/chat/completions"),
                authority: Some("infer.tenant-a.example:37117"),
                model: Some("llama-3.1-8b-instruct"),
                session: Some("sess-42"),
                tenant: Some("tenant-a"),
                ..Want::default()
            },
        ),
        (
            "http1_kserve.bin",
            Want {
                kind: Some(RequestKind::Http1),
                method: Some("POST"),
                path: Some("/v2/models/resnet50/versions/2/infer"),
                authority: Some("127.0.0.1:8000"),
                model: Some("resnet50"),
                session: Some("sess-7"),
                tenant: Some("tenant-b"),
                priority: Some("high"),
                ..Want::default()
            },
        ),
        (
            "http1_openai_model_header.bin",
            Want {
                kind: Some(RequestKind::Http1),
                method: Some("POST"),
                path: Some("/v1/completions"),
                authority: Some("127.0.0.1:8000"),
                model: Some("mistral-7b"),
                ..Want::default()
            },
        ),
        (
            "h2c_prior_knowledge.bin",
            Want {
                kind: Some(RequestKind::H2),
                method: Some("POST"),
                path: Some("/v1/chat/completions"),
                authority: Some("127.0.0.1:8000"),
                model: Some("llama-3.1-8b-instruct"),
                session: Some("sess-99"),
                tenant: Some("tenant-a"),
                ..Want::default()
            },
        ),
        (
            "grpc_modelinfer.bin",
            Want {
                kind: Some(RequestKind::Grpc),
                method: Some("POST"),
                path: Some("/inference.GRPCInferenceService/ModelInfer"),
                authority: Some("127.0.0.1:8001"),
                model: Some("resnet50"),
                tenant: Some("tenant-g"),
                ..Want::default()
            },
        ),
        (
            "grpc_other_method.bin",
            Want {
                kind: Some(RequestKind::Grpc),
                method: Some("POST"),
                path: Some("/inference.GRPCInferenceService/ServerLive"),
                authority: Some("127.0.0.1:8001"),
                tenant: Some("tenant-g"),
                ..Want::default()
            },
        ),
    ]
}

fn check(name: &str, info: &RequestInfo, want: &Want) {
    assert_eq!(Some(info.kind), want.kind, "{name}: kind");
    assert_eq!(text(&info.sni), want.sni, "{name}: sni");
    let alpn: Vec<&str> = info
        .alpn()
        .iter()
        .map(|a| std::str::from_utf8(a.as_bytes()).unwrap())
        .collect();
    assert_eq!(alpn, want.alpn, "{name}: alpn");
    assert_eq!(info.ech, want.ech, "{name}: ech");
    assert_eq!(info.versions(), want.versions, "{name}: versions");
    assert_eq!(text(&info.method), want.method, "{name}: method");
    assert_eq!(text(&info.path), want.path, "{name}: path");
    assert_eq!(text(&info.authority), want.authority, "{name}: authority");
    assert_eq!(text(&info.model), want.model, "{name}: model");
    assert_eq!(text(&info.session), want.session, "{name}: session");
    assert_eq!(
        text(&info.tenant_claim),
        want.tenant,
        "{name}: tenant claim"
    );
    assert_eq!(text(&info.priority), want.priority, "{name}: priority");
}

#[test]
fn real_client_bytes_classify_to_their_known_facts() {
    let mut c = Box::new(Classifier::new(ClassifyConfig::default()));
    let cases = cases();
    for (name, want) in &cases {
        let bytes = fixture(name);
        let info = c.classify(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        check(name, &info, want);
    }
    println!("classified {} real captures", cases.len());
}

#[test]
fn every_prefix_of_every_capture_is_incomplete_or_the_full_answer() {
    let mut c = Box::new(Classifier::new(ClassifyConfig::default()));
    let mut prefixes = 0;
    for (name, _) in cases() {
        let bytes = fixture(name);
        let full = c.classify(&bytes).unwrap();
        for k in 0..bytes.len() {
            match c.classify(&bytes[..k]) {
                Err(L7Error::Incomplete) => {}
                Ok(info) => {
                    // The body-prefix hash is never waited for: a prefix may lack it, but
                    // never gives a different one (it cannot depend on where bytes were cut).
                    assert!(
                        info.prefix_hash.is_none() || info.prefix_hash == full.prefix_hash,
                        "{name}: prefix {k} gave a different prefix hash"
                    );
                    let info = RequestInfo {
                        prefix_hash: full.prefix_hash,
                        ..info
                    };
                    assert_eq!(info, full, "{name}: prefix {k} gave a different answer");
                }
                Err(e) => panic!("{name}: prefix {k}: {e}"),
            }
            prefixes += 1;
        }
    }
    println!("checked {prefixes} prefixes");
}

#[test]
fn chromium_hello_from_its_two_tcp_segments() {
    let seg1 = fixture("chromium_seg1.frame");
    let seg2 = fixture("chromium_seg2.frame");
    let whole = fixture("chromium.bin");
    let payload = |frame: &[u8]| {
        let s = wire::parse_frame(frame).unwrap();
        assert_eq!(s.tuple.unwrap().dst_port, 8443);
        s.payload(frame).to_vec()
    };
    let (p1, p2) = (payload(&seg1), payload(&seg2));
    assert!(
        whole.len() > 1900 && p1.len() < whole.len(),
        "a ~2 KB hello past one segment"
    );
    let mut c = Box::new(Classifier::new(ClassifyConfig::default()));
    assert_eq!(
        c.classify(&p1).unwrap_err(),
        L7Error::Incomplete,
        "first segment alone"
    );
    let mut joined = p1.clone();
    joined.extend_from_slice(&p2);
    assert_eq!(joined, whole);
    let info = c.classify(&joined).unwrap();
    check(
        "chromium segments",
        &info,
        &cases()
            .into_iter()
            .find(|(n, _)| *n == "chromium.bin")
            .unwrap()
            .1,
    );
}

#[test]
fn unknown_and_malformed_bytes() {
    let mut c = Box::new(Classifier::new(ClassifyConfig::default()));
    assert_eq!(
        c.classify(b"\x00\x01\x02 binary junk that is no protocol")
            .unwrap()
            .kind,
        RequestKind::Unknown
    );
    assert!(matches!(
        c.classify(b"\x16\x03\x01\x00\x05\x02\x00\x00\x01\x00"),
        Err(L7Error::Tls(_))
    ));
    assert!(matches!(
        c.classify(b"GET / HTTP/9.9\r\n\r\n"),
        Err(L7Error::Http1(_))
    ));
    let mut h2 = fixture("h2c_prior_knowledge.bin");
    h2[24 + 3] = 9; // first frame after the preface becomes a CONTINUATION
    assert!(matches!(c.classify(&h2), Err(L7Error::H2(_))));
    assert_eq!(c.classify(b"").unwrap_err(), L7Error::Incomplete);
    assert_eq!(c.classify(b"PRI * HT").unwrap_err(), L7Error::Incomplete);
}

/// The body-prefix hash of HTTP/1.1 requests: the first `prefix_bytes` of the body, or all of
/// a complete shorter one (as far as Content-Length says); never from a body cut short, and
/// the same for requests whose bodies start alike whatever else differs.
#[test]
fn http1_body_prefix_hash() {
    let mut c = Box::new(Classifier::new(ClassifyConfig::default()));
    let request = |host: &str, body: &str| {
        format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\ncontent-type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let system = format!(
        "{{\"model\":\"llama\",\"messages\":[{{\"role\":\"system\",\"content\":\"{}\"}},",
        "You are a careful assistant. ".repeat(10)
    );
    let a = format!("{system}{{\"role\":\"user\",\"content\":\"first\"}}]}}");
    let b = format!("{system}{{\"role\":\"user\",\"content\":\"a different question\"}}]}}");
    assert!(system.len() > 256);
    let ia = c.classify(&request("gw-1", &a)).unwrap();
    let ib = c.classify(&request("gw-2.example", &b)).unwrap();
    assert_eq!(
        ia.prefix_hash,
        Some(infersteer::l7::bulk_hash(&a.as_bytes()[..256]))
    );
    assert_eq!(
        ia.prefix_hash, ib.prefix_hash,
        "same system prompt, same hash"
    );
    let other = a.replace("careful", "cheerful");
    let io = c.classify(&request("gw-1", &other)).unwrap();
    assert_ne!(io.prefix_hash, ia.prefix_hash);

    // A short complete body: hashed whole. The same body cut short: the model is known, the
    // hash is not.
    let short = "{\"model\":\"llama\",\"prompt\":\"hi\"}";
    let full = request("gw", short);
    let is = c.classify(&full).unwrap();
    assert_eq!(
        is.prefix_hash,
        Some(infersteer::l7::bulk_hash(short.as_bytes()))
    );
    let cut = c.classify(&full[..full.len() - 5]).unwrap();
    assert_eq!(
        (cut.model.as_bytes(), cut.prefix_hash),
        (&b"llama"[..], None)
    );

    // A pipelined request after a complete body is not part of it.
    let mut two = full.clone();
    two.extend_from_slice(b"GET / HTTP/1.1\r\nHost: gw\r\n\r\n");
    assert_eq!(c.classify(&two).unwrap().prefix_hash, is.prefix_hash);

    // A chunked body shorter than the prefix: not hashed. Turned off: never hashed.
    let chunked = b"POST /v1/completions HTTP/1.1\r\nHost: gw\r\nx-ai-eg-model: llama\r\n\
Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    assert_eq!(c.classify(chunked).unwrap().prefix_hash, None);
    let mut off = Box::new(Classifier::new(ClassifyConfig {
        prefix_bytes: 0,
        ..ClassifyConfig::default()
    }));
    assert_eq!(
        off.classify(&request("gw-1", &a)).unwrap().prefix_hash,
        None
    );
}
